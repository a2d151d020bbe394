package kpi

import (
	"testing"
	"time"
)

func TestRounding(t *testing.T) {
	for _, c := range []struct{ a, b, want int64 }{
		{10, 4, 3}, {10, 3, 3}, {11, 2, 6}, {-11, 2, -6}, {-10, 4, -3}, {9, 4, 2}, {7, 0, 0}, {362790575, 2663, 136234},
	} {
		if got := divRound(c.a, c.b); got != c.want {
			t.Errorf("divRound(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for _, c := range []struct {
		profit, sales int64
		want          float64
	}{
		{1, 3, 33.33}, {2, 3, 66.67}, {1, 8, 12.5}, {-1, 8, -12.5}, {1, 200000, 0}, {1, 20000, 0.01}, {0, 0, 0}, {5, 5, 100},
	} {
		if got := marginPct(c.profit, c.sales); got != c.want {
			t.Errorf("marginPct(%d, %d) = %v, want %v", c.profit, c.sales, got, c.want)
		}
	}
}

func TestSplitCoversTheWindowOnce(t *testing.T) {
	for from := DayOf(time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)); from < DayOf(time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)); from += 3 {
		for to := from; to < from+800; to += 17 {
			sp := split(from, to)
			covered := map[Day]int{}
			for _, y := range sp.years {
				for d := y.first(); d <= y.last(); d++ {
					covered[d]++
				}
			}
			for _, m := range sp.months {
				for d := m.first(); d <= m.last(); d++ {
					covered[d]++
				}
			}
			for _, r := range sp.days {
				for d := r[0]; d <= r[1]; d++ {
					covered[d]++
				}
			}
			if len(covered) != int(to-from+1) {
				t.Fatalf("%v..%v: %d days covered, want %d", from, to, len(covered), to-from+1)
			}
			for d, n := range covered {
				if n != 1 || d < from || d > to {
					t.Fatalf("%v..%v: day %v covered %d times", from, to, d, n)
				}
			}
			if len(sp.days) > 4 || len(sp.months) > 22 {
				t.Fatalf("%v..%v: %d ragged runs, %d months outside whole years", from, to, len(sp.days), len(sp.months))
			}
			if whole := sp.wholeMonths(); len(whole) != 12*len(sp.years)+len(sp.months) {
				t.Fatalf("wholeMonths %d", len(whole))
			}
		}
	}
}

package kpi

import (
	"math/rand/v2"
	"slices"
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

// A covered window holds the same days with sales as the window asked, starts and ends
// within reach of them, and reads the tail of a month or year without sales as whole.
func TestCoverKeepsTheDaysWithSales(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	first := DayOf(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
	for round := range 200 {
		e := New()
		for d := first + Day(r.IntN(40)); d < first+800; d += Day(1 + r.IntN(1+round%20)) {
			e.order = append(e.order, d)
		}
		held := func(from, to Day) []Day { return e.daysIn(from, to) }
		for range 50 {
			from := first - 400 + Day(r.IntN(1600))
			to := from + Day(r.IntN(900))
			cf, ct := e.cover(from, to)
			if a, b := held(from, to), held(cf, ct); !slices.Equal(a, b) {
				t.Fatalf("%v..%v covered as %v..%v: days %v, want %v", from, to, cf, ct, b, a)
			}
			if in := held(from, to); len(in) > 0 && (cf < in[0].year().first() || ct > in[len(in)-1].year().last()) {
				t.Fatalf("%v..%v covered as %v..%v, beyond the years of its sales", from, to, cf, ct)
			}
		}
	}
	e := New()
	for d := first; d <= first+729; d++ { // 2023-01-01 to 2024-12-30
		e.order = append(e.order, d)
	}
	if sp := split(e.cover(first, first+729)); len(sp.years) != 2 || len(sp.months) != 0 || len(sp.days) != 0 {
		t.Errorf("all time of two years but a day: %+v, want two whole years", sp)
	}
	if sp := split(e.cover(first+700, first+729)); len(sp.months) != 1 || len(sp.days) != 0 {
		t.Errorf("the last 30 days: %+v, want December whole", sp)
	}
}

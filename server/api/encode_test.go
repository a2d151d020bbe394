package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// randomSnapshot fills every field, with strings meant to trip an encoder up.
func randomSnapshot(r *rand.Rand) *Snapshot {
	strs := []string{"", "Online Store", `a"b\c`, "<script>&", "São Paulo", "\x00\x01\b\f\n\r\t\x1f\x7f",
		"bad \xff\xfe utf8", "line\u2028para\u2029", "日本語", "emoji 😀", "\xe2\x28\xa1"}
	str := func() string { return strs[r.IntN(len(strs))] }
	money := func() Money { return Money(r.Int64N(1<<50) - 1<<49) }
	s := &Snapshot{Seq: r.Uint64(), LastFile: str(), LastFileID: r.Int64(), SeriesGrain: str(),
		Filter: Filter{From: str(), To: str(), Category: str(), Region: str(), Channel: str()},
		Window: Window{From: str(), To: str()}, DataRange: Window{From: str(), To: str()}}
	totals := func() Totals {
		return Totals{Sales: money(), Orders: r.Int64(), AvgTicket: money(), Quantity: -r.Int64(), GrossProfit: money(),
			MarginPct: []float64{0, 12.5, -33.33, 1e-7, 1e21, 123456789.01, 100}[r.IntN(7)], CanceledSales: money()}
	}
	s.Totals = totals()
	switch r.IntN(3) {
	case 0:
		s.Previous = Previous{Window: Window{From: str(), To: str()}, Totals: totals()}
	case 1:
		s.Previous = Previous{Reason: str()}
	}
	if r.IntN(2) == 0 {
		at := time.Unix(r.Int64N(1<<32), r.Int64N(1e9)).UTC()
		s.AsOf = &at
	}
	n := func() int { return []int{0, 0, 1, 3, 12}[r.IntN(5)] }
	if r.IntN(4) > 0 {
		s.TopProducts.ByQuantity = []ProductStat{}
		for range n() {
			s.TopProducts.ByQuantity = append(s.TopProducts.ByQuantity, ProductStat{str(), r.Int64(), money(), r.Int64()})
		}
		s.TopProducts.BySales = s.TopProducts.ByQuantity
	}
	for _, l := range []*[]Slice{&s.ByCategory, &s.ByRegion, &s.ByChannel} {
		if r.IntN(4) > 0 {
			*l = []Slice{}
			for range n() {
				*l = append(*l, Slice{str(), money(), r.Int64(), r.Int64(), money()})
			}
		}
	}
	if r.IntN(4) > 0 {
		s.TopReps = []RepStat{}
		for range n() {
			s.TopReps = append(s.TopReps, RepStat{str(), money(), r.Int64(), money()})
		}
		s.ByPaymentStatus = []StatusStat{{str(), money(), r.Int64()}}
		s.Trend = []TrendPoint{{str(), money(), r.Int64(), money()}}
		s.CategoryTrend = []SeriesPoint{{str(), str(), money(), money(), r.Int64()}}
		s.ChannelDaily = []SeriesPoint{}
		s.Options = Options{Categories: []string{str(), str()}, Regions: []string{}, Channels: nil}
	}
	return s
}

func TestAppendJSONIsWhatEncodingJSONWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		s := randomSnapshot(r)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("snapshot %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestAppendFiguresReusingIsAFreshEncoding encodes generations of a snapshot whose series
// change from a point on, grow, shrink or vanish, each after the last one's encoding: every
// one is byte for byte its encoding from scratch.
func TestAppendFiguresReusingIsAFreshEncoding(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	point := func(i int) TrendPoint {
		return TrendPoint{fmt.Sprintf("2024-%03d", i), Money(r.Int64N(1e9)), r.Int64N(1e4), Money(r.Int64N(1e9) - 5e8)}
	}
	series := func(i int) SeriesPoint {
		return SeriesPoint{fmt.Sprintf("2024-%03d", i/3), []string{"A", `b"}`, "São"}[i%3], Money(r.Int64N(1e9)), Money(-r.Int64N(1e6)), r.Int64N(100)}
	}
	for range 200 {
		s := randomSnapshot(r)
		s.Trend, s.CategoryTrend, s.ChannelDaily = nil, nil, []SeriesPoint{}
		for i := range r.IntN(400) {
			s.Trend = append(s.Trend, point(i))
		}
		for i := range r.IntN(900) {
			s.CategoryTrend = append(s.CategoryTrend, series(i))
		}
		var prev *Figures
		for range 6 {
			head := bytes.Repeat([]byte{'x'}, r.IntN(100)) // what precedes the figures in a message
			got, marks := s.AppendFigures(head, prev)
			if want := s.AppendFiguresJSON(nil); !bytes.Equal(got[len(head):], want) {
				at := 0
				for at < min(len(want), len(got)-len(head)) && got[len(head)+at] == want[at] {
					at++
				}
				t.Fatalf("figures encoded after an earlier encoding differ from byte %d on: got %.80q, want %.80q", at, got[len(head)+at:], want[at:])
			}
			prev = &Figures{Snap: s, JSON: got[len(head):], Marks: marks}
			next := *s
			next.Trend, next.CategoryTrend = slices.Clone(s.Trend), slices.Clone(s.CategoryTrend)
			switch r.IntN(5) {
			case 0: // the last days change
				for i := max(0, len(next.Trend)-1-r.IntN(40)); i < len(next.Trend); i++ {
					next.Trend[i] = point(i)
				}
				if n := len(next.CategoryTrend); n > 0 {
					next.CategoryTrend[n-1-r.IntN(n)] = series(n)
				}
			case 1: // a day is added
				next.Trend = append(next.Trend, point(len(next.Trend)))
				next.ChannelDaily = append(slices.Clone(next.ChannelDaily), series(len(next.ChannelDaily)))
			case 2: // the window shrinks
				next.Trend = next.Trend[:r.IntN(len(next.Trend)+1)]
			case 3:
				next.CategoryTrend = nil
			}
			s = &next
		}
	}
}

// TestAppendFiguresCopiesTheUnchangedPoints: after a change of its last day, a long trend's
// points before the last mark come from the earlier encoding (here marked to tell).
func TestAppendFiguresCopiesTheUnchangedPoints(t *testing.T) {
	s := &Snapshot{}
	for i := range 730 {
		s.Trend = append(s.Trend, TrendPoint{Date: fmt.Sprintf("d%03d", i), Sales: Money(i)})
	}
	b, marks := s.AppendFigures(nil, nil)
	marked := bytes.Replace(b, []byte(`"d000"`), []byte(`"D000"`), 1)
	next := *s
	next.Trend = slices.Clone(s.Trend)
	next.Trend[729].Sales++
	got, _ := next.AppendFigures(nil, &Figures{Snap: s, JSON: marked, Marks: marks})
	if !bytes.Contains(got, []byte(`"D000"`)) || !bytes.Contains(got, []byte(`{"date":"d729","sales":7.30,`)) {
		t.Fatalf("the first points were encoded again, or the last not: %.120s ... %s", got, got[len(got)-120:])
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	s := &Snapshot{Trend: make([]TrendPoint, 730), CategoryTrend: make([]SeriesPoint, 120)}
	for i := range s.Trend {
		s.Trend[i] = TrendPoint{Date: "2024-01-01", Sales: 123456789, Orders: 1234, GrossProfit: 3456789}
	}
	b.Run("append", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = s.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(s)
		}
	})
}

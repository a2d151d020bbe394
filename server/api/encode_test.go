package api

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
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

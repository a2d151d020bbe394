package api

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the snapshot as encoding/json would marshal it, byte for byte, an
// order of magnitude faster: a server pushes a snapshot of every filter watched after each
// change, and a two-year trend is thousands of numbers.
func (s *Snapshot) AppendJSON(b []byte) []byte {
	b = s.AppendHeadJSON(b)
	b = append(b, ',')
	b = s.AppendFiguresJSON(b)
	b = append(b, `,"options":`...)
	b = AppendOptionsJSON(b, &s.Options)
	return append(b, '}')
}

// AppendHeadJSON appends the snapshot's opening and its fields before the figures: seq,
// freshness, filter, window and data range (no closing comma).
func (s *Snapshot) AppendHeadJSON(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, s.Seq, 10)
	b = append(b, `,"as_of":`...)
	if s.AsOf == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = s.AsOf.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"last_file":`...)
	b = appendString(b, s.LastFile)
	b = append(b, `,"last_file_id":`...)
	b = strconv.AppendInt(b, s.LastFileID, 10)
	b = append(b, `,"filter":{`...)
	first := true
	for _, f := range [...]struct{ name, value string }{{"from", s.Filter.From}, {"to", s.Filter.To},
		{"category", s.Filter.Category}, {"region", s.Filter.Region}, {"channel", s.Filter.Channel}} {
		if f.value == "" {
			continue // omitempty
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, f.name...)
		b = append(b, `":`...)
		b = appendString(b, f.value)
	}
	b = append(b, `},"window":`...)
	b = appendWindow(b, s.Window)
	b = append(b, `,"data_range":`...)
	return appendWindow(b, s.DataRange)
}

// AppendFiguresJSON appends the figures: from "totals" to "series_grain" (no surrounding
// commas), which only a change of data alters.
func (s *Snapshot) AppendFiguresJSON(b []byte) []byte {
	b, _ = s.AppendFigures(b, nil)
	return b
}

// Figures is an encoding of a snapshot's figures (AppendFigures) and where in it every
// markEvery-th point of each long series begins.
type Figures struct {
	Snap  *Snapshot
	JSON  []byte
	Marks Marks
}

// Marks are offsets into a figures' JSON, for the trend, category trend and channel series.
type Marks [3][]int32

// markEvery is how many points a mark covers: the points after the first changed one, and
// up to markEvery-1 before it, are encoded again.
const markEvery = 32

// AppendFigures appends the figures as AppendFiguresJSON does and returns where their series'
// points begin. With prev, an earlier encoding of the same view, the series' points before
// the first that differs from prev's are copied from it rather than encoded again: a change
// of the latest day leaves a two-year trend as it was but for its end.
func (s *Snapshot) AppendFigures(b []byte, prev *Figures) ([]byte, Marks) {
	at := len(b)
	var marks Marks
	var was *Snapshot
	if prev != nil {
		was = prev.Snap
	} else {
		prev, was = &Figures{}, &Snapshot{}
	}
	b = append(b, `"totals":`...)
	b = appendTotals(b, &s.Totals)
	b = append(b, `,"previous":{"window":`...)
	b = appendWindow(b, s.Previous.Window)
	b = append(b, `,"totals":`...)
	b = appendTotals(b, &s.Previous.Totals)
	if s.Previous.Reason != "" { // omitempty
		b = append(b, `,"reason":`...)
		b = appendString(b, s.Previous.Reason)
	}
	b = append(b, `},"top_products":{"by_quantity":`...)
	b = appendProducts(b, s.TopProducts.ByQuantity)
	b = append(b, `,"by_sales":`...)
	b = appendProducts(b, s.TopProducts.BySales)
	b = append(b, `},"by_category":`...)
	b = appendSlices(b, s.ByCategory)
	b = append(b, `,"by_region":`...)
	b = appendSlices(b, s.ByRegion)
	b = append(b, `,"by_channel":`...)
	b = appendSlices(b, s.ByChannel)
	b = append(b, `,"top_reps":`...)
	b = appendList(b, s.TopReps, func(b []byte, r *RepStat) []byte {
		b = append(b, `{"rep":`...)
		b = appendString(b, r.Rep)
		b = append(b, `,"sales":`...)
		b = appendMoney(b, r.Sales)
		b = append(b, `,"orders":`...)
		b = strconv.AppendInt(b, r.Orders, 10)
		b = append(b, `,"gross_profit":`...)
		b = appendMoney(b, r.GrossProfit)
		return append(b, '}')
	})
	b = append(b, `,"by_payment_status":`...)
	b = appendList(b, s.ByPaymentStatus, func(b []byte, p *StatusStat) []byte {
		b = append(b, `{"status":`...)
		b = appendString(b, p.Status)
		b = append(b, `,"sales":`...)
		b = appendMoney(b, p.Sales)
		b = append(b, `,"orders":`...)
		b = strconv.AppendInt(b, p.Orders, 10)
		return append(b, '}')
	})
	b = append(b, `,"trend":`...)
	b, marks[0] = appendReusing(b, at, s.Trend, was.Trend, prev.JSON, prev.Marks[0], appendTrendPoint)
	b = append(b, `,"category_trend":`...)
	b, marks[1] = appendReusing(b, at, s.CategoryTrend, was.CategoryTrend, prev.JSON, prev.Marks[1], appendSeriesPoint)
	b = append(b, `,"channel_daily":`...)
	b, marks[2] = appendReusing(b, at, s.ChannelDaily, was.ChannelDaily, prev.JSON, prev.Marks[2], appendSeriesPoint)
	b = append(b, `,"series_grain":`...)
	return appendString(b, s.SeriesGrain), marks
}

// appendReusing appends a series as appendList does, and where its every markEvery-th point
// begins (from at). The points before the first that differs from was are copied from
// wasJSON, whose marks are wasMarks.
func appendReusing[T comparable](b []byte, at int, s, was []T, wasJSON []byte, wasMarks []int32, each func([]byte, *T) []byte) ([]byte, []int32) {
	if s == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	marks := make([]int32, 0, (len(s)+markEvery-1)/markEvery)
	same := 0
	for same < min(len(s), len(was)) && s[same] == was[same] {
		same++
	}
	start := 0
	// Points 0 to m*markEvery-1 are copied, each with the comma after it (a point's JSON is
	// its own), up to the mark of a point both encodings have and with one point at least
	// left to encode: that one takes the last comma copied.
	if m := min(same/markEvery, len(wasMarks)-1, (len(s)-1)/markEvery); m > 0 {
		shift := int32(len(b)-at) - wasMarks[0]
		for _, w := range wasMarks[:m] {
			marks = append(marks, w+shift)
		}
		b = append(b, wasJSON[wasMarks[0]:wasMarks[m]]...)
		start = m * markEvery
	}
	for i := start; i < len(s); i++ {
		if i > start {
			b = append(b, ',')
		}
		if i%markEvery == 0 {
			marks = append(marks, int32(len(b)-at))
		}
		b = each(b, &s[i])
	}
	return append(b, ']'), marks
}

func appendTrendPoint(b []byte, p *TrendPoint) []byte {
	b = append(b, `{"date":`...)
	b = appendString(b, p.Date)
	b = append(b, `,"sales":`...)
	b = appendMoney(b, p.Sales)
	b = append(b, `,"orders":`...)
	b = strconv.AppendInt(b, p.Orders, 10)
	b = append(b, `,"gross_profit":`...)
	b = appendMoney(b, p.GrossProfit)
	return append(b, '}')
}

func appendTotals(b []byte, t *Totals) []byte {
	b = append(b, `{"sales":`...)
	b = appendMoney(b, t.Sales)
	b = append(b, `,"orders":`...)
	b = strconv.AppendInt(b, t.Orders, 10)
	b = append(b, `,"avg_ticket":`...)
	b = appendMoney(b, t.AvgTicket)
	b = append(b, `,"quantity":`...)
	b = strconv.AppendInt(b, t.Quantity, 10)
	b = append(b, `,"gross_profit":`...)
	b = appendMoney(b, t.GrossProfit)
	b = append(b, `,"margin_pct":`...)
	b = appendFloat(b, t.MarginPct)
	b = append(b, `,"canceled_sales":`...)
	b = appendMoney(b, t.CanceledSales)
	return append(b, '}')
}

func appendWindow(b []byte, w Window) []byte {
	b = append(b, `{"from":`...)
	b = appendString(b, w.From)
	b = append(b, `,"to":`...)
	b = appendString(b, w.To)
	return append(b, '}')
}

// AppendOptionsJSON appends the filter menus.
func AppendOptionsJSON(b []byte, o *Options) []byte {
	b = append(b, `{"categories":`...)
	b = appendStrings(b, o.Categories)
	b = append(b, `,"regions":`...)
	b = appendStrings(b, o.Regions)
	b = append(b, `,"channels":`...)
	b = appendStrings(b, o.Channels)
	return append(b, '}')
}

func appendStrings(b []byte, s []string) []byte {
	return appendList(b, s, func(b []byte, v *string) []byte { return appendString(b, *v) })
}

func appendProducts(b []byte, ps []ProductStat) []byte {
	return appendList(b, ps, func(b []byte, p *ProductStat) []byte {
		b = append(b, `{"product":`...)
		b = appendString(b, p.Product)
		b = append(b, `,"quantity":`...)
		b = strconv.AppendInt(b, p.Quantity, 10)
		b = append(b, `,"sales":`...)
		b = appendMoney(b, p.Sales)
		b = append(b, `,"orders":`...)
		b = strconv.AppendInt(b, p.Orders, 10)
		return append(b, '}')
	})
}

func appendSlices(b []byte, ss []Slice) []byte {
	return appendList(b, ss, func(b []byte, s *Slice) []byte {
		b = append(b, `{"name":`...)
		b = appendString(b, s.Name)
		b = append(b, `,"sales":`...)
		b = appendMoney(b, s.Sales)
		b = append(b, `,"orders":`...)
		b = strconv.AppendInt(b, s.Orders, 10)
		b = append(b, `,"quantity":`...)
		b = strconv.AppendInt(b, s.Quantity, 10)
		b = append(b, `,"gross_profit":`...)
		b = appendMoney(b, s.GrossProfit)
		return append(b, '}')
	})
}

func appendSeriesPoint(b []byte, p *SeriesPoint) []byte {
	b = append(b, `{"date":`...)
	b = appendString(b, p.Date)
	b = append(b, `,"name":`...)
	b = appendString(b, p.Name)
	b = append(b, `,"sales":`...)
	b = appendMoney(b, p.Sales)
	b = append(b, `,"gross_profit":`...)
	b = appendMoney(b, p.GrossProfit)
	b = append(b, `,"orders":`...)
	b = strconv.AppendInt(b, p.Orders, 10)
	return append(b, '}')
}

// appendList writes a slice as encoding/json does: null when nil, [] when empty.
func appendList[T any](b []byte, s []T, each func([]byte, *T) []byte) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = each(b, &s[i])
	}
	return append(b, ']')
}

func appendMoney(b []byte, m Money) []byte {
	v := int64(m)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/100, 10)
	b = append(b, '.')
	if v%100 < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, v%100, 10)
}

// appendFloat writes a float64 as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes a JSON string as encoding/json does, HTML-safe: <, > and & escaped,
// invalid UTF-8 replaced, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

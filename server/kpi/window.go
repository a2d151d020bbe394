package kpi

import (
	"math"
	"slices"
)

// span is a window split for the engine's grains: whole years, the whole months outside
// them, and the ragged days before the first and after the last whole month.
type span struct {
	years  []year
	months []month // whole months not inside a whole year
	days   [][2]Day
}

// split cuts [from, to] into whole years, whole months and ragged days.
func split(from, to Day) span {
	var s span
	for d := from; d <= to; {
		m := d.month()
		switch {
		case d == m.year().first() && m.year().last() <= to:
			s.years = append(s.years, m.year())
			d = m.year().last() + 1
		case d == m.first() && m.last() <= to:
			s.months = append(s.months, m)
			d = m.last() + 1
		default:
			end := min(to, m.last())
			s.days = append(s.days, [2]Day{d, end})
			d = end + 1
		}
	}
	return s
}

// wholeMonths are the whole months of a span, those inside its whole years included.
func (s span) wholeMonths() []month {
	out := make([]month, 0, len(s.years)*12+len(s.months))
	for _, y := range s.years {
		for m := month(y) * 12; m < month(y)*12+12; m++ {
			out = append(out, m)
		}
	}
	return append(out, s.months...)
}

// cover is a window holding the same sales as [from, to], widened or narrowed over days
// without sales to the nearest year or month boundary: the window of "all time", or of the
// last 30 days, ends at the latest sale, and the rest of its month and year has none, so
// those are read whole from their lists instead of day by day. It also bounds the window to
// the data held, whatever dates a query names. The engine's lock is held.
func (e *Engine) cover(from, to Day) (Day, Day) {
	i, _ := slices.BinarySearch(e.order, from) // the first day held within
	j, _ := slices.BinarySearch(e.order, to+1) // the first held after
	if i >= j {
		return from, to // no sales within: nothing to read either way
	}
	lo, hi := Day(math.MinInt32), e.order[i] // from may move anywhere in [lo, hi]
	if i > 0 {
		lo = e.order[i-1] + 1
	}
	switch y, m := hi.year().first(), hi.month().first(); {
	case y >= lo:
		from = y
	case m >= lo:
		from = m
	}
	lo, hi = e.order[j-1], Day(math.MaxInt32) // to may move anywhere in [lo, hi]
	if j < len(e.order) {
		hi = e.order[j] - 1
	}
	switch y, m := lo.year().last(), lo.month().last(); {
	case y <= hi:
		to = y
	case m <= hi:
		to = m
	}
	return from, to
}

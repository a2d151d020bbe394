package kpi

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

package etl

import "time"

// parseDate reads b in one of the date formats.
func parseDate(format int, b []byte) (time.Time, bool) {
	switch format {
	case dateDayFirst:
		return parseSlashedDate(b, true)
	case dateMonthFirst:
		return parseSlashedDate(b, false)
	}
	return parseISODate(b)
}

// parseISODate reads YYYY-MM-DD exactly.
func parseISODate(b []byte) (time.Time, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := digitsValue(b[:4])
	m, ok2 := digitsValue(b[5:7])
	d, ok3 := digitsValue(b[8:])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return calendarDate(y, m, d)
}

// parseSlashedDate reads D/M/YYYY (dayFirst) or M/D/YYYY, with day and month of one or two
// digits, as spreadsheets write them. A two-digit year is not a date: its century is a guess.
func parseSlashedDate(b []byte, dayFirst bool) (time.Time, bool) {
	first, rest, ok := cutSlash(b)
	if !ok {
		return time.Time{}, false
	}
	second, year, ok := cutSlash(rest)
	if !ok || len(first) > 2 || len(second) > 2 || len(year) != 4 {
		return time.Time{}, false
	}
	a, ok1 := digitsValue(first)
	c, ok2 := digitsValue(second)
	y, ok3 := digitsValue(year)
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	if dayFirst {
		return calendarDate(y, c, a)
	}
	return calendarDate(y, a, c)
}

func cutSlash(b []byte) ([]byte, []byte, bool) {
	for i, c := range b {
		if c == '/' {
			return b[:i], b[i+1:], i > 0
		}
	}
	return nil, nil, false
}

// digitsValue reads a run of ASCII digits.
func digitsValue(s []byte) (int, bool) {
	v := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, len(s) > 0
}

// calendarDate is the date of year y, month m, day d, if there is one.
func calendarDate(y, m, d int) (time.Time, bool) {
	if y < 1 || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 30 February normalises to March
		return time.Time{}, false
	}
	return t, true
}

// showDay prints a day (days since 1970-01-01) as YYYY-MM-DD.
func showDay(days int64) string {
	return time.Unix(days*86400, 0).UTC().Format(time.DateOnly)
}

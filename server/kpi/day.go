package kpi

import "time"

// Day is a sale date, as days since 1970-01-01.
type Day int32

// DayOf is the sale date of t (its UTC calendar day).
func DayOf(t time.Time) Day {
	y, m, d := t.UTC().Date()
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time is midnight UTC of the day.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String is the day as YYYY-MM-DD.
func (d Day) String() string { return d.Time().Format(time.DateOnly) }

// month numbers calendar months: year × 12 + month − 1.
type month int32

// year is a calendar year.
type year int32

func (d Day) month() month {
	y, m, _ := d.Time().Date()
	return month(y*12 + int(m) - 1)
}

func (d Day) year() year { return year(d.Time().Year()) }

// first and last are the first and last days of a month.
func (m month) first() Day {
	return DayOf(time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, time.UTC))
}

func (m month) last() Day { return (m + 1).first() - 1 }

func (m month) year() year { return year(int(m) / 12) }

func (y year) first() Day { return DayOf(time.Date(int(y), 1, 1, 0, 0, 0, 0, time.UTC)) }

func (y year) last() Day { return (y + 1).first() - 1 }

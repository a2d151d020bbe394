package ui

import (
	"strconv"
	"strings"
	"time"

	"salespulse/server/api"
)

// formatMoney writes an exact amount in full with thousands separators: 3,627,905.75.
// Cards show every digit because each figure must match /api/kpis to the cent.
func formatMoney(m api.Money) string {
	v := int64(m)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	cents := v % 100
	frac := strconv.FormatInt(cents, 10)
	if cents < 10 {
		frac = "0" + frac
	}
	return sign + group(strconv.FormatInt(v/100, 10)) + "." + frac
}

// formatCount writes a whole number with thousands separators: 2,663.
func formatCount(n int64) string {
	if n < 0 {
		return "-" + group(strconv.FormatInt(-n, 10))
	}
	return group(strconv.FormatInt(n, 10))
}

// formatPercent writes a percentage with two decimals: 38.45 %.
func formatPercent(p float64) string {
	s := strconv.FormatFloat(p, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	sign := ""
	if strings.HasPrefix(whole, "-") {
		sign, whole = "-", whole[1:]
	}
	return sign + group(whole) + "." + frac + " %"
}

// group inserts a comma every three digits from the right of a string of digits.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// formatAge says how long ago something happened, in the largest unit that keeps it short:
// "4 s ago", "12 min ago", "3 h ago", "2 d ago". Seconds tick while the figures are fresh,
// which is when people watch them.
func formatAge(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < 2*time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s ago"
	case d < 2*time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " d ago"
}

// formatBytes writes a file size for people: 812 B, 14.2 KB, 3.1 MB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "B"
}

// clock is a time of day, HH:MM, in the browser's time zone.
func clock(t time.Time) string { return t.Local().Format("15:04") }

// dateTime is a short timestamp for tables: 2024-10-27 18:02:20.
func dateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

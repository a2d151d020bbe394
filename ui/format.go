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

// formatCompact writes a large amount with three significant digits and a unit: 1.23 B,
// 456 M, 12.3 K; below a thousand it is the amount rounded to a whole number. The cards
// show it when the exact figure would not fit, and keep the exact one on hover and tap.
func formatCompact(v float64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	units := []string{"", "K", "M", "B", "T"}
	u := 0
	for v >= 999.5 && u < len(units)-1 {
		v /= 1000
		u++
	}
	decimals := 0
	switch {
	case u == 0:
	case v < 9.995:
		decimals = 2
	case v < 99.95:
		decimals = 1
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if u == 0 {
		return sign + s
	}
	return sign + s + "\u202f" + units[u] // a narrow no-break space: "1.23 B" stays one
}

// textWidth is how many em a figure takes at most in the cards' bold tabular digits, rounded
// up: digits are about 0.7 em wide in the widest common fonts (DejaVu Sans Bold), separators
// 0.4, letters up to 1. The cards size the figure by it (fluid type) and switch to the
// compact form when even the smallest size would not fit.
func textWidth(s string) int {
	tenths := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			tenths += 7
		case r == ',' || r == '.':
			tenths += 4
		case r == ' ' || r == '\u202f' || r == '-':
			tenths += 4
		default:
			tenths += 10
		}
	}
	return (tenths + 9) / 10
}

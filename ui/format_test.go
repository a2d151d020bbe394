package ui

import (
	"testing"
	"time"

	"salespulse/server/api"
)

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		in   api.Money
		want string
	}{
		{362790575, "3,627,905.75"},
		{0, "0.00"},
		{5, "0.05"},
		{99999, "999.99"},
		{100000, "1,000.00"},
		{-123456789, "-1,234,567.89"},
		{100000000000, "1,000,000,000.00"},
	} {
		if got := formatMoney(c.in); got != c.want {
			t.Errorf("formatMoney(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFormatCountAndPercent(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 2663: "2,663", 1000000: "1,000,000", -4200: "-4,200"} {
		if got := formatCount(in); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{38.45: "38.45 %", 0: "0.00 %", 100: "100.00 %", -2.5: "-2.50 %", 1234.5: "1,234.50 %"} {
		if got := formatPercent(in); got != want {
			t.Errorf("formatPercent(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatAgeAndBytes(t *testing.T) {
	for in, want := range map[time.Duration]string{
		-time.Second: "just now", 0: "0 s ago", 42 * time.Second: "42 s ago", 119 * time.Second: "119 s ago",
		5 * time.Minute: "5 min ago", 3 * time.Hour: "3 h ago", 72 * time.Hour: "3 d ago",
	} {
		if got := formatAge(in); got != want {
			t.Errorf("formatAge(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{812: "812 B", 27750: "27.1 KB", 3 << 20: "3.0 MB"} {
		if got := formatBytes(in); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatCompact(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {999.4, "999"}, {999.5, "1.00\u202fK"}, {1234, "1.23\u202fK"}, {45678, "45.7\u202fK"},
		{753079300, "753\u202fM"}, {999_960_000, "1.00\u202fB"}, {1936154320, "1.94\u202fB"},
		{-1234567890, "-1.23\u202fB"}, {2.5e13, "25.0\u202fT"},
	} {
		if got := formatCompact(c.in); got != c.want {
			t.Errorf("formatCompact(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTextWidth(t *testing.T) {
	for in, want := range map[string]int{"—": 1, "3,049": 4, "3,627,905.75": 8, "1,936,154,320.00": 10, "38.90 %": 5, "1.94\u202fB": 4} {
		if got := textWidth(in); got != want {
			t.Errorf("textWidth(%q) = %d, want %d", in, got, want)
		}
	}
}

package api

import "testing"

func TestParseAlertWindow(t *testing.T) {
	for in, want := range map[string]AlertWindow{
		"": {}, "latest_day": {WindowLatestDay, 1}, "7d": {WindowDays, 7}, "24h": {WindowHours, 24}, "87660d": {WindowDays, 87660},
	} {
		got, err := ParseAlertWindow(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("%q: %+v %v, want %+v and the same string back", in, got, err, want)
		}
	}
	for _, in := range []string{"d", "0d", "07d", "+7d", "-1d", "7", "7w", "1.5h", "87661h", "latest", " 7d"} {
		if w, err := ParseAlertWindow(in); err == nil {
			t.Errorf("%q read as %+v", in, w)
		}
	}
	if d := (AlertWindow{WindowDays, 1}).Describe(); d != "last day" {
		t.Errorf("one day described %q", d)
	}
}

func TestChangePct(t *testing.T) {
	for _, c := range []struct{ cur, prev, want float64 }{
		{110, 100, 10}, {90, 100, -10}, {33, 32, 3.13}, {-5, -10, 50}, {-15, -10, -50}, {1, 3, -66.67}, {100, 100, 0},
	} {
		if got, ok := ChangePct(c.cur, c.prev); !ok || got != c.want {
			t.Errorf("ChangePct(%v, %v) = %v %v, want %v", c.cur, c.prev, got, ok, c.want)
		}
	}
	if _, ok := ChangePct(5, 0); ok {
		t.Error("a change from 0 has a percentage")
	}
}

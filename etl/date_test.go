package etl

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	for _, tt := range []struct {
		format int
		in     string
		want   string // YYYY-MM-DD, "" when not a date
	}{
		{dateISO, "2024-03-16", "2024-03-16"},
		{dateISO, "0001-01-01", "0001-01-01"},
		{dateISO, "2024-02-29", "2024-02-29"},
		{dateISO, "2023-02-29", ""},
		{dateISO, "16/03/2024", ""},
		{dateISO, "2024-3-16", ""},
		{dateDayFirst, "16/03/2024", "2024-03-16"},
		{dateDayFirst, "5/3/2024", "2024-03-05"},
		{dateDayFirst, "05/03/2024", "2024-03-05"},
		{dateDayFirst, "29/02/2024", "2024-02-29"},
		{dateDayFirst, "29/02/2023", ""},
		{dateDayFirst, "31/04/2024", ""},
		{dateDayFirst, "00/03/2024", ""},
		{dateDayFirst, "16/13/2024", ""},
		{dateDayFirst, "16/03/24", ""},
		{dateDayFirst, "16/03/02024", ""},
		{dateDayFirst, "16/03/0000", ""},
		{dateDayFirst, "016/03/2024", ""},
		{dateDayFirst, "16-03-2024", ""},
		{dateDayFirst, "16//2024", ""},
		{dateDayFirst, "/03/2024", ""},
		{dateDayFirst, "16/03/2024/", ""},
		{dateDayFirst, "+1/03/2024", ""},
		{dateDayFirst, "2024-03-16", ""},
		{dateMonthFirst, "03/16/2024", "2024-03-16"},
		{dateMonthFirst, "3/16/2024", "2024-03-16"},
		{dateMonthFirst, "16/03/2024", ""},
		{dateMonthFirst, "02/29/2024", "2024-02-29"},
	} {
		got, ok := parseDate(tt.format, []byte(tt.in))
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s %q = %s, want no date", dateKind.names[tt.format], tt.in, got.Format(time.DateOnly))
		case tt.want != "" && (!ok || got.Format(time.DateOnly) != tt.want || got.Location() != time.UTC):
			t.Errorf("%s %q = %v, %v; want %s", dateKind.names[tt.format], tt.in, got, ok, tt.want)
		}
	}
	for _, in := range []string{"01/01/0001", "31/12/9999", "01/01/1970", "31/12/1969"} {
		day, ok := dateKind.read(dateDayFirst, []byte(in))
		if got, want := showDay(day), in[6:]+"-"+in[3:5]+"-"+in[:2]; !ok || got != want {
			t.Errorf("%s read as day %d, shown %s", in, day, got)
		}
	}
}

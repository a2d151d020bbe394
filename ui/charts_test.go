package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"salespulse/server/api"
)

// sampleSnapshot is a small snapshot with every breakdown filled.
func sampleSnapshot() *api.Snapshot {
	return &api.Snapshot{
		Totals:          api.Totals{Sales: 1000000, Orders: 10},
		ByCategory:      []api.Slice{{Name: "Clothing", Sales: 60000, Orders: 6, Quantity: 9, GrossProfit: 2000}, {Name: "=cmd", Sales: 40000}},
		ByRegion:        []api.Slice{{Name: "Texas", Sales: 100000}},
		ByChannel:       []api.Slice{{Name: "Online Store", Sales: 100000}},
		TopReps:         make([]api.RepStat, 12),
		ByPaymentStatus: []api.StatusStat{{Status: "Paid", Sales: 70000}, {Status: "Canceled", Sales: 30000}},
		TopProducts: api.TopProducts{
			ByQuantity: []api.ProductStat{{Product: "Jeans", Quantity: 30, Sales: 9000}},
			BySales:    []api.ProductStat{{Product: "Sofa", Quantity: 3, Sales: 19000}},
		},
		Trend: []api.TrendPoint{{Date: "2024-10-25", Sales: 500}, {Date: "2024-10-26", Sales: 700}},
		CategoryTrend: []api.SeriesPoint{
			{Date: "2024-10-26", Name: "Clothing", Sales: 100}, {Date: "2024-10-25", Name: "Clothing", Sales: 50},
			{Date: "2024-10-26", Name: "Furniture", Sales: 70},
		},
		ChannelDaily: []api.SeriesPoint{
			{Date: "2024-10-25", Name: "Online Store", Sales: 100, GrossProfit: 20},
			{Date: "2024-10-26", Name: "Online Store", Sales: 200, GrossProfit: -10},
			{Date: "2024-10-26", Name: "Marketplace", Sales: 300, GrossProfit: 90},
		},
	}
}

func option(t *testing.T, c chartSpec) map[string]any {
	t.Helper()
	var o map[string]any
	if err := json.Unmarshal([]byte(c.Option), &o); err != nil {
		t.Fatalf("%s: option is not JSON: %v", c.ID, err)
	}
	return o
}

func TestDashboardCharts(t *testing.T) {
	specs := dashboardCharts(sampleSnapshot())
	byID := map[string]chartSpec{}
	for _, c := range specs {
		byID[c.ID] = c
		if c.Empty || c.Title == "" || len(c.Table.Header) == 0 {
			t.Errorf("%s: %+v", c.ID, c)
		}
		o := option(t, c)
		if _, ok := o["series"].([]any); !ok {
			t.Errorf("%s: no series", c.ID)
		}
		if g, ok := o["grid"].([]any); ok && len(g) != 1 {
			t.Errorf("%s: %d grids: ECharts would use only the first", c.ID, len(g))
		}
	}
	if len(specs) != 10 {
		t.Fatalf("%d charts, want 10", len(specs))
	}

	// The scatter: one series per channel, one point per channel per day.
	o := option(t, byID["channel-value-profit"])
	points := 0
	for _, s := range o["series"].([]any) {
		points += len(s.(map[string]any)["data"].([]any))
	}
	if n := len(o["series"].([]any)); n != 2 || points != 3 {
		t.Errorf("scatter: %d series, %d points; want 2 and 3", n, points)
	}

	// Rankings: horizontal, best on top, reps cut to ten.
	o = option(t, byID["top-reps"])
	y := o["yAxis"].([]any)[0].(map[string]any)
	if y["type"] != "category" || y["inverse"] != true || len(y["data"].([]any)) != 10 {
		t.Errorf("top reps y axis: %v", y)
	}
	if rows := len(byID["top-reps"].Table.Rows); rows != 10 {
		t.Errorf("top reps CSV: %d rows", rows)
	}

	// Category trend: one line per category over every date, zero-filled.
	o = option(t, byID["category-trend"])
	series := o["series"].([]any)
	furniture := series[1].(map[string]any)
	if len(series) != 2 || furniture["name"] != "Furniture" || len(furniture["data"].([]any)) != 2 {
		t.Errorf("category trend series: %v", series)
	}

	// Payment statuses keep their colours.
	if !strings.Contains(byID["payment-status"].Option, paymentColors["Canceled"]) {
		t.Error("payment status chart without its colours")
	}
}

func TestChartCSV(t *testing.T) {
	specs := dashboardCharts(sampleSnapshot())
	got := specs[1].Table.csv() // by category
	want := "category,sales,orders,quantity,gross_profit\r\nClothing,600.00,6,9,20.00\r\n'=cmd,400.00,0,0,0.00\r\n"
	if got != want {
		t.Errorf("CSV:\n%q\nwant\n%q", got, want)
	}
	trend := specs[0].Table.csv()
	if !strings.HasPrefix(trend, "date,sales,orders,gross_profit\r\n2024-10-25,5.00,0,0.00\r\n") {
		t.Errorf("trend CSV: %q", trend)
	}
}

func TestEmptyCharts(t *testing.T) {
	for _, c := range dashboardCharts(&api.Snapshot{}) {
		if !c.Empty {
			t.Errorf("%s: not empty without data", c.ID)
		}
		option(t, c)
	}
}

func TestCategoryTrendFollowsTheServersBuckets(t *testing.T) {
	var points []api.SeriesPoint
	start := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC) // a Monday
	for w := range 10 {
		points = append(points, api.SeriesPoint{Date: start.AddDate(0, 0, 7*w).Format(time.DateOnly), Name: "Clothing", Sales: 700})
	}
	c := categoryTrend(points, "week")
	o := option(t, c)
	x := o["xAxis"].([]any)[0].(map[string]any)["data"].([]any)
	data := o["series"].([]any)[0].(map[string]any)["data"].([]any)
	if len(x) != 10 || x[0] != "2024-07-01" || x[1] != "2024-07-08" || data[0].(map[string]any)["value"] != 7.0 {
		t.Errorf("weekly points %v, first value %v", x, data[0])
	}
	if len(c.Table.Rows) != 10 || c.Table.Header[0] != "week" || !strings.Contains(c.Title, "weekly") {
		t.Errorf("CSV %d rows, header %v; title %q", len(c.Table.Rows), c.Table.Header, c.Title)
	}
	if m := categoryTrend(points, "month"); !strings.Contains(m.Title, "monthly") {
		t.Errorf("monthly title %q", m.Title)
	}
	if d := categoryTrend(points, "day"); strings.Contains(d.Title, "weekly") || d.Table.Header[0] != "day" {
		t.Errorf("daily chart %q, header %v", d.Title, d.Table.Header)
	}
}

package ui

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"salespulse/server/api"
)

// chartSpec is one dashboard chart: the ECharts option built in Go with go-echarts, and the
// data behind it as a table for the CSV export.
type chartSpec struct {
	ID     string // element id and CSV file name
	Title  string
	Option string // ECharts option, JSON
	Unit   string // unitMoney or unitCount: how tooltips and axes format values
	Table  table
	Wide   bool // spans the whole row on wide screens
	Empty  bool // no data in the window
}

// Units of chart values.
const (
	unitMoney = "money"
	unitCount = "count"
)

// paymentColors keep each payment status the same colour in every view.
var paymentColors = map[string]string{"Paid": "#3ba272", "Pending": "#fac858", "Canceled": "#ee6666"}

// dashboardCharts builds every chart of the dashboard from one snapshot, in page order.
func dashboardCharts(s *api.Snapshot) []chartSpec {
	return []chartSpec{
		salesTrend(s.Trend),
		categoryShare(s.ByCategory),
		paymentStatus(s.ByPaymentStatus),
		topProducts("top-products-quantity", "Top products by quantity", unitCount, s.TopProducts.ByQuantity),
		topProducts("top-products-sales", "Top products by sales", unitMoney, s.TopProducts.BySales),
		topReps(s.TopReps),
		slicesBar("by-region", "Sales by region", s.ByRegion),
		slicesBar("by-channel", "Sales by channel", s.ByChannel),
		channelScatter(s.ChannelDaily, s.SeriesGrain),
		categoryTrend(s.CategoryTrend, s.SeriesGrain),
	}
}

// salesTrend is the original's "real-time sales trend": sales and gross profit per day.
func salesTrend(points []api.TrendPoint) chartSpec {
	dates := make([]string, len(points))
	sales := make([]opts.LineData, len(points))
	profit := make([]opts.LineData, len(points))
	t := table{Header: []string{"date", "sales", "orders", "gross_profit"}}
	for i, p := range points {
		dates[i] = p.Date
		sales[i] = opts.LineData{Value: money(p.Sales)}
		profit[i] = opts.LineData{Value: money(p.GrossProfit)}
		t.Rows = append(t.Rows, []string{p.Date, p.Sales.String(), itoa(p.Orders), p.GrossProfit.String()})
	}
	c := charts.NewLine()
	c.SetGlobalOptions(axisChart("axis", true, "8")...)
	c.SetXAxis(dates).
		AddSeries("Sales", sales, charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.15)})).
		AddSeries("Gross profit", profit)
	c.SetSeriesOptions(charts.WithLineChartOpts(opts.LineChart{Smooth: opts.Bool(true), ShowSymbol: opts.Bool(len(points) <= 31)}))
	return spec("sales-trend", "Sales trend", unitMoney, c, t, len(points) == 0, true)
}

// categoryShare is the distribution of sales over categories.
func categoryShare(rows []api.Slice) chartSpec {
	data := make([]opts.PieData, len(rows))
	for i, r := range rows {
		data[i] = opts.PieData{Name: r.Name, Value: money(r.Sales)}
	}
	c := charts.NewPie()
	c.SetGlobalOptions(pieChart()...)
	c.AddSeries("Sales", data, donut())
	return spec("by-category", "Sales by category", unitMoney, c, slicesTable("category", rows), len(rows) == 0, false)
}

// paymentStatus splits sales into paid, pending and canceled.
func paymentStatus(rows []api.StatusStat) chartSpec {
	data := make([]opts.PieData, len(rows))
	t := table{Header: []string{"payment_status", "sales", "orders"}}
	for i, r := range rows {
		data[i] = opts.PieData{Name: r.Status, Value: money(r.Sales)}
		if c, ok := paymentColors[r.Status]; ok {
			data[i].ItemStyle = &opts.ItemStyle{Color: c}
		}
		t.Rows = append(t.Rows, []string{text(r.Status), r.Sales.String(), itoa(r.Orders)})
	}
	c := charts.NewPie()
	c.SetGlobalOptions(pieChart()...)
	c.AddSeries("Sales", data, donut())
	return spec("payment-status", "Payment status", unitMoney, c, t, len(rows) == 0, false)
}

// topProducts ranks products by units or by value, best on top.
func topProducts(id, title, unit string, rows []api.ProductStat) chartSpec {
	names := make([]string, len(rows))
	data := make([]opts.BarData, len(rows))
	t := table{Header: []string{"product", "quantity", "sales", "orders"}}
	for i, r := range rows {
		names[i] = r.Product
		if unit == unitCount {
			data[i] = opts.BarData{Value: r.Quantity}
		} else {
			data[i] = opts.BarData{Value: money(r.Sales)}
		}
		t.Rows = append(t.Rows, []string{text(r.Product), itoa(r.Quantity), r.Sales.String(), itoa(r.Orders)})
	}
	series := "Sales"
	if unit == unitCount {
		series = "Quantity"
	}
	return ranking(id, title, unit, series, names, data, t)
}

// topReps ranks the ten best sales representatives by sales.
func topReps(rows []api.RepStat) chartSpec {
	rows = rows[:min(len(rows), 10)]
	names := make([]string, len(rows))
	data := make([]opts.BarData, len(rows))
	t := table{Header: []string{"sales_rep", "sales", "orders", "gross_profit"}}
	for i, r := range rows {
		names[i] = r.Rep
		data[i] = opts.BarData{Value: money(r.Sales)}
		t.Rows = append(t.Rows, []string{text(r.Rep), r.Sales.String(), itoa(r.Orders), r.GrossProfit.String()})
	}
	return ranking("top-reps", "Top 10 sales representatives", unitMoney, "Sales", names, data, t)
}

// ranking is a horizontal bar chart with the first name on top.
func ranking(id, title, unit, series string, names []string, data []opts.BarData, t table) chartSpec {
	c := charts.NewBar()
	c.SetGlobalOptions(append(axisChart("axis", false, "8"),
		charts.WithXAxisOpts(opts.XAxis{Type: "value"}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true)}))...)
	c.SetXAxis(names).AddSeries(series, data)
	c.SetSeriesOptions(charts.WithBarChartOpts(opts.BarChart{BarCategoryGap: "30%"}))
	c.XYReversal()
	return spec(id, title, unit, c, t, len(names) == 0, false)
}

// slicesBar shows sales and gross profit of each region or channel.
func slicesBar(id, title string, rows []api.Slice) chartSpec {
	names := make([]string, len(rows))
	sales := make([]opts.BarData, len(rows))
	profit := make([]opts.BarData, len(rows))
	for i, r := range rows {
		names[i] = r.Name
		sales[i] = opts.BarData{Value: money(r.Sales)}
		profit[i] = opts.BarData{Value: money(r.GrossProfit)}
	}
	c := charts.NewBar()
	c.SetGlobalOptions(axisChart("axis", true, "8")...)
	c.SetXAxis(names).AddSeries("Sales", sales).AddSeries("Gross profit", profit)
	label := "region"
	if id == "by-channel" {
		label = "channel"
	}
	return spec(id, title, unitMoney, c, slicesTable(label, rows), len(rows) == 0, false)
}

// channelScatter is the original's "value against gross profit by channel": one point per
// channel per day, week or month (channel_daily, bucketed by the server for long windows),
// never one per sale, so it stays light at any data size.
func channelScatter(points []api.SeriesPoint, grain string) chartSpec {
	byChannel := map[string][]opts.ScatterData{}
	var names []string
	t := table{Header: []string{"date", "channel", "sales", "gross_profit", "orders"}}
	for _, p := range points {
		if _, ok := byChannel[p.Name]; !ok {
			names = append(names, p.Name)
		}
		byChannel[p.Name] = append(byChannel[p.Name], opts.ScatterData{
			Name: p.Date, Value: []float64{money(p.Sales), money(p.GrossProfit)}, SymbolSize: 10,
		})
		t.Rows = append(t.Rows, []string{p.Date, text(p.Name), p.Sales.String(), p.GrossProfit.String(), itoa(p.Orders)})
	}
	slices.Sort(names)
	c := charts.NewScatter()
	// containLabel does not count axis names: the bottom leaves room for "Total value".
	c.SetGlobalOptions(append(axisChart("item", true, "30"),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "Total value", NameLocation: "middle", NameGap: 28, Scale: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "Gross profit", Scale: opts.Bool(true)}))...)
	for _, n := range names {
		c.AddSeries(n, byChannel[n])
	}
	return spec("channel-value-profit", "Total value against gross profit by channel, per "+grainName(grain), unitMoney, c, t, len(points) == 0, false)
}

// categoryTrend is sales per category over time, one line per category, in the server's
// buckets: days, or weeks and months for long windows, where daily lines become a thicket.
func categoryTrend(points []api.SeriesPoint, grain string) chartSpec {
	var dates, names []string
	seenDate, seenName := map[string]bool{}, map[string]bool{}
	value := map[[2]string]api.Money{}
	t := table{Header: []string{grainName(grain), "category", "sales", "gross_profit", "orders"}}
	for _, p := range points {
		if !seenDate[p.Date] {
			seenDate[p.Date] = true
			dates = append(dates, p.Date)
		}
		if !seenName[p.Name] {
			seenName[p.Name] = true
			names = append(names, p.Name)
		}
		value[[2]string{p.Date, p.Name}] += p.Sales
		t.Rows = append(t.Rows, []string{p.Date, text(p.Name), p.Sales.String(), p.GrossProfit.String(), itoa(p.Orders)})
	}
	slices.Sort(dates)
	slices.Sort(names)
	c := charts.NewLine()
	c.SetGlobalOptions(axisChart("axis", true, "8")...)
	c.SetXAxis(dates)
	for _, n := range names {
		data := make([]opts.LineData, len(dates))
		for i, d := range dates {
			data[i] = opts.LineData{Value: money(value[[2]string{d, n}])}
		}
		c.AddSeries(n, data)
	}
	c.SetSeriesOptions(charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(len(dates) <= 31)}))
	title := "Sales trend by category"
	switch grain {
	case "week":
		title += ", weekly (weeks from Monday)"
	case "month":
		title += ", monthly"
	}
	return spec("category-trend", title, unitMoney, c, t, len(points) == 0, true)
}

// grainName names a bucket of the breakdown series.
func grainName(grain string) string {
	switch grain {
	case "week", "month":
		return grain
	}
	return "day"
}

// axisChart are the options shared by charts on x/y axes; bottom is the grid's margin.
func axisChart(trigger string, legend bool, bottom string) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: trigger}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(legend), Type: "scroll", Top: "0"}),
		// Right leaves room for the last date label, which containLabel does not count.
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "28", Top: gridTop(legend), Bottom: bottom, ContainLabel: opts.Bool(true)}),
		charts.WithAnimation(true),
	}
}

func gridTop(legend bool) string {
	if legend {
		return "36"
	}
	return "8"
}

// pieChart are the options of the donuts.
func pieChart() []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		// A plain legend wraps onto a second line on a phone rather than paging.
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Type: "plain", Bottom: "0"}),
	}
}

// donut draws shares inside the ring: labels outside it get cut at phone width.
func donut() charts.SeriesOpts {
	return func(s *charts.SingleSeries) {
		s.Radius = []string{"40%", "68%"}
		s.Center = []string{"50%", "44%"}
		s.Label = &opts.Label{Show: opts.Bool(true), Formatter: "{d}%", Position: "inside", Color: "#fff", FontSize: 11, FontWeight: "bold"}
		s.LabelLayout = &opts.LabelLayout{HideOverlap: opts.Bool(true)}
	}
}

// spec validates the chart (go-echarts fills its defaults there) and encodes its option.
func spec(id, title, unit string, c interface {
	Validate()
	JSON() map[string]any
}, t table, empty, wide bool) chartSpec {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil {
		// Options hold only strings and numbers; this cannot happen short of a bug.
		panic("ui: encoding chart option " + id + ": " + err.Error())
	}
	return chartSpec{ID: id, Title: title, Option: string(b), Unit: unit, Table: t, Empty: empty, Wide: wide}
}

// slicesTable is the CSV of a breakdown by category, region or channel.
func slicesTable(label string, rows []api.Slice) table {
	t := table{Header: []string{label, "sales", "orders", "quantity", "gross_profit"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{text(r.Name), r.Sales.String(), itoa(r.Orders), itoa(r.Quantity), r.GrossProfit.String()})
	}
	return t
}

// money is an amount as a chart coordinate. Charts may round; cards and CSV stay exact.
func money(m api.Money) float64 { return float64(m) / 100 }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// text guards a CSV text cell against formula injection: a spreadsheet would run a cell
// that starts with = + - or @ (a product named "=HYPERLINK(...)" in an uploaded file).
func text(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

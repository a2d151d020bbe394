package server

import (
	"strconv"
	"strings"

	"salespulse/queries/db"
	"salespulse/server/api"
)

// measureNames are the measures as messages name them.
var measureNames = map[string]string{
	api.MeasureSales: "sales", api.MeasureOrders: "orders", api.MeasureAvgTicket: "average ticket",
	api.MeasureMarginPct: "margin", api.MeasureCanceledShare: "canceled share of sales",
	api.MeasureRejectedShare: "rejected share of rows", api.MeasureHoursSinceFile: "time since the last loaded file",
}

// alertMessage says what fired or recovered, for people: the webhook's text and the
// dashboard's notification.
//
//	Sales drop: sales, last 7 days (2024-10-21 to 2024-10-27, Technology), changed by -23.5 % (from 1000.00 to 765.00), below -20 %
//	No files: time since the last loaded file is 26.5 h, above 24 h
func alertMessage(r db.AlertRule, kind string, o outcome) string {
	var b strings.Builder
	b.WriteString(r.Name)
	if kind == api.AlertResolved {
		b.WriteString(" recovered")
	}
	b.WriteString(": ")
	b.WriteString(measureNames[r.Measure])
	if w := (api.AlertWindow{Unit: r.WindowUnit, Size: int(r.WindowSize)}).Describe(); w != "" {
		b.WriteString(", " + w)
	}
	var scope []string
	switch {
	case o.covered.From == "" || r.Measure == api.MeasureHoursSinceFile:
	case o.covered.From == o.covered.To:
		scope = append(scope, o.covered.From)
	default:
		scope = append(scope, o.covered.From+" to "+o.covered.To)
	}
	for _, v := range []string{r.Category, r.Region, r.Channel} {
		if v != "" {
			scope = append(scope, v)
		}
	}
	if len(scope) > 0 {
		b.WriteString(" (" + strings.Join(scope, ", ") + ")")
	}
	unit := measureUnit(r.Measure)
	if r.Relative {
		b.WriteString(", changed by " + amount(*o.value, "%"))
		b.WriteString(" (from " + amount(*o.previous, unit) + " to " + amount(*o.measured, unit) + ")")
		unit = "%"
	} else {
		b.WriteString(" is " + amount(*o.value, unit))
	}
	b.WriteString(", ")
	if kind == api.AlertResolved {
		b.WriteString("no longer ")
	}
	b.WriteString(r.Comparison + " " + amount(r.Threshold, unit))
	return b.String()
}

// measureUnit is what a measure counts: "" for money and orders, "%" or "h".
func measureUnit(measure string) string {
	switch measure {
	case api.MeasureMarginPct, api.MeasureCanceledShare, api.MeasureRejectedShare:
		return "%"
	case api.MeasureHoursSinceFile:
		return "h"
	}
	return ""
}

func amount(v float64, unit string) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if unit == "" && v != float64(int64(v)) {
		s = strconv.FormatFloat(v, 'f', 2, 64) // money
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}

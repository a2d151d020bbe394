package oracle

import (
	"math/big"
	"strconv"
)

// Measure is one of the alert measures of the figures, as an alert rule compares it: sales
// and the average ticket in currency units, orders, the margin and the canceled share of
// sales in % to two decimals; false when it is not defined (no orders, no sales).
func (k KPIs) Measure(name string) (float64, bool) {
	avg, margin := derived(k)
	switch name {
	case "sales":
		return float64(k.Sales) / 100, true
	case "orders":
		return float64(k.Orders), true
	case "avg_ticket":
		return float64(avg) / 100, k.Orders > 0
	case "margin_pct":
		return margin, k.Sales != 0
	case "canceled_share":
		if k.Sales == 0 {
			return 0, false
		}
		return Share(k.Canceled, k.Sales), true
	}
	return 0, false
}

// Share is part / whole × 100 to two decimals, rounded half away from zero, exactly.
func Share(part, whole int64) float64 {
	return float64(Cents(new(big.Rat).SetFrac64(part*100, whole))) / 100
}

// ChangePct is the change from prev to cur in % of prev's size, to two decimals, computed
// from the decimal values written out; false when prev is 0.
func ChangePct(cur, prev float64) (float64, bool) {
	if prev == 0 {
		return 0, false
	}
	c, p := decimal(strconv.FormatFloat(cur, 'g', -1, 64)), decimal(strconv.FormatFloat(prev, 'g', -1, 64))
	change := new(big.Rat).Sub(c, p)
	change.Quo(change, new(big.Rat).Abs(p))
	return float64(Cents(change.Mul(change, big.NewRat(100, 1)))) / 100, true
}

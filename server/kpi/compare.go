package kpi

import (
	"time"

	"salespulse/server/api"
)

// firstDay is 0001-01-01: a previous window may not start before it (dates have four digits).
var firstDay = DayOf(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC))

// previousWindow is the window of the same length as the view's, just before it, or the
// reason there is none.
func previousWindow(q Query, v view) (from, to Day, reason string) {
	switch {
	case v.empty:
		return 0, 0, api.PreviousNoWindow
	case !q.HasFrom:
		return 0, 0, api.PreviousOpenStart
	}
	days := v.to - v.from + 1
	if int64(v.from)-int64(days) < int64(firstDay) {
		return 0, 0, api.PreviousNoWindow
	}
	return v.from - days, v.from - 1, ""
}

// previous is the view's previous window and its totals. The read lock is held.
func (e *Engine) previous(q Query, v view) api.Previous {
	from, to, reason := previousWindow(q, v)
	if reason != "" {
		return api.Previous{Reason: reason}
	}
	m := e.sumWindow(v, from, to)
	return api.Previous{Window: api.Window{From: from.String(), To: to.String()}, Totals: totalsOf(&m)}
}

// refreshPrevious is the previous window of a view refreshed after the change fp: the old
// one when the change left it alone, with the change's matching cells added when it lies
// there, summed again when the window moved (a window without an end grows with new days).
// changed reports whether it differs from the old view's. The read lock is held.
func (e *Engine) refreshPrevious(old *View, v view, fp Footprint, combos []combo) (p api.Previous, changed bool) {
	was := old.Snap.Previous
	from, to, reason := previousWindow(old.query, v)
	if reason != "" {
		p = api.Previous{Reason: reason}
		return p, p != was
	}
	window := api.Window{From: from.String(), To: to.String()}
	if window != was.Window || was.Reason != "" {
		p = e.previous(old.query, v)
		return p, p != was
	}
	m := measuresOf(&was.Totals)
	touched := false
	if !v.none {
		for d, cs := range fp.cells {
			if d < from || d > to {
				continue
			}
			for id, c := range cs {
				if v.matches(combos[id]) {
					m.add(&c.m)
					touched = true
				}
			}
		}
	}
	if !touched {
		return was, false
	}
	return api.Previous{Window: window, Totals: totalsOf(&m)}, true
}

// sumWindow sums the measures of the sales in [from, to] that match the view's filter: whole
// years and months from their combinations, the ragged days from their cells. The read
// lock is held.
func (e *Engine) sumWindow(v view, from, to Day) measures {
	var m measures
	if v.none || from > to {
		return m
	}
	combos := e.combos.all()
	add := func(p *period) {
		if p == nil {
			return
		}
		for id, ms := range p.combos {
			if v.matches(combos[id]) {
				m.add(ms)
			}
		}
	}
	sp := split(e.cover(from, to))
	for _, y := range sp.years {
		add(e.years[y])
	}
	for _, mo := range sp.months {
		add(e.months[mo])
	}
	for _, r := range sp.days {
		for _, d := range e.daysIn(r[0], r[1]) {
			for _, c := range e.days[d].cells {
				if v.matches(combos[c.combo]) {
					m.add(&c.m)
				}
			}
		}
	}
	return m
}

// totalsOf are the headline figures of summed measures.
func totalsOf(t *measures) api.Totals {
	return api.Totals{
		Sales: api.Money(t.sales), Orders: t.orders, AvgTicket: api.Money(divRound(t.sales, t.orders)),
		Quantity: t.quantity, GrossProfit: api.Money(t.profit), MarginPct: marginPct(t.profit, t.sales),
		CanceledSales: api.Money(t.statusSales[Canceled]),
	}
}

// measuresOf are the sums behind headline figures, as far as totalsOf needs them.
func measuresOf(t *api.Totals) measures {
	m := measures{orders: t.Orders, quantity: t.Quantity, sales: int64(t.Sales), profit: int64(t.GrossProfit)}
	m.statusSales[Canceled] = int64(t.CanceledSales)
	return m
}

// Percent is part / whole × 100 with two decimals, rounded half away from zero, exactly as
// the margin is: the share of sales that was canceled, of rows that were rejected.
func Percent(part, whole int64) float64 { return marginPct(part, whole) }

// DataRange is the first and last sale date held, empty when there are none.
func (e *Engine) DataRange() api.Window {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if len(e.order) == 0 {
		return api.Window{}
	}
	return api.Window{From: e.order[0].String(), To: e.order[len(e.order)-1].String()}
}

// Summary is what an alert rule reads of a window: its totals and its previous window's,
// computed under one read lock, without the lists and series of a snapshot.
type Summary struct {
	Window   api.Window // empty when the window holds no dates
	Totals   api.Totals
	Previous api.Previous
}

// Summarize computes the summary of a query from the state as it is.
func (e *Engine) Summarize(q Query) Summary {
	e.mu.RLock()
	defer e.mu.RUnlock()
	v := e.resolve(q)
	var s Summary
	if !v.empty {
		s.Window = api.Window{From: v.from.String(), To: v.to.String()}
		m := e.sumWindow(v, v.from, v.to)
		s.Totals = totalsOf(&m)
	}
	s.Previous = e.previous(q, v)
	return s
}

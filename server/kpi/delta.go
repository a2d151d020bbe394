package kpi

// Delta is the sales of committed files, numbered for an engine and waiting to be added to
// it. Build it with Engine.NewDelta, Add the sales, then Engine.Apply it.
type Delta struct {
	files []File
	rows  []row
	spare []row // the buffer the rows are sorted into
	days  map[Day]bool

	// The rows' sums, once prepared: per cell, and per month and member.
	cells []dayCell
	lists []memberLists
}

// row is a sale numbered for the engine.
type row struct {
	day           Day
	combo         uint32
	product, rep  uint32
	status        Status
	quantity      uint32
	sales, profit int64
}

// dayCell is a delta's sums of one sale date and combination.
type dayCell struct {
	day Day
	cell
}

// memberLists are a delta's product and representative sums of one member in one month.
type memberLists struct {
	month  month
	member member
	lists
}

// NewDelta starts a delta for the files given.
func (e *Engine) NewDelta(files ...File) *Delta {
	return &Delta{files: files, days: map[Day]bool{}}
}

// Add numbers a sale into the delta (numbering takes the tables' own locks, not the engine's).
func (e *Engine) Add(d *Delta, s Sale) {
	c := combo{e.categories.id(s.Category), e.regions.id(s.Region), e.channels.id(s.Channel)}
	d.rows = append(d.rows, row{
		day: s.Day, combo: e.combos.id(c), product: e.products.id(s.Product), rep: e.reps.id(s.Rep),
		status: s.Status, quantity: uint32(s.Quantity), sales: s.Sales, profit: s.Profit,
	})
	d.days[s.Day] = true
}

// Len is the number of sales in the delta.
func (d *Delta) Len() int { return len(d.rows) }

// Days are the sale dates the delta touches.
func (d *Delta) Days() map[Day]bool { return d.days }

// reuse empties the delta for more sales, keeping its row buffers.
func (d *Delta) reuse() {
	d.rows, d.files, d.days = d.rows[:0], nil, map[Day]bool{}
	d.cells, d.lists = nil, nil
}

// prepare sums the rows by cell, and by month and member, without the engine's lock (the
// names are numbered already): Apply then only adds the sums to the state, and the work of
// a large delta is done where it was read, not while snapshots wait.
func (d *Delta) prepare(e *Engine) {
	d.rows, d.spare = sortRows(d.rows, d.spare), d.rows
	combos := e.combos.all()
	d.cells, d.lists = nil, nil
	for i := 0; i < len(d.rows); {
		j := i + 1
		for j < len(d.rows) && d.rows[j].day == d.rows[i].day && d.rows[j].combo == d.rows[i].combo {
			j++
		}
		d.cells = append(d.cells, sumCell(d.rows[i:j]))
		i = j
	}
	a := getAccumulator(e.products.len(), e.reps.len())
	defer putAccumulator(a)
	for i := 0; i < len(d.rows); {
		m := d.rows[i].day.month()
		j := i + 1
		for j < len(d.rows) && d.rows[j].day.month() == m {
			j++
		}
		d.lists = monthLists(a, d.lists, d.rows[i:j], m, combos)
		i = j
	}
}

// sumCell sums the rows of one day and combination (sorted by product and rep).
func sumCell(rows []row) dayCell {
	c := dayCell{day: rows[0].day, cell: cell{combo: rows[0].combo}}
	m := &c.m
	c.items = make([]item, 0, len(rows))
	for _, r := range rows {
		m.orders++
		m.quantity += int64(r.quantity)
		m.sales += r.sales
		m.profit += r.profit
		m.statusOrders[r.status]++
		m.statusSales[r.status] += r.sales
		if n := len(c.items) - 1; n >= 0 && c.items[n].product == r.product && c.items[n].rep == r.rep && fits(&c.items[n], 1, r.quantity) {
			it := &c.items[n]
			it.orders++
			it.quantity += r.quantity
			it.sales += r.sales
			it.profit += r.profit
			continue
		}
		c.items = append(c.items, item{product: r.product, rep: r.rep, orders: 1, quantity: r.quantity, sales: r.sales, profit: r.profit})
	}
	return c
}

// monthLists appends the product and representative sums of every member that rows of one
// month (sorted by day and combination) belong to, their combination's included.
func monthLists(a *accumulator, out []memberLists, rows []row, m month, combos []combo) []memberLists {
	// Each member's rows are whole runs of one day and combination.
	type run struct{ from, to int }
	byMember := map[member][]run{}
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].day == rows[i].day && rows[j].combo == rows[i].combo {
			j++
		}
		for _, mb := range membersOf(combos[rows[i].combo]) {
			byMember[mb] = append(byMember[mb], run{i, j})
		}
		cm := member{dimCombo, rows[i].combo}
		byMember[cm] = append(byMember[cm], run{i, j})
		i = j
	}
	for mb, runs := range byMember {
		for _, rn := range runs {
			for _, r := range rows[rn.from:rn.to] {
				a.products.add(r.product, 1, r.sales, int64(r.quantity))
				a.reps.add(r.rep, 1, r.sales, r.profit)
			}
		}
		out = append(out, memberLists{month: m, member: mb, lists: *a.lists()})
	}
	return out
}

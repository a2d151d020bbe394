package kpi

import "hash/maphash"

// names numbers the names of one stream's sales: caches of its own, read without a lock,
// in front of the engine's tables (shared by the streams read at once, and locked).
type names struct {
	e                                             *Engine
	categories, regions, channels, products, reps nameCache
	combos                                        map[combo]uint32
}

func (e *Engine) names() *names {
	return &names{e: e, combos: map[combo]uint32{}}
}

// add numbers a streamed sale into a delta, allocating only for names not seen before.
func (n *names) add(d *Delta, s *rawSale) {
	e := n.e
	c := combo{n.categories.id(e.categories, s.category), n.regions.id(e.regions, s.region), n.channels.id(e.channels, s.channel)}
	cid, ok := n.combos[c]
	if !ok {
		cid = e.combos.id(c)
		n.combos[c] = cid
	}
	if last := len(d.rows) - 1; last < 0 || d.rows[last].day != s.day {
		d.days[s.day] = true
	}
	d.rows = append(d.rows, row{
		day: s.day, combo: cid, product: n.products.id(e.products, s.product), rep: n.reps.id(e.reps, s.rep),
		status: s.status, quantity: uint32(s.quantity), sales: s.sales, profit: s.profit,
	})
}

// nameCache maps names to their ids in a table. Names up to 27 bytes are kept in the slots
// of an open-addressing array, so that finding one reads a single cache line (a Go map
// follows a pointer to compare a string key, and ten million rows name five each); longer
// names go to a map.
type nameCache struct {
	seed  maphash.Seed
	slots []nameSlot // a power of two of them, or none yet
	used  int
	long  map[string]uint32
}

type nameSlot struct {
	size uint8 // the name's length + 1; 0 for an empty slot
	name [27]byte
	id   uint32
}

// id is the table's id of a name, numbering it there when it is new.
func (c *nameCache) id(t *table[string], b []byte) uint32 {
	if len(b) >= len(nameSlot{}.name) {
		if id, ok := c.long[string(b)]; ok {
			return id
		}
		if c.long == nil {
			c.long = map[string]uint32{}
		}
		id := idBytes(t, b)
		c.long[string(b)] = id
		return id
	}
	if c.slots == nil {
		c.seed, c.slots = maphash.MakeSeed(), make([]nameSlot, 64)
	}
	mask := uint64(len(c.slots) - 1)
	for i := maphash.Bytes(c.seed, b) & mask; ; i = (i + 1) & mask {
		s := &c.slots[i]
		if s.size == 0 {
			id := idBytes(t, b)
			c.put(b, id)
			return id
		}
		if int(s.size) == len(b)+1 && string(s.name[:len(b)]) == string(b) {
			return s.id
		}
	}
}

// put adds a short name, growing the slots to keep them at most three quarters full.
func (c *nameCache) put(b []byte, id uint32) {
	if 4*(c.used+1) > 3*len(c.slots) {
		old := c.slots
		c.slots, c.used = make([]nameSlot, 2*len(old)), 0
		for i := range old {
			if s := &old[i]; s.size > 0 {
				c.put(s.name[:s.size-1], s.id)
			}
		}
	}
	mask := uint64(len(c.slots) - 1)
	i := maphash.Bytes(c.seed, b) & mask
	for c.slots[i].size != 0 {
		i = (i + 1) & mask
	}
	s := &c.slots[i]
	s.size, s.id = uint8(len(b)+1), id
	copy(s.name[:], b)
	c.used++
}

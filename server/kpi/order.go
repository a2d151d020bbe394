package kpi

import (
	"cmp"
	"slices"
)

// cellKey is a row's sale date and combination: the cell it is summed into.
type cellKey struct {
	day   Day
	combo uint32
}

// sortRows orders rows by sale date, combination, product and representative, the order
// Apply sums them in. Rows are first distributed to their cells (a counting sort: a delta
// touches few cells, each of many rows), then each cell's rows are sorted by product and
// representative, which costs far less than comparing four keys across the whole delta.
// The sorted rows are written to out (grown to len(rows) as needed) and returned.
func sortRows(rows, out []row) []row {
	slot := map[cellKey]int32{}
	var keys []cellKey
	var counts []int
	slots := make([]int32, len(rows))
	for i := range rows {
		k := cellKey{rows[i].day, rows[i].combo}
		s, ok := slot[k]
		if !ok {
			s = int32(len(keys))
			slot[k] = s
			keys = append(keys, k)
			counts = append(counts, 0)
		}
		slots[i] = s
		counts[s]++
	}
	byKey := make([]int32, len(keys)) // slots in cell order
	for i := range byKey {
		byKey[i] = int32(i)
	}
	slices.SortFunc(byKey, func(a, b int32) int {
		return cmp.Or(cmp.Compare(keys[a].day, keys[b].day), cmp.Compare(keys[a].combo, keys[b].combo))
	})
	next := make([]int, len(keys)) // by slot: where its next row goes in out
	at := 0
	for _, s := range byKey {
		next[s] = at
		at += counts[s]
	}
	out = slices.Grow(out[:0], len(rows))[:len(rows)]
	for i := range rows {
		out[next[slots[i]]] = rows[i]
		next[slots[i]]++
	}
	for s := range keys {
		cell := out[next[s]-counts[s] : next[s]]
		slices.SortFunc(cell, func(a, b row) int {
			return cmp.Compare(uint64(a.product)<<32|uint64(a.rep), uint64(b.product)<<32|uint64(b.rep))
		})
	}
	return out
}

package kpi

import "sync"

// table numbers keys densely from 0 (names of products, regions, ...; combinations of
// category, region and channel), so that sums can be kept in slices indexed by id. It has
// its own lock: deltas are numbered while snapshots are computed.
type table[K comparable] struct {
	mu   sync.RWMutex
	ids  map[K]uint32
	keys []K
}

func newTable[K comparable]() *table[K] { return &table[K]{ids: map[K]uint32{}} }

// id numbers a key, giving it the next id when it is new.
func (t *table[K]) id(k K) uint32 {
	t.mu.RLock()
	id, ok := t.ids[k]
	t.mu.RUnlock()
	if ok {
		return id
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[k]; ok {
		return id
	}
	id = uint32(len(t.keys))
	t.ids[k] = id
	t.keys = append(t.keys, k)
	return id
}

// idBytes is id for a name given as bytes; it allocates only for a new name.
func idBytes(t *table[string], b []byte) uint32 {
	t.mu.RLock()
	id, ok := t.ids[string(b)]
	t.mu.RUnlock()
	if ok {
		return id
	}
	return t.id(string(b))
}

// lookup is the id of a known key.
func (t *table[K]) lookup(k K) (uint32, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	id, ok := t.ids[k]
	return id, ok
}

// all is every key so far, indexed by id. The slice is not written to after it is
// returned: new keys go to a longer one.
func (t *table[K]) all() []K {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.keys[:len(t.keys):len(t.keys)]
}

// len is the number of keys.
func (t *table[K]) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.keys)
}

package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"salespulse/server/api"
	"salespulse/server/kpi"
)

// A filter that a client watches keeps its snapshot however many other filters are asked
// for; filters nobody watches give way, and the cache stays within its bound but for the
// watched ones.
func TestCacheKeepsWatchedFilters(t *testing.T) {
	engine := kpi.New()
	h := newHub(4, nil, slog.Default())
	var mu sync.Mutex
	computed := map[string]int{}
	var seq uint64
	c := newSnapshotCache(func(_ context.Context, q query) (*kpi.View, error) {
		mu.Lock()
		defer mu.Unlock()
		computed[q.Filter.Key()]++
		v := engine.View(q)
		seq++
		v.Snap.Seq = seq
		return v, nil
	}, engine.Version, h.watched, time.Second, 3)
	ctx := context.Background()
	filter := func(i int) query { return query{Filter: api.Filter{Category: fmt.Sprintf("category %d", i)}} }
	get := func(q query) {
		t.Helper()
		if _, err := c.get(ctx, q, 0); err != nil {
			t.Fatal(err)
		}
	}

	watched := []query{filter(-1), filter(-2)}
	for _, q := range watched {
		h.add(&client{}, q)
		get(q)
	}
	for i := range 50 {
		get(filter(i))
		if n := len(c.entries); n > 3 {
			t.Fatalf("the cache holds %d entries, beyond its bound of 3", n)
		}
	}
	for _, q := range watched {
		get(q)
		if n := computed[q.Filter.Key()]; n != 1 {
			t.Errorf("watched filter %q computed %d times, want once", q.Filter.Category, n)
		}
	}

	// More filters watched than the bound: every one of them stays.
	for i := range 5 {
		h.add(&client{}, filter(100+i))
		get(filter(100 + i))
	}
	for i := range 20 {
		get(filter(200 + i))
	}
	for i := range 5 {
		get(filter(100 + i))
		if n := computed[filter(100+i).Filter.Key()]; n != 1 {
			t.Errorf("watched filter %d computed %d times, want once", 100+i, n)
		}
	}
	if n := len(c.entries); n != 8 {
		t.Errorf("the cache holds %d entries, want the 7 watched and the last asked", n)
	}
}

package ui

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := backoff{Base: 500 * time.Millisecond, Max: 30 * time.Second}
	ceiling := b.Base
	for i := range 40 {
		d := b.next()
		if d < ceiling/2 || d > ceiling {
			t.Fatalf("attempt %d: %v outside [%v, %v]", i, d, ceiling/2, ceiling)
		}
		ceiling = min(2*ceiling, b.Max)
	}
	if b.attempts() != 40 {
		t.Errorf("attempts %d", b.attempts())
	}
	b.reset()
	if d := b.next(); d > b.Base {
		t.Errorf("after reset: %v", d)
	}
	// Jitter: two clients do not retry in step.
	seen := map[time.Duration]bool{}
	for range 20 {
		c := backoff{Base: time.Second, Max: time.Minute}
		seen[c.next()] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct delays in 20 clients", len(seen))
	}
}

// Package poll waits in tests for something another goroutine or process brings about.
package poll

import (
	"testing"
	"time"
)

// interval is short enough for latency-minded tests and long enough to leave the CPU to the
// code under test.
const interval = 10 * time.Millisecond

// Until calls cond until it holds, and fails the test when within has passed first.
func Until(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(interval)
	}
}

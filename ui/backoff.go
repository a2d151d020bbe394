package ui

import (
	"math/rand/v2"
	"time"
)

// backoff spaces reconnection attempts: exponential, capped, with "equal jitter" (half the
// delay fixed, half random), so that a restarted server is not hit by every dashboard in the
// same millisecond, while a single dashboard still retries promptly.
type backoff struct {
	Base, Max time.Duration
	attempt   int
}

// next is the delay before the next attempt, and counts the attempt.
func (b *backoff) next() time.Duration {
	d := b.Max
	if b.attempt < 30 { // beyond that the shift overflows; Max applies long before
		if e := b.Base << b.attempt; e > 0 && e < b.Max {
			d = e
		}
	}
	b.attempt++
	half := d / 2
	return half + rand.N(half+1)
}

// reset starts over after a successful connection.
func (b *backoff) reset() { b.attempt = 0 }

// attempts is how many delays have been handed out since the last reset.
func (b *backoff) attempts() int { return b.attempt }

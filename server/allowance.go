package server

import "time"

// allowance is a token bucket over one WebSocket client's messages: burst at once, then rate
// a second. Refusals decay at the same rate; a client whose refusals pile up past
// abuseRefusals is not slowing down and is to be closed. Only the client's reader uses it.
type allowance struct {
	rate, burst      float64
	tokens, refusals float64
	last             time.Time
}

// abuseRefusals is how many recent refusals make a client abusive.
const abuseRefusals = 20

// What allowance.take decides about a message.
const (
	allowed = iota
	refused // answered with an error
	abused  // the client is closed
)

func newAllowance(rate float64, burst int) *allowance {
	return &allowance{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

func (a *allowance) take(now time.Time) int {
	if !a.last.IsZero() {
		gained := now.Sub(a.last).Seconds() * a.rate
		a.tokens = min(a.burst, a.tokens+gained)
		a.refusals = max(0, a.refusals-gained)
	}
	a.last = now
	if a.tokens >= 1 {
		a.tokens--
		return allowed
	}
	a.refusals++
	if a.refusals > abuseRefusals {
		return abused
	}
	return refused
}

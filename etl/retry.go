package etl

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// RetryBudget bounds how long one file may be tried again for failures of its own, so that
// no file holds the files queued behind it for longer. A failure is the file's own when it
// is unclassified, or transient while the file's dependencies answer (Away says they do not:
// then the file is not at fault, and the wait spends nothing). A deterministic failure ends
// at once.
type RetryBudget struct {
	Limit      time.Duration // time a file's own failures may take, tries and waits; 0 means a minute
	MinBackoff time.Duration // first wait before trying again; 0 means 200 ms
	MaxBackoff time.Duration // longest wait; 0 means 30 s
	// Away, if set, reports whether the database or the store is unreachable now.
	Away func(ctx context.Context) bool
	Log  *slog.Logger
}

// GaveUp is a file to be recorded as failed (Loader.RecordFailure): its failure was
// deterministic, or its retry budget is spent.
type GaveUp struct {
	Err   error
	Class FailureClass
	Tries int
	Held  time.Duration // time charged to the file
}

func (g *GaveUp) Error() string {
	if g.Tries <= 1 {
		return g.Err.Error()
	}
	return fmt.Sprintf("gave up after %d tries (%s of retry budget): %v", g.Tries, g.Held.Round(time.Millisecond), g.Err)
}

func (g *GaveUp) Unwrap() error { return g.Err }

// Run calls try until it settles the file. It returns try's result, or a *GaveUp once the
// file's failure is deterministic or its budget spent, or the last error when ctx ended.
func (b RetryBudget) Run(ctx context.Context, name string, try func() (Result, error)) (Result, error) {
	b = b.withDefaults()
	var held time.Duration
	tries := 0
	for wait := 0; ; wait++ {
		tries++
		began := time.Now()
		res, err := try()
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("shutdown during %s: %w", name, err)
		}
		class := ClassifyFailure(err)
		if class == FailureDeterministic {
			return Result{}, &GaveUp{Err: err, Class: class, Tries: tries, Held: held + time.Since(began)}
		}
		pause := backoff(b.MinBackoff, b.MaxBackoff, wait)
		if class == FailureTransient && b.Away != nil && b.Away(ctx) {
			b.Log.Warn("etl: a dependency is away; waiting for it", "file", name, "try", tries, "err", err)
		} else {
			held += time.Since(began)
			if held+pause > b.Limit {
				return Result{}, &GaveUp{Err: err, Class: class, Tries: tries, Held: held}
			}
			held += pause
			b.Log.Warn("etl: load failed, will try again", "file", name, "try", tries, "class", class,
				"budget_left", (b.Limit - held).Round(time.Millisecond), "err", err)
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return Result{}, fmt.Errorf("shutdown during %s: %w", name, err)
		}
	}
}

func (b RetryBudget) withDefaults() RetryBudget {
	if b.Limit <= 0 {
		b.Limit = time.Minute
	}
	if b.MinBackoff <= 0 {
		b.MinBackoff = 200 * time.Millisecond
	}
	if b.MaxBackoff <= 0 {
		b.MaxBackoff = 30 * time.Second
	}
	if b.Log == nil {
		b.Log = slog.Default()
	}
	return b
}

// backoff is the wait after the n-th failure (from 0): doubling from first up to longest,
// with jitter over its second half.
func backoff(first, longest time.Duration, n int) time.Duration {
	d := first << min(n, 20)
	if d <= 0 || d > longest {
		d = longest
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

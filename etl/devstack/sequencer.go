package devstack

import (
	"fmt"
	"sync"
	"time"
)

// sequencer hands out the s3.object.sequencer of notifications: 16
// upper-case hex digits, strictly increasing, so that they compare as
// strings the way AWS documents. They start from the clock rather than from
// zero so that they keep increasing across restarts of a file-backed stack.
type sequencer struct {
	mu   sync.Mutex
	last int64
}

func (s *sequencer) next() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := time.Now().UnixNano()
	if n <= s.last {
		n = s.last + 1
	}
	s.last = n
	return fmt.Sprintf("%016X", n)
}

package bench

import (
	"bytes"

	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"salespulse/server/api"
)

// wsClient is one benchmark connection. It reads each message's first bytes for its seq and
// discards the rest, so that thousands of them cost the machine (shared with the server)
// little.
type wsClient struct {
	conn     *websocket.Conn
	size     int // of the last snapshot
	mu       sync.Mutex
	armedSeq uint64 // a snapshot with a larger seq is the one awaited
	lastSeq  uint64
	arrived  time.Time
	got      chan struct{}
}

var dialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, NetDialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext}

// dialAll connects n clients, the i-th subscribed to filter(i) (nil: no subscription), and
// waits for each one's first snapshot of its filter.
func dialAll(t testing.TB, addr string, n int, filter func(i int) *api.Filter) []*wsClient {
	t.Helper()
	clients := make([]*wsClient, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var failed atomic.Int64
	var firstErr atomic.Value
	for i := range clients {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := dialOne(addr, filter(i))
			if err != nil {
				if failed.Add(1) == 1 {
					firstErr.Store(err)
				}
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d clients could not connect: %v", failed.Load(), n, firstErr.Load())
	}
	for _, c := range clients {
		go c.readLoop()
	}
	t.Cleanup(func() {
		for _, c := range clients {
			c.conn.Close()
		}
	})
	return clients
}

func dialOne(addr string, f *api.Filter) (*wsClient, error) {
	conn, _, err := dialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		return nil, err
	}
	c := &wsClient{conn: conn}
	seq, size, err := c.readOne() // all sales, on connect
	if err != nil {
		conn.Close()
		return nil, err
	}
	if f != nil {
		if err := conn.WriteJSON(api.Message{Type: api.TypeSubscribe, Filter: f}); err != nil {
			conn.Close()
			return nil, err
		}
		if seq, size, err = c.readOne(); err != nil {
			conn.Close()
			return nil, err
		}
	}
	c.lastSeq, c.size = seq, size
	return c, nil
}

var seqPrefix = []byte(`{"type":"snapshot","seq":`)

func (c *wsClient) readOne() (uint64, int, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	_, r, err := c.conn.NextReader()
	if err != nil {
		return 0, 0, err
	}
	head := make([]byte, 48)
	k, _ := io.ReadFull(r, head)
	rest, err := io.Copy(io.Discard, r)
	if err != nil {
		return 0, 0, err
	}
	head = head[:k]
	if !bytes.HasPrefix(head, seqPrefix) {
		return 0, 0, fmt.Errorf("not a snapshot: %q", head)
	}
	num := head[len(seqPrefix):]
	if i := bytes.IndexByte(num, ','); i > 0 {
		num = num[:i]
	}
	seq, err := strconv.ParseUint(string(num), 10, 64)
	return seq, k + int(rest), err
}

func (c *wsClient) readLoop() {
	for {
		seq, size, err := c.readOne()
		now := time.Now()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.lastSeq, c.size = seq, size
		if c.got != nil && seq > c.armedSeq {
			c.arrived = now
			close(c.got)
			c.got = nil
		}
		c.mu.Unlock()
	}
}

// arm makes the client wait for a snapshot newer than the last it read.
func (c *wsClient) arm() {
	c.mu.Lock()
	c.armedSeq, c.got = c.lastSeq, make(chan struct{})
	c.mu.Unlock()
}

// wait is when the awaited snapshot arrived; false when it did not by the deadline.
func (c *wsClient) wait(deadline time.Time) (time.Time, bool) {
	c.mu.Lock()
	got := c.got
	c.mu.Unlock()
	if got != nil {
		select {
		case <-got:
		case <-time.After(time.Until(deadline)):
			return time.Time{}, false
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.arrived, true
}

// arrivals arms the clients, runs change, and returns each client's delay from the moment
// the change's commit was heard (heard) to its new snapshot, and how many never got one
// within 30 s.
func arrivals(t testing.TB, clients []*wsClient, heard func() time.Time, change func()) ([]time.Duration, int) {
	t.Helper()
	for _, c := range clients {
		c.arm()
	}
	change()
	at := heard()
	deadline := time.Now().Add(30 * time.Second)
	var lat []time.Duration
	lost := 0
	for _, c := range clients {
		got, ok := c.wait(deadline)
		if !ok {
			lost++
			continue
		}
		lat = append(lat, max(got.Sub(at), 0))
	}
	return lat, lost
}

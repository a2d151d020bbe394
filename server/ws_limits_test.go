package server

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"net/http"
	"runtime"
	rtmetrics "runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"salespulse/internal/poll"
	"salespulse/server/api"
)

// bombFrame is a client text frame, compressed with permessage-deflate and masked as a
// client's must be (with a zero key, which leaves the payload as it is), of a subscribe
// message inflating to about 4 MB: under 4 KiB on the wire.
func bombFrame(t *testing.T) ([]byte, int) {
	t.Helper()
	msg := `{"type":"subscribe","filter":{"category":"` + strings.Repeat("a", 3_950_000) + `"}}`
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestCompression)
	fw.Write([]byte(msg))
	fw.Flush()
	payload := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff}) // as RFC 7692 sends it
	if len(payload) > 4<<10 || len(payload) >= 1<<16 {
		t.Fatalf("the bomb is %d bytes compressed", len(payload))
	}
	frame := []byte{0x80 | 0x40 | websocket.TextMessage, 0x80 | 126, 0, 0, 0, 0, 0, 0} // FIN, RSV1, masked
	binary.BigEndian.PutUint16(frame[2:], uint16(len(payload)))
	return append(frame, payload...), len(msg)
}

// heapBytes is the memory of live and not yet swept heap objects.
func heapBytes() uint64 {
	s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

func allocatedBytes() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

func TestWebSocketCompressionBombsAreBoundedOnceInflated(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	bomb, inflated := bombFrame(t)
	dialer := &websocket.Dialer{EnableCompression: true, HandshakeTimeout: 10 * time.Second}

	// One bomb: the connection is closed with 1009, the message never read whole.
	c, resp, err := dialer.Dial(wsURL(srv, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatal("compression was not negotiated: the test would prove nothing")
	}
	snapshot(t, c, 5*time.Second)
	if _, err := c.UnderlyingConn().Write(bomb); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var closeErr *websocket.CloseError
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if !errors.As(err, &closeErr) || closeErr.Code != websocket.CloseMessageTooBig {
				t.Fatalf("after a bomb of %d bytes inflating to %d: %v", len(bomb), inflated, err)
			}
			break
		}
	}
	c.Close()
	poll.Until(t, "the client to be gone", 5*time.Second, func() bool { return srv.hub.count() == 0 })

	// 200 clients, five bombs each, all at once: the server's heap stays flat.
	const clients, bombs = 200, 5
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		if conns[i], _, err = dialer.Dial(wsURL(srv, ""), nil); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
		snapshot(t, conns[i], 5*time.Second)
	}
	runtime.GC()
	baseHeap, baseAlloc := heapBytes(), allocatedBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak.Store(max(peak.Load(), heapBytes()))
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			for range bombs {
				if _, err := c.UnderlyingConn().Write(bomb); err != nil {
					return // closed by the server after the first
				}
			}
		})
	}
	wg.Wait()
	poll.Until(t, "every bombing client to be closed", 30*time.Second, func() bool { return srv.hub.count() == 0 })
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(baseHeap)
	alloc := allocatedBytes() - baseAlloc
	t.Logf("%d clients × %d bombs of %d bytes inflating to %d: heap %.1f MB before, peak %.1f MB (+%.1f MB), %.1f MB allocated",
		clients, bombs, len(bomb), inflated, float64(baseHeap)/1e6, float64(peak.Load())/1e6, float64(grew)/1e6, float64(alloc)/1e6)
	if grew > 64<<20 || alloc > 256<<20 {
		t.Errorf("the bombs cost the server %.1f MB of heap and %.1f MB of allocations; a bound of 4 KiB a message allows far less",
			float64(grew)/1e6, float64(alloc)/1e6)
	}
}

func TestWebSocketConnectionsAreCapped(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{MaxClients: 3})
	var open []*websocket.Conn
	for range 3 {
		c := dial(t, wsURL(srv, ""), nil)
		snapshot(t, c, 5*time.Second)
		open = append(open, c)
	}
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, ""), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a fourth client over a cap of 3: %v %+v", err, resp)
	}
	open[0].Close()
	poll.Until(t, "a place to free up", 5*time.Second, func() bool {
		c, _, err := websocket.DefaultDialer.Dial(wsURL(srv, ""), nil)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func TestWebSocketMessagesAreRateLimited(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{MessageRate: 1, MessageBurst: 5})
	c := dial(t, wsURL(srv, ""), nil)
	snapshot(t, c, 5*time.Second)

	// Seven at once: five answered, two refused; the connection stays.
	for range 7 {
		subscribe(t, c, api.Filter{Region: "Texas"})
	}
	snapshots, limited := 0, 0
	for range 7 {
		switch m := read(t, c, 5*time.Second); {
		case m.Type == api.TypeSnapshot:
			snapshots++
		case m.Type == api.TypeError && m.Error.Code == api.CodeRateLimited:
			limited++
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
	if snapshots != 5 || limited != 2 {
		t.Errorf("%d snapshots and %d refusals for 7 subscribes at once, want 5 and 2", snapshots, limited)
	}
	time.Sleep(1100 * time.Millisecond) // a token comes back
	subscribe(t, c, api.Filter{Region: "Ohio"})
	if s := snapshot(t, c, 5*time.Second); s.Filter.Region != "Ohio" {
		t.Errorf("after waiting: %+v", s.Filter)
	}

	// A client that keeps on regardless is closed with 1008.
	for range 60 {
		if err := c.WriteJSON(api.Message{Type: api.TypeSubscribe, Filter: &api.Filter{}}); err != nil {
			break
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var closeErr *websocket.CloseError
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if !errors.As(err, &closeErr) || closeErr.Code != websocket.ClosePolicyViolation {
				t.Errorf("an abusive client: %v, want closed with 1008", err)
			}
			break
		}
	}
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"salespulse/server/api"
)

// client is one WebSocket connection. Its reader runs in the HTTP handler's goroutine and
// its writer in one of its own, the only goroutine that writes data frames.
type client struct {
	conn       *websocket.Conn
	remote     string
	send       chan frame
	done       chan struct{} // closed by stop: the writer closes the connection
	writerDone chan struct{}
	deflate    bool // permessage-deflate was offered, so it is in use
	stopOnce   sync.Once
	closeCode  int
	closeText  string

	// Guarded by hub.mu.
	q       query
	key     string
	lastSeq uint64
	gone    bool // dropped or closed: no more frames
}

// stop asks the writer to close the connection with code and reason.
func (c *client) stop(code int, reason string) {
	c.stopOnce.Do(func() {
		c.closeCode, c.closeText = code, reason
		close(c.done)
	})
}

func (s *Server) newUpgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// Frames are written from a shared pool rather than a buffer per connection: at ten
		// thousand idle clients that is 40 MB less.
		WriteBufferPool: &sync.Pool{},
		// Snapshots are sent compressed (framed once for every client). The client may then
		// compress its messages too: readMessage bounds them once inflated.
		EnableCompression: true,
		// A browser passes the token as the subprotocols "bearer, <token>"; the server
		// answers with "bearer", as it must for the browser to accept the connection.
		Subprotocols: []string{"bearer"},
		// handleWS checks the origin itself, to answer with a JSON error.
		CheckOrigin: func(*http.Request) bool { return true },
	}
}

// handleWS is GET /ws: a snapshot on connect (all sales), then one after every change; the
// client may change its filter with {"type":"subscribe","filter":{...}}.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) error {
	if !s.originAllowed(r) {
		return forbiddenOrigin()
	}
	if !s.authorized(r, true) {
		return unauthorized()
	}
	// At most MaxClients connections: each may hold a message being read and a queue of
	// frames, so this bounds what all of them together hold.
	if n := s.wsClients.Add(1); n > int64(s.cfg.MaxClients) {
		s.wsClients.Add(-1)
		w.Header().Set("Retry-After", "10")
		return &apiError{http.StatusServiceUnavailable, api.Error{Code: api.CodeUnavailable,
			Message: fmt.Sprintf("the server has as many WebSocket clients as it takes (%d); try again later", s.cfg.MaxClients)}}
	}
	defer s.wsClients.Add(-1)
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader answered the request already
	}
	c := &client{
		conn: conn, remote: r.RemoteAddr,
		send: make(chan frame, s.cfg.SendQueue), done: make(chan struct{}), writerDone: make(chan struct{}),
		deflate: offersDeflate(r.Header),
	}
	all, _ := parseFilter(api.Filter{})
	if !s.hub.add(c, all) {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = conn.Close()
		return nil
	}
	go s.writeLoop(c)
	s.subscribe(c, all)
	s.alerts.greet(c)
	s.readLoop(c)
	c.stop(websocket.CloseNormalClosure, "")
	<-c.writerDone
	s.hub.remove(c)
	return nil
}

// offersDeflate is whether a handshake offers permessage-deflate, which the upgrader then
// accepts (EnableCompression): such clients share the snapshots compressed once.
func offersDeflate(h http.Header) bool {
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		for ext := range strings.SplitSeq(v, ",") {
			name, _, _ := strings.Cut(ext, ";")
			if strings.TrimSpace(name) == "permessage-deflate" {
				return true
			}
		}
	}
	return false
}

// readLoop reads the client's messages until the connection ends. The read deadline is
// moved on by every message and pong: a client silent for two ping intervals is gone. A
// client sending faster than its allowance is answered rate_limited, and closed (1008) if it
// keeps on; one sending a message over ReadLimit is closed (1009).
func (s *Server) readLoop(c *client) {
	c.conn.SetReadLimit(s.cfg.ReadLimit)
	wait := 2 * s.cfg.PingInterval
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(wait)) })
	allowance := newAllowance(s.cfg.MessageRate, s.cfg.MessageBurst)
	for {
		data, err := s.readMessage(c)
		if errors.Is(err, errMessageTooBig) {
			s.log.Debug("ws: message over the read limit once inflated; closing", "remote", c.remote, "limit", s.cfg.ReadLimit)
			c.stop(websocket.CloseMessageTooBig, "a message is limited to "+strconv.FormatInt(s.cfg.ReadLimit, 10)+" bytes")
			return
		}
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				s.log.Debug("ws: message over the read limit; closing", "remote", c.remote, "limit", s.cfg.ReadLimit)
			}
			return // gorilla answered a message too big with close 1009 already
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(wait))
		switch allowance.take(time.Now()) {
		case allowed:
			s.handleMessage(c, data)
		case refused:
			s.sendError(c, api.Error{Code: api.CodeRateLimited, Message: fmt.Sprintf(
				"too many messages: %d at once, then %g a second; this one was ignored", s.cfg.MessageBurst, s.cfg.MessageRate)})
		case abused:
			s.log.Info("ws: client keeps sending past its allowance; closing", "remote", c.remote)
			c.stop(websocket.ClosePolicyViolation, "too many messages")
			return
		}
	}
}

// errMessageTooBig is a client message over ReadLimit once inflated.
var errMessageTooBig = errors.New("ws: message too big")

// readMessage reads one client message of at most ReadLimit bytes as it is once inflated.
// The connection's own read limit counts the bytes on the wire, and with permessage-deflate
// a few KiB inflate to megabytes: reading stops at the limit, so no message costs more.
func (s *Server) readMessage(c *client) ([]byte, error) {
	_, r, err := c.conn.NextReader()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, s.cfg.ReadLimit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > s.cfg.ReadLimit {
		return nil, errMessageTooBig
	}
	return data, nil
}

// handleMessage acts on one client message. A bad one is answered with an error message;
// the connection stays open.
func (s *Server) handleMessage(c *client, data []byte) {
	var m api.Message
	if err := json.Unmarshal(data, &m); err != nil {
		s.sendError(c, api.Error{Code: api.CodeBadMessage, Message: "a message must be a JSON object such as {\"type\":\"subscribe\",\"filter\":{...}}"})
		return
	}
	if m.Type != api.TypeSubscribe {
		s.sendError(c, api.Error{Code: api.CodeBadMessage, Message: "unknown message type " + clipQuote(m.Type) + "; the server understands \"subscribe\""})
		return
	}
	var f api.Filter
	if m.Filter != nil {
		f = *m.Filter
	}
	q, err := parseFilter(f)
	if err != nil {
		var ae *apiError
		errors.As(err, &ae)
		s.sendError(c, ae.body)
		return
	}
	s.hub.setFilter(c, q)
	s.subscribe(c, q)
}

func clipQuote(s string) string { return `"` + clip(s) + `"` }

// subscribe sends the client the current snapshot of its filter, from the cache.
func (s *Server) subscribe(c *client, q query) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.SnapshotTimeout)
	defer cancel()
	select { // a client that connects while the sales are being read gets them when they are
	case <-s.engineReady:
	case <-ctx.Done():
	}
	e, err := s.cache.get(ctx, q, s.hub.lastSeq(c))
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Error("ws: snapshot", "err", err)
			s.sendError(c, api.Error{Code: api.CodeInternal, Message: "the snapshot could not be computed; it follows with the next change"})
		}
		return
	}
	s.hub.deliver(c, e)
}

func (s *Server) sendError(c *client, e api.Error) {
	b, _ := json.Marshal(api.Message{Type: api.TypeError, Error: &e})
	s.hub.send(c, b)
}

// writeLoop writes the client's frames and pings, each under the write deadline. A write
// that fails or times out drops the client: it is not waited for.
func (s *Server) writeLoop(c *client) {
	defer close(c.writerDone)
	defer c.conn.Close()
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case f := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			var err error
			switch {
			case f.snapshot != nil && c.deflate:
				err = c.conn.WritePreparedMessage(f.snapshot.framed())
			case f.snapshot != nil:
				// Uncompressed, gorilla writes the message as one frame straight from our
				// buffer; a prepared message would be framed into a buffer of its own first.
				err = c.conn.WriteMessage(websocket.TextMessage, f.snapshot.msg)
			default:
				// A client's own messages are small: compressing each would cost a compressor
				// (hundreds of KiB) per client answered at once.
				c.conn.EnableWriteCompression(false)
				err = c.conn.WriteMessage(websocket.TextMessage, f.raw)
				c.conn.EnableWriteCompression(true)
			}
			if err != nil {
				s.hub.drop(c, websocket.CloseAbnormalClosure, "write failed: "+err.Error())
				return
			}
			if !f.noticed.IsZero() {
				s.metrics.pushLatency.Observe(time.Since(f.noticed).Seconds())
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteTimeout)); err != nil {
				s.hub.drop(c, websocket.CloseAbnormalClosure, "ping failed: "+err.Error())
				return
			}
		case <-c.done:
			if c.closeCode != websocket.CloseAbnormalClosure { // 1006 is never sent on the wire
				_ = c.conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(c.closeCode, c.closeText), time.Now().Add(time.Second))
			}
			return
		}
	}
}

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"salespulse/internal/poll"
	"salespulse/server/api"
	"salespulse/server/kpi"
)

// wsURL is the server's WebSocket address with an optional query.
func wsURL(s *Server, query string) string {
	u := "ws://" + s.Addr().String() + "/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

func dial(t *testing.T, url string, h http.Header) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// read returns the next message, failing after d.
func read(t *testing.T, c *websocket.Conn, d time.Duration) api.Message {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m api.Message
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("not JSON: %v: %.200s", err, data)
	}
	return m
}

// snapshot reads the next message, which must be a snapshot.
func snapshot(t *testing.T, c *websocket.Conn, d time.Duration) *api.Snapshot {
	t.Helper()
	m := read(t, c, d)
	if m.Type != api.TypeSnapshot || m.Data == nil || m.Seq != m.Data.Seq || m.Seq == 0 {
		t.Fatalf("want a snapshot, got %+v", m)
	}
	return m.Data
}

func subscribe(t *testing.T, c *websocket.Conn, f api.Filter) {
	t.Helper()
	if err := c.WriteJSON(api.Message{Type: api.TypeSubscribe, Filter: &f}); err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketPushesAfterALoad(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	c := dial(t, wsURL(srv, ""), nil)
	first := snapshot(t, c, 5*time.Second)
	if first.Totals.Orders != 2663 || first.Filter != (api.Filter{}) {
		t.Fatalf("snapshot on connect: %+v", first.Totals)
	}

	dirty()
	res := loadFiles(t, generated(t, 300, 101, "2024-10-27", 0))[0]
	committed := time.Now()
	next := snapshot(t, c, time.Second) // a second after the commit at most
	if next.Seq <= first.Seq || next.Totals.Orders != 2663+res.RowsLoaded || next.LastFileID != res.FileID ||
		next.DataRange.To != "2024-10-27" {
		t.Errorf("push after load: seq %d→%d, orders %d, last file %d (want %d)", first.Seq, next.Seq,
			next.Totals.Orders, next.LastFileID, res.FileID)
	}
	t.Logf("push arrived %v after the load returned", time.Since(committed))
	// The REST answer for the same filter is the same snapshot, from the cache.
	var rest api.Snapshot
	getJSON(t, srv.URL()+"/api/kpis", &rest)
	if rest.Seq != next.Seq || rest.Totals != next.Totals {
		t.Errorf("REST after push: seq %d totals %+v; pushed seq %d", rest.Seq, rest.Totals, next.Seq)
	}
}

// A change that lies outside a view leaves its figures as they were: its watchers get them
// again without a computation, restamped with the new file, and those figures are what a
// computation would give; a view the change lies in is computed again.
func TestPushRestampsTheViewsAChangeLeavesAlone(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	past := api.Filter{From: "2024-01-01", To: "2024-03-31", Region: "Texas"}
	open := api.Filter{From: "2024-06-01"}
	cp, co := dial(t, wsURL(srv, ""), nil), dial(t, wsURL(srv, ""), nil)
	snapshot(t, cp, 5*time.Second)
	snapshot(t, co, 5*time.Second)
	subscribe(t, cp, past)
	subscribe(t, co, open)
	beforePast, beforeOpen := snapshot(t, cp, 5*time.Second), snapshot(t, co, 5*time.Second)
	restamped := snapshotsMade(t, srv, "restamped")

	dirty()
	res := loadFiles(t, generated(t, 300, 606, "2024-10-31", 0))[0]
	afterPast, afterOpen := snapshot(t, cp, 2*time.Second), snapshot(t, co, 2*time.Second)
	if n := snapshotsMade(t, srv, "restamped"); n != restamped+1 {
		t.Errorf("restamped snapshots went from %v to %v, want one more", restamped, n)
	}
	if afterPast.Seq <= beforePast.Seq || afterPast.LastFileID != res.FileID || afterPast.DataRange.To != "2024-10-31" {
		t.Errorf("restamped: seq %d (before %d), last file %d (want %d), data range %+v",
			afterPast.Seq, beforePast.Seq, afterPast.LastFileID, res.FileID, afterPast.DataRange)
	}
	if afterPast.Totals != beforePast.Totals || !reflect.DeepEqual(afterPast.TopReps, beforePast.TopReps) {
		t.Errorf("a view the file does not lie in changed: %+v, before %+v", afterPast.Totals, beforePast.Totals)
	}
	fresh := srv.engine.Snapshot(kpi.Query{Filter: past, From: kpi.DayOf(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)),
		To: kpi.DayOf(time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)), HasFrom: true, HasTo: true})
	fresh.Seq = afterPast.Seq
	if !reflect.DeepEqual(fresh, afterPast) {
		t.Errorf("the restamped snapshot is not what a computation gives:\n got %+v\nwant %+v", afterPast, fresh)
	}
	if afterOpen.Totals.Orders != beforeOpen.Totals.Orders+res.RowsLoaded || afterOpen.Window.To != "2024-10-31" {
		t.Errorf("the open view: %d orders (before %d, the file %d), window %+v",
			afterOpen.Totals.Orders, beforeOpen.Totals.Orders, res.RowsLoaded, afterOpen.Window)
	}
}

func TestWebSocketFilteredClientGetsItsFilterOnly(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	all := dial(t, wsURL(srv, ""), nil)
	tech := dial(t, wsURL(srv, ""), nil)
	snapshot(t, all, 5*time.Second)
	snapshot(t, tech, 5*time.Second)

	f := api.Filter{Category: "Technology", From: "2024-01-01", To: "2024-12-31"}
	subscribe(t, tech, f)
	got := snapshot(t, tech, 5*time.Second)
	var want api.Snapshot
	getJSON(t, srv.URL()+"/api/kpis?"+encodeFilter(f), &want)
	if got.Filter != f || got.Totals != want.Totals || len(got.ByCategory) != 1 || got.ByCategory[0].Name != "Technology" {
		t.Fatalf("filtered snapshot: filter %+v totals %+v by_category %+v; REST totals %+v", got.Filter, got.Totals, got.ByCategory, want.Totals)
	}

	dirty()
	loadFiles(t, generated(t, 500, 202, "2024-10-28", 0))
	pushedAll := snapshot(t, all, 2*time.Second)
	pushedTech := snapshot(t, tech, 2*time.Second)
	var restTech, restAll api.Snapshot
	getJSON(t, srv.URL()+"/api/kpis?"+encodeFilter(f), &restTech)
	getJSON(t, srv.URL()+"/api/kpis", &restAll)
	if pushedTech.Filter != f || pushedTech.Totals != restTech.Totals || pushedTech.Totals.Orders <= got.Totals.Orders {
		t.Errorf("filtered push: %+v, REST %+v, before %+v", pushedTech.Totals, restTech.Totals, got.Totals)
	}
	if pushedAll.Filter != (api.Filter{}) || pushedAll.Totals != restAll.Totals || pushedAll.Totals == pushedTech.Totals {
		t.Errorf("unfiltered push: %+v, REST %+v", pushedAll.Totals, restAll.Totals)
	}
}

func TestWebSocketDropsAStalledClientAndKeepsServingTheOthers(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{SendQueue: 2, WriteTimeout: 500 * time.Millisecond})
	good := dial(t, wsURL(srv, ""), nil)
	snapshot(t, good, 5*time.Second)

	// The stalled client never reads, with a tiny receive buffer: the server's writes to it
	// soon block, and its queue fills.
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
		}
		return c, err
	}}
	stalled, _, err := d.Dial(wsURL(srv, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	poll.Until(t, "two clients", 5*time.Second, func() bool { return srv.hub.count() == 2 })

	dirty()
	var last uint64
	for i := 0; srv.hub.count() == 2; i++ {
		if i == 400 {
			t.Fatal("the stalled client was never dropped")
		}
		loadFiles(t, generated(t, 5, uint64(5000+i), "2024-10-27", 0))
		// The good client gets every push, promptly, whatever the other does.
		s := snapshot(t, good, 2*time.Second)
		if s.Seq <= last {
			t.Fatalf("seq went from %d to %d", last, s.Seq)
		}
		last = s.Seq
	}
	if n := testutilCounter(t, srv, "salespulse_ws_dropped_total"); n < 1 {
		t.Errorf("dropped counter %v", n)
	}
	// The good client is still served after the drop.
	loadFiles(t, generated(t, 5, 4999, "2024-10-27", 0))
	if s := snapshot(t, good, 2*time.Second); s.Seq <= last {
		t.Errorf("after the drop: seq %d", s.Seq)
	}
}

func TestWebSocketTokenAndOrigin(t *testing.T) {
	srv := startServer(t, Config{APIToken: "s3cret", AllowedOrigins: []string{"https://dash.example.com"}})
	self := "http://" + srv.Addr().String()
	for _, c := range []struct {
		name   string
		query  string
		header http.Header
		status int // 101 for success
		proto  string
	}{
		{"no token", "", nil, 401, ""},
		{"wrong token", "token=nope", nil, 401, ""},
		{"query token", "token=s3cret", nil, 101, ""},
		{"bearer header", "", http.Header{"Authorization": {"Bearer s3cret"}}, 101, ""},
		{"subprotocol", "", http.Header{"Sec-WebSocket-Protocol": {"bearer, s3cret"}}, 101, "bearer"},
		{"wrong subprotocol token", "", http.Header{"Sec-WebSocket-Protocol": {"bearer, nope"}}, 401, ""},
		{"same origin", "token=s3cret", http.Header{"Origin": {self}}, 101, ""},
		{"allowed origin", "token=s3cret", http.Header{"Origin": {"https://dash.example.com"}}, 101, ""},
		{"foreign origin", "token=s3cret", http.Header{"Origin": {"https://evil.example.com"}}, 403, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, c.query), c.header)
			if c.status == 101 {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				defer conn.Close()
				if conn.Subprotocol() != c.proto {
					t.Errorf("subprotocol %q, want %q", conn.Subprotocol(), c.proto)
				}
				snapshot(t, conn, 5*time.Second)
				return
			}
			if err == nil {
				conn.Close()
				t.Fatal("connected")
			}
			if resp == nil || resp.StatusCode != c.status {
				t.Fatalf("response %v, want %d", resp, c.status)
			}
			var e api.ErrorResponse
			if json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error.Code == "" {
				t.Errorf("error body %+v", e)
			}
		})
	}
	// The REST API wants the token too.
	if code, e := do(t, http.MethodGet, srv.URL()+"/api/kpis"); code != 401 || e.Error.Code != api.CodeUnauthorized {
		t.Errorf("REST without token: %d %+v", code, e)
	}
	var snap api.Snapshot
	if code := getJSON(t, srv.URL()+"/api/kpis?token=s3cret", &snap); code != 200 {
		t.Errorf("REST with token: %d", code)
	}

	anyOrigin := startServer(t, Config{AllowedOrigins: []string{"*"}})
	c := dial(t, wsURL(anyOrigin, ""), http.Header{"Origin": {"https://anywhere.example"}})
	snapshot(t, c, 5*time.Second)
	sameOnly := startServer(t, Config{})
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL(sameOnly, ""), http.Header{"Origin": {"https://dash.example.com"}}); err == nil || resp.StatusCode != 403 {
		t.Errorf("default origin policy let a foreign origin in")
	}
}

func TestWebSocketBadMessages(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	c := dial(t, wsURL(srv, ""), nil)
	snapshot(t, c, 5*time.Second)

	for _, msg := range []string{`not json`, `{"type":"unsubscribe"}`, `[1,2]`} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if m := read(t, c, 5*time.Second); m.Type != api.TypeError || m.Error == nil || m.Error.Code != api.CodeBadMessage {
			t.Errorf("%s: %+v", msg, m)
		}
	}
	subscribe(t, c, api.Filter{From: "2024-02-30"})
	if m := read(t, c, 5*time.Second); m.Type != api.TypeError || m.Error.Code != api.CodeBadParameter || m.Error.Param != "from" {
		t.Errorf("bad filter: %+v", m.Error)
	}
	// The connection is still open and serves a good subscribe.
	subscribe(t, c, api.Filter{Region: "Texas"})
	if s := snapshot(t, c, 5*time.Second); s.Filter.Region != "Texas" {
		t.Errorf("after errors: %+v", s.Filter)
	}

	// A message over the read limit ends the connection with 1009.
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","filter":{"category":"`+strings.Repeat("x", 5000)+`"}}`)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var closeErr *websocket.CloseError
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if !errors.As(err, &closeErr) || closeErr.Code != websocket.CloseMessageTooBig {
				t.Errorf("after an oversized message: %v", err)
			}
			break
		}
	}
	poll.Until(t, "the client to be gone", 5*time.Second, func() bool { return srv.hub.count() == 0 })
}

func TestTwoReplicasBothPush(t *testing.T) {
	withFixtures(t)
	a := startServer(t, Config{})
	b := startServer(t, Config{})
	ca := dial(t, wsURL(a, ""), nil)
	cb := dial(t, wsURL(b, ""), nil)
	snapshot(t, ca, 5*time.Second)
	snapshot(t, cb, 5*time.Second)

	dirty()
	res := loadFiles(t, generated(t, 200, 303, "2024-10-29", 0))[0]
	for name, c := range map[string]*websocket.Conn{"a": ca, "b": cb} {
		if s := snapshot(t, c, time.Second); s.LastFileID != res.FileID {
			t.Errorf("replica %s pushed last file %d, want %d", name, s.LastFileID, res.FileID)
		}
	}
}

func TestListenerReconnectsAndResyncs(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{ListenBackoff: time.Second})
	c := dial(t, wsURL(srv, ""), nil)
	first := snapshot(t, c, 5*time.Second)

	// Cut the LISTEN connection from the database side, as a restart or a proxy would, and
	// load a file while it is away: its notification is lost.
	var n int
	if err := testDB.Pool.QueryRow(context.Background(),
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'salespulse-listen' AND datname = current_database()").Scan(&n); err != nil || n == 0 {
		t.Fatalf("terminate the listener: %d %v", n, err)
	}
	dirty()
	missed := loadFiles(t, generated(t, 50, 405, "2024-10-30", 0))[0]
	// The reconnect looks for what it missed, and pushes it.
	resync := snapshot(t, c, 5*time.Second)
	if resync.Seq <= first.Seq || resync.LastFileID != missed.FileID {
		t.Errorf("after the reconnect: seq %d (before %d), last file %d, want %d", resync.Seq, first.Seq, resync.LastFileID, missed.FileID)
	}
	poll.Until(t, "the listener to reconnect", 5*time.Second, srv.listener.connected.Load)
	res := loadFiles(t, generated(t, 100, 404, "2024-10-30", 0))[0]
	if s := snapshot(t, c, 2*time.Second); s.LastFileID != res.FileID {
		t.Errorf("after reconnect: last file %d, want %d", s.LastFileID, res.FileID)
	}
}

func TestCloseSaysGoingAway(t *testing.T) {
	s := New(Config{Pool: testDB.Pool, Addr: "127.0.0.1:0", Log: testLog()})
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, wsURL(s, ""), nil)
	snapshot(t, c, 5*time.Second)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("after Close: %v", err)
	}
}

// Clients that use permessage-deflate and clients that do not get the same messages, on
// connect and pushed after a load: the server writes the one kind plain and the other from
// a message compressed once.
func TestDeflatingAndPlainClientsGetTheSameSnapshots(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	deflating := websocket.Dialer{EnableCompression: true}
	var conns []*websocket.Conn
	for _, d := range []*websocket.Dialer{websocket.DefaultDialer, &deflating, websocket.DefaultDialer, &deflating} {
		c, resp, err := d.Dial(wsURL(srv, ""), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if got, want := resp.Header.Get("Sec-WebSocket-Extensions") != "", d.EnableCompression; got != want {
			t.Fatalf("deflate negotiated %v, offered %v", got, want)
		}
		conns = append(conns, c)
	}
	readAll := func() [][]byte {
		var out [][]byte
		for _, c := range conns {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, data)
		}
		return out
	}
	check := func(what string, msgs [][]byte) {
		t.Helper()
		var m api.Message
		if err := json.Unmarshal(msgs[0], &m); err != nil || m.Type != api.TypeSnapshot || m.Data == nil {
			t.Fatalf("%s: not a snapshot: %.200s", what, msgs[0])
		}
		for i, b := range msgs[1:] {
			if !bytes.Equal(b, msgs[0]) {
				t.Errorf("%s: client %d got %d bytes, client 0 %d bytes, and they differ", what, i+1, len(b), len(msgs[0]))
			}
		}
	}
	check("on connect", readAll())
	dirty()
	loadFiles(t, generated(t, 300, 102, "2024-10-28", 0))
	check("pushed", readAll())
}

func TestOffersDeflate(t *testing.T) {
	for h, want := range map[string]bool{
		"permessage-deflate; client_max_window_bits": true,
		"x-webkit-deflate-frame, permessage-deflate": true,
		"x-webkit-deflate-frame":                     false,
		"":                                           false,
	} {
		if got := offersDeflate(http.Header{"Sec-Websocket-Extensions": {h}}); got != want {
			t.Errorf("offersDeflate(%q) = %v, want %v", h, got, want)
		}
	}
}

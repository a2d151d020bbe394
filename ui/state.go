package ui

import (
	"time"

	"salespulse/server/api"
)

// Shared state, observed by components with ctx.ObserveState and set by the live client.
const (
	// stateShown holds a shown: the snapshot on screen.
	stateShown = "salespulse.shown"
	// stateConn holds a connState: the WebSocket's health, for the freshness badge.
	stateConn = "salespulse.conn"
	// stateDark holds a bool: whether the dark theme is on.
	stateDark = "salespulse.dark"
)

// Actions, handled by the live client on its own goroutine (see Routes).
const (
	// actionView asks for another view (value: view): the dashboard's filters changed.
	actionView = "salespulse.view"
	// actionWake makes sure the live connection runs, with whatever view it had, for pages
	// that only need to know when new data arrives (the files page).
	actionWake = "salespulse.wake"
)

// shown is the snapshot on screen and where it came from.
type shown struct {
	View     string       // key of the view it answers
	Snapshot api.Snapshot // Seq == 0 and AsOf == nil when there is nothing yet
	Cached   bool         // read from the browser's storage, not (yet) from the server
	Has      bool         // false until any snapshot is known
	Pending  bool         // the view changed and its figures have not arrived yet
	Err      string       // the server's error instead of the view's figures, for people
}

// Connection states of the live client.
const (
	connConnecting   = "connecting"
	connLive         = "live"
	connReconnecting = "reconnecting"
	connOffline      = "offline"
)

// connState is the live connection's health.
type connState struct {
	Status string
	Since  time.Time // when the connection was lost (reconnecting, offline)
	// Refused is the server's reason for refusing the connection (a missing token, say),
	// read from the API since a browser hides why a WebSocket failed to open.
	Refused string
}

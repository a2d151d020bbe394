package ui

import (
	"slices"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// Shared state, observed by components and set by the live client and the theme.
var (
	// stateShown holds the snapshot on screen.
	stateShown shared[shown]
	// stateConn holds the WebSocket's health, for the freshness badge.
	stateConn shared[connState]
	// stateDark holds whether the dark theme is on.
	stateDark shared[bool]
)

// shared is a value components follow: set from any goroutine, it reaches each observer on
// the UI goroutine, whose component is then updated. It stands in for go-app's states,
// which on every change read and decode every localStorage entry, where the browser keeps
// its snapshots: megabytes for each new figure or badge change.
type shared[T any] struct {
	mu        sync.Mutex
	value     T
	observers []*observer[T]
}

type observer[T any] struct {
	ctx      app.Context
	dst      *T
	onChange func()
}

// observe copies the value into dst now and after every change, then calls onChange (may
// be nil), until the component of ctx is dismounted. A page rendered on the server only
// takes the value: it is not kept, and the shared values are the process's.
func (s *shared[T]) observe(ctx app.Context, dst *T, onChange func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*dst = s.value
	if app.IsServer {
		return
	}
	s.observers = append(s.observers, &observer[T]{ctx: ctx, dst: dst, onChange: onChange})
}

// set changes the value and tells the observers.
func (s *shared[T]) set(v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.value = v
	s.observers = slices.DeleteFunc(s.observers, func(o *observer[T]) bool { return !o.ctx.Src().Mounted() })
	for _, o := range s.observers {
		o.ctx.Dispatch(func(app.Context) {
			if !o.ctx.Src().Mounted() {
				return
			}
			*o.dst = v
			if o.onChange != nil {
				o.onChange()
			}
		})
	}
}

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

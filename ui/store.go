package ui

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// The browser keeps the last snapshot of each recently used view, so that the dashboard
// shows figures at once on load and while offline. It keeps the server's message as it
// arrived: storing it costs no encoding, and reading it one decoding, as the socket does.
// A small index, most recent first, bounds how many views are kept: a snapshot is a few
// kilobytes to a few hundred, and localStorage holds about five million characters.
const (
	snapshotPrefix = "salespulse.snapshot?"
	snapshotIndex  = "salespulse.snapshots"
	snapshotsKept  = 8
	// paintPrefix keys a view's paint record (paint.go), kept and evicted with its snapshot.
	paintPrefix = "salespulse.paint?"
)

// loadSnapshot returns the stored snapshot of a view.
func loadSnapshot(viewKey string) (api.Snapshot, bool) {
	raw, ok := storageGet(snapshotPrefix + viewKey)
	if !ok {
		return api.Snapshot{}, false
	}
	var m api.Message
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m.Data == nil {
		storageDel(snapshotPrefix + viewKey) // written by an older version: forget it
		return api.Snapshot{}, false
	}
	return *m.Data, true
}

// saveSnapshot stores the message that carried a view's snapshot, evicting the least
// recently stored views (and their paint records) beyond snapshotsKept, and more while the
// browser's quota is full.
func saveSnapshot(viewKey, message string) {
	var index []string
	if raw, ok := storageGet(snapshotIndex); ok {
		_ = json.Unmarshal([]byte(raw), &index) // a broken index starts afresh
	}
	index = slices.DeleteFunc(index, func(k string) bool { return k == viewKey })
	index = slices.Insert(index, 0, viewKey)
	evict := func() {
		storageDel(snapshotPrefix + index[len(index)-1])
		storageDel(paintPrefix + index[len(index)-1])
		index = index[:len(index)-1]
	}
	for len(index) > snapshotsKept {
		evict()
	}
	for !storageSet(snapshotPrefix+viewKey, message) && len(index) > 1 {
		evict()
	}
	b, _ := json.Marshal(index)
	storageSet(snapshotIndex, string(b))
}

// storageGet, storageSet and storageDel use localStorage with plain strings (go-app's
// BrowserStorage encodes every value as JSON, which would encode the message again).
func storageGet(key string) (string, bool) {
	v := app.Window().Get("localStorage").Call("getItem", key)
	if v.IsNull() || v.IsUndefined() {
		return "", false
	}
	return v.String(), true
}

// storageSet reports false when the browser refuses (quota exceeded, storage disabled).
func storageSet(key, value string) (ok bool) {
	defer func() {
		if recover() != nil { // the JS exception, raised as a Go panic by the bridge
			ok = false
		}
	}()
	app.Window().Get("localStorage").Call("setItem", key, value)
	return true
}

func storageDel(key string) { app.Window().Get("localStorage").Call("removeItem", key) }

// The browser also keeps the ledger rows last read, so that the files page shows them at
// once on load and while offline, saying from when.
const (
	ledgerKey  = "salespulse.ledger"
	ledgerKept = 200 // rows: a few hundred bytes each
)

// savedLedger is the stored ledger: the newest rows read and the cursor after them.
type savedLedger struct {
	SavedAt    time.Time  `json:"saved_at"`
	Files      []api.File `json:"files"`
	NextBefore int64      `json:"next_before,omitempty"`
}

// saveLedger stores the newest rows on screen; with more than ledgerKept, the cursor points
// after the last one kept.
func saveLedger(files []api.File, nextBefore int64) {
	if len(files) > ledgerKept {
		files, nextBefore = files[:ledgerKept], files[ledgerKept-1].ID
	}
	b, err := json.Marshal(savedLedger{SavedAt: time.Now(), Files: files, NextBefore: nextBefore})
	if err == nil {
		storageSet(ledgerKey, string(b)) // a full quota loses only this copy
	}
}

// loadLedger returns the stored ledger.
func loadLedger() (savedLedger, bool) {
	raw, ok := storageGet(ledgerKey)
	if !ok {
		return savedLedger{}, false
	}
	var l savedLedger
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		storageDel(ledgerKey) // written by an older version: forget it
		return savedLedger{}, false
	}
	return l, true
}

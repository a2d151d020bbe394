package ui

import (
	"net/url"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// filesPageSize is how many ledger rows a page asks for; rejectsPageSize, rejected rows.
const (
	filesPageSize   = 50
	rejectsPageSize = 100
)

// filesPage is the page at /files: the ingestion ledger, newest first, a drill-down into
// one file (?file=ID) with its rejected rows, and uploads by drag and drop.
type filesPage struct {
	app.Compo

	files      []api.File
	nextBefore int64
	savedAt    time.Time // the rows on screen are those this browser saved then (zero: read now)
	refreshing bool      // the newest rows are being read (on a new file, in the background)
	olderBusy  bool      // an older page is being read: "Older files" waits for it
	err        string
	lastFile   int64 // last_file_id of the newest snapshot: a change means a new ledger row

	detail *fileDetail

	uploads  []upload
	uploadID int
	dragging bool
	polling  bool
	shown    shown
}

// fileDetail is the drilled-down file and the rejected rows read so far.
type fileDetail struct {
	ID        int64
	File      *api.File
	Rejects   []api.Reject
	NextAfter int64
	Loading   bool
	Err       string
}

func newFilesPage() app.Composer { return &filesPage{} }

// OnMount keeps the ledger current: a snapshot with a new last_file_id means a file was
// loaded, so the first page is read again.
func (p *filesPage) OnMount(ctx app.Context) {
	stateShown.observe(ctx, &p.shown, func() {
		if id := p.shown.Snapshot.LastFileID; id != p.lastFile && !p.shown.Cached {
			p.lastFile = id
			p.refresh(ctx)
		}
	})
	ctx.NewAction(actionWake)
}

// OnNav reads the ledger and the file in ?file=, if any. Until the server answers, or while
// it cannot be reached, the page shows the rows this browser saved last time.
func (p *filesPage) OnNav(ctx app.Context) {
	u := ctx.Page().URL()
	rememberToken(u)
	if saved, ok := loadLedger(); ok && len(p.files) == 0 && app.IsClient {
		p.files, p.nextBefore, p.savedAt = saved.Files, saved.NextBefore, saved.SavedAt
	}
	p.refresh(ctx)
	if id, err := strconv.ParseInt(u.Query().Get("file"), 10, 64); err == nil && id > 0 {
		p.open(ctx, id)
	} else {
		p.detail = nil
		p.setURL(ctx, 0)
	}
}

// refresh reads the newest rows again, as many as are on screen.
func (p *filesPage) refresh(ctx app.Context) {
	limit := max(filesPageSize, min(len(p.files), 500))
	if !p.savedAt.IsZero() {
		limit = filesPageSize // the saved rows give way to a first page
	}
	p.refreshing = true
	if app.IsServer {
		return // the pre-rendered page shows no ledger rather than an error
	}
	ctx.Async(func() {
		var page api.FilesPage
		err := getJSON(ctx, "/api/files", url.Values{"limit": {strconv.Itoa(limit)}}, &page)
		ctx.Dispatch(func(ctx app.Context) {
			p.refreshing = false
			if err != nil {
				p.err = err.Error()
				return
			}
			if !p.savedAt.IsZero() {
				p.files, p.nextBefore, p.savedAt = nil, 0, time.Time{} // the server's rows replace the saved ones
			}
			p.err = ""
			p.files, p.nextBefore = mergeNewest(p.files, p.nextBefore, page)
			p.matchUploads()
			saveLedger(p.files, p.nextBefore)
		})
	})
}

// more reads the next, older page of the ledger.
func (p *filesPage) more(ctx app.Context) {
	before := p.nextBefore
	p.olderBusy = true
	ctx.Async(func() {
		var page api.FilesPage
		q := url.Values{"limit": {strconv.Itoa(filesPageSize)}, "before": {strconv.FormatInt(before, 10)}}
		err := getJSON(ctx, "/api/files", q, &page)
		ctx.Dispatch(func(ctx app.Context) {
			p.olderBusy = false
			if err != nil {
				p.err = err.Error()
				return
			}
			p.err = ""
			p.files, p.nextBefore = mergeOlder(p.files, p.nextBefore, page)
			if p.savedAt.IsZero() {
				saveLedger(p.files, p.nextBefore)
			}
		})
	})
}

// open drills down into a file: its ledger row and its first rejected rows.
func (p *filesPage) open(ctx app.Context, id int64) {
	d := &fileDetail{ID: id, Loading: true}
	p.detail = d
	p.setURL(ctx, id)
	if app.IsServer {
		return
	}
	ctx.Async(func() {
		var f api.File
		err := getJSON(ctx, "/api/files/"+strconv.FormatInt(id, 10), nil, &f)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				d.Loading, d.Err = false, err.Error()
				return
			}
			d.File = &f
			p.moreRejects(ctx, d)
		})
	})
	ctx.Defer(func(app.Context) { app.Window().ScrollToID("file-detail") })
}

// moreRejects reads the next page of a file's rejected rows.
func (p *filesPage) moreRejects(ctx app.Context, d *fileDetail) {
	d.Loading = true
	after := d.NextAfter
	ctx.Async(func() {
		var page api.RejectsPage
		q := url.Values{"limit": {strconv.Itoa(rejectsPageSize)}}
		if after > 0 {
			q.Set("after", strconv.FormatInt(after, 10))
		}
		err := getJSON(ctx, "/api/files/"+strconv.FormatInt(d.ID, 10)+"/rejects", q, &page)
		ctx.Dispatch(func(ctx app.Context) {
			d.Loading = false
			if err != nil {
				d.Err = err.Error()
				return
			}
			d.Err = ""
			d.Rejects = append(d.Rejects, page.Rejects...)
			d.NextAfter = page.NextAfter
		})
	})
}

// closeDetail leaves the drill-down.
func (p *filesPage) closeDetail(ctx app.Context) {
	p.detail = nil
	p.setURL(ctx, 0)
}

// setURL mirrors the drilled-down file in the URL, so it can be linked to.
func (p *filesPage) setURL(ctx app.Context, id int64) {
	u := *ctx.Page().URL()
	u.RawQuery = ""
	if id > 0 {
		u.RawQuery = url.Values{"file": {strconv.FormatInt(id, 10)}}.Encode()
	}
	ctx.Page().ReplaceURL(&u)
}

// addFiles queues files dropped or picked, and starts sending them one at a time.
func (p *filesPage) addFiles(ctx app.Context, list app.Value) {
	for i := 0; i < list.Length(); i++ {
		f := list.Index(i)
		p.uploadID++
		p.uploads = append([]upload{{
			ID: p.uploadID, Name: f.Get("name").String(), Size: int64(f.Get("size").Float()),
			Phase: uploadQueued,
		}}, p.uploads...)
		id := p.uploadID
		p.sendNext(ctx, id, f)
	}
}

// sendNext sends one queued file, after those before it.
func (p *filesPage) sendNext(ctx app.Context, id int, file app.Value) {
	u := p.upload(id)
	if u == nil {
		return
	}
	for _, other := range p.uploads {
		if other.Phase == uploadSending {
			ctx.After(200*time.Millisecond, func(ctx app.Context) { p.sendNext(ctx, id, file) })
			return
		}
	}
	u.Phase = uploadSending
	sendFile(file,
		func(sent, total float64) {
			ctx.Dispatch(func(app.Context) {
				if u := p.upload(id); u != nil {
					u.Sent, u.Total = sent, total
				}
			})
		},
		func(stored api.Upload, err error) {
			ctx.Dispatch(func(ctx app.Context) {
				u := p.upload(id)
				if u == nil {
					return
				}
				if err != nil {
					u.Phase, u.Message = uploadRefused, err.Error()
					return
				}
				u.Phase, u.Stored, u.Sent = uploadStored, stored, u.Total
				p.matchUploads()
				p.poll(ctx)
			})
		})
}

// poll reads the ledger every two seconds while an upload waits for the loader. The live
// snapshot usually announces the load first; polling covers a file that fails whole (it
// changes no figures) and a dashboard that has no live connection.
func (p *filesPage) poll(ctx app.Context) {
	if p.polling {
		return
	}
	p.polling = true
	ctx.After(2*time.Second, func(ctx app.Context) {
		p.polling = false
		waiting := false
		for _, u := range p.uploads {
			waiting = waiting || u.Phase == uploadStored
		}
		if waiting {
			p.refresh(ctx)
			p.poll(ctx)
		}
	})
}

// matchUploads finds the ledger rows of stored uploads.
func (p *filesPage) matchUploads() {
	for i := range p.uploads {
		u := &p.uploads[i]
		if u.Phase != uploadStored {
			continue
		}
		for j := range p.files {
			if f := p.files[j]; f.Key == u.Stored.Key && (f.Bucket == "" || f.Bucket == u.Stored.Bucket) {
				u.Phase, u.File = uploadLoaded, &f
				break
			}
		}
	}
}

func (p *filesPage) upload(id int) *upload {
	for i := range p.uploads {
		if p.uploads[i].ID == id {
			return &p.uploads[i]
		}
	}
	return nil
}

package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"salespulse/server/api"
)

func TestFilesArePagedNewestFirst(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	var ids []int64
	before := int64(0)
	for pages := 0; ; pages++ {
		var page api.FilesPage
		u := fmt.Sprintf("%s/api/files?limit=10&before=%d", srv.URL(), before)
		if code := getJSON(t, u, &page); code != 200 {
			t.Fatalf("%s: %d", u, code)
		}
		for _, f := range page.Files {
			ids = append(ids, f.ID)
			if f.Status != "loaded" || f.Key == "" || f.SHA256 == "" || f.RowsTotal != f.RowsLoaded+f.RowsRejected+f.RowsDuplicate ||
				f.UnknownColumns == nil || f.FinishedAt.IsZero() {
				t.Errorf("file %+v", f)
			}
			if f.NumberFormat != "1234.56" || f.DateFormat != "YYYY-MM-DD" { // as decided from the file's values
				t.Errorf("file %d: formats %q, %q", f.ID, f.NumberFormat, f.DateFormat)
			}
		}
		if page.NextBefore == 0 {
			if len(page.Files) > 10 || pages != 3 {
				t.Errorf("last page %d has %d files", pages, len(page.Files))
			}
			break
		}
		if len(page.Files) != 10 || page.NextBefore != page.Files[9].ID {
			t.Fatalf("page of %d, next_before %d", len(page.Files), page.NextBefore)
		}
		before = page.NextBefore
	}
	if len(ids) != 38 {
		t.Fatalf("%d files listed, want 38", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("not newest first: %v", ids)
		}
	}
	var def api.FilesPage
	getJSON(t, srv.URL()+"/api/files", &def)
	if len(def.Files) != 38 || def.NextBefore != 0 {
		t.Errorf("default page: %d files, next %d", len(def.Files), def.NextBefore)
	}
	var one api.File
	if code := getJSON(t, fmt.Sprintf("%s/api/files/%d", srv.URL(), ids[5]), &one); code != 200 || one.ID != ids[5] {
		t.Errorf("one file: %d %+v", code, one)
	}
	for _, q := range []string{"limit=0", "limit=x", "before=-1", "limit=1&limit=2"} {
		var e api.ErrorResponse
		if code := getJSON(t, srv.URL()+"/api/files?"+q, &e); code != 400 || e.Error.Param == "" {
			t.Errorf("%s: %d %+v", q, code, e)
		}
	}
}

func TestRejectsArePagedByLine(t *testing.T) {
	testDB.Reset(t)
	dirty()
	res := loadFiles(t, generated(t, 400, 77, "2024-11-02", 0.1))[0]
	if res.RowsRejected < 20 {
		t.Fatalf("want a file with rejected rows: %+v", res)
	}
	srv := startServer(t, Config{})
	var lines []int64
	after := int64(0)
	for {
		var page api.RejectsPage
		u := fmt.Sprintf("%s/api/files/%d/rejects?limit=7&after=%d", srv.URL(), res.FileID, after)
		if code := getJSON(t, u, &page); code != 200 || page.FileID != res.FileID {
			t.Fatalf("%s: %d %+v", u, code, page)
		}
		for _, r := range page.Rejects {
			lines = append(lines, r.Line)
			if r.Reason == "" || r.Raw == "" || r.Line < 2 {
				t.Errorf("reject %+v", r)
			}
		}
		if page.NextAfter == 0 {
			break
		}
		if len(page.Rejects) != 7 || page.NextAfter != page.Rejects[6].Line {
			t.Fatalf("page of %d, next_after %d", len(page.Rejects), page.NextAfter)
		}
		after = page.NextAfter
	}
	if int64(len(lines)) != res.RowsRejected {
		t.Errorf("%d rejects listed, the ledger says %d", len(lines), res.RowsRejected)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] <= lines[i-1] {
			t.Fatalf("not by line: %v", lines)
		}
	}
	if code, e := do(t, http.MethodGet, srv.URL()+"/api/files/424242/rejects"); code != 404 || e.Error.Code != api.CodeNotFound {
		t.Errorf("rejects of a missing file: %d %+v", code, e)
	}
	if code, e := do(t, http.MethodGet, srv.URL()+"/api/files/1/rejects?after=x"); code != 400 || !strings.Contains(e.Error.Param, "after") {
		t.Errorf("bad after: %d %+v", code, e)
	}
}

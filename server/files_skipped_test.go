package server

import (
	"fmt"
	"strings"
	"testing"

	"salespulse/etl"
	"salespulse/server/api"
)

func TestSkippedAttemptsAreListedAndCounted(t *testing.T) {
	testDB.Reset(t)
	dirty()
	srv := startServer(t, Config{})
	path := generated(t, 100, 611, "2024-11-02", 0)
	first := loadFiles(t, path)[0]
	again := loadFiles(t, path, path)
	for _, r := range again {
		if r.Status != etl.StatusSkipped || r.Repeats != first.FileID {
			t.Fatalf("a second load: %+v", r)
		}
	}
	var page api.FilesPage
	if code := getJSON(t, srv.URL()+"/api/files", &page); code != 200 || len(page.Files) != 3 {
		t.Fatalf("/api/files: %d, %d files", code, len(page.Files))
	}
	for i, f := range page.Files[:2] {
		if f.Status != etl.StatusSkipped || f.RepeatsFileID != first.FileID || f.ID != again[1-i].FileID ||
			f.Key != path || f.RowsTotal != 0 || f.RowsLoaded != 0 {
			t.Errorf("skipped attempt %d: %+v", i, f)
		}
	}
	if f := page.Files[2]; f.Status != etl.StatusLoaded || f.RepeatsFileID != 0 {
		t.Errorf("the loaded file: %+v", f)
	}
	var one api.File
	if code := getJSON(t, fmt.Sprintf("%s/api/files/%d", srv.URL(), again[0].FileID), &one); code != 200 || one.RepeatsFileID != first.FileID {
		t.Errorf("/api/files/%d: %d %+v", again[0].FileID, code, one)
	}
	body := scrape(t, srv)
	for _, want := range []string{
		`salespulse_files{status="skipped"} 2`,
		`salespulse_files{status="loaded"} 1`,
		`salespulse_files{status="failed"} 0`,
		`salespulse_rows{outcome="loaded",status="skipped"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

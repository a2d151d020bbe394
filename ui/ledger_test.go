package ui

import (
	"slices"
	"testing"

	"salespulse/server/api"
)

// ledgerPage is what GET /api/files answers for ids hi down to lo, limit rows a page.
func ledgerPage(hi, lo int64, limit int, version string) api.FilesPage {
	var p api.FilesPage
	for id := hi; id >= lo && len(p.Files) < limit; id-- {
		p.Files = append(p.Files, api.File{ID: id, Key: version})
	}
	if last := p.Files[len(p.Files)-1].ID; len(p.Files) == limit && last > lo {
		p.NextBefore = last
	}
	return p
}

func ids(files []api.File) []int64 {
	out := make([]int64, len(files))
	for i, f := range files {
		out[i] = f.ID
	}
	return out
}

func span(hi, lo int64) []int64 {
	var out []int64
	for id := hi; id >= lo; id-- {
		out = append(out, id)
	}
	return out
}

// A refresh (a new file) and "Older files" may answer in either order: the screen ends
// with every row once, newest first, and the right cursor.
func TestLedgerMergesAnswersInAnyOrder(t *testing.T) {
	first := ledgerPage(100, 1, 50, "old") // 100..51, cursor 51
	older := ledgerPage(50, 1, 50, "old")  // 50..1, the end
	newer := ledgerPage(101, 1, 50, "new") // a new file arrived: 101..52

	files, cursor := mergeNewest(nil, 0, first)
	if !slices.Equal(ids(files), span(100, 51)) || cursor != 51 {
		t.Fatalf("first page %v cursor %d", ids(files), cursor)
	}

	// Older files first, then the refresh.
	a, ca := mergeOlder(files, cursor, older)
	a, ca = mergeNewest(a, ca, newer)
	// The refresh first, then older files.
	b, cb := mergeNewest(files, cursor, newer)
	b, cb = mergeOlder(b, cb, older)
	for name, got := range map[string][]api.File{"older then refresh": a, "refresh then older": b} {
		if !slices.Equal(ids(got), span(101, 1)) {
			t.Errorf("%s: ids %v, want 101..1", name, ids(got))
		}
		if got[1].Key != "new" {
			t.Errorf("%s: row 100 is the %s copy, want the refresh's", name, got[1].Key)
		}
	}
	if ca != 0 || cb != 0 {
		t.Errorf("cursors %d, %d after the oldest row came: want 0", ca, cb)
	}

	// A late answer to an earlier click does not move the cursor back.
	if _, c := mergeOlder(a, 0, older); c != 0 {
		t.Errorf("cursor %d after a repeated answer, want 0", c)
	}
	mid, c := mergeOlder(files, cursor, ledgerPage(50, 1, 20, "old")) // 50..31, cursor 31
	if _, c2 := mergeOlder(mid, c, ledgerPage(50, 1, 10, "old")); c != 31 || c2 != 31 {
		t.Errorf("cursors %d then %d, want 31 and 31", c, c2)
	}

	// A refresh that holds the whole ledger replaces it.
	if got, c := mergeNewest(a, 0, ledgerPage(3, 1, 50, "all")); !slices.Equal(ids(got), span(3, 1)) || c != 0 {
		t.Errorf("whole ledger: %v cursor %d", ids(got), c)
	}
}

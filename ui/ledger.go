package ui

import (
	"cmp"
	"slices"

	"salespulse/server/api"
)

// The ledger on screen is rows by id, newest first, and the cursor of the next older page
// (0: the oldest row is on screen). Reads of the newest page (on each new file) and of
// older pages ("Older files") may come back in any order, so each merges into what is on
// screen rather than replacing it: none may drop rows another added.

// mergeNewest folds in a read of the newest rows: they replace their older copies; rows on
// screen that are older than the page stay, and so does the cursor past them.
func mergeNewest(have []api.File, cursor int64, page api.FilesPage) ([]api.File, int64) {
	if page.NextBefore == 0 || len(page.Files) == 0 {
		return page.Files, 0 // the whole ledger
	}
	last := page.Files[len(page.Files)-1].ID
	older := slices.DeleteFunc(slices.Clone(have), func(f api.File) bool { return f.ID >= last })
	if len(older) == 0 {
		return page.Files, page.NextBefore
	}
	return append(slices.Clone(page.Files), older...), cursor
}

// mergeOlder folds in a page read below the cursor; the cursor only moves on (a late
// answer to an earlier click cannot move it back).
func mergeOlder(have []api.File, cursor int64, page api.FilesPage) ([]api.File, int64) {
	byID := make(map[int64]api.File, len(have)+len(page.Files))
	for _, f := range have {
		byID[f.ID] = f
	}
	for _, f := range page.Files {
		if _, ok := byID[f.ID]; !ok { // a copy on screen came from a newer read
			byID[f.ID] = f
		}
	}
	all := make([]api.File, 0, len(byID))
	for _, f := range byID {
		all = append(all, f)
	}
	slices.SortFunc(all, func(a, b api.File) int { return cmp.Compare(b.ID, a.ID) })
	if cursor == 0 || page.NextBefore == 0 {
		return all, 0
	}
	return all, min(cursor, page.NextBefore)
}

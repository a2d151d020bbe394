package server

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/queries/db"
	"salespulse/server/api"
)

// Page sizes of the ledger endpoints.
const (
	defaultPage = 50
	maxPage     = 500
)

// handleFiles is GET /api/files?limit=N&before=ID: the ledger, newest first.
func (s *Server) handleFiles(w http.ResponseWriter, r *http.Request) error {
	limit, err := intParam(r, "limit", defaultPage, 1, maxPage)
	if err != nil {
		return err
	}
	before, err := intParam(r, "before", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	// One more than asked tells whether a next page exists.
	rows, err := db.New(s.pool).ListFiles(r.Context(), db.ListFilesParams{Before: before, Lim: int32(limit + 1)})
	if err != nil {
		return err
	}
	page := api.FilesPage{Files: make([]api.File, 0, min(len(rows), int(limit)))}
	for i, row := range rows {
		if i == int(limit) {
			page.NextBefore = page.Files[len(page.Files)-1].ID
			break
		}
		page.Files = append(page.Files, fileOf(row))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// handleFile is GET /api/files/{id}.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	row, err := db.New(s.pool).GetFile(r.Context(), id)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("no file %d in the ledger", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fileOf(row))
	return nil
}

// handleRejects is GET /api/files/{id}/rejects?limit=N&after=LINE: a file's rejected rows
// by line number.
func (s *Server) handleRejects(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", defaultPage, 1, maxPage)
	if err != nil {
		return err
	}
	after, err := intParam(r, "after", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	q := db.New(s.pool)
	if _, err := q.GetFile(r.Context(), id); errors.Is(err, pgx.ErrNoRows) {
		return notFound("no file %d in the ledger", id)
	} else if err != nil {
		return err
	}
	rows, err := q.ListRejects(r.Context(), db.ListRejectsParams{FileID: id, After: after, Lim: int32(limit + 1)})
	if err != nil {
		return err
	}
	page := api.RejectsPage{FileID: id, Rejects: make([]api.Reject, 0, min(len(rows), int(limit)))}
	for i, row := range rows {
		if i == int(limit) {
			page.NextAfter = page.Rejects[len(page.Rejects)-1].Line
			break
		}
		page.Rejects = append(page.Rejects, api.Reject{Line: row.Line, Column: row.ColumnName, Reason: row.Reason, Raw: row.RawLine})
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, badParam("id", "the file id must be a positive whole number, not %q", clip(r.PathValue("id")))
	}
	return id, nil
}

// intParam reads an optional whole-number query parameter within [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int64) (int64, error) {
	vals := r.URL.Query()[name]
	switch {
	case len(vals) == 0 || vals[0] == "":
		return def, nil
	case len(vals) > 1:
		return 0, badParam(name, "%s is given %d times", name, len(vals))
	}
	v, err := strconv.ParseInt(vals[0], 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, badParam(name, "%s must be a whole number from %d to %d, not %q", name, lo, hi, clip(vals[0]))
	}
	return v, nil
}

func fileOf(f db.IngestedFile) api.File {
	out := api.File{
		ID: f.ID, Source: f.Source, Bucket: f.Bucket, Key: f.ObjectKey, ETag: f.Etag,
		SizeBytes: f.SizeBytes, Status: f.Status, LoadPath: f.LoadPath,
		RowsTotal: f.RowsTotal, RowsLoaded: f.RowsLoaded, RowsRejected: f.RowsRejected, RowsDuplicate: f.RowsDuplicate,
		HeaderShape: f.HeaderShape, Encoding: f.Encoding, Delimiter: f.Delimiter,
		NumberFormat: f.NumberFormat, DateFormat: f.DateFormat,
		UnknownColumns: f.UnknownColumns, Error: f.Error, RepeatsFileID: f.RepeatsFileID.Int64,
		EventTime: timePtr(f.EventTime), StartedAt: f.StartedAt.Time.UTC(), FinishedAt: f.FinishedAt.Time.UTC(),
	}
	if len(f.ContentSha256) > 0 {
		out.SHA256 = hex.EncodeToString(f.ContentSha256)
	}
	if out.UnknownColumns == nil {
		out.UnknownColumns = []string{}
	}
	return out
}

func timePtr(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

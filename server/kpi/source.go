package kpi

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/queries"
	"salespulse/queries/db"
)

// deltaRows bounds the sales one delta holds while the table is read at start, so that
// memory stays flat: the engine's state, plus one delta (a variable for the tests).
var deltaRows = 1 << 20

// Load fills an empty engine with every loaded file's sales, read in one REPEATABLE READ
// transaction: the ledger and the sales as of one moment. Files that commit later are added
// with LoadFile, in any order (LISTEN before calling Load, so that none is missed).
func (e *Engine) Load(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("kpi: load: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return e.LoadTx(ctx, tx)
}

// LoadTx is Load within a transaction of the caller's, which should be REPEATABLE READ for
// the ledger and the sales to agree.
func (e *Engine) LoadTx(ctx context.Context, tx pgx.Tx) error {
	files, err := engineFiles(ctx, tx)
	if err != nil {
		return fmt.Errorf("kpi: load: %w", err)
	}
	return e.load(ctx, tx, files, "")
}

func engineFiles(ctx context.Context, tx pgx.Tx) ([]File, error) {
	rows, err := db.New(tx).EngineFiles(ctx)
	if err != nil {
		return nil, err
	}
	files := make([]File, 0, len(rows))
	for _, r := range rows {
		files = append(files, File{ID: r.ID, Key: r.ObjectKey, FinishedAt: r.FinishedAt.Time})
	}
	return files, nil
}

// load reads the sales the clause selects (all of them: where is for the tests) and then
// marks the files held. Sales are decoded as they stream into deltas that a second
// goroutine applies; two sets of buffers go round between them, so that memory stays flat.
// When the read fails, the engine is left empty.
func (e *Engine) load(ctx context.Context, tx pgx.Tx, files []File, where string) error {
	free := make(chan *Delta, 2)
	for range 2 {
		free <- &Delta{rows: make([]row, 0, deltaRows), spare: make([]row, 0, deltaRows), days: map[Day]bool{}}
	}
	full := make(chan *Delta)
	applied := make(chan struct{})
	go func() {
		defer close(applied)
		for d := range full {
			e.Apply(d)
			d.reuse()
			free <- d
		}
	}()
	d, n := <-free, e.names()
	err := copySales(ctx, tx, where, func(s *rawSale) {
		n.add(d, s)
		if d.Len() >= deltaRows {
			full <- d
			d = <-free
		}
	})
	if err == nil {
		d.files = files // the ledger's files are held once every sale is
		full <- d
	}
	close(full)
	<-applied
	if err != nil {
		e.clear() // the sales read so far belong to no file held: a new attempt starts empty
		return fmt.Errorf("kpi: load: %w", err)
	}
	return nil
}

// LoadFile adds the sales of one committed file, unless the engine holds them already or
// the file did not load (a failed or skipped attempt brings no sales). It returns the
// cells it changed.
func (e *Engine) LoadFile(ctx context.Context, pool *pgxpool.Pool, id int64) (Footprint, error) {
	if e.Has(id) {
		return Footprint{}, nil
	}
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Footprint{}, fmt.Errorf("kpi: file %d: %w", id, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	f, err := db.New(tx).EngineFile(ctx, id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Footprint{}, nil // announced by someone else on our channel, or not ours to count
	case err != nil:
		return Footprint{}, fmt.Errorf("kpi: file %d: %w", id, err)
	case f.Status != "loaded":
		return Footprint{}, nil
	}
	d, n := e.NewDelta(File{ID: f.ID, Key: f.ObjectKey, FinishedAt: f.FinishedAt.Time}), e.names()
	var read int64
	add := func(s *rawSale) { n.add(d, s); read++ }
	for _, where := range fileSales(f) {
		if err := copySales(ctx, tx, where, add); err != nil {
			return Footprint{}, fmt.Errorf("kpi: file %d: %w", id, err)
		}
		if read >= f.RowsLoaded {
			break
		}
	}
	// Past both clauses every sale that names the file was read. A ledger whose count
	// disagrees (only an edit by hand does that) is for verify to report, not a reason to
	// stop taking files.
	return e.Apply(d), nil
}

// fileSales are the clauses that select a file's sales, to be read in turn until they
// brought as many as the file loaded: first the heap blocks the load wrote to (a TID range
// scan of just those pages), then the rest of the table for sales that went into room freed
// earlier (through the BRIN index on file_id). A file loaded before the blocks were recorded
// has only the second.
func fileSales(f db.EngineFileRow) []string {
	id := strconv.FormatInt(f.ID, 10)
	if !f.SalesFromBlock.Valid || !f.SalesEndBlock.Valid {
		return []string{" WHERE file_id = " + id}
	}
	blocks := fmt.Sprintf("ctid >= '(%d,0)'::tid AND ctid < '(%d,0)'::tid", f.SalesFromBlock.Int64, f.SalesEndBlock.Int64)
	return []string{" WHERE " + blocks + " AND file_id = " + id, " WHERE file_id = " + id + " AND NOT (" + blocks + ")"}
}

// Sync adds every loaded file the engine does not hold yet: after notifications were
// missed (the LISTEN connection was lost). It returns the cells it changed.
func (e *Engine) Sync(ctx context.Context, pool *pgxpool.Pool) (Footprint, error) {
	var fp Footprint
	rows, err := db.New(pool).EngineFiles(ctx)
	if err != nil {
		return fp, fmt.Errorf("kpi: sync: %w", err)
	}
	for _, r := range rows {
		if e.Has(r.ID) {
			continue
		}
		added, err := e.LoadFile(ctx, pool, r.ID)
		if err != nil {
			return fp, err
		}
		fp.Merge(added)
	}
	return fp, nil
}

// rawSale is a sale as the COPY stream has it; its byte slices are valid until the next row.
type rawSale struct {
	day                                     Day
	category, region, channel, product, rep []byte
	status                                  Status
	quantity, sales, profit                 int64
}

// copySales streams queries.EngineSales (with the clause given) in the binary COPY format
// and hands each sale to each, as its message arrives.
func copySales(ctx context.Context, tx pgx.Tx, where string, each func(*rawSale)) error {
	w := &salesWriter{each: each}
	if _, err := tx.Conn().PgConn().CopyTo(ctx, w, "COPY ("+queries.EngineSales+where+") TO STDOUT (FORMAT binary)"); err != nil {
		return err
	}
	return w.finish()
}

package etl

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/queries"
	"salespulse/queries/db"
)

// Outcomes of a load.
const (
	StatusLoaded  = "loaded"
	StatusSkipped = "skipped" // these exact bytes, or this object version, were settled before
	StatusFailed  = "failed"  // the file as a whole was refused; nothing of it was loaded
)

// Ways a file reaches sales.
const (
	pathCopy  = "copy"  // every id new: COPY straight into sales
	pathMerge = "merge" // some ids known: COPY into staging, INSERT ... ON CONFLICT DO NOTHING
)

// Result is what became of one file. It is also the line `salespulse load --json` prints.
type Result struct {
	File          string  `json:"file"`
	FileID        int64   `json:"file_id,omitempty"`
	Status        string  `json:"status"`
	RowsTotal     int64   `json:"rows_total"`
	RowsLoaded    int64   `json:"rows_loaded"`
	RowsRejected  int64   `json:"rows_rejected"`
	RowsDuplicate int64   `json:"rows_duplicate"`
	Seconds       float64 `json:"seconds"`
	Error         string  `json:"error,omitempty"`
	Path          string  `json:"path,omitempty"`
	Compression   string  `json:"compression,omitempty"` // gzip or zstd, when the file was compressed
	// Repeats is, for a skipped attempt, the earlier file it repeats.
	Repeats int64 `json:"repeats_file_id,omitempty"`

	hash   []byte // SHA-256 of the bytes read
	phases phases
}

// phases times the parts of a load, for the log.
type phases struct{ read, merge, commit time.Duration }

func (p *phases) since(d *time.Duration, t time.Time) time.Time {
	now := time.Now()
	*d += now.Sub(t)
	return now
}

func (r Result) contentHash() []byte { return r.hash }

// Loader loads files into PostgreSQL, each in one transaction: the rows (COPY), the merge of
// new sale ids, the ledger row and a NOTIFY, committed together. The KPI servers then read
// the file's sales by its ledger id.
type Loader struct {
	Pool           *pgxpool.Pool
	MaxRejectRatio float64       // share of rejected rows above which the whole file fails
	Timeout        time.Duration // longest one file may take; 0 means no limit
	// RetryFailed loads an object version again although it failed before (an operator's
	// `load`); the worker leaves it settled, so a replayed topic changes nothing.
	RetryFailed bool
	Log         *slog.Logger
	BatchRows   int // rows per COPY batch; 0 means a sensible default
	// DryRun, if set, is an open transaction every load runs inside, each in a savepoint,
	// instead of committing its own: the loads see each other's effects and the caller rolls
	// them all back (nothing is changed, nothing notified). Loads must then run one at a time.
	DryRun pgx.Tx
}

// Conn is where the loader reads the ledger: the dry run's transaction, if any.
func (l *Loader) Conn() db.DBTX {
	if l.DryRun != nil {
		return l.DryRun
	}
	return l.Pool
}

// beginTx opens a load's transaction: its own, or a savepoint of the dry run's.
func (l *Loader) beginTx(ctx context.Context) (pgx.Tx, error) {
	if l.DryRun != nil {
		return l.DryRun.Begin(ctx)
	}
	return l.Pool.Begin(ctx)
}

// repeatedIDs reports the failure of a COPY straight into sales over a sale id it already
// holds (or one the file repeats): the file then goes the merge path.
func repeatedIDs(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "sales_pkey"
}

// Failures of a load that trying again may or may not cure (see ClassifyFailure).
var (
	errTooSlow     = errors.New("the load took longer than LOAD_TIMEOUT")
	errFileChanged = errors.New("the file changed while it was being loaded")
)

// ratioError ends an attempt whose file has too many bad rows.
type ratioError struct{ total, rejected int64 }

func (e *ratioError) Error() string { return "too many rejected rows" }

// Load loads one file. Bad content is not an error: it ends as a rejected row, a duplicate or
// a failed file in the Result. An error means the load could not be carried out (database,
// storage or context) and nothing of it was committed; trying again later is safe, and
// ClassifyFailure says whether it is worth it (RecordFailure settles the file otherwise).
// progress, if set, is called with the number of bytes read so far.
func (l *Loader) Load(ctx context.Context, src Source, progress func(int64)) (Result, error) {
	start := time.Now()
	parent := ctx
	if l.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Timeout)
		defer cancel()
	}
	res, err := l.load(ctx, src, progress, start)
	if err != nil && parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("load: %w (%v)", errTooSlow, l.Timeout)
	}
	res.File = src.Info().Name()
	res.Seconds = time.Since(start).Seconds()
	if err == nil {
		l.logger().Debug("load: done", "file", res.File, "status", res.Status, "path", res.Path,
			"rows", res.RowsTotal, "seconds", res.Seconds, "read_copy", res.phases.read,
			"merge", res.phases.merge, "commit", res.phases.commit)
	}
	return res, err
}

func (l *Loader) load(ctx context.Context, src Source, progress func(int64), start time.Time) (Result, error) {
	if res, seen, err := l.seenEvent(ctx, src); seen || err != nil {
		return res, err
	}
	if info := src.Info().stored(); info.Kind == "s3" && info.ETag != "" {
		prev, err := db.New(l.Conn()).FindSettledObject(ctx, db.FindSettledObjectParams{
			Bucket: info.Bucket, ObjectKey: info.Key, Etag: info.ETag})
		switch {
		case err == nil && (prev.Status == StatusLoaded || !l.RetryFailed):
			return l.skip(ctx, src, start, prev.ID, nil)
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return Result{}, fmt.Errorf("load: find earlier load: %w", err)
		}
	}
	var known []byte
	if h, ok := src.(contentHasher); ok {
		var err error
		if known, err = h.Hash(ctx); err != nil {
			return Result{}, fmt.Errorf("load: hash: %w", err)
		}
		if res, done, err := l.skipIfLoaded(ctx, src, start, known); done || err != nil {
			return res, err
		}
	}
	path := pathCopy
	for try := 1; ; try++ {
		res, err := l.attempt(ctx, src, known, path, progress, start)
		var ratio *ratioError
		var pgErr *pgconn.PgError
		switch {
		case repeatedIDs(err) && path == pathCopy:
			path = pathMerge
			continue
		case errors.As(err, &ratio):
			return l.refuse(ctx, src, known, start, ratio)
		case errors.As(err, &pgErr) && pgErr.ConstraintName == "ingested_files_loaded_content":
			// The same bytes committed under another name while this load ran.
			sum := known
			if sum == nil {
				sum = res.contentHash()
			}
			if res, done, err := l.skipIfLoaded(ctx, src, start, sum); done || err != nil {
				return res, err
			}
		case errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") && try < 5:
			// Deadlock with a concurrent load over shared sale ids: one of the two gives way.
			l.logger().Info("load: retrying after a deadlock", "file", src.Info().Name(), "try", try)
			select {
			case <-time.After(time.Duration(rand.IntN(100*try)) * time.Millisecond):
			case <-ctx.Done():
				return Result{}, ctx.Err()
			}
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("load: %w", err)
		}
		return res, nil
	}
}

// skipIfLoaded settles the attempt as skipped when a file of these bytes is loaded already.
func (l *Loader) skipIfLoaded(ctx context.Context, src Source, start time.Time, sum []byte) (Result, bool, error) {
	prev, err := db.New(l.Conn()).FindLoadedByContent(ctx, sum)
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("load: find earlier load: %w", err)
	}
	res, err := l.skip(ctx, src, start, prev.ID, sum)
	return res, true, err
}

// seenEvent finds the ledger row that the event announcing src produced before, if any:
// the event is seen again (redelivered after a crash between commit and offset commit,
// replayed, or sent twice by the store) and the attempt it stands for is recorded already.
func (l *Loader) seenEvent(ctx context.Context, src Source) (Result, bool, error) {
	info := src.Info().stored()
	if info.Event == "" {
		return Result{}, false, nil
	}
	prev, err := db.New(l.Conn()).FindEventAttempt(ctx, db.FindEventAttemptParams{
		Bucket: info.Bucket, ObjectKey: info.Key, EventRef: info.Event})
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("load: find the event's earlier attempt: %w", err)
	}
	return Result{FileID: prev.ID, Status: StatusSkipped, Repeats: prev.RepeatsFileID.Int64}, true, nil
}

// skip records an attempt that loads nothing because file repeats settled the same bytes or
// object version: a ledger row of its own, status skipped, naming that file.
func (l *Loader) skip(ctx context.Context, src Source, start time.Time, repeats int64, sum []byte) (Result, error) {
	if res, seen, err := l.seenEvent(ctx, src); seen || err != nil {
		return res, err // a concurrent redelivery of the same event settled it meanwhile
	}
	info := src.Info().stored()
	id, err := db.New(l.Conn()).InsertSkippedFile(ctx, db.InsertSkippedFileParams{
		Source: info.Kind, Bucket: info.Bucket, ObjectKey: info.Key, Etag: info.ETag,
		ContentSha256: sum, SizeBytes: info.Size, RepeatsFileID: pgtype.Int8{Int64: repeats, Valid: true},
		EventRef: info.Event, EventTime: timestamptz(info.EventTime), StartedAt: timestamptz(start),
	})
	if err != nil {
		return Result{}, fmt.Errorf("load: record the skipped attempt: %w", err)
	}
	return Result{FileID: id, Status: StatusSkipped, Repeats: repeats}, nil
}

func (l *Loader) logger() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.Default()
}

// attempt is one transaction over the whole file along one path.
func (l *Loader) attempt(ctx context.Context, src Source, known []byte, path string, progress func(int64), start time.Time) (res Result, err error) {
	tx, q, fileID, err := l.begin(ctx, src, known, start)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	in, t, err := l.open(ctx, src, known == nil, progress)
	if err != nil {
		if !refusesFile(err) && ClassifyFailure(err) != FailureDeterministic {
			return Result{}, err
		}
		// A file without a usable header or one way of writing numbers and dates, gone, or
		// refused by the store fails whole; its ledger row says why.
		res = Result{FileID: fileID, Status: StatusFailed, Error: storable(err.Error(), maxErrorBytes)}
		return res, l.finish(ctx, tx, q, res, ledgerFacts{etag: src.Info().ETag, hash: known, size: src.Info().Size})
	}
	defer in.Close()

	tick := time.Now()
	total, rejected, err := l.stream(ctx, tx, q, t, fileID, path, false)
	if err != nil {
		return Result{}, err
	}
	sum := known
	if sum == nil {
		sum = in.sum()
	} else if src.(contentHasher).Changed() {
		return Result{}, errFileChanged
	}
	res = Result{FileID: fileID, Status: StatusLoaded, Path: path, Compression: in.compression, RowsTotal: total, RowsRejected: rejected, hash: sum}
	tick = res.phases.since(&res.phases.read, tick)
	valid := total - rejected
	res.RowsLoaded = valid
	if path == pathMerge {
		if res.RowsLoaded, err = q.MergeStaged(ctx, fileID); err != nil {
			return res, fmt.Errorf("merge: %w", err)
		}
		res.RowsDuplicate = valid - res.RowsLoaded
		tick = res.phases.since(&res.phases.merge, tick)
	}
	if float64(rejected) > l.MaxRejectRatio*float64(total) {
		return res, &ratioError{total: total, rejected: rejected}
	}
	err = l.finish(ctx, tx, q, res, factsOf(src, t, sum, in.n))
	res.phases.since(&res.phases.commit, tick)
	return res, err
}

// begin opens the transaction, creates the scratch tables and the ledger row.
func (l *Loader) begin(ctx context.Context, src Source, known []byte, start time.Time) (*copyTx, *db.Queries, int64, error) {
	pgtx, err := l.beginTx(ctx)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("begin: %w", err)
	}
	tx := &copyTx{tx: pgtx}
	q := db.New(tx)
	fail := func(what string, err error) (*copyTx, *db.Queries, int64, error) {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	if _, err := tx.Exec(ctx, queries.LoadTables); err != nil {
		return fail("scratch tables", err)
	}
	if l.DryRun != nil {
		if err := q.ClearStaging(ctx); err != nil {
			return fail("scratch tables", err)
		}
	}
	id, err := insertFile(ctx, q, src, known, start)
	if err != nil {
		return fail("ledger", err)
	}
	return tx, q, id, nil
}

// insertFile opens the ledger row of an attempt at src.
func insertFile(ctx context.Context, q *db.Queries, src Source, known []byte, start time.Time) (int64, error) {
	info := src.Info().stored()
	return q.InsertFile(ctx, db.InsertFileParams{
		Source:        info.Kind,
		Bucket:        info.Bucket,
		ObjectKey:     info.Key,
		Etag:          info.ETag,
		ContentSha256: known,
		SizeBytes:     info.Size,
		EventRef:      info.Event,
		EventTime:     timestamptz(info.EventTime),
		StartedAt:     timestamptz(start),
	})
}

// open starts reading the source; hash asks for its SHA-256 as it streams.
func (l *Loader) open(ctx context.Context, src Source, hash bool, progress func(int64)) (*hashingReader, *Transform, error) {
	rc, err := src.Open(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("open: %w", err)
	}
	in := &hashingReader{r: ctxReader{ctx, rc}, c: rc, progress: progress}
	if hash {
		in.h = sha256.New()
	}
	// The hash and the progress are of the stored bytes; the rows are read from them inflated.
	plain, compression, err := decompressed(in, func() int64 { return in.n })
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	in.inflated, in.compression = plain, compression
	t, err := NewTransform(plain)
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	return in, t, nil
}

// batch is one round of COPYs. The reader fills the next while the database takes this one.
type batch struct {
	sales   sortedRows // sales encoded, sorted before the batch is copied
	staged  []db.CopyStagingParams
	rejects []db.CopyRejectsParams
}

func (b *batch) reset() *batch {
	b.staged, b.rejects = b.staged[:0], nil
	b.sales.reset()
	return b
}

// newBatch is a batch of room for size sales, its COPY statement taken from the query.
func newBatch(ctx context.Context, size int) (*batch, error) {
	b := &batch{sales: sortedRows{key: "sale_key", arena: make([]byte, 0, size*400), rows: make([]encodedRow, 0, size)}}
	if _, err := db.New(&b.sales).CopySales(ctx, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// Sales are copied in the order of their key. Sale ids are random UUIDs: inserted in that
// order, the keys of a batch land on the primary-key index's pages in turn instead of all
// over it, which cuts what the COPY costs the server by a third (measured with a million
// rows: 4.5 s of its CPU instead of 6.9 s).
const batchRows = 50_000 // rows of a batch, sorted together

// Rejected rows are held back until this many have gathered, so a file with a few bad rows
// here and there still streams its sales in one COPY.
const rejectBatchRows = 20_000

// stream reads the file and COPYs it in batches: sales (or staging rows on the merge path)
// and rejected rows. With rejectsOnly it
// writes rejected rows alone (a refused file). It returns rows read and rows rejected.
func (l *Loader) stream(ctx context.Context, tx *copyTx, q *db.Queries, t *Transform, fileID int64, path string, rejectsOnly bool) (int64, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	size := l.BatchRows
	if size <= 0 {
		size = batchRows
	}
	// Three batches circulate: one filling, one queued, one being copied.
	full, free := make(chan *batch, 3), make(chan *batch, 3)
	for range 3 {
		b, err := newBatch(ctx, size)
		if err != nil {
			return 0, 0, err
		}
		free <- b
	}
	var rejected int64
	var encodeErr error // the reader's own, read once full is closed
	go func() {
		defer close(full)
		var b *batch
		var rejects []db.CopyRejectsParams
		take := func() bool {
			select {
			case b = <-free:
				b.reset()
				return true
			case <-ctx.Done():
				return false
			}
		}
		send := func(last bool) bool {
			if last || len(rejects) >= rejectBatchRows {
				b.rejects, rejects = rejects, nil
			}
			b.sales.sort()
			select {
			case full <- b:
				return true
			case <-ctx.Done():
				return false
			}
		}
		if !take() {
			return
		}
		for {
			s, rej, ok := t.Next()
			if !ok {
				break
			}
			switch {
			case rej != nil:
				rejected++
				rejects = append(rejects, db.CopyRejectsParams{
					FileID: fileID, Line: rej.Line, ColumnName: storable(rej.Column, maxNameBytes),
					Reason: storable(rej.Reason, maxReasonBytes), RawLine: storable(rej.Raw, maxRawBytes+len(cutMark)),
				})
			case rejectsOnly:
			case path == pathCopy:
				s.FileID = fileID
				if err := b.sales.addSale(&s.CopySalesParams); err != nil {
					encodeErr = err
					return
				}
			default:
				b.staged = append(b.staged, staged(&s))
			}
			if len(b.sales.rows)+len(b.staged) >= size || len(rejects) >= rejectBatchRows {
				if !send(false) || !take() {
					return
				}
			}
		}
		send(true)
	}()

	for b := range full {
		if err := copyBatch(ctx, tx, q, b); err != nil {
			cancel()
			for range full { // let the reader stop
			}
			return 0, 0, err
		}
		free <- b
	}
	if encodeErr != nil {
		return 0, 0, fmt.Errorf("copy sales: %w", encodeErr)
	}
	if err := t.Err(); err != nil {
		return 0, 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if err := tx.Flush(); err != nil {
		return 0, 0, err
	}
	return t.Rows(), rejected, nil
}

// copyBatch hands a batch to the open COPYs. An error may be the verdict on earlier rows.
func copyBatch(ctx context.Context, tx *copyTx, q *db.Queries, b *batch) error {
	if len(b.sales.rows) > 0 {
		if err := tx.copySorted(ctx, &b.sales); err != nil {
			return fmt.Errorf("copy sales: %w", err)
		}
	}
	if len(b.staged) > 0 {
		if _, err := q.CopyStaging(ctx, b.staged); err != nil {
			return fmt.Errorf("copy staging: %w", err)
		}
	}
	if len(b.rejects) > 0 {
		if _, err := q.CopyRejects(ctx, b.rejects); err != nil {
			return fmt.Errorf("copy rejects: %w", err)
		}
	}
	return nil
}

// refuse records a file over the reject ratio: a failed ledger row and its rejected rows,
// in a new transaction, reading the file once more; no sale of it is loaded.
func (l *Loader) refuse(ctx context.Context, src Source, known []byte, start time.Time, ratio *ratioError) (Result, error) {
	tx, q, fileID, err := l.begin(ctx, src, known, start)
	if err != nil {
		return Result{}, fmt.Errorf("load: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	in, t, err := l.open(ctx, src, known == nil, nil)
	if err != nil {
		return Result{}, fmt.Errorf("load: reread: %w", err)
	}
	defer in.Close()
	total, rejected, err := l.stream(ctx, tx, q, t, fileID, pathCopy, true)
	if err != nil {
		return Result{}, fmt.Errorf("load: %w", err)
	}
	if total != ratio.total || rejected != ratio.rejected {
		return Result{}, fmt.Errorf("load: %w", errFileChanged)
	}
	res := Result{
		FileID: fileID, Status: StatusFailed, RowsTotal: total, RowsRejected: total,
		Error: fmt.Sprintf("%d of %d rows broke the rules (%.1f%%), over the %.0f%% limit; no row was loaded",
			rejected, total, 100*float64(rejected)/float64(total), 100*l.MaxRejectRatio),
	}
	sum := known
	if sum == nil {
		sum = in.sum()
	}
	if err := l.finish(ctx, tx, q, res, factsOf(src, t, sum, in.n)); err != nil {
		return Result{}, fmt.Errorf("load: %w", err)
	}
	return res, nil
}

// ledgerFacts is what the ledger row records about the file itself.
type ledgerFacts struct {
	etag                       string
	hash                       []byte
	size                       int64
	shape, encoding, delimiter string
	numberFormat, dateFormat   string
	unknown                    []string
}

func factsOf(src Source, t *Transform, sum []byte, size int64) ledgerFacts {
	return ledgerFacts{
		etag: src.Info().ETag, hash: sum, size: size, shape: t.Header().Shape, encoding: t.Encoding(),
		delimiter: t.Delimiter(), numberFormat: t.NumberFormat(), dateFormat: t.DateFormat(), unknown: t.Header().Unknown,
	}
}

// RecordFailure settles a file that could not be loaded (its failure was deterministic, or
// it spent its retry budget) as failed with cause as its error, in a transaction of its own:
// the ledger row, NOTIFY, commit. Nothing of the file is loaded.
func (l *Loader) RecordFailure(ctx context.Context, src Source, start time.Time, cause error) (Result, error) {
	tx, err := l.beginTx(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("load: record the failure: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	q := db.New(tx)
	id, err := insertFile(ctx, q, src, nil, start)
	if err != nil {
		return Result{}, fmt.Errorf("load: record the failure: %w", err)
	}
	res := Result{File: src.Info().Name(), FileID: id, Status: StatusFailed, Error: storable(cause.Error(), maxErrorBytes),
		Seconds: time.Since(start).Seconds()}
	if err := l.finish(ctx, tx, q, res, ledgerFacts{etag: src.Info().ETag, size: src.Info().Size}); err != nil {
		return Result{}, fmt.Errorf("load: record the failure: %w", err)
	}
	return res, nil
}

// committer is a transaction finish can commit: a load's or RecordFailure's.
type committer interface {
	Commit(ctx context.Context) error
}

// finish settles the ledger row, notifies listeners and commits. Every text in it is
// made storable here, whatever the file held.
func (l *Loader) finish(ctx context.Context, tx committer, q *db.Queries, res Result, f ledgerFacts) error {
	unknown := storableNames(f.unknown)
	err := q.FinishFile(ctx, db.FinishFileParams{
		ID:             res.FileID,
		Status:         res.Status,
		LoadPath:       res.Path,
		ContentSha256:  f.hash,
		SizeBytes:      f.size,
		RowsTotal:      res.RowsTotal,
		RowsLoaded:     res.RowsLoaded,
		RowsRejected:   res.RowsRejected,
		RowsDuplicate:  res.RowsDuplicate,
		HeaderShape:    f.shape,
		Encoding:       f.encoding,
		Delimiter:      f.delimiter,
		UnknownColumns: unknown,
		Error:          storable(res.Error, maxErrorBytes),
		Etag:           storable(f.etag, maxNameBytes),
		NumberFormat:   f.numberFormat,
		DateFormat:     f.dateFormat,
	})
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if err := q.NotifyFileLoaded(ctx, res.FileID); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func staged(s *Sale) db.CopyStagingParams {
	p := &s.CopySalesParams
	return db.CopyStagingParams{
		Line: s.Line, SaleKey: p.SaleKey, SaleID: p.SaleID, SaleDate: p.SaleDate, ProductID: p.ProductID,
		ProductName: p.ProductName, ProductCategory: p.ProductCategory, Quantity: p.Quantity,
		UnitPriceCents: p.UnitPriceCents, DiscountPct: p.DiscountPct, TotalValueCents: p.TotalValueCents,
		UnitCostCents: p.UnitCostCents, TotalCostCents: p.TotalCostCents, GrossProfitCents: p.GrossProfitCents,
		PaymentMethod: p.PaymentMethod, PaymentStatus: p.PaymentStatus, PaymentDate: p.PaymentDate,
		CustomerID: p.CustomerID, CustomerName: p.CustomerName, SalesChannel: p.SalesChannel,
		SalesRegion: p.SalesRegion, SalesRep: p.SalesRep, CustomerRating: p.CustomerRating,
		CustomerComments: p.CustomerComments, ShippingCostCents: p.ShippingCostCents,
		DeliveryStatus: p.DeliveryStatus, DeliveryDate: p.DeliveryDate,
	}
}

func timestamptz(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// hashingReader hashes and counts the bytes of a source as they are read.
type hashingReader struct {
	r        io.Reader
	c        io.Closer
	h        hash.Hash
	n        int64
	progress func(int64)
	// inflated reads the rows out of the bytes (compression "gzip", "zstd" or none).
	inflated    io.ReadCloser
	compression string
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		if r.h != nil {
			r.h.Write(p[:n])
		}
		r.n += int64(n)
		if r.progress != nil {
			r.progress(r.n)
		}
	}
	return n, err
}

func (r *hashingReader) Close() error {
	if r.inflated != nil {
		r.inflated.Close()
	}
	return r.c.Close()
}

func (r *hashingReader) sum() []byte { return r.h.Sum(nil) }

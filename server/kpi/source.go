package kpi

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/queries"
	"salespulse/queries/db"
)

// deltaRows bounds the sales one delta holds while the table is read at start, so that
// memory stays flat: the engine's state, plus one delta.
const deltaRows = 1 << 20

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
	rows, err := db.New(tx).EngineFiles(ctx)
	if err != nil {
		return fmt.Errorf("kpi: load: %w", err)
	}
	files := make([]File, 0, len(rows))
	for _, r := range rows {
		files = append(files, File{ID: r.ID, Key: r.ObjectKey, FinishedAt: r.FinishedAt.Time})
	}
	// Deltas are applied by a second goroutine while the next is read; two sets of
	// buffers go round between them, so memory stays flat.
	free := make(chan *Delta, 2)
	for range 2 {
		free <- &Delta{rows: make([]row, 0, deltaRows), spare: make([]row, 0, deltaRows)}
	}
	full := make(chan *Delta)
	applied := make(chan struct{})
	go func() {
		defer close(applied)
		for d := range full {
			e.Apply(d)
			d.rows, d.files, d.days = d.rows[:0], nil, nil
			free <- d
		}
	}()
	next := func() *Delta {
		d := <-free
		d.days = map[Day]bool{}
		return d
	}
	d := next()
	err = e.copySales(ctx, tx, "", func(s *rawSale) {
		e.addRaw(d, s)
		if d.Len() >= deltaRows {
			full <- d
			d = next()
		}
	})
	if err == nil {
		d.files = files // the ledger's files are held once every sale is
		full <- d
	}
	close(full)
	<-applied
	if err != nil {
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
	d := e.NewDelta(File{ID: f.ID, Key: f.ObjectKey, FinishedAt: f.FinishedAt.Time})
	if err := e.copySales(ctx, tx, " WHERE file_id = "+strconv.FormatInt(id, 10), func(s *rawSale) { e.addRaw(d, s) }); err != nil {
		return Footprint{}, fmt.Errorf("kpi: file %d: %w", id, err)
	}
	return e.Apply(d), nil
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

// addRaw numbers a streamed sale into a delta, allocating only for names not seen before.
func (e *Engine) addRaw(d *Delta, s *rawSale) {
	c := combo{idBytes(e.categories, s.category), idBytes(e.regions, s.region), idBytes(e.channels, s.channel)}
	d.rows = append(d.rows, row{
		day: s.day, combo: e.combos.id(c), product: idBytes(e.products, s.product), rep: idBytes(e.reps, s.rep),
		status: s.status, quantity: uint32(s.quantity), sales: s.sales, profit: s.profit,
	})
	d.days[s.day] = true
}

// copySales streams queries.EngineSales (with the clause given) in the binary COPY format
// and hands each sale to each.
func (e *Engine) copySales(ctx context.Context, tx pgx.Tx, where string, each func(*rawSale)) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		// pgx writes each row as its own message: buffered, the pipe hands over large
		// chunks instead of one row per goroutine switch.
		bw := bufio.NewWriterSize(pw, 1<<18)
		_, err := tx.Conn().PgConn().CopyTo(ctx, bw, "COPY ("+queries.EngineSales+where+") TO STDOUT (FORMAT binary)")
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	err := decodeSales(bufio.NewReaderSize(pr, 1<<16), each)
	pr.CloseWithError(errors.New("read abandoned"))
	copyErr := <-done
	if copyErr != nil {
		return copyErr
	}
	return err
}

// copySignature opens every binary COPY stream.
var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

// pgEpoch is 2000-01-01, from which PostgreSQL counts dates, in days since 1970-01-01.
const pgEpoch = 10957

// decodeSales reads the binary COPY of queries.EngineSales: file_id, sale_date, category,
// region, channel, product, rep, status (text), quantity (int4), total value and gross
// profit (int8).
func decodeSales(r *bufio.Reader, each func(*rawSale)) error {
	head := make([]byte, len(copySignature)+8)
	if _, err := io.ReadFull(r, head); err != nil {
		return fmt.Errorf("copy header: %w", err)
	}
	if string(head[:len(copySignature)]) != string(copySignature) {
		return errors.New("copy header: not a binary COPY stream")
	}
	if ext := binary.BigEndian.Uint32(head[len(copySignature)+4:]); ext > 0 {
		if _, err := r.Discard(int(ext)); err != nil {
			return fmt.Errorf("copy header: %w", err)
		}
	}
	var s rawSale
	var fields [11][]byte
	bufs := make([][]byte, 11)
	var n [4]byte
	for {
		if _, err := io.ReadFull(r, n[:2]); err != nil {
			return fmt.Errorf("copy row: %w", err)
		}
		count := int16(binary.BigEndian.Uint16(n[:2]))
		if count == -1 {
			return nil
		}
		if count != int16(len(fields)) {
			return fmt.Errorf("copy row: %d fields, want %d", count, len(fields))
		}
		for i := range fields {
			if _, err := io.ReadFull(r, n[:]); err != nil {
				return fmt.Errorf("copy row: %w", err)
			}
			size := int32(binary.BigEndian.Uint32(n[:]))
			if size < 0 {
				return fmt.Errorf("copy row: column %d is NULL", i+1)
			}
			if cap(bufs[i]) < int(size) {
				bufs[i] = make([]byte, size, max(int(size), 64))
			}
			fields[i] = bufs[i][:size]
			if _, err := io.ReadFull(r, fields[i]); err != nil {
				return fmt.Errorf("copy row: %w", err)
			}
		}
		if len(fields[1]) != 4 || len(fields[8]) != 4 || len(fields[9]) != 8 || len(fields[10]) != 8 {
			return errors.New("copy row: unexpected column types")
		}
		st, ok := ParseStatus(string(fields[7]))
		if !ok {
			return fmt.Errorf("copy row: payment status %q", fields[7])
		}
		s = rawSale{
			day:      Day(int32(binary.BigEndian.Uint32(fields[1])) + pgEpoch),
			category: fields[2], region: fields[3], channel: fields[4], product: fields[5], rep: fields[6],
			status:   st,
			quantity: int64(int32(binary.BigEndian.Uint32(fields[8]))),
			sales:    int64(binary.BigEndian.Uint64(fields[9])),
			profit:   int64(binary.BigEndian.Uint64(fields[10])),
		}
		each(&s)
	}
}

package etl

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/queries/db"
)

// copyTx is the DBTX the loader hands to the sqlc queries of a load transaction. Queries go
// to the transaction unchanged; the rows of the generated :copyfrom queries are streamed
// differently, for speed:
//
//   - Consecutive CopyFrom calls into the same table feed one COPY command, kept open until
//     another statement needs the connection (or Flush). A file's rows arrive in batches, but
//     PostgreSQL sees a single COPY: starting a COPY per batch costs about a sixth of the load.
//     Like a buffered writer, a call may therefore report the error of an earlier one.
//   - Rows are written in the binary COPY format by a type switch over the few Go types sqlc
//     generates for our tables, instead of pgx's general encoder, which looks up an encode
//     plan for every value.
type copyTx struct {
	tx     pgx.Tx
	stream *copyStream
}

var _ db.DBTX = (*copyTx)(nil)

// copyStream is an open COPY: rows are encoded into buf and piped to pgconn.CopyFrom, which
// runs in its own goroutine until the pipe is closed.
type copyStream struct {
	sql  string
	pw   *io.PipeWriter
	buf  []byte
	done chan error
}

func (c *copyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := c.Flush(); err != nil {
		return pgconn.CommandTag{}, err
	}
	return c.tx.Exec(ctx, sql, args...)
}

func (c *copyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := c.Flush(); err != nil {
		return nil, err
	}
	return c.tx.Query(ctx, sql, args...)
}

func (c *copyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := c.Flush(); err != nil {
		return errRow{err}
	}
	return c.tx.QueryRow(ctx, sql, args...)
}

// Commit ends any open COPY and commits.
func (c *copyTx) Commit(ctx context.Context) error {
	if err := c.Flush(); err != nil {
		return err
	}
	return c.tx.Commit(ctx)
}

// Rollback abandons any open COPY and rolls back.
func (c *copyTx) Rollback(ctx context.Context) error {
	if c.stream != nil {
		c.stream.pw.CloseWithError(errors.New("load abandoned"))
		<-c.stream.done
		c.stream = nil
	}
	return c.tx.Rollback(ctx)
}

// copySorted appends rows encoded ahead of time to the open COPY of their statement (opening
// one if needed), in the order of their key.
func (c *copyTx) copySorted(ctx context.Context, r *sortedRows) error {
	if c.stream != nil && c.stream.sql != r.sql {
		if err := c.Flush(); err != nil {
			return err
		}
	}
	if c.stream == nil {
		c.open(ctx, r.sql)
	}
	s := c.stream
	for _, row := range r.rows {
		s.buf = append(s.buf, r.arena[row.from:row.to]...)
		if len(s.buf) >= 256<<10 {
			if err := c.write(); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortedRows are rows encoded for a binary COPY ahead of time, to be sent in the order of a
// key column (copySorted): the loader encodes and sorts a batch while the one before it is
// being copied. It is the DBTX of the sqlc :copyfrom query that encodes them, so that the
// statement's table and columns are the query's.
type sortedRows struct {
	key   string // the column rows are sorted by (a uuid)
	sql   string // the COPY statement, set by the first CopyFrom
	arena []byte
	rows  []encodedRow
}

type encodedRow struct {
	hi, lo   uint64 // the key, as two big-endian halves: they compare as its bytes do
	from, to int32  // the row's bytes in the arena
}

func keyOf(id [16]byte) (uint64, uint64) {
	return binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(id[8:])
}

var _ db.DBTX = (*sortedRows)(nil)

// CopyFrom encodes the rows into the arena.
func (r *sortedRows) CopyFrom(_ context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	key := slices.Index(columns, r.key)
	if key < 0 {
		return 0, fmt.Errorf("copy: no column %s to sort by", r.key)
	}
	r.sql = copyStatement(table, columns)
	var n int64
	for src.Next() {
		values, err := src.Values()
		if err != nil {
			return n, err
		}
		if len(values) != len(columns) {
			return n, fmt.Errorf("copy: %d values for %d columns", len(values), len(columns))
		}
		id, ok := values[key].(pgtype.UUID)
		if !ok || !id.Valid {
			return n, fmt.Errorf("copy: %s is not a uuid", r.key)
		}
		from := len(r.arena)
		r.arena = binary.BigEndian.AppendUint16(r.arena, uint16(len(values)))
		for _, v := range values {
			if r.arena, err = appendCopyValue(r.arena, v); err != nil {
				return n, err
			}
		}
		hi, lo := keyOf(id.Bytes)
		r.rows = append(r.rows, encodedRow{hi: hi, lo: lo, from: int32(from), to: int32(len(r.arena))})
		n++
	}
	return n, src.Err()
}

// addSale encodes one sale (r.sql must have been set, by a CopySales call).
func (r *sortedRows) addSale(p *db.CopySalesParams) error {
	from := len(r.arena)
	var err error
	if r.arena, err = appendSale(r.arena, p); err != nil {
		return err
	}
	hi, lo := keyOf(p.SaleKey.Bytes)
	r.rows = append(r.rows, encodedRow{hi: hi, lo: lo, from: int32(from), to: int32(len(r.arena))})
	return nil
}

func (r *sortedRows) sort() {
	slices.SortFunc(r.rows, func(a, b encodedRow) int { return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo)) })
}

func (r *sortedRows) reset() {
	r.arena, r.rows = r.arena[:0], r.rows[:0]
}

func (r *sortedRows) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errNotAConnection
}

func (r *sortedRows) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errNotAConnection
}

func (r *sortedRows) QueryRow(context.Context, string, ...any) pgx.Row {
	return errRow{errNotAConnection}
}

var errNotAConnection = errors.New("copy: rows being encoded run no statement")

// copyStatement is the COPY of a table's columns, in the binary format.
func copyStatement(table pgx.Identifier, columns []string) string {
	quoted := make([]string, len(columns))
	for i, col := range columns {
		quoted[i] = pgx.Identifier{col}.Sanitize()
	}
	return fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", table.Sanitize(), strings.Join(quoted, ", "))
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// CopyFrom appends the rows to the open COPY into table, opening one if needed. The count
// it returns is of rows sent; the server's verdict on them comes with a later call or Flush.
func (c *copyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error) {
	sql := copyStatement(table, columns)
	if c.stream != nil && c.stream.sql != sql {
		if err := c.Flush(); err != nil {
			return 0, err
		}
	}
	if c.stream == nil {
		c.open(ctx, sql)
	}
	s := c.stream
	var n int64
	for rows.Next() {
		values, err := rows.Values()
		if err != nil {
			return n, c.fail(err)
		}
		if len(values) != len(columns) {
			return n, c.fail(fmt.Errorf("copy: %d values for %d columns", len(values), len(columns)))
		}
		s.buf = binary.BigEndian.AppendUint16(s.buf, uint16(len(values)))
		for _, v := range values {
			if s.buf, err = appendCopyValue(s.buf, v); err != nil {
				return n, c.fail(err)
			}
		}
		n++
		if len(s.buf) >= 256<<10 {
			if err := c.write(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, c.fail(err)
	}
	return n, nil
}

func (c *copyTx) open(ctx context.Context, sql string) {
	pr, pw := io.Pipe()
	s := &copyStream{sql: sql, pw: pw, buf: make([]byte, 0, 320<<10), done: make(chan error, 1)}
	s.buf = append(s.buf, "PGCOPY\n\xff\r\n\x00"...)
	s.buf = binary.BigEndian.AppendUint32(s.buf, 0) // flags
	s.buf = binary.BigEndian.AppendUint32(s.buf, 0) // header extension length
	conn := c.tx.Conn().PgConn()
	go func() {
		_, err := conn.CopyFrom(ctx, pr, sql)
		if err == nil {
			err = io.ErrClosedPipe // the COPY ended: nothing more may be written
		}
		pr.CloseWithError(err)
		s.done <- err
	}()
	c.stream = s
}

// write hands the encoded rows to the COPY. If the server already refused the COPY, the
// pipe is closed and the server's error comes back.
func (c *copyTx) write() error {
	s := c.stream
	if _, err := s.pw.Write(s.buf); err != nil {
		c.stream = nil
		if cerr := <-s.done; cerr != io.ErrClosedPipe {
			return cerr
		}
		return err
	}
	s.buf = s.buf[:0]
	return nil
}

// fail abandons the open COPY because of a local error.
func (c *copyTx) fail(err error) error {
	c.stream.pw.CloseWithError(err)
	<-c.stream.done
	c.stream = nil
	return err
}

// Flush ends the open COPY, if any, and returns the server's verdict on it.
func (c *copyTx) Flush() error {
	s := c.stream
	if s == nil {
		return nil
	}
	s.buf = binary.BigEndian.AppendUint16(s.buf, 0xffff) // trailer
	if err := c.write(); err != nil {
		return err
	}
	c.stream = nil
	s.pw.Close()
	if err := <-s.done; err != io.ErrClosedPipe {
		return err
	}
	return nil
}

// PostgreSQL's date epoch, in days after the Unix one.
const pgEpochDays = 10957

func appendNull(buf []byte) []byte { return binary.BigEndian.AppendUint32(buf, math.MaxUint32) }

// appendCopyValue appends one field: its length, then its binary form.
func appendCopyValue(buf []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendText(buf, v), nil
	case pgtype.Text:
		return appendPgText(buf, v), nil
	case int64:
		return appendInt64(buf, v), nil
	case pgtype.Int8:
		return appendPgInt8(buf, v), nil
	case int32:
		return appendInt32(buf, v), nil
	case pgtype.Date:
		return appendDate(buf, v)
	case pgtype.UUID:
		return appendUUID(buf, v), nil
	case pgtype.Numeric:
		if !v.Valid {
			return appendNull(buf), nil
		}
		return appendNumeric(buf, v)
	}
	return nil, fmt.Errorf("copy: no binary encoding for %T", v)
}

// appendSale appends a sale as CopySales's row, without boxing its fields: the loader
// writes a million of them a file. Its columns are the query's, in its order (a test holds
// the two to each other).
func appendSale(buf []byte, p *db.CopySalesParams) ([]byte, error) {
	var err error
	buf = binary.BigEndian.AppendUint16(buf, 27)
	buf = appendUUID(buf, p.SaleKey)
	buf = appendText(buf, p.SaleID)
	if buf, err = appendDate(buf, p.SaleDate); err != nil {
		return nil, err
	}
	buf = appendText(buf, p.ProductID)
	buf = appendText(buf, p.ProductName)
	buf = appendText(buf, p.ProductCategory)
	buf = appendInt32(buf, p.Quantity)
	buf = appendInt64(buf, p.UnitPriceCents)
	if !p.DiscountPct.Valid {
		buf = appendNull(buf)
	} else if buf, err = appendNumeric(buf, p.DiscountPct); err != nil {
		return nil, err
	}
	buf = appendInt64(buf, p.TotalValueCents)
	buf = appendPgInt8(buf, p.UnitCostCents)
	buf = appendPgInt8(buf, p.TotalCostCents)
	buf = appendPgInt8(buf, p.GrossProfitCents)
	buf = appendText(buf, p.PaymentMethod)
	buf = appendText(buf, p.PaymentStatus)
	if buf, err = appendDate(buf, p.PaymentDate); err != nil {
		return nil, err
	}
	buf = appendText(buf, p.CustomerID)
	buf = appendPgText(buf, p.CustomerName)
	buf = appendText(buf, p.SalesChannel)
	buf = appendText(buf, p.SalesRegion)
	buf = appendText(buf, p.SalesRep)
	buf = appendPgText(buf, p.CustomerRating)
	buf = appendPgText(buf, p.CustomerComments)
	buf = appendPgInt8(buf, p.ShippingCostCents)
	buf = appendPgText(buf, p.DeliveryStatus)
	if buf, err = appendDate(buf, p.DeliveryDate); err != nil {
		return nil, err
	}
	return appendInt64(buf, p.FileID), nil
}

func appendPgText(buf []byte, v pgtype.Text) []byte {
	if !v.Valid {
		return appendNull(buf)
	}
	return appendText(buf, v.String)
}

func appendInt64(buf []byte, v int64) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 8)
	return binary.BigEndian.AppendUint64(buf, uint64(v))
}

func appendPgInt8(buf []byte, v pgtype.Int8) []byte {
	if !v.Valid {
		return appendNull(buf)
	}
	return appendInt64(buf, v.Int64)
}

func appendInt32(buf []byte, v int32) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 4)
	return binary.BigEndian.AppendUint32(buf, uint32(v))
}

func appendUUID(buf []byte, v pgtype.UUID) []byte {
	if !v.Valid {
		return appendNull(buf)
	}
	buf = binary.BigEndian.AppendUint32(buf, 16)
	return append(buf, v.Bytes[:]...)
}

func appendDate(buf []byte, v pgtype.Date) ([]byte, error) {
	if !v.Valid {
		return appendNull(buf), nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return nil, fmt.Errorf("copy: infinite date")
	}
	// The calendar date as written, whatever the time's zone (as pgx does).
	civil := time.Date(v.Time.Year(), v.Time.Month(), v.Time.Day(), 0, 0, 0, 0, time.UTC).Unix()
	days := civil / 86400
	if civil%86400 < 0 {
		days-- // before 1970: round towards the past
	}
	buf = binary.BigEndian.AppendUint32(buf, 4)
	return binary.BigEndian.AppendUint32(buf, uint32(int32(days-pgEpochDays))), nil
}

func appendText(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	return append(buf, s...)
}

// appendNumeric writes a finite numeric Int × 10^Exp, with Int fitting in 64 bits and
// -8 ≤ Exp ≤ 0 (the loader's fixed point), as PostgreSQL's base-10000 digits.
func appendNumeric(buf []byte, n pgtype.Numeric) ([]byte, error) {
	if n.NaN || n.InfinityModifier != pgtype.Finite || n.Int == nil || !n.Int.IsInt64() ||
		n.Int.Int64() == math.MinInt64 || n.Exp > 0 || n.Exp < -8 {
		return nil, fmt.Errorf("copy: numeric outside the loader's fixed point")
	}
	v := n.Int.Int64()
	sign := uint16(0)
	if v < 0 {
		sign, v = 0x4000, -v
	}
	scale := -int(n.Exp)
	pow := int64(1)
	for range scale {
		pow *= 10
	}
	intPart, frac := uint64(v/pow), uint64(v%pow)
	fracDigits := (scale + 3) / 4 // the fraction padded to whole base-10000 digits
	for range fracDigits*4 - scale {
		frac *= 10
	}
	var digits [12]uint16 // least significant first
	nd := 0
	for range fracDigits {
		digits[nd] = uint16(frac % 10000)
		frac /= 10000
		nd++
	}
	weight := -1 // base-10000 exponent of the most significant digit
	for intPart > 0 {
		digits[nd] = uint16(intPart % 10000)
		intPart /= 10000
		nd++
		weight++
	}
	lo, hi := 0, nd
	for lo < hi && digits[lo] == 0 {
		lo++
	}
	for hi > lo && digits[hi-1] == 0 {
		hi--
		weight--
	}
	if lo == hi {
		weight = 0
	}
	count := hi - lo
	buf = binary.BigEndian.AppendUint32(buf, uint32(8+2*count))
	buf = binary.BigEndian.AppendUint16(buf, uint16(count))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(scale))
	for i := hi - 1; i >= lo; i-- {
		buf = binary.BigEndian.AppendUint16(buf, digits[i])
	}
	return buf, nil
}

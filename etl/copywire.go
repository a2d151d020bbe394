package etl

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
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

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// CopyFrom appends the rows to the open COPY into table, opening one if needed. The count
// it returns is of rows sent; the server's verdict on them comes with a later call or Flush.
func (c *copyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error) {
	quoted := make([]string, len(columns))
	for i, col := range columns {
		quoted[i] = pgx.Identifier{col}.Sanitize()
	}
	sql := fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", table.Sanitize(), strings.Join(quoted, ", "))
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
		if !v.Valid {
			return appendNull(buf), nil
		}
		return appendText(buf, v.String), nil
	case int64:
		buf = binary.BigEndian.AppendUint32(buf, 8)
		return binary.BigEndian.AppendUint64(buf, uint64(v)), nil
	case pgtype.Int8:
		if !v.Valid {
			return appendNull(buf), nil
		}
		buf = binary.BigEndian.AppendUint32(buf, 8)
		return binary.BigEndian.AppendUint64(buf, uint64(v.Int64)), nil
	case int32:
		buf = binary.BigEndian.AppendUint32(buf, 4)
		return binary.BigEndian.AppendUint32(buf, uint32(v)), nil
	case pgtype.Date:
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
	case pgtype.UUID:
		if !v.Valid {
			return appendNull(buf), nil
		}
		buf = binary.BigEndian.AppendUint32(buf, 16)
		return append(buf, v.Bytes[:]...), nil
	case pgtype.Numeric:
		if !v.Valid {
			return appendNull(buf), nil
		}
		return appendNumeric(buf, v)
	}
	return nil, fmt.Errorf("copy: no binary encoding for %T", v)
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

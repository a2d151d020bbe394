package kpi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// salesWriter decodes the binary COPY of queries.EngineSales as pgx hands over its messages:
// file_id, sale_date, category, region, channel, product, rep, status (text), quantity
// (int4), total value and gross profit (int8). PostgreSQL sends one row per message, so a
// row is read in place from the message; one that a boundary cuts is carried over.
type salesWriter struct {
	each   func(*rawSale)
	header bool   // the stream's header was read
	done   bool   // and its trailer
	rest   []byte // the start of a row cut by a message boundary
	sale   rawSale
}

// copySignature opens every binary COPY stream.
var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

// pgEpoch is 2000-01-01, from which PostgreSQL counts dates, in days since 1970-01-01.
const pgEpoch = 10957

const salesColumns = 11

func (w *salesWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(w.rest) > 0 {
		w.rest = append(w.rest, p...)
		p = w.rest
	}
	used, err := w.rows(p)
	if err != nil {
		return 0, err
	}
	w.rest = append(w.rest[:0], p[used:]...)
	return n, nil
}

// finish reports a stream that ended early.
func (w *salesWriter) finish() error {
	if !w.done || len(w.rest) > 0 {
		return errors.New("copy: the stream ended before its trailer")
	}
	return nil
}

// rows decodes the whole rows at the start of p and returns how many bytes they took.
func (w *salesWriter) rows(p []byte) (int, error) {
	at := 0
	if !w.header {
		head := len(copySignature) + 8
		if len(p) < head {
			return 0, nil
		}
		if string(p[:len(copySignature)]) != string(copySignature) {
			return 0, errors.New("copy header: not a binary COPY stream")
		}
		ext := int(binary.BigEndian.Uint32(p[head-4:]))
		if len(p) < head+ext {
			return 0, nil
		}
		at, w.header = head+ext, true
	}
	var fields [salesColumns][]byte
	for at < len(p) {
		if w.done {
			return 0, errors.New("copy: data after the trailer")
		}
		if len(p)-at < 2 {
			break
		}
		switch count := int16(binary.BigEndian.Uint16(p[at:])); count {
		case -1:
			w.done = true
			at += 2
			continue
		case salesColumns:
		default:
			return 0, fmt.Errorf("copy row: %d fields, want %d", count, salesColumns)
		}
		pos, whole := at+2, true
		for i := range fields {
			if len(p)-pos < 4 {
				whole = false
				break
			}
			size := int(int32(binary.BigEndian.Uint32(p[pos:])))
			pos += 4
			if size < 0 {
				return 0, fmt.Errorf("copy row: column %d is NULL", i+1)
			}
			if len(p)-pos < size {
				whole = false
				break
			}
			fields[i] = p[pos : pos+size]
			pos += size
		}
		if !whole {
			break
		}
		if err := w.row(&fields); err != nil {
			return 0, err
		}
		at = pos
	}
	return at, nil
}

func (w *salesWriter) row(f *[salesColumns][]byte) error {
	if len(f[1]) != 4 || len(f[8]) != 4 || len(f[9]) != 8 || len(f[10]) != 8 {
		return errors.New("copy row: unexpected column types")
	}
	st, ok := ParseStatus(string(f[7]))
	if !ok {
		return fmt.Errorf("copy row: payment status %q", f[7])
	}
	w.sale = rawSale{
		day:      Day(int32(binary.BigEndian.Uint32(f[1])) + pgEpoch),
		category: f[2], region: f[3], channel: f[4], product: f[5], rep: f[6],
		status:   st,
		quantity: int64(int32(binary.BigEndian.Uint32(f[8]))),
		sales:    int64(binary.BigEndian.Uint64(f[9])),
		profit:   int64(binary.BigEndian.Uint64(f[10])),
	}
	w.each(&w.sale)
	return nil
}

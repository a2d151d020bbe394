package etl

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"salespulse/queries/db"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// copyField runs appendCopyValue after some bytes already in the buffer, checks that those
// are kept and that the length prefix is right, and returns the value's bytes (nil for NULL).
func copyField(t *testing.T, v any) []byte {
	t.Helper()
	buf, err := appendCopyValue([]byte("row"), v)
	if err != nil {
		t.Fatalf("appendCopyValue(%#v): %v", v, err)
	}
	if string(buf[:3]) != "row" || len(buf) < 7 {
		t.Fatalf("appendCopyValue(%#v) = %x: the buffer's start changed", v, buf)
	}
	n := int32(binary.BigEndian.Uint32(buf[3:]))
	body := buf[7:]
	if n == -1 && len(body) == 0 {
		return nil
	}
	if int(n) != len(body) || body == nil {
		t.Fatalf("appendCopyValue(%#v): length %d for %d bytes", v, n, len(body))
	}
	return body
}

func pgxEncode(t *testing.T, m *pgtype.Map, oid uint32, v any) []byte {
	t.Helper()
	// A non-nil buffer tells an empty value (empty) from NULL (nil) in pgx's answer.
	b, err := m.Encode(oid, pgtype.BinaryFormatCode, v, make([]byte, 0, 64))
	if err != nil {
		t.Fatalf("pgx Encode(%d, %#v): %v", oid, v, err)
	}
	return b
}

func TestCopyValueMatchesPgx(t *testing.T) {
	m := pgtype.NewMap()
	at := func(s string) pgtype.Date {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return pgtype.Date{Time: tm, Valid: true}
	}
	cases := []struct {
		oid uint32
		v   any
	}{
		{pgtype.TextOID, ""},
		{pgtype.TextOID, "Smartphone"},
		{pgtype.TextOID, "João 😀"},
		{pgtype.TextOID, string(bytes.Repeat([]byte("x"), 70_000))},
		{pgtype.TextOID, pgtype.Text{String: "Christopher Pollard", Valid: true}},
		{pgtype.TextOID, pgtype.Text{String: "", Valid: true}},
		{pgtype.TextOID, pgtype.Text{}},
		{pgtype.Int8OID, int64(0)},
		{pgtype.Int8OID, int64(11654)},
		{pgtype.Int8OID, int64(-8377)},
		{pgtype.Int8OID, int64(math.MaxInt64)},
		{pgtype.Int8OID, int64(math.MinInt64)},
		{pgtype.Int8OID, pgtype.Int8{Int64: 39624, Valid: true}},
		{pgtype.Int8OID, pgtype.Int8{Int64: -1, Valid: true}},
		{pgtype.Int8OID, pgtype.Int8{}},
		{pgtype.Int4OID, int32(0)},
		{pgtype.Int4OID, int32(4)},
		{pgtype.Int4OID, int32(-1)},
		{pgtype.Int4OID, int32(math.MaxInt32)},
		{pgtype.Int4OID, int32(math.MinInt32)},
		{pgtype.UUIDOID, pgtype.UUID{Bytes: [16]byte{0xfb, 0xb2, 0x6b, 0xaa, 0x95, 0x8c, 0x40, 0x15, 0x83, 0xec, 0x0e, 0xe2, 0x31, 0x9e, 0x54, 0x64}, Valid: true}},
		{pgtype.UUIDOID, pgtype.UUID{Valid: true}},
		{pgtype.UUIDOID, saleKey([]byte("ORD-1001"))},
		{pgtype.UUIDOID, pgtype.UUID{}},
		{pgtype.DateOID, pgtype.Date{}},
	}
	// Dates on both sides of the Unix (1970) and PostgreSQL (2000) epochs, and times of day.
	for _, d := range []string{"0001-01-01", "1583-10-15", "1900-01-01", "1969-12-31", "1970-01-01", "1970-01-02",
		"1999-12-31", "2000-01-01", "2000-01-02", "2000-02-29", "2024-02-29", "2038-01-20", "9999-12-31"} {
		cases = append(cases, struct {
			oid uint32
			v   any
		}{pgtype.DateOID, isoDate(d)})
	}
	for _, s := range []string{"1969-12-31T12:00:00Z", "1969-12-31T23:59:59Z", "1900-06-15T00:00:01Z", "2024-06-01T23:59:59Z", "2000-01-01T12:00:00Z"} {
		cases = append(cases, struct {
			oid uint32
			v   any
		}{pgtype.DateOID, at(s)})
	}
	for _, tt := range cases {
		t.Run(fmt.Sprintf("%T %.40v", tt.v, tt.v), func(t *testing.T) {
			got, want := copyField(t, tt.v), pgxEncode(t, m, tt.oid, tt.v)
			if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("got %x, pgx %x", got, want)
			}
		})
	}
}

// Numerics: pgx writes zero base-10000 digits at either end (20.0000 as 20, 0000), while
// appendNumeric strips them as PostgreSQL does. The bytes must equal pgx's once those are
// stripped, and decode to the same value and scale.
func TestCopyNumericMatchesPgx(t *testing.T) {
	m := pgtype.NewMap()
	values := []int64{0, 1, -1, 5, 9, 10, 99, 1000, 9999, 10_000, -10_000, 125_000, -125_000, 150_000, 200_000,
		1_000_000, 99_999_999, 100_000_000, 123_456_789, -123_456_789, 1_234_567_890_123, 10_000_000_000_000_000,
		12_345_678_901_234_567, math.MaxInt64, -math.MaxInt64}
	for _, exp := range []int32{0, -1, -2, -3, -4, -5, -6, -7, -8} {
		for _, v := range values {
			n := pgtype.Numeric{Int: big.NewInt(v), Exp: exp, Valid: true}
			got := copyField(t, n)
			want := pgxEncode(t, m, pgtype.NumericOID, n)
			if !bytes.Equal(got, canonicalNumeric(t, want)) {
				t.Errorf("%d × 10^%d: got %x, pgx %x", v, exp, got, want)
				continue
			}
			var back pgtype.Numeric
			if err := m.Scan(pgtype.NumericOID, pgtype.BinaryFormatCode, got, &back); err != nil {
				t.Fatalf("%d × 10^%d: pgx cannot read %x: %v", v, exp, got, err)
			}
			if ratOf(back).Cmp(ratOf(n)) != 0 || binary.BigEndian.Uint16(got[6:]) != uint16(-exp) {
				t.Errorf("%d × 10^%d: reads back as %v × 10^%d, scale %d", v, exp, back.Int, back.Exp, binary.BigEndian.Uint16(got[6:]))
			}
		}
	}
	if got := copyField(t, pgtype.Numeric{}); got != nil {
		t.Errorf("NULL numeric: %x", got)
	}
}

// What PostgreSQL's own numeric_send returns for these values (recorded from a server).
func TestCopyNumericMatchesPostgreSQL(t *testing.T) {
	for _, tt := range []struct {
		v    int64
		exp  int32
		want string
	}{
		{200_000, -4, "00010000000000040014"},                        // 20.0000
		{0, -4, "0000000000000004"},                                  // 0.0000
		{1_000_000, -4, "00010000000000040064"},                      // 100.0000
		{125_000, -4, "0002000000000004000c1388"},                    // 12.5000
		{-125_000, -4, "0002000040000004000c1388"},                   // -12.5000
		{-1, -4, "0001ffff400000040001"},                             // -0.0001
		{1, -4, "0001ffff000000040001"},                              // 0.0001
		{10_000, -8, "0001ffff000000080001"},                         // 0.00010000
		{1, -8, "0001fffe000000080001"},                              // 0.00000001
		{123_456_789, -8, "0003000000000008000109291a85"},            // 1.23456789
		{10_000, 0, "00010001000000000001"},                          // 10000
		{100_000_000, 0, "00010002000000000001"},                     // 100000000
		{9999, -2, "0002000000000002006326ac"},                       // 99.99
		{15, -1, "000200000000000100011388"},                         // 1.5
		{math.MaxInt64, -4, "0005000300000004039a0d2c0170156516af"},  // 922337203685477.5807
		{-math.MaxInt64, -4, "0005000340000004039a0d2c0170156516af"}, // -922337203685477.5807
	} {
		got := hex.EncodeToString(copyField(t, pgtype.Numeric{Int: big.NewInt(tt.v), Exp: tt.exp, Valid: true}))
		if got != tt.want {
			t.Errorf("%d × 10^%d: got %s, PostgreSQL %s", tt.v, tt.exp, got, tt.want)
		}
	}
}

func TestCopyValueRefusesWhatItCannotEncode(t *testing.T) {
	for _, v := range []any{
		1.5,
		int(4),
		[]byte("x"),
		nil,
		pgtype.Date{Valid: true, InfinityModifier: pgtype.Infinity},
		pgtype.Numeric{Valid: true, NaN: true},
		pgtype.Numeric{Valid: true, InfinityModifier: pgtype.NegativeInfinity},
		pgtype.Numeric{Valid: true},                                           // no Int
		pgtype.Numeric{Int: big.NewInt(1), Exp: 1, Valid: true},               // outside the fixed point
		pgtype.Numeric{Int: big.NewInt(1), Exp: -9, Valid: true},              // too
		pgtype.Numeric{Int: new(big.Int).Lsh(big.NewInt(1), 64), Valid: true}, // beyond int64
	} {
		if buf, err := appendCopyValue(nil, v); err == nil {
			t.Errorf("appendCopyValue(%#v) = %x, want an error", v, buf)
		}
	}
}

// Every field of a checked sale, in the order of the COPY, encodes as pgx would encode it.
func TestCopySaleMatchesPgx(t *testing.T) {
	m := pgtype.NewMap()
	oids := map[reflect.Type]uint32{
		reflect.TypeFor[string]():         pgtype.TextOID,
		reflect.TypeFor[pgtype.Text]():    pgtype.TextOID,
		reflect.TypeFor[int64]():          pgtype.Int8OID,
		reflect.TypeFor[pgtype.Int8]():    pgtype.Int8OID,
		reflect.TypeFor[int32]():          pgtype.Int4OID,
		reflect.TypeFor[pgtype.Date]():    pgtype.DateOID,
		reflect.TypeFor[pgtype.UUID]():    pgtype.UUIDOID,
		reflect.TypeFor[pgtype.Numeric](): pgtype.NumericOID,
	}
	h := fullDisplayHeader(t)
	for _, set := range []fieldRow{
		{colCustomerComments: "Ótimo, chegou rápido 😀"},
		{colDiscount: "12.5", colTotalValue: "407.89", colGrossProfit: "156.77", colSaleID: "ORD-7"},
		{colDiscount: "", colTotalValue: "466.16", colGrossProfit: "", colUnitCost: "", colTotalCost: "",
			colCustomerName: "", colPaymentDate: "", colSaleDate: "1969-07-20", colDeliveryDate: ""},
	} {
		s, rej := newRowRules(h).check(validRow().with(set).record(h, 2))
		if rej != nil {
			t.Fatalf("rejected: %+v", rej)
		}
		s.FileID = 42
		p := reflect.ValueOf(s.CopySalesParams)
		for i := range p.NumField() {
			f := p.Field(i)
			oid, ok := oids[f.Type()]
			if !ok {
				t.Fatalf("%s: no OID for %s", p.Type().Field(i).Name, f.Type())
			}
			got, want := copyField(t, f.Interface()), pgxEncode(t, m, oid, f.Interface())
			if oid == pgtype.NumericOID && want != nil {
				want = canonicalNumeric(t, want)
			}
			if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("%s: got %x, pgx %x", p.Type().Field(i).Name, got, want)
			}
		}
	}
}

// canonicalNumeric strips zero base-10000 digits from both ends of a binary numeric, as
// PostgreSQL stores and sends it.
func canonicalNumeric(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) < 8 {
		t.Fatalf("short numeric %x", b)
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int16(binary.BigEndian.Uint16(b[2:]))
	var digits []uint16
	for i := range n {
		digits = append(digits, binary.BigEndian.Uint16(b[8+2*i:]))
	}
	for len(digits) > 0 && digits[0] == 0 {
		digits, weight = digits[1:], weight-1
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		weight = 0
	}
	out := binary.BigEndian.AppendUint16(nil, uint16(len(digits)))
	out = binary.BigEndian.AppendUint16(out, uint16(weight))
	out = append(out, b[4:8]...) // sign and scale
	for _, d := range digits {
		out = binary.BigEndian.AppendUint16(out, d)
	}
	return out
}

func ratOf(n pgtype.Numeric) *big.Rat {
	r := new(big.Rat).SetInt(n.Int)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(n.Exp))), nil))
	if n.Exp < 0 {
		return r.Quo(r, p)
	}
	return r.Mul(r, p)
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// A sale encoded field by field is the row the sqlc query encodes through its values, with
// the query's columns: the two stay one as the query changes.
func TestSaleTupleIsTheQuerysRow(t *testing.T) {
	for _, opt := range []GenerateOptions{{Rows: 500, Seed: 3, Invalid: 0}, {Rows: 500, Seed: 4, Snake: true, Comments: true}} {
		tr, err := NewTransform(bytes.NewReader(generated(t, opt)))
		if err != nil {
			t.Fatal(err)
		}
		var rows []db.CopySalesParams
		for {
			s, rej, ok := tr.Next()
			if !ok {
				break
			}
			if rej == nil {
				s.FileID = 77
				rows = append(rows, s.CopySalesParams)
			}
		}
		generic := sortedRows{key: "sale_key"}
		if _, err := db.New(&generic).CopySales(context.Background(), rows); err != nil {
			t.Fatal(err)
		}
		byHand := sortedRows{key: "sale_key", sql: generic.sql}
		for i := range rows {
			if err := byHand.addSale(&rows[i]); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(generic.arena, byHand.arena) || !reflect.DeepEqual(generic.rows, byHand.rows) {
			t.Fatalf("%d sales encoded by hand differ from the query's encoding", len(rows))
		}
	}
}

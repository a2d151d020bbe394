package kpi

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// copyStream is a binary COPY stream of queries.EngineSales' columns for the sales given.
func copyStream(sales []Sale) []byte {
	b := append([]byte{}, copySignature...)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, 4) // a header extension, skipped
	b = append(b, 1, 2, 3, 4)
	field := func(v []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	for i, s := range sales {
		b = binary.BigEndian.AppendUint16(b, salesColumns)
		field(binary.BigEndian.AppendUint64(nil, uint64(i)))
		field(binary.BigEndian.AppendUint32(nil, uint32(int32(s.Day-pgEpoch))))
		for _, t := range []string{s.Category, s.Region, s.Channel, s.Product, s.Rep, statusNames[s.Status]} {
			field([]byte(t))
		}
		field(binary.BigEndian.AppendUint32(nil, uint32(s.Quantity)))
		field(binary.BigEndian.AppendUint64(nil, uint64(s.Sales)))
		field(binary.BigEndian.AppendUint64(nil, uint64(s.Profit)))
	}
	return binary.BigEndian.AppendUint16(b, 0xffff)
}

// decodeChunks feeds a stream to a salesWriter in chunks cut at random.
func decodeChunks(stream []byte, r *rand.Rand) ([]Sale, error) {
	var got []Sale
	w := &salesWriter{each: func(s *rawSale) {
		got = append(got, Sale{Day: s.day, Category: string(s.category), Region: string(s.region), Channel: string(s.channel),
			Product: string(s.product), Rep: string(s.rep), Status: s.status, Quantity: s.quantity, Sales: s.sales, Profit: s.profit})
	}}
	for len(stream) > 0 {
		n := min(len(stream), 1+r.IntN(120))
		if _, err := w.Write(stream[:n]); err != nil {
			return got, err
		}
		stream = stream[n:]
	}
	return got, w.finish()
}

// Rows decode the same however the stream is cut into messages; a stream cut short, or
// with a column of another type, is an error.
func TestSalesWriterReadsRowsAcrossMessages(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var sales []Sale
	for i := range 500 {
		sales = append(sales, Sale{Day: Day(19000 + r.IntN(900) - 400), Category: "Cat" + strings.Repeat("é", i%4),
			Region: fmt.Sprint("R", r.IntN(5)), Channel: "Online", Product: fmt.Sprint("P", r.IntN(20000)), Rep: fmt.Sprint("Rep ", i),
			Status: Status(r.IntN(3)), Quantity: int64(1 + r.IntN(50)), Sales: r.Int64N(1 << 40), Profit: r.Int64N(1<<30) - 1<<29})
	}
	stream := copyStream(sales)
	for range 20 {
		got, err := decodeChunks(stream, r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, sales) {
			t.Fatalf("decoded %d sales, differing from the %d streamed", len(got), len(sales))
		}
	}
	if _, err := decodeChunks(stream[:len(stream)-7], r); err == nil || !strings.Contains(err.Error(), "ended before") {
		t.Errorf("a stream cut short: %v", err)
	}
	bad := copyStream(sales[:1])
	binary.BigEndian.PutUint32(bad[len(copySignature)+8+4+2+4+8:], 8) // sale_date as 8 bytes
	if _, err := decodeChunks(bad, r); err == nil {
		t.Errorf("a column of another type was read")
	}
}

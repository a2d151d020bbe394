package etl

import (
	"context"
	"os"
	"strconv"
	"testing"

	"salespulse/schema/schematest"
)

// BenchmarkLoadFile loads BENCH_CSV into a fresh database, e.g.
// BENCH_CSV=/tmp/1m.csv go test ./etl -run - -bench LoadFile -benchtime 1x
func BenchmarkLoadFile(b *testing.B) {
	path := os.Getenv("BENCH_CSV")
	if path == "" {
		b.Skip("BENCH_CSV not set")
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := schematest.New("bench")
		src, err := NewLocalFile(path)
		if err != nil {
			b.Fatal(err)
		}
		batch, _ := strconv.Atoi(os.Getenv("BENCH_BATCH"))
		l := &Loader{Pool: d.Pool, MaxRejectRatio: 0.5, BatchRows: batch}
		b.StartTimer()
		res, err := l.Load(context.Background(), src, nil)
		b.StopTimer()
		d.Drop()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.RowsLoaded)/res.Seconds, "rows/s")
		b.ReportMetric(res.phases.read.Seconds(), "read_copy_s")
	}
}

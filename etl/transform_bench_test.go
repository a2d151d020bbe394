package etl

import (
	"os"
	"testing"
)

func BenchmarkTransformFile(b *testing.B) {
	path := os.Getenv("BENCH_CSV")
	if path == "" {
		b.Skip("BENCH_CSV not set")
	}
	for i := 0; i < b.N; i++ {
		f, _ := os.Open(path)
		t, err := NewTransform(f)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, _, ok := t.Next(); !ok {
				break
			}
			n++
		}
		f.Close()
		b.ReportMetric(float64(n), "rows")
	}
}

package etl

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
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
		before := selfCPU()
		b.StartTimer()
		res, err := l.Load(context.Background(), src, nil)
		b.StopTimer()
		goCPU := selfCPU() - before
		backendCPU := serverCPU(b, d)
		d.Drop()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.RowsLoaded)/res.Seconds, "rows/s")
		b.ReportMetric(backendCPU, "server_cpu_s")
		b.ReportMetric(goCPU, "loader_cpu_s")
		b.ReportMetric(res.phases.read.Seconds(), "read_copy_s")
	}
}

// serverCPU is the CPU time the database's backends have used (those still connected: the
// loader's pool), from /proc: PostgreSQL runs on this machine in the benchmarks.
func serverCPU(b *testing.B, d *schematest.DB) float64 {
	rows, err := d.Pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	total := 0.0
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(st))
		u, _ := strconv.ParseFloat(f[13], 64)
		s, _ := strconv.ParseFloat(f[14], 64)
		total += (u + s) / 100
	}
	return total
}

// selfCPU is the CPU time this process has used.
func selfCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

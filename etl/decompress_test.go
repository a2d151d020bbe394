package etl

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstded(t testing.TB, data []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(data, nil)
}

// TestCompressedFilesLoadAsTheirPlainBytes: gzip and zstd are told by their first bytes,
// whatever the name, and load exactly what the plain file loads.
func TestCompressedFilesLoadAsTheirPlainBytes(t *testing.T) {
	plain := generated(t, GenerateOptions{Rows: 3000, Seed: 7, Invalid: 0.01})
	cases := []struct{ name, compression string }{{"sales.csv", ""}, {"sales.csv", "gzip"}, {"sales.csv.gz", "zstd"}, {"sales.dat", "zstd"}}
	var want int64
	l := newLoader()
	for _, c := range cases {
		testDB.Reset(t)
		data := plain
		switch c.compression {
		case "gzip":
			data = gzipped(t, plain)
		case "zstd":
			data = zstded(t, plain)
		}
		res := loadPath(t, l, writeFile(t, c.name, data))
		if res.Status != StatusLoaded || res.Compression != c.compression || res.RowsTotal != 3000 || res.RowsRejected == 0 {
			t.Fatalf("%s (%s): %+v", c.name, c.compression, res)
		}
		got := testDB.Int(t, `SELECT sum(total_value_cents) FROM sales`)
		if want == 0 {
			want = got
		} else if got != want {
			t.Errorf("%s (%s): sales total %d cents, the plain file's %d", c.name, c.compression, got, want)
		}
		assertConsistent(t)
	}
}

// bomb is a gzip file of a few MB holding a valid header and a row, then a GiB of blank
// lines (which the reader skips): members of 1 MiB each, concatenated, as gzip allows.
func bomb(t testing.TB, plain []byte) []byte {
	t.Helper()
	head := plain[:bytes.IndexByte(plain, '\n')+1]
	rest := plain[len(head):]
	row := rest[:bytes.IndexByte(rest, '\n')+1]
	out := gzipped(t, append(append([]byte{}, head...), row...))
	member := gzipped(t, bytes.Repeat([]byte{'\n'}, 1<<20))
	for range 1 << 10 {
		out = append(out, member...)
	}
	return out
}

func TestCompressionBombFailsTheFile(t *testing.T) {
	testDB.Reset(t)
	b := bomb(t, generated(t, GenerateOptions{Rows: 10, Seed: 1}))
	if len(b) > 4<<20 {
		t.Fatalf("the bomb is %d bytes", len(b))
	}
	src, err := NewLocalFile(writeFile(t, "small.csv.gz", b))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := newLoader().Load(t.Context(), src, nil)
	if err != nil || res.Status != StatusFailed || !strings.Contains(res.Error, "compression bomb") {
		t.Fatalf("bomb of %d bytes: %+v, %v; want a failed file saying why", len(b), res, err)
	}
	t.Logf("%d bytes refused in %v: %s", len(b), time.Since(start), res.Error)
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != 0 {
		t.Errorf("%d sales loaded from the bomb", n)
	}
}

func TestCorruptCompressedStreamsAreTheFilesFault(t *testing.T) {
	plain := generated(t, GenerateOptions{Rows: 2000, Seed: 3})
	gz := gzipped(t, plain)
	for name, data := range map[string][]byte{
		"truncated gzip": gz[:len(gz)/2],
		"flipped gzip":   append(append(append([]byte{}, gz[:len(gz)/2]...), 0xff, 0x00, 0xff), gz[len(gz)/2+3:]...),
		"truncated zstd": zstded(t, plain)[:4000],
	} {
		r, _, err := decompressed(bytes.NewReader(data), func() int64 { return int64(len(data)) })
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if err == nil || ClassifyFailure(err) != FailureDeterministic || !strings.Contains(err.Error(), strings.Fields(name)[1]) {
			t.Errorf("%s: %v (%v), want a deterministic error naming the compression", name, err, ClassifyFailure(err))
		}
	}
}

func TestKeyFilterTakesAnyOfItsSuffixes(t *testing.T) {
	f := KeyFilter{Prefix: "in/", Suffixes: []string{".csv", ".csv.gz", ".csv.zst"}}
	for key, want := range map[string]bool{"in/a.csv": true, "in/a.CSV.GZ": true, "in/b.csv.zst": true, "in/a.gz": false, "out/a.csv": false, "in/a.csv.bak": false} {
		if f.Match(key) != want {
			t.Errorf("Match(%q) = %v", key, !want)
		}
	}
	if !(KeyFilter{}).Match("anything") {
		t.Error("a filter without suffixes refuses keys")
	}
}

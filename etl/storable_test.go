package etl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStorableTextIsWhatPostgreSQLHolds(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		limit    int
		want     string
	}{
		{"plain", "Sale Date", 10, "Sale Date"},
		{"NUL", "Ex\x00tra", 10, "Ex␀tra"},
		{"invalid UTF-8", "Jo\xe3o", 10, "Jo\uFFFDo"},
		{"cut at a character", "ééééé", 5, "éé" + cutMark},
		{"NUL grows, then is cut", "\x00\x00\x00", 5, "␀" + cutMark},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := storable(tt.in, tt.limit)
			if got != tt.want {
				t.Errorf("storable(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if !utf8.ValidString(got) || strings.ContainsRune(got, 0) || len(got) > tt.limit+len(cutMark) {
				t.Errorf("%q cannot be stored", got)
			}
		})
	}
	// And PostgreSQL agrees: every one of them goes in as text.
	for _, s := range []string{"Ex\x00tra", "Jo\xe3o\xff", strings.Repeat("\x00é\xff", 3000)} {
		var n int
		if err := testDB.Pool.QueryRow(context.Background(), `SELECT length($1::text)`, storable(s, maxReasonBytes)).Scan(&n); err != nil {
			t.Errorf("%.20q: %v", s, err)
		}
	}
}

func TestStorableNamesAreBounded(t *testing.T) {
	names := make([]string, 250)
	for i := range names {
		names[i] = "col\x00" + strings.Repeat("x", i*10)
	}
	got := storableNames(names)
	if len(got) != maxUnknownKept+1 || got[maxUnknownKept] != fmt.Sprintf("(and %d more)", len(names)-maxUnknownKept) {
		t.Fatalf("%d names, last %q", len(got), got[len(got)-1])
	}
	for _, n := range got {
		if strings.ContainsRune(n, 0) || len(n) > maxNameBytes+len(cutMark) {
			t.Errorf("%.30q… (%d bytes) is not bounded", n, len(n))
		}
	}
}

// panicking is a reader with a defect.
type panicking struct{}

func (panicking) Read([]byte) (int, error) { panic("a defect in a reader") }

func TestADefectWhileReadingFailsTheFileNotTheProcess(t *testing.T) {
	_, err := NewTransform(panicking{})
	var p *panicError
	if !errors.As(err, &p) || ClassifyFailure(err) != FailureUnclassified {
		t.Fatalf("NewTransform over a panicking reader: %v", err)
	}
	// The same in the middle of a file, past the rows read ahead to decide its formats.
	tr, err := NewTransform(io.MultiReader(bytes.NewReader(generated(t, GenerateOptions{Rows: 4 * formatWindowRows, Seed: 1})), panicking{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, _, ok := tr.Next(); ok; _, _, ok = tr.Next() {
	}
	if !errors.As(tr.Err(), &p) {
		t.Fatalf("Err after a defect mid-file: %v", tr.Err())
	}
}

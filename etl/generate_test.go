package etl

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

func generateFile(t *testing.T, opt GenerateOptions) ([]byte, GenerateStats) {
	t.Helper()
	var b bytes.Buffer
	st, err := Generate(&b, opt)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), st
}

var juneRange = GenerateOptions{
	From: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
	To:   time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC),
}

func TestGenerateIsDeterministic(t *testing.T) {
	opt := juneRange
	opt.Rows, opt.Seed, opt.Comments, opt.Invalid = 500, 42, true, 0.1
	a, st := generateFile(t, opt)
	b, _ := generateFile(t, opt)
	if !bytes.Equal(a, b) {
		t.Error("the same seed wrote different files")
	}
	if st.Rows != 500 || bytes.Count(a, []byte("\n")) != 501 {
		t.Errorf("%d rows reported, %d lines written", st.Rows, bytes.Count(a, []byte("\n")))
	}
	opt.Seed = 43
	if c, _ := generateFile(t, opt); bytes.Equal(a, c) {
		t.Error("another seed wrote the same file")
	}
}

func TestGeneratedRowsPassEveryRule(t *testing.T) {
	for _, tt := range []struct {
		snake, comments bool
		shape           string
	}{
		{false, false, "display"},
		{false, true, "display+comments"},
		{true, false, "snake"},
		{true, true, "snake+comments"},
	} {
		t.Run(tt.shape, func(t *testing.T) {
			opt := juneRange
			opt.Rows, opt.Seed, opt.Snake, opt.Comments = 3000, 7, tt.snake, tt.comments
			data, st := generateFile(t, opt)
			tr, err := NewTransform(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sales, rejects := drainTransform(t, tr)
			for _, r := range rejects[:min(len(rejects), 5)] {
				t.Errorf("line %d: %s: %s\n%s", r.Line, r.Column, r.Reason, r.Raw)
			}
			if len(sales) != 3000 || st.Rows != 3000 || st.Invalid != 0 {
				t.Fatalf("%d sales; stats %+v", len(sales), st)
			}
			// Snake-case files write discounts as 20.0 (money always has two decimals).
			if got := bytes.Contains(data, []byte(",20.0,")); got != tt.snake {
				t.Errorf("discounts written as 20.0: %v", got)
			}
			if h := tr.Header(); h.Shape != tt.shape || len(h.Unknown) != 0 {
				t.Errorf("shape %q, unknown %q", h.Shape, h.Unknown)
			}
			comments, discounts := 0, map[int64]bool{}
			for _, s := range sales {
				if s.SaleDate.Time.Before(opt.From) || s.SaleDate.Time.After(opt.To) {
					t.Fatalf("line %d: sale date %s outside June", s.Line, s.SaleDate.Time.Format(time.DateOnly))
				}
				if s.CustomerComments.Valid {
					comments++
				}
				discounts[s.discount] = true
			}
			if got := slicesSorted(discounts); !slices.Equal(got, []int64{0, 50_000, 100_000, 150_000, 200_000}) {
				t.Errorf("discounts %v", got)
			}
			if tt.comments != (comments > 0) {
				t.Errorf("%d rows with comments", comments)
			}
		})
	}
}

func TestGenerateOneDay(t *testing.T) {
	opt := GenerateOptions{Rows: 200, Seed: 1, From: juneRange.From, To: juneRange.From}
	data, _ := generateFile(t, opt)
	tr, err := NewTransform(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sales, rejects := drainTransform(t, tr)
	if len(rejects) != 0 || len(sales) != 200 {
		t.Fatalf("%d sales, %d rejects", len(sales), len(rejects))
	}
	for _, s := range sales {
		if !s.SaleDate.Time.Equal(juneRange.From) {
			t.Fatalf("sale date %s", s.SaleDate.Time)
		}
	}
}

// Each row Generate breaks breaks exactly one rule, so the rejects match its count exactly.
func TestGenerateInvalidRowsAreRejected(t *testing.T) {
	for _, snake := range []bool{false, true} {
		for _, share := range []float64{0.3, 1} {
			opt := juneRange
			opt.Rows, opt.Seed, opt.Snake, opt.Comments, opt.Invalid = 4000, 99, snake, snake, share
			data, st := generateFile(t, opt)
			tr, err := NewTransform(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sales, rejects := drainTransform(t, tr)
			if len(rejects) != st.Invalid || len(sales)+len(rejects) != st.Rows || st.Rows != 4000 {
				t.Errorf("snake %v, share %v: %d rejects and %d sales; stats %+v", snake, share, len(rejects), len(sales), st)
			}
			if lo, hi := int(share*4000*0.9), int(share*4000*1.1); st.Invalid < lo || st.Invalid > min(hi, 4000) {
				t.Errorf("share %v: %d invalid rows of 4000", share, st.Invalid)
			}
			for _, r := range rejects {
				if r.Reason == "" {
					t.Fatalf("line %d: a reject without a reason", r.Line)
				}
			}
		}
	}
}

func TestGenerateOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  GenerateOptions
		want string
	}{
		{"negative rows", GenerateOptions{Rows: -1, From: juneRange.From, To: juneRange.To}, "rows must be ≥ 0"},
		{"reversed range", GenerateOptions{Rows: 1, From: juneRange.To, To: juneRange.From}, "ends before it starts"},
		{"negative share", GenerateOptions{Rows: 1, From: juneRange.From, To: juneRange.To, Invalid: -0.1}, "invalid share"},
		{"share above one", GenerateOptions{Rows: 1, From: juneRange.From, To: juneRange.To, Invalid: 1.5}, "invalid share"},
	} {
		var b bytes.Buffer
		if _, err := Generate(&b, tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	data, st := generateFile(t, GenerateOptions{Rows: 0, From: juneRange.From, To: juneRange.To})
	if st.Rows != 0 || string(data) != strings.Join(displayHeader(false), ",")+"\n" {
		t.Errorf("no rows: %q, %+v", data, st)
	}
}

func slicesSorted(set map[int64]bool) []int64 {
	var out []int64
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

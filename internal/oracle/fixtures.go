package oracle

import (
	"path/filepath"
	"runtime"
	"testing"
)

// FixtureCount is the number of the original project's files in testdata/original-csv.
const FixtureCount = 38

// FixtureDir is the folder of the original project's files, in the project's own tree.
func FixtureDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "original-csv")
}

// Fixtures lists the files; the test fails unless all of them are there.
func Fixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(FixtureDir(), "*.csv"))
	if err != nil || len(files) != FixtureCount {
		t.Fatalf("want the %d fixture files in %s, found %d (%v)", FixtureCount, FixtureDir(), len(files), err)
	}
	return files
}

// FixtureInputs reads every fixture file.
func FixtureInputs(t testing.TB) *Inputs {
	t.Helper()
	in := New()
	for _, path := range Fixtures(t) {
		in.AddFile(t, path)
	}
	return in
}

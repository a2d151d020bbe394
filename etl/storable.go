package etl

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds of the text the loader writes to PostgreSQL. Every string that comes from a file,
// an event or an error passes through storable on its way there: PostgreSQL text refuses
// NUL and invalid UTF-8 (SQLSTATE 22021), and an index refuses long entries (54000), so a
// file could otherwise make its own ledger row impossible to write.
const (
	maxNameBytes   = 256      // a column name, a bucket, an ETag
	maxKeyBytes    = 1024     // an object key (S3's own limit) or a path
	maxReasonBytes = 2 << 10  // a rejected row's reasons
	maxErrorBytes  = 4 << 10  // a file's error
	cutMark        = " …"     // ends a text that was cut
	nulMark        = "\u2400" // shows a NUL byte (SYMBOL FOR NULL)
)

// storable returns s as PostgreSQL text can hold it: invalid UTF-8 becomes U+FFFD, NUL is
// shown as U+2400, and a text longer than limit bytes is cut at a character boundary and
// marked with " …".
func storable(s string, limit int) string {
	if len(s) <= limit && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", nulMark)
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + cutMark
}

// storableNames bounds a list of names (a file's unknown columns): each one storable, and at
// most maxUnknownKept of them and a count of the rest, as parseHeader keeps them already.
func storableNames(names []string) []string {
	out := make([]string, 0, min(len(names), maxUnknownKept+1))
	for i, n := range names {
		if i == maxUnknownKept && len(names) > maxUnknownKept+1 {
			out = append(out, fmt.Sprintf("(and %d more)", len(names)-i))
			break
		}
		out = append(out, storable(n, maxNameBytes))
	}
	return out
}

// stored is the file's identity as the ledger holds it.
func (f FileInfo) stored() FileInfo {
	f.Bucket = storable(f.Bucket, maxNameBytes)
	f.Key = storable(f.Key, maxKeyBytes)
	f.ETag = storable(f.ETag, maxNameBytes)
	f.Event = storable(f.Event, maxNameBytes)
	return f
}

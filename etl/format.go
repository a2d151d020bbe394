package etl

import (
	"fmt"
	"math/bits"
	"strings"
)

// How a file writes numbers and dates is decided once per file, from evidence in the file,
// never value by value. A value is evidence for the formats that can read it: "12,5" only
// reads with a decimal comma, "31/05/2024" only day first, while "1.234" reads both ways
// (1.234 or 1234) and "05/06/2024" too (5 June or 6 May), and "120" or "01/01/2024" read the
// same either way. The first rows of a file (the look-ahead window) are read before any is
// checked: the formats that read every value there are the file's. None means the file mixes
// formats, and several that read some value differently mean it is ambiguous: either way the
// file fails whole, its reason naming the values. When the window leaves several formats that
// agree on every value so far, the first later value that only some of them read decides.
// After the decision a value in another format is a rejected row, never read another way.
const (
	formatWindowRows  = 1000      // data rows read ahead to decide the formats
	formatWindowBytes = 512 << 10 // and at most this much of their text
)

// Number formats, as the ledger records them.
const (
	NumberPoint = "1234.56"  // decimal point, no grouping; exponents allowed
	NumberComma = "1.234,56" // decimal comma, integer digits optionally grouped by points
)

// Date formats, as the ledger records them.
const (
	DateISO        = "YYYY-MM-DD"
	DateDayFirst   = "DD/MM/YYYY" // day and month of one or two digits
	DateMonthFirst = "MM/DD/YYYY"
)

// Formats of each kind, by index into their kind's names.
const (
	numberPoint = iota
	numberComma
)

const (
	dateISO = iota
	dateDayFirst
	dateMonthFirst
)

// valueKind is a kind of value whose format a file decides.
type valueKind struct {
	one, plural string                                   // "number", "numbers"
	names       []string                                 // each format's name
	read        func(format int, b []byte) (int64, bool) // b read in a format, as a comparable value
	show        func(v int64) string                     // a value read, for messages
	hint        string                                   // how to write values that cannot be mistaken
}

var numberKind = &valueKind{
	one:    "number",
	plural: "numbers",
	names:  []string{NumberPoint, NumberComma},
	read: func(format int, b []byte) (int64, bool) {
		v, err := parseNumber(format, b)
		return v, err == nil
	},
	show: showFixed,
	hint: "write amounts with their decimals (1.234,00 or 1234.00)",
}

var dateKind = &valueKind{
	one:    "date",
	plural: "dates",
	names:  []string{DateISO, DateDayFirst, DateMonthFirst},
	read: func(format int, b []byte) (int64, bool) {
		t, ok := parseDate(format, b)
		return t.Unix() / 86400, ok
	},
	show: showDay,
	hint: "write dates as YYYY-MM-DD",
}

// formatSet is a set of a kind's formats, one bit each.
type formatSet uint8

func (s formatSet) has(f int) bool { return s&(1<<f) != 0 }
func (s formatSet) count() int     { return bits.OnesCount8(uint8(s)) }
func (s formatSet) first() int     { return bits.TrailingZeros8(uint8(s)) }

// witness is a value quoted as evidence in a reason.
type witness struct {
	line   int64
	column string
	text   string
	reads  formatSet // the formats that read it
}

func (w witness) String() string {
	return fmt.Sprintf("%q (line %d, %s)", w.text, w.line, w.column)
}

// formatChoice is what a file's values have shown so far about the format of one kind.
type formatChoice struct {
	kind *valueKind
	live formatSet // the formats that read every value seen so far
	only int       // live's one format once decided, else -1
	// ruledOut is, for each format no longer live, the value that ruled it out.
	ruledOut [3]witness
	// split is, for each pair of formats, the first value they read differently.
	split [3][3]witness
	// emptied is the value that ruled out the last formats left, when none is.
	emptied witness
}

func newFormatChoice(kind *valueKind) *formatChoice {
	return &formatChoice{kind: kind, live: formatSet(1)<<len(kind.names) - 1, only: -1}
}

// readings is which formats read b, and what each reads.
func (c *formatChoice) readings(b []byte) (reads formatSet, values [3]int64) {
	for f := range c.kind.names {
		if v, ok := c.kind.read(f, b); ok {
			reads |= 1 << f
			values[f] = v
		}
	}
	return reads, values
}

// see takes a value of the look-ahead window as evidence.
func (c *formatChoice) see(b []byte, line int64, column string) {
	reads, values := c.readings(b)
	if reads == 0 {
		return // no format reads it: the row is rejected whatever the file's format
	}
	w := witness{line: line, column: column, text: clip(b), reads: reads}
	for f := range c.kind.names {
		if c.live.has(f) && !reads.has(f) {
			c.ruledOut[f] = w
		}
		for g := f + 1; g < len(c.kind.names); g++ {
			if reads.has(f) && reads.has(g) && values[f] != values[g] && c.split[f][g].text == "" {
				c.split[f][g] = w
			}
		}
	}
	if c.live != 0 && c.live&reads == 0 {
		c.emptied = w
	}
	c.narrow(c.live & reads)
}

func (c *formatChoice) narrow(live formatSet) {
	c.live, c.only = live, -1
	if live.count() == 1 {
		c.only = live.first()
	}
}

// decide settles the choice at the end of the window of rows rows (whole: the file ended
// within it). It returns the reason the file cannot be read one way, or "".
func (c *formatChoice) decide(rows int, whole bool) string {
	if c.live == 0 {
		return c.mixed()
	}
	var ambiguous witness
	for f := range c.kind.names {
		for g := f + 1; g < len(c.kind.names); g++ {
			w := c.split[f][g]
			if c.live.has(f) && c.live.has(g) && w.text != "" && (ambiguous.text == "" || w.line < ambiguous.line) {
				ambiguous = w
			}
		}
	}
	if ambiguous.text == "" {
		return "" // decided, or every value so far reads the same in each format left
	}
	where := "the file"
	if !whole {
		where = fmt.Sprintf("the first %d rows", rows)
	}
	return fmt.Sprintf("%s are ambiguous: %s %s, and no %s in %s decides; %s",
		c.kind.plural, ambiguous, c.readsAs(ambiguous.text, c.live&ambiguous.reads), c.kind.one, where, c.kind.hint)
}

// mixed explains a window without a format that reads every value: the value that ruled out
// the last formats, and the one that had ruled out the formats it reads.
func (c *formatChoice) mixed() string {
	last := c.emptied
	earlier := c.ruledOut[last.reads.first()]
	return fmt.Sprintf("%s are written in more than one way: %s as %s, but %s as %s",
		c.kind.plural, earlier, c.names(earlier.reads), last, c.names(last.reads))
}

// readsAs tells the different readings of a value in the formats given: "is 1.234 read as
// 1234.56 but 1234 read as 1.234,56".
func (c *formatChoice) readsAs(text string, formats formatSet) string {
	var parts []string
	for f := range c.kind.names {
		if formats.has(f) {
			v, _ := c.kind.read(f, []byte(text))
			parts = append(parts, fmt.Sprintf("%s read as %s", c.kind.show(v), c.kind.names[f]))
		}
	}
	return "is " + strings.Join(parts, " but ")
}

// names lists formats: "DD/MM/YYYY or MM/DD/YYYY", "YYYY-MM-DD, DD/MM/YYYY or MM/DD/YYYY".
func (c *formatChoice) names(formats formatSet) string {
	var out []string
	for f, name := range c.kind.names {
		if formats.has(f) {
			out = append(out, name)
		}
	}
	if len(out) < 2 {
		return strings.Join(out, "")
	}
	return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
}

// Name is the decided format, or "" while the values seen read the same in several.
func (c *formatChoice) Name() string {
	if c.only < 0 {
		return ""
	}
	return c.kind.names[c.only]
}

// settle picks the format to read a value of a row with while the choice is still open: the
// value decides among the formats left, or, read differently by them, cannot be read.
func (c *formatChoice) settle(b []byte) (int, error) {
	reads, values := c.readings(b)
	in := reads & c.live
	switch {
	case reads == 0:
		return c.live.first(), nil // no format reads it: the reader says why
	case in == 0:
		return 0, c.wrongFormat(reads)
	}
	for f := range c.kind.names {
		if in.has(f) && values[f] != values[in.first()] {
			return 0, &valueError{c.readsAs(string(b), in) + ", and no " + c.kind.one + " before it in the file decides"}
		}
	}
	c.narrow(in)
	return in.first(), nil
}

// mismatch explains a value the decided format cannot read, if another format reads it.
func (c *formatChoice) mismatch(b []byte) error {
	reads, _ := c.readings(b)
	if reads == 0 {
		return nil
	}
	return c.wrongFormat(reads)
}

func (c *formatChoice) wrongFormat(reads formatSet) error {
	return &valueError{fmt.Sprintf("is written as %s, but this file writes %s as %s",
		c.names(reads), c.kind.plural, c.names(c.live))}
}

// valueError says why the file's format cannot read a value; the rules quote the value before it.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

// FormatError is a file whose numbers or dates cannot be read one way: it fails whole.
type FormatError struct{ Reason string }

func (e *FormatError) Error() string { return e.Reason }

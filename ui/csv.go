package ui

import (
	"encoding/csv"
	"strings"
)

// table is the data behind one chart, as rows for a CSV export. Money and counts are
// written exactly as the API sends them (3627905.75), not as displayed, so that the file
// opens as numbers in a spreadsheet.
type table struct {
	Header []string
	Rows   [][]string
}

// csv encodes the table, RFC 4180 with CRLF line ends as spreadsheets expect.
func (t table) csv() string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write(t.Header) // a strings.Builder does not fail
	_ = w.WriteAll(t.Rows)
	return b.String()
}

package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progressBar draws a one-line bar on a terminal for files large enough to wait for.
type progressBar struct {
	w     io.Writer
	name  string
	size  int64
	start time.Time
	last  time.Time
	on    bool
}

const progressMinBytes = 16 << 20

func newProgressBar(w io.Writer, name string, size int64) *progressBar {
	f, ok := w.(*os.File)
	on := ok && term.IsTerminal(int(f.Fd())) && size >= progressMinBytes
	return &progressBar{w: w, name: name, size: size, start: time.Now(), on: on}
}

func (p *progressBar) update(read int64) {
	if !p.on || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	frac := min(float64(read)/float64(p.size), 1)
	const width = 30
	done := int(frac * width)
	rate := float64(read) / time.Since(p.start).Seconds() / (1 << 20)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%%  %d/%d MiB  %.0f MiB/s ",
		p.name, strings.Repeat("=", done), strings.Repeat(" ", width-done),
		100*frac, read>>20, p.size>>20, rate)
}

func (p *progressBar) finish() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

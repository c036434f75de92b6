package cmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// isTerminal reports whether w is a terminal (a character device other
// than /dev/null): the only place colour, progress and status lines belong.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// countingReader counts the bytes read from a file, for progress: read
// on the decoding goroutine, the count shown from the tracking one.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress draws one line on a terminal while a file that takes more than
// a second is read: bytes of total, packets per second, time left.
type progress struct {
	w     io.Writer
	name  string
	size  int64 // 0 when unknown (standard input)
	read  *countingReader
	start time.Time
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer, name string, size int64, read *countingReader) *progress {
	now := time.Now()
	return &progress{w: w, name: filepath.Base(name), size: size, read: read, start: now, last: now}
}

// tick is called now and then with the packets read so far.
func (p *progress) tick(packets uint64) {
	if p == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < time.Second || now.Sub(p.last) < 250*time.Millisecond {
		return
	}
	p.last = now
	p.drawn = true
	secs := now.Sub(p.start).Seconds()
	read := p.read.n.Load()
	line := fmt.Sprintf("reading %s: %s", p.name, sizeText(read))
	if p.size > 0 {
		line += fmt.Sprintf(" of %s (%.0f%%)", sizeText(p.size), 100*float64(read)/float64(p.size))
	}
	line += fmt.Sprintf(", %s packets/s", countText(float64(packets)/secs))
	if p.size > 0 && read > 0 && read < p.size {
		left := time.Duration(secs * float64(p.size-read) / float64(read) * float64(time.Second))
		line += ", " + left.Round(time.Second).String() + " left"
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
}

// done clears the line.
func (p *progress) done() {
	if p != nil && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func sizeText(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.0f kB", float64(n)/1e3)
}

func countText(n float64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.1f M", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f k", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

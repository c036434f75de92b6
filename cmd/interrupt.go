package cmd

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"syscall"

	"github.com/synpath/synpath/capture"
)

// Interrupts returns a context that the first SIGINT or SIGTERM cancels:
// reading stops and what was judged so far is printed. A second one exits
// at once with 128+signal (130 for Ctrl-C), as tcpdump and tshark do, for
// when the first cannot get through (output blocked on a full pipe). stop
// releases the signals.
func Interrupts(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		cancel()
		select {
		case s := <-sigs:
			code := 130
			if n, ok := s.(syscall.Signal); ok {
				code = 128 + int(n)
			}
			os.Exit(code)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// openInput opens a capture so that a cancelled ctx gets through even where
// the system blocks: open(2) of a FIFO waits for a writer, and a read from
// a stalled pipe or terminal never returns. Both run on goroutines of their
// own, left to the blocked call when ctx ends (the process is about to
// exit); a regular file, which cannot stall, is read on the caller's. The
// returned closer ends the reading goroutine and closes the file. Packets
// read from standard input ("-") are named readName's.
//
// A regular file is read in time order when inTime says to and its records
// lie in time-ordered stretches out of order (capture.ReaderOptions.Again).
func openInput(ctx context.Context, name string, stdin io.Reader, term io.Writer, inTime bool) (*capture.Reader, io.Closer, *progress, error) {
	in := &ctxReader{ctx: ctx, r: stdin}
	var prog *progress
	regular := false
	var size int64
	if name == "-" {
		name = readName(name)
		// Standard input redirected from a file (< file) cannot stall
		// either; a pipe or terminal can.
		if f, ok := stdin.(*os.File); ok {
			st, err := f.Stat()
			in.direct = err == nil && st.Mode().IsRegular()
		}
	} else {
		f, err := openFile(ctx, name)
		if err != nil {
			return nil, nil, nil, err
		}
		in.r, in.file = f, f
		st, err := f.Stat()
		regular = err == nil && st.Mode().IsRegular()
		in.direct = regular
		if regular {
			size = st.Size()
		}
		if term != nil {
			// With a terminal for progress, the file's bytes are counted
			// as they are read.
			cr := &countingReader{r: f}
			in.r, prog = cr, newProgress(term, name, size, cr)
		}
	}
	// A gzip'd regular file is inflated on a goroutine of its own, ahead
	// of tracking. Not a pipe: closing waits for the inflating goroutine,
	// and a read from a stalled pipe may never return.
	var opt capture.ReaderOptions
	if regular {
		opt.Inflated = func(r io.Reader) io.Reader { return newReadAhead(r) }
		if f, ok := in.file.(io.ReaderAt); ok && inTime {
			// To its end wherever that is when read: tcpdump may be
			// writing it still.
			opt.Again = func(off int64) io.Reader { return io.NewSectionReader(f, off, math.MaxInt64-off) }
			opt.Size = size
		}
	}
	rd, err := capture.NewReaderOptions(name, in, opt)
	if err != nil {
		in.Close()
		return nil, nil, nil, err
	}
	rd.SetContext(ctx)
	return rd, in, prog, nil
}

func openFile(ctx context.Context, name string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(name)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			var pe *fs.PathError
			if errors.As(o.err, &pe) {
				o.err = pe.Err // the path is in ReadError.File
			}
			return nil, &capture.ReadError{File: name, Err: o.err}
		}
		return o.f, nil
	case <-ctx.Done():
		go func() { // a writer may still come and let open return
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, &capture.ReadError{File: name, Err: ctx.Err()}
	}
}

// ctxReader reads r on a goroutine of its own and gives up waiting when ctx
// ends. Reads are the read buffer's (256 KiB), so the hand-over costs
// nothing per packet, but not nothing: reading the 100 MB mix from the
// page cache took 18 ms through the goroutine, 15 ms without, so a regular
// file is read directly (direct).
type ctxReader struct {
	ctx  context.Context
	r    io.Reader
	file io.Closer // if openInput opened r
	// direct: r reads a regular file, which cannot stall: it is read on
	// the caller's goroutine, still looking at ctx before each read.
	direct bool
	req    chan []byte
	res    chan readResult
}

func (c *ctxReader) Close() error {
	if c.req != nil {
		close(c.req)
		c.req = nil
	}
	if c.file != nil {
		return c.file.Close()
	}
	return nil
}

type readResult struct {
	n   int
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.direct {
		return c.r.Read(p)
	}
	if c.req == nil {
		c.req, c.res = make(chan []byte), make(chan readResult, 1)
		go func() {
			for p := range c.req {
				n, err := c.r.Read(p)
				c.res <- readResult{n, err}
				if c.ctx.Err() != nil {
					return
				}
			}
		}()
	}
	select {
	case c.req <- p:
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
	select {
	case r := <-c.res:
		return r.n, r.err
	case <-c.ctx.Done():
		// The goroutine may still fill p: the caller stops reading.
		return 0, c.ctx.Err()
	}
}

// readName is the name the packets of input name carry (capture.Ref.File,
// Attempt.File): standard input's are "stdin", as its messages say.
func readName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

package cmd

import (
	"bufio"
	"errors"
	"io"
)

// outputBuffer is how much of standard output is held before one write:
// a line per write(2) was a tenth of a run on a capture of handshakes.
const outputBuffer = 64 << 10

// output buffers standard output for a command. A write that would not
// fit flushes what is held first, so every write(2) carries whole lines
// (one JSON line per Write) and a reader of a pipe never sees half a line.
// The command flushes it at the end and, live, on every tick.
type output struct{ bw *bufio.Writer }

func newOutput(w io.Writer) *output { return &output{bw: bufio.NewWriterSize(w, outputBuffer)} }

func (o *output) Write(p []byte) (int, error) {
	if len(p) > o.bw.Available() && o.bw.Buffered() > 0 {
		if err := o.bw.Flush(); err != nil {
			return 0, err
		}
	}
	return o.bw.Write(p)
}

// Flush writes what is held.
func (o *output) Flush() error { return o.bw.Flush() }

// flushInto flushes o at the end of a command that returns *err: a failed
// flush is the command's error unless it already has one worse than
// having found failed attempts.
func (o *output) flushInto(err *error) {
	if ferr := o.Flush(); ferr != nil && (*err == nil || errors.Is(*err, errFailed)) {
		*err = ferr
	}
}

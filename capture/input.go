package capture

import (
	"bufio"
	"io"
)

// input is what a file format's reader reads: a window onto what a
// bufio.Reader holds, so that taking a record header or a record is
// slicing, not a call into bufio (a Peek and a Discard for each: 8% of
// reading a file went there). bufio is called to move the window on.
type input struct {
	// b is the window: what br holds from its read position on. Its
	// first off bytes are read, but not yet discarded from br.
	b   []byte
	off int
	br  *bufio.Reader
}

// take consumes the next n bytes and returns them if the window holds
// them, else nil: then takeMore. Small enough to be inlined.
func (in *input) take(n int) []byte {
	if n > len(in.b)-in.off {
		return nil
	}
	in.off += n
	return in.b[in.off-n : in.off]
}

// takeMore is take past the window: it returns the next n bytes, or fewer
// and an error at the end (consuming nothing). They stay valid until the
// window moves on again (at the next record).
func (in *input) takeMore(n int) ([]byte, error) {
	b, err := in.peek(n)
	if err == nil {
		in.off += n
	}
	return b, err
}

// peek returns the next n bytes without consuming them, or fewer and an
// error at the end, as bufio.Reader.Peek does.
func (in *input) peek(n int) ([]byte, error) {
	if n > len(in.b)-in.off {
		// Move the window on: what was read is discarded from br, and the
		// window becomes all that br holds, read until it holds n bytes
		// (no more: a pipe delivers each record as it comes).
		in.br.Discard(in.off) // within what br holds: never reads
		in.off = 0
		b, err := in.br.Peek(n)
		if err != nil {
			in.b = b
			return b, err
		}
		in.b, _ = in.br.Peek(in.br.Buffered())
	}
	return in.b[in.off : in.off+n], nil
}

// discard consumes n bytes, or fewer and an error at the end, as
// bufio.Reader.Discard does.
func (in *input) discard(n int) (int, error) {
	if n <= len(in.b)-in.off {
		in.off += n
		return n, nil
	}
	return in.discardMore(n)
}

func (in *input) discardMore(n int) (int, error) {
	in.drop()
	return in.br.Discard(n)
}

// drop discards what was read from br and empties the window.
func (in *input) drop() {
	in.br.Discard(in.off)
	in.b, in.off = nil, 0
}

// readFull reads len(p) bytes into p, as io.ReadFull does.
func (in *input) readFull(p []byte) (int, error) {
	if len(p) <= len(in.b)-in.off {
		in.off += copy(p, in.b[in.off:])
		return len(p), nil
	}
	return in.readFullMore(p)
}

func (in *input) readFullMore(p []byte) (int, error) {
	if len(p) > in.br.Size() {
		in.drop()
		return io.ReadFull(in.br, p)
	}
	b, err := in.peek(len(p)) // moves the window on
	n := copy(p, b)
	in.off += n
	if err == io.EOF && n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

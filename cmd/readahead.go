package cmd

import "io"

// readAheadChunk is how much one hand-over carries, and readAheadChunks
// how many are read ahead at most.
const (
	readAheadChunk  = 256 << 10
	readAheadChunks = 4
)

// readAhead reads r on a goroutine of its own, up to readAheadChunks
// chunks ahead of the reader: a gzip'd capture is inflated while the
// packets already inflated are tracked. Data and errors arrive in r's
// order. Close stops the goroutine and waits for it, so that r may be
// closed after.
type readAhead struct {
	full chan readChunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	cur  readChunk
	off  int
}

type readChunk struct {
	b   []byte
	err error
}

func newReadAhead(r io.Reader) *readAhead {
	ra := &readAhead{full: make(chan readChunk, readAheadChunks), free: make(chan []byte, readAheadChunks+1),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range readAheadChunks + 1 {
		ra.free <- make([]byte, readAheadChunk)
	}
	go ra.pump(r)
	return ra
}

func (ra *readAhead) pump(r io.Reader) {
	defer close(ra.done)
	for {
		var b []byte
		select {
		case b = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := 0, error(nil)
		for n < len(b) && err == nil {
			var m int
			m, err = r.Read(b[n:])
			n += m
		}
		select {
		case ra.full <- readChunk{b[:n], err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur.b) {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.b != nil {
			ra.free <- ra.cur.b[:cap(ra.cur.b)]
		}
		ra.cur, ra.off = <-ra.full, 0
	}
	n := copy(p, ra.cur.b[ra.off:])
	ra.off += n
	return n, nil
}

// Close stops reading ahead and waits until nothing reads r.
func (ra *readAhead) Close() error {
	select {
	case <-ra.stop:
	default:
		close(ra.stop)
	}
	<-ra.done
	return nil
}

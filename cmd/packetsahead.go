package cmd

import (
	"time"

	"github.com/synpath/synpath/capture"
)

// aheadBatch is how many packets go across at once: enough that handing a
// batch over costs nothing next to decoding it, few enough (480 bytes a
// packet) that a batch stays in cache until it is tracked.
const aheadBatch = 1024

// packetsAhead reads and decodes a capture on a goroutine of its own, a
// few batches ahead of tracking: on two cores, reading and decoding one
// batch overlaps tracking the one before. Packets are decoded straight
// into the batches and handed out by pointer, never copied.
//
// The goroutine owns the Reader until next has returned an error or stop
// has returned; only then may the caller use it again (Stats, Close).
type packetsAhead struct {
	full, free chan *packetBatch
	quit, done chan struct{}
	cur        *packetBatch
	i          int
}

type packetBatch struct {
	p []capture.Packet
	n int
	// err is what Next returned after p[:n] (io.EOF at the end): the last
	// batch carries it.
	err error
	// records is how many records the reader had read by then, for
	// progress, and first the earliest one's time.
	records uint64
	first   time.Time
}

func newPacketsAhead(rd *capture.Reader) *packetsAhead {
	const batches = 4
	a := &packetsAhead{full: make(chan *packetBatch, batches), free: make(chan *packetBatch, batches),
		quit: make(chan struct{}), done: make(chan struct{})}
	for range batches {
		a.free <- &packetBatch{p: make([]capture.Packet, aheadBatch)}
	}
	go a.read(rd)
	return a
}

func (a *packetsAhead) read(rd *capture.Reader) {
	defer close(a.done)
	for {
		var b *packetBatch
		select {
		case b = <-a.free:
		case <-a.quit:
			return
		}
		b.n, b.err = 0, nil
		for b.n < len(b.p) {
			if err := rd.Next(&b.p[b.n]); err != nil {
				b.err = err
				break
			}
			b.n++
		}
		st := rd.Stats()
		b.records, b.first = st.Packets, st.First
		select {
		case a.full <- b:
		case <-a.quit:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// next returns the next packet, valid until the following call, or the
// error that ended reading.
func (a *packetsAhead) next() (*capture.Packet, error) {
	for a.cur == nil || a.i == a.cur.n {
		if a.cur != nil {
			if a.cur.err != nil {
				return nil, a.cur.err
			}
			a.free <- a.cur
		}
		a.cur, a.i = <-a.full, 0
	}
	a.i++
	return &a.cur.p[a.i-1], nil
}

// records is how many records were read by the time the current batch was.
func (a *packetsAhead) records() uint64 {
	if a.cur == nil {
		return 0
	}
	return a.cur.records
}

// first is the time of the earliest record read by the time the current
// batch was: a capture's start, though the records may not be packets.
func (a *packetsAhead) first() time.Time {
	if a.cur == nil {
		return time.Time{}
	}
	return a.cur.first
}

// stop ends reading, if it has not ended, and waits for the goroutine:
// the Reader is the caller's again.
func (a *packetsAhead) stop() {
	close(a.quit)
	<-a.done
}

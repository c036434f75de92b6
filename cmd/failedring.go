package cmd

import (
	"slices"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/verdict"
)

// failedRingFrames bounds the frames kept for --write-failed: the latest
// 2^17 (at most 256 bytes each with the kernel filter's cut: 32 MiB).
// A failure is written when first reported, a SYN timeout or stall a
// couple of seconds after it began, so only on a link faster than some
// 50,000 packets a second could its first frames be gone; the file then
// misses them and the warning says how many.
const failedRingFrames = 1 << 17

// frameRing keeps copies of the latest frames, by frame number.
type frameRing struct {
	slots   []ringSlot
	written map[uint64]bool // frames written already, pruned as the ring turns
	missed  uint64
	lastN   uint64
}

type ringSlot struct {
	f    capture.Frame
	data []byte
}

func newFrameRing(n int) *frameRing {
	return &frameRing{slots: make([]ringSlot, n), written: map[uint64]bool{}}
}

func (r *frameRing) add(f *capture.Frame) {
	s := &r.slots[f.N%uint64(len(r.slots))]
	s.data = append(s.data[:0], f.Data...)
	s.f = *f
	s.f.Data = s.data
	r.lastN = f.N
	if f.N%uint64(len(r.slots)) == 0 {
		for n := range r.written {
			if n+uint64(len(r.slots)) <= f.N {
				delete(r.written, n)
			}
		}
	}
}

// writeEvidence writes the frames behind a verdict not written yet, in
// their order.
func (r *frameRing) writeEvidence(o *pcapngOut, res *verdict.Result) {
	var ns []uint64
	for _, e := range res.Evidence {
		if !r.written[e.N] {
			ns = append(ns, e.N)
		}
	}
	slices.Sort(ns)
	for _, n := range slices.Compact(ns) {
		s := &r.slots[n%uint64(len(r.slots))]
		if s.f.N != n || n == 0 {
			r.missed++
			continue
		}
		r.written[n] = true
		o.write(&s.f)
	}
}

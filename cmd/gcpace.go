package cmd

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// gcPace keeps the collector's headroom constant: the heap may grow by
// gcHeadroom past what is live (scaled as GOGC is), not by as much again
// as is live, which is GOGC's own pace.
//   - A run starts with little live (a few MB): GOGC would collect at 4, 8,
//     16 MB, four collections in the first seconds of a capture, a tenth of
//     a 100 MB run, to save memory a run of any length takes later anyway.
//   - A long run holds a window of attempts in progress and, when joining,
//     of packed attempts waiting for their match: live for minutes, mostly
//     none of it garbage. At GOGC's pace the heap would take twice it.
//
// So collections come as often as allocations fill the headroom, between
// a quarter of GOGC's pace (a large live heap) and eight times it (a small
// one). Peak memory is then about what is live plus the headroom, in a run
// of a minute or of a day.
type gcPace struct {
	base, set int // GOGC as configured, and as set; base 0: collection is off
	live      []metrics.Sample
}

// gcHeadroom is what the heap may grow by before a collection, at
// GOGC=100: what the join allocates in about 40 s of capture time at 1000
// connections a second. A collection then costs little: what is live is
// mostly attempts in progress and packed ones, which it barely scans.
const gcHeadroom = 24 << 20

// newGCPace sets the pace for the heap live now; restore undoes it.
func newGCPace() *gcPace {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	p := &gcPace{live: s[1:]}
	if v := s[0].Value.Uint64(); v > 0 && v <= math.MaxInt32/8 { // else off, or beyond pacing
		p.base, p.set = int(v), int(v)
	}
	p.adjust()
	return p
}

// adjust sets the pace for the heap live after the last collection. A nil
// pace does nothing.
func (p *gcPace) adjust() {
	if p == nil || p.base == 0 {
		return
	}
	metrics.Read(p.live)
	if pct := gcPercent(p.base, p.live[0].Value.Uint64()); pct != p.set {
		debug.SetGCPercent(pct)
		p.set = pct
	}
}

// gcPercent is the GOGC that lets a heap of live bytes grow by gcHeadroom
// (scaled as base, the GOGC configured, is), between base/4 and 8*base.
func gcPercent(base int, live uint64) int {
	if live == 0 {
		return 8 * base
	}
	return int(min(uint64(8*base), max(uint64(base/4), uint64(base)*gcHeadroom/live)))
}

// restore sets the pace back to GOGC.
func (p *gcPace) restore() {
	if p == nil {
		return
	}
	if p.set != p.base {
		debug.SetGCPercent(p.base)
		p.set = p.base
	}
}

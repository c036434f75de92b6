package cmd

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// gcPace keeps the heap from doubling what the join holds. The join keeps
// a window of attempts, packed, for minutes (verdict.StreamWindow): past
// the first minutes, most of the live heap, and none of it garbage. At the
// collector's own pace (GOGC) the heap grows by as much as is live before
// each collection, so the window would take twice its size. Past
// joinHeadroom of live heap, the heap grows by joinHeadroom instead (scaled
// as GOGC is): collections come as often as allocations fill that, not
// rarer for what the window holds, and never more often than at a quarter
// of GOGC.
type gcPace struct {
	base, set int // GOGC as configured, and as set; base 0: collection is off
	live      []metrics.Sample
}

// joinHeadroom is what the heap may grow by before a collection, at
// GOGC=100: what the join allocates in about 40 s of capture time at 1000
// connections a second. A collection then costs little: what is live is
// mostly packed attempts, which the collector does not scan.
const joinHeadroom = 24 << 20

func newGCPace() *gcPace {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	p := &gcPace{live: s[1:]}
	if v := s[0].Value.Uint64(); v > 0 && v <= math.MaxInt32 { // else off
		p.base, p.set = int(v), int(v)
	}
	return p
}

// adjust sets the pace for the heap live after the last collection.
func (p *gcPace) adjust() {
	if p.base == 0 {
		return
	}
	metrics.Read(p.live)
	if pct := gcPercent(p.base, p.live[0].Value.Uint64()); pct != p.set {
		debug.SetGCPercent(pct)
		p.set = pct
	}
}

// gcPercent is the GOGC that lets a heap of live bytes grow by
// joinHeadroom (scaled as base, the GOGC configured, is), between base/4
// and base.
func gcPercent(base int, live uint64) int {
	if live == 0 {
		return base
	}
	return int(min(uint64(base), max(uint64(base/4), uint64(base)*joinHeadroom/live)))
}

// restore sets the pace back to GOGC.
func (p *gcPace) restore() {
	if p.set != p.base {
		debug.SetGCPercent(p.base)
		p.set = p.base
	}
}

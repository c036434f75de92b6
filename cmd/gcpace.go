package cmd

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// gcPace paces the collector for what a run holds, rather than at GOGC's
// own pace (the heap may grow by as much again as is live):
//   - A run starts with little live (a few MB): GOGC would collect at 4, 8,
//     16 MB, four collections in the first seconds of a capture, a tenth of
//     a 100 MB run, to save memory a run of any length takes later anyway.
//   - A long run holds a window of attempts in progress and, when joining,
//     of packed attempts waiting for their match: live for minutes, mostly
//     none of it garbage. At GOGC's pace the heap would take twice it.
//
// So the heap may grow to a budget, or by a fixed headroom past what is
// live, whichever is more (the room to grow scaled as GOGC is). A budget
// keeps a run's peak the same whatever the capture's length, as long as
// what is live stays below it; a headroom suits what holds more (the
// join). Collections then come as often as allocations fill the room,
// between an eighth of GOGC's pace (live near the budget), a quarter (a
// large live heap) and eight times it (a small one).
type gcPace struct {
	base, set        int // GOGC as configured, and as set; base 0: collection is off
	budget, headroom uint64
	live             []metrics.Sample
}

// Paces at GOGC=100. analyzeBudget is about what a 100 MB capture's run
// allocates in all; the window of attempts a run holds at 1000 connections
// a second stays below it, with room to collect every few seconds of
// capture. joinHeadroom is what the join allocates in about 40 s of capture
// time at that rate: a collection then costs little, what is live being
// mostly packed attempts, which it barely scans.
const (
	analyzeBudget = 24 << 20
	joinHeadroom  = 24 << 20
)

// newGCPace sets the pace for the heap live now, to grow to budget or by
// headroom; restore undoes it.
func newGCPace(budget, headroom uint64) *gcPace {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	p := &gcPace{budget: budget, headroom: headroom, live: s[1:]}
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
	if pct := gcPercent(p.base, p.live[0].Value.Uint64(), p.budget, p.headroom); pct != p.set {
		debug.SetGCPercent(pct)
		p.set = pct
	}
}

// heapMinimum is the runtime's first goal at GOGC=100, before anything was
// found live.
const heapMinimum = 4 << 20

// gcPercent is the GOGC that lets a heap of live bytes grow to budget or
// by headroom, whichever is more (the room scaled as base, the GOGC
// configured, is), between base/4 (base/8 near the budget) and 8*base.
func gcPercent(base int, live, budget, headroom uint64) int {
	// The runtime's goal is never below the heap minimum, scaled as GOGC
	// is: while little is live (nothing yet, or a collection forced early
	// in a run), the percentage sets the goal through the minimum.
	atMinimum := min(uint64(8*base), uint64(base)*max(budget, heapMinimum+headroom)/heapMinimum)
	if live == 0 {
		return int(atMinimum)
	}
	room := max(budget, live+headroom) - live
	// The least room: a quarter of what is live, an eighth while what is
	// live stays within twice the budget. A long capture's window of
	// attempts in progress lives near the budget: at a quarter its heap
	// would grow past it, and the run's peak with the capture's length
	// (a 2 GB capture's by 2.5 MB, for some 20 more collections of about
	// 3 ms); a SYN flood far beyond it keeps the quarter, its collections
	// costing more.
	least := uint64(base / 4)
	if budget > 0 && live <= 2*budget {
		least = uint64(base / 8)
	}
	return int(min(atMinimum, max(least, uint64(base)*room/live)))
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

package flows

import (
	"fmt"
	"time"
)

// freezeAfter is how long an attempt goes without a packet before it is
// packed (see cold.go). Packing and unpacking cost about a microsecond
// each, on the goroutine every packet waits for, so not at every SYN: past
// a client's first gaps between SYN retransmissions (1, 2, 4 and 8 s), an
// attempt is packed once or twice. What stays unpacked is the last 10 s of
// capture's quiet attempts, the same for a capture of a minute or a day.
const freezeAfter = 10 * time.Second

// frozenAttempt is a packed attempt. Its DNS answer stays a pointer: it
// is the tracker's, recycled with the attempt.
type frozenAttempt struct {
	b   []byte
	dns *DNSAnswer
	gen uint32 // bumped at each thaw, so queue entries tell they are stale
}

// coldEntry is a frozen attempt in the order it was frozen, which is its
// order in the lru list: touched decides between it and the list's head.
type coldEntry struct {
	idx, gen uint32
	touched  uint64
	last     int64 // its last activity, in nanoseconds (nanos)
}

// packAbove is how many attempts in progress stay unpacked before quiet
// ones are packed (about 5 MB of them). Packing and unpacking cost on the
// goroutine every packet waits for, so they are paid only where memory is
// at stake. On the 100 MB mix (bench/mix.sh) 4096 packs 4,118 attempts:
// tracking alone takes a sixth more CPU than with 8192 (BenchmarkTrackMix,
// 201 against 172 ns a packet), but a whole run is no slower (judging and
// writing on the other core set its pace: 88 against 90 ms, medians of 15
// interleaved runs), and 1 and 2 GB runs peak 6 MB lower (62 against 68).
const packAbove = 4096

// freezeIdle packs the attempts idle for freezeAfter, least recently
// active first, while more than packAbove are unpacked.
func (t *Tracker) freezeIdle(nowNS int64) {
	unpacked := t.pending - (len(t.frozen) - len(t.coldFree))
	for i := t.head; i != noState && unpacked > t.packAbove; {
		a := t.state(i)
		if nowNS-a.last < int64(freezeAfter) {
			break
		}
		i = a.next
		if t.pack(a) {
			unpacked--
		}
	}
}

// pack packs a, unless it holds what packing cannot keep; its slot then
// holds the index of the packed bytes.
func (t *Tracker) pack(a *attemptState) bool {
	if !t.packable(a) {
		return false
	}
	var idx uint32
	if n := len(t.coldFree); n > 0 {
		idx, t.coldFree = t.coldFree[n-1], t.coldFree[:n-1]
	} else {
		idx = uint32(len(t.frozen))
		t.frozen = append(t.frozen, frozenAttempt{})
	}
	f := &t.frozen[idx]
	b, ok := t.freeze(t.coldScratch, a)
	t.coldScratch = b[:cap(b)]
	if !ok {
		t.coldFree = append(t.coldFree, idx)
		return false
	}
	// Kept at its size: appending would leave a third of it unused.
	if cap(f.b) < len(b) || cap(f.b) > 2*len(b) {
		f.b = make([]byte, len(b))
	}
	f.b = append(f.b[:0], b...)
	f.dns = a.DNS
	s := &t.conns.slots[t.slotOf(a)]
	s.att, s.isn = noState, idx
	s.ctl |= ctlFrozen
	t.cold = append(t.cold, coldEntry{idx: idx, gen: f.gen, touched: a.touched, last: a.last})
	a.DNS = nil // it goes with the packed bytes, not to the free list
	t.recycle(a)
	t.pending++ // still pending, frozen
	return true
}

// unpack unpacks the frozen attempt at idx back into the table and the
// lru list, in its place by touch order.
func (t *Tracker) unpack(idx uint32) *attemptState {
	f := &t.frozen[idx]
	a := t.newState()
	if err := t.thaw(a, f.b); err != nil {
		panic(fmt.Sprintf("flows: frozen attempt %d: %v", idx, err)) // packed by freeze: a bug
	}
	a.DNS, f.dns = f.dns, nil
	f.gen++
	t.coldFree = append(t.coldFree, idx)
	s := &t.conns.slots[t.find(a.Key)]
	s.att, s.isn = a.idx, 0
	s.ctl &^= ctlFrozen
	// Attempts that could not be frozen may be older: they stay first.
	before := int32(noState)
	for b := t.head; b != noState && t.state(b).touched < a.touched; b = t.state(b).next {
		before = b
	}
	t.linkAfter(a, before)
	return a
}

// oldest returns the least recently active attempt in progress, thawed
// if it was frozen, or nil if none is. With idleFor > 0, only one idle
// that long at nowNS.
func (t *Tracker) oldest(nowNS int64, idleFor time.Duration) *attemptState {
	for len(t.cold) > 0 && t.thawed(t.cold[0]) {
		t.cold = t.cold[1:] // thawed by a packet since
	}
	var a *attemptState
	if t.head != noState {
		a = t.state(t.head)
	}
	if len(t.cold) > 0 && (a == nil || t.cold[0].touched < a.touched) {
		e := t.cold[0]
		if idleFor > 0 && !farNS(nowNS, e.last, idleFor) {
			return nil
		}
		t.cold = t.cold[1:]
		return t.unpack(e.idx)
	}
	if a == nil || (idleFor > 0 && !farNS(nowNS, a.last, idleFor)) {
		return nil
	}
	return a
}

// thawed says whether a queue entry is stale: its attempt was unpacked
// by a packet since.
func (t *Tracker) thawed(e coldEntry) bool { return t.frozen[e.idx].gen != e.gen }

// farNS is far on nanoseconds.
func farNS(a, b int64, d time.Duration) bool { return a-b >= int64(d) || a-b <= -int64(d) }

// linkAfter puts a into the lru list after the state before (first if
// noState).
func (t *Tracker) linkAfter(a *attemptState, before int32) {
	a.prev = before
	if before == noState {
		a.next, t.head = t.head, a.idx
	} else {
		b := t.state(before)
		a.next, b.next = b.next, a.idx
	}
	if a.next != noState {
		t.state(a.next).prev = a.idx
	} else {
		t.tail = a.idx
	}
}

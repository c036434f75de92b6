package flows

import (
	"net/netip"
	"time"

	"github.com/synpath/synpath/capture"
)

// A capture that records which way packets crossed its host (a Linux
// cooked header's packet type: tcpdump -i any) shows, on a router, a
// firewall or a Kubernetes node, each SYN it passes on twice: as received
// and as sent on, microseconds later, under the same addresses or, where
// the host translates them, under others with the same ISN. A SYN it
// received and never sent on, it dropped; the same for the server's
// SYN-ACKs, by the server's ISN. passOn pairs the two copies through a
// small table keyed by sequence number, whatever their addresses, and
// remembers what the pairs show of the host: the servers it passes SYNs
// on to, the addresses it answers SYNs from itself.

// passOnWindow is how long a received SYN waits for its copy sent on. A
// kernel passes a packet on within microseconds; a userspace queue
// (NFQUEUE, an inline IPS) within milliseconds. A client resends its SYN
// a second or more later: on loopback, where each SYN is sent and then
// received, the next one sent is not the last one passed on.
const passOnWindow = 200 * time.Millisecond

// passOnQueued is how long a received SYN waits for its copy sent on when
// the copy has a hop fewer, as a router sends it: a router's queue on its
// way out may hold a packet for seconds (bufferbloat). A host's own SYN
// never has a hop fewer than one received (on loopback, each SYN sent is
// received with the same TTL, and the next sent a second later).
const passOnQueued = 5 * time.Second

// passOnSlots is the size of the table of received SYNs and SYN-ACKs
// awaiting their copy, in buckets of passOnWays by sequence number.
// Paired entries free their slot, so it holds those the host dropped or
// has not passed on yet; a new one takes a free slot in its bucket, or the
// oldest, and one pushed out while its copy may still come (within
// passOnQueued) marks its attempt Unpaired.
const (
	passOnSlots = 1 << 12
	passOnWays  = 4
)

// passOnEntry is a received SYN (or SYN-ACK) awaiting its copy sent on.
type passOnEntry struct {
	ns     int64 // when it came; 0: free
	seq    uint32
	att    int32 // its attempt's state (Tracker.state)
	ttl    uint8
	synack bool
	// pending counts the copies received and not yet sent on: a client
	// resends its SYN while a router's queue holds the one before.
	pending uint8
}

// waitFor is how long e waits for its copy: p, if p has a hop fewer.
func (e *passOnEntry) waitFor(p *capture.Packet) time.Duration {
	if p.TTL < e.ttl {
		return passOnQueued
	}
	return passOnWindow
}

// addrSetSize is how many addresses an addrSet remembers: a table
// indexed by address hash, each slot the last address hashed there.
// Forgetting one costs a claim, never a wrong one.
const addrSetSize = 1 << 10

type addrSet struct {
	addrs [addrSetSize][16]byte
	known [addrSetSize]bool
	// at is, for passesTo and passesBackTo, when the latest packet passed
	// on to the address was received (nanoseconds).
	at [addrSetSize]int64
}

func addrSlot(a netip.Addr) (int, [16]byte) {
	b := a.As16()
	h := uint64(0)
	for _, c := range b {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	return int(h>>32) & (addrSetSize - 1), b
}

func (s *addrSet) has(a netip.Addr) bool {
	i, b := addrSlot(a)
	return s.known[i] && s.addrs[i] == b
}

func (s *addrSet) add(a netip.Addr) {
	i, b := addrSlot(a)
	if s.addrs[i] != b {
		s.at[i] = 0
	}
	s.addrs[i], s.known[i] = b, true
}

// since reports that a is in the set with a time after ns.
func (s *addrSet) since(a netip.Addr, ns int64) bool {
	i, _ := addrSlot(a)
	return s.has(a) && s.at[i] > ns
}

// addAt adds a, received at ns, keeping the latest time.
func (s *addrSet) addAt(a netip.Addr, ns int64) {
	s.add(a)
	if i, _ := addrSlot(a); ns > s.at[i] {
		s.at[i] = ns
	}
}

type passOn struct {
	waiting [passOnSlots]passOnEntry
	// passesTo: servers the host passed received SYNs on to; routesTo:
	// those it passed them on to under the same server address (the
	// client's translated at most); own: the addresses it sent SYN-ACKs
	// of its own from (not copies).
	passesTo, routesTo, own addrSet
	// passesBackTo: clients the host passed servers' SYN-ACKs back to.
	passesBackTo addrSet
}

// passesOnTo, routes and serves report what the capture showed of its
// host: passing SYNs for server on, routing them to it, answering SYNs as
// server itself.
func (po *passOn) passesOnTo(server netip.Addr) bool { return po != nil && po.passesTo.has(server) }
func (po *passOn) routes(server netip.Addr) bool     { return po != nil && po.routesTo.has(server) }
func (po *passOn) serves(server netip.Addr) bool     { return po != nil && po.own.has(server) }

// passesBackLater reports that the host passed a server's SYN-ACK back to
// s's client that it received after the first of s's SYN-ACKs it holds:
// those to the copy it passed on translated (SYNACKsToCopy), or s's own
// (the translated view's, or a routed connection's; in a capture without
// directions, those it shows seen again with hops lost).
func (t *Tracker) passesBackLater(s *attemptState) bool {
	switch client := s.Key.Client; {
	case t.passOn == nil:
		return false
	case s.SYNACKsToCopy > 0:
		return t.passOn.passesBackTo.since(client.Addr(), nanos(t.timeOf(s.synackToCopyFirst)))
	case s.SYNACK.Count > 0:
		if s.ReceivedAs != (Key{}) {
			client = s.ReceivedAs.Client
		}
		return t.passOn.passesBackTo.since(client.Addr(), nanos(t.timeOf(s.SYNACK.First)))
	}
	return false
}

// passedBack notes a SYN-ACK the host passed back to client, received at
// ns.
func (t *Tracker) passedBack(client netip.Addr, ns int64) {
	if t.passOn == nil {
		t.passOn = new(passOn)
	}
	t.passOn.passesBackTo.addAt(client, ns)
}

// seqBucket is the first slot of seq's bucket.
func seqBucket(seq uint32) int { return int((seq*0x9e3779b1)>>22) * passOnWays }

// find returns the entry awaiting the copy of the packet with sequence
// number seq, or nil.
func (po *passOn) find(seq uint32, synack bool) *passOnEntry {
	b := seqBucket(seq)
	for i := b; i < b+passOnWays; i++ {
		if e := &po.waiting[i]; e.ns != 0 && e.seq == seq && e.synack == synack {
			return e
		}
	}
	return nil
}

// slotFor returns the slot a new entry for seq takes: a free one in its
// bucket, else the oldest.
func (po *passOn) slotFor(seq uint32) *passOnEntry {
	b := seqBucket(seq)
	oldest := &po.waiting[b]
	for i := b; i < b+passOnWays; i++ {
		e := &po.waiting[i]
		if e.ns == 0 {
			return e
		}
		if e.ns < oldest.ns {
			oldest = e
		}
	}
	return oldest
}

// noteDirection pairs the client's SYN or the server's SYN-ACK p, taken by
// attempt a, with its copy received or sent on (Attempt.SYNsIn). copyFirst:
// p is received, and its copy sent on was the attempt's packet before it.
func (t *Tracker) noteDirection(a *attemptState, p *capture.Packet, synack, copyFirst bool) {
	if t.passOn == nil {
		t.passOn = new(passOn)
	}
	if synack && p.Dir == capture.DirIn && a.ReceivedAs != (Key{}) {
		// An answer to SYNs passed on translated: the attempt under the
		// client's addresses counts it.
		if b := t.stateOf(a.ReceivedAs, a.ISN); b != nil {
			if b.SYNACKsToCopy == 0 {
				b.synackToCopyFirst = t.pktStamp
			}
			b.SYNACKsToCopy++
		}
	}
	in, out, _ := a.directed(synack)
	switch p.Dir {
	case capture.DirIn:
		*in++
		if copyFirst {
			// Its copy, counted as sent when it came, was passed on.
			s := &a.SYN
			if synack {
				s = &a.SYNACK
			}
			if s.Count == 1 {
				s.TTL, s.IPID = p.TTL, p.IPID // as it came, as in time order
			}
			t.passedOn(a, a, p, synack, t.pktNS)
			return
		}
		if e := t.passOn.find(p.Seq, synack); e != nil && t.pktNS >= e.ns && t.pktNS-e.ns <= int64(passOnQueued) && e.pending < 255 {
			// Received again while the copy before waits to be sent on.
			e.ns, e.ttl, e.pending = t.pktNS, p.TTL, e.pending+1
			return
		}
		e := t.passOn.slotFor(p.Seq)
		if e.ns != 0 && t.pktNS-e.ns < int64(passOnQueued) {
			// Pushed out while it may still be passed on.
			if b := t.waitingState(e); b != nil {
				b.Unpaired = true
			}
		}
		*e = passOnEntry{ns: t.pktNS, seq: p.Seq, att: a.idx, ttl: p.TTL, synack: synack, pending: 1}
	case capture.DirOut:
		*out++
		e := t.passOn.find(p.Seq, synack)
		// A copy may be stamped a little before what it copies: a
		// capture merging interfaces records them out of time order by
		// microseconds.
		if e == nil || t.pktNS-e.ns > int64(e.waitFor(p)) || e.ns-t.pktNS > int64(duplicateWindow) {
			if synack && capture.Hops(p.TTL) == 0 && a.SYNsIn > 0 && a.SYNsPassedOn == 0 && a.SYNsRelayed == 0 {
				// Sent as sent, answering a SYN the host received and
				// kept: its own answer (a bridge's copy whose original
				// the table lost would answer a SYN passed on).
				t.passOn.own.add(p.Src.Addr())
			}
			return
		}
		// Passed on under the addresses it came with (b is a), or
		// translated (another address pair, the same sequence number).
		if b := t.waitingState(e); b != nil {
			t.passedOn(a, b, p, synack, e.ns)
		}
		if e.pending--; e.pending == 0 {
			*e = passOnEntry{}
		}
	}
}

// passedOn counts p, sent on by attempt a, as the copy of what attempt b
// received at ns (b is a unless the host translated the addresses).
func (t *Tracker) passedOn(a, b *attemptState, p *capture.Packet, synack bool, ns int64) {
	in, _, passed := b.directed(synack)
	if *passed >= *in {
		return
	}
	*passed++
	if synack {
		t.passedBack(p.Dst.Addr(), ns)
		return
	}
	a.SYNsRelayed++
	a.RelayedFromTTL = b.SYN.TTL
	t.passOn.passesTo.addAt(b.Key.Server.Addr(), ns)
	if a.Key.Server.Addr() == b.Key.Server.Addr() {
		t.passOn.routesTo.add(b.Key.Server.Addr())
	}
	if b != a {
		b.PassedOnAs, a.ReceivedAs = a.Key, b.Key
	}
}

// queuedCopy reports whether p, recorded as sent (the caller looks) and
// taken by attempt a, is the copy of a SYN or SYN-ACK the host received, a
// hop fewer (waitFor): longer ago than a capture's copies lie apart
// (duplicateWindow), a packet a router's queue held on its way out, not
// one more transmission; or within that window, under a's own addresses,
// with another packet of a recorded between the two (a router passing on
// a resent SYN and the server's SYN-ACK at once: in, in, out, out), which
// the check against the packet before (duplicate) does not see.
func (t *Tracker) queuedCopy(a *attemptState, p *capture.Packet) bool {
	if t.passOn == nil || p.Flags&capture.FlagSYN == 0 {
		return false
	}
	e := t.passOn.find(p.Seq, p.Flags.Has(capture.FlagACK))
	if e == nil || e.waitFor(p) != passOnQueued {
		return false
	}
	d := t.pktNS - e.ns
	if d >= -int64(duplicateWindow) && d <= int64(duplicateWindow) {
		return e.att == a.idx
	}
	return d > int64(duplicateWindow) && d <= int64(passOnQueued)
}

// directed returns a's counters of SYNs (or SYN-ACKs) received, sent, and
// received and passed on.
func (a *attemptState) directed(synack bool) (in, out, passed *uint32) {
	if synack {
		return &a.SYNACKsIn, &a.SYNACKsOut, &a.SYNACKsPassedOn
	}
	return &a.SYNsIn, &a.SYNsOut, &a.SYNsPassedOn
}

// stateOf returns the attempt in progress under k with ISN isn, if it is
// unpacked (a packed one is let be: the count it would get is a claim's,
// never a wrong one's).
func (t *Tracker) stateOf(k Key, isn uint32) *attemptState {
	i := t.find(k)
	if i < 0 {
		return nil
	}
	if s := &t.conns.slots[i]; s.att != noState {
		if b := t.state(s.att); b.ISN == isn {
			return b
		}
	}
	return nil
}

// waitingState returns the attempt in progress a table entry names, if it
// is still the one: the attempt may have ended since, its state reused.
func (t *Tracker) waitingState(e *passOnEntry) *attemptState {
	if e.synack {
		if b := t.stateIfAny(e.att); b != nil && b.SYNACK.Count > 0 && b.ServerISN == e.seq {
			return b
		}
		return nil
	}
	return t.stateIfISN(e.att, e.seq)
}

// stateIfAny returns the attempt in progress at index i, if any.
func (t *Tracker) stateIfAny(i int32) *attemptState {
	if i == noState || int(i) >= len(t.states)*statesPerPage {
		return nil
	}
	if s := t.state(i); s.idx == i && s.SYN.Count > 0 {
		return s
	}
	return nil
}

// stateIfISN returns the attempt in progress at index i if its ISN is
// isn: the attempt a table entry names may have ended since, its state
// reused.
func (t *Tracker) stateIfISN(i int32, isn uint32) *attemptState {
	if s := t.stateIfAny(i); s != nil && s.ISN == isn {
		return s
	}
	return nil
}

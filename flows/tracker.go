package flows

import (
	"math"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/synpath/synpath/capture"
)

// Config tunes a Tracker.
type Config struct {
	// Idle is how long an attempt is kept after its last packet. An
	// unsettled attempt is then handed on (the verdict stage decides
	// between timeout and incomplete); a settled one, already handed on, is
	// forgotten, after absorbing its stragglers. It must exceed the longest
	// gap between SYN retransmissions (Linux: up to 64 s), or one attempt
	// would be split in two.
	Idle time.Duration
	// MaxAttempts bounds the table (SYN floods): beyond it the least
	// recently active attempt is handed on early. 0: no bound.
	MaxAttempts int
	// RSTGrace is how long a RST that ends a handshake waits for packets
	// showing the client did not take it (it resent its SYN, or the
	// handshake went on), so the attempt is judged by how it ended. 0: the
	// default, 1.5 s (past the first SYN retransmission).
	RSTGrace time.Duration
	// OnMidstream, if set, is called for each connection seen without its
	// SYN once it has been idle for Idle, or at Finish (SPEC: such
	// connections are counted, and listed only when asked).
	OnMidstream func(*Midstream)
	// OnDNS, if set, is called for each failed DNS lookup: an error
	// response (NXDOMAIN, SERVFAIL, REFUSED, …) as it comes, a query
	// unanswered DNSWait after its last retry, and at Finish the lookups
	// still unanswered (EndCapture). The *Lookup is only valid during the
	// call.
	OnDNS func(*Lookup)
	// OnHost, if set, is called for each address the capture shows in a
	// packet of no attempt (a connection without its SYN, DNS, ICMP,
	// capture.KindOtherIP packets), up to maxHosts of them: once when
	// first seen, and once more (nonTCP set) when first seen in a packet
	// other than TCP. A join learns from it which hosts a capture without
	// attempts to a server still shows, and which it shows beyond TCP (a
	// capture filtered to some TCP ports holds no such packet).
	OnHost func(addr netip.Addr, nonTCP bool)
	// HandOver, if set, takes each attempt handed on in place of the
	// emit function: the tracker lets go of it, and the taker may keep
	// it (to judge it on another goroutine) without copying it. It returns
	// an attempt the tracker may reuse, one handed over earlier that the
	// taker is done with, or nil. Attempts are handed over in the order
	// emit would see them, once the tracker is done with each.
	HandOver func(*Attempt) *Attempt
	// DNSWait is how long after its last retry a query may go unanswered
	// before its lookup has failed. 0: DefaultDNSWait.
	DNSWait time.Duration
}

// Midstream is a connection whose SYN was not in the capture: not an
// attempt, but worth knowing about (a capture started too late).
type Midstream struct {
	From, To netip.AddrPort // the endpoints, as the first packet went
	First    capture.Ref
	Last     time.Time
	Packets  uint64
}

const defaultRSTGrace = 1500 * time.Millisecond

// heldAttempt is a refusal waiting out its grace; the fields tell a stale
// entry (the attempt went on, or was recycled) from a live one.
type heldAttempt struct {
	idx   int32
	held  uint32 // attemptState.held when it was held
	until time.Time
}

// maxHandshakeRTT is the longest a SYN-ACK can take to answer a client's
// only SYN: clients resend it after 1 s (3 s in older stacks), so a
// longer time between the two is the capture's clock stepping, not a
// round trip (HopRef.MinRTT).
const maxHandshakeRTT = 3 * time.Second

// serverTTLKeep is how many Idle periods a server's TTL reference is kept.
const serverTTLKeep = 10

// DefaultConfig suits captures of real hosts.
var DefaultConfig = Config{Idle: 70 * time.Second, MaxAttempts: 1 << 20}

// Counts are a Tracker's totals.
type Counts struct {
	Attempts  uint64 // attempts handed on
	Midstream uint64 // connections whose SYN was not in the capture
	PortReuse uint64 // attempts replaced by a new SYN on the same 4-tuple
	Evicted   uint64 // attempts handed on early because the table was full
	// Duplicates are packets captured twice (tcpdump -i any on a router),
	// counted once.
	Duplicates uint64
	// DNSFailed counts the failed lookups handed to Config.OnDNS.
	DNSFailed uint64
	// DNSDropped counts queries not followed because too many lookups
	// were pending; DNSHostsDropped the clients whose answers were
	// forgotten early to make room for others'.
	DNSDropped, DNSHostsDropped uint64
	// Gaps counts attempts one end of which acknowledged data of the
	// other's that the capture never showed: the capture missed packets
	// (it dropped them, or they went past it), whatever its statistics
	// say.
	Gaps uint64
	// Plain counts TCP segments with neither SYN, FIN nor RST: ACKs and
	// data (Attempt.FlagsOnly); NonSYN those without SYN (Attempt.SYNsOnly).
	Plain, NonSYN uint64
}

// Tracker rebuilds attempts from packets. It is not safe for concurrent
// use: feed it from one goroutine.
type Tracker struct {
	cfg  Config
	emit func(*Attempt)

	// conns holds attempts in progress and the tombs of those handed on
	// before their connection ended: a few bytes that absorb the rest of
	// it, so its later packets are not taken for connections without a SYN.
	conns connTable
	probe probe
	// recentSYNs pairs an attempt with the one its client fell back to
	// (noteSYN, noteAnswer).
	recentSYNs [recentSYNPorts]recentSYN
	pending    int // attempts in conns
	// gaps are attempts handed on with an acknowledgment past the data
	// captured, waiting to see whether the data follows (suspectGap).
	gaps []suspectGap
	// states holds attempts in progress, by index, with a free list, and
	// moreEvents the events of those with many.
	states     [][]attemptState // pages of statesPerPage
	freeStates []int32
	moreEvents []*moreEvents
	freeMore   []int32
	head, tail int32  // least recently active first
	touches    uint64 // touch calls so far: the lru order as a number
	// files names the capture files states refer to by index.
	files fileNames
	// The packet being observed: its time as a stamp and in nanos (and
	// whole, when not plain).
	pktStamp stamp
	pktNS    int64
	pktTime  time.Time
	// loc is the location of plain times: the first packet's.
	loc *time.Location
	// oddTimes holds the times that are not plain, by their stamps (the
	// latest given out is lastOdd).
	oddTimes map[stamp]time.Time
	lastOdd  stamp
	holds    uint32 // graces begun (attemptState.held)
	// Attempts quiet for freezeAfter are packed (freeze.go): frozen by
	// index, with free indexes and the queue of them in lru order.
	frozen   []frozenAttempt
	coldFree []uint32
	cold     []coldEntry
	// coldScratch is where an attempt is packed before it is copied to
	// storage of its size.
	coldScratch []byte
	// peek is what PendingAttempts shows, and peekState a frozen attempt
	// unpacked for it.
	peek      *Attempt
	peekState attemptState
	packAbove int // packAbove; tests change it
	// free holds public records for attempts handed on.
	free []*Attempt
	// epoch is the capture time tombs count their seconds from; lastTombSweep
	// when they were last swept.
	epoch         int64
	first         time.Time // the first packet's time (Attempt.CaptureFrom)
	lastTombSweep time.Time

	// serverTTL is what the capture showed of each server address's
	// packets (HopRef): the reference for judging RSTs that claim that
	// address, and for trusting its silence.
	serverTTL map[netip.Addr]HopRef
	// portTTL is the same for each server address and port (PortHops).
	portTTL map[netip.AddrPort]HopRef
	// midstream holds connections seen without their SYN.
	midstream map[Key]*Midstream
	// hosts are the addresses told to Config.OnHost, with what was told
	// (hostSeen, hostNonTCP); lastHost the last one looked up and its
	// bits, which most packets repeat.
	hosts        map[netip.Addr]uint8
	lastHost     netip.Addr
	lastHostBits uint8
	// held are refusals waiting out Config.RSTGrace, oldest first.
	held []heldAttempt
	// dns follows lookups and keeps recent answers; made at the first DNS
	// message.
	dns *dnsTable

	// now is the clock expiry runs on; see tick.
	now, lastSweep, lastMidSweep time.Time
	nowNS, lastSweepNS           int64     // now and lastSweep in nanoseconds (nanos)
	nowSec                       int32     // now in tomb seconds
	odd                          time.Time // a packet's time the clock has not followed yet
	jumps                        TimeJump
	// read is the span of the packets' times read so far, in file order
	// (low and high), and readBefore that span as it was before the
	// latest step back (once steppedBack): Attempt.AfterStepBack.
	read, readBefore [2]int64
	steppedBack      bool
	counts           Counts
	// answeredUnseen: an attempt handed on was Attempt.AnsweredUnseen.
	// answered counts attempts a SYN-ACK answered.
	answeredUnseen bool
	answered       int
	// midPath: a handshake showed both its SYN and its SYN-ACK having
	// crossed routers (Attempt.MidPath).
	midPath bool
	// passOn pairs the SYNs a capture recording directions shows its host
	// receiving with their copies sent on (passon.go); nil until one
	// came in.
	passOn *passOn
	// sumsLie: a segment the capture shows with a wrong checksum was taken
	// by its receiver; sumsRight: it showed one with a right checksum.
	// Its wrong checksums are trusted only with the second and without the
	// first (Attempt.SumsUntrusted).
	sumsLie, sumsRight bool
}

// Capture time jumps: clocks get stepped, files are merged out of order,
// a corrupt record carries any time at all. Expiry runs on a clock that
// follows the packets, with these guards:
//   - A packet less than maxBehind behind it leaves it alone: frames merged
//     from several interfaces come slightly out of order.
//   - One further behind, or more than maxAhead ahead, moves it only when
//     the next packet lands within Idle of it too. A single packet a day
//     ahead would otherwise hand on every attempt in progress as idle, and
//     one an hour back would stall expiry for an hour. A real jump (a clock
//     set back, rotated files given out of order, a capture written
//     backwards) lasts beyond one packet, and the clock follows it.
//   - Shorter steps ahead are followed at once: one packet after a quiet
//     spell cannot be told from an odd one, and a quiet spell must hand on
//     what it left idle as it ends, not a packet later.
//
// Idleness is the distance from the clock in either direction, so that
// attempts from before a step back are not kept until the clock catches up
// with them.
const (
	maxBehind = time.Second
	maxAhead  = 24 * time.Hour
)

// TimeJump is where capture time first jumped further than the expiry
// clock follows at once (back by more than maxBehind, ahead by more than
// maxAhead), and how many packets did.
type TimeJump struct {
	At    capture.Ref
	By    time.Duration // negative: backwards
	Count uint64
}

// TimeJumps says whether, where and how often capture time jumped.
func (t *Tracker) TimeJumps() TimeJump { return t.jumps }

// tick moves the expiry clock for a packet at ts and expires what has
// become idle.
func (t *Tracker) tick(p *capture.Packet) {
	ts := p.TS
	n := nanos(ts)
	if n < t.pktNS-int64(stepBack) && !ts.IsZero() {
		t.noteStepBack(n)
	}
	t.pktNS = n
	if t.pktStamp = t.stampOf(ts, n); t.pktStamp == oddPacket {
		t.pktTime = ts
	}
	if ts.IsZero() { // a simple packet block has no time
		return
	}
	if d := n - t.nowNS; !t.now.IsZero() && d >= -int64(maxBehind) && d <= int64(maxAhead) {
		// The common case, on integers: time.Time arithmetic per packet
		// cost a tenth of tracking.
		if !t.odd.IsZero() {
			t.odd = time.Time{}
		}
		if d > 0 {
			t.setNow(ts, n)
		}
	} else {
		t.tickOdd(p, ts, n)
	}
	if d := t.nowNS - t.lastSweepNS; d >= int64(time.Second) || d <= -int64(time.Second) {
		t.Expire(t.now)
	}
}

// tickOdd moves the clock for the first packet, and for one further off
// than the clock follows at once.
func (t *Tracker) tickOdd(p *capture.Packet, ts time.Time, n int64) {
	if t.now.IsZero() {
		t.epoch = ts.Unix()
		if t.first.IsZero() || ts.Before(t.first) {
			t.first = ts
		}
		t.setNow(ts, n)
		t.read = [2]int64{n, n}
		return
	}
	if t.jumps.Count == 0 {
		t.jumps.At, t.jumps.By = p.Ref, ts.Sub(t.now)
	}
	t.jumps.Count++
	if t.odd.IsZero() || far(ts, t.odd, t.cfg.Idle) {
		t.odd = ts // wait for the next packet to confirm the jump
		return
	}
	t.odd = time.Time{}
	t.setNow(ts, n)
}

// setNow moves the expiry clock to ts, whose nanos are n.
func (t *Tracker) setNow(ts time.Time, n int64) {
	t.now, t.nowNS, t.nowSec = ts, n, t.seconds(ts)
	t.read[1] = max(t.read[1], n)
}

// stepBack is how far back a packet's time must go from the one before it
// for the file to hold stretches out of time order, as the capture
// package's time-order walk reads them (its runBreak): frames merged from
// several interfaces come out of order by less.
const stepBack = 10 * time.Millisecond

// noteStepBack notes a packet at n, further back than stepBack from the
// one before it: the file, read as it lies, holds the times read so far
// ahead of what follows.
func (t *Tracker) noteStepBack(n int64) {
	if t.now.IsZero() {
		return
	}
	t.steppedBack, t.readBefore = true, t.read
	t.read[0] = min(t.read[0], n)
}

// beforeItsStart reports that p, a packet of attempt a read after the
// file's times stepped back, is from more than a step before a's first
// SYN: the file holds a in pieces, its end read first (OutOfTimeOrder). A
// SYN with another ISN (clientSYN) is an earlier connection on these
// ports, not a's start.
func (t *Tracker) beforeItsStart(a *attemptState, p *capture.Packet, clientSYN bool) bool {
	return t.pktStamp > 0 && a.SYN.First > 0 && t.pktStamp < a.SYN.First-stamp(stepBack) && !(clientSYN && p.Seq != a.ISN)
}

// afterStepBack reports that an attempt whose first SYN is p may have
// packets in a part of the file read before it: the file's times stepped
// back, and the span read before the latest step holds times from the SYN
// to Idle after it; or packets of its connection, later than the SYN,
// came before it in the file (a step too small to tell from frames merged
// out of order, but for the connection it cuts in two).
func (t *Tracker) afterStepBack(p *capture.Packet) bool {
	if t.steppedBack && t.pktNS <= t.readBefore[1] && t.pktNS+int64(t.cfg.Idle) >= t.readBefore[0] {
		return true
	}
	if len(t.midstream) == 0 {
		return false
	}
	m := t.midstream[midstreamKey(p)]
	return m != nil && m.Last.After(p.TS)
}

// nanos is ts in nanoseconds since 1970, clamped to ±2^62 (a corrupt
// record's time may be any at all) so that differences cannot overflow.
func nanos(ts time.Time) int64 {
	const limit = 1 << 62
	sec := ts.Unix()
	switch {
	case sec >= limit/int64(time.Second):
		return limit
	case sec <= -limit/int64(time.Second):
		return -limit
	}
	return sec*int64(time.Second) + int64(ts.Nanosecond())
}

// far says whether a and b are d or more apart, either way round.
func far(a, b time.Time, d time.Duration) bool {
	diff := a.Sub(b) // saturates rather than overflows
	return diff >= d || diff <= -d
}

// NewTracker returns a Tracker that calls emit once per attempt, as soon as
// its outcome is settled or it has been idle for cfg.Idle. The *Attempt is
// only valid during the call: the Tracker reuses it; use Clone to keep it.
func NewTracker(cfg Config, emit func(*Attempt)) *Tracker {
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultConfig.Idle
	}
	if cfg.RSTGrace <= 0 {
		cfg.RSTGrace = defaultRSTGrace
	}
	if cfg.DNSWait <= 0 {
		cfg.DNSWait = DefaultDNSWait
	}
	t := &Tracker{
		cfg:       cfg,
		emit:      emit,
		serverTTL: make(map[netip.Addr]HopRef),
		portTTL:   make(map[netip.AddrPort]HopRef),
		midstream: make(map[Key]*Midstream),
		// Before any sweep: the first packet sweeps, whatever its time.
		lastSweepNS: -1 << 62,
		packAbove:   packAbove,
	}
	// The clock before any packet: the zero time.
	t.nowNS, t.nowSec = nanos(t.now), t.seconds(t.now)
	t.conns.init()
	return t
}

// Began tells the tracker when the capture began, before its first
// packet: records it is not given (other protocols, filtered out) may come
// first, and a capture's start tells what it may have missed of an
// attempt (Attempt.CaptureFrom). Without it, the first packet's time is
// taken.
func (t *Tracker) Began(ts time.Time) {
	if !ts.IsZero() && (t.first.IsZero() || ts.Before(t.first)) {
		t.first = ts
	}
}

// Counts returns the totals so far.
func (t *Tracker) Counts() Counts { return t.counts }

// FlagsOnly reports that the capture, as far as read, was taken with a
// filter on TCP flags (Attempt.FlagsOnly).
func (t *Tracker) FlagsOnly() bool {
	return t.counts.Plain == 0 && (t.answeredUnseen || t.answered >= flagsOnlyAnswered)
}

// Pending returns how many attempts are being tracked.
func (t *Tracker) Pending() int { return t.pending }

// Observe takes one packet. Packets should come in capture order.
func (t *Tracker) Observe(p *capture.Packet) {
	t.tick(p)
	switch p.Kind {
	case capture.KindICMP:
		t.noteHosts(p, hostSeen|hostNonTCP)
		t.entombIfHandedOn(t.observeICMP(p))
		return
	case capture.KindDNS:
		t.noteHosts(p, hostSeen|hostNonTCP)
		t.observeDNS(p)
		return
	case capture.KindOtherIP:
		t.noteHosts(p, hostSeen|hostNonTCP)
		return
	}
	if p.PayloadLen > 0 && p.DNS.TCP { // the length first: the DNS fields lie in a line of their own
		t.observeDNS(p) // and the segment goes on as any other
	}
	isSYN := p.Flags.BareSYN()
	if p.Flags&capture.FlagSYN == 0 {
		t.counts.NonSYN++
		if p.Flags&(capture.FlagFIN|capture.FlagRST) == 0 {
			t.counts.Plain++
		}
	}
	if p.GoodSum {
		t.sumsRight = true
	}
	a, tomb, fromClient := t.lookup(p)
	earlier := EarlierNone
	var twins uint32
	// The way and TTL of the attempt's packet before this one.
	var prevDir capture.Direction
	var prevTTL uint8
	if a != nil {
		twins, prevDir, prevTTL = a.SYNACKTwins, a.lastSig.dir, a.lastSig.ttl
		if t.steppedBack && t.beforeItsStart(a, p, isSYN && fromClient) {
			a.OutOfTimeOrder = true
		}
	}
	if tomb >= 0 {
		if s := &t.conns.slots[tomb]; !isSYN || !fromClient || p.Seq == s.isn {
			t.straggle(s, p, fromClient)
			return
		}
		// A new ISN on the 4-tuple: port reuse.
		t.counts.PortReuse++
		earlier = earlierOfTomb(t.conns.slots[tomb].ctl)
		t.conns.remove(tomb)
	}
	dup := false
	switch {
	case a == nil && isSYN:
		a, fromClient = t.start(p), true
		a.Earlier = earlier
	case a == nil:
		t.stray(p)
	case a.duplicate(p, t.pktNS, fromClient, t.counts.Duplicates > 0) || p.Dir == capture.DirOut && t.queuedCopy(a, p):
		dup = true
		t.counts.Duplicates++
		if twins != a.SYNACKTwins {
			// A SYN-ACK seen again with hops lost: passed back to the
			// client, as a capture without directions shows it.
			t.passedBack(a.Key.Client.Addr(), t.pktNS)
		}
	case fromClient:
		a = t.fromClient(a, p)
	default:
		t.fromServer(a, p)
	}
	if p.Dir != capture.DirUnknown && a != nil && p.Flags&capture.FlagSYN != 0 {
		// The copy the host sent on recorded ahead of what it received
		// (a capture merging interfaces, out of order by microseconds):
		// a hop fewer, the same fields.
		copyFirst := dup && p.Dir == capture.DirIn && prevDir == capture.DirOut && prevTTL < p.TTL
		switch {
		case isSYN && fromClient:
			t.noteDirection(a, p, false, copyFirst)
		case !fromClient && p.Flags.Has(capture.FlagACK) && (p.Ack == a.ISN+1 || p.Ack == a.ISN+1+a.SYNData):
			t.noteDirection(a, p, true, copyFirst)
		}
	}
	t.entombIfHandedOn(a)
}

// closeLinger is how long the tomb of a connection closed both ways is
// kept after its last packet, rather than Idle: long enough for the last
// retransmitted FIN or ACK, short enough that a capture's tombs cost what
// its last seconds hold, not its last minute (Zeek's tcp_close_delay is
// the same 5 s). A tomb ended by a RST keeps Idle: a client that did not
// take the RST goes on resending its SYN.
const closeLinger = 5 * time.Second

// tombSweep is how often tombs are swept, in capture time: a sweep goes
// through the whole table, so this bounds its cost; a tomb lives up to
// this much longer than it must.
const tombSweep = 4 * time.Second

// straggle takes a packet of a connection whose attempt was handed on.
func (t *Tracker) straggle(s *connSlot, p *capture.Packet, fromClient bool) {
	s.last = t.seconds(t.now)
	if len(t.gaps) > 0 && (p.PayloadLen > 0 || p.Flags.Has(capture.FlagFIN)) {
		t.fillGap(&s.key, p, fromClient)
	}
	if p.Flags.Has(capture.FlagFIN) {
		clientFIN := uint32(ctlFINFirst) << (s.ctl&ctlClientFirst ^ 1)
		if !fromClient && s.ctl&clientFIN == 0 {
			s.ctl |= ctlServerFIN1
		}
		if fromClient == (s.ctl&ctlClientFirst != 0) {
			s.ctl |= ctlFINFirst
		} else {
			s.ctl |= ctlFINSecond
		}
	}
	if p.Flags.Has(capture.FlagRST) {
		s.ctl |= ctlReset
	}
}

// noteECN counts a SYN p (before it is seen) that asks for ECN while all
// before it did, and keeps the timestamp of the first that does not after
// them.
func (a *attemptState) noteECN(p *capture.Packet) {
	if a.ECNSYNs != a.SYN.Count {
		return // a plain SYN came before
	}
	if p.Flags.Has(capture.FlagECE | capture.FlagCWR) {
		a.ECNSYNs++
	} else if a.ECNSYNs > 0 && p.Opts.HasTS {
		a.plainTSVal = uint64(p.Opts.TSVal) + 1
	}
}

// earlier is how a's connection stood, as the next on its ports began.
// (Stamps of plain times order as the times do.)
func (a *attemptState) earlier() Earlier {
	switch {
	case a.ClientRST.Count+a.ServerRST.Count > 0:
		return EarlierReset
	case a.ServerFIN.Count > 0 && (a.ClientFIN.Count == 0 || a.ServerFIN.First < a.ClientFIN.First):
		return EarlierServerClosed
	case a.ClientFIN.Count > 0:
		return EarlierClientClosed
	}
	return EarlierOpen
}

// earlierOfTomb is earlier for a tomb's connection.
func earlierOfTomb(ctl uint32) Earlier {
	switch {
	case ctl&ctlReset != 0:
		return EarlierReset
	case ctl&ctlServerFIN1 != 0:
		return EarlierServerClosed
	case ctl&(ctlFINFirst|ctlFINSecond) != 0:
		return EarlierClientClosed
	}
	return EarlierOpen
}

// missedSYNACK notes that a client completed a handshake with server,
// acknowledging a SYN-ACK the capture does not hold (HopRef.Missed).
func (t *Tracker) missedSYNACK(server netip.Addr, p *capture.Packet) {
	ref := t.serverTTL[server]
	ref.Missed++
	ref.MissedAt = p.Ref
	t.serverTTL[server] = ref
}

// maxHosts bounds the addresses told to Config.OnHost: a scan of a
// network must not grow the set without end. Past it, the hosts not yet
// told stay unseen, which only ever makes a join claim less.
const maxHosts = 1 << 16

// What Config.OnHost was told of an address.
const (
	hostSeen   = 1 << 0
	hostNonTCP = 1 << 1
)

// noteHosts tells Config.OnHost what a packet, seen as bits, shows of its
// addresses that it was not told yet.
func (t *Tracker) noteHosts(p *capture.Packet, bits uint8) {
	if t.cfg.OnHost == nil {
		return
	}
	if d := p.Dst.Addr(); d.IsMulticast() || d == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		// Every host on the link sees it: it shows the capture was near
		// its sender, not on its sender's path.
		return
	}
	for _, a := range [2]netip.Addr{p.Src.Addr(), p.Dst.Addr()} {
		if !a.IsValid() || (a == t.lastHost && t.lastHostBits&bits == bits) {
			continue
		}
		had, ok := t.hosts[a]
		if !ok && len(t.hosts) >= maxHosts {
			continue
		}
		if t.hosts == nil {
			t.hosts = make(map[netip.Addr]uint8)
		}
		t.hosts[a] = had | bits
		t.lastHost, t.lastHostBits = a, had|bits
		if had&bits != bits {
			t.cfg.OnHost(a, bits&hostNonTCP != 0 && had&hostNonTCP == 0)
		}
	}
}

// seconds is ts in whole seconds since the tracker's epoch, the time
// tombs keep.
func (t *Tracker) seconds(ts time.Time) int32 {
	d := ts.Unix() - t.epoch
	return int32(max(min(d, math.MaxInt32), math.MinInt32))
}

// entombIfHandedOn replaces an attempt that was handed on by its tomb and
// recycles it.
func (t *Tracker) entombIfHandedOn(a *attemptState) {
	if a == nil || !a.emitted {
		return
	}
	s := &t.conns.slots[t.slotOf(a)]
	s.att, s.isn, s.last = noState, a.ISN, a.lastSec
	switch a.earlier() {
	case EarlierReset:
		s.ctl |= ctlReset
	case EarlierServerClosed:
		s.ctl |= ctlServerFIN1
	}
	if a.ClientFIN.Count > 0 {
		s.ctl |= ctlFINFirst << (s.ctl&ctlClientFirst ^ 1)
	}
	if a.ServerFIN.Count > 0 {
		s.ctl |= ctlFINFirst << (s.ctl & ctlClientFirst)
	}
	t.recycle(a)
}

// sweepTombs forgets tombs whose connection has been quiet long enough:
// closeLinger once closed both ways, else Idle; all of them when all is
// set.
func (t *Tracker) sweepTombs(now time.Time, all bool) {
	t.lastTombSweep = now
	t.conns.inserts = 0
	nowSec := int64(t.seconds(now))
	idle, closed := int64(t.cfg.Idle/time.Second), int64(closeLinger/time.Second)
	for i := 0; i < len(t.conns.slots); {
		s := &t.conns.slots[i]
		if s.ctl&ctlUsed == 0 || s.att != noState || s.ctl&ctlFrozen != 0 {
			i++
			continue
		}
		linger := idle
		if s.ctl&(ctlFINFirst|ctlFINSecond) == ctlFINFirst|ctlFINSecond {
			linger = closed
		}
		if d := nowSec - int64(s.last); all || d >= linger || d <= -linger {
			t.conns.remove(i) // moves a later slot here: look at i again
			continue
		}
		i++
	}
}

// probe is the connection of the packet Observe is taking, as lookup
// found it: its key and hash serve start, and its slot entombIfHandedOn,
// without computing them again.
type probe struct {
	key     connKey
	hash    uint64
	swapped bool
	slot    int // -1: not in the table; a hint, checked before use
}

// lookup finds the connection of packet p (for ICMP, of the packet it
// quotes): the attempt in progress, or else the slot of its tomb (-1 if
// none), and whether the packet comes from the connection's client.
func (t *Tracker) lookup(p *capture.Packet) (a *attemptState, tomb int, fromClient bool) {
	pr := &t.probe
	pr.swapped, pr.hash = t.conns.keyOf(&pr.key, p.Src, p.Dst, p.Tunnel)
	i := t.conns.findHashed(&pr.key, pr.hash)
	pr.slot = i
	if i < 0 {
		return nil, -1, false
	}
	swapped := pr.swapped
	s := &t.conns.slots[i]
	fromClient = swapped == (s.ctl&ctlClientFirst == 0)
	switch {
	case s.att != noState:
		return t.state(s.att), -1, fromClient
	case s.ctl&ctlFrozen != 0:
		return t.unpack(s.isn), -1, fromClient
	}
	return nil, i, fromClient
}

// slotOf returns the slot of a, which must be in the table.
func (t *Tracker) slotOf(a *attemptState) int {
	if i := t.probe.slot; i >= 0 && i < len(t.conns.slots) && t.conns.slots[i].att == a.idx {
		return i
	}
	return t.find(a.Key)
}

// find returns the slot of the connection k names, or -1.
func (t *Tracker) find(k Key) int {
	var ck connKey
	_, h := t.conns.keyOf(&ck, k.Client, k.Server, k.Tunnel)
	return t.conns.findHashed(&ck, h)
}

// start begins an attempt with the SYN p, the packet lookup last took.
func (t *Tracker) start(p *capture.Packet) *attemptState {
	if t.cfg.MaxAttempts > 0 && t.pending >= t.cfg.MaxAttempts {
		if old := t.oldest(0, 0); old != nil {
			t.counts.Evicted++
			t.drop(old, t.now, EndEvicted)
		}
	}
	a := t.newState()
	a.Key = Key{Client: p.Src, Server: p.Dst, Tunnel: p.Tunnel}
	a.File = p.File
	a.ISN = p.Seq
	a.SYNOpts = p.Opts
	a.SYNData = p.PayloadLen
	if p.PayloadLen > 0 {
		t.see(&a.ClientData, p) // a Fast Open request rides on the SYN
		a.ClientBytes = uint64(p.PayloadLen)
		t.clientApp(a, p)
	}
	if t.dns != nil {
		t.dnsFor(a, p)
	}
	a.noteECN(p)
	a.AfterStepBack = t.afterStepBack(p)
	t.see(&a.SYN, p)
	if p.BadSum {
		a.BadSumSYNs++
	}
	t.noteSYN(a, p)
	t.record(a, p, EvSYN, true)
	a.duplicate(p, t.pktNS, true, false)
	if t.conns.full() && far(t.now, t.lastTombSweep, time.Second) {
		t.sweepTombs(t.now, false) // rather than grow for tombs due to go
	}
	pr := &t.probe
	pr.slot = t.conns.insertHashed(&pr.key, pr.hash)
	slot := &t.conns.slots[pr.slot]
	slot.att = a.idx
	if !pr.swapped {
		slot.ctl |= ctlClientFirst
	}
	t.pending++
	t.touch(a)
	return a
}

// fromClient takes a packet from a's client and returns the attempt it
// went to: a new one when it starts one on a's 4-tuple. a is then handed
// on and gone (with Config.HandOver, its taker's): the caller must not
// touch it.
func (t *Tracker) fromClient(a *attemptState, p *capture.Packet) *attemptState {
	f := p.Flags
	switch {
	case f&(capture.FlagSYN|capture.FlagACK) == capture.FlagSYN:
		if p.Seq != a.ISN {
			// A new ISN on the same 4-tuple is a new attempt (port reuse).
			t.counts.PortReuse++
			earlier := a.earlier()
			t.drop(a, p.TS, EndReplaced)
			n := t.start(p)
			n.Earlier = earlier
			return n
		}
		a.noteEcho(a.SYN.TTL, p.TTL)
		a.resume() // a SYN after a RST: the client did not take the RST
		a.noteECN(p)
		t.see(&a.SYN, p)
		if p.BadSum {
			a.BadSumSYNs++
		}
		if a.SYNACK.Count > 0 {
			a.SYNAfterSYNACK++
		}
		t.record(a, p, EvSYN, true)
	case f.Has(capture.FlagRST):
		if a.StaleACKs > 0 && p.Seq == a.staleAck && a.SYNACK.Count == 0 && !a.Established() {
			// The client ending the earlier connection the server
			// answered for (staleAnswer), as RFC 9293 bids a stack in
			// SYN-SENT: not a refusal of this one.
			a.StaleResets++
			t.record(a, p, EvStaleRST, true)
			break
		}
		// A client refusing a SYN-ACK answers with seq = ISN+1; once
		// established any RST counts.
		if p.Seq != a.ISN+1 && p.Seq != a.ISN+1+a.SYNData && !a.Established() {
			t.record(a, p, EvStrayRST, true)
			break
		}
		t.rst(a, p, &a.ClientRST, true)
	case f.Has(capture.FlagACK):
		if a.ACK.Count == 0 {
			if a.AltServerISN != 0 && p.Ack == a.AltServerISN+1 {
				a.ServerISN = a.AltServerISN // the client took the later SYN-ACK
			}
			// The handshake completes with the first segment acking the
			// SYN-ACK; if the SYN-ACK was not captured, one that follows
			// the SYN in sequence will do.
			if (a.SYNACK.Count > 0 && p.Ack == a.ServerISN+1) || (a.SYNACK.Count == 0 && (p.Seq == a.ISN+1 || p.Seq == a.ISN+1+a.SYNData)) {
				if a.SYNACK.Count == 0 {
					a.ServerISN = p.Ack - 1
					t.missedSYNACK(a.Key.Server.Addr(), p)
				} else if a.BadSumSYNACKs == a.SYNACK.Count {
					t.sumsLie = true // the client took a SYN-ACK the capture shows damaged
				}
				t.see(&a.ACK, p)
				if p.PayloadLen == 0 && !f.Has(capture.FlagFIN) {
					t.record(a, p, EvACK, true)
				}
			}
		} else if p.Ack == a.ServerISN+1 && p.PayloadLen == 0 && !f.Has(capture.FlagFIN) && a.ServerData.Count == 0 {
			// Re-ACKs of a resent SYN-ACK: the half-open signature.
			t.see(&a.ACK, p)
			t.record(a, p, EvACK, true)
		}
		if a.ACK.Count > 0 {
			if n := p.Ack - (a.ServerISN + 1); seqAfter(p.Ack, a.ServerISN+1) && n > a.ServerBytesAcked {
				a.ServerBytesAcked = n
			} else if a.ServerData.Count > 0 && p.PayloadLen == 0 {
				a.ClientDupACKs++
			}
		}
		if p.PayloadLen > 0 {
			a.clientSegment(p)
			t.see(&a.ClientData, p)
			a.ClientBytes += uint64(p.PayloadLen)
			t.record(a, p, EvData, true)
			t.clientApp(a, p)
		}
		if f.Has(capture.FlagFIN) {
			t.see(&a.ClientFIN, p)
			t.record(a, p, EvFIN, true)
		}
		t.settleIfDone(a, p.TS)
	}
	t.touch(a)
	return a
}

func (t *Tracker) fromServer(a *attemptState, p *capture.Packet) {
	f := p.Flags
	switch {
	case f.Has(capture.FlagSYN | capture.FlagACK):
		if !a.acksSYN(p.Ack) {
			t.record(a, p, EvStraySYNACK, false)
			break
		}
		if p.BadSum {
			a.BadSumSYNACKs++
		}
		if a.SYNACK.Count == 0 && a.BadSumSYNs == a.SYN.Count {
			t.sumsLie = true // the server answered a SYN the capture shows damaged
		}
		switch {
		case a.SYNACK.Count == 0:
			a.ServerISN = p.Seq
			a.ServerMSS = p.Opts.MSS
			// It answered the plain SYN that followed ECN-setup ones, and
			// no SYN since, if it echoes that SYN's timestamp.
			a.ECNFallback = a.plainTSVal != 0 && a.SYN.Count == a.ECNSYNs+1 && p.Opts.HasTS && uint64(p.Opts.TSEcr)+1 == a.plainTSVal
			t.noteAnswer(a)
			t.answered++
			if capture.Hops(p.TTL) > 0 && capture.Hops(a.SYN.TTL) > 0 {
				t.midPath = true
			}
		case p.Seq != a.ServerISN:
			a.AltServerISN = p.Seq
		}
		a.resume() // a SYN-ACK after a RST: the handshake went on
		t.see(&a.SYNACK, p)
		if a.ACK.Count > 0 {
			a.SYNACKAfterACK++
		}
		t.record(a, p, EvSYNACK, false)
		src := p.Src.Addr()
		ref := t.serverTTL[src]
		ref.sawSYNACK(p)
		if a.SYNACK.Count == 1 && a.ACK.Count > 0 && ref.Missed > 0 {
			ref.Missed-- // the client's ACK came first (files merged out of order): not missed
		}
		if a.SYNACK.Count == 1 && a.SYN.Count == 1 && a.SYN.Last > 0 {
			// Answering the only SYN: no resent one to take it for. Longer
			// than a client waits before resending it is a clock step.
			if rtt := time.Duration(t.pktNS - (int64(a.SYN.Last) - plainOffset)); rtt > 0 && rtt <= maxHandshakeRTT && (ref.MinRTT == 0 || rtt < ref.MinRTT) {
				ref.MinRTT = rtt
			}
		}
		t.serverTTL[src] = ref
		port := t.portTTL[p.Src]
		port.sawSYNACK(p)
		t.portTTL[p.Src] = port
	case f.Has(capture.FlagRST):
		// Before the handshake completes, a RST counts only if it
		// acknowledges the SYN, as real stacks judge it (RFC 9293 3.10.7.3).
		if !a.Established() && a.SYNACK.Count == 0 && !(f.Has(capture.FlagACK) && a.acksSYN(p.Ack)) {
			t.record(a, p, EvStrayRST, false)
			break
		}
		t.rst(a, p, &a.ServerRST, false)
	default:
		if t.staleAnswer(a, p) {
			break
		}
		if a.SYNACK.Count > 0 {
			if n := p.Seq + p.PayloadLen - (a.ServerISN + 1); seqAfter(p.Seq+p.PayloadLen, a.ServerISN+1) && n > a.ServerSent && n < 1<<30 {
				a.ServerSent = n
			}
		}
		if !a.Established() && f.Has(capture.FlagACK) &&
			(seqAfter(p.Ack, a.ISN+1+a.SYNData) || (p.PayloadLen > 0 && a.acksSYN(p.Ack))) {
			// The client's ACK is not in the capture, but the server
			// acknowledges client data or sends its own: it got the ACK.
			a.ACKInferred = true
		}
		if p.PayloadLen > 0 {
			a.serverSegment(p)
			t.see(&a.ServerData, p)
			a.ServerBytes += uint64(p.PayloadLen)
			t.record(a, p, EvData, false)
			if p.App.Kind == capture.AppHTTPResponse && a.ServerApp.Kind == 0 {
				a.ServerApp = p.App
				t.keepRef(&a.ServerAppAt, p)
			}
		}
		if f.Has(capture.FlagACK) && a.ClientData.Count > 0 {
			if n := p.Ack - (a.ISN + 1 + a.SYNData); seqAfter(p.Ack, a.ISN+1+a.SYNData) && n > a.ClientBytesAcked {
				a.ServerAckedData = true
				a.ClientBytesAcked = n
			} else if p.PayloadLen == 0 {
				a.ServerDupACKs++
			}
		}
		if f.Has(capture.FlagFIN) {
			t.see(&a.ServerFIN, p)
			t.record(a, p, EvFIN, false)
		}
		t.settleIfDone(a, p.TS)
	}
	t.touch(a)
}

// staleAnswer takes a segment from the server, before any SYN-ACK or
// handshake, that acknowledges neither the SYN nor anything this
// connection could have sent after it: the server answers the SYN for an
// earlier connection on these ports that it still holds (RFC 9293
// 3.10.7.4 has a synchronised connection answer an unacceptable SYN with
// its ACK; RFC 5961 4 the same, rate-limited). The client forgot that
// connection (a reboot, a RST lost), or a NAT gave its ports to another
// host. It reports whether the segment was taken as such (Attempt.StaleACKs).
func (t *Tracker) staleAnswer(a *attemptState, p *capture.Packet) bool {
	if a.SYNACK.Count > 0 || a.Established() || !p.Flags.Has(capture.FlagACK) || a.acksSYN(p.Ack) {
		return false
	}
	// Data just past the SYN acknowledges the client's data, which the
	// capture missed with its ACK (ACKInferred): only a connection the
	// server took sends data. A bare ACK there is another connection's as
	// likely: TIME_WAIT answers a SYN numbered behind what the client sent
	// on the connection before with that connection's ACK, a little past
	// the new SYN. What the client does next tells (its RST to it, or its
	// SYN resent); a handshake that went on unseen shows in the client's
	// next segments, which complete it.
	if next := a.ISN + 1 + a.SYNData; p.PayloadLen > 0 && seqAfter(p.Ack, next) && p.Ack-next <= staleFar {
		return false
	}
	a.staleAck = p.Ack
	a.StaleACKs++
	t.record(a, p, EvStaleACK, false)
	return true
}

// staleFar: a server's data acknowledging at most this far past the SYN
// (16 MiB) may acknowledge data of the client's that the capture missed.
const staleFar = 1 << 24

func (t *Tracker) observeICMP(p *capture.Packet) *attemptState {
	// The quoted packet's endpoints: an error about the client's SYN
	// quotes client → server.
	a, _, fromClient := t.lookup(p)
	switch {
	case a == nil:
		return nil
	case fromClient && p.Seq == a.ISN && !a.Established() && p.ICMP.Quotes():
		t.see(&a.ICMP, p)
		a.ICMPInfo = p.ICMP
		t.record(a, p, EvICMP, true)
		if p.ICMP.Fatal() {
			t.settle(a, p.TS)
		}
	default:
		if !fromClient && a.ICMP.Count == 0 && !a.ICMPInfo.From.IsValid() {
			// The first error about the server's answer, kept while no
			// error about the SYN is: who could not deliver it.
			a.ICMPInfo = p.ICMP
		}
		t.record(a, p, EvICMPLater, fromClient)
	}
	t.touch(a)
	return a
}

// rst records an acceptable RST from one side; it settles the attempt.
func (t *Tracker) rst(a *attemptState, p *capture.Packet, from *seenState, fromClient bool) {
	if a.ClientRST.Count == 0 && a.ServerRST.Count == 0 && !a.Established() {
		a.RSTInHandshake = true
	}
	if !fromClient && a.ServerRST.Count == 0 {
		a.ServerRSTBare = !p.Flags.Has(capture.FlagACK)
	}
	switch {
	case fromClient:
	case p.Dir == capture.DirIn:
		a.ServerRSTsIn++
	case p.Dir == capture.DirOut:
		a.ServerRSTsOut++
	}
	t.see(from, p)
	t.record(a, p, EvRST, fromClient)
	t.settle(a, p.TS)
}

// stray counts a packet of a connection whose SYN was not captured.
func (t *Tracker) stray(p *capture.Packet) {
	if t.answerElsewhere(p) {
		return
	}
	k := midstreamKey(p)
	m := t.midstream[k]
	if m == nil {
		t.counts.Midstream++
		m = &Midstream{From: p.Src, To: p.Dst, First: p.Ref}
		t.midstream[k] = m
		t.noteHosts(p, hostSeen) // once a connection: its packets show no more
	}
	m.Last = p.TS
	m.Packets++
}

// midstreamKey is the midstream table's key of p's connection: one entry
// per connection, whichever way its packets go.
func midstreamKey(p *capture.Packet) Key {
	if p.Dst.Addr().Less(p.Src.Addr()) || (p.Dst.Addr() == p.Src.Addr() && p.Dst.Port() < p.Src.Port()) {
		return Key{Client: p.Dst, Server: p.Src, Tunnel: p.Tunnel}
	}
	return Key{Client: p.Src, Server: p.Dst, Tunnel: p.Tunnel}
}

// settleIfDone settles an attempt whose first data exchange is over, or
// that closed cleanly.
func (t *Tracker) settleIfDone(a *attemptState, now time.Time) {
	if a.emitted || !a.Established() {
		return
	}
	// The first exchange is over once the client acknowledged the reply:
	// server data it never acknowledges (a PMTU black hole) is no answer.
	if (a.ClientData.Count > 0 && a.ServerBytesAcked > 0) || (a.ClientFIN.Count > 0 && a.ServerFIN.Count > 0) {
		t.settle(a, now)
	}
}

// settle hands an attempt on at once; Observe then leaves a tomb in its
// place, so that its stragglers are not mistaken for new connections.
func (t *Tracker) settle(a *attemptState, now time.Time) {
	if a.emitted {
		return
	}
	a.Settled = true
	// A refusal is judged by comparing the RST with the server's own
	// packets; until the capture has shown one, the attempt waits (it is
	// handed on when idle, or at the end, with whatever turned up).
	if a.ServerRST.Count > 0 && a.SYNACK.Count == 0 && t.serverTTL[a.Key.Server.Addr()].Count == 0 {
		return
	}
	// A RST that ends a handshake is judged by what follows: a client
	// that ignored it (a forged RST with a bad checksum, one racing ahead
	// of the SYN-ACK) resends its SYN or completes the handshake.
	if a.RSTInHandshake && !a.Established() {
		if t.holds++; t.holds == 0 {
			t.holds = 1 // 0 is no grace
		}
		a.held = t.holds
		h := heldAttempt{a.idx, a.held, t.rstGraceEnd(a, now)}
		// Kept in the order they are due, after those due as soon:
		// releaseHeld stops at the first not yet due.
		i := sort.Search(len(t.held), func(i int) bool { return t.held[i].until.After(h.until) })
		t.held = slices.Insert(t.held, i, h)
		return
	}
	t.handOn(a, now, EndSettled)
}

// rstGraceEnd is when an attempt a RST seemed to end at now stops waiting
// for its client to show that it did not take the RST: RSTGrace on, or,
// after a resent SYN, as long again past its last SYN as twice the wait
// before it, and half a second more, if that is later. A client that
// resends its SYN (its stack never took the RST, or sent it itself to a
// SYN-ACK it could not place, the SYN-ACK of a reply that bypassed a NAT)
// does so a backoff after the last, each backoff at most twice the one
// before (Linux's linear ones, 1 s each, run late on a loaded host);
// handed on before that, the attempt would count half its SYNs.
//
// A SYN-ACK after the client's RST answers a SYN too, one the capture may
// have lost: a server drops the half-open connection a RST ends, and
// resends no SYN-ACK for it. Counted as a SYN, it keeps a capture that
// lost a resent SYN from handing the attempt on before the next one (a
// wrongsource server capture, 2% of its packets dropped at random, was
// "aborted, the client, likely" so). Where the RST was lost instead and
// the server's timer sent it, the attempt only waits longer.
func (t *Tracker) rstGraceEnd(a *attemptState, now time.Time) time.Time {
	end := now.Add(t.cfg.RSTGrace)
	var last, before stamp
	reset := false // the client reset what came before
	for i := range int(a.nEvents) {
		e := t.event(a, i)
		var syn stamp
		switch {
		case e.typ == EvSYN && e.fromClient:
			syn, reset = e.ts, false
		case e.typ == EvRST && e.fromClient:
			reset = true
		case e.typ == EvSYNACK && !e.fromClient && reset:
			syn, reset = e.ts, false
		}
		if syn != 0 && syn != last {
			before, last = last, syn
		}
	}
	if before == 0 {
		return end
	}
	l, b := t.timeOf(last), t.timeOf(before)
	if gap := l.Sub(b); gap > 0 && gap < t.cfg.Idle {
		if next := l.Add(2*gap + rstLate); next.After(end) {
			end = next
		}
	}
	return end
}

// rstLate is how late past its backoff a resent SYN may come and still be
// waited for (rstGraceEnd).
const rstLate = 500 * time.Millisecond

// resume takes back the settling of an attempt a RST seemed to end.
func (a *attemptState) resume() {
	if a.Settled && !a.emitted && a.held != 0 {
		a.Settled, a.held = false, 0
	}
}

// releaseHeld hands on refusals whose grace has passed.
func (t *Tracker) releaseHeld(now time.Time) {
	n := 0
	for ; n < len(t.held); n++ {
		h := t.held[n]
		if now.Before(h.until) {
			break
		}
		a := t.state(h.idx)
		if a.emitted || a.held != h.held {
			continue // went on, or was handed on and recycled
		}
		t.handOn(a, h.until, EndSettled)
		t.entombIfHandedOn(a)
	}
	t.held = append(t.held[:0], t.held[n:]...)
}

// handOn makes the public record of a and gives it to emit or
// Config.HandOver; a stays in the table until its caller is done with it.
func (t *Tracker) handOn(a *attemptState, end time.Time, why EndReason) {
	a.emitted = true
	t.counts.Attempts++
	if client, server := a.ackedUncaptured(); client || server {
		t.suspectGap(a, client, server)
	}
	out := reuse(&t.free)
	if out == nil {
		out = &Attempt{Events: make([]Event, 0, initialEvents)}
	}
	t.fill(out, a, end, why)
	a.DNS = nil // the record's now
	if t.cfg.HandOver != nil {
		if out = t.cfg.HandOver(out); out == nil {
			return
		}
	} else {
		t.emit(out)
	}
	if out.DNS != nil {
		t.dns.freeAnswers = append(t.dns.freeAnswers, out.DNS)
		out.DNS = nil
	}
	if cap(out.Events) > keptEvents {
		// The records handed on and given back circulate (a batch of them
		// in flight at once): each would keep the room of the longest
		// attempt it ever held, growing a run's memory with its oddest
		// attempts. One that long gets its room afresh.
		out.Events = nil
	}
	t.free = append(t.free, out) // fill sets every field
}

// Expire hands on unsettled attempts idle for Config.Idle at time now and
// forgets settled ones. Observe calls it as capture time passes; a live
// reader calls it on a clock tick too.
func (t *Tracker) Expire(now time.Time) {
	t.lastSweep, t.lastSweepNS = now, nanos(now)
	t.releaseHeld(now)
	nowNS := nanos(now)
	for a := t.oldest(nowNS, t.cfg.Idle); a != nil; a = t.oldest(nowNS, t.cfg.Idle) {
		t.drop(a, now, EndIdle)
	}
	t.freezeIdle(nowNS)
	// A sweep reads the whole table: it waits for an eighth of it to
	// have been filled since the last, which keeps its cost per attempt
	// constant, or for Idle to pass.
	if (t.conns.inserts >= len(t.conns.slots)/8 && far(now, t.lastTombSweep, tombSweep)) || far(now, t.lastTombSweep, t.cfg.Idle) {
		t.sweepTombs(now, false)
	}
	t.expireDNS(now, false)
	t.countGaps(nowNS, false)
	if far(now, t.lastMidSweep, t.cfg.Idle) {
		t.lastMidSweep = now
		t.sweepDNSHosts(now)
		for k, m := range t.midstream {
			if far(now, m.Last, t.cfg.Idle) {
				t.dropMidstream(k, m)
			}
		}
		// TTL references outlive attempts (a refusal is judged against
		// the server's earlier SYN-ACKs) but not forever: a scan of many
		// servers must not grow the table without end.
		for addr, ref := range t.serverTTL {
			if far(now, ref.From.TS, serverTTLKeep*t.cfg.Idle) && far(now, ref.MissedAt.TS, serverTTLKeep*t.cfg.Idle) {
				delete(t.serverTTL, addr)
			}
		}
		for addr, ref := range t.portTTL {
			if far(now, ref.From.TS, serverTTLKeep*t.cfg.Idle) {
				delete(t.portTTL, addr)
			}
		}
	}
}

// Advance tells the tracker that capture time reached now without a packet
// for it (records of other protocols, a live clock): attempts idle since
// are expired, and Finish takes now as the end of the capture. Like a
// packet's, a time more than a day ahead is not followed (Stats.Last may be
// one odd record's).
func (t *Tracker) Advance(now time.Time) {
	if d := now.Sub(t.now); !now.IsZero() && (t.now.IsZero() || (d > 0 && d <= maxAhead)) {
		t.setNow(now, nanos(now))
		t.Expire(now)
	}
}

// Finish hands on every attempt still tracked, at the end of the capture.
func (t *Tracker) Finish() {
	t.held = t.held[:0]
	for a := t.oldest(0, 0); a != nil; a = t.oldest(0, 0) {
		t.drop(a, t.now, EndCapture)
	}
	t.sweepTombs(t.now, true)
	t.countGaps(0, true)
	for k, m := range t.midstream {
		t.dropMidstream(k, m)
	}
	t.expireDNS(t.now, true)
}

func (t *Tracker) dropMidstream(k Key, m *Midstream) {
	delete(t.midstream, k)
	if t.cfg.OnMidstream != nil {
		t.cfg.OnMidstream(m)
	}
}

// drop hands a (if need be) on and removes it from the table.
func (t *Tracker) drop(a *attemptState, end time.Time, why EndReason) {
	if !a.emitted {
		t.handOn(a, end, why)
	}
	t.conns.remove(t.slotOf(a))
	t.recycle(a)
}

// recycle frees the state of an attempt that left the table.
func (t *Tracker) recycle(a *attemptState) {
	t.pending--
	t.unlink(a)
	t.releaseState(a)
}

// touch marks a as active now and moves it to the back of the list. Its
// activity is on the expiry clock, not its packet's time: a packet at an odd
// time (or from a capture merged with a skewed one) must not make an
// attempt look idle, and the list stays in clock order. An attempt begun by
// an odd packet takes that packet's time instead, so that it stays with the
// packets after a jump the clock then follows.
func (t *Tracker) touch(a *attemptState) {
	t.touches++
	a.touched = t.touches
	if !t.odd.IsZero() && !a.timed {
		a.last, a.lastSec, a.timed = nanos(t.odd), t.seconds(t.odd), true
	} else {
		a.last, a.lastSec, a.timed = t.nowNS, t.nowSec, !t.now.IsZero()
	}
	if t.tail == a.idx {
		return
	}
	t.unlink(a)
	a.prev = t.tail
	if t.tail != noState {
		t.state(t.tail).next = a.idx
	} else {
		t.head = a.idx
	}
	t.tail = a.idx
}

func (t *Tracker) unlink(a *attemptState) {
	if a.prev != noState {
		t.state(a.prev).next = a.next
	} else if t.head == a.idx {
		t.head = a.next
	}
	if a.next != noState {
		t.state(a.next).prev = a.prev
	} else if t.tail == a.idx {
		t.tail = a.prev
	}
	a.prev, a.next = noState, noState
}

// seqAfter reports whether sequence number a comes after b, modulo 2^32.
func seqAfter(a, b uint32) bool { return int32(a-b) > 0 }

// gapWait is how long, in capture time, the data an attempt's end
// acknowledged may follow the acknowledgment in the capture before its
// absence counts as a gap (Counts.Gaps): a capture merged by time from a
// NIC's queues, or from two interfaces, may hold an acknowledgment a
// little ahead of the data it acknowledges.
const gapWait = time.Second

// maxSuspectGaps bounds the gaps waiting out gapWait: each data segment
// of a connection handed on is looked for among them. A capture with more
// in one second has gaps enough; the rest count at once.
const maxSuspectGaps = 64

// suspectGap is an attempt handed on with an acknowledgment of client or
// server data past what the capture holds.
type suspectGap struct {
	key            connKey
	client, server bool // whose data is missing
	// clientHole and serverHole are the sequence numbers where the
	// missing data starts: a segment filling the gap covers it.
	clientHole, serverHole uint32
	until                  int64 // when it counts, in nanos of capture time
}

// suspectGap notes that a, being handed on, lacks data of the client or
// the server that the other end acknowledged.
func (t *Tracker) suspectGap(a *attemptState, client, server bool) {
	i := t.slotOf(a)
	if i < 0 || len(t.gaps) >= maxSuspectGaps {
		t.counts.Gaps++ // no tomb will see what follows, or no room to wait
		return
	}
	g := suspectGap{key: t.conns.slots[i].key, client: client, server: server, until: t.nowNS + int64(gapWait)}
	g.clientHole, g.serverHole = a.holes()
	t.gaps = append(t.gaps, g)
}

// fillGap takes a data segment or FIN p from the client (or the server)
// of the connection k: one that covers where the data a suspected gap
// lacks starts fills it (a later segment, the FIN after the data, does
// not).
func (t *Tracker) fillGap(k *connKey, p *capture.Packet, fromClient bool) {
	end := p.Seq + p.PayloadLen
	if p.Flags.Has(capture.FlagFIN) {
		end++
	}
	covers := func(hole uint32) bool { return !seqAfter(p.Seq, hole) && seqAfter(end, hole) }
	for i := range t.gaps {
		g := &t.gaps[i]
		if g.key != *k {
			continue
		}
		if fromClient && covers(g.clientHole) {
			g.client = false
		} else if !fromClient && covers(g.serverHole) {
			g.server = false
		}
		if !g.client && !g.server {
			t.gaps = slices.Delete(t.gaps, i, i+1)
		}
		return
	}
}

// countGaps counts the suspected gaps whose wait is over at nowNS, all
// of them if all.
func (t *Tracker) countGaps(nowNS int64, all bool) {
	kept := t.gaps[:0]
	for _, g := range t.gaps {
		if all || nowNS >= g.until {
			t.counts.Gaps++
			continue
		}
		kept = append(kept, g)
	}
	t.gaps = kept
}

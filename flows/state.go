package flows

import (
	"net/netip"
	"slices"
	"time"

	"github.com/synpath/synpath/capture"
)

// attemptState is an attempt in progress as the tracker keeps it. The
// public Attempt is 1.3 KB of mostly empty fields, with 24-byte times and
// 72-byte events in a slice of their own: a packet touched several of its
// cache lines and a second allocation. This is the same record made
// compact, what every packet touches first: times as stamps (8 bytes, no
// pointer), events inline as 40-byte records, the lru links as indexes.
// The public fields keep their names. fill makes an Attempt of it when it
// is handed on or shown.
type attemptState struct {
	// Touched by every packet.
	lastSig    packetSig
	idx        int32 // its own index
	prev, next int32 // lru neighbours' indexes, noState at either end
	// touched is the tracker's count of touches at its last: the lru
	// order, kept when frozen.
	touched uint64
	last    int64 // its last activity on the expiry clock, in nanos
	lastSec int32 // the same in tomb seconds (Tracker.seconds)
	timed   bool  // last is not the zero time
	// held numbers the grace a refused or aborted attempt waits out for
	// packets showing the RST did not end it (0: none).
	held    uint32
	emitted bool
	nEvents uint8
	// more is where events beyond the inline ones go: an index into
	// Tracker.moreEvents, plus one (0: none yet).
	more int32

	ISN, SYNData                    uint32
	ServerISN, AltServerISN         uint32
	SYNAfterSYNACK, SYNACKAfterACK  uint32
	ServerBytesAcked                uint32
	ACKInferred, RSTInHandshake     bool
	ServerRSTBare                   bool
	ServerAckedData, Settled        bool
	ServerMSS                       uint16
	ServerSeqLo, ServerSeqHi        uint32
	ServerMaxSeg, ServerResent      uint32
	ServerSent, ClientDupACKs       uint32
	ClientSeqLo, ClientSeqHi        uint32
	ClientMaxSeg, ClientResent      uint32
	ClientBytesAcked, ServerDupACKs uint32
	EventsDropped, Duplicates       uint32
	Echoes, SYNACKTwins             uint32
	SYNsIn, SYNsOut, SYNsPassedOn   uint32
	SYNsRelayed, SYNACKsIn          uint32
	SYNACKsOut, SYNACKsPassedOn     uint32
	SYNACKsToCopy                   uint32
	ServerRSTsIn, ServerRSTsOut     uint32
	// synackToCopyFirst is when the first of SYNACKsToCopy came.
	synackToCopyFirst stamp
	// RelayedFromTTL: Attempt.RelayedFromTTL.
	RelayedFromTTL uint8
	// PassedOnAs, ReceivedAs: Attempt's.
	PassedOnAs, ReceivedAs     Key
	Unpaired                   bool
	AfterStepBack              bool
	OutOfTimeOrder             bool
	ClientBytes, ServerBytes   uint64
	SYN, SYNACK, ACK           seenState
	ClientData, ServerData     seenState
	ServerRST, ClientRST, ICMP seenState
	ClientFIN, ServerFIN       seenState
	events                     [inlineEvents]eventState
	ClientAppAt, ServerAppAt   refState
	Key                        Key
	File                       string
	SYNOpts                    capture.TCPOptions
	ICMPInfo                   capture.ICMPInfo
	ClientApp, ServerApp       capture.AppInfo
	DNS                        *DNSAnswer
	// fallback: another attempt this one's client moved on to (noteAnswer).
	fallback fallbackState
	// answeredFrom and its count: Attempt.AnsweredFrom (answerElsewhere).
	answeredFrom      netip.AddrPort
	answeredFromCount uint32
	// staleAck is the acknowledgment number of the latest StaleACKs
	// segment: the client's RST answering it carries it as its sequence.
	staleAck                  uint32
	StaleACKs, StaleResets    uint32
	BadSumSYNs, BadSumSYNACKs uint32
	Earlier                   Earlier
	ECNSYNs                   uint32
	ECNFallback               bool
	// plainTSVal is the timestamp of the first SYN without ECN after
	// ECN-setup ones, plus one (0: none such, or it had no timestamp).
	plainTSVal uint64
}

// inlineEvents is how many events an attempt holds in its record: most
// have 2 to 8 (a handshake, a request and its reply, the closes).
const inlineEvents = 8

// moreEvents holds the events of an attempt beyond its inline ones.
type moreEvents [MaxEvents - inlineEvents]eventState

// seenState is a Seen with stamps for times.
type seenState struct {
	Count       uint32
	TTL         uint8
	IPID        uint16
	First, Last stamp
}

// eventState is an Event with its file as an index into Tracker.files
// and a stamp for its time.
type eventState struct {
	ts         stamp
	n          uint64
	file       uint32
	iface      int32
	length     uint32
	ipid       uint16
	typ        EventType
	fromClient bool
	app        capture.AppKind
	ttl        uint8
}

// refState is a capture.Ref the same way, its file index plus one (0:
// no packet).
type refState struct {
	ts    stamp
	n     uint64
	file  uint32
	iface int32
}

// stamp is a packet's time in 8 bytes: 0 for the zero time, a positive
// value for a plain time (nanoseconds since 1970 plus plainOffset: within
// ±2^62 ns, in the location the tracker's first packet had, without a
// monotonic reading, as capture files and live capture give them), a
// negative one for any other, kept whole in Tracker.oddTimes.
type stamp int64

const (
	plainOffset = 1 << 62
	// oddPacket is the packet's stamp (Tracker.pktStamp) when its time is
	// not plain: a field given it gets a stamp of its own (keep).
	oddPacket stamp = -1 << 63
)

// noState is no state's index: the end of the lru list, a slot's tomb. It
// is never given out, so that zero memory holds none.
const noState = 0

// statesPerPage is how many states a page holds: pages never move, so a
// state's address is stable while the tracker holds it.
const statesPerPage = 64

// state returns the state at index i.
func (t *Tracker) state(i int32) *attemptState {
	// Pages as slices, not pointers to arrays: indexing a slice checks
	// its length, a pointer would be checked for nil by loading from the
	// page, another cache line. Unsigned, so that / and % are shifts.
	return &t.states[uint32(i)/statesPerPage][uint32(i)%statesPerPage]
}

// newState returns a zero state from the free list, or a new page.
func (t *Tracker) newState() *attemptState {
	if len(t.freeStates) == 0 {
		t.states = append(t.states, make([]attemptState, statesPerPage))
		first := int32(len(t.states)-1) * statesPerPage
		for i := first + statesPerPage - 1; i >= max(first, noState+1); i-- {
			t.freeStates = append(t.freeStates, i)
		}
	}
	n := len(t.freeStates)
	i := t.freeStates[n-1]
	t.freeStates = t.freeStates[:n-1]
	s := t.state(i)
	s.idx = i
	return s
}

// releaseState zeroes s, unlinked, and puts it on the free list with its
// event storage and times. Its DNS answer has gone (to the record handed
// on, or with the packed bytes).
func (t *Tracker) releaseState(s *attemptState) {
	i := s.idx
	if len(t.oddTimes) > 0 {
		t.forgetOdd(s)
	}
	t.dropMoreEvents(s)
	*s = attemptState{}
	t.freeStates = append(t.freeStates, i)
}

// dropMoreEvents frees the storage of s's events beyond the inline ones.
func (t *Tracker) dropMoreEvents(s *attemptState) {
	if s.more > 0 {
		*t.moreEvents[s.more-1] = moreEvents{}
		t.freeMore = append(t.freeMore, s.more-1)
		s.more = 0
	}
}

// stampOf is ts as a stamp; n is nanos(ts).
func (t *Tracker) stampOf(ts time.Time, n int64) stamp {
	if ts == (time.Time{}) {
		return 0
	}
	if t.loc == nil {
		t.loc = ts.Location()
	}
	if n > -plainOffset && n < plainOffset && ts.Location() == t.loc && ts == ts.Round(0) {
		return stamp(n + plainOffset)
	}
	return oddPacket
}

// keep sets *f to the time of the packet being observed.
func (t *Tracker) keep(f *stamp) {
	if *f < 0 {
		delete(t.oddTimes, *f)
	}
	s := t.pktStamp
	if s == oddPacket {
		t.lastOdd--
		s = t.lastOdd
		if t.oddTimes == nil {
			t.oddTimes = map[stamp]time.Time{}
		}
		t.oddTimes[s] = t.pktTime
	}
	*f = s
}

// timeOf is the time stamp s stands for.
func (t *Tracker) timeOf(s stamp) time.Time {
	switch {
	case s == 0:
		return time.Time{}
	case s < 0:
		return t.oddTimes[s]
	}
	return time.Unix(0, int64(s)-plainOffset).In(t.loc)
}

// stamps calls f with each stamp s holds.
func (t *Tracker) stamps(s *attemptState, f func(*stamp)) {
	for _, seen := range [...]*seenState{&s.SYN, &s.SYNACK, &s.ACK, &s.ClientData, &s.ServerData, &s.ServerRST, &s.ClientRST, &s.ICMP, &s.ClientFIN, &s.ServerFIN} {
		f(&seen.First)
		f(&seen.Last)
	}
	for i := range int(s.nEvents) {
		f(&t.event(s, i).ts)
	}
	f(&s.ClientAppAt.ts)
	f(&s.ServerAppAt.ts)
	f(&s.synackToCopyFirst)
}

// hasOdd says whether s holds a time that is not plain.
func (t *Tracker) hasOdd(s *attemptState) bool {
	odd := false
	t.stamps(s, func(f *stamp) { odd = odd || *f < 0 })
	return odd
}

// forgetOdd drops the times s alone held.
func (t *Tracker) forgetOdd(s *attemptState) {
	t.stamps(s, func(f *stamp) {
		if *f < 0 {
			delete(t.oddTimes, *f)
		}
	})
}

// event returns s's event i, which must be below MaxEvents and, beyond
// the inline ones, have storage (addEvent).
func (t *Tracker) event(s *attemptState, i int) *eventState {
	if i < inlineEvents {
		return &s.events[i]
	}
	return &t.moreEvents[s.more-1][i-inlineEvents]
}

// addEvent returns storage for s's next event, counted.
func (t *Tracker) addEvent(s *attemptState) *eventState {
	i := int(s.nEvents)
	if i == inlineEvents && s.more == 0 {
		if n := len(t.freeMore); n > 0 {
			s.more = t.freeMore[n-1] + 1
			t.freeMore = t.freeMore[:n-1]
		} else {
			t.moreEvents = append(t.moreEvents, new(moreEvents))
			s.more = int32(len(t.moreEvents))
		}
	}
	s.nEvents++
	return t.event(s, i)
}

// see counts packet p in s.
func (t *Tracker) see(s *seenState, p *capture.Packet) {
	if s.Count == 0 {
		t.keep(&s.First)
		s.TTL = p.TTL
		s.IPID = p.IPID
	}
	t.keep(&s.Last)
	s.Count++
}

func (t *Tracker) record(a *attemptState, p *capture.Packet, typ EventType, fromClient bool) {
	if a.nEvents >= MaxEvents {
		a.EventsDropped++
		return
	}
	e := t.addEvent(a)
	e.n, e.file, e.iface, e.length, e.ipid = p.N, t.files.id(p.File), p.Iface, p.PayloadLen, p.IPID
	e.typ, e.fromClient, e.app, e.ttl = typ, fromClient, p.App.Kind, p.TTL
	t.keep(&e.ts)
}

// keepRef sets r to packet p.
func (t *Tracker) keepRef(r *refState, p *capture.Packet) {
	r.n, r.file, r.iface = p.N, t.files.id(p.File)+1, p.Iface
	t.keep(&r.ts)
}

// ref sets to to the packet r refers to.
func (t *Tracker) ref(to *capture.Ref, r *refState) {
	if r.file == 0 {
		*to = capture.Ref{}
		return
	}
	to.File, to.N, to.TS, to.Iface = t.files.names[r.file-1], r.n, t.timeOf(r.ts), r.iface
}

// seen sets to to what s counted.
func (t *Tracker) seen(to *Seen, s *seenState) {
	if *s == (seenState{}) {
		*to = Seen{}
		return
	}
	to.Count, to.TTL, to.IPID = s.Count, s.TTL, s.IPID
	to.First, to.Last = t.timeOf(s.First), t.timeOf(s.Last)
}

// fill makes a the public record of s, every field set (a's event
// storage is reused): End, EndedBy and ServerHops as at hand-on. a.DNS is
// s's answer, shared. Fields are set one by one, never through a struct
// literal: that is built aside, field by field, then copied in 16-byte
// moves, each waiting for the narrow stores it reads (this took fill
// three times as long).
func (t *Tracker) fill(a *Attempt, s *attemptState, end time.Time, why EndReason) {
	a.Key, a.ISN, a.File, a.SYNOpts, a.SYNData = s.Key, s.ISN, s.File, s.SYNOpts, s.SYNData
	t.seen(&a.SYN, &s.SYN)
	t.seen(&a.SYNACK, &s.SYNACK)
	a.ServerISN, a.AltServerISN = s.ServerISN, s.AltServerISN
	a.SYNAfterSYNACK, a.SYNACKAfterACK = s.SYNAfterSYNACK, s.SYNACKAfterACK
	t.seen(&a.ACK, &s.ACK)
	a.ACKInferred, a.ServerBytesAcked = s.ACKInferred, s.ServerBytesAcked
	t.seen(&a.ServerRST, &s.ServerRST)
	t.seen(&a.ClientRST, &s.ClientRST)
	a.RSTInHandshake, a.ServerRSTBare = s.RSTInHandshake, s.ServerRSTBare
	t.seen(&a.ICMP, &s.ICMP)
	a.ICMPInfo = s.ICMPInfo
	t.seen(&a.ClientData, &s.ClientData)
	t.seen(&a.ServerData, &s.ServerData)
	a.ClientBytes, a.ServerBytes = s.ClientBytes, s.ServerBytes
	a.ServerSeqLo, a.ServerSeqHi, a.ServerMaxSeg, a.ServerResent = s.ServerSeqLo, s.ServerSeqHi, s.ServerMaxSeg, s.ServerResent
	a.ServerMSS, a.ServerSent, a.ClientDupACKs = s.ServerMSS, s.ServerSent, s.ClientDupACKs
	a.ClientSeqLo, a.ClientSeqHi, a.ClientMaxSeg, a.ClientResent = s.ClientSeqLo, s.ClientSeqHi, s.ClientMaxSeg, s.ClientResent
	a.ClientBytesAcked, a.ServerDupACKs, a.ServerAckedData = s.ClientBytesAcked, s.ServerDupACKs, s.ServerAckedData
	t.seen(&a.ClientFIN, &s.ClientFIN)
	t.seen(&a.ServerFIN, &s.ServerFIN)
	a.ClientApp, a.ServerApp = s.ClientApp, s.ServerApp
	t.ref(&a.ClientAppAt, &s.ClientAppAt)
	t.ref(&a.ServerAppAt, &s.ServerAppAt)
	a.DNS = s.DNS
	a.ServerHops = t.serverTTL[s.Key.Server.Addr()]
	a.PortHops = HopRef{}
	if s.SYNACK.Count == 0 {
		a.PortHops = t.portTTL[s.Key.Server]
	}
	a.End, a.EndedBy, a.Settled, a.CaptureFrom = end, why, s.Settled, t.first
	a.Events = slices.Grow(a.Events[:0], int(s.nEvents))[:s.nEvents]
	for i := range a.Events {
		e, to := t.event(s, i), &a.Events[i]
		to.File, to.N, to.TS, to.Iface = t.files.names[e.file], e.n, t.timeOf(e.ts), e.iface
		to.Type, to.FromClient, to.App, to.TTL, to.IPID, to.Len = e.typ, e.fromClient, e.app, e.ttl, e.ipid, e.length
	}
	a.EventsDropped, a.Duplicates, a.Echoes, a.SYNACKTwins = s.EventsDropped, s.Duplicates, s.Echoes, s.SYNACKTwins
	a.SYNsIn, a.SYNsOut, a.SYNsPassedOn, a.SYNsRelayed, a.Unpaired = s.SYNsIn, s.SYNsOut, s.SYNsPassedOn, s.SYNsRelayed, s.Unpaired
	a.SYNACKsIn, a.SYNACKsOut, a.SYNACKsPassedOn, a.SYNACKsToCopy = s.SYNACKsIn, s.SYNACKsOut, s.SYNACKsPassedOn, s.SYNACKsToCopy
	a.RelayedFromTTL, a.AfterStepBack, a.OutOfTimeOrder = s.RelayedFromTTL, s.AfterStepBack, s.OutOfTimeOrder
	a.ServerRSTsIn, a.ServerRSTsOut = s.ServerRSTsIn, s.ServerRSTsOut
	a.PassedOnAs, a.ReceivedAs = s.PassedOnAs, s.ReceivedAs
	a.PassesOnToServer = s.SYNsIn > 0 && t.passOn.passesOnTo(s.Key.Server.Addr())
	a.RoutesToServer = a.PassesOnToServer && t.passOn.routes(s.Key.Server.Addr())
	a.PassesOnLater = a.PassesOnToServer && t.passOn.passesTo.since(s.Key.Server.Addr(), nanos(t.timeOf(s.SYN.First)))
	a.PassesBackLater = t.passesBackLater(s)
	a.ServerIsCaptureHost = t.passOn.serves(s.Key.Server.Addr())
	a.AnsweredFrom, a.AnsweredFromCount = s.answeredFrom, s.answeredFromCount
	a.StaleACKs, a.StaleResets = s.StaleACKs, s.StaleResets
	a.BadSumSYNs, a.BadSumSYNACKs, a.SumsUntrusted = s.BadSumSYNs, s.BadSumSYNACKs, t.sumsLie || !t.sumsRight
	if a.AnsweredUnseen() {
		t.answeredUnseen = true
	}
	a.FlagsOnly = t.FlagsOnly()
	a.SYNsOnly = t.counts.NonSYN == 0
	a.MidPath = t.midPath
	a.Earlier = s.Earlier
	a.ECNSYNs, a.ECNFallback = s.ECNSYNs, s.ECNFallback
	if f := &s.fallback; f.synack != 0 {
		a.Fallback.Server = f.server
		a.Fallback.FirstSYN, a.Fallback.SYNACK = t.timeOf(f.syn), t.timeOf(f.synack)
	} else {
		a.Fallback = Fallback{}
	}
}

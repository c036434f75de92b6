package verdict

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// Stream is Join for captures read as they go: attempts come in as each
// side's tracker hands them on, and verdicts go out once nothing can
// change them, in order of first SYN, so that what it holds stays within
// a window of capture time, however long the captures run.
//
// An attempt is judged alone once its counterpart can no longer come:
// the other capture has read past the attempt's first SYN plus
// HandshakeSpan (or past its hand-on, for attempts that went on longer),
// plus Idle, plus slack for the clocks. A verdict goes out once both
// captures have read that far past its first SYN: nothing earlier can
// still come. Until then attempts are held packed (Packer) in Packs,
// with entries of a few dozen bytes for their order and state, and what
// matching needs of them (keys, options, clock facts) only while they
// wait for a counterpart: about 430 bytes for a pair, none of it scanned
// by the collector.
//
// When the captures are shorter than that window, everything waits for
// the end and the verdicts are Join's. On longer captures they differ
// where Join looks at the whole capture and Stream only at what it has
// read so far:
//   - the clock offset is what the pairs matched so far say: it only
//     tightens as pairs come (verdicts carry the one they rest on, and the
//     final one is Join's);
//   - whether the server capture shows a host at all is judged on the
//     attempts read so far, and a capture's own drop count (a pcapng's
//     statistics come last) counts from when it is known;
//   - coverage while a side is being read is what its caller says
//     (SetCoverage), running up to the time read;
//   - a counterpart handed on later than the window (a server resending
//     its reply for minutes after the client gave up on it) is not
//     matched: both are judged alone; an attempt handed on later than the
//     window after its first SYN (a connection that went on for minutes
//     before its first exchange ended) comes out after later ones;
//   - where two attempts could take one counterpart (the same 4-tuple and
//     ISN twice in a capture, NAT and weak matches of one SYN), the one
//     that comes first takes it, where Join would prefer the stronger
//     match.
//
// A Stream is not safe for concurrent use; it starts no goroutine.
type Stream struct {
	cfg JoinConfig
	// window and slackOf: Window and slack, worked out once.
	window, slackOf time.Duration
	pk              *Packer
	packs           *Packs
	emit            func(Ready)

	progress [2]time.Time // capture time each side has read up to
	read     [2]int64     // the same, in nanoseconds
	ended    [2]bool
	spans    [2][]Span // coverage; a zero Last runs up to progress
	open     [2][]bool // which spans run up to progress
	lossy    [2]bool   // the capture missed packets (Side.lossy), known at its end

	bounds offsetBounds
	off    ClockOffset

	// What the server capture shows (DNAT learnt from pairs), and the
	// client capture.
	servers        map[netip.Addr]hostPorts
	clients        map[netip.Addr]bool
	serverAttempts int
	// hosts are the addresses each capture showed in packets of no
	// attempt (HostSeen), true once in one other than TCP, when the
	// caller tells them (hostsTold). serverPorts are the server endpoints
	// of the server capture's attempts, up to maxServerPorts.
	hosts       [2]map[netip.Addr]bool
	hostsTold   bool
	serverPorts map[netip.AddrPort]struct{}
	// serverFilter is the capture filter the server side's captures say
	// they were taken with (SetServerFilter), or nil; serverWhole, once
	// the server side has ended, that they prove nothing was taken out of
	// them after (Side.Whole).
	serverFilter *capture.Filter
	serverWhole  bool

	// The attempts held, in pages that never move; free holds the
	// indexes of those let go.
	pages [][]streamEntry
	free  []int32
	// What matching needs of the attempts waiting for a counterpart, and
	// the indexes of those not in use.
	waits     []waitRec
	freeWaits []int32

	// Attempts waiting for a counterpart, by what matches them.
	exact  [2]map[streamKey]int32
	byISN  map[uint32]chain
	byTS   map[uint32]chain
	byIPID map[uint32]chain
	byPort map[portSlot]chain
	// waiting holds each side's attempts waiting for a counterpart, by
	// when it can no longer come.
	waiting [2]waitHeap
	// queued orders what is not out yet: attempts with a client view by
	// their first SYN, server-only ones by theirs on the server's clock.
	queued [2]itemHeap
	seq    [2]uint32

	held, mostHeld int
	scratch        [2]flows.Attempt
	arr            arrival // the attempt being added
	pack           []byte
	done           bool
}

// NewStream returns a Stream that hands each attempt, when its verdict
// can go out, to emit. Attempts are packed with pk, which must know the
// files their packets come from to keep them small, and kept in packs
// (nil: its own), where AddPacked takes them from.
func NewStream(cfg JoinConfig, pk *Packer, packs *Packs, emit func(Ready)) *Stream {
	if pk == nil {
		pk = NewPacker()
	}
	if packs == nil {
		packs = new(Packs)
	}
	j := &Stream{
		cfg: joinDefaults(cfg), pk: pk, packs: packs, emit: emit,
		servers: map[netip.Addr]hostPorts{}, clients: map[netip.Addr]bool{},
		exact: [2]map[streamKey]int32{{}, {}},
		byISN: map[uint32]chain{}, byTS: map[uint32]chain{}, byIPID: map[uint32]chain{}, byPort: map[portSlot]chain{},
	}
	j.read = [2]int64{nanos(time.Time{}), nanos(time.Time{})}
	j.window, j.slackOf = StreamWindow(j.cfg), streamSlack(j.cfg)
	return j
}

// showsHost reports whether the server capture, holding no attempt to
// addr, still shows it: told (HostSeen), or, untold, holding no attempt at
// all.
func (j *Stream) showsHost(addr netip.Addr) bool {
	if !j.hostsTold {
		return j.serverAttempts == 0
	}
	_, ok := j.hosts[atServer][addr]
	return ok
}

// maxServerPorts bounds Stream.serverPorts: a capture with attempts to
// that many server ports was not filtered to a few.
const maxServerPorts = 1 << 16

// portFiltered reports whether the server capture, holding attempts to
// the host addr itself but none on port, may have been taken with a
// filter on TCP ports that left port out ("port 80 or port 443"): it
// shows the host in no packet other than TCP, which such a filter keeps
// out (a capture of everything holds the host's DNS, ICMP, NTP …). Its
// lack of an attempt on port then proves nothing.
func (j *Stream) portFiltered(h hostPorts, addr netip.Addr, port uint16) bool {
	if !j.hostsTold || !h.direct || len(j.serverPorts) >= maxServerPorts || j.hosts[atServer][addr] {
		return false
	}
	_, ok := j.serverPorts[netip.AddrPortFrom(addr, port)]
	return !ok
}

// Sides as indexes.
const (
	atClient = 0
	atServer = 1
)

func sideIndex(v Vantage) int {
	if v == VantageServer {
		return atServer
	}
	return atClient
}

// Entry states.
const (
	stFree    = iota // not in use
	stWaiting        // for a counterpart
	stAlone          // to be judged from its own capture
	stPaired         // holds both views
)

// streamEntry is an attempt the Stream holds: its order and its state,
// with the attempt packed. No pointers: pages of them are not scanned by
// the collector. What matching needs is apart (waitRec), and only while
// it waits.
type streamEntry struct {
	first int64 // its first SYN, on its own clock
	// end is when the attempt was handed on; for a pair, the later of
	// both on the client's clock.
	end         int64
	seq         uint32  // compared modulo 2^32: a window holds far fewer
	view, other PackRef // other: a client attempt's server view, once paired
	w           int32   // its waitRec, -1 when it no longer waits
	side, st    uint8
	how         uint8
	// idled: handed on for being idle, Idle after its last packet.
	idled bool
}

// waitRec is what matching needs of an attempt waiting for a
// counterpart; for a server attempt, its links in the chains of the
// matches that need the clock (byISN…).
type waitRec struct {
	key   streamKey
	opts  capture.TCPOptions
	ipid  uint16
	wat   int32 // its place in waiting, -1 once out of it
	links [nChains]link
	clock clockFacts
}

// The chains a waiting server attempt is in.
const (
	inISN = iota
	inTS
	inIPID
	inPort
	nChains
)

// chain is the attempts of one key of an index, oldest first, linked
// through their waitRecs; link is an attempt's place in one.
type (
	chain struct{ head, tail int32 }
	link  struct{ prev, next int32 }
)

// Entries by index: pages of a fixed size, so that growing never copies.
const pageBits = 12

func (j *Stream) e(i int32) *streamEntry { return &j.pages[i>>pageBits][i&(1<<pageBits-1)] }

// newEntry takes an entry not in use.
func (j *Stream) newEntry() int32 {
	if n := len(j.free); n > 0 {
		i := j.free[n-1]
		j.free = j.free[:n-1]
		return i
	}
	i := int32(len(j.pages) << pageBits)
	j.pages = append(j.pages, make([]streamEntry, 1<<pageBits))
	for k := int32(1<<pageBits - 1); k > 0; k-- {
		j.free = append(j.free, i+k)
	}
	return i
}

func (j *Stream) freeEntry(i int32) {
	*j.e(i) = streamEntry{}
	j.free = append(j.free, i)
}

func (j *Stream) newWait() int32 {
	if n := len(j.freeWaits); n > 0 {
		w := j.freeWaits[n-1]
		j.freeWaits = j.freeWaits[:n-1]
		return w
	}
	j.waits = append(j.waits, waitRec{})
	return int32(len(j.waits) - 1)
}

// streamKey is Join's exactKey without pointers (netip.Addr holds one),
// so that tables of them are not scanned by the collector.
type streamKey struct {
	client, server [16]byte
	cport, sport   uint16
	isn            uint32
	tunnelID       uint32
	tunnelKind     capture.TunnelKind
	is4            uint8 // bit 0: the client's address is IPv4, bit 1: the server's
}

func (k *streamKey) clientAddr() netip.Addr { return keyAddr(k.client, k.is4&1 != 0) }
func (k *streamKey) serverAddr() netip.Addr { return keyAddr(k.server, k.is4&2 != 0) }
func (k *streamKey) serverPort() uint16     { return k.sport }

func keyAddr(b [16]byte, is4 bool) netip.Addr {
	a := netip.AddrFrom16(b)
	if is4 {
		return a.Unmap()
	}
	return a
}

// portSlot gathers server attempts waiting for a counterpart by server
// port and second, for the timing match.
type portSlot struct {
	port uint16
	sec  int64
}

var matchNames = [...]string{MatchExact, MatchNAT, MatchTSval, MatchIPID, MatchTiming}

const (
	howExact = iota
	howNAT
	howTSval
	howIPID
	howTiming
)

// nanos is t in nanoseconds since 1970, held within ±2^62 so that the
// waits added to it cannot overflow; the zero time is the earliest.
func nanos(t time.Time) int64 {
	const limit = 1 << 62
	if t.IsZero() {
		return -limit
	}
	switch sec := t.Unix(); {
	case sec >= limit/int64(time.Second):
		return limit
	case sec <= -limit/int64(time.Second):
		return -limit
	}
	return t.UnixNano()
}

// plus is t+d, held within the range of int64 (a clock offset may be
// anything).
func plus(t int64, d time.Duration) int64 {
	s := t + int64(d)
	if (d > 0 && s < t) || (d < 0 && s > t) {
		if d > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

// second is the second t falls in, as time.Time.Unix says it.
func second(t int64) int64 {
	s := t / int64(time.Second)
	if t%int64(time.Second) < 0 {
		s--
	}
	return s
}

// slack is what the waits add for the clocks and for late packets: how
// long a packet may take, how far apart two SYNs may be matched, how long
// after a packet the judging looks at the other capture.
func (j *Stream) slack() time.Duration { return j.slackOf }

func streamSlack(c JoinConfig) time.Duration {
	return c.Transit + c.MatchWindow + maxOneWay + max(c.StallAfter, c.AnswerWait, c.SYNTimeout)
}

// Window is how far behind the captures' reading the verdicts go out:
// what the Stream holds is what the captures show in that much time.
func (j *Stream) Window() time.Duration { return j.window }

// StreamWindow is the Window of a Stream with cfg.
func StreamWindow(cfg JoinConfig) time.Duration {
	cfg = joinDefaults(cfg)
	return cfg.HandshakeSpan + cfg.Idle + streamSlack(cfg)
}

// Add takes an attempt side's tracker handed on; a need not outlive the
// call. How far the side has been read, Advance tells.
func (j *Stream) Add(side Vantage, a *flows.Attempt) {
	j.pack = j.pk.Pack(j.pack[:0], a)
	j.AddPacked(side, j.packs.Keep(j.pack))
}

// AddPacked takes an attempt packed with the Stream's Packer and kept in
// its Packs, which it drops once the verdict is out.
func (j *Stream) AddPacked(side Vantage, r PackRef) {
	a := &j.arr
	j.arrival(r, a) // packed by the caller's own Packer, else a bug
	x := sideIndex(side)
	key := a.key
	i := j.newEntry()
	e := j.e(i)
	*e = streamEntry{view: r, first: a.first, end: a.end, idled: a.idled, seq: j.seq[x], side: uint8(x), st: stWaiting, w: -1}
	j.seq[x]++
	j.held++
	j.mostHeld = max(j.mostHeld, j.held)
	if x == atServer {
		addr, port := key.serverAddr(), key.serverPort()
		if h := j.servers[addr]; !h.many || !h.direct {
			h = h.add(port)
			h.direct = true
			j.servers[addr] = h
		}
		if len(j.serverPorts) < maxServerPorts {
			if j.serverPorts == nil {
				j.serverPorts = map[netip.AddrPort]struct{}{}
			}
			j.serverPorts[netip.AddrPortFrom(addr, port)] = struct{}{}
		}
		j.serverAttempts++
	} else if addr := key.clientAddr(); !j.clients[addr] {
		j.clients[addr] = true
	}
	// The exact match needs no clock, so it is made at once; a server
	// attempt matched so is never out on its own.
	o, ok := j.exact[1-x][key]
	if x == atClient || !ok {
		j.queued[x].push(item{e.first, e.seq, i})
	}
	if ok {
		if x == atClient {
			j.link(i, o, howExact)
		} else {
			j.link(o, i, howExact)
		}
	} else {
		e.w = j.newWait()
		j.waits[e.w] = waitRec{key: key, opts: a.opts, ipid: a.ipid, clock: a.clock}
		// A server capture's last attempt of a 4-tuple and ISN is the one
		// matched, a client capture's first, as Join does.
		if _, dup := j.exact[x][key]; x == atServer || !dup {
			j.exact[x][key] = i
		}
		if x == atServer {
			j.index(i)
		}
		j.wpush(x, witem{item{j.horizon(e), e.seq, i}, e.w})
	}
	j.step()
}

// Advance tells that side's capture has been read up to t.
func (j *Stream) Advance(side Vantage, t time.Time) {
	if x := sideIndex(side); t.After(j.progress[x]) {
		j.progress[x], j.read[x] = t, nanos(t)
		j.step()
	}
}

// SetCoverage tells when side's capture ran, as far as is known while it
// is read: spans with a zero Last run up to what has been read. Without
// it, a capture is taken to cover all time until End.
func (j *Stream) SetCoverage(side Vantage, spans []Span) {
	x := sideIndex(side)
	j.spans[x] = slices.Clone(spans)
	j.open[x] = make([]bool, len(spans))
	for i, sp := range spans {
		j.open[x][i] = sp.Last.IsZero()
	}
}

// End tells that side's capture has been read to its end: s says when it
// ran and what it dropped (its Attempts are ignored: Add them). When both
// have ended, every verdict goes out.
func (j *Stream) End(side Vantage, s Side) {
	x := sideIndex(side)
	j.ended[x] = true
	j.spans[x] = s.spans()
	if x == atServer {
		j.serverWhole = s.Whole
	}
	j.open[x] = nil
	j.lossy[x] = s.lossy()
	j.step()
}

// TellsHosts says that the caller tells, through HostSeen, every host each
// capture shows in packets of no attempt (flows.Config.OnHost). A client
// attempt to a server the server capture holds no attempt to is then
// judged against that capture only if it showed the server at all. A
// Stream not told takes a server capture holding no attempt at all to
// show every host.
func (j *Stream) TellsHosts() { j.hostsTold = true }

// SetServerFilter tells the capture filter the server side's captures
// were taken with, as they state it themselves (pcapng's if_filter, which
// dumpcap writes from -f): a client's attempt whose SYN it would not pass
// was out of their view, and one whose SYN it passes whatever a
// translation did to its addresses was not left out by a filter on
// ports. Only the Stream's goroutine may use f from then on.
func (j *Stream) SetServerFilter(f *capture.Filter) { j.serverFilter = f }

// filterSays is what the server capture's own filter says of a client
// attempt's SYN: passes, or not, known only where its answer does not
// depend on addresses a translation may rewrite. That it passes is known
// only of captures that prove nothing was taken out of them after the
// filter (a display filter's output keeps the original's stated filter);
// that it does not, of any.
func (j *Stream) filterSays(k *streamKey) (passes, known bool) {
	if j.serverFilter == nil || k.tunnelKind != 0 || k.is4 == 1 || k.is4 == 2 {
		// A tunnel's outer headers are what a capture filter sees, and a
		// translation between IP versions leaves no SYN to test.
		return false, false
	}
	c, s := netip.AddrPortFrom(k.clientAddr(), k.cport), netip.AddrPortFrom(k.serverAddr(), k.sport)
	passes, known = j.serverFilter.PassesSYN(c, s)
	return passes, known && (!passes || j.serverWhole)
}

// HostSeen tells that side's capture showed addr in a packet of no
// attempt, one other than TCP if nonTCP.
func (j *Stream) HostSeen(side Vantage, addr netip.Addr, nonTCP bool) {
	x := sideIndex(side)
	if j.hosts[x] == nil {
		j.hosts[x] = map[netip.Addr]bool{}
	}
	j.hosts[x][addr] = j.hosts[x][addr] || nonTCP
}

// Offset is the clock offset the pairs matched so far give.
func (j *Stream) Offset() ClockOffset { return j.off }

// Held reports how many attempts the Stream holds, and the most it held.
func (j *Stream) Held() (now, most int) { return j.held, j.mostHeld }

// index makes a waiting server attempt findable by the matches that need
// the clock.
func (j *Stream) index(i int32) {
	e := j.e(i)
	w := &j.waits[e.w]
	enchain(j, j.byISN, w.key.isn, i, inISN)
	if w.opts.HasTS && w.opts.TSVal != 0 {
		enchain(j, j.byTS, w.opts.TSVal, i, inTS)
	}
	if w.ipid != 0 {
		enchain(j, j.byIPID, uint32(w.ipid), i, inIPID)
	}
	enchain(j, j.byPort, portSlot{w.key.sport, second(e.first)}, i, inPort)
}

// enchain puts attempt i last in m's chain of k.
func enchain[K comparable](j *Stream, m map[K]chain, k K, i int32, in int) {
	l := &j.waits[j.e(i).w].links[in]
	c, ok := m[k]
	if !ok {
		*l = link{-1, -1}
		m[k] = chain{i, i}
		return
	}
	*l = link{c.tail, -1}
	j.waits[j.e(c.tail).w].links[in].next = i
	c.tail = i
	m[k] = c
}

// chainHead is the first attempt of m's chain of k, -1 when there is none.
func chainHead[K comparable](m map[K]chain, k K) int32 {
	if c, ok := m[k]; ok {
		return c.head
	}
	return -1
}

// unchain takes attempt i out of m's chain of k.
func unchain[K comparable](j *Stream, m map[K]chain, k K, i int32, in int) {
	l := j.waits[j.e(i).w].links[in]
	c := m[k]
	if l.prev >= 0 {
		j.waits[j.e(l.prev).w].links[in].next = l.next
	} else {
		c.head = l.next
	}
	if l.next >= 0 {
		j.waits[j.e(l.next).w].links[in].prev = l.prev
	} else {
		c.tail = l.prev
	}
	if c.head < 0 {
		delete(m, k)
	} else {
		m[k] = c
	}
}

// unwait takes an attempt out of the tables of those waiting.
func (j *Stream) unwait(i int32) {
	e := j.e(i)
	if e.w < 0 {
		return
	}
	w := &j.waits[e.w]
	x := e.side
	if w.wat >= 0 {
		j.wremove(int(x), int(w.wat))
	}
	if o, ok := j.exact[x][w.key]; ok && o == i {
		delete(j.exact[x], w.key)
	}
	if x == atServer {
		unchain(j, j.byISN, w.key.isn, i, inISN)
		if w.opts.HasTS && w.opts.TSVal != 0 {
			unchain(j, j.byTS, w.opts.TSVal, i, inTS)
		}
		if w.ipid != 0 {
			unchain(j, j.byIPID, uint32(w.ipid), i, inIPID)
		}
		unchain(j, j.byPort, portSlot{w.key.sport, second(e.first)}, i, inPort)
	}
	*w = waitRec{}
	j.freeWaits = append(j.freeWaits, e.w)
	e.w = -1
}

// link pairs a waiting client attempt with a waiting server one. Strong
// matches (no clock needed) bound the clock offset.
func (j *Stream) link(ci, si int32, how uint8) {
	c, s := j.e(ci), j.e(si)
	ck, cf := j.matching(c)
	sk, sf := j.matching(s)
	if h, ok := j.servers[sk.serverAddr()]; ok {
		j.servers[ck.serverAddr()] = j.servers[ck.serverAddr()].add(ck.serverPort()).merge(h)
	}
	j.clients[sk.clientAddr()] = true
	if how <= howTSval {
		if cf.ok && sf.ok {
			j.bounds.addFacts(cf, sf, c.first, s.first)
		} else {
			ca, sa := &j.scratch[0], &j.scratch[1]
			j.unpackClock(c.view, ca)
			j.unpackClock(s.view, sa)
			j.bounds.add(ca, sa)
		}
		j.off = j.bounds.offset()
	}
	j.unwait(ci)
	j.unwait(si)
	c.other, c.st, c.how = s.view, stPaired, how
	if se := plus(s.end, -j.off.Offset); se > c.end {
		c.end = se
	}
	// The server's view lives on in the client's entry; its item in
	// queued is let go when it comes up.
	j.freeEntry(si)
}

// matching is what matching knows of an attempt: its waitRec's, or (not
// waiting) that of the attempt being added.
func (j *Stream) matching(e *streamEntry) (*streamKey, *clockFacts) {
	if e.w < 0 {
		return &j.arr.key, &j.arr.clock
	}
	w := &j.waits[e.w]
	return &w.key, &w.clock
}

func (j *Stream) arrival(r PackRef, a *arrival) {
	if err := j.pk.arrival(j.packs.Bytes(r), a); err != nil {
		panic(err)
	}
}

func (j *Stream) unpackClock(r PackRef, a *flows.Attempt) {
	if err := j.pk.unpackClock(j.packs.Bytes(r), a); err != nil {
		panic(err)
	}
}

// errBound is how far the clock offset may be off.
func (j *Stream) errBound() time.Duration { return max(j.off.Error, 0) }

// readTo reports whether side's capture has been read up to t (its own
// clock).
func (j *Stream) readTo(x int, t int64) bool {
	return j.ended[x] || j.read[x] >= t
}

// readBoth reports whether both captures have been read up to t, on
// side x's clock.
func (j *Stream) readBoth(x int, t int64) bool {
	u := plus(plus(t, j.off.Offset), j.errBound())
	if x == atServer {
		u = plus(plus(t, -j.off.Offset), j.errBound())
	}
	return j.readTo(x, t) && j.readTo(1-x, u)
}

// horizon is when no counterpart of a waiting attempt can come any more,
// once both captures have read that far (its own clock): Idle past the
// last packet the counterpart may have, a handshake's span after the
// first SYN or the last packet of the attempt (it went on longer). A
// server attempt waits a little longer, so that client attempts near it
// in time are matched first.
func (j *Stream) horizon(e *streamEntry) int64 {
	h := e.first + int64(j.cfg.HandshakeSpan)
	last := e.end
	if e.idled {
		last -= int64(j.cfg.Idle)
	}
	h = max(h, last) + int64(j.cfg.Idle+j.slack())
	if e.side == atServer {
		h += int64(j.cfg.MatchWindow + pairSlack)
	}
	return h
}

// settled reports whether the first attempt waiting on side x can no
// longer get a counterpart, and takes it out of the waiting.
func (j *Stream) settled(x int) (int32, bool) {
	if len(j.waiting[x]) == 0 {
		return 0, false
	}
	w := j.waiting[x][0]
	h := w.at
	if x == atServer {
		h = plus(h, j.errBound())
	}
	if !j.readBoth(x, h) {
		return 0, false
	}
	j.wremove(x, 0)
	return w.i, true
}

// top is the first item of h still standing for an attempt of side x,
// letting go of those that no longer do.
func (j *Stream) top(h *itemHeap, x int) (item, bool) {
	for len(*h) > 0 {
		it := (*h)[0]
		if e := j.e(it.i); e.seq == it.seq && int(e.side) == x && e.st != stFree {
			return it, true
		}
		h.pop()
	}
	return item{}, false
}

// step matches and judges what the captures read so far allow.
func (j *Stream) step() {
	if j.done {
		return
	}
	j.openSpans()
	if j.ended[atClient] && j.ended[atServer] {
		j.finish()
		return
	}
	// Clients first: their late matches may take a server attempt.
	for i, ok := j.settled(atClient); ok; i, ok = j.settled(atClient) {
		if !j.matchStrong(i) && !j.matchWeak(i) {
			j.alone(i)
		}
	}
	for i, ok := j.settled(atServer); ok; i, ok = j.settled(atServer) {
		j.alone(i)
	}
	j.out(false)
}

// finish does what Join does with what is left: the strong late matches
// of every client attempt, then the weak ones, then every verdict.
func (j *Stream) finish() {
	j.done = true
	left := make([]item, 0, len(j.waiting[atClient]))
	for _, w := range j.waiting[atClient] {
		left = append(left, w.item)
	}
	// In the order they came, as Join goes through them.
	slices.SortFunc(left, func(a, b item) int { return cmp.Compare(int32(a.seq-b.seq), 0) })
	for _, w := range left {
		if j.e(w.i).st == stWaiting {
			j.matchStrong(w.i)
		}
	}
	for _, w := range left {
		if j.e(w.i).st == stWaiting && !j.matchWeak(w.i) {
			j.alone(w.i)
		}
	}
	for len(j.waiting[atServer]) > 0 {
		j.alone(j.waiting[atServer][0].i)
	}
	j.out(true)
}

func (j *Stream) alone(i int32) {
	j.unwait(i)
	j.e(i).st = stAlone
}

// matchStrong matches a client attempt by ISN and SYN options (NAT), or
// by TSval: once it is settled, so that an exact match comes first.
func (j *Stream) matchStrong(ci int32) bool {
	c := j.waits[j.e(ci).w]
	for si := chainHead(j.byISN, c.key.isn); si >= 0; si = j.waits[j.e(si).w].links[inISN].next {
		if synOptionsAgree(c.opts, j.waits[j.e(si).w].opts, true) {
			j.link(ci, si, howNAT)
			return true
		}
	}
	for si := chainHead(j.byISN, c.key.isn); si >= 0; si = j.waits[j.e(si).w].links[inISN].next {
		if resentSYNAgrees(c.opts, j.waits[j.e(si).w].opts) {
			j.link(ci, si, howNAT)
			return true
		}
	}
	if c.opts.HasTS && c.opts.TSVal != 0 {
		for si := chainHead(j.byTS, c.opts.TSVal); si >= 0; si = j.waits[j.e(si).w].links[inTS].next {
			if synOptionsAgree(c.opts, j.waits[j.e(si).w].opts, false) {
				j.link(ci, si, howTSval)
				return true
			}
		}
	}
	return false
}

// matchWeak matches a client attempt by IP-ID, or as the only server
// attempt to its port at its time, on the clock the pairs so far give.
func (j *Stream) matchWeak(ci int32) bool {
	c := j.e(ci)
	w := j.waits[c.w]
	near := func(s *streamEntry) bool {
		d := plus(s.first-c.first, -j.off.Offset)
		return d > -int64(j.cfg.MatchWindow) && d < int64(j.cfg.MatchWindow)
	}
	if w.ipid != 0 {
		for si := chainHead(j.byIPID, uint32(w.ipid)); si >= 0; si = j.waits[j.e(si).w].links[inIPID].next {
			if near(j.e(si)) {
				j.link(ci, si, howIPID)
				return true
			}
		}
	}
	// The candidates of one port, in the order they came (as Join's).
	from := second(plus(c.first, j.off.Offset-j.cfg.MatchWindow))
	to := second(plus(c.first, j.off.Offset+j.cfg.MatchWindow))
	found := int32(-1)
	for sec := from; sec <= to; sec++ {
		for si := chainHead(j.byPort, portSlot{w.key.sport, sec}); si >= 0; si = j.waits[j.e(si).w].links[inPort].next {
			if !near(j.e(si)) {
				continue
			}
			if found >= 0 && found != si {
				return false // two candidates: a guess
			}
			found = si
		}
	}
	if found >= 0 {
		j.link(ci, found, howTiming)
		return true
	}
	return false
}

// out judges and hands on, in order of first SYN, what is ready and
// cannot be preceded any more; all of it at the end.
func (j *Stream) out(all bool) {
	// Nothing with a first SYN before edge (client clock) can still come.
	var edge int64
	if !all {
		w := j.Window()
		edge = plus(j.read[atClient], -w)
		if s := plus(plus(j.read[atServer], -w-j.off.Offset), -j.errBound()); j.ended[atClient] {
			edge = s
		} else if !j.ended[atServer] && s < edge {
			edge = s
		}
	}
	var jv *joinView
	for {
		it, x, ok := j.next()
		if !ok {
			break
		}
		e := j.e(it.i)
		if !all {
			first := e.first
			if x == atServer {
				first = plus(first, -j.off.Offset)
			}
			if first >= edge || !j.ready(e) {
				break
			}
		}
		j.queued[x].pop()
		if jv == nil {
			jv = j.view()
		}
		j.judge(it.i, jv)
	}
}

// next is the first attempt in order of first SYN on the client's clock;
// of equal ones, those with a client view first, each in the order they
// came (Join's order).
func (j *Stream) next() (item, int, bool) {
	c, cok := j.top(&j.queued[atClient], atClient)
	s, sok := j.top(&j.queued[atServer], atServer)
	switch {
	case !sok:
		return c, atClient, cok
	case !cok:
		return s, atServer, true
	case plus(s.at, -j.off.Offset) < c.at:
		return s, atServer, true
	}
	return c, atClient, true
}

// ready reports whether an attempt can be judged: matched, with both
// captures read far enough past it to answer what judging asks of them;
// or settled alone.
func (j *Stream) ready(e *streamEntry) bool {
	switch e.st {
	case stAlone:
		return true
	case stPaired:
		return j.readBoth(atClient, plus(e.end, j.slack()))
	}
	return false
}

func (j *Stream) judge(i int32, jv *joinView) {
	e := j.e(i)
	r := Ready{view: j.packs.Bytes(e.view), how: e.how, jv: jv, pk: j.pk}
	var a arrival
	j.held--
	switch {
	case e.st == stPaired:
		r.kind = readyPair
		r.other = j.packs.Bytes(e.other)
		j.packs.Drop(e.other)
		j.held--
	case e.side == atClient:
		r.kind = readyClient
		j.arrival(e.view, &a)
		h, ok := j.servers[a.key.serverAddr()]
		addr, port := a.key.serverAddr(), a.key.serverPort()
		r.known, r.portHidden = ok || j.showsHost(addr), h.hides(port) || j.portFiltered(h, addr, port)
		if passes, known := j.filterSays(&a.key); known {
			// The capture's own word beats guessing at its filter.
			r.portHidden, r.filteredOut = false, !passes
		}
		if ok {
			r.dest = h.destination()
			// Answered, yet never at the server: the server capture
			// is not where every connection to the address goes. Known
			// from here on (the Stream reads in time order; Join, which
			// holds both captures whole, knows it for every attempt).
			if !h.shared && a.clock.synack.count > 0 && !r.portHidden && j.covers(a.first) {
				h.shared = true
				j.servers[addr] = h
			}
		}
	default:
		r.kind = readyServer
		j.arrival(e.view, &a)
		r.known = j.clients[a.key.clientAddr()]
	}
	// The bytes stay valid for whoever judges them.
	j.packs.Drop(e.view)
	j.freeEntry(i)
	j.emit(r)
}

// covers reports whether the server capture ran when a client's SYN sent
// at first (nanos, client clock) would have arrived (joinView.toServer).
func (j *Stream) covers(first int64) bool {
	v := joinView{server: j.spans[atServer], off: j.off, cfg: j.cfg}
	return v.toServer(time.Unix(0, first), time.Time{})
}

// view is what judging knows of the captures now; it does not change
// after, so that the attempts judged with it may be judged on another
// goroutine.
func (j *Stream) view() *joinView {
	v := &joinView{off: j.off, cfg: j.cfg, lossy: j.lossy[0] || j.lossy[1],
		client: slices.Clone(j.spans[atClient]), server: slices.Clone(j.spans[atServer])}
	if j.serverFilter != nil {
		v.serverFilter = j.serverFilter.String()
	}
	return v
}

// Ready is an attempt whose verdict can go out, as a Stream hands it on:
// Judge judges it, on any goroutine. It holds the attempt packed and what
// the Stream knew of the captures when it was done with it.
type Ready struct {
	view, other []byte
	kind, how   uint8
	// known: the other capture shows the attempt's server (of a client's
	// attempt) or client (of a server's). portHidden: the server capture
	// may have been taken with a filter leaving a client attempt's port out
	// (hostPorts.hides). dest: whether the server capture is where the
	// attempt had to go.
	known, portHidden bool
	// filteredOut: the server capture's own filter would not pass the
	// attempt's SYN (SetServerFilter): it is out of that capture's view.
	filteredOut bool
	dest        destination
	jv          *joinView
	pk          *Packer
}

const (
	readyPair = iota
	readyClient
	readyServer
)

// JoinScratch is what judging a Stream's attempts one after the other
// reuses (Ready.JudgeInto): the attempts unpacked, and room to merge the
// two captures' evidence. It belongs to one goroutine at a time.
type JoinScratch struct {
	att [2]flows.Attempt
	js  joinScratch
}

// Judge judges the attempt into a Result of its own, with scratch (nil:
// its own).
func (r *Ready) Judge(scratch *JoinScratch) Result {
	if scratch == nil {
		scratch = new(JoinScratch)
	}
	return lent(func(res *Result) { r.JudgeInto(res, scratch) })
}

// JudgeInto is Judge writing into *res, as JudgeInto does: reusing res,
// judging allocates about once per attempt, and what must outlive the
// next call must be copied out of res's slices first.
func (r *Ready) JudgeInto(res *Result, scratch *JoinScratch) {
	a := &scratch.att[0]
	if err := r.pk.Unpack(r.view, a); err != nil {
		panic(err)
	}
	switch r.kind {
	case readyPair:
		s := &scratch.att[1]
		if err := r.pk.Unpack(r.other, s); err != nil {
			panic(err)
		}
		r.jv.judgePair(res, &scratch.js, a, s, matchNames[r.how])
	case readyClient:
		if r.filteredOut {
			r.jv.judgeFilteredOut(res, a)
			break
		}
		r.jv.judgeClientOnly(res, a, r.known, r.portHidden, r.dest)
	default:
		r.jv.judgeServerOnly(res, a, r.known)
	}
}

// openSpans runs the spans still open up to what has been read.
func (j *Stream) openSpans() {
	for x := range j.open {
		for i, open := range j.open[x] {
			if open {
				j.spans[x][i].Last = j.progress[x]
			}
		}
	}
}

// item is an attempt in a heap: at (its first SYN, or when it is settled)
// first, then the order it came in. An item whose attempt has moved on
// stays until it comes up (top): i may then name another attempt, which
// seq tells apart. 16 bytes.
type item struct {
	at  int64
	seq uint32
	i   int32
}

// witem is an item of waiting, with the waitRec that knows its place.
type witem struct {
	item
	w int32
}

// waitHeap is a binary heap of witems, smallest first; each waitRec
// knows its item's place (wat), so that an attempt matched leaves at once.
type waitHeap []witem

func (j *Stream) wpush(x int, it witem) {
	j.waiting[x] = append(j.waiting[x], it)
	j.wup(x, len(j.waiting[x])-1)
}

// wremove takes out the item at k.
func (j *Stream) wremove(x, k int) {
	h := j.waiting[x]
	n := len(h) - 1
	j.waits[h[k].w].wat = -1
	if k != n {
		h[k] = h[n]
		j.waits[h[k].w].wat = int32(k)
	}
	j.waiting[x] = h[:n]
	if k < n {
		j.wdown(x, k)
		j.wup(x, k)
	}
}

func (j *Stream) wup(x, k int) {
	h := j.waiting[x]
	it := h[k]
	for k > 0 {
		p := (k - 1) / 2
		if !it.less(h[p].item) {
			break
		}
		h[k] = h[p]
		j.waits[h[k].w].wat = int32(k)
		k = p
	}
	h[k] = it
	j.waits[it.w].wat = int32(k)
}

func (j *Stream) wdown(x, k int) {
	h := j.waiting[x]
	n := len(h)
	it := h[k]
	for {
		c := 2*k + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].less(h[c].item) {
			c++
		}
		if !h[c].less(it.item) {
			break
		}
		h[k] = h[c]
		j.waits[h[k].w].wat = int32(k)
		k = c
	}
	h[k] = it
	j.waits[it.w].wat = int32(k)
}

// itemHeap is a binary heap of items, smallest first.
type itemHeap []item

func (a item) less(b item) bool { return a.at < b.at || (a.at == b.at && int32(a.seq-b.seq) < 0) }

func (h *itemHeap) push(it item) {
	*h = append(*h, it)
	s := *h
	k := len(s) - 1
	for k > 0 {
		p := (k - 1) / 2
		if !it.less(s[p]) {
			break
		}
		s[k] = s[p]
		k = p
	}
	s[k] = it
}

func (h *itemHeap) pop() {
	s := *h
	n := len(s) - 1
	last := s[n]
	*h = s[:n]
	s = s[:n]
	k := 0
	for {
		c := 2*k + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].less(s[c]) {
			c++
		}
		if !s[c].less(last) {
			break
		}
		s[k] = s[c]
		k = c
	}
	if n > 0 {
		s[k] = last
	}
}

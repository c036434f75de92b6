package verdict

import (
	"cmp"
	"container/heap"
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
// still come. Until then attempts are held packed (Packer).
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
	cfg  JoinConfig
	pk   *Packer
	emit func(Ready)

	progress [2]time.Time // capture time each side has read up to
	ended    [2]bool
	spans    [2][]Span // coverage; a zero Last runs up to progress
	open     [2][]bool // which spans run up to progress
	dropped  [2]uint64

	bounds offsetBounds
	off    ClockOffset

	// What the server capture shows (DNAT learnt from pairs), and the
	// client capture.
	servers, clients map[netip.Addr]bool
	serverAttempts   int

	// Attempts waiting for a counterpart, by what matches them.
	exact  [2]map[streamKey]*streamEntry
	byISN  map[uint32][]*streamEntry
	byTS   map[uint32][]*streamEntry
	byIPID map[uint16][]*streamEntry
	byPort map[portSlot][]*streamEntry
	// waiting holds each side's attempts waiting for a counterpart, by
	// when it can no longer come.
	waiting [2]waitHeap
	// queued orders what is not out yet: attempts with a client view by
	// their first SYN, server-only ones by theirs on the server's clock.
	queued [2]entryHeap
	seq    [2]uint64

	held, mostHeld int
	scratch        [2]flows.Attempt
	pack           []byte
	done           bool
}

// NewStream returns a Stream that hands each attempt, when its verdict
// can go out, to emit. Attempts are packed with pk, which must know the
// files their packets come from to keep them small.
func NewStream(cfg JoinConfig, pk *Packer, emit func(Ready)) *Stream {
	if pk == nil {
		pk = NewPacker()
	}
	return &Stream{
		cfg: joinDefaults(cfg), pk: pk, emit: emit,
		servers: map[netip.Addr]bool{}, clients: map[netip.Addr]bool{},
		exact: [2]map[streamKey]*streamEntry{{}, {}},
		byISN: map[uint32][]*streamEntry{}, byTS: map[uint32][]*streamEntry{},
		byIPID: map[uint16][]*streamEntry{}, byPort: map[portSlot][]*streamEntry{},
	}
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
	stWaiting = iota // for a counterpart
	stAlone          // to be judged from its own capture
	stPaired         // holds both views
	stGone           // merged into its pair, or out
)

// streamEntry is an attempt the Stream holds: what matching needs of it
// unpacked, the rest packed.
type streamEntry struct {
	view  []byte // the packed attempt
	other []byte // a client attempt's server view, once paired
	first time.Time
	// end is when the attempt was handed on; for a pair, the later of
	// both on the client's clock.
	end time.Time
	// idled: handed on for being idle, Idle after its last packet.
	idled bool
	key   streamKey
	opts  capture.TCPOptions
	ipid  uint16
	seq   uint64
	at    int   // index in its heap of queued, -1 when in none
	wat   int   // index in its heap of waiting, -1 when in none
	slot  int32 // index in its port slot (server attempts waiting)
	side  uint8
	st    uint8
	how   uint8
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

func keyOf(a *flows.Attempt) streamKey {
	k := streamKey{client: a.Key.Client.Addr().As16(), server: a.Key.Server.Addr().As16(),
		cport: a.Key.Client.Port(), sport: a.Key.Server.Port(), isn: a.ISN,
		tunnelID: a.Key.Tunnel.ID, tunnelKind: a.Key.Tunnel.Kind}
	if a.Key.Client.Addr().Is4() {
		k.is4 |= 1
	}
	if a.Key.Server.Addr().Is4() {
		k.is4 |= 2
	}
	return k
}

func (k *streamKey) clientAddr() netip.Addr { return keyAddr(k.client, k.is4&1 != 0) }
func (k *streamKey) serverAddr() netip.Addr { return keyAddr(k.server, k.is4&2 != 0) }

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

// slack is what the waits add for the clocks and for late packets: how
// long a packet may take, how far apart two SYNs may be matched, how long
// after a packet the judging looks at the other capture.
func (j *Stream) slack() time.Duration { return streamSlack(j.cfg) }

func streamSlack(c JoinConfig) time.Duration {
	return c.Transit + c.MatchWindow + maxOneWay + max(c.StallAfter, c.AnswerWait, c.SYNTimeout)
}

// Window is how far behind the captures' reading the verdicts go out:
// what the Stream holds is what the captures show in that much time.
func (j *Stream) Window() time.Duration { return StreamWindow(j.cfg) }

// StreamWindow is the Window of a Stream with cfg.
func StreamWindow(cfg JoinConfig) time.Duration {
	cfg = joinDefaults(cfg)
	return cfg.HandshakeSpan + cfg.Idle + streamSlack(cfg)
}

// Add takes an attempt side's tracker handed on; a need not outlive the
// call. How far the side has been read, Advance tells.
func (j *Stream) Add(side Vantage, a *flows.Attempt) {
	j.pack = j.pk.Pack(j.pack[:0], a)
	j.AddPacked(side, slices.Clone(j.pack))
}

// AddPacked takes an attempt packed with the Stream's Packer, and keeps b.
func (j *Stream) AddPacked(side Vantage, b []byte) {
	a := &j.scratch[0]
	if err := j.pk.unpackHead(b, a); err != nil {
		panic(err) // packed by the caller's own Packer: a bug
	}
	x := sideIndex(side)
	e := &streamEntry{view: b, first: a.SYN.First, end: a.End, idled: a.EndedBy == flows.EndIdle,
		key: keyOf(a), opts: a.SYNOpts, ipid: a.SYN.IPID, seq: j.seq[x], side: uint8(x), at: -1, wat: -1}
	j.seq[x]++
	j.held++
	j.mostHeld = max(j.mostHeld, j.held)
	if x == atServer {
		j.servers[a.Key.Server.Addr()] = true
		j.serverAttempts++
	} else {
		j.clients[a.Key.Client.Addr()] = true
	}
	heap.Push(&j.queued[x], e)
	// The exact match needs no clock, so it is made at once.
	y := 1 - x
	if o := j.exact[y][e.key]; o != nil {
		if x == atClient {
			j.link(e, o, howExact)
		} else {
			j.link(o, e, howExact)
		}
	} else {
		// A server capture's last attempt of a 4-tuple and ISN is the one
		// matched, a client capture's first, as Join does.
		if x == atServer || j.exact[x][e.key] == nil {
			j.exact[x][e.key] = e
		}
		if x == atServer {
			j.index(e)
		}
		heap.Push(&j.waiting[x], waitItem{e, j.horizon(e)})
	}
	j.step()
}

// Advance tells that side's capture has been read up to t.
func (j *Stream) Advance(side Vantage, t time.Time) {
	if x := sideIndex(side); t.After(j.progress[x]) {
		j.progress[x] = t
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
	j.open[x] = nil
	j.dropped[x] = s.Dropped
	j.step()
}

// Offset is the clock offset the pairs matched so far give.
func (j *Stream) Offset() ClockOffset { return j.off }

// Held reports how many attempts the Stream holds, and the most it held.
func (j *Stream) Held() (now, most int) { return j.held, j.mostHeld }

// index makes a waiting server attempt findable by the matches that need
// the clock.
func (j *Stream) index(s *streamEntry) {
	j.byISN[s.key.isn] = append(j.byISN[s.key.isn], s)
	if s.opts.HasTS && s.opts.TSVal != 0 {
		j.byTS[s.opts.TSVal] = append(j.byTS[s.opts.TSVal], s)
	}
	if s.ipid != 0 {
		j.byIPID[s.ipid] = append(j.byIPID[s.ipid], s)
	}
	slot := portSlot{s.key.sport, s.first.Unix()}
	s.slot = int32(len(j.byPort[slot]))
	j.byPort[slot] = append(j.byPort[slot], s)
}

// unindex takes an attempt out of the tables of those waiting.
func (j *Stream) unindex(e *streamEntry) {
	x := e.side
	if j.exact[x][e.key] == e {
		delete(j.exact[x], e.key)
	}
	if e.wat >= 0 {
		heap.Remove(&j.waiting[x], e.wat)
	}
	if x != atServer || e.st != stWaiting {
		return
	}
	unlist(j.byISN, e.key.isn, e)
	unlist(j.byTS, e.opts.TSVal, e)
	unlist(j.byIPID, e.ipid, e)
	// A slot's order does not matter (matchWeak takes the first that
	// came): the last takes the place of the one leaving. A SYN flood to
	// one port makes slots of thousands.
	slot := portSlot{e.key.sport, e.first.Unix()}
	if l := j.byPort[slot]; int(e.slot) < len(l) && l[e.slot] == e {
		last := l[len(l)-1]
		l[e.slot], last.slot = last, e.slot
		l[len(l)-1] = nil
		if l = l[:len(l)-1]; len(l) == 0 {
			delete(j.byPort, slot)
		} else {
			j.byPort[slot] = l
		}
	}
}

func unlist[K comparable](m map[K][]*streamEntry, k K, e *streamEntry) {
	l := m[k]
	if i := slices.Index(l, e); i >= 0 {
		if len(l) == 1 {
			delete(m, k)
			return
		}
		m[k] = slices.Delete(l, i, i+1)
	}
}

// link pairs a waiting client attempt with a waiting server one. Strong
// matches (no clock needed) bound the clock offset.
func (j *Stream) link(c, s *streamEntry, how uint8) {
	j.unindex(c)
	j.unindex(s)
	if s.at >= 0 {
		heap.Remove(&j.queued[atServer], s.at)
	}
	j.servers[c.key.serverAddr()] = true
	j.clients[s.key.clientAddr()] = true
	if how <= howTSval {
		ca, sa := &j.scratch[0], &j.scratch[1]
		j.unpack(c.view, ca)
		j.unpack(s.view, sa)
		j.bounds.add(ca, sa)
		j.off = j.bounds.offset()
	}
	c.other, c.st, c.how = s.view, stPaired, how
	if se := s.end.Add(-j.off.Offset); se.After(c.end) {
		c.end = se
	}
	s.view, s.st = nil, stGone
}

func (j *Stream) unpack(b []byte, a *flows.Attempt) {
	if err := j.pk.Unpack(b, a); err != nil {
		panic(err)
	}
}

// errBound is how far the clock offset may be off.
func (j *Stream) errBound() time.Duration { return max(j.off.Error, 0) }

// read reports whether side's capture has been read up to t (its own
// clock).
func (j *Stream) read(x int, t time.Time) bool {
	return j.ended[x] || !j.progress[x].Before(t)
}

// readBoth reports whether both captures have been read up to t, on
// side x's clock.
func (j *Stream) readBoth(x int, t time.Time) bool {
	u := t.Add(j.off.Offset + j.errBound())
	if x == atServer {
		u = t.Add(-j.off.Offset + j.errBound())
	}
	return j.read(x, t) && j.read(1-x, u)
}

// horizon is when no counterpart of a waiting attempt can come any more,
// once both captures have read that far (its own clock): Idle past the
// last packet the counterpart may have, a handshake's span after the
// first SYN or the last packet of the attempt (it went on longer). A
// server attempt waits a little longer, so that client attempts near it
// in time are matched first.
func (j *Stream) horizon(e *streamEntry) time.Time {
	h := e.first.Add(j.cfg.HandshakeSpan)
	last := e.end
	if e.idled {
		last = last.Add(-j.cfg.Idle)
	}
	if last.After(h) {
		h = last
	}
	h = h.Add(j.cfg.Idle + j.slack())
	if e.side == atServer {
		h = h.Add(j.cfg.MatchWindow + pairSlack)
	}
	return h
}

// settled reports whether the first attempt waiting on side x can no
// longer get a counterpart, and takes it out of the waiting.
func (j *Stream) settled(x int) *streamEntry {
	if len(j.waiting[x]) == 0 {
		return nil
	}
	w := j.waiting[x][0]
	h := w.h
	if x == atServer {
		h = h.Add(j.errBound())
	}
	if !j.readBoth(x, h) {
		return nil
	}
	heap.Pop(&j.waiting[x])
	return w.e
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
	for e := j.settled(atClient); e != nil; e = j.settled(atClient) {
		if !j.matchStrong(e) && !j.matchWeak(e) {
			j.alone(e)
		}
	}
	for e := j.settled(atServer); e != nil; e = j.settled(atServer) {
		j.alone(e)
	}
	j.out(false)
}

// finish does what Join does with what is left: the strong late matches
// of every client attempt, then the weak ones, then every verdict.
func (j *Stream) finish() {
	j.done = true
	left := make([]*streamEntry, 0, len(j.waiting[atClient]))
	for _, w := range j.waiting[atClient] {
		left = append(left, w.e)
	}
	// In the order they came, as Join goes through them.
	slices.SortFunc(left, func(a, b *streamEntry) int { return cmp.Compare(a.seq, b.seq) })
	for _, e := range left {
		if e.st == stWaiting {
			j.matchStrong(e)
		}
	}
	for _, e := range left {
		if e.st == stWaiting && !j.matchWeak(e) {
			j.alone(e)
		}
	}
	for len(j.waiting[atServer]) > 0 {
		j.alone(j.waiting[atServer][0].e)
	}
	j.out(true)
}

func (j *Stream) alone(e *streamEntry) {
	j.unindex(e)
	e.st = stAlone
}

// matchStrong matches a client attempt by ISN and SYN options (NAT), or
// by TSval: once it is settled, so that an exact match comes first.
func (j *Stream) matchStrong(c *streamEntry) bool {
	for _, s := range j.byISN[c.key.isn] {
		if synOptionsAgree(c.opts, s.opts, true) {
			j.link(c, s, howNAT)
			return true
		}
	}
	if c.opts.HasTS && c.opts.TSVal != 0 {
		for _, s := range j.byTS[c.opts.TSVal] {
			if synOptionsAgree(c.opts, s.opts, false) {
				j.link(c, s, howTSval)
				return true
			}
		}
	}
	return false
}

// matchWeak matches a client attempt by IP-ID, or as the only server
// attempt to its port at its time, on the clock the pairs so far give.
func (j *Stream) matchWeak(c *streamEntry) bool {
	near := func(s *streamEntry) bool {
		d := s.first.Sub(c.first) - j.off.Offset
		return d > -j.cfg.MatchWindow && d < j.cfg.MatchWindow
	}
	if c.ipid != 0 {
		for _, s := range j.byIPID[c.ipid] {
			if near(s) {
				j.link(c, s, howIPID)
				return true
			}
		}
	}
	// The candidates of one port, in the order they came (as Join's).
	from := c.first.Add(j.off.Offset - j.cfg.MatchWindow).Unix()
	to := c.first.Add(j.off.Offset + j.cfg.MatchWindow).Unix()
	var found *streamEntry
	for sec := from; sec <= to; sec++ {
		for _, s := range j.byPort[portSlot{c.key.sport, sec}] {
			if !near(s) {
				continue
			}
			if found != nil && found != s {
				return false // two candidates: a guess
			}
			if found == nil || s.seq < found.seq {
				found = s
			}
		}
	}
	if found != nil {
		j.link(c, found, howTiming)
		return true
	}
	return false
}

// out judges and hands on, in order of first SYN, what is ready and
// cannot be preceded any more; all of it at the end.
func (j *Stream) out(all bool) {
	// Nothing with a first SYN before edge (client clock) can still come.
	var edge time.Time
	if !all {
		w := j.Window()
		edge = j.progress[atClient].Add(-w)
		if j.ended[atClient] {
			edge = j.progress[atServer].Add(-w - j.off.Offset - j.errBound())
		} else if !j.ended[atServer] {
			if s := j.progress[atServer].Add(-w - j.off.Offset - j.errBound()); s.Before(edge) {
				edge = s
			}
		}
	}
	var jv *joinView
	for {
		e := j.next()
		if e == nil {
			break
		}
		if !all {
			first := e.first
			if e.side == atServer {
				first = first.Add(-j.off.Offset)
			}
			if !first.Before(edge) || !j.ready(e) {
				break
			}
		}
		heap.Pop(&j.queued[e.side])
		if jv == nil {
			jv = j.view()
		}
		j.judge(e, jv)
	}
}

// next is the first attempt in order of first SYN on the client's clock;
// of equal ones, those with a client view first, each in the order they
// came (Join's order).
func (j *Stream) next() *streamEntry {
	c, s := j.queued[atClient].top(), j.queued[atServer].top()
	if c == nil || s == nil {
		if c != nil {
			return c
		}
		return s
	}
	if s.first.Add(-j.off.Offset).Before(c.first) {
		return s
	}
	return c
}

// ready reports whether an attempt can be judged: matched, with both
// captures read far enough past it to answer what judging asks of them;
// or settled alone.
func (j *Stream) ready(e *streamEntry) bool {
	switch e.st {
	case stAlone:
		return true
	case stPaired:
		return j.readBoth(atClient, e.end.Add(j.slack()))
	}
	return false
}

func (j *Stream) judge(e *streamEntry, jv *joinView) {
	r := Ready{view: e.view, other: e.other, how: e.how, jv: jv, pk: j.pk}
	a := &j.scratch[0]
	j.held--
	switch {
	case e.st == stPaired:
		r.kind = readyPair
		j.held--
	case e.side == atClient:
		r.kind = readyClient
		if err := j.pk.unpackHead(e.view, a); err != nil {
			panic(err)
		}
		r.known = j.serverAttempts == 0 || j.servers[a.Key.Server.Addr()]
	default:
		r.kind = readyServer
		if err := j.pk.unpackHead(e.view, a); err != nil {
			panic(err)
		}
		r.known = j.clients[a.Key.Client.Addr()]
	}
	e.view, e.other, e.st = nil, nil, stGone
	j.emit(r)
}

// view is what judging knows of the captures now; it does not change
// after, so that the attempts judged with it may be judged on another
// goroutine.
func (j *Stream) view() *joinView {
	return &joinView{off: j.off, cfg: j.cfg, lossy: j.dropped[0]+j.dropped[1] > 0,
		client: slices.Clone(j.spans[atClient]), server: slices.Clone(j.spans[atServer])}
}

// Ready is an attempt whose verdict can go out, as a Stream hands it on:
// Judge judges it, on any goroutine. It holds the attempt packed and what
// the Stream knew of the captures when it was done with it.
type Ready struct {
	view, other []byte
	kind, how   uint8
	// known: the other capture shows the attempt's server (of a client's
	// attempt) or client (of a server's).
	known bool
	jv    *joinView
	pk    *Packer
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
		r.jv.judgeClientOnly(res, a, r.known)
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

// waitHeap orders attempts waiting for a counterpart by horizon.
type waitHeap []waitItem

type waitItem struct {
	e *streamEntry
	h time.Time
}

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, k int) bool {
	if c := h[i].h.Compare(h[k].h); c != 0 {
		return c < 0
	}
	return h[i].e.seq < h[k].e.seq
}
func (h waitHeap) Swap(i, k int) {
	h[i], h[k] = h[k], h[i]
	h[i].e.wat, h[k].e.wat = i, k
}
func (h *waitHeap) Push(x any) {
	w := x.(waitItem)
	w.e.wat = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = waitItem{}
	*h = old[:len(old)-1]
	w.e.wat = -1
	return w
}

// entryHeap orders entries by first SYN (their own clock), then by the
// order they came.
type entryHeap []*streamEntry

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, k int) bool {
	if c := h[i].first.Compare(h[k].first); c != 0 {
		return c < 0
	}
	return h[i].seq < h[k].seq
}
func (h entryHeap) Swap(i, k int) {
	h[i], h[k] = h[k], h[i]
	h[i].at, h[k].at = i, k
}
func (h *entryHeap) Push(x any) {
	e := x.(*streamEntry)
	e.at = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.at = -1
	return e
}

func (h entryHeap) top() *streamEntry {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

package verdict

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// Span is a stretch of time a capture was running, on its own clock.
type Span struct{ First, Last time.Time }

// Side is one vantage's capture, as the join needs it.
type Side struct {
	Attempts []*flows.Attempt
	// First and Last are the capture's first and last packet times; zero
	// when it holds no packet. Coverage, when set, says more precisely
	// when it ran: one span per file, in time order (rotated files can
	// leave gaps, a capture can stop early).
	// Coverage non-nil and empty: the capture was read and held no
	// packet, so it covers nothing (an empty file is no proof of loss).
	First, Last time.Time
	Coverage    []Span
	// Dropped is how many packets the capture itself dropped: missing
	// packets are then no proof of a loss.
	Dropped uint64
	// Gaps is how many attempts show, by what their ends acknowledged,
	// that the capture missed packets (flows.Counts.Gaps): the same.
	Gaps uint64
	// Whole: every file proves it holds all its capture kept (statistics
	// counting every packet in it, capture.Reader.Ran), so nothing was
	// filtered out of it after: the capture filter it states is all that
	// left packets out (Stream.SetServerFilter).
	Whole bool
}

// lossy reports whether the side's capture missed packets.
func (s *Side) lossy() bool { return s.Dropped+s.Gaps > 0 }

// spans is the side's coverage; nil when nothing says (then it is taken
// to cover everything, as a test's literal attempts do).
func (s *Side) spans() []Span {
	if s.Coverage != nil {
		return s.Coverage
	}
	if s.First.IsZero() {
		return nil
	}
	return []Span{{s.First, s.Last}}
}

// JoinConfig tunes Join.
type JoinConfig struct {
	Config
	// Transit is how long a packet may take from one capture point to the
	// other: a packet sent less than this before the other capture ended
	// may still have arrived after it.
	Transit time.Duration
	// MatchWindow: how far apart (after clock correction) two SYNs may be
	// for the weak, timing-based matches.
	MatchWindow time.Duration
	// Idle and HandshakeSpan bound how long a Stream waits for an
	// attempt's counterpart: a tracker hands an attempt on at most Idle
	// (flows.Config.Idle) after its last packet, and a handshake's packets
	// go on for at most HandshakeSpan after its first SYN. Join ignores
	// them.
	Idle, HandshakeSpan time.Duration
}

// DefaultJoinConfig is used where a JoinConfig is zero.
var DefaultJoinConfig = JoinConfig{Config: DefaultConfig, Transit: 500 * time.Millisecond, MatchWindow: 500 * time.Millisecond,
	Idle: flows.DefaultConfig.Idle, HandshakeSpan: 65 * time.Second} // Linux resends an unanswered SYN for 63 s

// Match methods, strongest first.
const (
	MatchExact  = "4-tuple+isn"
	MatchNAT    = "isn+syn-options (nat)"
	MatchTSval  = "tsval+syn-options (isn rewritten)"
	MatchIPID   = "ip-id+time (weak)"
	MatchTiming = "time+port (weak)"
)

const (
	// maxOneWay is the longest one-way delay when pairing a packet with
	// its copy in the other capture.
	maxOneWay = 2 * time.Second
	// pairSlack absorbs timestamp jitter beyond the clock error bound.
	pairSlack = time.Millisecond
	// unknownError marks a clock offset bounded on one side only.
	unknownError = -1
)

// ClockOffset is server clock minus client clock, estimated from attempts
// seen in both captures the NTP way: a SYN's arrival at the server bounds
// the offset from above, a SYN-ACK's arrival at the client from below.
type ClockOffset struct {
	Offset time.Duration
	Error  time.Duration // half the width of the bounds; -1 when only one bound exists
	Known  bool
	Pairs  int
	// Contradicted: the bounds cross (a SYN seen at the server before the
	// client sent it, or the like): the clocks drifted during the capture,
	// attempts were matched wrongly, or the two captures are each other's.
	// Conclusions that compare the clocks are then only likely.
	Contradicted bool
}

// contradiction is how far the bounds may cross before it counts:
// timestamp jitter between two capture points.
const contradiction = 5 * time.Millisecond

type pair struct{ c, s *flows.Attempt }

// Join matches the client capture's attempts to the server capture's and
// judges each from both vantages. Attempts seen in one capture only are
// judged from that one, and said to be out of the other's view when it did
// not cover their time or their server.
func Join(client, server Side, cfg JoinConfig) ([]Result, ClockOffset) {
	cfg = joinDefaults(cfg)
	matchOf := map[*flows.Attempt]*flows.Attempt{}
	how := map[*flows.Attempt]string{}
	used := map[*flows.Attempt]bool{}
	link := func(c, s *flows.Attempt, m string) {
		matchOf[c], how[c], used[s] = s, m, true
	}

	// Strong matches first: they fix the clock offset for the weak ones.
	exact := make(map[exactKey]*flows.Attempt, len(server.Attempts))
	byISN := map[uint32][]*flows.Attempt{}
	byTS := map[uint32][]*flows.Attempt{}
	for _, s := range server.Attempts {
		exact[exactKey{s.Key, s.ISN}] = s
		byISN[s.ISN] = append(byISN[s.ISN], s)
		if s.SYNOpts.HasTS && s.SYNOpts.TSVal != 0 {
			byTS[s.SYNOpts.TSVal] = append(byTS[s.SYNOpts.TSVal], s)
		}
	}
	for _, c := range client.Attempts {
		if s := exact[exactKey{c.Key, c.ISN}]; s != nil && !used[s] {
			link(c, s, MatchExact)
		}
	}
	for _, c := range client.Attempts {
		if matchOf[c] != nil {
			continue
		}
		if s := pick(byISN[c.ISN], used, func(s *flows.Attempt) bool { return optionsAgree(c, s, true) }); s != nil {
			link(c, s, MatchNAT)
		} else if s := pick(byISN[c.ISN], used, func(s *flows.Attempt) bool { return resentSYNAgrees(c.SYNOpts, s.SYNOpts) }); s != nil {
			link(c, s, MatchNAT)
		} else if c.SYNOpts.HasTS && c.SYNOpts.TSVal != 0 {
			if s := pick(byTS[c.SYNOpts.TSVal], used, func(s *flows.Attempt) bool { return optionsAgree(c, s, false) }); s != nil {
				link(c, s, MatchTSval)
			}
		}
	}
	var strong []pair
	for _, c := range client.Attempts {
		if s := matchOf[c]; s != nil {
			strong = append(strong, pair{c, s})
		}
	}
	off := estimateOffset(strong)

	// Weak matches: same IP-ID, or the same server port at the same
	// (corrected) time, when the SYN was rewritten beyond recognition.
	weakIndex := map[uint16][]*flows.Attempt{}
	byPort := map[uint16][]*flows.Attempt{}
	for _, s := range server.Attempts {
		if used[s] {
			continue
		}
		if s.SYN.IPID != 0 {
			weakIndex[s.SYN.IPID] = append(weakIndex[s.SYN.IPID], s)
		}
		byPort[s.Key.Server.Port()] = append(byPort[s.Key.Server.Port()], s)
	}
	near := func(c, s *flows.Attempt) bool { return nearInTime(c, s, off, cfg) }
	for _, c := range client.Attempts {
		if matchOf[c] != nil {
			continue
		}
		if c.SYN.IPID != 0 {
			if s := pick(weakIndex[c.SYN.IPID], used, func(s *flows.Attempt) bool { return near(c, s) }); s != nil {
				link(c, s, MatchIPID)
				continue
			}
		}
		if s := pickUnique(byPort[c.Key.Server.Port()], used, func(s *flows.Attempt) bool { return near(c, s) }); s != nil {
			link(c, s, MatchTiming)
		}
	}

	// What the server capture can see: its time span and its servers, with
	// the destination rewrites (DNAT) learnt from matched attempts.
	servers := map[netip.Addr]hostPorts{}
	for _, s := range server.Attempts {
		h := servers[s.Key.Server.Addr()].add(s.Key.Server.Port())
		h.direct = true
		servers[s.Key.Server.Addr()] = h
	}
	for c, s := range matchOf {
		if h, ok := servers[s.Key.Server.Addr()]; ok {
			servers[c.Key.Server.Addr()] = servers[c.Key.Server.Addr()].add(c.Key.Server.Port()).merge(h)
		}
	}
	jv := &joinView{client: client.spans(), server: server.spans(), off: off, cfg: cfg, lossy: client.lossy() || server.lossy()}
	for _, c := range client.Attempts {
		if matchOf[c] == nil {
			addr := c.Key.Server.Addr()
			if h, ok := servers[addr]; ok && jv.answeredElsewhere(c, h) {
				h.shared = true
				servers[addr] = h
			}
		}
	}
	clients := map[netip.Addr]bool{}
	for _, c := range client.Attempts {
		clients[c.Key.Client.Addr()] = true
	}
	for c, s := range matchOf {
		clients[s.Key.Client.Addr()] = clients[s.Key.Client.Addr()] || clients[c.Key.Client.Addr()]
	}

	results := make([]Result, 0, len(client.Attempts)+len(server.Attempts)-len(matchOf))
	var js joinScratch
	for _, c := range client.Attempts {
		results = append(results, lent(func(r *Result) {
			if s := matchOf[c]; s != nil {
				jv.judgePair(r, &js, c, s, how[c])
			} else {
				h, inHost := servers[c.Key.Server.Addr()]
				jv.judgeClientOnly(r, c, len(server.Attempts) == 0 || inHost, h.hides(c.Key.Server.Port()), h.destination())
			}
		}))
	}
	for _, s := range server.Attempts {
		if !used[s] {
			results = append(results, lent(func(r *Result) { jv.judgeServerOnly(r, s, clients[s.Key.Client.Addr()]) }))
		}
	}
	slices.SortStableFunc(results, func(a, b Result) int { return a.FirstSYN.Compare(b.FirstSYN) })
	return results, off
}

// nearInTime reports whether two SYNs are close enough in time, once the
// clocks are aligned, for a weak match.
func nearInTime(c, s *flows.Attempt, off ClockOffset, cfg JoinConfig) bool {
	d := s.SYN.First.Sub(c.SYN.First) - off.Offset
	return d > -cfg.MatchWindow && d < cfg.MatchWindow
}

// judgePair judges into r an attempt both captures saw, matched by how.
func (v *joinView) judgePair(r *Result, js *joinScratch, c, s *flows.Attempt, how string) {
	judgeBoth(r, js, c, s, v)
	switch {
	case s.OutOfTimeOrder:
		withholdPlace(r, s)
	case c.OutOfTimeOrder || c.AfterStepBack || s.AfterStepBack:
		withholdPlace(r, c)
	}
	r.Match = how
	v.clock(r)
}

// hostPorts is what a server capture shows of one server host: the port
// of its first attempt, and whether another port had attempts too.
type hostPorts struct {
	port uint16
	many bool
	seen bool
	// direct: the capture holds attempts to this address itself, not
	// only to the one a DNAT rewrote it to (Stream).
	direct bool
	// shared: the client capture holds an attempt to this address that
	// was answered (its SYN-ACK arrived) while the server capture ran, on
	// a port it shows, and that it never saw (answeredElsewhere).
	shared bool
}

func (h hostPorts) add(port uint16) hostPorts {
	if !h.seen {
		return hostPorts{port: port, seen: true}
	}
	h.many = h.many || port != h.port
	return h
}

func (h hostPorts) merge(o hostPorts) hostPorts {
	if o.seen {
		h = h.add(o.port)
		h.many = h.many || o.many
	}
	return h
}

// translated reports whether the server capture shows the host only as
// the destination a translation (DNAT, a load balancer) rewrote: the
// translator may send a connection to another host than the one captured.
func (h hostPorts) translated() bool { return h.seen && !h.direct }

// destination says whether a server capture that shows a client attempt's
// server is where the attempt had to go.
type destination uint8

const (
	destHere destination = iota
	// destTranslated: the capture shows the server only behind a
	// destination translation (hostPorts.translated).
	destTranslated
	// destShared: another host answers for the address too, or the
	// server through an interface not captured (hostPorts.shared).
	destShared
)

func (h hostPorts) destination() destination {
	switch {
	case h.translated():
		return destTranslated
	case h.shared:
		return destShared
	}
	return destHere
}

// answeredElsewhere reports whether c, an attempt the server capture never
// saw, was answered with a SYN-ACK while that capture ran, on a port it
// shows of the host h. Then something else answers for the address: a load
// balancer's other backends (direct server return: each holds the
// address), anycast, a proxy in the path, or the server through another
// interface. The capture's silence about the address's other attempts then
// proves no loss on the way.
func (v *joinView) answeredElsewhere(c *flows.Attempt, h hostPorts) bool {
	return c.SYNACK.Count > 0 && !h.hides(c.Key.Server.Port()) && v.toServer(c.SYN.First, time.Time{})
}

// hides reports whether a capture showing the host's ports as h may have
// been taken with a filter that leaves port out (tcpdump port 443): it
// shows attempts to the host on one other port only. Its lack of an
// attempt on port then proves nothing.
func (h hostPorts) hides(port uint16) bool { return h.seen && !h.many && h.port != port }

// judgeClientOnly judges into r an attempt only the client capture saw;
// inHost says whether the server capture shows its server at all,
// portHidden that it may have been taken with a filter leaving the
// attempt's port out (hostPorts.hides), and dest whether the capture is
// where the attempt had to go.
func (v *joinView) judgeClientOnly(r *Result, c *flows.Attempt, inHost, portHidden bool, dest destination) {
	t := retelling(r, c, VantageClient, v.cfg.Config)
	covered, sent := v.synsAtServer(c)
	if dest == destShared && c.SYNACK.Count > 0 {
		dest = destHere // answered itself: judgeNeverAtServer says by whom
	}
	if covered > 0 && inHost && dest != destHere {
		// A load balancer sends each connection to one of several hosts:
		// that this one never saw it proves no loss on the way, nor that
		// an answer came from the path. What the client lived through
		// stands.
		t.str(" ").str(elsewhereWords[dest])
		if r.Where == Unknown {
			r.Settle = elsewhereSettle[dest]
		}
	} else if covered > 0 && inHost && portHidden && (r.Verdict == Refused && r.RSTOrigin == OriginServer || r.Verdict != Refused && r.Verdict != Timeout && r.Verdict != Unreachable) {
		// The client's capture says the server answered (a RST with its
		// TTL, a SYN-ACK): the server capture's filter, more likely than
		// the path, left the attempt out.
		t.str(" ").str(portWords(c))
	} else if covered > 0 && inHost {
		judgeNeverAtServer(c, r, v, covered, portHidden)
		r.Partial = covered < sent
		if !v.off.Known && len(v.server) > 0 {
			t.str(" (No attempt is in both captures, so their clocks could not be aligned; this takes both clocks to be right.)")
		}
		r.Vantage = VantageBoth
		r.SYNSeenByServer, r.SYNACKSent = 0, 0
		if portHidden {
			r.SYNSeenByServer, r.SYNACKSent = -1, -1 // a filter may have left them out
		} else {
			markLost(r.Evidence, true)
		}
	} else {
		t.str(" ").outOfView("server", covered > 0, inHost)
	}
	retold(r)
	v.clock(r)
}

// judgeFilteredOut judges into r an attempt only the client capture saw,
// whose SYN the server capture's own filter would not have passed: that
// capture cannot confirm it, whatever happened to it.
func (v *joinView) judgeFilteredOut(r *Result, c *flows.Attempt) {
	t := retelling(r, c, VantageClient, v.cfg.Config)
	t.str(" The server capture cannot confirm the attempt: its own capture filter (\"").str(v.serverFilter).str("\", as the file states it) would not pass its SYN.")
	retold(r)
	v.clock(r)
}

// judgeServerOnly judges into r an attempt only the server capture saw, on
// the client's clock; knownClient says whether the client capture shows
// its client at all.
func (v *joinView) judgeServerOnly(r *Result, s *flows.Attempt, knownClient bool) {
	t := retelling(r, s, VantageServer, v.cfg.Config)
	inTime := v.toClient(s.SYN.First, time.Time{}) || v.toClient(s.SYN.Last, time.Time{})
	t.str(" ").outOfView("client", inTime, knownClient)
	retold(r)
	shift(r.Evidence, v.off.Offset)
	r.FirstSYN = r.FirstSYN.Add(-v.off.Offset)
}

// retelling judges a from one capture into r (JudgeInto), then starts the
// words over with its explanation, for the join to extend or replace
// (r.judged) with what the other capture shows; retold makes them r's.
// Only an explanation the join changes costs a second string.
func retelling(r *Result, a *flows.Attempt, v Vantage, cfg Config) *text {
	JudgeInto(r, a, v, cfg)
	r.w.reset()
	return r.w.expl.str(r.Explanation)
}

// retold makes what was written since retelling r's: the explanation, and
// the fields written (the server's capture naming what the client's did
// not).
func retold(r *Result) {
	w := r.w
	w.kept = -1
	if string(w.expl.b) == r.Explanation {
		w.kept = len(w.expl.b) // unchanged: finish keeps the string it has
	}
	w.finish(r)
}

// lent judges into a Result of its own, with words lent for the call, as
// Judge does: for Join, which keeps every result.
func lent(judge func(r *Result)) Result {
	w := spareWords.Get().(*words)
	r := Result{w: w}
	judge(&r)
	r.w = nil
	w.giveBack(&r)
	return r
}

// clock notes the clock offset the verdict rests on, when there is one.
func (v *joinView) clock(r *Result) {
	if v.off.Known {
		r.ClockOffset, r.ClockError, r.HasClockOffset = v.off.Offset, v.off.Error, true
	}
}

// joinView answers whether a packet sent at one end fell within the time
// the other end's capture ran: only then does its absence there prove a
// loss. A capture that started late or stopped early proves nothing about
// the time it did not cover.
type joinView struct {
	client, server []Span
	off            ClockOffset
	cfg            JoinConfig
	// lossy: a capture dropped packets, so absence proves less.
	lossy bool
	// serverFilter is the server capture's own filter, if it states one.
	serverFilter string
}

// slack is how far the clock correction may be off. A one-sided bound
// (only SYNs got through) maps a client's packet to its arrival at the
// server, which is what coverage asks; Transit absorbs the rest.
func (v *joinView) slack() time.Duration {
	return max(v.off.Error, 0) + pairSlack
}

// sure is how firmly conclusions that compare the two clocks hold: proven
// when they were aligned from attempts seen in both captures. (Those that
// need no clock, such as a SYN resent after the server's SYN-ACK went out,
// are proven regardless.)
func (v *joinView) sure() Confidence {
	if v.off.Known && !v.off.Contradicted && !v.lossy {
		return Proven
	}
	return Inferred
}

// ran reports whether one of spans covers from…to.
func ran(spans []Span, from, to time.Time) bool {
	if spans == nil {
		return true
	}
	for _, sp := range spans {
		if !sp.First.After(from) && !sp.Last.Before(to) {
			return true
		}
	}
	return false
}

// toServer reports whether the server capture would have seen a packet
// the client sent at t (client clock) arrive. since, when set, is a time
// (server clock) the server capture showed this attempt, so it was running
// then: causality then bounds the arrival better than the clock error.
func (v *joinView) toServer(t, since time.Time) bool {
	u := t.Add(v.off.Offset)
	return ran(v.server, latest(u.Add(-v.slack()), since), u.Add(v.slack()+v.cfg.Transit))
}

// toClient is toServer the other way: a packet the server sent at u
// (server clock), since a time (client clock) the client capture showed
// this attempt.
func (v *joinView) toClient(u, since time.Time) bool {
	t := u.Add(-v.off.Offset)
	return ran(v.client, latest(t.Add(-v.slack()), since), t.Add(v.slack()+v.cfg.Transit))
}

// own is how firmly a conclusion from the server capture's own clock
// holds (an answer it never shows): proven, unless it dropped packets.
func (v *joinView) own() Confidence {
	if v.lossy {
		return Inferred
	}
	return Proven
}

// latest is the later of a and b; a zero b is ignored.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// synsAtServer counts the client's SYNs the server capture would have
// seen arrive, of how many the client sent.
func (v *joinView) synsAtServer(c *flows.Attempt) (covered, sent int) {
	for _, e := range c.Events {
		if e.Type == flows.EvSYN {
			sent++
			if v.toServer(e.TS, time.Time{}) {
				covered++
			}
		}
	}
	if sent < int(c.SYN.Count) { // evidence was capped: judge by the ends
		sent = int(c.SYN.Count)
		if v.toServer(c.SYN.First, time.Time{}) || v.toServer(c.SYN.Last, time.Time{}) {
			covered = max(covered, 1)
		}
	}
	return covered, sent
}

type exactKey struct {
	k   flows.Key
	isn uint32
}

func joinDefaults(cfg JoinConfig) JoinConfig {
	cfg.Config = cfg.Config.withDefaults()
	if cfg.Transit <= 0 {
		cfg.Transit = DefaultJoinConfig.Transit
	}
	if cfg.MatchWindow <= 0 {
		cfg.MatchWindow = DefaultJoinConfig.MatchWindow
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultJoinConfig.Idle
	}
	if cfg.HandshakeSpan <= 0 {
		cfg.HandshakeSpan = DefaultJoinConfig.HandshakeSpan
	}
	return cfg
}

// outOfView says why the other capture cannot confirm an attempt.
func (t *text) outOfView(other string, inTime, inHost bool) *text {
	switch {
	case !inTime:
		return t.str("The ").str(other).str(" capture does not cover this time, so it cannot confirm the attempt.")
	case !inHost:
		return t.str("The ").str(other).str(" capture shows no traffic of this host: it was taken elsewhere, so it cannot confirm the attempt.")
	}
	return t.str("The ").str(other).str(" capture covers this time and host but holds no matching SYN: it missed the packets, or a middlebox rewrote them beyond recognition.")
}

// pick returns the first unused candidate that ok accepts.
func pick(cands []*flows.Attempt, used map[*flows.Attempt]bool, ok func(*flows.Attempt) bool) *flows.Attempt {
	for _, s := range cands {
		if !used[s] && ok(s) {
			return s
		}
	}
	return nil
}

// pickUnique returns the only unused candidate ok accepts: a timing match
// with two candidates is a guess.
func pickUnique(cands []*flows.Attempt, used map[*flows.Attempt]bool, ok func(*flows.Attempt) bool) *flows.Attempt {
	var found *flows.Attempt
	for _, s := range cands {
		if !used[s] && ok(s) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

// optionsAgree compares the SYN options a middlebox leaves alone. MSS may
// be clamped on the way, so the server may see less, never more.
func optionsAgree(c, s *flows.Attempt, compareTS bool) bool {
	return synOptionsAgree(c.SYNOpts, s.SYNOpts, compareTS)
}

func synOptionsAgree(co, so capture.TCPOptions, compareTS bool) bool {
	if co.WScale != so.WScale || co.SACKPerm != so.SACKPerm || co.HasTS != so.HasTS {
		return false
	}
	if so.MSS > co.MSS && co.MSS != 0 {
		return false
	}
	return !compareTS || !co.HasTS || co.TSVal == so.TSVal
}

// synSpanTicks bounds how far apart the timestamps of two SYNs of one
// attempt can be: a client resends its SYN for about two minutes at most
// (Linux: 127 s), and the fastest timestamp clock in use ticks every
// microsecond (Linux's usec timestamps; most tick every millisecond).
const synSpanTicks = 180e6

// resentSYNAgrees says whether two SYNs with the same ISN, whose options
// agree but for their timestamps, can be one attempt's: the first SYN
// and one resent. A server capture that started late, or a first SYN
// lost on the way, shows a resent SYN first, and a client capture that
// started late the reverse: the timestamp has moved on, the ISN has not.
// Without this, a NAT between the captures left such an attempt
// unmatched, and its SYNs were blamed on the path.
func resentSYNAgrees(co, so capture.TCPOptions) bool {
	d := int32(so.TSVal - co.TSVal)
	return synOptionsAgree(co, so, false) && co.HasTS && d > -synSpanTicks && d < synSpanTicks
}

// estimateOffset bounds server-minus-client clock offset the NTP way: a
// SYN reaches the server after it left the client (offset ≤ s−c), a
// SYN-ACK reaches the client after it left the server (offset ≥ s−c).
// Pairing each end's first SYN (first SYN-ACK) keeps the bounds valid when
// some were lost, but loose when the first ones were: a server capture that
// started late sees a later retransmission first. A bound is tight when the
// two packets are known to be one: every SYN arrived, or the IP-IDs agree.
// A one-sided bound that is only loose could be seconds off, so it is not
// used at all.
func estimateOffset(pairs []pair) ClockOffset {
	var b offsetBounds
	for _, p := range pairs {
		b.add(p.c, p.s)
	}
	return b.offset()
}

// offsetBounds gathers the bounds pair by pair: they only tighten, and
// do not depend on the order the pairs come in.
type offsetBounds struct {
	hi, lo bound
	pairs  int
}

func (b *offsetBounds) add(c, s *flows.Attempt) {
	b.hi.lower(firstPair(c.SYN, s.SYN, c.Events, s.Events, flows.EvSYN, func(a, b time.Duration) bool { return a < b }))
	b.lo.raise(firstPair(c.SYNACK, s.SYNACK, c.Events, s.Events, flows.EvSYNACK, func(a, b time.Duration) bool { return a > b }))
	b.pairs++
}

// addFacts is add for the clock facts of two attempts whose first SYNs
// came at cFirst and sFirst (nanos).
func (b *offsetBounds) addFacts(c, s *clockFacts, cFirst, sFirst int64) {
	base := time.Duration(sFirst - cFirst)
	b.hi.lower(factsPair(c, s, base, flows.EvSYN, func(a, b time.Duration) bool { return a < b }))
	b.lo.raise(factsPair(c, s, base, flows.EvSYNACK, func(a, b time.Duration) bool { return a > b }))
	b.pairs++
}

// factsPair is firstPair for clock facts, base apart.
func factsPair(c, s *clockFacts, base time.Duration, t flows.EventType, better func(a, b time.Duration) bool) bound {
	cs, ss := c.syn, s.syn
	if t == flows.EvSYNACK {
		cs, ss = c.synack, s.synack
	}
	if cs.count == 0 || ss.count == 0 {
		return bound{}
	}
	var b bound
	for _, e := range s.ev[:s.n] {
		if e.typ != t || e.ipid == 0 {
			continue
		}
		for _, f := range c.ev[:c.n] {
			if f.typ == t && f.ipid == e.ipid {
				if d := base + time.Duration(e.ts-f.ts); !b.ok || better(d, b.d) {
					b = bound{d: d, ok: true, tight: true}
				}
				break
			}
		}
	}
	if b.ok {
		return b
	}
	return bound{d: base + time.Duration(ss.first-cs.first), ok: true, tight: cs.count == ss.count}
}

func (b *offsetBounds) offset() ClockOffset {
	hi, lo := b.hi, b.lo
	switch {
	case hi.ok && lo.ok:
		mid := lo.d + (hi.d-lo.d)/2
		e := (hi.d - lo.d) / 2
		if e < 0 {
			e = -e // drifting clocks or a bad match: say how far apart
		}
		return ClockOffset{Offset: mid, Error: e, Known: true, Pairs: b.pairs, Contradicted: lo.d-hi.d > contradiction}
	case hi.ok && hi.tight:
		return ClockOffset{Offset: hi.d, Error: unknownError, Known: true, Pairs: b.pairs}
	case lo.ok && lo.tight:
		return ClockOffset{Offset: lo.d, Error: unknownError, Known: true, Pairs: b.pairs}
	}
	return ClockOffset{}
}

// bound is one side of the clock offset's bounds.
type bound struct {
	d         time.Duration
	ok, tight bool
}

// lower and raise keep the tighter bound; of two equal ones, a tight one,
// so that the order pairs come in does not matter.
func (b *bound) lower(c bound) {
	if c.ok && (!b.ok || c.d < b.d || c.d == b.d && c.tight && !b.tight) {
		*b = c
	}
}

func (b *bound) raise(c bound) {
	if c.ok && (!b.ok || c.d > b.d || c.d == b.d && c.tight && !b.tight) {
		*b = c
	}
}

// firstPair is s−c for one kind of packet of one attempt: for packets with
// the same IP-ID in both captures (the best by better), else for the first
// of each, tight when neither end lost one.
func firstPair(cs, ss flows.Seen, cev, sev []flows.Event, t flows.EventType, better func(a, b time.Duration) bool) bound {
	if cs.Count == 0 || ss.Count == 0 {
		return bound{}
	}
	var b bound
	for _, e := range sev {
		if e.Type != t || e.IPID == 0 {
			continue
		}
		for _, f := range cev {
			if f.Type == t && f.IPID == e.IPID {
				if d := e.TS.Sub(f.TS); !b.ok || better(d, b.d) {
					b = bound{d: d, ok: true, tight: true}
				}
				break
			}
		}
	}
	if b.ok {
		return b
	}
	return bound{d: ss.First.Sub(cs.First), ok: true, tight: cs.Count == ss.Count}
}

// judgeNeverAtServer judges an attempt the server capture never saw,
// though it ran while covered of the client's SYNs were on their way.
func judgeNeverAtServer(c *flows.Attempt, r *Result, v *joinView, covered int, portHidden bool) {
	sure := v.sure()
	if portHidden && sure == Proven {
		sure = Inferred
	}
	switch r.Verdict {
	case Refused:
		if r.RSTOrigin == OriginServer {
			// A capture that drops packets drops them in bursts: a SYN and
			// the RST that answered it microseconds later go together.
			t := r.judged(Refused, Unknown, "").str("A RST answered the SYN (ECONNREFUSED) that the server capture, running at the time, does not hold, nor the SYN, yet it came from as far off as the server: ")
			missedRST(r, t.rstDistance(r, c, nil), "the server sent it and its capture missed both", "refused the connection in its place (a firewall in front of the server)")
			return
		}
		r.RSTOrigin, r.OriginSure = OriginPath, sure.sureness()
		r.judged(Refused, OutboundPath, sure).str("A RST answered the SYN (ECONNREFUSED), but the server never saw the SYN nor sent the RST: something on the way forged it: a firewall rejecting the connection, or a host in front of the server that forwards connections to it (a container host, a Kubernetes node, port forwarding) refusing a port it does not forward.")
	case Unreachable:
		// The router's ICMP error is proof whatever the clocks say.
		r.Where, r.WhereSure, r.RSTOrigin, r.OriginSure = OutboundPath, Proven, OriginPath, Certain
		if !portHidden {
			r.w.expl.str(" The server capture confirms the SYN never arrived.")
		}
	case Timeout:
		t := r.judged(Timeout, OutboundPath, sure).unanswered(c).str(". None of ")
		if covered < int(c.SYN.Count) {
			t.num(uint64(covered)).str(" of the ").num(uint64(c.SYN.Count)).str(" SYNs (those sent while the server capture ran)")
		} else {
			t.count(uint32(covered), "SYN")
		}
		t.str(" reached the server: they were lost on the way out (ETIMEDOUT).")
		if portHidden {
			t.str(" Unless, that is, the ").str(portWords(c)[len("The "):])
			r.Candidates = append(r.Candidates[:0], OutboundPath, Server, ReturnPath)
			r.Settle = "a capture of every port on the server would tell"
			return
		}
	case Incomplete:
		r.w.expl.str(" The server capture has not seen it either.")
		return
	default:
		if !v.off.Known {
			r.w.expl.str(" The server capture holds no matching SYN.")
			return
		}
		// Answered, yet the server never saw it: something in the path
		// (a SYN proxy, a load balancer) answered in its place, or the
		// capture missed the connection (another interface). The server
		// is no more to blame than the path.
		r.w.expl.str(" The server capture, running at the time, never saw this attempt: something on the way may have answered in the server's place.")
		answeredInItsPlace(r)
		return
	}
	r.Candidates = append(r.Candidates[:0], r.Where)
	r.Settle = "" // the server capture did
}

// answeredInItsPlace unsettles what the client capture alone laid at the
// server's door, for an attempt the server capture never saw: whatever
// answered may have been in the path.
func answeredInItsPlace(r *Result) {
	if r.RSTOrigin == OriginServer {
		r.RSTOrigin, r.OriginSure = OriginUnknown, ""
	}
	if r.Where != Server {
		return
	}
	r.Where, r.WhereSure = Unknown, ""
	if !slices.Contains(r.Candidates, Server) {
		r.Candidates = append(r.Candidates, Server)
	}
	if !slices.Contains(r.Candidates, OutboundPath) {
		r.Candidates = append(r.Candidates, OutboundPath)
	}
	r.Settle = "a capture of a proxy in the path, or of the server's other interfaces, would tell"
}

func (c Confidence) sureness() Sureness {
	if c == Proven {
		return Certain
	}
	return Likely
}

// judgeBoth judges into r an attempt seen in both captures: what was sent
// and what arrived, while the other capture ran, settles where it died.
func judgeBoth(r *Result, js *joinScratch, c, s *flows.Attempt, v *joinView) {
	t := retelling(r, c, VantageClient, v.cfg.Config)
	// What the client capture alone would settle it with, kept where the
	// server's cannot settle it.
	settle := r.Settle
	r.Vantage = VantageBoth
	r.SYNSeenByServer, r.SYNACKSent = int(s.SYN.Count), int(s.SYNACK.Count)
	if s.Key.Client != c.Key.Client {
		r.ClientSeenByServer = s.Key.Client
	}
	if s.Key.Server != c.Key.Server {
		r.ServerSeenByServer = s.Key.Server
	}
	r.Settle = ""
	covered, sent := v.synsAtServer(c)
	r.Partial = covered < sent
	lost := lostSYNs{covered: covered}
	if int(s.SYN.Count) < covered {
		lost.n = covered - int(s.SYN.Count)
	}
	sure := v.sure()
	blind := serverOutboundUnseen(c, s)
	switch {
	case (c.FlagsOnly || c.SYNsOnly) && c.SYNACK.Count > 0 && !c.Established() && c.SYNAfterSYNACK == 0 && c.ClientRST.Count == 0 && !blind:
		// The client took the SYN-ACK (it resent no SYN), and its answer
		// cannot be in its capture: the server's tells what became of it.
		takeServerView(r, v.serverView(s)).str(" The client resent no SYN after the SYN-ACK reached it, and its capture holds no segment without SYN, FIN or RST (taken with a filter on TCP flags?): its answer is not in it.")
	case c.SYNACK.Count > 0 || c.Established():
		// The client's own ACK proves a SYN-ACK arrived, captured or not.
		judgeBothAnswered(c, s, r, v, blind)
	case c.ServerRST.Count > 0 && c.RSTInHandshake:
		switch {
		case s.ServerRST.Count > 0:
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.judged(Refused, Server, Proven).str("The server answered the SYN with a RST (ECONNREFUSED): nothing listens on port ").num(uint64(s.Key.Server.Port())).
				str(", or its firewall rejects the connection").lostSYNs(lost).str(".")
		case !blind && !s.FlagsOnly && !s.SYNsOnly && ran(v.server, s.SYN.First, c.ServerRST.First.Add(v.off.Offset+v.slack())):
			// The server capture ran from the SYN's arrival until the RST
			// reached the client: a RST the server sent would be in it,
			// unless it holds no segment but SYNs (a filter on flags).
			if s.SYNACK.Count == 0 && rstAsFarAsServer(r, c, s) {
				t := r.judged(Refused, Unknown, "").str("A RST answered the SYN (ECONNREFUSED) that the server capture, running at the time, does not hold (the server ").serverDid(s).str("), yet it came from as far off as the server: ")
				missedRST(r, t.rstDistance(r, c, s), "the server sent it and its capture missed it", "forged it")
				break
			}
			r.RSTOrigin, r.OriginSure = OriginPath, sure.sureness()
			r.judged(Refused, OutboundPath, sure).str("The client got a RST that the server never sent: something on the way forged it (the server ").serverDid(s).str(").")
		case blind:
			// What the client capture alone says stands.
			r.Settle = settle
			t.str(" The server capture cannot settle who sent the RST: ").serverBlind(s).str(".")
		case s.FlagsOnly || s.SYNsOnly:
			r.Settle = settle
			t.str(" The server capture cannot settle who sent the RST: it holds no segment without SYN, FIN or RST (taken with a filter on TCP flags?), and may hold no RST either.")
		default:
			// What the client capture alone says stands.
			r.Settle, r.Partial = settle, true
			t.str(" The server capture cannot settle it: the server capture does not cover the time of the RST.")
		}
	case c.ICMP.Count > 0:
		r.Where, r.WhereSure = OutboundPath, Proven
		if c.ICMPInfo.From == c.Key.Server.Addr() && s.ICMP.Count > 0 {
			r.Where = Server
		}
		t.str(" The server ").serverDid(s).str(".")
	case s.Established():
		// The client's ACK, at the server, proves as much.
		judgeBothAnsweredUnseen(c, s, r, v, v.serverView(s))
	case resetAnswer(c, s, v):
		// So does its RST to the SYN-ACK.
		if sv := v.serverView(s); sv.Verdict == Aborted && sv.Where == Client {
			judgeBothAnsweredUnseen(c, s, r, v, sv)
			break
		}
		judgeBothUnanswered(c, s, r, v, lost, blind)
	default:
		judgeBothUnanswered(c, s, r, v, lost, blind)
	}
	// A place proven is the only candidate; one inferred keeps those its
	// inference left open.
	if r.Where != Unknown && (r.WhereSure == Proven || !slices.Contains(r.Candidates, r.Where)) {
		r.Candidates = r.Candidates[:0]
		if r.Where != None {
			r.Candidates = append(r.Candidates, r.Where)
		}
	}
	if r.Where == Unknown {
		r.WhereSure = ""
	}
	// The server's capture may name causes the client's could not.
	causes(s, r, r.w)
	retold(r)
	js.pairEvidence(r, s, v.off)
	if r.Cause == CauseBadChecksum {
		markDamaged(r.Evidence, s, VantageServer)
	}
}

// judgeBothAnsweredUnseen judges an attempt whose answer the client
// capture does not show, though the server capture shows the client
// acknowledging it (its ACK of the SYN-ACK, or data that acknowledges
// it): the answer reached the client, after the client capture ended or
// out of its sight. What the server capture alone says stands. Resent
// SYNs do not prove the answers lost here: a slow return path delays
// them past a SYN timeout or two.
func judgeBothAnsweredUnseen(c, s *flows.Attempt, r *Result, v *joinView, sv Result) {
	t := takeServerView(r, sv)
	acked := s.ACK.First
	if !s.Established() { // answered with a RST (resetAnswer)
		acked = s.ClientRST.First
	} else if acked.IsZero() { // acknowledged by its data (flows.Attempt.ACKInferred)
		acked = s.ClientData.First
	}
	switch {
	case clientInboundUnseen(c):
		t.str(" The client capture, ").clientBlind(c).str(", cannot show the answer arriving")
	case !ran(v.client, c.SYN.First, acked.Add(-v.off.Offset-v.slack())):
		t.str(" The client capture ends before the answer reached the client")
	default:
		t.str(" The client capture shows no answer arriving: it missed it")
	}
	if !s.Established() {
		t.str(", but the server capture shows the client answering it with a RST.")
		return
	}
	t.str(", but the server capture shows the client acknowledging it.")
}

// resetAnswer reports that the server capture shows the client sending a
// RST after the server's SYN-ACK, and no SYN after it: a client mid
// handshake resets nothing of its own accord (closing a socket that is
// still connecting sends no packet), so a SYN-ACK reached it, whatever
// its capture lacks. A client that went on resending its SYN reset an
// answer it did not take (from another address, for another sequence).
func resetAnswer(c, s *flows.Attempt, v *joinView) bool {
	return s.SYNACK.Count > 0 && s.ClientRST.Count > 0 && s.ClientRST.First.After(s.SYNACK.First) &&
		!s.SYN.Last.After(s.ClientRST.First) && !c.SYN.Last.Add(v.off.Offset).After(s.ClientRST.First)
}

// serverView is what the server capture alone says of s.
func (v *joinView) serverView(s *flows.Attempt) Result {
	return lent(func(sr *Result) { JudgeInto(sr, s, VantageServer, v.cfg.Config) })
}

// takeServerView makes sv's verdict, place and words r's, for the
// caller to say why; its cause too, whose words sv's already hold.
func takeServerView(r *Result, sv Result) *text {
	t := r.judged(sv.Verdict, sv.Where, sv.WhereSure).str(sv.Explanation)
	r.Candidates = append(r.Candidates[:0], sv.Candidates...)
	r.RSTOrigin, r.OriginSure, r.Settle, r.Cause = sv.RSTOrigin, sv.OriginSure, sv.Settle, sv.Cause
	if r.RTT == 0 {
		r.RTT = sv.RTT
	}
	return t
}

// endedAtServer judges an established attempt whose client capture ends
// while the server capture still shows the connection going on, to a
// reset, a stall, or a final ACK the server dropped: what the server
// capture says of how it ended stands, as the client capture's stands
// where the server capture ends first.
func endedAtServer(c, s *flows.Attempt, r *Result, v *joinView) bool {
	// The cheap test first: most client captures run past their attempts.
	end := lastPacket(s)
	if s.ClientData.Count > 0 && s.ServerData.Count == 0 {
		end = latest(end, s.ClientData.First.Add(v.cfg.StallAfter))
	}
	if ran(v.client, c.SYN.First, end.Add(-v.off.Offset+v.slack()+v.cfg.Transit)) {
		return false
	}
	sv := v.serverView(s)
	switch sv.Verdict {
	case Reset, Stalled, Aborted, HalfOpen:
	default:
		return false
	}
	takeServerView(r, sv).str(" The client capture ends before that, but the server capture shows it.")
	return true
}

// lastPacket is when the capture last showed a packet of a.
func lastPacket(a *flows.Attempt) time.Time {
	var t time.Time
	for _, s := range [...]*flows.Seen{&a.SYN, &a.SYNACK, &a.ACK, &a.ClientData, &a.ServerData, &a.ClientFIN, &a.ServerFIN, &a.ClientRST, &a.ServerRST} {
		t = latest(t, s.Last)
	}
	return t
}

// lostSYNs counts the SYNs sent while the server capture ran (covered)
// that never reached it (n).
type lostSYNs struct{ n, covered int }

// lostSYNs says how many SYNs were lost on the way out, if any.
func (t *text) lostSYNs(l lostSYNs) *text {
	if l.n == 0 {
		return t
	}
	return t.str(" (").num(uint64(l.n)).str(" of the ").num(uint64(l.covered)).str(" SYNs sent while the server capture ran were lost on the way out)")
}

// resentAfterRST reports that the client sent a SYN after the server sent
// its RST, as either capture shows: the RST did not reach it (or was not
// taken).
func resentAfterRST(c, s *flows.Attempt, v *joinView) bool {
	return s.SYN.Last.After(s.ServerRST.First) || c.SYN.Last.Add(v.off.Offset).After(s.ServerRST.First)
}

// judgeRSTNotInClientCapture judges a refusal the client capture does not
// hold, though it ran when the RST was on its way: a single packet the
// client answers with nothing, so only what the client did next tells a
// RST lost on the way back from one its capture missed (a capture that
// drops packets). A client without an answer resends its SYN (after 1 s on
// Linux and macOS, 3 s on Windows, twice its last wait once it has resent);
// one that resent none over that long most likely got the RST. Sooner,
// neither capture tells.
func judgeRSTNotInClientCapture(c, s *flows.Attempt, r *Result, v *joinView, lost lostSYNs) {
	arrived := s.ServerRST.First.Add(-v.off.Offset)
	quiet := sub(c.End, arrived)
	if quiet >= max(slowestSYNResend, 2*sub(c.SYN.Last, c.SYN.First)) {
		r.RSTOrigin, r.OriginSure = OriginServer, Certain
		r.judged(Refused, Server, Inferred).str("The server answered the SYN with a RST (ECONNREFUSED), which is not in the client capture; yet the client resent no SYN though its capture went on ").
			dur(quiet).str(" after the RST: most likely it got the RST and its capture missed it (a capture that drops packets, as tcpdump's \"packets dropped by kernel\" counts), unless the client gave up within a second and the RST was lost on the way back").lostSYNs(lost).str(".")
		r.Candidates = append(r.Candidates[:0], Server, ReturnPath)
		r.Settle = "the client capture's count of dropped packets would tell"
		return
	}
	r.judged(Timeout, Unknown, "").str("The server answered the SYN with a RST, which is not in the client capture, and the client resent no SYN in the ").
		dur(quiet).str(" its capture went on after the RST: too soon to tell a RST lost on the way back from one the client got and its capture missed").lostSYNs(lost).str(".")
	r.unknownAmong(ReturnPath, Server)
	r.Settle = "a longer client capture, or its count of dropped packets, would tell"
}

// judgeBothUnanswered judges an attempt no answer of which reached the
// client: the server capture says whether it got the SYNs and answered.
// How long the client waited counts SYNs either capture saw it send.
func judgeBothUnanswered(c, s *flows.Attempt, r *Result, v *joinView, lost lostSYNs, blind bool) {
	sure := v.sure()
	waitedUntil := c.End
	if last := s.SYN.Last.Add(-v.off.Offset); s.SYN.Count > 0 && last.After(waitedUntil) {
		waitedUntil = last // the client was still retransmitting after its capture ended
	}
	waited := waitedUntil.Sub(c.SYN.First)
	if waited < v.cfg.SYNTimeout {
		r.w.expl.str(" The server ").serverDid(s).str(".")
		return // incomplete, as the client capture said
	}
	switch {
	case s.StaleACKs > 0 && s.SYNACK.Count == 0 && s.ServerRST.Count == 0:
		judgeBothStale(c, s, r, v, waited)
		return
	case s.SYNACK.Count == 0 && s.ServerRST.Count == 0 && synsDamaged(s):
		judgeBothDamaged(s, r, waited, lost)
		return
	case s.SYNACK.Count > 0 && c.AnsweredFromCount > 0:
		// They arrived, from another address: the translation back failed.
		r.AnsweredFrom = c.AnsweredFrom
		t := r.judged(Timeout, ReturnPath, Proven).str("The server answered with ").answers(s).str(", and ").
			count(c.AnsweredFromCount, "SYN-ACK").str(" acknowledging the SYN reached the client, but from ")
		t.b = c.AnsweredFrom.AppendTo(t.b)
		t.str(", not from ")
		t.b = c.Key.Server.AppendTo(t.b)
		t.str(", the address it connected to, and no stack takes such an answer").waited(waited).
			str(". The server answered from the address the SYN reached it at; on the way back nothing translated it to the one the client used: the reply went around the NAT or load balancer that translated the SYN (asymmetric routing).")
		return
	case s.SYNACK.Count > 0 || s.ServerRST.Count > 0:
		// Proof that the answers were lost: the client kept resending its
		// SYN after the server had answered, or the client capture ran
		// while the first answer was on its way and never saw it.
		first := s.SYNACK.First
		if s.SYNACK.Count == 0 {
			first = s.ServerRST.First
		}
		// A client capture filtered on TCP flags may hold no RST.
		cBlind := clientInboundUnseen(c) || c.FlagsOnly && s.SYNACK.Count == 0
		if s.SYNAfterSYNACK > 0 || (!cBlind && v.toClient(first, c.SYN.First)) {
			if s.SYNACK.Count == 0 && !resentAfterRST(c, s, v) {
				judgeRSTNotInClientCapture(c, s, r, v, lost)
				return
			}
			if s.SYNAfterSYNACK > 0 {
				sure = Proven // the client resent its SYN after the answer left: no clock needed
			}
			r.judged(Timeout, ReturnPath, sure).str("The server answered with ").answers(s).str(", but none reached the client: they were lost on the way back").
				waited(waited).lostSYNs(lost).str(".")
			return
		}
		if cBlind {
			// The client capture holds none of the server's packets, to
			// this client or any other (one direction only): the client's
			// own behaviour, not the capture's silence, tells whether the
			// answer arrived.
			if s.SYNACK.Count == 0 && !c.SYN.Last.Add(v.off.Offset).After(s.ServerRST.First) {
				r.RSTOrigin, r.OriginSure = OriginServer, Certain
				r.judged(Refused, Server, Inferred).str("The server answered the SYN with a RST (ECONNREFUSED), and the client never resent its SYN after it: most likely the RST reached it, though the client capture, ").
					clientBlind(c).str(", cannot show it").lostSYNs(lost).str(".")
				r.Candidates = append(r.Candidates[:0], Server)
				return
			}
			if sure == Proven {
				sure = Inferred
			}
			r.judged(Timeout, ReturnPath, sure).str("The server answered with ").answers(s).str(", and none is in the client capture, ").clientBlind(c).
				str(": most likely they were lost on the way back").waited(waited).lostSYNs(lost).str(".")
			r.Candidates = append(r.Candidates[:0], ReturnPath, Client)
			r.Settle = "a capture on the client of both directions would tell"
			return
		}
		r.judged(Timeout, Unknown, "").str("The server answered with ").answers(s).str(", but the client capture ends before it could have arrived").waited(waited).str(".")
		r.unknownAmong(ReturnPath, Client)
	case s.FlagsOnly && s.SYNACK.Count == 0 && s.ServerRST.Count == 0:
		judgeBothRSTFiltered(c, s, r, waited, lost)
	case blind:
		r.judged(Timeout, Server, Inferred).str("The server received ").count(s.SYN.Count, "SYN").
			str(", but its capture cannot show whether it answered: ").serverBlind(s).
			str(". Most likely they were dropped on the server host (a firewall after the capture point, a full SYN queue), unless they were answered and the answers lost on the way back").
			waited(waited).lostSYNs(lost).str(".")
		r.Candidates = append(r.Candidates[:0], Server, ReturnPath)
		r.Settle = "a capture showing the server's own packets would tell which"
	case ran(v.server, s.SYN.First, s.SYN.First.Add(v.cfg.AnswerWait)):
		// The server capture ran long enough after the SYN arrived to show
		// an answer, and holds none (its own clock: proven).
		r.judged(Timeout, Server, v.own()).str("The server received ").count(s.SYN.Count, "SYN").
			str(" and never answered: they were dropped on the server host (a firewall after the capture point, a full SYN queue)").waited(waited).lostSYNs(lost).str(".")
	default:
		r.judged(Timeout, Unknown, "").str("The server received ").count(s.SYN.Count, "SYN").str(", and its capture ends before an answer could be ruled out").waited(waited).str(".")
		r.unknownAmong(Server, ReturnPath)
	}
}

// judgeBothRSTFiltered judges SYNs the server sent no SYN-ACK for, its
// capture filtered on TCP flags (flows.Attempt.FlagsOnly): a RST it sent
// may not be in it. The client tells: resending its SYN it got no answer,
// not resending it (for longer than its resend takes) it got one.
func judgeBothRSTFiltered(c, s *flows.Attempt, r *Result, waited time.Duration, lost lostSYNs) {
	if c.StaleACKs > 0 {
		// The server answered with the ACK of an earlier connection, a
		// segment its capture cannot hold; whether the client's RSTs to
		// it got through, it cannot show either.
		r.Cause = CauseStaleConnection
		r.judged(Timeout, Unknown, "").str("The server received ").count(s.SYN.Count, "SYN").str(" and sent no SYN-ACK; the client got the ACK of an earlier connection on these ports instead (").
			count(c.StaleACKs, "ACK").str(") and reset it (").count(c.StaleResets, "RST").
			str("). The server capture holds no segment without SYN, FIN or RST (taken with a filter on TCP flags?): it cannot show whether the RSTs reached the server").waited(waited).str(".")
		r.unknownAmong(OutboundPath, Server)
		return
	}
	if c.SYN.Count == 1 && sub(c.End, c.SYN.First) >= slowestSYNResend {
		r.judged(Refused, Server, Inferred).str("The server received the SYN and sent no SYN-ACK, and the client resent no SYN in the ").dur(sub(c.End, c.SYN.First)).
			str(" after: an answer reached it, most likely the server's RST (ECONNREFUSED), which neither capture holds: they hold no segment without SYN, FIN or RST (taken with a filter on TCP flags?).")
		return
	}
	r.judged(Timeout, Server, Inferred).str("The server received ").count(s.SYN.Count, "SYN").
		str(" and sent no SYN-ACK, and the client kept resending, so no answer reached it: the server dropped them (a firewall after the capture point, a full SYN queue), or a RST it sent was lost on the way back").earlierWords(s).
		str("; its capture holds no segment without SYN, FIN or RST (taken with a filter on TCP flags?), and may hold no RST").waited(waited).lostSYNs(lost).str(".")
	r.Candidates = append(r.Candidates[:0], Server, ReturnPath, OutboundPath)
	if heldEarlier(s) || heldEarlier(c) {
		r.unknownAmong(Server, ReturnPath, OutboundPath)
	}
}

// portWords says why the server capture may not show an attempt: it holds
// attempts to its server on other ports only (hostPorts.hides,
// Stream.portFiltered).
// elsewhereWords say why a server capture that is not where each of the
// server's connections goes cannot tell where one it lacks died;
// elsewhereSettle what would.
var (
	elsewhereWords = [...]string{
		destTranslated: "The server capture holds this server's connections only as a destination translation (DNAT, a load balancer) rewrote them, and not this one: the translator may have sent it to another host, so the server capture cannot tell where it died.",
		destShared:     "The server capture never saw this attempt, but neither did it see connections to this address that were answered (their SYN-ACKs are in the client capture): another host answers for it too (a load balancer's backends with direct server return, anycast) or the server has an interface not captured, so its silence proves no loss on the way.",
	}
	elsewhereSettle = [...]string{
		destTranslated: "a capture on the translator would tell where it sent the connection",
		destShared:     "a capture on the host that answers the other connections would tell",
	}
)

func portWords(c *flows.Attempt) string {
	return "The server capture holds attempts to this server on other ports only, none on port " +
		strconv.Itoa(int(c.Key.Server.Port())) + ": taken with a filter that leaves this port out (tcpdump port …)?"
}

// serverOutboundUnseen reports that the server capture cannot be trusted
// to show what the server sent for an attempt: it holds none of the
// server's packets of it, and either none of the server's SYN-ACKs to any
// client (a capture of one direction: a filter such as "dst port", a tap,
// answers routed out another interface) or the client capture holds the
// server's answers it lacks. What the server never sent cannot be read off
// such a capture: that a RST did not come from the server, that the server
// never answered. What reached the server still can.
func serverOutboundUnseen(c, s *flows.Attempt) bool {
	return noServerPackets(s) && (s.ServerHops.Count == 0 || serverMissesSome(s) || c.SYNACK.Count > 0 || c.ServerData.Count > 0)
}

// clientInboundUnseen reports that the client capture holds none of the
// server's packets of an attempt, nor any SYN-ACK of the server to another
// connection: taken in one direction only, it cannot show what reached
// the client, only what the client did.
func clientInboundUnseen(c *flows.Attempt) bool {
	return noServerPackets(c) && (c.ServerHops.Count == 0 || serverMissesSome(c))
}

// clientBlind writes why the client capture is clientInboundUnseen, as a
// relative clause.
func (t *text) clientBlind(c *flows.Attempt) *text {
	if c.ServerHops.Count > 0 {
		return t.str("which ").missesSome(c)
	}
	return t.str("which holds no packet from the server at all (taken in one direction only: a filter such as 'src host', a tap, or answers arriving on another interface?)")
}

// serverBlind writes why the server capture is serverOutboundUnseen.
func (t *text) serverBlind(s *flows.Attempt) *text {
	if serverMissesSome(s) {
		return t.str("it ").missesSome(s)
	}
	return t.str("it holds none of the server's packets of this connection (taken in one direction only: a filter such as 'dst port', a tap, or answers routed out another interface?)")
}

// waited says how long the client waited for an answer.
func (t *text) waited(d time.Duration) *text {
	return t.str(" (the client waited at least ").dur(d).str(", ETIMEDOUT)")
}

// answers names what the server answered with: its SYN-ACKs, else a RST.
func (t *text) answers(s *flows.Attempt) *text {
	if s.SYNACK.Count == 0 {
		return t.str("a RST")
	}
	return t.count(s.SYNACK.Count, "SYN-ACK")
}

// judgeBothAnswered judges an attempt whose SYN-ACK reached the client.
func judgeBothAnswered(c, s *flows.Attempt, r *Result, v *joinView, blind bool) {
	sure := v.sure()
	switch r.Verdict {
	case HalfOpen:
		switch {
		case s.ACK.Count > 0:
			r.judged(HalfOpen, Server, Proven).str("The client completed the handshake and the server received its ACK, yet kept resending its SYN-ACK: the server dropped the ACK, typically because its accept queue was full.")
		case c.ACK.Count > 0 && !s.FlagsOnly && v.toServer(c.ACK.First, s.SYN.First):
			r.judged(HalfOpen, OutboundPath, sure).str("The client completed the handshake, but its ").count(c.ACK.Count, "ACK").
				str(" never reached the server, which kept resending its SYN-ACK: lost on the way to the server.")
		}
	case Stalled:
		switch {
		case s.ServerRST.Count > 0 && clientInboundUnseen(c):
			// Its lack of the RST says nothing.
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.judged(Reset, Server, Inferred).str("The handshake completed, then the server reset the connection (ECONNRESET): its capture shows the RST leaving, and the client capture, ").
				clientBlind(c).str(", cannot show it arriving.")
		case s.ClientData.Count > 0 && s.ServerData.Count > 0 && r.Cause == CausePMTU:
			t := r.judged(Stalled, ReturnPath, Proven).str("The server received the request and sent ").num(s.ServerBytes).
				str(" bytes of reply in segments of up to ").num(uint64(s.ServerMaxSeg)).str(" bytes, but the client got ")
			if c.ServerData.Count > 0 {
				t.str("only segments of up to ").num(uint64(c.ServerMaxSeg)).str(" bytes")
			} else {
				t.str("none of it")
			}
			t.str(" and acknowledged none: full-size segments vanish on the way back, a PMTU black hole (a link with a smaller MTU whose ICMP \"fragmentation needed\" never reaches the server; MSS announced: client ").
				mss(c.SYNOpts.MSS).str(", server ").mss(s.ServerMSS).str(").")
		case s.ClientData.Count > 0 && s.ServerData.Count > 0:
			r.judged(Stalled, ReturnPath, Proven).str("The server received the request and sent ").num(s.ServerBytes).str(" bytes of reply, but none reached the client: lost on the way back.")
		case s.ClientData.Count > 0 && !blind && ran(v.server, s.SYN.First, s.ClientData.First.Add(v.cfg.StallAfter)):
			r.judged(Stalled, Server, v.own()).str("The server received the request (").num(s.ClientBytes).str(" bytes) and never replied: the server application did not answer.")
		case s.ClientData.Count == 0 && !c.ServerAckedData && !s.FlagsOnly && v.toServer(c.ClientData.First, s.SYN.First):
			// (A request the server's TCP acknowledged reached it, whatever
			// its capture shows: one taken with a filter leaves data out.)
			r.judged(Stalled, OutboundPath, sure).str("The connection was established, but the client's request (").num(c.ClientBytes).str(" bytes) never reached the server: lost on the way out.")
		}
	case Reset:
		switch {
		case r.Where == Client:
			r.RSTOrigin, r.OriginSure, r.WhereSure = OriginClient, Certain, Proven
		case s.ServerRST.Count > 0 && s.SYNACK.Count == 0 && s.ServerData.Count == 0:
			// The server refused a SYN it got only after the client's
			// handshake had completed with something else.
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.judged(Reset, Server, Proven).str("The client's handshake was completed by something in the path (a SYN proxy): the server never sent a SYN-ACK, and answered the SYN it got with a RST (nothing listens on port ").
				num(uint64(s.Key.Server.Port())).str(", or its firewall rejects the connection), which reached the client as a reset (ECONNRESET).")
		case s.ServerRST.Count > 0:
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.judged(Reset, Server, Proven).str("The handshake completed, then the server reset the connection (ECONNRESET).")
		case !blind && !s.FlagsOnly && !s.SYNsOnly && ran(v.server, s.SYN.First, c.ServerRST.First.Add(v.off.Offset+v.slack())) && rstAsFarAsServer(r, c, s):
			t := r.judged(Reset, Unknown, "").str("The handshake completed, then the client got a RST that the server capture, running at the time, does not hold, yet it came from as far off as the server: ")
			missedRST(r, t.rstDistance(r, c, s), "the server reset the connection and its capture missed the RST", "ended the connection")
		case !blind && !s.FlagsOnly && !s.SYNsOnly && ran(v.server, s.SYN.First, c.ServerRST.First.Add(v.off.Offset+v.slack())):
			r.RSTOrigin, r.OriginSure = OriginPath, sure.sureness()
			r.judged(Reset, OutboundPath, sure).str("The handshake completed, then the client got a RST the server never sent: something on the way ended the connection (a firewall, or a host in front of the server that had lost the connection's state: a NAT gateway, a load balancer, a Kubernetes node).")
		}
	case Aborted:
		r.RSTOrigin, r.OriginSure, r.WhereSure = OriginClient, Certain, Proven
		if fellBack(c) && s.SYNACK.Count > c.SYNACK.Count && v.toClient(s.SYNACK.First, c.SYN.First) {
			// Why the client's answer came late enough to be refused.
			r.w.expl.str(" The server sent ").count(s.SYNACK.Count, "SYN-ACK").str(", the first ").
				dur(sub(s.SYNACK.First, s.SYN.First)).str(" after it got the SYN, and the client got ").num(uint64(c.SYNACK.Count)).
				str(": ").num(uint64(s.SYNACK.Count - c.SYNACK.Count)).str(" lost on the way back made this handshake slow.")
		}
	case Established:
		if r.WhereSure != Inferred || s.Established() {
			r.WhereSure = Proven
		}
		if !s.Established() && s.SYNACK.Count > 1 && c.ACK.Count > 0 && !s.FlagsOnly && v.toServer(c.ACK.First, s.SYN.First) {
			r.judged(HalfOpen, OutboundPath, sure).str("The client completed the handshake, but its ACK never reached the server, which kept resending its SYN-ACK: lost on the way to the server.")
		} else if s.Established() && endedAtServer(c, s, r, v) {
			return
		} else if c.ECNFallback && s.SYN.Count+c.ECNSYNs == c.SYN.Count && !v.lossy && v.toServer(c.SYN.First, time.Time{}) {
			// The ECN-setup SYNs are the ones missing at the server (which
			// a capture that lost packets cannot prove).
			r.w.expl.str(" The server capture holds only the SYN without ECN: the ECN-setup SYNs were dropped on the way, not by the server.")
		}
	case Timeout:
		if r.Where != Client {
			break
		}
		// The client capture shows the SYN-ACK arriving and no answer: the
		// server's shows whether one left the client all the same.
		switch {
		case s.Established():
			takeServerView(r, v.serverView(s)).str(" The client capture shows the SYN-ACK arriving but not the client's ACK, which the server capture shows arriving: the client capture missed it.")
			return
		case resetAnswer(c, s, v):
			if sv := v.serverView(s); sv.Verdict == Aborted && sv.Where == Client {
				takeServerView(r, sv).str(" The client capture shows the SYN-ACK arriving but not the client's RST, which the server capture shows arriving: the client capture missed it.")
				return
			}
		}
		if s.SYNACK.Count > 0 {
			// Both captures show no answer to the server's SYN-ACKs.
			r.WhereSure = Proven
			r.Settle = ""
		}
		r.w.expl.str(" The server ").serverDid(s).str(".")
	}
}

// rstAsFarAsServer reports that a RST the client got, which the server
// capture does not hold, came from as far off as the server by the client
// capture's own measure: its TTL matches the server's packets there (the
// client capture alone judged it the server's), or it crossed as many hops
// as the SYN did on its way to the server. Its absence from the server's
// capture is then no proof of a forger: a capture that drops packets, or
// one of an interface the answer did not leave by, lacks it as well. A
// forger in the path sends from nearer, unless it copies the server's TTL.
func rstAsFarAsServer(r *Result, c, s *flows.Attempt) bool {
	return r.RSTOrigin == OriginServer || s.SYN.Count > 0 && Hops(c.ServerRST.TTL) >= Hops(s.SYN.TTL)
}

// rstDistance says how the client capture shows a RST came from as far
// off as the server (rstAsFarAsServer).
func (t *text) rstDistance(r *Result, c, s *flows.Attempt) *text {
	if r.RSTOrigin == OriginServer {
		return t.str("its TTL (").num(uint64(c.ServerRST.TTL)).str(") matches the server's own packets in the client capture")
	}
	return t.str("it crossed ").count(uint32(Hops(c.ServerRST.TTL)), "hop").str(" (TTL ").num(uint64(c.ServerRST.TTL)).
		str("), no fewer than the SYN did to the server (").num(uint64(Hops(s.SYN.TTL))).str(")")
}

// missedRST ends the words of a RST the server capture lacks though it
// came from as far off as the server: the server's, its capture missing
// it, or a forger's; neither capture tells which.
func missedRST(r *Result, t *text, server, path string) {
	t.str(". Either ").str(server).str(" (a capture that drops packets, as tcpdump's \"packets dropped by kernel\" counts; an answer leaving by an interface not captured), or something on the way, as far off as the server, ").str(path).str(".")
	r.RSTOrigin, r.OriginSure = OriginUnknown, ""
	r.unknownAmong(Server, OutboundPath)
	r.Settle = "the server capture's count of dropped packets, or a capture of the server's other interfaces, would tell"
}

// serverDid says in words what the server capture shows of an attempt.
func (t *text) serverDid(s *flows.Attempt) *text {
	t.str("received ").count(s.SYN.Count, "SYN")
	switch {
	case s.SYNACK.Count > 0:
		return t.str(" and answered with ").count(s.SYNACK.Count, "SYN-ACK")
	case s.ServerRST.Count > 0:
		return t.str(" and answered with a RST")
	}
	return t.str(" and did not answer")
}

// joinScratch is what judging joined attempts reuses from one to the
// next: room to merge the two captures' evidence.
type joinScratch struct {
	ev         []Evidence
	order, pos []int
}

// pairEvidence merges the server capture's evidence of s into r's (the
// client's) on the client's clock and links each packet to its copy in
// the other capture: a packet sent and never received is lost. r's
// evidence and js's room trade places.
func (js *joinScratch) pairEvidence(r *Result, s *flows.Attempt, off ClockOffset) {
	all := r.Evidence
	n := len(all)
	for i := range all {
		all[i].Side = VantageClient
	}
	icmpWhat := ""
	if hasEvent(s, flows.EvICMP) {
		icmpWhat = "ICMP " + s.ICMPInfo.Name() // rare: a string of its own
	}
	all = appendEvidence(all, s.Events, VantageServer, icmpWhat)
	shift(all[n:], off.Offset)
	tol := pairSlack
	if off.Error > 0 {
		tol += off.Error
	}
	// For each packet the sender's capture shows, the receiver's copy is
	// the first unpaired one of the same kind arriving after it.
	for i := range all {
		snd := &all[i]
		sentHere := (snd.Side == VantageClient) == snd.FromClient
		if !sentHere || isICMP(snd) {
			continue
		}
		lo, hi := 0, n
		if snd.Side == VantageClient {
			lo, hi = n, len(all)
		}
		for j := lo; j < hi; j++ {
			rcv := &all[j]
			if rcv.Pair >= 0 || !sameKind(rcv.What, snd.What) || rcv.FromClient != snd.FromClient {
				continue
			}
			d := rcv.At.Sub(snd.At)
			if d >= -tol && d <= maxOneWay {
				snd.Pair, rcv.Pair = j, i
				break
			}
		}
		if snd.Pair < 0 {
			snd.Lost = true
		}
	}
	// Order by time on the client's clock, remapping the pair indexes.
	order := js.order[:0]
	for i := range all {
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int { return all[a].At.Compare(all[b].At) })
	pos := slices.Grow(js.pos[:0], len(all))[:len(all)]
	for to, from := range order {
		pos[from] = to
	}
	out := slices.Grow(js.ev[:0], len(all))[:len(all)]
	for to, from := range order {
		out[to] = all[from]
		if e := &out[to]; e.Pair >= 0 {
			e.Pair = pos[e.Pair]
		}
	}
	js.ev, js.order, js.pos = all[:0], order, pos
	r.Evidence = out
}

// isICMP reports whether evidence is an ICMP error: sent by a router, not
// by either end, so never paired or lost.
func isICMP(e *Evidence) bool { return strings.HasPrefix(e.What, "ICMP") }

// shift puts server-capture times on the client's clock.
func shift(ev []Evidence, offset time.Duration) {
	for i := range ev {
		ev[i].At = ev[i].TS.Add(-offset)
		ev[i].Side = VantageServer
	}
}

// markLost marks the packets the client sent as lost (the server capture,
// covering their time, does not have them).
func markLost(ev []Evidence, fromClient bool) {
	for i := range ev {
		if ev[i].FromClient == fromClient && !isICMP(&ev[i]) {
			ev[i].Lost = true
		}
	}
}

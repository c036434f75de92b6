package verdict

import (
	"net/netip"
	"slices"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// Config holds the waiting times that separate a failure from a capture
// that simply ended too soon.
type Config struct {
	// SYNTimeout: SYNs the capture shows unanswered for at least this long
	// since the first one are a timeout, otherwise the attempt is
	// incomplete. Nothing is assumed about the client's retransmission
	// schedule.
	SYNTimeout time.Duration
	// StallAfter: a request without reply for this long is stalled.
	StallAfter time.Duration
	// AnswerWait: how long a sent packet is given to draw its answer
	// (a SYN-ACK its ACK, a SYN-ACK a retransmitted SYN).
	AnswerWait time.Duration
}

// DefaultConfig is used where a Config is zero.
var DefaultConfig = Config{SYNTimeout: 2 * time.Second, StallAfter: 2 * time.Second, AnswerWait: time.Second}

func (c Config) withDefaults() Config {
	if c.SYNTimeout <= 0 {
		c.SYNTimeout = DefaultConfig.SYNTimeout
	}
	if c.StallAfter <= 0 {
		c.StallAfter = DefaultConfig.StallAfter
	}
	if c.AnswerWait <= 0 {
		c.AnswerWait = DefaultConfig.AnswerWait
	}
	return c
}

// Hops is how many routers a packet crossed (capture.Hops).
func Hops(ttl uint8) uint8 { return capture.Hops(ttl) }

// InferVantage tells from TTLs where a capture of the attempt was taken:
// packets a host sends carry an undecremented TTL, packets it receives
// have lost hops.
func InferVantage(a *flows.Attempt) Vantage {
	if c, s := a.Key.Client.Addr(), a.Key.Server.Addr(); c == s || c.IsLoopback() && s.IsLoopback() {
		// A host connecting to itself (through lo): the capture is on the
		// server, which is the client too; its packets never cross a
		// router, so the TTLs tell nothing.
		return VantageServer
	}
	if a.Echoes > 0 {
		// The SYN as sent and again hops later, in one capture: one taken
		// where it passed on (a router's tcpdump -i any), not at either
		// end. (Both ends' captures merged are read apart, each end's
		// packets alone.)
		return VantageUnknown
	}
	synHops := Hops(a.SYN.TTL)
	// Where the capture records which way packets crossed its host, that
	// tells before the TTLs do: an end on the same link as the other sees
	// both ends' packets undecremented.
	switch {
	case receivedSYN(a) && a.SYNsRelayed == 0 && a.ServerIsCaptureHost:
		// It received the SYN, and answers SYNs from the server's address
		// itself: the server's capture.
		return VantageServer
	case a.SYNsOut > 0 && a.SYNsIn == 0 && a.SYNsRelayed == 0 && synHops == 0:
		// It sent the SYN, as sent, not a copy of one received.
		return VantageClient
	}
	if receivedSYN(a) && (synHops == 0 || a.PassesOnToServer) {
		// The capture records its host receiving the SYN: it is not the
		// client's, whatever the TTL (an adjacent client's SYN arrives
		// undecremented); nor the server's when the host passes SYNs on
		// to that server.
		return VantageUnknown
	}
	ref, ok := serverReference(a)
	if !ok {
		switch {
		case synHops == 0:
			return VantageClient
		case a.MidPath:
			// The capture shows other handshakes from between their
			// ends: this SYN may have gone on past it, to be lost.
			return VantageUnknown
		}
		return VantageServer
	}
	replyHops := Hops(ref.TTL)
	switch {
	case synHops == 0 && replyHops > 0:
		return VantageClient
	case synHops > 0 && replyHops == 0:
		return VantageServer
	}
	// Both undecremented (one link, no router) or both decremented (a tap
	// in the middle): the TTLs cannot tell which end the capture is at.
	return VantageUnknown
}

// receivedSYN reports that the capture records its host receiving the
// client's SYN (capture.Packet.Dir), not sending it: none of its SYNs as
// sent under these addresses, or those it holds as sent paired with ones
// received (passed on). Loopback, where the host's own SYN is recorded
// sent and then received, unpaired, is neither.
func receivedSYN(a *flows.Attempt) bool {
	return a.SYNsIn > 0 && (a.SYNsOut == 0 || a.SYNsPassedOn > 0)
}

// serverReference is how far the capture shows the server to be: its
// SYN-ACKs to the attempt or, failing that, to others in the capture, or
// a RST in its name (which may be forged nearby); false when it shows
// none of these.
func serverReference(a *flows.Attempt) (flows.Seen, bool) {
	switch {
	case a.SYNACK.Count > 0:
		return a.SYNACK, true
	case a.ServerHops.Count > 0:
		return flows.Seen{Count: a.ServerHops.Count, TTL: a.ServerHops.TTL}, true
	case a.ServerRST.Count > 0:
		return a.ServerRST, true
	}
	return flows.Seen{}, false
}

// translation names the addresses a capture's host translated the
// attempt's to (the server sees those), or, of the translated view, from
// (the client's).
func translation(a *flows.Attempt, r *Result) {
	if k := a.PassedOnAs; k != (flows.Key{}) {
		if k.Client != a.Key.Client {
			r.ClientSeenByServer = k.Client
		}
		if k.Server != a.Key.Server {
			r.ServerSeenByServer = k.Server
		}
	}
	if k := a.ReceivedAs; k != (flows.Key{}) {
		if k.Client != a.Key.Client {
			r.ClientSeenByClient = k.Client
		}
		if k.Server != a.Key.Server {
			r.ServerSeenByClient = k.Server
		}
	}
}

// JudgeInto is Judge writing into *r, for callers that judge attempt
// after attempt: reusing one Result, judging allocates about once per
// attempt rather than for every phrase. It overwrites every field of *r.
// The slices of *r (Evidence, Candidates) and the Lookup r.DNS points to
// are reused for the new attempt, so whatever must outlive the next call
// must be copied out of them first; strings stay valid, since a string is
// an immutable copy. A Result reused this way belongs to one goroutine at
// a time, and so does any copy of it, which shares its storage.
func JudgeInto(r *Result, a *flows.Attempt, v Vantage, cfg Config) {
	// The attempt usually comes cold (written on another core): the slice
	// of its events is read first, since fetching the events waits on it,
	// and fetching the rest of the attempt overlaps it.
	events := a.Events
	cfg = cfg.withDefaults()
	w := r.w
	if w == nil {
		w = new(words)
	}
	w.reset()
	ev, cands := r.Evidence[:0], r.Candidates[:0]
	if ev == nil {
		ev = make([]Evidence, 0, len(events))
	}
	// Cleared, then set: a Result literal is built aside and copied whole
	// (some 250 instructions).
	*r = Result{}
	r.Client, r.Server, r.Tunnel, r.ISN = a.Key.Client, a.Key.Server, a.Key.Tunnel, a.ISN
	r.Vantage, r.FirstSYN = v, a.SYN.First
	translation(a, r)
	r.SYNSent, r.SYNSeenByServer, r.SYNACKSent, r.SYNACKSeenByClient = -1, -1, -1, -1
	r.Candidates, r.w = cands, w
	// What the payloads and the lookup say, read now, though only causes
	// need it: its cache lines are fetched while the events' are.
	appFacts(a, r, w)
	facts := readEvents(events, v)
	r.RTT = facts.rtt
	if facts.icmp {
		mark := len(w.fields.b)
		w.fields.str("ICMP ").str(a.ICMPInfo.Name())
		w.icmpWhat = w.fields.spanSince(mark)
	}
	if v == VantageServer {
		r.SYNSeenByServer, r.SYNACKSent = int(a.SYN.Count), int(a.SYNACK.Count)
		judgeServer(a, r, cfg)
	} else {
		r.SYNSent, r.SYNACKSeenByClient = int(a.SYN.Count), int(a.SYNACK.Count)
		judgeClient(a, r, cfg, v)
	}
	// ICMP errors are named at the end, in the one string.
	r.Evidence = appendEvidence(ev, events, v, "")
	if r.Cause == CauseBadChecksum {
		markDamaged(r.Evidence, a, v)
	}
	if len(r.Candidates) == 0 && r.Where != None && r.Where != Unknown {
		r.Candidates = append(r.Candidates, r.Where)
	}
	if a.OutOfTimeOrder || a.AfterStepBack && restsOnAbsence(r.Verdict) {
		withholdPlace(r, a)
	}
	if v != VantageServer && a.SYNACK.Count == 0 && a.Established() {
		// Inferred from the client's own packets: the capture holds no
		// SYN-ACK (asymmetric routing, a one-way tap, capture loss).
		r.OneWay = a.ServerData.Count == 0 && a.ServerRST.Count == 0
		if r.WhereSure == Proven {
			r.WhereSure = Inferred
		}
	}
	if r.Where == Unknown {
		r.WhereSure = ""
	}
	cause(a, r, w)
	w.finish(r)
	if r.Candidates == nil {
		r.Candidates = []Place{}
	}
}

// Judge judges one attempt as one capture, taken at vantage v, saw it.
// VantageUnknown is judged like a client-side capture: what passed the
// capture point is all that can be known.
func Judge(a *flows.Attempt, v Vantage, cfg Config) Result {
	// The words are lent for this call only: r keeps the strings cut from
	// them, not the space they were written in.
	w := spareWords.Get().(*words)
	r := Result{w: w}
	JudgeInto(&r, a, v, cfg)
	r.w = nil
	w.giveBack(&r)
	return r
}

// withholdPlace takes back the place of an attempt the file may hold in
// two pieces (Attempt.AfterStepBack): its times step back before it, to
// within what the attempt may span of times read before. Read as it lies,
// what answered or continued it may be in the part read first: halves of
// a lab capture swapped and gzip'd gave stalled, half-open and timeout
// attempts a server or client place, most of them proven, that the whole
// capture does not; joined, resets and refusals the path's too.
//
// An attempt whose own packets came out of time order (OutOfTimeOrder)
// loses its place whatever its verdict: its end was read before its
// start, so what it ended with (the abort, the reset, the refusal) may be
// how it began.
func withholdPlace(r *Result, a *flows.Attempt) {
	if r.Where == None || r.Where == Unknown {
		return
	}
	if a.OutOfTimeOrder {
		r.w.expl.str(" Packets of this attempt come out of time order in the file (its times step back, and some are from before its first SYN): it is judged from them as they lie, its end before its start, so no place is claimed.")
	} else {
		r.w.expl.str(" The file holds packets from around this attempt's time ahead of it (its times step back): packets of it may lie in the part read first, so no place is claimed.")
	}
	r.unknownAmong(OutboundPath, Server, ReturnPath, Client)
	r.WhereSure = ""
	r.Settle = "the capture read in time order would tell: uncompressed, which synpath reorders, or through reordercap"
}

// restsOnAbsence reports whether a verdict from one capture rests on what
// the capture does not hold (an answer, an acknowledgment, a reply), which
// a file in pieces may hold elsewhere. A refusal, an ICMP error, a reset or
// an abort is judged from the packets that ended it, which it holds.
// Joined, every place rests on matching the two captures' packets, and is
// withheld whatever the verdict (joinView.judgePair).
func restsOnAbsence(v Verdict) bool {
	return v == Timeout || v == HalfOpen || v == Stalled
}

// judged records the verdict, where the handshake died and how surely,
// and starts its explanation afresh, returning it to be written.
func (r *Result) judged(v Verdict, where Place, sure Confidence) *text {
	r.Verdict, r.Where, r.WhereSure = v, where, sure
	r.w.expl.b = r.w.expl.b[:0]
	return &r.w.expl
}

// unknownAmong says the place is unknown, one of candidates, written into
// the candidates' reused storage.
func (r *Result) unknownAmong(candidates ...Place) {
	r.Where = Unknown
	r.Candidates = append(r.Candidates[:0], candidates...)
}

// judgeClient judges from the client's side of the path, or (v unknown)
// from a capture whose TTLs do not say which end it was taken at: one on
// a link both ends share, or a tap in the middle. There what the capture
// shows reaching the client has only passed the capture point.
func judgeClient(a *flows.Attempt, r *Result, cfg Config, v Vantage) {
	switch {
	case a.SYNACK.Count > 0 || a.Established():
		// The client's own ACK proves a SYN-ACK arrived, captured or not.
		judgeAnsweredAtClient(a, r, cfg, v)
	case a.ServerRST.Count > 0 && a.RSTInHandshake && a.SYN.Last.After(a.ServerRST.Last):
		// The client resent its SYN after the RST: its stack did not take
		// it (a forged RST with a bad checksum or out of window).
		judgeUnansweredAtClient(a, r, cfg, v)
		r.w.expl.staleEndedWords(a)
		r.w.expl.str(" A RST came first (").frame(a, flows.EvRST).str("), and the client ignored it: it kept sending its SYN.")
	case a.ServerRST.Count > 0 && a.RSTInHandshake && refusedPassingOn(a):
		judgeRefusedPassingOn(a, r)
	case a.ServerRST.Count > 0 && a.RSTInHandshake:
		origin, sure, why := rstOriginAtClient(&r.w.tmp, a, a.ServerRST)
		r.RSTOrigin, r.OriginSure = origin, sure
		switch origin {
		case OriginServer:
			r.judged(Refused, Server, sure.confidence()).str("The server answered the SYN with a RST (ECONNREFUSED): nothing listens on port ").
				num(uint64(a.Key.Server.Port())).str(". ").bytes(why)
		case OriginPath:
			r.judged(Refused, OutboundPath, sure.confidence()).str("A RST answered the SYN (ECONNREFUSED), but it was not sent by the server: ").
				bytes(why).str(" Most likely a firewall on the way rejected the connection.")
		default:
			r.judged(Refused, Unknown, "").str("A RST answered the SYN (ECONNREFUSED). ").bytes(why)
			r.unknownAmong(Server, OutboundPath)
			r.Settle = "a capture on the server would tell whether the server sent it"
		}
	case a.ICMP.Count > 0:
		judgeICMP(a, r)
	default:
		judgeUnansweredAtClient(a, r, cfg, v)
		r.w.expl.staleEndedWords(a)
		if v == VantageUnknown && r.Verdict == Timeout && slices.Contains(r.Candidates, Server) && !receivedNonePassedOn(a) {
			r.w.expl.vantageUnknown(a, "server", "the server host dropped them")
		}
	}
}

// judgeUnansweredAtClient judges SYNs no answer of which reached the client.
func judgeUnansweredAtClient(a *flows.Attempt, r *Result, cfg Config, v Vantage) {
	// What the client lived through decides: how long its SYNs went
	// unanswered since the first, not how much capture follows the last
	// (a client with a short connect timeout stops sending).
	waited := sub(a.End, a.SYN.First)
	if a.StaleACKs > 0 && !staleEnded(a) {
		judgeStaleAtClient(a, r, cfg, waited)
		return
	}
	if a.AnsweredFromCount > 0 {
		judgeAnsweredElsewhere(a, r, cfg, waited)
		return
	}
	r.unknownAmong(OutboundPath, Server, ReturnPath)
	if fellBack(a) {
		judgeFellBack(a, r, cfg, waited)
		return
	}
	if waited < cfg.SYNTimeout {
		r.judged(Incomplete, Unknown, "").unanswered(a).str(": the capture shows the client waiting only ").dur(waited).
			str(" since its first SYN (less than --syn-timeout ").dur(cfg.SYNTimeout).str("), so an answer cannot be ruled out.")
		return
	}
	if v == VantageUnknown && receivedNonePassedOn(a) {
		judgeSYNsDroppedPassingOn(a, r, waited)
		return
	}
	if v == VantageUnknown && synACKsToCopyNotPassedBack(a) {
		judgeSYNACKsToCopyDropped(a, r, waited)
		return
	}
	r.Settle = "a capture on the server would tell which"
	if a.SYN.Count == 1 && waited > slowestSYNResend {
		// Every stack resends an unanswered SYN by now: this client
		// stopped waiting long before the capture did.
		if noServerPackets(a) && a.ServerHops.Missed > 0 {
			// And the capture is seen to miss what the server sends.
			r.judged(Incomplete, Unknown, "").unanswered(a).str(": the client never resent it though the capture went on, so most likely it got an answer (a RST, a SYN-ACK) that this capture does not show, for it ").
				missesSome(a).str("; or it gave up within a few seconds.")
			r.Settle = "a capture of both directions would tell"
			return
		}
		r.judged(Timeout, Unknown, "").unanswered(a).str(": the client never resent it though the capture went on, so it gave up within a few seconds without an answer (a connect timeout shorter than its SYN retry), or got one this capture does not show. ").seenFrom(v).str(", the SYN may have been lost on the way out, dropped by the server, or answered with a SYN-ACK that was lost on the way back.")
		return
	}
	if n := countEvents(a, flows.EvStraySYNACK); n > 0 {
		r.judged(Timeout, Unknown, "").count(a.SYN.Count, "SYN").str(" over ").dur(sub(a.SYN.Last, a.SYN.First)).str(", and ").
			count(n, "SYN-ACK").str(" on these ports (").frame(a, flows.EvStraySYNACK).
			str("), each acknowledging another sequence number than this SYN's: no stack takes such an answer, and the client went on resending until it gave up (it waited at least ").dur(waited).
			str(", ETIMEDOUT). Either the server answered from a stale entry for these ports (an earlier connection's SYN, the ports reused), or something in the path rewrites sequence numbers one way and not the other (a firewall's sequence randomisation).")
		return
	}
	t := r.judged(Timeout, Unknown, "").unanswered(a).str(": the client waited at least ").dur(waited).
		str(" for an answer (ETIMEDOUT). ").seenFrom(v).str(", the SYN may have been lost on the way out, dropped by the server, or answered with a SYN-ACK that was lost on the way back.")
	if a.SYN.Count == 1 && waited > lonelySYN {
		t.str(" Only one SYN, though the capture went on: the client gave up within a few seconds, or got an answer this capture does not show.")
	}
	t.ecnNeverFellBack(a)
}

// countEvents is how many of a's events are of type typ.
func countEvents(a *flows.Attempt, typ flows.EventType) uint32 {
	n := uint32(0)
	for i := range a.Events {
		if a.Events[i].Type == typ {
			n++
		}
	}
	return n
}

// handshakeWentOn reports whether the handshake completed after every RST
// of rst: they did not end it.
func handshakeWentOn(a *flows.Attempt, rst flows.Seen) bool {
	return a.ACK.Count > 0 && rst.Last.Before(a.ACK.First)
}

// frame names the first event of type typ as file:frame.
func (t *text) frame(a *flows.Attempt, typ flows.EventType) *text {
	for _, e := range a.Events {
		if e.Type == typ {
			return t.str(e.File).str(":").num(e.N)
		}
	}
	return t.str("not kept")
}

// judgeReturnICMP judges, at the server, SYN-ACKs an ICMP error (e, its
// sender and kind in a.ICMPInfo) said could not be delivered: something
// on the return path (a router's unreachable, a firewall's prohibited),
// or the client host itself refusing them. Proven when the client's
// resent SYNs show none got through.
func judgeReturnICMP(a *flows.Attempt, r *Result, e flows.Event) {
	info := a.ICMPInfo
	icmpField(r, info)
	sure := Inferred
	if a.SYNAfterSYNACK > 0 {
		sure = Proven
	}
	byClient := info.From == a.Key.Client.Addr()
	where := ReturnPath
	if byClient {
		where = Client
	}
	t := r.judged(Timeout, where, sure).str("The server answered with ").count(a.SYNACK.Count, "SYN-ACK").str(", and ")
	if byClient {
		t.str("the client host itself")
	} else {
		t.addr(info.From).str(", on the way back,")
	}
	t.str(" answered with ICMP ").icmp(info).str(" (").str(e.File).str(":").num(e.N).str("): ")
	if byClient {
		t.str("its firewall or stack refused them")
	} else {
		t.str("it could not deliver them to the client")
	}
	if a.SYNAfterSYNACK > 0 {
		t.str("; the client retransmitted its SYN ").times(a.SYNAfterSYNACK).str(" after the first SYN-ACK, so none reached it")
	}
	t.str(".")
	r.Candidates = append(r.Candidates[:0], r.Where)
}

// returnICMP is the index in a.Events of the first ICMP error quoting a
// segment of the server's, or -1.
func returnICMP(a *flows.Attempt) int {
	for i, e := range a.Events {
		if e.Type == flows.EvICMPLater && !e.FromClient {
			return i
		}
	}
	return -1
}

// requestNeverResent reports that the client's request arrived once,
// whole, and nothing else of the connection came after it, while the
// capture ran past the client's retransmission timeout: a server that did
// not acknowledge it (a full accept queue drops the ACK and the data) sees
// it again within that, and the server resends its SYN-ACK.
func requestNeverResent(a *flows.Attempt) bool {
	return a.ClientData.Count == 1 && a.ClientSeqLo == 0 && a.ServerDupACKs == 0 && a.SYNACKAfterACK == 0 && a.ServerRST.Count == 0 && a.ServerFIN.Count == 0 &&
		a.ClientFIN.Count == 0 && a.ClientRST.Count == 0 && sub(a.End, a.ClientData.First) > firstRTO(a)
}

// firstRTO is how long a client waits before it resends its first data
// segment, unacknowledged: RFC 6298's timeout after one round trip R
// measured (R plus four times R/2), at least a second; R is the time from
// the client's last SYN to its ACK, which a capture of its outgoing
// packets alone shows.
func firstRTO(a *flows.Attempt) time.Duration {
	if a.ACK.Count == 0 || a.SYN.Count == 0 {
		return time.Second
	}
	return max(time.Second, 3*sub(a.ACK.First, a.SYN.Last))
}

// lonelySYN: Linux and macOS resend an unanswered SYN within this; past
// it, one SYN alone is only ever a reason to name no place (Windows waits
// slowestSYNResend).
const lonelySYN = 1500 * time.Millisecond

// lastSYNGap is the longest a client waits between two SYNs of one
// attempt: Linux's last wait, 32 s (tcp_syn_retries 6; macOS waits at
// most 16 s, Windows 6 s).
const lastSYNGap = 32 * time.Second

// mayBeLastSYN reports whether the first SYN of a the capture shows may
// be a resent one, even the client's last: the capture began less than
// lastSYNGap before it. (A capture started while a client retries shows
// its last SYN first about half the time: the last wait is half of all.)
func mayBeLastSYN(a *flows.Attempt) bool {
	return !a.CaptureFrom.IsZero() && a.SYN.First.Sub(a.CaptureFrom) < lastSYNGap
}

// slowestSYNResend is how long a client may wait for a SYN-ACK before it
// resends its SYN: Linux and macOS wait 1 s, Windows 3 s (its initial
// retransmission timeout). A server capture shorter than that cannot tell
// a client that got the SYN-ACK from one still waiting for it.
const slowestSYNResend = 3 * time.Second

// unanswered describes SYNs that got no answer and what ended the view of
// them: "3 SYNs over 3.0 s, no answer; the capture ends 1.0 s after the last".
func (t *text) unanswered(a *flows.Attempt) *text {
	return t.unansweredBy(a, netip.AddrPort{})
}

// unansweredBy is unanswered, naming from whom no answer came, if valid.
func (t *text) unansweredBy(a *flows.Attempt, from netip.AddrPort) *text {
	if a.SYN.Count == 1 {
		t.str("1 SYN, no answer")
	} else {
		t.count(a.SYN.Count, "SYN").str(" over ").dur(sub(a.SYN.Last, a.SYN.First)).str(", no answer")
	}
	if from.IsValid() {
		t.str(" from ")
		t.b = from.AppendTo(t.b)
	}
	t.str("; ")
	if a.SYN.Count == 1 {
		return t.endWords(a, a.SYN.Last, "it")
	}
	return t.endWords(a, a.SYN.Last, "the last")
}

// endWords says what ended the capture's view of an attempt, and how long
// after `from` (the packet named by what): the end of the capture, or the
// tracker letting go. It never calls an idle timer the end of the capture.
func (t *text) endWords(a *flows.Attempt, from time.Time, what string) *text {
	if a.EndedBy == flows.EndCapture && !a.End.After(from) {
		return t.str("the capture ends with ").str(what)
	}
	d := sub(a.End, from)
	switch a.EndedBy {
	case flows.EndReplaced:
		return t.str("a new SYN with another ISN on the same ports replaced it ").dur(d).str(" after ").str(what)
	case flows.EndIdle:
		return t.str("nothing more of it came in the ").dur(d).str(" after ").str(what)
	case flows.EndEvicted:
		return t.str("it was judged early, ").dur(d).str(" after ").str(what).str(", because too many attempts were open at once")
	case flows.EndSettled:
		return t.str("it was settled ").dur(d).str(" after ").str(what)
	}
	return t.str("the capture ends ").dur(d).str(" after ").str(what)
}

// endEvent names what ended the capture's view of an attempt, for "…, when X".
func endEvent(a *flows.Attempt) string {
	switch a.EndedBy {
	case flows.EndReplaced:
		return "a new SYN with another ISN replaced it"
	case flows.EndIdle:
		return "it went idle"
	case flows.EndEvicted:
		return "it was judged early (too many attempts open at once)"
	}
	return "the capture ends"
}

// judgeAnsweredAtClient judges an attempt whose SYN-ACK reached the client,
// or (v unknown) passed the capture point.
func judgeAnsweredAtClient(a *flows.Attempt, r *Result, cfg Config, v Vantage) {
	switch {
	case a.ClientRST.Count > 0 && a.RSTInHandshake && !handshakeWentOn(a, a.ClientRST):
		if v == VantageUnknown {
			// Not seen leaving the client: the RST may come from something
			// between it and the capture point, as at the server.
			judgeClientRSTInHandshake(a, r, cfg, v)
			break
		}
		r.RSTOrigin, r.OriginSure = OriginClient, Certain
		t := r.judged(Aborted, Client, Proven).str("The client answered the server's SYN-ACK with a RST: it no longer wanted the connection")
		if !fellBack(a) {
			t.probeWords(a)
			break
		}
		r.FellBackTo = a.Fallback.Server
		t.str(": ").fallback(a).str(" This SYN-ACK came ").dur(sub(a.SYNACK.First, a.SYN.First)).
			str(" after the first SYN, ").dur(sub(a.SYNACK.First, a.Fallback.SYNACK)).str(" after that one's: this handshake was slow, not refused.")
	case !a.Established():
		quiet := sub(a.End, a.SYNACK.Last)
		if quiet < cfg.AnswerWait && a.SYNAfterSYNACK == 0 {
			r.judged(Incomplete, Unknown, "").str("The SYN-ACK reached the client and ").endWords(a, a.SYNACK.Last, "it").
				str("; the client's answer is not in the capture.")
			r.unknownAmong(Client)
			return
		}
		if synACKsDamaged(a) {
			judgeDamagedAtClient(a, r, sub(a.End, a.SYN.First))
			return
		}
		if (a.FlagsOnly || a.SYNsOnly) && a.SYNAfterSYNACK == 0 {
			judgeAnswerFilteredAtClient(a, r, quiet)
			return
		}
		if v == VantageUnknown && (forwardedNone(a) || synACKsNotPassedOn(a)) {
			judgeDroppedPassingOn(a, r)
			return
		}
		if v == VantageUnknown && passedToAdjacentClient(a) {
			judgeIgnoredByAdjacentClient(a, r)
			return
		}
		if v == VantageUnknown {
			// Taken on the client, this is the client host ignoring them;
			// taken anywhere else, they may be lost after the capture.
			r.judged(Timeout, Unknown, "").count(a.SYNACK.Count, "SYN-ACK").str(" passed the capture point but the client never answered").resentAfter(a).
				str(": they were lost on the way to the client, or the client host ignored them (a firewall on the client, or a SYN no socket was waiting for).").
				vantageUnknown(a, "client", "the client host ignored them")
			r.unknownAmong(ReturnPath, Client)
			r.Settle = "a capture on the client would tell which"
			return
		}
		if a.SYNAfterSYNACK == 0 {
			// Only its silence says it: a client whose stack took the
			// SYN-ACK sends no SYN again either, and a capture that drops
			// packets may have lost its answer.
			r.judged(Timeout, Client, Inferred).count(a.SYNACK.Count, "SYN-ACK").str(" reached the client but its answer is not in the capture: most likely the client host ignored them (a firewall on the client, or a SYN no socket was waiting for), though it resent no SYN after them, as a client whose stack took one does not; a capture that drops packets may have lost its answer.")
			r.Candidates = append(r.Candidates[:0], Client)
			r.Settle = "a SYN resent after the SYN-ACK, or the server's capture, would tell"
			break
		}
		r.judged(Timeout, Client, Proven).count(a.SYNACK.Count, "SYN-ACK").str(" reached the client but it never answered").resentAfter(a).
			str(": the client host ignored them (a firewall on the client, or a SYN no socket was waiting for).")
	case a.SYNACKAfterACK > 0 && a.ServerData.Count == 0 && !a.ServerAckedData && a.ServerRST.Count == 0:
		r.judged(HalfOpen, Unknown, "").str("The client completed the handshake, but the server resent its SYN-ACK ").times(a.SYNACKAfterACK).
			str(" after the client's ACK: the server never took that ACK. Either it was lost on the way to the server, or the server dropped it (a full accept queue).")
		r.unknownAmong(OutboundPath, Server)
		r.Settle = "a capture on the server would tell which"
	default:
		judgeEstablished(a, r, cfg, v)
		if a.ECNFallback && r.Verdict == Established && r.Cause == "" {
			r.Cause = CauseECNSetupDropped
		}
	}
}

// judgeAnswerFilteredAtClient judges, at the client, an attempt the server
// answered in a capture filtered on TCP flags (Attempt.FlagsOnly): the
// client's ACK cannot be in it. That the client resent no SYN after the
// SYN-ACK arrived proves its stack took it, and so answered it.
func judgeAnswerFilteredAtClient(a *flows.Attempt, r *Result, quiet time.Duration) {
	if a.SYNACK.Count == 1 {
		r.judged(Established, None, Inferred).str("The SYN-ACK reached the client, and it resent no SYN in the ").dur(quiet).
			str(" after: its stack took the SYN-ACK and answered it. ").flagsOnly("the client's answer")
		return
	}
	halfOpenUnseen(a, r, quiet)
	r.Settle = "a capture on the server would tell which"
}

// flagsOnly says why a capture filtered on TCP flags lacks what, so that
// nothing is made of its absence.
func (t *text) flagsOnly(what string) *text {
	return t.str("This capture holds no segment without SYN, FIN or RST (it was taken with a filter on TCP flags, such as tcp[tcpflags] & tcp-syn != 0?): ").
		str(what).str(", and what followed, are not in it.")
}

// resentAfter notes SYNs the client sent after a SYN-ACK had arrived: its
// stack never took the SYN-ACK.
func (t *text) resentAfter(a *flows.Attempt) *text {
	if a.SYNAfterSYNACK == 0 {
		return t
	}
	return t.str(" and kept resending its SYN (").times(a.SYNAfterSYNACK).str(" after the first SYN-ACK arrived)")
}

// judgeEstablished judges what followed a completed handshake, up to the
// first data exchange.
func judgeEstablished(a *flows.Attempt, r *Result, cfg Config, v Vantage) {
	tmp := &r.w.tmp
	mark := len(tmp.b)
	tmp.handshakeNote(a, v, r.RTT)
	// A server whose kernel holds the connection acknowledges what the
	// client sends, whether or not the application reads it. (Its answer
	// first: judging reads those fields anyway, and the attempt comes
	// cold, so each field left unread can spare a cache miss.)
	serverTook := a.ServerAnswered() || a.ServerAckedData
	// RSTs that came before the handshake completed, which went on
	// anyway, did not end the connection.
	serverRST := a.ServerRST.Count > 0 && !(a.RSTInHandshake && handshakeWentOn(a, a.ServerRST))
	if a.ServerRST.Count > 0 && !serverRST {
		tmp.str(" (an earlier RST, ").frame(a, flows.EvRST).str(", was ignored)")
	}
	// A capture holding none of the server's packets (one-way) cannot show
	// the server acknowledging the request; a client that never resent it
	// over its retransmission timeout had it acknowledged.
	if !serverTook && v != VantageServer && a.SYNACK.Count == 0 && a.ServerRST.Count == 0 &&
		a.ClientData.Count == 1 && sub(a.End, a.ClientData.First) > firstRTO(a) {
		serverTook = true
		tmp.str("; the client never resent its request, so the server's TCP acknowledged it, unseen here")
	}
	hs := tmp.since(mark)
	if !serverTook && v == VantageServer && requestNeverResent(a) {
		// The server's own capture lacks its acknowledgment, yet the
		// client behaved as one that got it: the capture lost this
		// connection's packets, and the lack of a reply proves nothing.
		r.judged(Established, None, Inferred).bytes(hs).str("; the server received ").num(a.ClientBytes).
			str(" bytes of request once, and the client never resent them in the ").dur(sub(a.End, a.ClientData.First)).
			str(" after, longer than it waits for an acknowledgment: the server's TCP acknowledged them, though this capture holds neither that nor anything after it of this connection (a capture that drops packets).")
		return
	}
	if why, ok := pmtuBlackHole(tmp, a, v); ok && sub(a.End, firstOf(a.ServerData, a.ClientData)) >= cfg.StallAfter {
		r.Cause = CausePMTU
		r.judged(Stalled, ReturnPath, Inferred).bytes(hs).str("; the client sent ").num(a.ClientBytes).str(" bytes, but ").bytes(why).str(".")
		r.Candidates = append(r.Candidates[:0], ReturnPath)
		return
	}
	if why, ok := pmtuUpload(tmp, a, v); ok && sub(a.End, a.ClientData.First) >= cfg.StallAfter {
		r.Cause = CausePMTU
		r.judged(Stalled, OutboundPath, Inferred).bytes(hs).str("; ").bytes(why).str(".")
		r.Candidates = append(r.Candidates[:0], OutboundPath)
		return
	}
	switch {
	case a.ServerAnswered() && a.ClientData.Count > 0:
		if a.ServerData.Count == 0 {
			r.judged(Established, None, Inferred).bytes(hs).str("; data flowed both ways: the client acknowledged ").num(uint64(a.ServerBytesAcked)).
				str(" bytes from the server, though this capture holds none of them.")
			return
		}
		r.judged(Established, None, Proven).bytes(hs).str("; data flowed both ways.")
	case serverRST && (serverTook || !rstAfterGivingUp(a)):
		judgeReset(a, r, a.ServerRST, false, hs, v)
	case a.ClientData.Count > 0 && a.ServerData.Count == 0:
		waited := sub(a.End, a.ClientData.First)
		gaveUp := a.ClientFIN.Count > 0 || a.ClientRST.Count > 0
		if !gaveUp && waited < cfg.StallAfter && (serverTook || a.ClientData.Count == 1) {
			r.judged(Established, None, Proven).bytes(hs).str("; the client sent a request and ").endWords(a, a.ClientData.First, "it").
				str(", before a reply could be ruled out.")
			return
		}
		ended := endEvent(a)
		if gaveUp {
			waited = sub(firstOf(a.ClientFIN, a.ClientRST), a.ClientData.First)
			ended = "the client gave up"
		}
		if !serverTook {
			judgeUntaken(a, r, v, hs)
			return
		}
		if v == VantageServer {
			r.judged(Stalled, Server, Proven).bytes(hs).str("; the server received ").num(a.ClientBytes).
				str(" bytes of request and acknowledged them, but sent no reply in ").dur(waited).str(", when ").str(ended).
				str(": the server application did not answer.")
			return
		}
		// The server's TCP acknowledged the request, so it reached the
		// server and the return path carries packets: the application is
		// the likely culprit, though a reply lost on the way back (a PMTU
		// black hole) would look the same from here.
		r.judged(Stalled, Server, Inferred).bytes(hs).str("; the client sent ").num(a.ClientBytes).
			str(" bytes, which the server's TCP acknowledged, but no reply came back in ").dur(waited).str(", when ").str(ended).
			str(": most likely the server application did not answer (a reply lost on the way back would look the same from here).")
		r.Candidates = append(r.Candidates[:0], Server, ReturnPath)
		r.Settle = "a capture on the server would tell whether it replied"
	case a.ClientRST.Count > 0:
		judgeReset(a, r, a.ClientRST, true, hs, v)
	case a.ClientFIN.Count > 0 || a.ServerFIN.Count > 0:
		r.judged(Established, None, Proven).bytes(hs).str("; it was closed without data.")
	default:
		r.judged(Established, None, Proven).bytes(hs).str(".")
	}
}

// rstAfterGivingUp reports whether the server's RST came after the
// client's FIN. Answering a FIN on a connection the server never took, it
// only says "no such connection": the damage was done before.
func rstAfterGivingUp(a *flows.Attempt) bool {
	return a.ClientFIN.Count > 0 && !a.ServerRST.First.Before(a.ClientFIN.First)
}

// judgeUntaken judges a handshake the client finished and the server never
// took: the client's data goes unacknowledged.
func judgeUntaken(a *flows.Attempt, r *Result, v Vantage, hs []byte) {
	if v == VantageServer {
		t := r.judged(HalfOpen, Server, Proven).str("The server received the client's final ACK and ").num(a.ClientBytes).
			str(" bytes of request but never acknowledged them")
		if a.ClientData.Count > 1 {
			t.str(", though it arrived ").times(a.ClientData.Count)
		}
		t.str(": it did not take the connection, typically because its accept queue was full.")
		return
	}
	r.judged(HalfOpen, Unknown, "").bytes(hs).str(" as far as the client knows, but the server never acknowledged its ").num(a.ClientBytes).
		str(" bytes (sent ").times(a.ClientData.Count).
		str("): the server never took the connection. Either the ACK and request were lost on the way to the server, or the server dropped them (a full accept queue).")
	r.unknownAmong(OutboundPath, Server)
	r.Settle = "a capture on the server would tell which"
}

func judgeReset(a *flows.Attempt, r *Result, rst flows.Seen, fromClient bool, hs []byte, v Vantage) {
	origin, sure, why := resetOrigin(&r.w.tmp, a, rst, fromClient, v)
	r.RSTOrigin, r.OriginSure = origin, sure
	switch origin {
	case OriginServer:
		r.judged(Reset, Server, sure.confidence()).bytes(hs).str(", then the server reset it (ECONNRESET).").sentence(why)
	case OriginClient:
		r.judged(Reset, Client, sure.confidence()).bytes(hs).str(", then the client reset it.").sentence(why)
	case OriginPath:
		notBy := "server"
		if fromClient {
			notBy = "client"
		}
		r.judged(Reset, OutboundPath, sure.confidence()).bytes(hs).str(", then a RST not sent by the ").str(notBy).str(" ended it: ").bytes(why)
	default:
		r.judged(Reset, Unknown, "").bytes(hs).str(", then a RST ended it.").sentence(why)
		if fromClient {
			r.unknownAmong(Client, OutboundPath)
			r.Settle = "a capture on the client would tell whether the client sent it"
		} else {
			r.unknownAmong(Server, OutboundPath)
			r.Settle = "a capture on the server would tell whether the server sent it"
		}
	}
}

// icmpField sets r's icmp field: the error and its sender.
func icmpField(r *Result, info capture.ICMPInfo) {
	w := r.w
	mark := len(w.fields.b)
	w.fields.icmp(info).str(" from ").addr(info.From)
	w.icmp = w.fields.spanSince(mark)
}

func judgeICMP(a *flows.Attempt, r *Result) {
	info := a.ICMPInfo
	from := info.From
	icmpField(r, info)
	// Linux aborts connect() on time-exceeded too (EHOSTUNREACH), so every
	// fatal ICMP error is "unreachable"; the field keeps its name.
	verdict := Unreachable
	if from == a.Key.Server.Addr() {
		r.RSTOrigin, r.OriginSure = OriginServer, Likely
		r.judged(verdict, Server, Inferred).str("The server host answered the SYN with ICMP ").str(info.Name()).str(" (").str(info.Errno()).
			str("): its firewall or stack refused the connection.")
		return
	}
	r.RSTOrigin, r.OriginSure = OriginPath, Certain
	t := r.judged(verdict, OutboundPath, Proven).addr(from).str(", a router or firewall on the way, answered the SYN with ICMP ").str(info.Name()).
		str(" (").str(info.Errno()).str("): the SYN never reached the server.")
	switch info.Name() {
	case "time-exceeded":
		t.str(" Its hop limit ran out on the way: a routing loop, or a path longer than the TTL the client sets.")
	case "host-unreachable", "address-unreachable", "host-unknown":
		// What a router says when the server's link layer does not answer.
		t.str(" Most often the router could not deliver it on the server's own link: the server host is down or does not answer ARP (neighbour discovery), or its address is wrong; a firewall's REJECT can send it too.")
	case "net-unreachable", "no-route", "net-unknown", "reject-route":
		t.str(" It had no route to the server's network.")
	case "admin-prohibited", "net-prohibited", "host-prohibited", "source-policy-failed":
		t.str(" A firewall's rule refused it.")
	case "port-unreachable":
		t.str(" From a router, not the server: a firewall's REJECT (iptables' default answer).")
	}
}

// judgeServer judges from the server's side of the path.
func judgeServer(a *flows.Attempt, r *Result, cfg Config) {
	switch {
	case a.StaleACKs > 0 && a.SYNACK.Count == 0 && a.ServerRST.Count == 0 && a.ICMP.Count == 0 && !a.Established():
		judgeStaleAtServer(a, r, cfg)
	case noServerPackets(a) && a.ICMP.Count == 0 && !a.Established() && synsDamaged(a) && sub(a.End, a.SYN.First) >= cfg.SYNTimeout:
		// Whatever the capture shows of the server, the SYNs it got were
		// damaged: its silence is its stack discarding them.
		judgeDamagedAtServer(a, r)
	case serverUnseen(a):
		judgeServerUnseen(a, r, cfg)
	case a.SYNACK.Count == 0 && a.ServerRST.Count > 0:
		r.RSTOrigin, r.OriginSure = sentHere(a.ServerRST)
		if r.RSTOrigin == OriginPath {
			if ref, ok := sameDistance(&r.w.tmp, a, a.ServerRST); ok {
				// The server's answers all reach the capture from there: it
				// was taken on a host in front of the server (a container
				// host, a node for its pods, a NAT router).
				r.RSTOrigin, r.OriginSure = OriginServer, Likely
				r.judged(Refused, Server, Inferred).str("The server answered the SYN with a RST (ECONNREFUSED): nothing listens on port ").num(uint64(a.Key.Server.Port())).
					str(", or its firewall rejects the connection. The RST reached the capture from elsewhere, but from as far as ").bytes(ref).
					str(" did: this capture was taken on a host in front of the server (a container host, a node for its pods, a NAT router).")
				return
			}
			r.judged(Refused, OutboundPath, Inferred).str("A RST from the server's address reached the capture from elsewhere: something near the server forged it.")
			return
		}
		r.judged(Refused, Server, Proven).str("The server answered the SYN with a RST (ECONNREFUSED): nothing listens on port ").num(uint64(a.Key.Server.Port())).
			str(", or its firewall rejects the connection.")
	case a.SYNACK.Count == 0 && a.ICMP.Count > 0:
		judgeICMP(a, r)
	case a.SYNACK.Count == 0 && a.Established():
		// The server's other packets are here, its SYN-ACK is not (a
		// capture drop): the client's ACK proves it was sent.
		judgeEstablished(a, r, cfg, VantageServer)
	case a.SYNACK.Count == 0:
		// A server answers a SYN at once; SYNs unanswered for as long as a
		// client waits before giving up were dropped on the server host.
		waited := sub(a.End, a.SYN.First)
		if waited < cfg.SYNTimeout {
			r.judged(Incomplete, Unknown, "").str("The server received ").count(a.SYN.Count, "SYN").str(" and ").endWords(a, a.SYN.Last, "the last").
				str(", before its answer could be ruled out.")
			r.unknownAmong(Server)
			return
		}
		if a.FlagsOnly {
			judgeRSTFilteredAtServer(a, r)
			return
		}
		r.judged(Timeout, Server, Proven).str("The server received ").count(a.SYN.Count, "SYN").str(" over ").dur(sub(a.SYN.Last, a.SYN.First)).
			str(" and never answered: they were dropped on the server host (a firewall after the capture point, a full SYN queue, or a busy stack).")
	case a.ClientRST.Count > 0 && a.RSTInHandshake && !handshakeWentOn(a, a.ClientRST):
		judgeClientRSTInHandshake(a, r, cfg, VantageServer)
	case !a.Established():
		if i := returnICMP(a); i >= 0 && a.ServerData.Count == 0 && a.ICMP.Count == 0 && a.ICMPInfo.From.IsValid() {
			judgeReturnICMP(a, r, a.Events[i])
			return
		}
		if a.SYNAfterSYNACK > 0 {
			r.judged(Timeout, Unknown, "").str("The server answered, but the client retransmitted its SYN ").times(a.SYNAfterSYNACK).
				str(" after the first SYN-ACK: the ").count(a.SYNACK.Count, "SYN-ACK").
				str(" did not reach the client, most likely lost on the return path (or dropped by the client host).")
			r.unknownAmong(ReturnPath, Client)
			r.Settle = "a capture on the client would tell which"
			return
		}
		span := sub(a.End, a.SYNACK.First)
		quiet := a.SYNACK.Count > 1 && span >= max(cfg.AnswerWait, slowestSYNResend)
		if a.FlagsOnly && span >= max(cfg.AnswerWait, slowestSYNResend) && (a.SYNACK.Count == 1 || !mayBeLastSYN(a)) {
			judgeAnswerFilteredAtServer(a, r, span)
			return
		}
		if quiet && !mayBeLastSYN(a) {
			r.judged(HalfOpen, OutboundPath, Inferred).str("The server sent its SYN-ACK ").times(a.SYNACK.Count).
				str(" and never got the final ACK, while the client did not retransmit its SYN in ").dur(span).
				str(": the client got the SYN-ACK and answered, and its ACK was lost on the way to the server (unless the client gave up before resending its SYN, as a connect timeout under a second does).")
			return
		}
		if span < cfg.SYNTimeout {
			r.judged(Incomplete, Unknown, "").str("The server sent its SYN-ACK and ").endWords(a, a.SYNACK.First, "it").
				str(", before the client's answer could be expected.")
			r.unknownAmong(OutboundPath, ReturnPath, Client)
			return
		}
		t := r.judged(Timeout, Unknown, "").str("The server sent its SYN-ACK and the client never answered.")
		if quiet {
			t.str(" It resent no SYN in ").dur(span).str(" after, but the capture began only ").dur(sub(a.SYN.First, a.CaptureFrom)).
				str(" before its first SYN here: the client's earlier SYNs may be out of it, this one its last, after which it resends none, answered or not.")
		}
		r.unknownAmong(ReturnPath, Client, OutboundPath)
	case a.SYNACKAfterACK > 0 && a.ClientData.Count == 0 && a.ServerData.Count == 0 && a.ServerRST.Count == 0:
		r.judged(HalfOpen, Server, Proven).str("The server received the client's final ACK yet resent its SYN-ACK ").times(a.SYNACKAfterACK).
			str(": it dropped the ACK, typically because its accept queue was full.")
	default:
		judgeEstablished(a, r, cfg, VantageServer)
	}
}

// judgeDroppedPassingOn judges SYN-ACKs the host a capture was taken on
// received and never passed on (forwardedNone).
func judgeDroppedPassingOn(a *flows.Attempt, r *Result) {
	t := r.judged(Timeout, ReturnPath, Inferred).count(a.SYNACK.Count, "SYN-ACK").
		str(" reached the host this capture was taken on, and it passed none of them on, though it passes this connection's packets on (")
	if a.Echoes > 0 {
		t.str("the capture holds the client's SYN as it came and again a hop later, as tcpdump -i any on a router does)")
	} else {
		t.str("the capture records which way each packet crossed that host, and holds the client's SYNs as it sent them on, copies of ones it received")
		if a.SYNsIn == 0 {
			t.str(" under other addresses: it translates them")
		}
		t.str(")")
	}
	if a.PassesBackLater {
		t.str(", and passed back to the client a SYN-ACK that came after them")
	}
	if a.SYNAfterSYNACK > 0 {
		t.str("; the client kept resending its SYN (").times(a.SYNAfterSYNACK).str(" after the first SYN-ACK arrived there)")
	}
	t.str(": they were dropped there, on the return path (a firewall's rule, its connection tracking, a missing route back).")
}

// synACKsNotPassedOn reports that a capture recording which way packets
// crossed its host, which passed this connection's SYNs on (copies of
// SYNs received, under these addresses or translated), holds the server's
// SYN-ACKs, two or more, as received and none as passed on under any
// addresses, while it passed back to the client one it received after
// them (a queue on the way back may hold them when the capture ends): it
// dropped them. Two at least, as for SYNs.
func synACKsNotPassedOn(a *flows.Attempt) bool {
	return a.SYNsRelayed > 0 && a.SYNACKsIn >= 2 && a.SYNACKsIn >= a.SYNACK.Count && a.SYNACKsOut == 0 &&
		a.SYNACKsPassedOn == 0 && !a.Unpaired && a.PassesBackLater
}

// passedToAdjacentClient reports that a capture recording which way
// packets crossed its host holds the client's SYNs as received, with the
// TTL they were sent with (no router between the client and that host),
// and the server's SYN-ACKs as that host passed them on to the client
// (copies, hops lower than sent): past it, only the client's link and
// the client host remain.
func passedToAdjacentClient(a *flows.Attempt) bool {
	if a.Unpaired {
		return false
	}
	if a.SYNsIn == 0 {
		// The translated view: its SYNs copies of ones received from an
		// adjacent client, its SYN-ACKs received and passed back.
		return a.SYNsRelayed > 0 && a.SYNsRelayed >= a.SYN.Count && a.RelayedFromTTL != 0 && Hops(a.RelayedFromTTL) == 0 &&
			a.SYNACKsPassedOn > 0 && a.SYNACKsIn >= a.SYNACK.Count
	}
	return receivedSYN(a) && Hops(a.SYN.TTL) == 0 && a.SYNsIn >= a.SYN.Count &&
		(a.SYNACKsPassedOn > 0 || (a.SYNACKsOut > 0 && a.SYNACKsOut >= a.SYNACK.Count && Hops(a.SYNACK.TTL) > 0))
}

// judgeIgnoredByAdjacentClient judges SYN-ACKs a host passed on to a
// client on its own link that never answered (passedToAdjacentClient).
func judgeIgnoredByAdjacentClient(a *flows.Attempt, r *Result) {
	t := r.judged(Timeout, Client, Inferred).count(a.SYNACK.Count, "SYN-ACK").
		str(" reached the host this capture was taken on, which passed them on to the client")
	if a.SYNsIn == 0 {
		t.str(" translated back to its addresses")
	}
	t.str(", on its own link (the capture records it receiving the client's SYNs with the TTL they were sent with: no router between them), and the client never answered").resentAfter(a).
		str(": the client host ignored them (a firewall on the client, or a SYN no socket was waiting for).")
}

// synACKsToCopyNotPassedBack reports that a capture recording which way
// packets crossed its host holds the client's SYNs as received and passed
// on translated (another address pair), the server's SYN-ACKs to those
// copies as received, two or more, and none passed back under this
// attempt's addresses, while one received after them was: it dropped
// them on their way back.
func synACKsToCopyNotPassedBack(a *flows.Attempt) bool {
	return a.SYNsPassedOn > 0 && a.SYNACKsToCopy >= 2 && a.SYNACK.Count == 0 && !a.Unpaired && a.PassesBackLater
}

// judgeSYNACKsToCopyDropped judges an attempt synACKsToCopyNotPassedBack
// says the capture's host dropped the answers to.
func judgeSYNACKsToCopyDropped(a *flows.Attempt, r *Result, waited time.Duration) {
	r.Candidates = r.Candidates[:0]
	r.judged(Timeout, ReturnPath, Inferred).unanswered(a).str(": the host this capture was taken on received them and passed them on translated (under other addresses), and ").
		count(a.SYNACKsToCopy, "SYN-ACK").str(" from the server came back to it under those addresses, but it passed none of them back to the client (though it passed back to it one that came after them), which waited at least ").dur(waited).
		str(": they were dropped there, on the return path (that host's firewall or policy, its connection tracking, a missing route back).")
	r.Settle = "that host's firewall rules and counters (nft list ruleset, iptables -L -v -n) would tell which rule"
}

// receivedNonePassedOn reports that a capture recording which way packets
// crossed its host (tcpdump -i any on a router, a firewall, a Kubernetes
// node) holds the client's SYNs, two or more, each as received and none
// as sent on, under any addresses, though the host passed on other SYNs
// to this server: it dropped them. Two at least: a copy sent on the
// capture missed (a full ring) is then not the whole of it. Only when
// nothing answered them and the pairing lost none. The counts by
// direction may exceed the attempt's: a copy received twice (on a
// bridge's port and on the bridge) is one SYN, and a server's SYN-ACK
// timer and its answer to a resent SYN, microseconds apart, are taken for
// one in a capture that shows copies.
func receivedNonePassedOn(a *flows.Attempt) bool {
	return a.SYNsIn >= 2 && a.SYNsIn >= a.SYN.Count && a.SYNsOut == 0 && a.SYNsPassedOn == 0 && !a.Unpaired &&
		a.PassesOnToServer && a.PassesOnLater && !a.ServerIsCaptureHost && a.SYNACK.Count == 0 && a.ServerRST.Count == 0 && a.ICMP.Count == 0 && a.Echoes == 0
}

// judgeSYNsDroppedPassingOn judges SYNs the host a capture was taken on
// received and never passed on (receivedNonePassedOn).
//
// Where the host passed SYNs for that address on only translated (its
// destination rewritten), it may stand for the address itself (port
// forwarding, a Kubernetes node's NodePorts, a load balancer's address),
// its firewall the server's; or route there, redirecting some ports (a
// transparent proxy): the path's. The drop is that host's either way;
// which place it is, the capture cannot say.
func judgeSYNsDroppedPassingOn(a *flows.Attempt, r *Result, waited time.Duration) {
	r.Candidates = r.Candidates[:0]
	server := a.Key.Server.Addr().String()
	if !a.RoutesToServer {
		r.unknownAmong(OutboundPath, Server)
		r.judged(Timeout, Unknown, "").count(a.SYN.Count, "SYN").str(" over ").dur(sub(a.SYN.Last, a.SYN.First)).
			str(" reached the host this capture was taken on (it records them as received) and it passed none of them on; no answer came, and the client waited at least ").dur(waited).
			str(": they were dropped there. It passes other connections to ").str(server).
			str(" on translated, to other addresses: it may stand for ").str(server).
			str(" itself, forwarding some of its ports (port forwarding, a Kubernetes node, a load balancer), and then dropped them as the server; or route to it, redirecting some ports (a transparent proxy), and then dropped them on the outbound path.")
		r.Settle = "that host's firewall rules and counters (nft list ruleset, iptables -L -v -n) would tell which rule, and whether the address is its own"
		return
	}
	r.judged(Timeout, OutboundPath, Inferred).count(a.SYN.Count, "SYN").str(" over ").dur(sub(a.SYN.Last, a.SYN.First)).
		str(" reached the host this capture was taken on (it records them as received) and it passed none of them on, though it passed on other clients' or this client's SYNs to ").
		str(server).str(", under that address, one received after them: it routes there, and is most likely not it, and its way there was open; no answer came, and the client waited at least ").dur(waited).
		str(": they were dropped there, on the outbound path (that host's firewall or policy, a missing route).")
	r.Settle = "that host's firewall rules and counters (nft list ruleset, iptables -L -v -n) would tell which rule"
}

// refusedPassingOn reports that a capture recording which way packets
// crossed its host holds the client's SYNs as received, none passed on,
// and RSTs in the server's name as sent by that host (TTL as sent) and
// never as received: the host refused the connection itself, though it
// passes other SYNs for that address on.
func refusedPassingOn(a *flows.Attempt) bool {
	return a.PassesOnToServer && a.SYNsIn > 0 && a.SYNsOut == 0 && a.SYNsPassedOn == 0 && !a.Unpaired &&
		a.ServerRSTsOut > 0 && a.ServerRSTsIn == 0 && Hops(a.ServerRST.TTL) == 0 && a.SYNACK.Count == 0 && !a.ServerIsCaptureHost
}

// judgeRefusedPassingOn judges a refusal the host a capture was taken on
// sent itself, in the server's name (refusedPassingOn). Where it passes
// other SYNs on to that address under that address, it routes there and
// is most likely not it: the RST, seen leaving its sender, is the path's
// (a firewall's REJECT with tcp-reset). Likely, not proven: a load
// balancer's director in direct-routing mode (LVS-DR) passes SYNs for an
// address it holds itself on untranslated, and refuses its other ports
// as the server would. Where it passes them on only translated, it may
// stand for the address (a Kubernetes node refusing a port it does not
// forward, a container host an unpublished one).
func judgeRefusedPassingOn(a *flows.Attempt, r *Result) {
	server := a.Key.Server.Addr().String()
	if a.RoutesToServer {
		r.RSTOrigin, r.OriginSure = OriginPath, Likely
		r.judged(Refused, OutboundPath, Inferred).str("A RST answered the SYN (ECONNREFUSED), sent by the host this capture was taken on: it records the SYN as received and never passed on, and the RST (").
			frame(a, flows.EvRST).str(") as sent by that host, its TTL as sent, and never received. That host passes other connections on to ").str(server).
			str(" under that address: it routes there, and is most likely not it (unless it holds that address itself and passes some of its ports on untranslated, as a load balancer's director in direct-routing mode does). It rejected the connection itself, in the server's name (a firewall's REJECT with tcp-reset).")
		r.Settle = "that host's firewall rules and counters (nft list ruleset, iptables -L -v -n) would tell which rule"
		return
	}
	r.RSTOrigin, r.OriginSure = OriginUnknown, ""
	r.judged(Refused, Unknown, "").str("A RST answered the SYN (ECONNREFUSED), sent by the host this capture was taken on: it records the SYN as received and never passed on, and the RST (").
		frame(a, flows.EvRST).str(") as sent by that host, its TTL as sent, and never received. That host passes other connections to ").str(server).
		str(" on translated, to other addresses: it may stand for ").str(server).str(" itself, forwarding some of its ports (port forwarding, a container host, a Kubernetes node, a load balancer), and have refused port ").
		num(uint64(a.Key.Server.Port())).str(" as the server, nothing listening or forwarded there; or route to it, redirecting some ports (a transparent proxy), and have rejected this one on the way.")
	r.unknownAmong(Server, OutboundPath)
	r.Settle = "that host's firewall rules and listening sockets (nft list ruleset, ss -ltn) would tell which"
}

// forwardedNone reports that a capture taken where the attempt's packets
// pass on (its SYN as sent and hops later: Attempt.Echoes) holds each of
// the server's SYN-ACKs once, as it arrived from hops away, and none again
// as passed on, while it shows one to that client that came after them
// passed back (a queue on the way back may hold them when the capture
// ends): the host it was taken on dropped them. Only when every SYN-ACK
// it kept came with one TTL: a copy passed on that the capture did not
// pair with its original would show the next one down.
func forwardedNone(a *flows.Attempt) bool {
	if a.Echoes == 0 || a.SYNACK.Count == 0 || a.SYNACKTwins > 0 || a.EventsDropped > 0 || Hops(a.SYNACK.TTL) == 0 || !a.PassesBackLater {
		return false
	}
	for _, e := range a.Events {
		if e.Type == flows.EvSYNACK && e.TTL != a.SYNACK.TTL {
			return false
		}
	}
	return true
}

// seenFrom names where a capture judged like the client's was taken.
func (t *text) seenFrom(v Vantage) *text {
	if v == VantageUnknown {
		return t.str("Seen from here")
	}
	return t.str("Seen from the client")
}

// vantageUnknown says why the TTLs cannot tell which end a capture of a
// was taken at and, where it may be one end's, what it proves if taken
// at end.
func (t *text) vantageUnknown(a *flows.Attempt, end, proves string) *text {
	t.str(" The TTLs do not say which end this capture was taken at (")
	_, hasRef := serverReference(a)
	switch {
	case a.Echoes > 0:
		return t.str("it holds the client's SYN as sent and again hops later: it was taken where packets pass on, as tcpdump -i any on a router).")
	case a.SYNsRelayed > 0 || receivedSYN(a):
		// The capture records directions: not the client's, and not the
		// server's either, or InferVantage would have said so.
		t.str("it records its host ")
		if a.SYNsRelayed > 0 {
			t.str("passing the client's SYNs on")
		} else {
			t.str("receiving the client's SYNs")
		}
		return t.str(", so it was not taken on the client; where they went past that host, it cannot show).")
	case Hops(a.SYN.TTL) == 0:
		t.str("both ends' packets carry the TTL they were sent with: both ends on one link")
	case !hasRef:
		t.str("the SYN has crossed routers, and other handshakes here show both their ends' packets having crossed some: most likely a capture between hosts")
	default:
		t.str("both ends' packets have crossed routers: a capture in the middle of the path")
	}
	return t.str("); if it was taken on the ").str(end).str(", ").str(proves).str(" (say so with --").str(end).str(").")
}

// judgeClientRSTInHandshake judges a RST from the client's side answering
// the server's SYN-ACK, in a capture that did not see it leave the client
// (at the server, or at a vantage the TTLs do not tell): the client's own
// packets are the reference for who sent it.
func judgeClientRSTInHandshake(a *flows.Attempt, r *Result, cfg Config, v Vantage) {
	origin, sure, why := resetOrigin(&r.w.tmp, a, a.ClientRST, true, v)
	r.RSTOrigin, r.OriginSure = origin, sure
	switch origin {
	case OriginPath:
		r.judged(Aborted, OutboundPath, sure.confidence()).str("A RST answered the server's SYN-ACK, but not from the client: ").bytes(why)
		return
	case OriginUnknown:
		r.judged(Aborted, Unknown, "").str("A RST answered the server's SYN-ACK. ").bytes(why)
		r.unknownAmong(Client, OutboundPath)
		return
	}
	if a.SYN.Last.After(a.ClientRST.First) {
		judgeResetYetResent(a, r, cfg, why)
		return
	}
	r.judged(Aborted, Client, sure.confidence()).
		str("The client answered the server's SYN-ACK with a RST: it no longer wanted the connection").probeWords(a).str(" ").bytes(why)
}

// judgeRSTFilteredAtServer judges, at the server, SYNs that drew no
// SYN-ACK in a capture filtered on TCP flags (Attempt.FlagsOnly): a RST
// the server sent may not be in it. The client tells: resending its SYN,
// it got no answer; not resending it, it got one.
func judgeRSTFilteredAtServer(a *flows.Attempt, r *Result) {
	if a.SYN.Count > 1 {
		r.judged(Timeout, Server, Inferred).str("The server received ").count(a.SYN.Count, "SYN").str(" over ").dur(sub(a.SYN.Last, a.SYN.First)).
			str(" and sent no SYN-ACK, and the client kept resending, so no answer reached it: the server dropped them (a firewall after the capture point, a full SYN queue), or a RST it sent was lost on the way back").
			earlierWords(a).str(". ").
			flagsOnly("a RST")
		// Or it answered with the ACK of an earlier connection on these
		// ports, which the capture cannot hold either, and the client's
		// RST to it was lost on the way out.
		r.Candidates = append(r.Candidates[:0], Server, ReturnPath, OutboundPath)
		if heldEarlier(a) {
			r.unknownAmong(Server, ReturnPath, OutboundPath)
		}
		return
	}
	r.judged(Refused, Server, Inferred).str("The server sent no SYN-ACK, and the client resent no SYN in the ").dur(sub(a.End, a.SYN.First)).
		str(" after: an answer reached it, most likely the server's RST (ECONNREFUSED). ").flagsOnly("a RST")
}

// heldEarlier reports that the capture showed an earlier connection on
// the attempt's ports that the server may still hold (not reset): it may
// answer the new SYN with that connection's ACK.
func heldEarlier(a *flows.Attempt) bool {
	return a.Earlier != flows.EarlierNone && a.Earlier != flows.EarlierReset
}

// earlierWords adds the answer a filtered capture would hide: the ACK of
// an earlier connection on the ports the server still held.
func (t *text) earlierWords(a *flows.Attempt) *text {
	if heldEarlier(a) {
		return t.str(", or it answered with the ACK of the earlier connection on these ports, which it still held, and the client's RST to it was lost on the way out")
	}
	return t.str(" (or it answered with the ACK of an earlier connection on these ports it still held, and the client's RST to it was lost on the way out)")
}

// judgeAnswerFilteredAtServer judges, at the server, an attempt it
// answered in a capture filtered on TCP flags (Attempt.FlagsOnly), for
// span after its first SYN-ACK. The capture cannot show the client's
// answer; the server's SYN-ACKs tell whether it took one: it resends them
// until it does. Resent, the client's silence (no SYN resent) says it
// took the SYN-ACK and answered, unless the SYN shown may be its last
// (mayBeLastSYN: the caller's to rule out).
func judgeAnswerFilteredAtServer(a *flows.Attempt, r *Result, span time.Duration) {
	if a.SYNACK.Count == 1 {
		r.judged(Established, None, Inferred).str("The server sent its SYN-ACK once and resent none in the ").dur(span).
			str(" after: it took the client's answer. ").flagsOnly("the answer")
		return
	}
	halfOpenUnseen(a, r, span)
}

// halfOpenUnseen judges a handshake the server answered more than once,
// whose client resent no SYN for quiet: the client took the SYN-ACK and
// answered, the server never took the answer, and the capture, filtered
// on TCP flags, cannot show where it went.
func halfOpenUnseen(a *flows.Attempt, r *Result, quiet time.Duration) {
	r.judged(HalfOpen, Unknown, "").str("The server sent its SYN-ACK ").times(a.SYNACK.Count).
		str(", and the client resent no SYN in the ").dur(quiet).str(" after: it took the SYN-ACK and answered, but the server never took the answer (lost on the way to the server, or dropped there: a full accept queue). ").
		flagsOnly("the client's answer")
	r.unknownAmong(OutboundPath, Server)
}

// serverUnseen reports, at the server, an attempt of which the capture
// holds none of the server's packets, and cannot be trusted to: the
// client's own ACK acknowledges a SYN-ACK the capture lacks, or it holds no
// SYN-ACK from the server's address at all, to any client, or other
// clients' ACKs acknowledge SYN-ACKs it lacks (serverMissesSome). A capture
// of one direction (a filter such as "dst port 443", tcpdump -Q in, a tap,
// routes that send the answers out another interface) shows every SYN
// unanswered; only the server's answers to other connections, all of them
// captured, prove that its silence on this one is real.
func serverUnseen(a *flows.Attempt) bool {
	return noServerPackets(a) && a.ICMP.Count == 0 && (a.Established() || a.ServerHops.Count == 0 || serverMissesSome(a))
}

// serverMissesSome reports that a capture holding SYN-ACKs from an
// attempt's server lacks others that the server's clients acknowledged:
// it shows some of what the server sends, not all (answers to some
// clients or some flows routed out another interface, ECMP, a filter,
// capture drops), so no silence of the server in it is proof.
func serverMissesSome(a *flows.Attempt) bool {
	return a.ServerHops.Count > 0 && a.ServerHops.Missed > 0
}

// missesSome writes why a capture is serverMissesSome, as a predicate
// ("misses some …") for the caller to give a subject.
func (t *text) missesSome(a *flows.Attempt) *text {
	return t.str("misses some of the server's packets: ").count(a.ServerHops.Missed, "connection").
		str(" to the server completed with a SYN-ACK it does not hold, acknowledged by the client (the latest at ").ref(a.ServerHops.MissedAt).
		str("; answers routed out another interface, a filter, capture drops?)")
}

// noServerPackets reports that a capture holds none of the server's
// packets of an attempt: no SYN-ACK, RST, data or FIN.
func noServerPackets(a *flows.Attempt) bool {
	return a.SYNACK.Count+a.ServerRST.Count+a.ServerData.Count+a.ServerFIN.Count == 0
}

// judgeServerUnseen judges, at the server, an attempt the capture holds
// none of the server's packets of (serverUnseen), from the client's.
func judgeServerUnseen(a *flows.Attempt, r *Result, cfg Config) {
	r.SYNACKSent = -1 // not known: the capture would not show them
	const oneWay = "a capture of one direction: a filter such as 'dst port', a tap, or answers routed out another interface"
	if a.Established() {
		r.OneWay = true
		r.judged(Established, None, Inferred).str("The handshake completed: the client's ACK, ").frame(a, flows.EvACK).
			str(", acknowledges the server's SYN-ACK, which this capture does not hold. It holds none of the server's packets of this connection (").
			str(oneWay).str("), so what the server did next cannot be judged from it.")
		return
	}
	r.Candidates = append(r.Candidates[:0], Server, ReturnPath)
	r.Settle = "a capture showing the server's own packets would tell which"
	waited := sub(a.End, a.SYN.First)
	some := serverMissesSome(a)
	if some {
		r.Settle = "a capture of all the server's packets (every interface it sends from) would tell which"
	}
	if waited < cfg.SYNTimeout {
		r.Where = Unknown
		t := r.judged(Incomplete, Unknown, "").str("The server received ").count(a.SYN.Count, "SYN").str(" and ").endWords(a, a.SYN.Last, "the last").
			str(", before its answer could be ruled out; ")
		if some {
			t.str("this capture ").missesSome(a).str(".")
			return
		}
		t.str("this capture holds no packet from the server at all.")
		return
	}
	if a.SYN.Count == 1 && waited > lonelySYN {
		// A client that got no answer resends its SYN within a second.
		r.Where = Unknown
		t := r.judged(Incomplete, Unknown, "").str("The server received 1 SYN, and the client never resent it though the capture went on: most likely it got an answer (a RST, a SYN-ACK) that this capture does not show, for ")
		if some {
			t.str("this capture ").missesSome(a).str("; or it gave up within a second.")
			return
		}
		t.str("it holds no packet from the server at all (").str(oneWay).str("); or it gave up within a second.")
		return
	}
	t := r.judged(Timeout, Server, Inferred).str("The server received ").count(a.SYN.Count, "SYN").str(" over ").dur(sub(a.SYN.Last, a.SYN.First))
	if some {
		t.str(", and this capture holds no answer to them; but it ").missesSome(a).
			str(": most likely they were dropped on the server host (a firewall after the capture point, a full SYN queue), unless they were answered unseen and the answers lost on the way back.")
		return
	}
	t.str(", and this capture holds no answer to them, nor any SYN-ACK from the server to another client: most likely they were dropped on the server host (a firewall after the capture point, a full SYN queue), unless it is ").
		str(oneWay).str(", and the answers were lost on the way back.")
}

// The server's SYN-ACKs a RST in its name is compared with, when its
// attempt has none of its own.
const (
	samePortSYNACKs = "the server's SYN-ACKs from the same port to other connections"
	otherSYNACKs    = "the server's SYN-ACKs to other connections"
)

// sameDistance reports that the server's SYN-ACKs to other connections
// (from the same port when the capture holds any) reached the capture
// with the TTL rst did, naming them: the server's packets all come from
// that far. It writes their name into t.
func sameDistance(t *text, a *flows.Attempt, rst flows.Seen) ([]byte, bool) {
	switch {
	case a.PortHops.Count > 0 && refTTL(a.PortHops, rst) == rst.TTL:
		return t.otherConnections(a.PortHops, samePortSYNACKs), true
	case a.PortHops.Count == 0 && a.ServerHops.Count > 0 && refTTL(a.ServerHops, rst) == rst.TTL:
		return t.otherConnections(a.ServerHops, otherSYNACKs), true
	}
	return nil, false
}

// sentHere tells whether a packet was sent by the host the capture was
// taken on (undecremented TTL).
func sentHere(s flows.Seen) (Origin, Sureness) {
	if Hops(s.TTL) == 0 {
		return OriginServer, Certain
	}
	return OriginPath, Likely
}

// rstOriginAtClient compares a RST claiming to come from the server with
// the server's own packets in the same capture. It writes why into t.
func rstOriginAtClient(t *text, a *flows.Attempt, rst flows.Seen) (Origin, Sureness, []byte) {
	if a.SYNACK.Count > 0 {
		return compareRST(t, rst, a.SYNACK.TTL, a.SYNACK.IPID, t.phrase("the server's SYN-ACK"), OriginServer)
	}
	if a.ServerHops.Count == 0 {
		mark := len(t.b)
		t.str("This capture holds no other packet from ").addr(a.Key.Server.Addr()).str(" to compare the RST's TTL (").num(uint64(rst.TTL)).
			str(") with, so it cannot tell whether the server or something on the way sent it.")
		return OriginUnknown, "", t.since(mark)
	}
	return compareRSTOtherConnections(t, a, rst, OriginServer)
}

// compareRSTOtherConnections compares a RST in the server's name with the
// server's SYN-ACKs to other connections: those from the same port when
// the capture holds any, else those from the address's other ports. A RST
// from nearer than the other ports' SYN-ACKs is no proof of a forger: a
// host that forwards some of its ports to hosts farther off (port
// forwarding, a container host's published ports, a Kubernetes node's
// NodePorts, a load balancer) refuses the rest itself, from nearer. A
// firewall's RST and such a host's look the same from here; the port's
// own SYN-ACKs tell them apart.
//
// The port's own SYN-ACKs, all of them before the RST, are no proof
// either: a host in front of the service (a container host, a Kubernetes
// node, a load balancer) refuses the port itself once the service behind
// it is gone, as a firewall that began rejecting it would. Only SYN-ACKs
// from farther that go on after it (within the grace a refusal waits)
// show something nearer resetting some connections while the service
// answers others.
func compareRSTOtherConnections(t *text, a *flows.Attempt, rst flows.Seen, sender Origin) (Origin, Sureness, []byte) {
	samePort := a.PortHops.Count > 0
	hops, what, nearer := a.ServerHops, otherSYNACKs, "the server's SYN-ACKs from its other ports"
	if samePort {
		hops, what = a.PortHops, samePortSYNACKs
		nearer = what
	}
	mark := len(t.b)
	ref := refTTL(hops, rst)
	origin, sure, why := compareRST(t, rst, ref, hops.IPID, t.otherConnections(hops, what), sender)
	if origin != OriginPath || Hops(rst.TTL) >= Hops(ref) || samePort && hops.From.TS.After(rst.First) {
		return origin, sure, why
	}
	// Nearer, and no SYN-ACK from the port after it: unknown, unless it
	// came back far sooner than the server could have answered.
	t.b = t.b[:mark]
	t.str("Its TTL (").num(uint64(rst.TTL)).str(") says it was sent ").count(uint32(Hops(ref)-Hops(rst.TTL)), "hop").str(" nearer than ")
	t.otherConnections(hops, nearer)
	t.str(", which came with ").num(uint64(ref))
	if samePort {
		t.str(", before it; none from that port came after it")
	}
	if t.fasterThanServer(a, rst) {
		t.b[mark] = 'i' // the path's reasons follow a colon, as compareRST's do
		return OriginPath, Likely, t.since(mark)
	}
	if samePort {
		t.str(". A firewall on the way may have begun rejecting the connections; or the host in front of the service (a container host, a Kubernetes node, a load balancer) refused it itself, the service behind it gone.")
	} else {
		t.str(", and this capture holds no SYN-ACK from port ").num(uint64(a.Key.Server.Port())).
			str(" to compare it with. A firewall on the way may have rejected the connection; or ").addr(a.Key.Server.Addr()).
			str(" belongs to a host that forwards some of its ports to hosts farther off (port forwarding, a container host, a Kubernetes node, a load balancer), and it refused this one itself.")
	}
	return OriginUnknown, "", t.since(mark)
}

// farSooner reports that an answer back in d came from far nearer than one
// whose quickest round trip is rtt: in a quarter of it, and
// rstTimingMargin less.
func farSooner(d, rtt time.Duration) bool {
	return d <= rtt/4 && rtt-d >= rstTimingMargin
}

// rstTimingMargin is how much sooner than the server's SYN-ACKs ever did,
// at the least, a RST must come back to have been sent nearer: more than
// a Kubernetes node's hop to a pod on another node, or a container host's
// to its containers, adds.
const rstTimingMargin = 5 * time.Millisecond

// fasterThanServer reports that a RST came back after the client's only
// SYN in a quarter of the time, and rstTimingMargin less, than the
// server's SYN-ACKs to other connections ever took (HopRef.MinRTT): from
// far nearer than they come from (a host in front of the server forwards
// within microseconds; one that forwards to hosts far off, as a load
// balancer across sites may, would fool it). It finishes the sentence t
// holds saying so.
func (t *text) fasterThanServer(a *flows.Attempt, rst flows.Seen) bool {
	rtt := a.ServerHops.MinRTT
	if a.SYN.Count != 1 || rtt <= 0 || rst.First.Before(a.SYN.Last) {
		return false
	}
	d := rst.First.Sub(a.SYN.Last)
	if !farSooner(d, rtt) {
		return false
	}
	t.str("; and it came back ").dur(d).str(" after the SYN, where the server's SYN-ACKs take at least ").dur(rtt).
		str(": it was sent from far nearer than where they come from.")
	return true
}

// refTTL is the TTL of the server's SYN-ACKs in ref a RST is compared
// with: the other one they came with, when the RST's is that (a NAT
// router's own capture holds them as they came and a hop lower, under the
// translated addresses).
func refTTL(ref flows.HopRef, rst flows.Seen) uint8 {
	if ref.AltTTL != 0 && rst.TTL == ref.AltTTL {
		return ref.AltTTL
	}
	return ref.TTL
}

// phrase writes s and returns it, for a phrase other phrases are made of.
func (t *text) phrase(s string) []byte {
	mark := len(t.b)
	return t.str(s).since(mark)
}

// otherConnections names the server's packets to other connections in
// ref, the reference a RST is compared with when its attempt has none.
func (t *text) otherConnections(ref flows.HopRef, what string) []byte {
	mark := len(t.b)
	return t.str(what).str(" (frame ").num(ref.From.N).str(")").since(mark)
}

// resetOrigin judges who sent a RST on an attempt whose SYN-ACK was seen.
// It writes why into t.
func resetOrigin(t *text, a *flows.Attempt, rst flows.Seen, fromClient bool, v Vantage) (Origin, Sureness, []byte) {
	sender := OriginServer
	if fromClient {
		sender = OriginClient
	}
	// A packet leaving the capturing host is certain.
	if (v == VantageServer) != fromClient && v != VantageUnknown {
		return sender, Certain, nil
	}
	mark := len(t.b)
	// Otherwise only the claimed sender's own packets are a reference.
	if !fromClient {
		switch {
		case a.SYNACK.Count > 0:
			return compareResetRST(t, a, rst, a.SYNACK.TTL, a.SYNACK.IPID, t.phrase("the server's SYN-ACK"))
		case a.ServerData.Count > 0:
			return compareResetRST(t, a, rst, a.ServerData.TTL, a.ServerData.IPID, t.phrase("the server's data"))
		case a.ServerHops.Count > 0:
			return compareRSTOtherConnections(t, a, rst, sender)
		}
		t.str("This capture holds no packet of the server's to compare the RST's TTL (").num(uint64(rst.TTL)).str(") with.")
		return OriginUnknown, "", t.since(mark)
	}
	// No IP-ID test against the client's packets: Linux numbers those but
	// sends the RSTs it makes without a socket with IP-ID 0.
	switch {
	case a.ACK.Count > 0:
		return compareRST(t, rst, a.ACK.TTL, 0, t.phrase("the client's ACK"), sender)
	case a.ClientData.Count > 0:
		return compareRST(t, rst, a.ClientData.TTL, 0, t.phrase("the client's data"), sender)
	case rst.TTL == a.SYN.TTL:
		t.str("Its TTL (").num(uint64(rst.TTL)).str(") matches the client's SYN.")
		return sender, Likely, t.since(mark)
	}
	// A SYN's TTL is no reference for the RSTs of its host's kernel when
	// it was crafted (scanners pick SYN TTLs at random).
	t.str("Its TTL (").num(uint64(rst.TTL)).str(") differs from the client's SYN (").num(uint64(a.SYN.TTL)).
		str("), but the client sent nothing else to compare with (a scanner crafts its SYNs, and its kernel sends the RST).")
	return OriginUnknown, "", t.since(mark)
}

// compareResetRST compares a RST that reset an established connection in
// the server's name with the connection's own packets from the server (ref).
// Sent from nearer, it is no proof of a forger: the host in front of the
// server that passed the connection on (a load balancer, a NAT gateway, a
// Kubernetes node) resets it itself once it has lost the connection's state
// (its conntrack entry flushed, expired or never synced), from a hop or more
// nearer, as a firewall on the way does. Two things tell them apart:
//   - the RST answers the client's first request (a TLS ClientHello, an HTTP
//     request) before any server data: a filter on the name or URL (the cause
//     blocked-after-client-hello); a host in front of the server does not
//     lose state within a round trip of the handshake;
//   - it came back in a quarter of the server's round trip, and
//     rstTimingMargin less, after the client's segment it answers
//     (resetSoonerThanServer).
//
// Otherwise the capture cannot tell the two.
func compareResetRST(t *text, a *flows.Attempt, rst flows.Seen, refTTL uint8, refID uint16, refWhat []byte) (Origin, Sureness, []byte) {
	if Hops(rst.TTL) >= Hops(refTTL) || answersFirstRequest(a) {
		return compareRST(t, rst, refTTL, refID, refWhat, OriginServer)
	}
	mark := len(t.b)
	t.str("its TTL (").num(uint64(rst.TTL)).str(") says it was sent ").count(uint32(Hops(refTTL)-Hops(rst.TTL)), "hop").str(" nearer than ").
		bytes(refWhat).str(" (").num(uint64(refTTL)).str(")")
	if t.resetSoonerThanServer(a, rst) {
		return OriginPath, Likely, t.since(mark)
	}
	t.str(". A firewall on the way may have reset the connection; or the host in front of the server that passed its packets on (a load balancer, a NAT gateway, a Kubernetes node) reset it itself, having lost the connection's state.")
	t.b[mark] = 'I' // a sentence of its own, where the path's reasons follow a colon
	return OriginUnknown, "", t.since(mark)
}

// requestTail is how long after its first segment a request's last one
// may come: the segments of one write go out back to back.
const requestTail = 5 * time.Millisecond

// answersFirstRequest reports that the server's RST came after the
// client's first request (a TLS ClientHello, an HTTP request), with
// nothing from the client after that request's own segments, and before
// any data from the server: it answers that request.
func answersFirstRequest(a *flows.Attempt) bool {
	if a.ClientApp.Kind != capture.AppTLSClientHello && a.ClientApp.Kind != capture.AppHTTPRequest {
		return false
	}
	return a.ServerData.Count == 0 && a.ServerRST.Count > 0 && !a.ServerRST.First.Before(a.ClientAppAt.TS) &&
		a.ClientData.Last.Sub(a.ClientAppAt.TS) <= requestTail
}

// resetIdleBefore is how long, at the least, nothing may have crossed the
// capture before the client's segment a RST is timed from: any answer to
// what came earlier is back by then (a round trip, queues included), so
// the RST answers that segment.
const resetIdleBefore = time.Second

// resetSoonerThanServer reports that a RST resetting a connection came
// back from far nearer than the server: it carries no ACK (an answer to a
// segment that arrived, as a firewall's REJECT and a host without the
// connection send it; a server's own abort acknowledges), it came after
// the client's last segment in a quarter of the server's quickest round
// trip (this handshake's, or its SYN-ACKs' to other connections), and
// rstTimingMargin less, and nothing crossed the capture for
// resetIdleBefore, and four round trips, before that segment. It finishes
// the sentence t holds saying so.
func (t *text) resetSoonerThanServer(a *flows.Attempt, rst flows.Seen) bool {
	if !a.ServerRSTBare || a.EventsDropped > 0 || a.SYNACK.Count == 0 || a.SYN.Count != 1 || !a.SYNACK.First.After(a.SYN.Last) {
		return false
	}
	rtt := a.SYNACK.First.Sub(a.SYN.Last)
	if m := a.ServerHops.MinRTT; m > 0 && m < rtt {
		rtt = m
	}
	var trigger, before time.Time
	for _, e := range a.Events {
		segment := e.Type == flows.EvACK || e.Type == flows.EvData || e.Type == flows.EvFIN
		if segment && e.FromClient && !e.TS.After(rst.First) && e.TS.After(trigger) {
			trigger = e.TS
		}
	}
	if trigger.IsZero() {
		return false
	}
	for _, e := range a.Events {
		if e.TS.Before(trigger) && e.TS.After(before) {
			before = e.TS
		}
	}
	d := rst.First.Sub(trigger)
	if !farSooner(d, rtt) || before.IsZero() || trigger.Sub(before) < max(resetIdleBefore, 4*rtt) {
		return false
	}
	t.str("; and it came back ").dur(d).str(" after the client's segment before it, idle ").dur(trigger.Sub(before)).
		str(" until then, where the server's round trip takes at least ").dur(rtt).str(": it was sent from far nearer than the server.")
	return true
}

// compareRST tells whether a RST came from sender, whose own packet (ref)
// arrived with refTTL and refID: a forger on the way is fewer hops off and
// rarely copies the sender's IP-ID numbering. refID 0 skips that test
// (Linux sends SYN-ACKs and RSTs with IP-ID 0 alike). It writes why into t.
//
// A RST from more hops off than the reference is no forger's: nothing in
// the path is farther than the sender. The reference is then the odd one:
// a SYN proxy answers the handshake hops nearer, then relays the server's
// RST. Which one the sender sent, the capture cannot tell.
func compareRST(t *text, rst flows.Seen, refTTL uint8, refID uint16, refWhat []byte, sender Origin) (Origin, Sureness, []byte) {
	mark := len(t.b)
	if far, near := Hops(rst.TTL), Hops(refTTL); far > near {
		t.str("Its TTL (").num(uint64(rst.TTL)).str(") says it came from farther away than ").bytes(refWhat).str(" (").num(uint64(refTTL)).
			str("), ").count(uint32(far), "hop").str(" against ").num(uint64(near)).
			str(": nothing in the path is farther than the sender, so something nearer (a SYN proxy) may have sent ").bytes(refWhat).str(" in its place.")
		return OriginUnknown, "", t.since(mark)
	}
	if rst.TTL != refTTL {
		t.str("its TTL (").num(uint64(rst.TTL)).str(") differs from that of ").bytes(refWhat).str(" (").num(uint64(refTTL)).str(")")
		if d := int(Hops(refTTL)) - int(Hops(rst.TTL)); d > 0 {
			t.str(", so it was sent ").num(uint64(d)).str(" hop(s) closer to the capture")
		}
		return OriginPath, Likely, t.str(".").since(mark)
	}
	if refID != 0 && rst.IPID == 0 {
		t.str("its TTL (").num(uint64(rst.TTL)).str(") matches ").bytes(refWhat).str(", but its IP-ID is 0 where the sender numbers its packets (").
			num(uint64(refID)).str(").")
		return OriginPath, Likely, t.since(mark)
	}
	t.str("Its TTL (").num(uint64(rst.TTL)).str(") matches ").bytes(refWhat).str(".")
	return sender, Likely, t.since(mark)
}

// handshakeNote says how the handshake completed: "The handshake completed
// after 2 SYNs (the first 1 went unanswered) in 20 ms". At the client, rtt
// is the result's, from the last SYN to the SYN-ACK.
func (t *text) handshakeNote(a *flows.Attempt, v Vantage, rtt time.Duration) *text {
	switch {
	case a.StaleResets > 0:
		// The first SYNs were answered, for an earlier connection: the
		// client's RST to that connection's ACK proves it.
		t.str("The handshake completed after ").count(a.SYN.Count, "SYN").str(": the server").staleAnswers(a, true).str("; the client's RST (").frame(a, flows.EvStaleRST).
			str(") ended that connection, and the next SYN was answered")
	case v != VantageServer && a.ECNFallback:
		t.str("The handshake completed after ").count(a.SYN.Count, "SYN")
	case v != VantageServer && a.SYN.Count > 1:
		t.str("The handshake completed after ").count(a.SYN.Count, "SYN").str(" (the first ").num(uint64(a.SYN.Count - 1)).str(" went unanswered)")
	default:
		t.str("The handshake completed")
	}
	if v != VantageServer && rtt >= 0 {
		t.str(" in ").dur(rtt)
	}
	if v != VantageServer && a.ECNFallback {
		t.ecnFallback(a)
	}
	switch {
	case v != VantageServer && a.SYNACK.Count == 0:
		t.str(" (the SYN-ACK is not in this capture, but the client's ACK, ").frame(a, flows.EvACK).str(", shows it arrived: a one-way capture?)")
	case v == VantageServer && a.ACK.Count == 0 && a.ACKInferred:
		t.str(" (the client's ACK is not in this capture, but the server's packets show it arrived)")
	}
	return t
}

func hasEvent(a *flows.Attempt, t flows.EventType) bool {
	_, ok := eventTime(a, t)
	return ok
}

// eventFacts is what judging reads off an attempt's events, gathered in
// one pass rather than one walk of the events for each.
type eventFacts struct {
	// rtt is the handshake's round trip as the vantage sees it: from the
	// last SYN before the first SYN-ACK to that SYN-ACK (from the last
	// SYN-ACK before the first ACK to that ACK at the server); -1 if
	// either is missing.
	rtt time.Duration
	// icmp: an ICMP error quoting the SYN is among the events.
	icmp bool
}

// readEvents reads the facts judging needs off the events of an attempt
// captured at vantage v. It touches only their types (and two times): the
// events usually come cold, and this light loop fetches them all at once,
// before their evidence is copied.
func readEvents(events []flows.Event, v Vantage) eventFacts {
	from, to := flows.EvSYN, flows.EvSYNACK
	if v == VantageServer {
		from, to = flows.EvSYNACK, flows.EvACK
	}
	// Indices of the last from before the first to, and of that to.
	last, first := -1, -1
	icmp := false
	for i := range events {
		switch events[i].Type {
		case flows.EvICMP:
			icmp = true
		case from:
			if first < 0 {
				last = i
			}
		case to:
			if first < 0 {
				first = i
			}
		}
	}
	facts := eventFacts{rtt: -1, icmp: icmp}
	if first >= 0 && last >= 0 && !events[last].TS.IsZero() {
		facts.rtt = sub(events[first].TS, events[last].TS)
	}
	return facts
}

// appendEvidence appends an Evidence for each of events, captured at
// vantage side, to ev, naming ICMP errors icmpWhat.
func appendEvidence(ev []Evidence, events []flows.Event, side Vantage, icmpWhat string) []Evidence {
	n := len(ev)
	ev = slices.Grow(ev, len(events))[:n+len(events)]
	for i := range events {
		e := &events[i]
		what := e.Type.String()
		if e.Type == flows.EvICMP {
			what = icmpWhat
		}
		// Field by field: an Evidence literal is built aside and copied
		// whole, GC write barriers and all, which cost a third of
		// judging. Every field, since ev may hold an earlier attempt's.
		x := &ev[n+i]
		x.Ref, x.What, x.FromClient, x.TTL, x.Len = e.Ref, what, e.FromClient, e.TTL, e.Len
		x.Side, x.At, x.Pair, x.Lost = side, e.TS, -1, false
	}
	return ev
}

// firstOf is when the earlier of two kinds of packet first came.
func firstOf(a, b flows.Seen) time.Time {
	if a.Count == 0 || (b.Count > 0 && b.First.Before(a.First)) {
		return b.First
	}
	return a.First
}

// sub is t.Sub(u) in integers. Sub adds the difference back to check it
// did not overflow, which made it the costliest arithmetic of judging;
// times less than 2^33 s (272 years) apart cannot overflow, so only
// farther ones are left to it. Packet times carry no monotonic clock
// reading (which Sub would compare instead, were both to have one).
func sub(t, u time.Time) time.Duration {
	s := t.Unix() - u.Unix()
	if s >= 1<<33 || s <= -1<<33 {
		return t.Sub(u)
	}
	return time.Duration(s)*time.Second + time.Duration(t.Nanosecond()-u.Nanosecond())
}

// fellBack reports whether a's client moved on to another attempt
// (flows.Fallback): one answered while a was not, after which a's SYN was
// never resent.
func fellBack(a *flows.Attempt) bool {
	f := &a.Fallback
	return !f.SYNACK.IsZero() && !a.SYN.Last.After(f.SYNACK) && (a.SYNACK.Count == 0 || a.SYNACK.First.After(f.SYNACK))
}

// judgeFellBack judges SYNs unanswered whose client moved on to another
// attempt: it did not wait for an answer, so it never timed out, but no
// answer came while the capture went on either.
func judgeFellBack(a *flows.Attempt, r *Result, cfg Config, waited time.Duration) {
	r.FellBackTo = a.Fallback.Server
	if waited < cfg.SYNTimeout {
		r.judged(Incomplete, Unknown, "").unanswered(a).str(". The client did not wait for one: ").fallback(a).
			str(" The capture shows only ").dur(waited).str(" since this SYN, too little to rule out a late answer.")
		return
	}
	r.Settle = "a capture on the server would tell which"
	r.judged(Timeout, Unknown, "").unanswered(a).str(". The client did not wait for one: ").fallback(a).
		str(" Still no answer came in the ").dur(waited).str(" the capture went on (a server resends its SYN-ACK), so this SYN was lost on the way out, dropped by the server, or answered with SYN-ACKs lost on the way back.")
}

// fallback says which attempt a's client moved on to, and what clients do
// so, by how the two are tied (flows.Fallback).
func (t *text) fallback(a *flows.Attempt) *text {
	f := &a.Fallback
	t.dur(sub(f.FirstSYN, a.SYN.First)).str(" after its first SYN it began another connection, to ")
	t.b = f.Server.AppendTo(t.b)
	to, from := f.Server.Addr(), a.Key.Server.Addr()
	switch {
	case to.Is4() != from.Is4() && to.Is4():
		t.str(" (IPv4)")
	case to.Is4() != from.Is4():
		t.str(" (IPv6)")
	}
	t.str(", answered ").dur(sub(f.SYNACK, f.FirstSYN)).str(" later; it never resent this SYN after that answer: it moved on to that connection, ")
	switch {
	case to == from:
		return t.str("as a client retrying after a short connect timeout does, or a browser opening a backup connection.")
	case to.Is4() != from.Is4():
		return t.str("as a client racing IPv6 and IPv4 does (Happy Eyeballs, RFC 8305).")
	}
	return t.str("as a client trying the next address of the name does (Happy Eyeballs, RFC 8305), or one retrying elsewhere after a short connect timeout.")
}

// probeWithin is how soon after its one SYN a client's RST may answer
// the SYN-ACK for the words to name a probe first: a connect() that gave
// up so soon had a timeout shorter than most round trips, and Happy
// Eyeballs waits at least 100 ms (RFC 8305) before moving on.
const probeWithin = 100 * time.Millisecond

// probeWords ends the sentence saying why a client reset the SYN-ACK to
// its SYN: a RST within a round trip of a single SYN had no socket
// waiting for it from the start, or an application that gave up at once.
func (t *text) probeWords(a *flows.Attempt) *text {
	d := sub(a.ClientRST.First, a.SYN.First)
	if a.SYN.Count != 1 || d < 0 || d >= probeWithin {
		return t.str(" (for example, its connect() had already given up).")
	}
	return t.str(", ").dur(d).str(" after its one SYN: no socket was waiting for the answer. Either none ever was (a half-open probe: a SYN scan such as nmap -sS, or a load balancer's half-open health check), or the application gave up within ").
		dur(d).str(" (a connect timeout shorter than this answer took).")
}

// judgeAnsweredElsewhere judges SYNs answered by SYN-ACKs from another
// address than the one the client connected to (flows.Attempt.AnsweredFrom):
// they acknowledge its SYN, so the SYN reached whatever answered for the
// server, but no stack takes an answer from another address. The reply's
// source was not translated back: it went around the NAT or load balancer
// that translated the SYN, or the server answered from its own address.
func judgeAnsweredElsewhere(a *flows.Attempt, r *Result, cfg Config, waited time.Duration) {
	r.AnsweredFrom = a.AnsweredFrom
	r.unknownAmong(ReturnPath, Server)
	r.Settle = "a capture on the server would tell which"
	v := Timeout
	if waited < cfg.SYNTimeout {
		v = Incomplete
	}
	t := r.judged(v, Unknown, "").unansweredBy(a, a.Key.Server)
	if v == Timeout {
		t.str(" (the client waited at least ").dur(waited).str(", ETIMEDOUT)")
	}
	t.str(". The answers came from another address: ").count(a.AnsweredFromCount, "SYN-ACK").str(" acknowledging the SYN came from ")
	t.b = a.AnsweredFrom.AppendTo(t.b)
	t.str(" (").frame(a, flows.EvSYNACKElsewhere).str(")").elsewhereReset(a).
		str(": no stack takes an answer from an address other than the one it connected to. So the SYN reached whatever answered, and the answer's source was not translated back: it went around the NAT or load balancer that translated the SYN (asymmetric routing), or the server answered from its own address (direct server return without the service address).")
}

// elsewhereReset says that the client reset the answers from elsewhere,
// when the capture shows it.
func (t *text) elsewhereReset(a *flows.Attempt) *text {
	if hasEvent(a, flows.EvRSTElsewhere) {
		return t.str(", and the client answered with a RST")
	}
	return t
}

// judgeResetYetResent judges, from the server's capture, a client that
// reset the SYN-ACK and then resent the same SYN: its connect() had not
// given up, and its stack never took the SYN-ACK for the answer to its
// SYN, as it takes one that arrives as sent. The SYN-ACK reached it
// altered: most often its source not translated back to the address the
// client connected to (the client's stack resets an answer from an
// address it did not connect to), or its acknowledgement number rewritten.
func judgeResetYetResent(a *flows.Attempt, r *Result, cfg Config, why []byte) {
	v := Timeout
	if sub(a.End, a.SYN.First) < cfg.SYNTimeout {
		v = Incomplete
	}
	r.judged(v, Unknown, "").str("The server answered ").count(a.SYN.Count, "SYN").str(" with ").count(a.SYNACK.Count, "SYN-ACK").
		str(", and the client reset them (").frame(a, flows.EvRST).str(") yet kept resending the same SYN: its connect() had not given up, and its stack never took a SYN-ACK for the answer to its SYN, as it would one that arrived as sent. Either they reached it altered (their source not translated back to the address the client connected to, by a NAT or load balancer the replies went around, or their acknowledgement number rewritten), which a stack answers with a RST; or a firewall on the client host rejected them with one. ").
		bytes(why)
	r.unknownAmong(ReturnPath, Client)
	r.Settle = "a capture on the client would tell which"
}

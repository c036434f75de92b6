package verdict

import (
	"fmt"
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
	synHops := Hops(a.SYN.TTL)
	// How far the server is: its SYN-ACKs to this attempt or, failing
	// that, to others in the capture (a RST may be forged nearby).
	var ref flows.Seen
	switch {
	case a.SYNACK.Count > 0:
		ref = a.SYNACK
	case a.ServerHops.Count > 0:
		ref = flows.Seen{Count: a.ServerHops.Count, TTL: a.ServerHops.TTL}
	case a.ServerRST.Count > 0:
		ref = a.ServerRST
	default:
		if synHops > 0 {
			return VantageServer
		}
		return VantageClient
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

// JudgeInto is Judge writing into *r, for callers that judge many attempts
// one after the other.
func JudgeInto(r *Result, a *flows.Attempt, v Vantage, cfg Config) {
	*r = Judge(a, v, cfg)
}

// Judge judges one attempt as one capture, taken at vantage v, saw it.
// VantageUnknown is judged like a client-side capture: what passed the
// capture point is all that can be known.
func Judge(a *flows.Attempt, v Vantage, cfg Config) Result {
	cfg = cfg.withDefaults()
	r := Result{
		Client: a.Key.Client, Server: a.Key.Server, Tunnel: a.Key.Tunnel, ISN: a.ISN,
		Vantage:  v,
		FirstSYN: a.SYN.First,
		SYNSent:  -1, SYNSeenByServer: -1, SYNACKSent: -1, SYNACKSeenByClient: -1,
		RTT:      -1,
		Evidence: evidence(a, v),
	}
	if v == VantageServer {
		r.SYNSeenByServer, r.SYNACKSent = int(a.SYN.Count), int(a.SYNACK.Count)
		r.RTT = rtt(a, flows.EvSYNACK, flows.EvACK)
		judgeServer(a, &r, cfg)
	} else {
		r.SYNSent, r.SYNACKSeenByClient = int(a.SYN.Count), int(a.SYNACK.Count)
		r.RTT = rtt(a, flows.EvSYN, flows.EvSYNACK)
		judgeClient(a, &r, cfg)
	}
	if len(r.Candidates) == 0 && r.Where != None && r.Where != Unknown {
		r.Candidates = []Place{r.Where}
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
	nameCauses(a, &r)
	if r.Candidates == nil {
		r.Candidates = []Place{}
	}
	return r
}

func (r *Result) set(v Verdict, where Place, sure Confidence, why string, args ...any) {
	r.Verdict, r.Where, r.WhereSure = v, where, sure
	r.Explanation = fmt.Sprintf(why, args...)
}

func (r *Result) unknown(candidates ...Place) {
	r.Where = Unknown
	r.Candidates = candidates
}

// judgeClient judges from the client's side of the path.
func judgeClient(a *flows.Attempt, r *Result, cfg Config) {
	switch {
	case a.SYNACK.Count > 0 || a.Established():
		// The client's own ACK proves a SYN-ACK arrived, captured or not.
		judgeAnsweredAtClient(a, r, cfg)
	case a.ServerRST.Count > 0 && a.RSTInHandshake && a.SYN.Last.After(a.ServerRST.Last):
		// The client resent its SYN after the RST: its stack did not take
		// it (a forged RST with a bad checksum or out of window).
		judgeUnansweredAtClient(a, r, cfg)
		r.Explanation += fmt.Sprintf(" A RST came first (%s), and the client ignored it: it kept sending its SYN.", frameOf(a, flows.EvRST))
	case a.ServerRST.Count > 0 && a.RSTInHandshake:
		origin, sure, why := rstOriginAtClient(a, a.ServerRST)
		r.RSTOrigin, r.OriginSure = origin, sure
		switch origin {
		case OriginServer:
			r.set(Refused, Server, sure.confidence(), "The server answered the SYN with a RST (ECONNREFUSED): nothing listens on port %d. %s", a.Key.Server.Port(), why)
		case OriginPath:
			r.set(Refused, OutboundPath, sure.confidence(), "A RST answered the SYN (ECONNREFUSED), but it was not sent by the server: %s Most likely a firewall on the way rejected the connection.", why)
		default:
			r.set(Refused, Unknown, "", "A RST answered the SYN (ECONNREFUSED). %s", why)
			r.unknown(Server, OutboundPath)
			r.Settle = "a capture on the server would tell whether the server sent it"
		}
	case a.ICMP.Count > 0:
		judgeICMP(a, r)
	default:
		judgeUnansweredAtClient(a, r, cfg)
	}
}

// judgeUnansweredAtClient judges SYNs no answer of which reached the client.
func judgeUnansweredAtClient(a *flows.Attempt, r *Result, cfg Config) {
	// What the client lived through decides: how long its SYNs went
	// unanswered since the first, not how much capture follows the last
	// (a client with a short connect timeout stops sending).
	waited := a.End.Sub(a.SYN.First)
	r.unknown(OutboundPath, Server, ReturnPath)
	if waited < cfg.SYNTimeout {
		r.set(Incomplete, Unknown, "", "%s: the capture shows the client waiting only %s since its first SYN (less than --syn-timeout %s), so an answer cannot be ruled out.",
			unanswered(a), dur(waited), dur(cfg.SYNTimeout))
		return
	}
	r.set(Timeout, Unknown, "", "%s: the client waited at least %s for an answer (ETIMEDOUT). Seen from the client, the SYN may have been lost on the way out, dropped by the server, or answered with a SYN-ACK that was lost on the way back.",
		unanswered(a), dur(waited))
	if a.SYN.Count == 1 && waited > lonelySYN {
		r.Explanation += " Only one SYN, though the capture went on: the client gave up within a second, or got an answer this capture does not show."
	}
	r.Settle = "a capture on the server would tell which"
}

// handshakeWentOn reports whether the handshake completed after every RST
// of rst: they did not end it.
func handshakeWentOn(a *flows.Attempt, rst flows.Seen) bool {
	return a.ACK.Count > 0 && rst.Last.Before(a.ACK.First)
}

// frameOf names the first event of type t as file:frame.
func frameOf(a *flows.Attempt, t flows.EventType) string {
	for _, e := range a.Events {
		if e.Type == t {
			return fmt.Sprintf("%s:%d", e.File, e.N)
		}
	}
	return "not kept"
}

// lonelySYN: every common stack resends an unanswered SYN within this.
const lonelySYN = 1500 * time.Millisecond

// unanswered describes SYNs that got no answer and what ended the view of
// them: "3 SYNs over 3.0 s, no answer; the capture ends 1.0 s after the last".
func unanswered(a *flows.Attempt) string {
	if a.SYN.Count == 1 {
		return "1 SYN, no answer; " + endWords(a, a.SYN.Last, "it")
	}
	return fmt.Sprintf("%s over %s, no answer; %s", count(a.SYN.Count, "SYN"), dur(a.SYN.Last.Sub(a.SYN.First)), endWords(a, a.SYN.Last, "the last"))
}

// endWords says what ended the capture's view of an attempt, and how long
// after `from` (the packet named by what): the end of the capture, or the
// tracker letting go. It never calls an idle timer the end of the capture.
func endWords(a *flows.Attempt, from time.Time, what string) string {
	if a.EndedBy == flows.EndCapture && !a.End.After(from) {
		return "the capture ends with " + what
	}
	d := dur(a.End.Sub(from))
	switch a.EndedBy {
	case flows.EndReplaced:
		return fmt.Sprintf("a new SYN with another ISN on the same ports replaced it %s after %s", d, what)
	case flows.EndIdle:
		return fmt.Sprintf("nothing more of it came in the %s after %s", d, what)
	case flows.EndEvicted:
		return fmt.Sprintf("it was judged early, %s after %s, because too many attempts were open at once", d, what)
	case flows.EndSettled:
		return fmt.Sprintf("it was settled %s after %s", d, what)
	}
	return fmt.Sprintf("the capture ends %s after %s", d, what)
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

// judgeAnsweredAtClient judges an attempt whose SYN-ACK reached the client.
func judgeAnsweredAtClient(a *flows.Attempt, r *Result, cfg Config) {
	switch {
	case a.ClientRST.Count > 0 && a.RSTInHandshake && !handshakeWentOn(a, a.ClientRST):
		r.RSTOrigin, r.OriginSure = OriginClient, Certain
		r.set(Aborted, Client, Proven, "The client answered the server's SYN-ACK with a RST: it no longer wanted the connection (for example, its connect() had already given up).")
	case !a.Established():
		quiet := a.End.Sub(a.SYNACK.Last)
		if quiet < cfg.AnswerWait && a.SYNAfterSYNACK == 0 {
			r.set(Incomplete, Unknown, "", "The SYN-ACK reached the client and %s; the client's answer is not in the capture.", endWords(a, a.SYNACK.Last, "it"))
			r.unknown(Client)
			return
		}
		r.set(Timeout, Client, Proven, "%s reached the client but it never answered%s: the client host ignored them (a firewall on the client, or a SYN no socket was waiting for).",
			count(a.SYNACK.Count, "SYN-ACK"), resentAfter(a))
	case a.SYNACKAfterACK > 0 && a.ServerData.Count == 0 && !a.ServerAckedData && a.ServerRST.Count == 0:
		r.set(HalfOpen, Unknown, "", "The client completed the handshake, but the server resent its SYN-ACK %s after the client's ACK: the server never took that ACK. Either it was lost on the way to the server, or the server dropped it (a full accept queue).",
			times(a.SYNACKAfterACK))
		r.unknown(OutboundPath, Server)
		r.Settle = "a capture on the server would tell which"
	default:
		judgeEstablished(a, r, cfg, VantageClient)
	}
}

// resentAfter notes SYNs the client sent after a SYN-ACK had arrived: its
// stack never took the SYN-ACK.
func resentAfter(a *flows.Attempt) string {
	if a.SYNAfterSYNACK == 0 {
		return ""
	}
	return fmt.Sprintf(" and kept resending its SYN (%s after the first SYN-ACK arrived)", times(a.SYNAfterSYNACK))
}

// judgeEstablished judges what followed a completed handshake, up to the
// first data exchange.
func judgeEstablished(a *flows.Attempt, r *Result, cfg Config, v Vantage) {
	hs := handshakeNote(a, v)
	// A server whose kernel holds the connection acknowledges what the
	// client sends, whether or not the application reads it.
	serverTook := a.ServerAckedData || a.ServerAnswered()
	// A RST answering the client's FIN on a connection the server never
	// took only says "no such connection": the damage was done before.
	rstAfterGivingUp := a.ClientFIN.Count > 0 && !a.ServerRST.First.Before(a.ClientFIN.First)
	// RSTs that came before the handshake completed, which went on
	// anyway, did not end the connection.
	serverRST := a.ServerRST.Count > 0 && !(a.RSTInHandshake && handshakeWentOn(a, a.ServerRST))
	if a.ServerRST.Count > 0 && !serverRST {
		hs += fmt.Sprintf(" (an earlier RST, %s, was ignored)", frameOf(a, flows.EvRST))
	}
	// A capture holding none of the server's packets (one-way) cannot show
	// the server acknowledging the request; a client that never resent it
	// over a second had it acknowledged.
	if !serverTook && v != VantageServer && a.SYNACK.Count == 0 && a.ServerRST.Count == 0 &&
		a.ClientData.Count == 1 && a.End.Sub(a.ClientData.First) > time.Second {
		serverTook = true
		hs += "; the client never resent its request, so the server's TCP acknowledged it, unseen here"
	}
	if why, ok := pmtuBlackHole(a, v); ok && a.End.Sub(firstOf(a.ServerData, a.ClientData)) >= cfg.StallAfter {
		r.Cause = CausePMTU
		r.set(Stalled, ReturnPath, Inferred, "%s; the client sent %d bytes, but %s.", hs, a.ClientBytes, why)
		r.Candidates = []Place{ReturnPath}
		return
	}
	if why, ok := pmtuUpload(a, v); ok && a.End.Sub(a.ClientData.First) >= cfg.StallAfter {
		r.Cause = CausePMTU
		r.set(Stalled, OutboundPath, Inferred, "%s; %s.", hs, why)
		r.Candidates = []Place{OutboundPath}
		return
	}
	switch {
	case a.ServerAnswered() && a.ClientData.Count > 0:
		if a.ServerData.Count == 0 {
			r.set(Established, None, Inferred, "%s; data flowed both ways: the client acknowledged %d bytes from the server, though this capture holds none of them.", hs, a.ServerBytesAcked)
			return
		}
		r.set(Established, None, Proven, "%s; data flowed both ways.", hs)
	case serverRST && (serverTook || !rstAfterGivingUp):
		judgeReset(a, r, a.ServerRST, false, hs, v)
	case a.ClientData.Count > 0 && a.ServerData.Count == 0:
		waited := a.End.Sub(a.ClientData.First)
		gaveUp := a.ClientFIN.Count > 0 || a.ClientRST.Count > 0
		if !gaveUp && waited < cfg.StallAfter && (serverTook || a.ClientData.Count == 1) {
			r.set(Established, None, Proven, "%s; the client sent a request and %s, before a reply could be ruled out.", hs, endWords(a, a.ClientData.First, "it"))
			return
		}
		ended := endEvent(a)
		if gaveUp {
			waited = firstOf(a.ClientFIN, a.ClientRST).Sub(a.ClientData.First)
			ended = "the client gave up"
		}
		if !serverTook {
			judgeUntaken(a, r, v, hs)
			return
		}
		if v == VantageServer {
			r.set(Stalled, Server, Proven, "%s; the server received %d bytes of request and acknowledged them, but sent no reply in %s, when %s: the server application did not answer.",
				hs, a.ClientBytes, dur(waited), ended)
			return
		}
		// The server's TCP acknowledged the request, so it reached the
		// server and the return path carries packets: the application is
		// the likely culprit, though a reply lost on the way back (a PMTU
		// black hole) would look the same from here.
		r.set(Stalled, Server, Inferred, "%s; the client sent %d bytes, which the server's TCP acknowledged, but no reply came back in %s, when %s: most likely the server application did not answer (a reply lost on the way back would look the same from here).",
			hs, a.ClientBytes, dur(waited), ended)
		r.Candidates = []Place{Server, ReturnPath}
		r.Settle = "a capture on the server would tell whether it replied"
	case a.ClientRST.Count > 0:
		judgeReset(a, r, a.ClientRST, true, hs, v)
	case a.ClientFIN.Count > 0 || a.ServerFIN.Count > 0:
		r.set(Established, None, Proven, "%s; it was closed without data.", hs)
	default:
		r.set(Established, None, Proven, "%s.", hs)
	}
}

// judgeUntaken judges a handshake the client finished and the server never
// took: the client's data goes unacknowledged.
func judgeUntaken(a *flows.Attempt, r *Result, v Vantage, hs string) {
	resent := ""
	if a.ClientData.Count > 1 {
		resent = fmt.Sprintf(", though it arrived %s", times(a.ClientData.Count))
	}
	if v == VantageServer {
		r.set(HalfOpen, Server, Proven, "The server received the client's final ACK and %d bytes of request but never acknowledged them%s: it did not take the connection, typically because its accept queue was full.",
			a.ClientBytes, resent)
		return
	}
	r.set(HalfOpen, Unknown, "", "%s as far as the client knows, but the server never acknowledged its %d bytes (sent %s): the server never took the connection. Either the ACK and request were lost on the way to the server, or the server dropped them (a full accept queue).",
		hs, a.ClientBytes, times(a.ClientData.Count))
	r.unknown(OutboundPath, Server)
	r.Settle = "a capture on the server would tell which"
}

func judgeReset(a *flows.Attempt, r *Result, rst flows.Seen, fromClient bool, hs string, v Vantage) {
	origin, sure, why := resetOrigin(a, rst, fromClient, v)
	r.RSTOrigin, r.OriginSure = origin, sure
	switch origin {
	case OriginServer:
		r.set(Reset, Server, sure.confidence(), "%s, then the server reset it (ECONNRESET). %s", hs, why)
	case OriginClient:
		r.set(Reset, Client, sure.confidence(), "%s, then the client reset it. %s", hs, why)
	case OriginPath:
		r.set(Reset, OutboundPath, sure.confidence(), "%s, then a RST not sent by the %s ended it: %s", hs, map[bool]string{true: "client", false: "server"}[fromClient], why)
	default:
		r.set(Reset, Unknown, "", "%s, then a RST ended it. %s", hs, why)
		if fromClient {
			r.unknown(Client, OutboundPath)
		} else {
			r.unknown(Server, OutboundPath)
		}
	}
}

func judgeICMP(a *flows.Attempt, r *Result) {
	info := a.ICMPInfo
	from := info.From
	r.ICMP = fmt.Sprintf("%s from %s", info, from)
	// Linux aborts connect() on time-exceeded too (EHOSTUNREACH), so every
	// fatal ICMP error is "unreachable"; the field keeps its name.
	verdict := Unreachable
	if from == a.Key.Server.Addr() {
		r.RSTOrigin, r.OriginSure = OriginServer, Likely
		r.set(verdict, Server, Inferred, "The server host answered the SYN with ICMP %s (%s): its firewall or stack refused the connection.", info.Name(), info.Errno())
		return
	}
	r.RSTOrigin, r.OriginSure = OriginPath, Certain
	r.set(verdict, OutboundPath, Proven, "%s, a router or firewall on the way, answered the SYN with ICMP %s (%s): the SYN never reached the server.", from, info.Name(), info.Errno())
}

// judgeServer judges from the server's side of the path.
func judgeServer(a *flows.Attempt, r *Result, cfg Config) {
	switch {
	case a.SYNACK.Count == 0 && a.ServerRST.Count > 0:
		r.RSTOrigin, r.OriginSure = sentHere(a.ServerRST)
		if r.RSTOrigin == OriginPath {
			r.set(Refused, OutboundPath, Inferred, "A RST from the server's address reached the capture from elsewhere: something near the server forged it.")
			return
		}
		r.set(Refused, Server, Proven, "The server answered the SYN with a RST (ECONNREFUSED): nothing listens on port %d, or its firewall rejects the connection.", a.Key.Server.Port())
	case a.SYNACK.Count == 0 && a.ICMP.Count > 0:
		judgeICMP(a, r)
	case a.SYNACK.Count == 0:
		// A server answers a SYN at once; SYNs unanswered for as long as a
		// client waits before giving up were dropped on the server host.
		waited := a.End.Sub(a.SYN.First)
		if waited < cfg.SYNTimeout {
			r.set(Incomplete, Unknown, "", "The server received %s and %s, before its answer could be ruled out.", count(a.SYN.Count, "SYN"), endWords(a, a.SYN.Last, "the last"))
			r.unknown(Server)
			return
		}
		r.set(Timeout, Server, Proven, "The server received %s over %s and never answered: they were dropped on the server host (a firewall after the capture point, a full SYN queue, or a busy stack).",
			count(a.SYN.Count, "SYN"), dur(a.SYN.Last.Sub(a.SYN.First)))
	case a.ClientRST.Count > 0 && a.RSTInHandshake && !handshakeWentOn(a, a.ClientRST):
		origin, sure, why := resetOrigin(a, a.ClientRST, true, VantageServer)
		r.RSTOrigin, r.OriginSure = origin, sure
		switch origin {
		case OriginPath:
			r.set(Aborted, OutboundPath, sure.confidence(), "A RST answered the server's SYN-ACK, but not from the client: %s", why)
			return
		case OriginUnknown:
			r.set(Aborted, Unknown, "", "A RST answered the server's SYN-ACK. %s", why)
			r.unknown(Client, OutboundPath)
			return
		}
		r.set(Aborted, Client, sure.confidence(), "The client answered the server's SYN-ACK with a RST: it no longer wanted the connection (for example, its connect() had already given up). %s", why)
	case !a.Established():
		if a.SYNAfterSYNACK > 0 {
			r.set(Timeout, Unknown, "", "The server answered, but the client retransmitted its SYN %s after the first SYN-ACK: the %s did not reach the client, most likely lost on the return path (or dropped by the client host).",
				times(a.SYNAfterSYNACK), count(a.SYNACK.Count, "SYN-ACK"))
			r.unknown(ReturnPath, Client)
			r.Settle = "a capture on the client would tell which"
			return
		}
		span := a.End.Sub(a.SYNACK.First)
		if a.SYNACK.Count > 1 && span >= cfg.AnswerWait {
			r.set(HalfOpen, OutboundPath, Inferred, "The server sent its SYN-ACK %s and never got the final ACK, while the client did not retransmit its SYN in %s: the client got the SYN-ACK and answered, and its ACK was lost on the way to the server (unless the client gave up within a second of its SYN).",
				times(a.SYNACK.Count), dur(span))
			return
		}
		if span < cfg.SYNTimeout {
			r.set(Incomplete, Unknown, "", "The server sent its SYN-ACK and %s, before the client's answer could be expected.", endWords(a, a.SYNACK.First, "it"))
			r.unknown(OutboundPath, ReturnPath, Client)
			return
		}
		r.set(Timeout, Unknown, "", "The server sent its SYN-ACK and the client never answered.")
		r.unknown(ReturnPath, Client, OutboundPath)
	case a.SYNACKAfterACK > 0 && a.ClientData.Count == 0 && a.ServerData.Count == 0 && a.ServerRST.Count == 0:
		r.set(HalfOpen, Server, Proven, "The server received the client's final ACK yet resent its SYN-ACK %s: it dropped the ACK, typically because its accept queue was full.",
			times(a.SYNACKAfterACK))
	default:
		judgeEstablished(a, r, cfg, VantageServer)
	}
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
// the server's own packets in the same capture.
func rstOriginAtClient(a *flows.Attempt, rst flows.Seen) (Origin, Sureness, string) {
	if a.SYNACK.Count > 0 {
		return compareRST(rst, a.SYNACK.TTL, a.SYNACK.IPID, "the server's SYN-ACK", OriginServer)
	}
	if a.ServerHops.Count == 0 {
		return OriginUnknown, "", fmt.Sprintf("This capture holds no other packet from %s to compare the RST's TTL (%d) with, so it cannot tell whether the server or something on the way sent it.", a.Key.Server.Addr(), rst.TTL)
	}
	return compareRST(rst, a.ServerHops.TTL, a.ServerHops.IPID,
		fmt.Sprintf("the server's SYN-ACKs to other connections (frame %d)", a.ServerHops.From.N), OriginServer)
}

// resetOrigin judges who sent a RST on an attempt whose SYN-ACK was seen.
func resetOrigin(a *flows.Attempt, rst flows.Seen, fromClient bool, v Vantage) (Origin, Sureness, string) {
	sender := OriginServer
	if fromClient {
		sender = OriginClient
	}
	// A packet leaving the capturing host is certain.
	if (v == VantageServer) != fromClient && v != VantageUnknown {
		return sender, Certain, ""
	}
	// Otherwise only the claimed sender's own packets are a reference.
	if !fromClient {
		switch {
		case a.SYNACK.Count > 0:
			return compareRST(rst, a.SYNACK.TTL, a.SYNACK.IPID, "the server's SYN-ACK", sender)
		case a.ServerData.Count > 0:
			return compareRST(rst, a.ServerData.TTL, a.ServerData.IPID, "the server's data", sender)
		case a.ServerHops.Count > 0:
			return compareRST(rst, a.ServerHops.TTL, a.ServerHops.IPID,
				fmt.Sprintf("the server's SYN-ACKs to other connections (frame %d)", a.ServerHops.From.N), sender)
		}
		return OriginUnknown, "", fmt.Sprintf("This capture holds no packet of the server's to compare the RST's TTL (%d) with.", rst.TTL)
	}
	// No IP-ID test against the client's packets: Linux numbers those but
	// sends the RSTs it makes without a socket with IP-ID 0.
	switch {
	case a.ACK.Count > 0:
		return compareRST(rst, a.ACK.TTL, 0, "the client's ACK", sender)
	case a.ClientData.Count > 0:
		return compareRST(rst, a.ClientData.TTL, 0, "the client's data", sender)
	case rst.TTL == a.SYN.TTL:
		return sender, Likely, fmt.Sprintf("Its TTL (%d) matches the client's SYN.", rst.TTL)
	}
	// A SYN's TTL is no reference for the RSTs of its host's kernel when
	// it was crafted (scanners pick SYN TTLs at random).
	return OriginUnknown, "", fmt.Sprintf("Its TTL (%d) differs from the client's SYN (%d), but the client sent nothing else to compare with (a scanner crafts its SYNs, and its kernel sends the RST).", rst.TTL, a.SYN.TTL)
}

// compareRST tells whether a RST came from sender, whose own packet (ref)
// arrived with refTTL and refID: a forger on the way is fewer hops off and
// rarely copies the sender's IP-ID numbering. refID 0 skips that test
// (Linux sends SYN-ACKs and RSTs with IP-ID 0 alike).
func compareRST(rst flows.Seen, refTTL uint8, refID uint16, refWhat string, sender Origin) (Origin, Sureness, string) {
	if rst.TTL != refTTL {
		closer := ""
		if d := int(Hops(refTTL)) - int(Hops(rst.TTL)); d > 0 {
			closer = fmt.Sprintf(", so it was sent %d hop(s) closer to the capture", d)
		}
		return OriginPath, Likely, fmt.Sprintf("its TTL (%d) differs from that of %s (%d)%s.", rst.TTL, refWhat, refTTL, closer)
	}
	if refID != 0 && rst.IPID == 0 {
		return OriginPath, Likely, fmt.Sprintf("its TTL (%d) matches %s, but its IP-ID is 0 where the sender numbers its packets (%d).", rst.TTL, refWhat, refID)
	}
	return sender, Likely, fmt.Sprintf("Its TTL (%d) matches %s.", rst.TTL, refWhat)
}

func handshakeNote(a *flows.Attempt, v Vantage) string {
	s := "The handshake completed"
	if v != VantageServer && a.SYN.Count > 1 {
		s = fmt.Sprintf("The handshake completed after %s (the first %d went unanswered)", count(a.SYN.Count, "SYN"), a.SYN.Count-1)
	}
	if d := rtt(a, flows.EvSYN, flows.EvSYNACK); v != VantageServer && d >= 0 {
		s += " in " + dur(d)
	}
	switch {
	case v != VantageServer && a.SYNACK.Count == 0:
		s += fmt.Sprintf(" (the SYN-ACK is not in this capture, but the client's ACK, %s, shows it arrived: a one-way capture?)", frameOf(a, flows.EvACK))
	case v == VantageServer && a.ACK.Count == 0 && a.ACKInferred:
		s += " (the client's ACK is not in this capture, but the server's packets show it arrived)"
	}
	return s
}

// rtt is the time from the last `from` event before the first `to` event
// to that event; -1 if either is missing.
func rtt(a *flows.Attempt, from, to flows.EventType) time.Duration {
	var last time.Time
	for _, e := range a.Events {
		switch e.Type {
		case from:
			last = e.TS
		case to:
			if last.IsZero() {
				return -1
			}
			return e.TS.Sub(last)
		}
	}
	return -1
}

func evidence(a *flows.Attempt, side Vantage) []Evidence {
	ev := make([]Evidence, 0, len(a.Events))
	for _, e := range a.Events {
		what := e.Type.String()
		if e.Type == flows.EvICMP {
			what = "ICMP " + a.ICMPInfo.Name()
		}
		ev = append(ev, Evidence{Ref: e.Ref, What: what, FromClient: e.FromClient, TTL: e.TTL, Len: e.Len, Side: side, At: e.TS, Pair: -1})
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

package verdict

import (
	"cmp"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// The join's judging as it was written with fmt, each verdict a Result of
// its own: the reference the words of the streamed join's judging (into a
// reused Result, without fmt) are held to, byte for byte.

// refJudgePair judges an attempt both captures saw, matched by how.
func (v *joinView) refJudgePair(c, s *flows.Attempt, how string) Result {
	r := refJudgeBoth(c, s, v)
	r.Match = how
	v.clock(&r)
	return r
}

// refJudgeClientOnly judges an attempt only the client capture saw; inHost
// says whether the server capture shows its server at all.
func (v *joinView) refJudgeClientOnly(c *flows.Attempt, inHost, portHidden bool, dest destination) Result {
	r := Judge(c, VantageClient, v.cfg.Config)
	covered, sent := v.synsAtServer(c)
	// The server capture shows its host on other ports only: a filter
	// may have left this one out.
	filtered := fmt.Sprintf("The server capture holds attempts to this server on other ports only, none on port %d: taken with a filter that leaves this port out (tcpdump port …)?", c.Key.Server.Port())
	serverAnswered := r.Verdict == Refused && r.RSTOrigin == OriginServer || r.Verdict != Refused && r.Verdict != Timeout && r.Verdict != Unreachable
	elsewhere := dest == destTranslated || dest == destShared && c.SYNACK.Count == 0
	if covered > 0 && inHost && elsewhere {
		r.Explanation += " " + elsewhereWords[dest]
		if r.Where == Unknown {
			r.Settle = elsewhereSettle[dest]
		}
	} else if covered > 0 && inHost && portHidden && serverAnswered {
		r.Explanation += " " + filtered
	} else if covered > 0 && inHost {
		refJudgeNeverAtServer(c, &r, v, covered, portHidden, filtered)
		r.Partial = covered < sent
		if !v.off.Known && len(v.server) > 0 {
			r.Explanation += " (No attempt is in both captures, so their clocks could not be aligned; this takes both clocks to be right.)"
		}
		r.Vantage = VantageBoth
		if portHidden {
			r.SYNSeenByServer, r.SYNACKSent = -1, -1
		} else {
			r.SYNSeenByServer, r.SYNACKSent = 0, 0
			markLost(r.Evidence, true)
		}
	} else {
		r.Explanation += " " + refOutOfView("server", covered > 0, inHost)
	}
	v.clock(&r)
	return r
}

// refJudgeServerOnly judges an attempt only the server capture saw, on the
// client's clock; knownClient says whether the client capture shows its
// client at all.
func (v *joinView) refJudgeServerOnly(s *flows.Attempt, knownClient bool) Result {
	r := Judge(s, VantageServer, v.cfg.Config)
	inTime := v.toClient(s.SYN.First, time.Time{}) || v.toClient(s.SYN.Last, time.Time{})
	r.Explanation += " " + refOutOfView("client", inTime, knownClient)
	shift(r.Evidence, v.off.Offset)
	r.FirstSYN = r.FirstSYN.Add(-v.off.Offset)
	return r
}

// refOutOfView says why the other capture cannot confirm an attempt.
func refOutOfView(other string, inTime, inHost bool) string {
	switch {
	case !inTime:
		return fmt.Sprintf("The %s capture does not cover this time, so it cannot confirm the attempt.", other)
	case !inHost:
		return fmt.Sprintf("The %s capture shows no traffic of this host: it was taken elsewhere, so it cannot confirm the attempt.", other)
	}
	return fmt.Sprintf("The %s capture covers this time and host but holds no matching SYN: it missed the packets, or a middlebox rewrote them beyond recognition.", other)
}

// refJudgeNeverAtServer judges an attempt the server capture never saw,
// though it ran while covered of the client's SYNs were on their way.
func refJudgeNeverAtServer(c *flows.Attempt, r *Result, v *joinView, covered int, portHidden bool, filtered string) {
	sure := v.sure()
	if portHidden && sure == Proven {
		sure = Inferred
	}
	syns := count(uint32(covered), "SYN")
	if covered < int(c.SYN.Count) {
		syns = fmt.Sprintf("%d of the %d SYNs (those sent while the server capture ran)", covered, c.SYN.Count)
	}
	switch r.Verdict {
	case Refused:
		if r.RSTOrigin == OriginServer {
			r.set(Refused, Unknown, "", "A RST answered the SYN (ECONNREFUSED) that the server capture, running at the time, does not hold, nor the SYN, yet it came from as far off as the server: %s. %s", refRSTDistance(r, c, nil), refMissedRST(r, "the server sent it and its capture missed both", "refused the connection in its place (a firewall in front of the server)"))
			return
		}
		r.RSTOrigin, r.OriginSure = OriginPath, sure.sureness()
		r.set(Refused, OutboundPath, sure, "A RST answered the SYN (ECONNREFUSED), but the server never saw the SYN nor sent the RST: something on the way forged it: a firewall rejecting the connection, or a host in front of the server that forwards connections to it (a container host, a Kubernetes node, port forwarding) refusing a port it does not forward.")
	case Unreachable:
		// The router's ICMP error is proof whatever the clocks say.
		r.Where, r.WhereSure, r.RSTOrigin, r.OriginSure = OutboundPath, Proven, OriginPath, Certain
		if !portHidden {
			r.Explanation += " The server capture confirms the SYN never arrived."
		}
	case Timeout:
		r.set(Timeout, OutboundPath, sure, "%s None of %s reached the server: they were lost on the way out (ETIMEDOUT).", unanswered(c)+".", syns)
		if portHidden {
			r.Explanation += " Unless, that is, the s" + filtered[len("The s"):]
			r.Candidates = []Place{OutboundPath, Server, ReturnPath}
			r.Settle = "a capture of every port on the server would tell"
			return
		}
	case Incomplete:
		r.Explanation += " The server capture has not seen it either."
		return
	default:
		if !v.off.Known {
			r.Explanation += " The server capture holds no matching SYN."
			return
		}
		// Answered, yet the server never saw it: something in the path
		// (a SYN proxy, a load balancer) answered in its place.
		r.Explanation += " The server capture, running at the time, never saw this attempt: something on the way may have answered in the server's place."
		if r.RSTOrigin == OriginServer {
			r.RSTOrigin, r.OriginSure = OriginUnknown, ""
		}
		if r.Where == Server {
			r.Where, r.WhereSure = Unknown, ""
			for _, p := range []Place{Server, OutboundPath} {
				if !slices.Contains(r.Candidates, p) {
					r.Candidates = append(r.Candidates, p)
				}
			}
			r.Settle = "a capture of a proxy in the path, or of the server's other interfaces, would tell"
		}
		return
	}
	r.Candidates = []Place{r.Where}
	r.Settle = "" // the server capture did
}

// refJudgeBoth judges an attempt seen in both captures: what was sent and
// what arrived, while the other capture ran, settles where it died.
func refJudgeBoth(c, s *flows.Attempt, v *joinView) Result {
	cfg := v.cfg.Config
	r := Judge(c, VantageClient, cfg)
	oneSided := r // what the client capture alone says, kept where the server's cannot settle it
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
	lostSYNs := ""
	if int(s.SYN.Count) < covered {
		lostSYNs = fmt.Sprintf(" (%d of the %d SYNs sent while the server capture ran were lost on the way out)", covered-int(s.SYN.Count), covered)
	}
	sure := v.sure()
	// The server capture shows nothing the server sent for the attempt,
	// and cannot be trusted to: it shows no SYN-ACK of the server at all,
	// or the client got answers it lacks.
	// Or it is known to miss some of the server's packets: clients' ACKs
	// acknowledge SYN-ACKs it lacks.
	someMissed := s.ServerHops.Count > 0 && s.ServerHops.Missed > 0
	blind := s.SYNACK.Count+s.ServerRST.Count+s.ServerData.Count+s.ServerFIN.Count == 0 &&
		(s.ServerHops.Count == 0 || someMissed || c.SYNACK.Count > 0 || c.ServerData.Count > 0)
	blindWords := "it holds none of the server's packets of this connection (taken in one direction only: a filter such as 'dst port', a tap, or answers routed out another interface?)"
	if someMissed {
		blindWords = "it " + refMissesSome(s)
	}
	switch {
	case c.SYNACK.Count > 0 || c.Established():
		refJudgeBothAnswered(c, s, &r, v, blind)
	case c.ServerRST.Count > 0 && c.RSTInHandshake:
		switch {
		case s.ServerRST.Count > 0:
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.set(Refused, Server, Proven, "The server answered the SYN with a RST (ECONNREFUSED): nothing listens on port %d, or its firewall rejects the connection%s.", s.Key.Server.Port(), lostSYNs)
		case !blind && ran(v.server, s.SYN.First, c.ServerRST.First.Add(v.off.Offset+v.slack())):
			// The server capture ran from the SYN's arrival until the RST
			// reached the client: a RST the server sent would be in it.
			if s.SYNACK.Count == 0 && refRSTAsFarAsServer(&r, c, s) {
				r.set(Refused, Unknown, "", "A RST answered the SYN (ECONNREFUSED) that the server capture, running at the time, does not hold (the server %s), yet it came from as far off as the server: %s. %s", refServerDid(s), refRSTDistance(&r, c, s), refMissedRST(&r, "the server sent it and its capture missed it", "forged it"))
				break
			}
			r.RSTOrigin, r.OriginSure = OriginPath, sure.sureness()
			r.set(Refused, OutboundPath, sure, "The client got a RST that the server never sent: something on the way forged it (the server %s).", refServerDid(s))
		case blind:
			partial := r.Partial
			r = refKeepOneSided(r, oneSided, "")
			r.Partial = partial
			r.Explanation = oneSided.Explanation + " The server capture cannot settle who sent the RST: " + blindWords + "."
		default:
			r = refKeepOneSided(r, oneSided, "the server capture does not cover the time of the RST")
		}
	case c.ICMP.Count > 0:
		r.Where, r.WhereSure = OutboundPath, Proven
		if c.ICMPInfo.From == c.Key.Server.Addr() && s.ICMP.Count > 0 {
			r.Where = Server
		}
		r.Explanation += fmt.Sprintf(" The server %s.", refServerDid(s))
	case s.Established() || resetAnswer(c, s, v) && refAbortedAtClient(s, cfg):
		refTakeServerView(&r, Judge(s, VantageServer, cfg))
		why := "The client capture shows no answer arriving: it missed it"
		acked, how := cmp.Or(s.ACK.First, s.ClientData.First), "acknowledging it"
		if !s.Established() {
			acked, how = s.ClientRST.First, "answering it with a RST"
		}
		switch {
		case clientInboundUnseen(c):
			why = "The client capture, " + refClientBlind(c) + ", cannot show the answer arriving"
		case !ran(v.client, c.SYN.First, acked.Add(-v.off.Offset-v.slack())):
			why = "The client capture ends before the answer reached the client"
		}
		r.Explanation += " " + why + ", but the server capture shows the client " + how + "."
	default:
		refJudgeBothUnanswered(c, s, &r, v, lostSYNs, blind, blindWords)
	}
	if r.Where != Unknown && (r.WhereSure == Proven || !slices.Contains(r.Candidates, r.Where)) {
		r.Candidates = []Place{}
		if r.Where != None {
			r.Candidates = []Place{r.Where}
		}
	}
	if r.Where == Unknown {
		r.WhereSure = ""
	}
	nameCauses(s, &r)
	r.Evidence = refPairEvidence(r.Evidence, evidence(s, VantageServer), v.off)
	return r
}

// refKeepOneSided falls back to what the client capture alone could say,
// noting why the server capture cannot settle it.
func refKeepOneSided(joined, one Result, why string) Result {
	one.Vantage = joined.Vantage
	one.SYNSeenByServer, one.SYNACKSent = joined.SYNSeenByServer, joined.SYNACKSent
	one.ClientSeenByServer, one.ServerSeenByServer = joined.ClientSeenByServer, joined.ServerSeenByServer
	one.Partial = true
	one.Explanation += " The server capture cannot settle it: " + why + "."
	return one
}

// refJudgeBothUnanswered judges an attempt no answer of which reached the
// client: the server capture says whether it got the SYNs and answered.
// How long the client waited counts SYNs either capture saw it send.
func refJudgeBothUnanswered(c, s *flows.Attempt, r *Result, v *joinView, lostSYNs string, blind bool, blindWords string) {
	sure := v.sure()
	waitedUntil := c.End
	if last := s.SYN.Last.Add(-v.off.Offset); s.SYN.Count > 0 && last.After(waitedUntil) {
		waitedUntil = last // the client was still retransmitting after its capture ended
	}
	waited := waitedUntil.Sub(c.SYN.First)
	if waited < v.cfg.SYNTimeout {
		r.Explanation += fmt.Sprintf(" The server %s.", refServerDid(s))
		return // incomplete, as the client capture said
	}
	waitWords := fmt.Sprintf(" (the client waited at least %s, ETIMEDOUT)", dur(waited))
	switch {
	case s.StaleACKs > 0 && s.SYNACK.Count == 0 && s.ServerRST.Count == 0:
		refJudgeBothStale(c, s, r, v, waitWords)
		return
	case s.SYNACK.Count == 0 && s.ServerRST.Count == 0 && synsDamaged(s):
		r.Cause = CauseBadChecksum
		r.set(Timeout, OutboundPath, Inferred, "The server received %s, each with a wrong TCP checksum (%s): its stack discards such a segment as damaged, so it never answered%s%s. They were damaged after they left the client's capture point: on the way (a faulty link or NIC, a middlebox rewriting them without fixing the checksum), or by the client's NIC (checksum offload).",
			string(new(text).synsOver(s).b), refFrame(s, flows.EvSYN), waitWords, lostSYNs)
		r.Candidates = []Place{OutboundPath, Client}
		return
	case s.SYNACK.Count > 0 && c.AnsweredFromCount > 0:
		r.set(Timeout, ReturnPath, Proven, "The server answered with %s, and %s acknowledging the SYN reached the client, but from %s, not from %s, the address it connected to, and no stack takes such an answer%s. The server answered from the address the SYN reached it at; on the way back nothing translated it to the one the client used: the reply went around the NAT or load balancer that translated the SYN (asymmetric routing).",
			count(s.SYNACK.Count, "SYN-ACK"), count(c.AnsweredFromCount, "SYN-ACK"), c.AnsweredFrom, c.Key.Server, waitWords)
		return
	case s.SYNACK.Count > 0 || s.ServerRST.Count > 0:
		answer := count(s.SYNACK.Count, "SYN-ACK")
		if s.SYNACK.Count == 0 {
			answer = "a RST"
		}
		// Proof that the answers were lost: the client kept resending its
		// SYN after the server had answered, or the client capture ran
		// while the first answer was on its way and never saw it.
		first := s.SYNACK.First
		if s.SYNACK.Count == 0 {
			first = s.ServerRST.First
		}
		cBlind := c.SYNACK.Count+c.ServerRST.Count+c.ServerData.Count+c.ServerFIN.Count == 0 && (c.ServerHops.Count == 0 || c.ServerHops.Missed > 0)
		if s.SYNAfterSYNACK > 0 || (!cBlind && v.toClient(first, c.SYN.First)) {
			if s.SYNACK.Count == 0 && !resentAfterRST(c, s, v) {
				quiet := sub(c.End, s.ServerRST.First.Add(-v.off.Offset))
				if quiet >= max(slowestSYNResend, 2*sub(c.SYN.Last, c.SYN.First)) {
					r.RSTOrigin, r.OriginSure = OriginServer, Certain
					r.set(Refused, Server, Inferred, "The server answered the SYN with a RST (ECONNREFUSED), which is not in the client capture; yet the client resent no SYN though its capture went on %s after the RST: most likely it got the RST and its capture missed it (a capture that drops packets, as tcpdump's \"packets dropped by kernel\" counts), unless the client gave up within a second and the RST was lost on the way back%s.", dur(quiet), lostSYNs)
					r.Candidates = []Place{Server, ReturnPath}
					r.Settle = "the client capture's count of dropped packets would tell"
					return
				}
				r.set(Timeout, Unknown, "", "The server answered the SYN with a RST, which is not in the client capture, and the client resent no SYN in the %s its capture went on after the RST: too soon to tell a RST lost on the way back from one the client got and its capture missed%s.", dur(quiet), lostSYNs)
				r.unknown(ReturnPath, Server)
				r.Settle = "a longer client capture, or its count of dropped packets, would tell"
				return
			}
			if s.SYNAfterSYNACK > 0 {
				sure = Proven // the client resent its SYN after the answer left: no clock needed
			}
			r.set(Timeout, ReturnPath, sure, "The server answered with %s, but none reached the client: they were lost on the way back%s%s.", answer, waitWords, lostSYNs)
			return
		}
		if cBlind {
			// The client capture shows no packet of the server at all, or
			// misses some.
			clientBlind := refClientBlind(c)
			if s.SYNACK.Count == 0 && !c.SYN.Last.Add(v.off.Offset).After(s.ServerRST.First) {
				r.RSTOrigin, r.OriginSure = OriginServer, Certain
				r.set(Refused, Server, Inferred, "The server answered the SYN with a RST (ECONNREFUSED), and the client never resent its SYN after it: most likely the RST reached it, though the client capture, %s, cannot show it%s.", clientBlind, lostSYNs)
				r.Candidates = []Place{Server}
				return
			}
			if sure == Proven {
				sure = Inferred
			}
			r.set(Timeout, ReturnPath, sure, "The server answered with %s, and none is in the client capture, %s: most likely they were lost on the way back%s%s.", answer, clientBlind, waitWords, lostSYNs)
			r.Candidates = []Place{ReturnPath, Client}
			r.Settle = "a capture on the client of both directions would tell"
			return
		}
		r.set(Timeout, Unknown, "", "The server answered with %s, but the client capture ends before it could have arrived%s.", answer, waitWords)
		r.unknown(ReturnPath, Client)
	case blind:
		r.set(Timeout, Server, Inferred, "The server received %s, but its capture cannot show whether it answered: %s. Most likely they were dropped on the server host (a firewall after the capture point, a full SYN queue), unless they were answered and the answers lost on the way back%s%s.", count(s.SYN.Count, "SYN"), blindWords, waitWords, lostSYNs)
		r.Candidates = []Place{Server, ReturnPath}
		r.Settle = "a capture showing the server's own packets would tell which"
	case ran(v.server, s.SYN.First, s.SYN.First.Add(v.cfg.AnswerWait)):
		// The server capture ran long enough after the SYN arrived to show
		// an answer, and holds none (its own clock: proven).
		r.set(Timeout, Server, v.own(), "The server received %s and never answered: they were dropped on the server host (a firewall after the capture point, a full SYN queue)%s%s.", count(s.SYN.Count, "SYN"), waitWords, lostSYNs)
	default:
		r.set(Timeout, Unknown, "", "The server received %s, and its capture ends before an answer could be ruled out%s.", count(s.SYN.Count, "SYN"), waitWords)
		r.unknown(Server, ReturnPath)
	}
}

// refMissesSome says how a capture misses some of the server's packets.
// refJudgeBothStale is judgeBothStale.
func refJudgeBothStale(c, s *flows.Attempt, r *Result, v *joinView, waitWords string) {
	r.Cause = CauseStaleConnection
	var t text
	intro := "The server received " + string(t.synsOver(s).str(" and").staleAnswers(s, false).b)
	ack, _ := eventTime(s, flows.EvStaleACK)
	rst, _ := eventTime(c, flows.EvStaleRST)
	switch {
	case c.StaleACKs == 0 && !clientInboundUnseen(c) && !c.FlagsOnly && v.toClient(ack, c.SYN.First):
		r.set(Timeout, ReturnPath, v.sure(), "%s. None of those ACKs reached the client: they were lost on the way back, and the client, which would have reset that connection, kept resending its SYN%s.", intro, waitWords)
	case c.StaleACKs > 0 && c.StaleResets == 0:
		r.set(Timeout, Client, Proven, "%s. The ACKs reached the client, which never answered with the RST its stack owes them, which would have ended that connection: the client host dropped them (a firewall on the client)%s.", intro, waitWords)
	case s.StaleResets > 0 && staleAfterReset(s):
		r.set(Timeout, Server, v.own(), "%s. The client's RST ending that connection reached the server (%s), and the server still answered the next SYN with its ACK: it did not take the RST (a connection in TIME_WAIT with net.ipv4.tcp_rfc1337=1 ignores RSTs)%s.", intro, refFrame(s, flows.EvStaleRST), waitWords)
	case s.StaleResets > 0:
		r.Cause = ""
		r.set(Timeout, Server, v.own(), "%s. The client's RST ending that connection reached the server (%s), and the server never answered the SYNs after it: they were dropped on the server host (a firewall after the capture point, a full SYN queue)%s.", intro, refFrame(s, flows.EvStaleRST), waitWords)
	case c.StaleResets > 0 && s.StaleResets == 0 && !s.FlagsOnly && ran(v.server, s.SYN.First, rst.Add(v.off.Offset+v.slack())):
		r.set(Timeout, OutboundPath, v.sure(), "%s. The ACKs reached the client, whose stack reset that connection (%s), as it must, but none of the RSTs reached the server: they were lost on the way out (a stateful firewall or NAT dropping them as invalid), so the server kept the earlier connection and never answered with a SYN-ACK%s.", intro, count(c.StaleResets, "RST"), waitWords)
	default:
		r.set(Timeout, Unknown, "", "%s. The captures cannot tell whether the client's RSTs reached the server%s.", intro, waitWords)
		r.unknown(OutboundPath, Server)
	}
}

// refFrame is what (*text).frame writes.
func refFrame(a *flows.Attempt, typ flows.EventType) string {
	var t text
	return string(t.frame(a, typ).b)
}

func refMissesSome(a *flows.Attempt) string {
	return fmt.Sprintf("misses some of the server's packets: %s to the server completed with a SYN-ACK it does not hold, acknowledged by the client (the latest at %s; answers routed out another interface, a filter, capture drops?)",
		count(a.ServerHops.Missed, "connection"), a.ServerHops.MissedAt)
}

// refClientBlind says why a client capture cannot show what reached the
// client.
func refClientBlind(c *flows.Attempt) string {
	if c.ServerHops.Count > 0 {
		return "which " + refMissesSome(c)
	}
	return "which holds no packet from the server at all (taken in one direction only: a filter such as 'src host', a tap, or answers arriving on another interface?)"
}

// refJudgeBothAnswered judges an attempt whose SYN-ACK reached the client.
func refJudgeBothAnswered(c, s *flows.Attempt, r *Result, v *joinView, blind bool) {
	sure := v.sure()
	switch r.Verdict {
	case HalfOpen:
		switch {
		case s.ACK.Count > 0:
			r.set(HalfOpen, Server, Proven, "The client completed the handshake and the server received its ACK, yet kept resending its SYN-ACK: the server dropped the ACK, typically because its accept queue was full.")
		case v.toServer(c.ACK.First, s.SYN.First):
			r.set(HalfOpen, OutboundPath, sure, "The client completed the handshake, but its %s never reached the server, which kept resending its SYN-ACK: lost on the way to the server.", count(c.ACK.Count, "ACK"))
		}
	case Stalled:
		switch {
		case s.ServerRST.Count > 0 && c.ServerRST.Count == 0 && c.SYNACK.Count == 0 && c.ServerData.Count == 0 && c.ServerFIN.Count == 0 && (c.ServerHops.Count == 0 || c.ServerHops.Missed > 0):
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.set(Reset, Server, Inferred, "The handshake completed, then the server reset the connection (ECONNRESET): its capture shows the RST leaving, and the client capture, %s, cannot show it arriving.",
				refClientBlind(c))
		case s.ClientData.Count > 0 && s.ServerData.Count > 0 && r.Cause == CausePMTU:
			got := "none of it"
			if c.ServerData.Count > 0 {
				got = fmt.Sprintf("only segments of up to %d bytes", c.ServerMaxSeg)
			}
			r.set(Stalled, ReturnPath, Proven, "The server received the request and sent %d bytes of reply in segments of up to %d bytes, but the client got %s and acknowledged none: full-size segments vanish on the way back, a PMTU black hole (a link with a smaller MTU whose ICMP \"fragmentation needed\" never reaches the server; MSS announced: client %s, server %s).",
				s.ServerBytes, s.ServerMaxSeg, got, mssWords(c.SYNOpts.MSS), mssWords(s.ServerMSS))
		case s.ClientData.Count > 0 && s.ServerData.Count > 0:
			r.set(Stalled, ReturnPath, Proven, "The server received the request and sent %d bytes of reply, but none reached the client: lost on the way back.", s.ServerBytes)
		case s.ClientData.Count > 0 && !blind && ran(v.server, s.SYN.First, s.ClientData.First.Add(v.cfg.StallAfter)):
			r.set(Stalled, Server, v.own(), "The server received the request (%d bytes) and never replied: the server application did not answer.", s.ClientBytes)
		case s.ClientData.Count == 0 && !c.ServerAckedData && v.toServer(c.ClientData.First, s.SYN.First):
			r.set(Stalled, OutboundPath, sure, "The connection was established, but the client's request (%d bytes) never reached the server: lost on the way out.", c.ClientBytes)
		}
	case Reset:
		switch {
		case r.Where == Client:
			r.RSTOrigin, r.OriginSure, r.WhereSure = OriginClient, Certain, Proven
		case s.ServerRST.Count > 0 && s.SYNACK.Count == 0 && s.ServerData.Count == 0:
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.set(Reset, Server, Proven, "The client's handshake was completed by something in the path (a SYN proxy): the server never sent a SYN-ACK, and answered the SYN it got with a RST (nothing listens on port %d, or its firewall rejects the connection), which reached the client as a reset (ECONNRESET).", s.Key.Server.Port())
		case s.ServerRST.Count > 0:
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.set(Reset, Server, Proven, "The handshake completed, then the server reset the connection (ECONNRESET).")
		case !blind && ran(v.server, s.SYN.First, c.ServerRST.First.Add(v.off.Offset+v.slack())) && refRSTAsFarAsServer(r, c, s):
			r.set(Reset, Unknown, "", "The handshake completed, then the client got a RST that the server capture, running at the time, does not hold, yet it came from as far off as the server: %s. %s", refRSTDistance(r, c, s), refMissedRST(r, "the server reset the connection and its capture missed the RST", "ended the connection"))
		case !blind && ran(v.server, s.SYN.First, c.ServerRST.First.Add(v.off.Offset+v.slack())):
			r.RSTOrigin, r.OriginSure = OriginPath, sure.sureness()
			r.set(Reset, OutboundPath, sure, "The handshake completed, then the client got a RST the server never sent: something on the way ended the connection (a firewall, or a host in front of the server that had lost the connection's state: a NAT gateway, a load balancer, a Kubernetes node).")
		}
	case Aborted:
		r.RSTOrigin, r.OriginSure, r.WhereSure = OriginClient, Certain, Proven
		if fellBack(c) && s.SYNACK.Count > c.SYNACK.Count && v.toClient(s.SYNACK.First, c.SYN.First) {
			r.Explanation += fmt.Sprintf(" The server sent %s, the first %s after it got the SYN, and the client got %d: %d lost on the way back made this handshake slow.",
				count(s.SYNACK.Count, "SYN-ACK"), dur(s.SYNACK.First.Sub(s.SYN.First)), c.SYNACK.Count, s.SYNACK.Count-c.SYNACK.Count)
		}
	case Established:
		if r.WhereSure != Inferred || s.Established() {
			r.WhereSure = Proven
		}
		if !s.Established() && s.SYNACK.Count > 1 && v.toServer(c.ACK.First, s.SYN.First) {
			r.set(HalfOpen, OutboundPath, sure, "The client completed the handshake, but its ACK never reached the server, which kept resending its SYN-ACK: lost on the way to the server.")
		} else if s.Established() {
			end := lastPacket(s)
			if s.ClientData.Count > 0 && s.ServerData.Count == 0 {
				end = latest(end, s.ClientData.First.Add(v.cfg.StallAfter))
			}
			if !ran(v.client, c.SYN.First, end.Add(-v.off.Offset+v.slack()+v.cfg.Transit)) {
				if sv := Judge(s, VantageServer, v.cfg.Config); slices.Contains([]Verdict{Reset, Stalled, Aborted, HalfOpen}, sv.Verdict) {
					refTakeServerView(r, sv)
					r.Explanation += " The client capture ends before that, but the server capture shows it."
				}
			}
		}
	case Timeout:
		switch {
		case r.Where != Client:
		case s.Established():
			refTakeServerView(r, Judge(s, VantageServer, v.cfg.Config))
			r.Explanation += " The client capture shows the SYN-ACK arriving but not the client's ACK, which the server capture shows arriving: the client capture missed it."
		case resetAnswer(c, s, v) && refAbortedAtClient(s, v.cfg.Config):
			refTakeServerView(r, Judge(s, VantageServer, v.cfg.Config))
			r.Explanation += " The client capture shows the SYN-ACK arriving but not the client's RST, which the server capture shows arriving: the client capture missed it."
		default:
			if s.SYNACK.Count > 0 {
				r.WhereSure, r.Settle = Proven, ""
			}
			r.Explanation += fmt.Sprintf(" The server %s.", refServerDid(s))
		}
	}
}

// refTakeServerView makes what the server capture alone says r's.
func refTakeServerView(r *Result, sv Result) {
	r.Verdict, r.Where, r.WhereSure, r.Candidates = sv.Verdict, sv.Where, sv.WhereSure, sv.Candidates
	r.RSTOrigin, r.OriginSure, r.Settle, r.Cause = sv.RSTOrigin, sv.OriginSure, sv.Settle, sv.Cause
	if r.RTT == 0 {
		r.RTT = sv.RTT
	}
	r.Explanation = sv.Explanation
}

// refAbortedAtClient reports that the server capture alone says the
// client aborted s.
func refAbortedAtClient(s *flows.Attempt, cfg Config) bool {
	sv := Judge(s, VantageServer, cfg)
	return sv.Verdict == Aborted && sv.Where == Client
}

// refRSTAsFarAsServer is rstAsFarAsServer, r the client capture's own result.
func refRSTAsFarAsServer(r *Result, c, s *flows.Attempt) bool {
	return r.RSTOrigin == OriginServer || s.SYN.Count > 0 && Hops(c.ServerRST.TTL) >= Hops(s.SYN.TTL)
}

func refRSTDistance(r *Result, c, s *flows.Attempt) string {
	if r.RSTOrigin == OriginServer {
		return fmt.Sprintf("its TTL (%d) matches the server's own packets in the client capture", c.ServerRST.TTL)
	}
	return fmt.Sprintf("it crossed %s (TTL %d), no fewer than the SYN did to the server (%d)", count(uint32(Hops(c.ServerRST.TTL)), "hop"), c.ServerRST.TTL, Hops(s.SYN.TTL))
}

// refMissedRST is missedRST: it sets r's place and origin, and returns the
// words that end the explanation.
func refMissedRST(r *Result, server, path string) string {
	r.RSTOrigin, r.OriginSure = OriginUnknown, ""
	r.Candidates = []Place{Server, OutboundPath}
	r.Settle = "the server capture's count of dropped packets, or a capture of the server's other interfaces, would tell"
	return fmt.Sprintf("Either %s (a capture that drops packets, as tcpdump's \"packets dropped by kernel\" counts; an answer leaving by an interface not captured), or something on the way, as far off as the server, %s.", server, path)
}

// refServerDid says in words what the server capture shows of an attempt.
func refServerDid(s *flows.Attempt) string {
	switch {
	case s.SYNACK.Count > 0:
		return fmt.Sprintf("received %s and answered with %s", count(s.SYN.Count, "SYN"), count(s.SYNACK.Count, "SYN-ACK"))
	case s.ServerRST.Count > 0:
		return fmt.Sprintf("received %s and answered with a RST", count(s.SYN.Count, "SYN"))
	}
	return fmt.Sprintf("received %s and did not answer", count(s.SYN.Count, "SYN"))
}

// refPairEvidence merges the two captures' evidence on the client's clock and
// links each packet to its copy in the other capture: a packet sent and
// never received is lost.
func refPairEvidence(cev, sev []Evidence, off ClockOffset) []Evidence {
	shift(sev, off.Offset)
	for i := range cev {
		cev[i].Side = VantageClient
	}
	n := len(cev)
	all := append(slices.Clone(cev), sev...)
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
			if rcv.Pair >= 0 || rcv.What != snd.What || rcv.FromClient != snd.FromClient {
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
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return all[a].At.Compare(all[b].At) })
	pos := make([]int, len(all))
	for to, from := range order {
		pos[from] = to
	}
	out := make([]Evidence, len(all))
	for to, from := range order {
		e := all[from]
		if e.Pair >= 0 {
			e.Pair = pos[e.Pair]
		}
		out[to] = e
	}
	return out
}

// joinViews are the ways a join can see its captures: offsets known or
// not, tight or one-sided or contradicted; captures covering all the time
// or part of it; lossy or not.
func joinViews(client []*flows.Attempt, pairs []pair) map[string]*joinView {
	cfg := joinDefaults(JoinConfig{})
	first, last := client[0].SYN.First, client[0].SYN.First
	for _, c := range client {
		first, last = minTime(first, c.SYN.First), maxTime(last, c.End)
	}
	third := last.Sub(first) / 3
	middle := []Span{{first.Add(third), first.Add(2 * third)}}
	off := estimateOffset(pairs)
	return map[string]*joinView{
		"whole":         {off: off, cfg: cfg},
		"no offset":     {cfg: cfg, server: []Span{{first, last}}},
		"server middle": {off: off, cfg: cfg, server: middle, client: []Span{{first, last}}},
		"client middle": {off: off, cfg: cfg, client: middle, server: []Span{{first, last}}},
		"lossy":         {off: off, cfg: cfg, lossy: true, server: []Span{{first, last}}},
		"one-sided":     {off: ClockOffset{Offset: 4 * time.Millisecond, Error: unknownError, Known: true}, cfg: cfg},
		"contradicted":  {off: ClockOffset{Offset: -3 * time.Millisecond, Error: 9 * time.Millisecond, Known: true, Contradicted: true}, cfg: cfg},
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestJoinWordsAreFmts judges attempts as the join does, into one reused
// Result, and holds every result to the reference's, at every view: the
// mix's client attempts with their own server attempts and with others'
// (any two attempts must be judged alike, matched or not); the lab's
// scenarios' attempts with every server attempt of their scenario; each
// alone.
func TestJoinWordsAreFmts(t *testing.T) {
	client, server := mix(t)
	var cs, ss []*flows.Attempt
	for _, c := range client {
		cs = append(cs, c.a)
	}
	for _, s := range server {
		ss = append(ss, s.a)
	}
	n := sameJoinWords(t, "mix", cs, ss, func(i int) []*flows.Attempt { return []*flows.Attempt{ss[(i*7+3)%len(ss)]} })
	// The same, both captures known to miss some of the server's packets
	// (HopRef.Missed).
	mcs, mss := missingSome(cs), missingSome(ss)
	n += sameJoinWords(t, "mix missing some", mcs, mss, func(i int) []*flows.Attempt { return []*flows.Attempt{mss[(i*7+3)%len(mss)]} })
	dirs, err := filepath.Glob("../testdata/scenarios/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		var sides [2][]*flows.Attempt
		for i, pat := range []string{"client.pcap*", "server.pcap*"} {
			files, _ := filepath.Glob(filepath.Join(dir, pat))
			for _, f := range files {
				rd, err := capture.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				as, err := readAttempts(rd)
				rd.Close()
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				sides[i] = append(sides[i], as...)
			}
		}
		if len(sides[0]) > 0 && len(sides[1]) > 0 {
			n += sameJoinWords(t, filepath.Base(dir), sides[0], sides[1], func(int) []*flows.Attempt { return sides[1] })
			// Each capture in turn missing the server's RSTs, as one that
			// drops packets does.
			noRST := withoutServerRSTs(sides[1])
			n += sameJoinWords(t, filepath.Base(dir)+" server capture without RSTs", sides[0], noRST, func(int) []*flows.Attempt { return noRST })
			n += sameJoinWords(t, filepath.Base(dir)+" client capture without RSTs", withoutServerRSTs(sides[0]), sides[1], func(int) []*flows.Attempt { return sides[1] })
			noSYNACK := withoutPackets(sides[0], func(e flows.Event) bool { return e.Type == flows.EvSYNACK }, func(a *flows.Attempt) { a.SYNACK = flows.Seen{} })
			n += sameJoinWords(t, filepath.Base(dir)+" client capture without SYN-ACKs", noSYNACK, sides[1], func(int) []*flows.Attempt { return sides[1] })
			noClientRST := withoutPackets(sides[0], func(e flows.Event) bool { return e.Type == flows.EvRST && e.FromClient }, func(a *flows.Attempt) { a.ClientRST = flows.Seen{} })
			n += sameJoinWords(t, filepath.Base(dir)+" client capture without the client's RSTs", noClientRST, sides[1], func(int) []*flows.Attempt { return sides[1] })
			noACK := withoutPackets(sides[0], func(e flows.Event) bool { return e.Type == flows.EvACK }, func(a *flows.Attempt) { a.ACK = flows.Seen{} })
			n += sameJoinWords(t, filepath.Base(dir)+" client capture without the client's ACKs", noACK, sides[1], func(int) []*flows.Attempt { return sides[1] })
		}
	}
	t.Logf("%d verdicts alike", n)
}

// withoutPackets returns copies of as whose capture lost the packets
// drop picks among their events, and clear forgets them.
func withoutPackets(as []*flows.Attempt, drop func(e flows.Event) bool, clear func(a *flows.Attempt)) []*flows.Attempt {
	out := make([]*flows.Attempt, len(as))
	for i, a := range as {
		a = a.Clone()
		clear(a)
		a.Events = slices.DeleteFunc(a.Events, drop)
		out[i] = a
	}
	return out
}

// withoutServerRSTs returns copies of as whose capture holds no RST from
// the server.
func withoutServerRSTs(as []*flows.Attempt) []*flows.Attempt {
	return withoutPackets(as, func(e flows.Event) bool { return e.Type == flows.EvRST && !e.FromClient }, func(a *flows.Attempt) { a.ServerRST = flows.Seen{} })
}

// missingSome returns copies of as whose captures missed SYN-ACKs that
// clients acknowledged on other connections to the same server.
func missingSome(as []*flows.Attempt) []*flows.Attempt {
	out := make([]*flows.Attempt, len(as))
	for i, a := range as {
		a = a.Clone()
		a.ServerHops.Missed = uint32(1 + i%3)
		if len(a.Events) > 0 {
			a.ServerHops.MissedAt = a.Events[0].Ref
		}
		out[i] = a
	}
	return out
}

// sameJoinWords judges client's attempts with their exact counterparts in
// server and with those others gives, alone, and server's alone, and
// holds each to the reference. It returns how many it judged.
func sameJoinWords(t *testing.T, set string, client, server []*flows.Attempt, others func(i int) []*flows.Attempt) int {
	t.Helper()
	exact := map[exactKey]*flows.Attempt{}
	for _, s := range server {
		exact[exactKey{s.Key, s.ISN}] = s
	}
	var pairs []pair
	for _, c := range client {
		if s := exact[exactKey{c.Key, c.ISN}]; s != nil {
			pairs = append(pairs, pair{c, s})
		}
	}
	var (
		r      Result
		js     joinScratch
		judged int
	)
	for name, v := range joinViews(client, pairs) {
		check := func(what string, i int, want Result) {
			t.Helper()
			judged++
			got := r
			got.w = nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, %s, %s %d: differs from the reference:\n%s\ngot  %q\nwant %q", set, name, what, i, differ(got, want), got.Explanation, want.Explanation)
			}
		}
		for i, c := range client {
			if s := exact[exactKey{c.Key, c.ISN}]; s != nil {
				v.judgePair(&r, &js, c, s, MatchExact)
				check("pair", i, v.refJudgePair(c, s, MatchExact))
			}
			for _, other := range others(i) {
				v.judgePair(&r, &js, c, other, MatchTiming)
				check("crossed pair", i, v.refJudgePair(c, other, MatchTiming))
			}
			for _, inHost := range []bool{true, false} {
				for _, portHidden := range []bool{false, true} {
					for _, dest := range []destination{destHere, destTranslated, destShared} {
						v.judgeClientOnly(&r, c, inHost, portHidden, dest)
						check(fmt.Sprintf("client alone (in host %v, port hidden %v, destination %d)", inHost, portHidden, dest), i, v.refJudgeClientOnly(c, inHost, portHidden, dest))
					}
				}
			}
		}
		for i, s := range server {
			for _, known := range []bool{true, false} {
				v.judgeServerOnly(&r, s, known)
				check(fmt.Sprintf("server alone (known %v)", known), i, v.refJudgeServerOnly(s, known))
			}
		}
	}
	return judged
}

// TestJoinJudgeAllocs holds judging joined attempts into a reused Result
// to the string JudgeInto makes, and a second where the server's capture
// changes the explanation.
func TestJoinJudgeAllocs(t *testing.T) {
	client, server := mix(t)
	exact := map[exactKey]*flows.Attempt{}
	for _, s := range server {
		exact[exactKey{s.a.Key, s.a.ISN}] = s.a
	}
	var pairs []pair
	for _, c := range client {
		if s := exact[exactKey{c.a.Key, c.a.ISN}]; s != nil {
			pairs = append(pairs, pair{c.a, s})
		}
	}
	v := &joinView{off: estimateOffset(pairs), cfg: joinDefaults(JoinConfig{})}
	var (
		r  Result
		js joinScratch
	)
	allocs := testing.AllocsPerRun(3, func() {
		for _, p := range pairs {
			v.judgePair(&r, &js, p.c, p.s, MatchExact)
		}
	})
	per := allocs / float64(len(pairs))
	t.Logf("%.2f allocations per pair judged", per)
	if per > 2 {
		t.Errorf("judging a pair into a reused Result: %.2f allocations, want at most 2", per)
	}
}

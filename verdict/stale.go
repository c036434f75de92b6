package verdict

import (
	"time"

	"github.com/synpath/synpath/flows"
)

// CauseStaleConnection: the server still held an earlier connection on the
// attempt's ports and answered its SYNs with that connection's ACK, not a
// SYN-ACK (flows.Attempt.StaleACKs). The client had closed or forgotten it
// without the server learning (a reboot, a RST lost), or a NAT gave the
// ports to another host. The client's stack answers such an ACK with a
// RST that ends the earlier connection; only if that RST is lost or
// ignored does the attempt fail.
const CauseStaleConnection Cause = "stale-connection"

// What one capture can prove of such an attempt:
//   - the server's ACK is the server's answer: the SYN reached it, and it
//     holds the earlier connection (proven by its own packet);
//   - at the client, whether the ACK arrived and whether the client reset
//     the earlier connection; a later ACK after that RST shows the RST did
//     not end it (lost on the way out, or not taken);
//   - at the server, whether the RST arrived; arrived, with the ACK still
//     answering later SYNs, the server did not take it.
// Anything else, a join tells.

// staleAfterReset reports whether the server answered with the earlier
// connection's ACK after the client's first RST to it: that RST did not
// end the earlier connection.
func staleAfterReset(a *flows.Attempt) bool {
	rst, ok := eventTime(a, flows.EvStaleRST)
	if !ok {
		return false
	}
	for _, e := range a.Events {
		if e.Type == flows.EvStaleACK && e.TS.After(rst) {
			return true
		}
	}
	return false
}

// staleEnded reports that the client's RST ended the earlier connection,
// as far as the capture shows: no ACK of it came after. What followed is
// judged as any attempt, not for the stale connection.
func staleEnded(a *flows.Attempt) bool {
	return a.StaleResets > 0 && !staleAfterReset(a)
}

// staleEndedWords notes, where staleEnded, the earlier connection the
// client's RST ended.
func (t *text) staleEndedWords(a *flows.Attempt) *text {
	if a.StaleACKs == 0 || !staleEnded(a) {
		return t
	}
	return t.str(" Before, the server answered ").count(a.StaleACKs, "SYN").str(" with the ACK of an earlier connection on these ports (").frame(a, flows.EvStaleACK).
		str("), which the client's RST ended (").frame(a, flows.EvStaleRST).str("): no such ACK came after it.")
}

// eventTime is the time of a's first event of type typ.
func eventTime(a *flows.Attempt, typ flows.EventType) (time.Time, bool) {
	for _, e := range a.Events {
		if e.Type == typ {
			return e.TS, true
		}
	}
	return time.Time{}, false
}

// staleAnswers says how the server answered the SYNs, after a subject:
// "answered 3 of them (f:9) not with a SYN-ACK but with the ACK of an
// earlier connection on these ports, which it still holds…"; held, when
// the handshake went on, the connection since ended.
func (t *text) staleAnswers(a *flows.Attempt, held bool) *text {
	t.str(" answered ")
	switch {
	case a.StaleACKs >= a.SYN.Count && a.SYN.Count == 1:
		t.str("it")
	case a.StaleACKs >= a.SYN.Count:
		t.str("them")
	case a.StaleACKs == 1:
		t.str("one of them")
	default:
		t.num(uint64(a.StaleACKs)).str(" of them")
	}
	t.str(" (").frame(a, flows.EvStaleACK).str(") not with a SYN-ACK but with the ACK of an earlier connection on these ports, which it still ")
	if held {
		t.str("held")
	} else {
		t.str("holds")
	}
	switch a.Earlier {
	case flows.EarlierServerClosed:
		// The capture shows the server's FIN first: the server is the
		// side that waits in TIME_WAIT, and a SYN behind what it last
		// got draws that state's ACK.
		return t.str(" in TIME_WAIT: this capture shows the server closing that connection first, and a new SYN numbered behind what the client sent on it draws TIME_WAIT's ACK (no timestamps to tell them apart, or a client reusing the ports within a second of a large upload)")
	case flows.EarlierOpen:
		return t.str(" open: this capture shows that connection on these ports never closed nor reset, so the client dropped it without the server learning (a reboot, a lost RST or FIN), or a NAT gave these ports to another host")
	}
	return t.str(": open, the client having closed or forgotten it without the server learning it (a reboot, a lost RST), or in TIME_WAIT after the server closed it; or a NAT gave these ports to another host")
}

// synsOver writes "1 SYN" or "4 SYNs over 6.2 s".
func (t *text) synsOver(a *flows.Attempt) *text {
	if a.SYN.Count == 1 {
		return t.str("1 SYN")
	}
	return t.count(a.SYN.Count, "SYN").str(" over ").dur(sub(a.SYN.Last, a.SYN.First))
}

// judgeStaleAtClient judges, from the client's side, SYNs the server
// answered only with an earlier connection's ACK.
func judgeStaleAtClient(a *flows.Attempt, r *Result, cfg Config, waited time.Duration) {
	r.Cause = CauseStaleConnection
	t := r.judged(Timeout, Unknown, "").synsOver(a).str("; the server").staleAnswers(a, false)
	if waited < cfg.SYNTimeout {
		r.Verdict = Incomplete
		t.str(". The capture shows the client waiting only ").dur(waited).str(" since its first SYN (less than --syn-timeout ").dur(cfg.SYNTimeout).
			str("), so whether its RST ended that connection and a SYN-ACK followed cannot be told.")
		r.unknownAmong(OutboundPath, Server, Client)
		return
	}
	if a.StaleResets == 0 && !a.SYN.Last.After(firstStale(a)) {
		judgeStaleUnheeded(a, r, t, cfg)
		return
	}
	if a.StaleResets == 0 {
		// The ACK reached the capture and the stack never answered it
		// with the RST it must: something on the client host dropped it.
		r.Where, r.WhereSure = Client, Proven
		t.str(". The client never answered with the RST its stack owes such an ACK, which would have ended that connection, and kept resending its SYN: the client host dropped the ACKs (a firewall on the client) (it waited at least ").
			dur(waited).str(", ETIMEDOUT).")
		return
	}
	// The ACK came again after the client's RST (staleAfterReset; one
	// that ended the connection is judged as any attempt, staleEnded).
	t.str(". The client reset that connection (").frame(a, flows.EvStaleRST).str(", ").count(a.StaleResets, "RST").
		str(" in all), as its stack must, yet the server answered its next SYN with the same ACK: the RST did not end it. Either it never reached the server (a stateful firewall or NAT on the way dropping it as invalid), or the server did not take it (a connection in TIME_WAIT with net.ipv4.tcp_rfc1337=1 ignores RSTs). The client waited at least ").
		dur(waited).str(" (ETIMEDOUT).")
	r.unknownAmong(OutboundPath, Server)
	r.Settle = "a capture on the server would tell whether the RSTs reached it"
}

// firstStale is when the first of a's StaleACKs came (its first SYN's
// time if its event was not kept).
func firstStale(a *flows.Attempt) time.Time {
	for _, e := range a.Events {
		if e.Type == flows.EvStaleACK {
			return e.TS
		}
	}
	return a.SYN.First
}

// judgeStaleUnheeded judges SYNs answered by an ACK the client neither
// reset nor resent its SYN after. A client still connecting does one or
// the other: its stack resets an ACK that does not acknowledge its SYN,
// and one whose firewall dropped the ACK is still waiting, and resends
// its SYN (after 3 s at most). A client that gave up on the connection
// has no socket for the ACK, and its stack resets it all the same. One
// that did neither, over that long, had a socket the ACK was acceptable
// to: its handshake completed with a SYN-ACK the capture does not hold,
// and the ACK acknowledged its request (a capture that drops packets lost
// them in between). Sooner, the capture cannot tell.
func judgeStaleUnheeded(a *flows.Attempt, r *Result, t *text, cfg Config) {
	quiet := sub(a.End, firstStale(a))
	if quiet >= max(slowestSYNResend, cfg.SYNTimeout) {
		r.Cause = ""
		r.judged(Established, None, Inferred).synsOver(a).str(", then the server's ACK (").frame(a, flows.EvStaleACK).
			str("), no SYN-ACK, and nothing from the client in answer: a client still connecting resets an ACK that does not acknowledge its SYN or, its firewall dropping it, resends its SYN, and this one did neither in the ").
			dur(quiet).str(" after. Its handshake completed with a SYN-ACK this capture does not hold, and the ACK acknowledged what followed (a capture that drops packets lost them in between).")
		return
	}
	r.Verdict, r.Cause = Incomplete, ""
	t.str(". But the client neither reset the ACK nor resent its SYN in the ").dur(quiet).
		str(" the capture shows after it, as a client still connecting does within seconds: it may have got a SYN-ACK this capture does not hold, and the ACK be its own connection's.")
	r.unknownAmong(Client, OutboundPath, Server)
}

// judgeStaleAtServer judges, at the server, SYNs it answered only with an
// earlier connection's ACK.
func judgeStaleAtServer(a *flows.Attempt, r *Result, cfg Config) {
	r.Cause = CauseStaleConnection
	t := r.judged(Timeout, Unknown, "").str("The server received ").synsOver(a).str(" and").staleAnswers(a, false)
	waited := sub(a.End, a.SYN.First)
	switch {
	case a.StaleResets > 0 && staleAfterReset(a):
		r.Where, r.WhereSure = Server, Proven
		t.str(". The client's RST ending that connection arrived (").frame(a, flows.EvStaleRST).
			str("), and the server still answered the next SYN with its ACK: it did not take the RST (a connection in TIME_WAIT with net.ipv4.tcp_rfc1337=1 ignores RSTs).")
	case a.StaleResets > 0:
		// The RST ended the earlier connection; the SYNs after it went
		// unanswered for a reason of their own.
		r.Cause = ""
		r.Where, r.WhereSure = Server, Proven
		t.str(". The client's RST ending that connection arrived (").frame(a, flows.EvStaleRST).
			str("), and the server never answered its SYNs after it: they were dropped on the server host (a firewall after the capture point, a full SYN queue).")
	case waited < cfg.SYNTimeout:
		r.Verdict = Incomplete
		t.str("; the capture ").endWords(a, a.SYN.Last, "the last SYN").str(", before the client's RST could be ruled out.")
		r.unknownAmong(ReturnPath, OutboundPath, Client)
	default:
		t.str(". The client's stack answers such an ACK with a RST that ends the earlier connection, and none arrived while the client kept resending its SYN for ").dur(waited).
			str(": the ACKs were lost on the way back, or the client's RSTs on the way out (a stateful firewall or NAT dropping them as invalid), or the client host dropped the ACKs.")
		r.unknownAmong(ReturnPath, OutboundPath, Client)
		r.Settle = "a capture on the client would tell which"
	}
}

// judgeBothStale judges, with both captures, SYNs the server answered only
// with an earlier connection's ACK: which of the ACKs and the client's
// RSTs got through tells where it died.
func judgeBothStale(c, s *flows.Attempt, r *Result, v *joinView, waited time.Duration) {
	r.Cause = CauseStaleConnection
	sure := v.sure()
	t := r.judged(Timeout, Unknown, "").str("The server received ").synsOver(s).str(" and").staleAnswers(s, false)
	ack, _ := eventTime(s, flows.EvStaleACK)
	rst, _ := eventTime(c, flows.EvStaleRST)
	switch {
	case c.StaleACKs == 0 && !clientInboundUnseen(c) && !c.FlagsOnly && v.toClient(ack, c.SYN.First):
		r.Where, r.WhereSure = ReturnPath, sure
		t.str(". None of those ACKs reached the client: they were lost on the way back, and the client, which would have reset that connection, kept resending its SYN").waited(waited).str(".")
	case c.StaleACKs > 0 && c.StaleResets == 0:
		r.Where, r.WhereSure = Client, Proven
		t.str(". The ACKs reached the client, which never answered with the RST its stack owes them, which would have ended that connection: the client host dropped them (a firewall on the client)").waited(waited).str(".")
	case s.StaleResets > 0 && staleAfterReset(s):
		r.Where, r.WhereSure = Server, v.own()
		t.str(". The client's RST ending that connection reached the server (").frame(s, flows.EvStaleRST).
			str("), and the server still answered the next SYN with its ACK: it did not take the RST (a connection in TIME_WAIT with net.ipv4.tcp_rfc1337=1 ignores RSTs)").waited(waited).str(".")
	case s.StaleResets > 0:
		// The RST ended the earlier connection; the SYNs after it the
		// server dropped for a reason of their own.
		r.Cause = ""
		r.Where, r.WhereSure = Server, v.own()
		t.str(". The client's RST ending that connection reached the server (").frame(s, flows.EvStaleRST).
			str("), and the server never answered the SYNs after it: they were dropped on the server host (a firewall after the capture point, a full SYN queue)").waited(waited).str(".")
	case c.StaleResets > 0 && s.StaleResets == 0 && !s.FlagsOnly && ran(v.server, s.SYN.First, rst.Add(v.off.Offset+v.slack())):
		// The server capture ran from the SYN's arrival until the RST
		// would have reached it.
		r.Where, r.WhereSure = OutboundPath, sure
		t.str(". The ACKs reached the client, whose stack reset that connection (").count(c.StaleResets, "RST").
			str("), as it must, but none of the RSTs reached the server: they were lost on the way out (a stateful firewall or NAT dropping them as invalid), so the server kept the earlier connection and never answered with a SYN-ACK").waited(waited).str(".")
	default:
		t.str(". The captures cannot tell whether the client's RSTs reached the server").waited(waited).str(".")
		r.unknownAmong(OutboundPath, Server)
	}
}

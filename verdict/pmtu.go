package verdict

import (
	"github.com/synpath/synpath/flows"
)

// Cause names why an attempt failed, where the packets show it (SPEC
// cause).
type Cause string

// CausePMTU: full-size segments vanish on a link with a smaller MTU whose
// ICMP "fragmentation needed" / "packet too big" never reaches the sender.
const CausePMTU Cause = "pmtu-black-hole"

// pmtuFloor: segments at or below this size cross any IPv4 or IPv6 path
// (1280-byte IPv6 minimum MTU less headers); a black hole eats those above.
const pmtuFloor = 1280 - 60

// pmtuBlackHole judges server data the client never acknowledged. From the
// client: the reply arrived with a hole before it (the full-size segments
// vanished, the small tail came through). From the server: full-size
// segments sent again and again, never acknowledged, while the client's
// ACKs keep arriving. It writes the explanation in t and returns it, or ok
// false.
func pmtuBlackHole(t *text, a *flows.Attempt, v Vantage) (why []byte, ok bool) {
	if a.ServerBytesAcked > 0 || a.ClientData.Count == 0 {
		return nil, false
	}
	mark := len(t.b)
	if v == VantageServer {
		if a.ServerData.Count == 0 || a.ServerResent == 0 || a.ServerMaxSeg <= pmtuFloor || a.ClientDupACKs == 0 {
			return nil, false
		}
		t.str("the server sent ").num(a.ServerBytes).str(" bytes of reply in segments of up to ").num(uint64(a.ServerMaxSeg)).
			str(" bytes and sent them again ").times(a.ServerResent).str(", but the client never acknowledged any, while its ACKs (").
			num(uint64(a.ClientDupACKs)).str(") kept arriving: full-size segments vanish on the way back, ").blackHole("server", a)
		return t.since(mark), true
	}
	if a.ServerData.Count == 0 {
		// No reply byte arrived, yet the server's later packets (an ACK of
		// the request, its FIN) carry sequence numbers past them, and its
		// small packets keep arriving: the reply's segments vanished.
		if a.ServerSent <= pmtuFloor || !a.ServerAckedData {
			return nil, false
		}
		t.str("the server's packets show it sent ").num(uint64(a.ServerSent)).
			str(" bytes of reply, none of which arrived, while its small packets (ACKs) did: full-size segments vanish on the way back, ").
			blackHole("server", a)
		return t.since(mark), true
	}
	if a.ServerSeqLo == 0 || a.ServerMaxSeg > pmtuFloor {
		return nil, false
	}
	t.str("of the server's reply only ").num(a.ServerBytes).str(" bytes arrived, in segments of at most ").num(uint64(a.ServerMaxSeg)).
		str(" bytes, after a hole of ").num(uint64(a.ServerSeqLo)).
		str(" bytes that never came, and the client never acknowledged any: the full-size segments vanished on the way back, ").
		blackHole("server", a)
	return t.since(mark), true
}

// blackHole names a PMTU black hole whose ICMP never reaches sender.
func (t *text) blackHole(sender string, a *flows.Attempt) *text {
	return t.str("a PMTU black hole (a link with a smaller MTU whose ICMP \"fragmentation needed\" never reaches the ").str(sender).
		str("; MSS announced: client ").mss(a.SYNOpts.MSS).str(", server ").mss(a.ServerMSS).str(")")
}

func (t *text) mss(mss uint16) *text {
	if mss == 0 {
		return t.str("none")
	}
	return t.num(uint64(mss))
}

// pmtuUpload is pmtuBlackHole the other way: the client's full-size
// segments vanish on the way out (an upload, a large request). From the
// client: full-size segments sent again and again, never acknowledged,
// while the server's ACKs keep arriving. From the server: the client's
// data arrives with a hole before it, in small segments, and is never
// acknowledged past the hole.
func pmtuUpload(t *text, a *flows.Attempt, v Vantage) (why []byte, ok bool) {
	if a.ClientData.Count == 0 || a.ServerAnswered() || !seqBefore(a.ClientBytesAcked, a.ClientSeqHi) {
		return nil, false
	}
	mark := len(t.b)
	if v == VantageServer {
		if a.ClientSeqLo == 0 || a.ClientMaxSeg > pmtuFloor || a.ClientBytesAcked > 0 {
			return nil, false
		}
		t.str("of the client's ").num(a.ClientBytes).str(" bytes only small segments arrived (at most ").num(uint64(a.ClientMaxSeg)).
			str(" bytes), after a hole of ").num(uint64(a.ClientSeqLo)).
			str(" bytes that never came: the client's full-size segments vanish on the way out, ").blackHole("client", a)
		return t.since(mark), true
	}
	if a.ClientResent == 0 || a.ClientMaxSeg <= pmtuFloor || a.ServerDupACKs == 0 {
		return nil, false
	}
	t.str("the client sent ").num(a.ClientBytes).str(" bytes in segments of up to ").num(uint64(a.ClientMaxSeg)).
		str(" bytes and sent them again ").times(a.ClientResent).str(", but the server acknowledged only ").num(uint64(a.ClientBytesAcked)).
		str(", while its ACKs (").num(uint64(a.ServerDupACKs)).str(") kept arriving: full-size segments vanish on the way out, ").
		blackHole("client", a)
	return t.since(mark), true
}

// seqBefore reports whether a comes before b, modulo 2^32.
func seqBefore(a, b uint32) bool { return int32(a-b) < 0 }

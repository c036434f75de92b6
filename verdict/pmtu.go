package verdict

import (
	"fmt"

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
// ACKs keep arriving. It returns the explanation, or ok false.
func pmtuBlackHole(a *flows.Attempt, v Vantage) (why string, ok bool) {
	if a.ServerBytesAcked > 0 || a.ClientData.Count == 0 {
		return "", false
	}
	mss := fmt.Sprintf("MSS announced: client %s, server %s", mssWords(a.SYNOpts.MSS), mssWords(a.ServerMSS))
	if v == VantageServer {
		if a.ServerData.Count == 0 || a.ServerResent == 0 || a.ServerMaxSeg <= pmtuFloor || a.ClientDupACKs == 0 {
			return "", false
		}
		return fmt.Sprintf("the server sent %d bytes of reply in segments of up to %d bytes and sent them again %s, but the client never acknowledged any, while its ACKs (%d) kept arriving: full-size segments vanish on the way back, a PMTU black hole (a link with a smaller MTU whose ICMP \"fragmentation needed\" never reaches the server; %s)",
			a.ServerBytes, a.ServerMaxSeg, times(a.ServerResent), a.ClientDupACKs, mss), true
	}
	if a.ServerData.Count == 0 {
		// No reply byte arrived, yet the server's later packets (an ACK of
		// the request, its FIN) carry sequence numbers past them, and its
		// small packets keep arriving: the reply's segments vanished.
		if a.ServerSent <= pmtuFloor || !a.ServerAckedData {
			return "", false
		}
		return fmt.Sprintf("the server's packets show it sent %d bytes of reply, none of which arrived, while its small packets (ACKs) did: full-size segments vanish on the way back, a PMTU black hole (a link with a smaller MTU whose ICMP \"fragmentation needed\" never reaches the server; %s)",
			a.ServerSent, mss), true
	}
	if a.ServerSeqLo == 0 || a.ServerMaxSeg > pmtuFloor {
		return "", false
	}
	return fmt.Sprintf("of the server's reply only %d bytes arrived, in segments of at most %d bytes, after a hole of %d bytes that never came, and the client never acknowledged any: the full-size segments vanished on the way back, a PMTU black hole (a link with a smaller MTU whose ICMP \"fragmentation needed\" never reaches the server; %s)",
		a.ServerBytes, a.ServerMaxSeg, a.ServerSeqLo, mss), true
}

func mssWords(mss uint16) string {
	if mss == 0 {
		return "none"
	}
	return fmt.Sprint(mss)
}

// pmtuUpload is pmtuBlackHole the other way: the client's full-size
// segments vanish on the way out (an upload, a large request). From the
// client: full-size segments sent again and again, never acknowledged,
// while the server's ACKs keep arriving. From the server: the client's
// data arrives with a hole before it, in small segments, and is never
// acknowledged past the hole.
func pmtuUpload(a *flows.Attempt, v Vantage) (why string, ok bool) {
	if a.ClientData.Count == 0 || a.ServerAnswered() || !seqBefore(a.ClientBytesAcked, a.ClientSeqHi) {
		return "", false
	}
	mss := fmt.Sprintf("MSS announced: client %s, server %s", mssWords(a.SYNOpts.MSS), mssWords(a.ServerMSS))
	if v == VantageServer {
		if a.ClientSeqLo == 0 || a.ClientMaxSeg > pmtuFloor || a.ClientBytesAcked > 0 {
			return "", false
		}
		return fmt.Sprintf("of the client's %d bytes only small segments arrived (at most %d bytes), after a hole of %d bytes that never came: the client's full-size segments vanish on the way out, a PMTU black hole (a link with a smaller MTU whose ICMP \"fragmentation needed\" never reaches the client; %s)",
			a.ClientBytes, a.ClientMaxSeg, a.ClientSeqLo, mss), true
	}
	if a.ClientResent == 0 || a.ClientMaxSeg <= pmtuFloor || a.ServerDupACKs == 0 {
		return "", false
	}
	return fmt.Sprintf("the client sent %d bytes in segments of up to %d bytes and sent them again %s, but the server acknowledged only %d, while its ACKs (%d) kept arriving: full-size segments vanish on the way out, a PMTU black hole (a link with a smaller MTU whose ICMP \"fragmentation needed\" never reaches the client; %s)",
		a.ClientBytes, a.ClientMaxSeg, times(a.ClientResent), a.ClientBytesAcked, a.ServerDupACKs, mss), true
}

// seqBefore reports whether a comes before b, modulo 2^32.
func seqBefore(a, b uint32) bool { return int32(a-b) < 0 }

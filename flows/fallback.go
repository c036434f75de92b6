package flows

import (
	"net/netip"
	"time"

	"github.com/synpath/synpath/capture"
)

// Fallback is another attempt from the capturing host to the same server
// port that began while this one's SYN was unanswered and got its answer
// (SYN-ACK) first: a client racing addresses or families (Happy Eyeballs,
// RFC 8305), or retrying elsewhere after a short connect timeout, moves
// on to it and abandons this one. The tracker only pairs them; the judge
// decides what the pairing shows (it also needs this attempt's own SYNs
// to have stopped).
type Fallback struct {
	// Server is the other attempt's server, FirstSYN its first SYN,
	// SYNACK its first answer.
	Server           netip.AddrPort
	FirstSYN, SYNACK time.Time
}

// fallbackState is a Fallback with stamps for times.
type fallbackState struct {
	server      netip.AddrPort
	syn, synack stamp
}

// Pairing bounds: the second attempt's first SYN follows the first's by at
// least minFallbackGap (RFC 8305's floor for the connection attempt
// delay is 10 ms) and at most maxFallbackGap (its ceiling, 2 s).
const (
	minFallbackGap = 10 * time.Millisecond
	maxFallbackGap = 2 * time.Second
)

// recentSYN is the capturing host's latest two attempts to one server
// port, by their first SYNs; recentSYNs holds them for ports hashed to a
// small array (a port scan costs nothing; a collision only loses a pair).
type recentSYN struct {
	port       uint16
	prev, last synRef
}

type synRef struct {
	key Key
	isn uint32
	ns  int64
}

const recentSYNPorts = 256

// noteSYN records the first SYN of a, just started, if the capturing
// host sent it (no hop lost): an answer to a may show that the client's
// attempt before it fell back to a.
func (t *Tracker) noteSYN(a *attemptState, p *capture.Packet) {
	if capture.Hops(p.TTL) != 0 || t.pktStamp == oddPacket {
		return
	}
	port := p.Dst.Port()
	r := &t.recentSYNs[port%recentSYNPorts]
	if r.port != port {
		*r = recentSYN{port: port}
	}
	r.prev, r.last = r.last, synRef{key: a.Key, isn: a.ISN, ns: t.pktNS}
}

// noteAnswer takes the first SYN-ACK to a: if a is the capturing host's
// latest attempt to its port and began shortly after another one still
// unanswered, that one is marked as fallen back to a.
func (t *Tracker) noteAnswer(a *attemptState) {
	port := a.Key.Server.Port()
	r := &t.recentSYNs[port%recentSYNPorts]
	if r.port != port || r.last.key != a.Key || r.last.isn != a.ISN || r.prev.ns == 0 || t.pktStamp == oddPacket || a.SYN.First <= 0 {
		return
	}
	if gap := time.Duration(r.last.ns - r.prev.ns); gap < minFallbackGap || gap > maxFallbackGap {
		return
	}
	i := t.find(r.prev.key)
	if i < 0 || t.conns.slots[i].att == noState {
		return // gone, or packed: not within the last seconds
	}
	old := t.state(t.conns.slots[i].att)
	if old.ISN != r.prev.isn || old.emitted || old.SYNACK.Count > 0 || old.ServerRST.Count > 0 || old.ICMP.Count > 0 || old.ACK.Count > 0 {
		return
	}
	// Which connection it moved on to is known only where the two are
	// tied: the same server address (a retry, a browser's backup
	// connection), the other address family (Happy Eyeballs interleaves
	// the families), or answers to one lookup. A busy client's next
	// connection to another address of the same family on the same port
	// is as likely unrelated.
	oa, na := old.Key.Server.Addr(), a.Key.Server.Addr()
	sameName := old.DNS != nil && a.DNS != nil && old.DNS.Name == a.DNS.Name
	if oa != na && oa.Is4() == na.Is4() && !sameName {
		return
	}
	old.fallback = fallbackState{server: a.Key.Server, syn: a.SYN.First, synack: t.pktStamp}
}

package flows

import (
	"net/netip"

	"github.com/synpath/synpath/capture"
)

// Splitter tells which end's capture each packet of a file came from when
// the file holds both (a client's and a server's capture merged with
// mergecap): a packet is seen undecremented where it was sent and with
// hops lost where it arrived; or, where the captures record which way
// each packet crossed their host (tcpdump -i any: capture.Packet.Dir), as
// sent by its sender's and as received by its receiver's, whatever the
// TTLs (both ends on one link). Reading such a file once per end, each
// time keeping that end's packets, gives the two captures back for the
// join.
type Splitter struct {
	// conns maps a connection, either way round, to what is known of it.
	conns map[[2]netip.AddrPort]splitConn
}

type splitConn struct {
	client netip.AddrPort // who sent the SYN
	// serverSaw: the server's capture holds a packet of the client's.
	serverSaw bool
}

// splitterLimit bounds the connections remembered; past it the map starts
// afresh (connections then in progress are kept by both ends' reads).
const splitterLimit = 1 << 20

// NewSplitter returns an empty Splitter.
func NewSplitter() *Splitter {
	return &Splitter{conns: make(map[[2]netip.AddrPort]splitConn)}
}

// Sides says whether p belongs to the client's capture, the server's, or
// (a packet of a connection whose handshake was not seen) both.
func (s *Splitter) Sides(p *capture.Packet) (atClient, atServer bool) {
	if p.Kind == capture.KindICMP || p.Kind == capture.KindDNS {
		// Errors are sent to the client, and the lookup before a
		// connect is the client's.
		return true, false
	}
	k := [2]netip.AddrPort{p.Src, p.Dst}
	if p.Dst.Addr().Less(p.Src.Addr()) || (p.Dst.Addr() == p.Src.Addr() && p.Dst.Port() < p.Src.Port()) {
		k = [2]netip.AddrPort{p.Dst, p.Src}
	}
	c, known := s.conns[k]
	switch {
	case p.Flags.BareSYN():
		if !known {
			c = splitConn{client: p.Src}
		}
	case p.Flags.Has(capture.FlagSYN | capture.FlagACK):
		if !known {
			c = splitConn{client: p.Dst}
		}
	case !known:
		return true, true
	}
	fromClient := p.Src == c.client
	sentHere := capture.Hops(p.TTL) == 0
	directed := p.Dir != capture.DirUnknown
	if directed {
		sentHere = p.Dir == capture.DirOut
	}
	atClient = fromClient == sentHere
	switch {
	case !atClient && fromClient:
		c.serverSaw = true
	case !atClient && !c.serverSaw && !directed:
		// An undecremented packet from the server's address, yet the
		// server's capture holds nothing of the client: the server never
		// got the SYN, so this was forged near the client (a firewall's
		// RST) and arrived with no hop lost.
		atClient = true
	}
	s.remember(k, c)
	return atClient, !atClient
}

func (s *Splitter) remember(k [2]netip.AddrPort, c splitConn) {
	if old, ok := s.conns[k]; ok && old == c {
		return
	}
	if len(s.conns) >= splitterLimit {
		clear(s.conns)
	}
	s.conns[k] = c
}

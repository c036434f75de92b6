// Package pkttest builds capture.Packet sequences for tests of the flows
// and verdict stages, without capture files.
package pkttest

import (
	"net/netip"
	"time"

	"github.com/synpath/synpath/capture"
)

// Conn is one connection as a capture at one vantage sees it. Each method
// returns the next packet, numbered and timed after the previous one.
type Conn struct {
	Client, Server netip.AddrPort
	ISN, ServerISN uint32
	// ClientTTL and ServerTTL are the TTLs packets of each end arrive with
	// at the capture point.
	ClientTTL, ServerTTL uint8
	TSVal                uint32 // the SYN's timestamp option value
	// Tunnel is the virtual network the connection's packets are carried
	// in (zero: none), as capture finds it in VXLAN, Geneve or keyed GRE.
	Tunnel     capture.Tunnel
	File       string
	T          time.Time
	N          uint64
	clientSent uint32
	serverSent uint32
}

// Base is an arbitrary fixed start time for tests.
var Base = time.Date(2026, 11, 20, 14, 2, 31, 125001000, time.UTC)

// NewConn returns a connection seen from the client side: client packets
// with TTL 64, server packets one hop away.
func NewConn(client, server string, isn uint32) *Conn {
	return &Conn{
		Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server),
		ISN: isn, ServerISN: isn ^ 0x5a5a5a5a,
		ClientTTL: 64, ServerTTL: 63, File: "client.pcap", T: Base, TSVal: isn / 3,
	}
}

// AtServer returns a copy seen from the server side.
func (c *Conn) AtServer() *Conn {
	s := *c
	s.ClientTTL, s.ServerTTL, s.File = 63, 64, "server.pcap"
	return &s
}

func (c *Conn) next(dt time.Duration, fromClient bool, flags capture.TCPFlags) capture.Packet {
	c.T = c.T.Add(dt)
	c.N++
	p := capture.Packet{Ref: capture.Ref{File: c.File, N: c.N, TS: c.T}, Kind: capture.KindTCP, Flags: flags, Window: 64240, Tunnel: c.Tunnel}
	if fromClient {
		p.Src, p.Dst, p.TTL = c.Client, c.Server, c.ClientTTL
		p.Seq = c.ISN + 1 + c.clientSent
		p.Ack = c.ServerISN + 1 + c.serverSent
	} else {
		p.Src, p.Dst, p.TTL = c.Server, c.Client, c.ServerTTL
		p.Seq = c.ServerISN + 1 + c.serverSent
		p.Ack = c.ISN + 1 + c.clientSent
	}
	return p
}

// SYN is the client's SYN (or a retransmission of it).
func (c *Conn) SYN(dt time.Duration) capture.Packet {
	p := c.next(dt, true, capture.FlagSYN)
	p.Seq, p.Ack = c.ISN, 0
	p.Opts = capture.TCPOptions{MSS: 1460, WScale: 7, SACKPerm: true, HasTS: true, TSVal: c.TSVal}
	return p
}

// SYNACK is the server's SYN-ACK.
func (c *Conn) SYNACK(dt time.Duration) capture.Packet {
	p := c.next(dt, false, capture.FlagSYN|capture.FlagACK)
	p.Seq, p.Ack = c.ServerISN, c.ISN+1
	return p
}

// ACK is a bare ACK from the client.
func (c *Conn) ACK(dt time.Duration) capture.Packet {
	return c.next(dt, true, capture.FlagACK)
}

// Data is a segment of n payload bytes from one side.
func (c *Conn) Data(dt time.Duration, fromClient bool, n uint32) capture.Packet {
	p := c.next(dt, fromClient, capture.FlagACK|capture.FlagPSH)
	p.PayloadLen = n
	if fromClient {
		c.clientSent += n
	} else {
		c.serverSent += n
	}
	return p
}

// ServerACK is a bare ACK from the server.
func (c *Conn) ServerACK(dt time.Duration) capture.Packet {
	return c.next(dt, false, capture.FlagACK)
}

// FIN is a FIN from one side.
func (c *Conn) FIN(dt time.Duration, fromClient bool) capture.Packet {
	p := c.next(dt, fromClient, capture.FlagFIN|capture.FlagACK)
	if fromClient {
		c.clientSent++
	} else {
		c.serverSent++
	}
	return p
}

// RefusingRST is a RST answering the SYN, as a closed port's kernel (or a
// firewall's REJECT) sends it, arriving with ttl.
func (c *Conn) RefusingRST(dt time.Duration, ttl uint8) capture.Packet {
	p := c.next(dt, false, capture.FlagRST|capture.FlagACK)
	p.Seq, p.Ack, p.TTL = 0, c.ISN+1, ttl
	return p
}

// RST is a RST from one side of an established connection.
func (c *Conn) RST(dt time.Duration, fromClient bool) capture.Packet {
	return c.next(dt, fromClient, capture.FlagRST|capture.FlagACK)
}

// ResetSYNACKs is rounds of the client's SYN, sent each second, answered
// by the server and reset by the client: a client whose stack does not
// take the SYN-ACKs (their source not translated back) yet goes on
// resending its SYN.
func (c *Conn) ResetSYNACKs(rounds int) []capture.Packet {
	var ps []capture.Packet
	for i := range rounds {
		dt := time.Second
		if i == 0 {
			dt = 0
		}
		ps = append(ps, c.SYN(dt), c.SYNACK(time.Millisecond), c.RST(time.Millisecond, true))
	}
	return ps
}

// StaleACK is the server answering the SYN with the ACK of an earlier
// connection it holds on these ports, acknowledging ack.
func (c *Conn) StaleACK(dt time.Duration, ack uint32) capture.Packet {
	p := c.next(dt, false, capture.FlagACK)
	p.Seq, p.Ack = c.ServerISN^0xffff, ack
	return p
}

// StaleRST is the client's stack answering such an ACK: a RST whose
// sequence number is the ACK's acknowledgment number, no ACK.
func (c *Conn) StaleRST(dt time.Duration, ack uint32) capture.Packet {
	p := c.next(dt, true, capture.FlagRST)
	p.Seq, p.Ack = ack, 0
	return p
}

// AbortRST is the client kernel's RST for a SYN-ACK no socket waits for.
func (c *Conn) AbortRST(dt time.Duration) capture.Packet {
	p := c.next(dt, true, capture.FlagRST)
	p.Seq, p.Ack = c.ISN+1, 0
	return p
}

// ICMP is an ICMP error from router, quoting the client's SYN.
func (c *Conn) ICMP(dt time.Duration, router string, v6 bool, typ, code uint8) capture.Packet {
	p := c.next(dt, true, capture.FlagSYN)
	p.Kind = capture.KindICMP
	p.Seq, p.Ack = c.ISN, 0
	p.TTL = 64
	p.ICMP = capture.ICMPInfo{From: netip.MustParseAddr(router), V6: v6, Type: typ, Code: code}
	return p
}

// Idle advances the clock without a packet: the capture goes on.
func (c *Conn) Idle(dt time.Duration) capture.Packet {
	c.T = c.T.Add(dt)
	c.N++
	// An unrelated packet, so the capture visibly lasts until T.
	return capture.Packet{Ref: capture.Ref{File: c.File, N: c.N, TS: c.T}, Kind: capture.KindTCP,
		Src: netip.MustParseAddrPort("192.0.2.250:9"), Dst: netip.MustParseAddrPort("192.0.2.251:9"), Flags: capture.FlagACK}
}

// ClientHello is the client's TLS ClientHello, its SNI as capture reads
// it (empty: the name was not in the segment, so Partial).
func (c *Conn) ClientHello(dt time.Duration, sni string) capture.Packet {
	p := c.Data(dt, true, 517)
	p.App = capture.AppInfo{Kind: capture.AppTLSClientHello, Name: capture.NameOf(sni), Partial: sni == ""}
	return p
}

// HTTPRequest is the client's HTTP/1.1 request with a Host header.
func (c *Conn) HTTPRequest(dt time.Duration, host string) capture.Packet {
	p := c.Data(dt, true, uint32(40+len(host)))
	p.App = capture.AppInfo{Kind: capture.AppHTTPRequest, Name: capture.NameOf(host)}
	return p
}

// HTTPResponse is the server's HTTP/1.1 response head with a status code.
func (c *Conn) HTTPResponse(dt time.Duration, status uint16) capture.Packet {
	p := c.Data(dt, false, 120)
	p.App = capture.AppInfo{Kind: capture.AppHTTPResponse, Status: status}
	return p
}

// Query is a DNS query from the client's address (source port 50000+id)
// to resolver on port 53, on the connection's clock: the lookup before
// the connect.
func (c *Conn) Query(dt time.Duration, resolver string, id uint16, name string, qtype uint16) capture.Packet {
	c.T = c.T.Add(dt)
	c.N++
	return capture.Packet{Ref: capture.Ref{File: c.File, N: c.N, TS: c.T}, Kind: capture.KindDNS, Tunnel: c.Tunnel,
		Src: netip.AddrPortFrom(c.Client.Addr(), 50000+id), Dst: netip.AddrPortFrom(netip.MustParseAddr(resolver), 53),
		TTL: c.ClientTTL, DNS: capture.DNSInfo{ID: id, Name: capture.NameOf(name), QType: qtype, Questions: 1}}
}

// Answer is the resolver's response to query q: rcode, and for each
// address an A or AAAA record with ttl.
func (c *Conn) Answer(dt time.Duration, q capture.Packet, rcode uint8, ttl uint32, addrs ...string) capture.Packet {
	c.T = c.T.Add(dt)
	c.N++
	p := q
	p.Ref = capture.Ref{File: c.File, N: c.N, TS: c.T}
	p.Src, p.Dst, p.TTL = q.Dst, q.Src, c.ServerTTL
	p.DNS.Response, p.DNS.RCode = true, rcode
	for _, a := range addrs {
		if int(p.DNS.NAddrs) == len(p.DNS.Addrs) {
			p.DNS.MoreAddrs = true
			break
		}
		p.DNS.Addrs[p.DNS.NAddrs] = netip.MustParseAddr(a)
		p.DNS.NAddrs++
	}
	p.DNS.Answers = uint16(len(addrs))
	if len(addrs) > 0 {
		p.DNS.TTL = ttl
	}
	return p
}

package capture

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// want is the Packet decode should make of s.
func want(s seg) Packet {
	p := Packet{Kind: KindTCP, Src: s.src, Dst: s.dst, Flags: s.flags, Seq: s.seq, Ack: s.ack,
		Window: s.win, PayloadLen: uint32(s.payload), TTL: s.ttl, Opts: TCPOptions{WScale: -1}}
	if s.src.Addr().Is4() {
		p.IPID = s.id
	}
	if s.flags.Has(FlagSYN) {
		p.Opts = synOpts
	}
	// The segments are built with their checksums computed: a handshake
	// segment's is checked, and right.
	p.GoodSum = s.flags&(FlagSYN|FlagRST) != 0
	return p
}

// with returns p changed by f, to write table rows compactly.
func with(p Packet, f func(*Packet)) Packet { f(&p); return p }

// ext builds an IPv6 extension header of n 8-byte units whose next header is nh.
func ext(nh uint8, n int) []byte {
	b := make([]byte, n*8)
	b[0], b[1] = nh, byte(n-1)
	return b
}

func TestDecode(t *testing.T) {
	s4, s6 := syn(cli4, srv4), syn(cli6, srv6)
	data4 := handshake(cli4, srv4)[4]
	rst := seg{src: srv4, dst: cli4, flags: FlagRST | FlagACK, ack: 1001, ttl: 64}

	frag := func(ip []byte, off uint16) []byte {
		ip = bytes.Clone(ip)
		binary.BigEndian.PutUint16(ip[6:8], off)
		return ip
	}
	// IPv4 with 4 bytes of options (NOP NOP NOP EOL) between header and TCP.
	opt4 := func(ip []byte) []byte {
		out := append(bytes.Clone(ip[:20]), 1, 1, 1, 0)
		out = append(out, ip[20:]...)
		out[0] = 0x46
		binary.BigEndian.PutUint16(out[2:4], uint16(len(out)))
		return out
	}
	fragHdr := func(nh uint8, off uint16) []byte {
		b := []byte{nh, 0, 0, 0, 0, 0, 0, 1}
		binary.BigEndian.PutUint16(b[2:4], off<<3|1)
		return b
	}
	v6ext := func(hdrs []byte, nh uint8) seg { s := s6; s.ext6, s.ext6NH = hdrs, nh; return s }
	eth := func(ip []byte) []byte { return frame(linkEthernet, ip) }
	icmp4 := func(typ, code uint8, n int) []byte {
		return eth(icmpError(netip4("192.0.2.1"), cli4.Addr(), typ, code, s4.ip(), n))
	}
	icmp6 := func(typ, code uint8, n int) []byte {
		return eth(icmpError(netip6("2001:db8::1"), cli6.Addr(), typ, code, s6.ip(), n))
	}
	icmpWant := func(s seg, from string, typ, code uint8, n int, full bool) Packet {
		p := Packet{Kind: KindICMP, Src: s.src, Dst: s.dst, Seq: s.seq, TTL: 250, Opts: TCPOptions{WScale: -1}}
		p.ICMP = ICMPInfo{From: netip4(from), Type: typ, Code: code, QuoteLen: uint16(n)}
		if s.src.Addr().Is6() {
			p.ICMP.From, p.ICMP.V6 = netip6(from), true
		} else {
			p.IPID = 99
		}
		if full {
			p.Flags, p.Window, p.Opts = s.flags, s.win, synOpts
		}
		return p
	}
	udp := eth(append(bytes.Clone(s4.ip()[:20]), make([]byte, 8)...))
	udp[14+9] = 17
	udp[14+3] = 28

	tests := []struct {
		name string
		link uint32
		b    []byte
		cut  bool
		c    class
		want Packet
	}{
		{"ethernet v4", linkEthernet, eth(s4.ip()), false, classTCP, want(s4)},
		{"ethernet v6", linkEthernet, eth(s6.ip()), false, classTCP, want(s6)},
		{"ethernet data", linkEthernet, eth(data4.ip()), false, classTCP, want(data4)},
		{"ethernet padded rst", linkEthernet, append(eth(rst.ip()), 0, 0, 0, 0, 0, 0), false, classTCP, want(rst)},
		{"802.1Q", linkEthernet, frame(linkEthernet, s4.ip(), 0x8100), false, classTCP, want(s4)},
		{"QinQ", linkEthernet, frame(linkEthernet, s6.ip(), 0x88a8, 0x8100), false, classTCP, want(s6)},
		{"three tags", linkEthernet, frame(linkEthernet, s4.ip(), 0x9100, 0x88a8, 0x8100), false, classTCP, want(s4)},
		// frame's cooked headers say the host sent the packet.
		{"sll v4", linkLinuxSLL, frame(linkLinuxSLL, s4.ip()), false, classTCP, sent(want(s4))},
		{"sll vlan", linkLinuxSLL, frame(linkLinuxSLL, s4.ip(), 0x8100), false, classTCP, sent(want(s4))},
		{"sll2 v6", linkLinuxSLL2, frame(linkLinuxSLL2, s6.ip()), false, classTCP, sent(want(s6))},
		{"null v4", linkNull, frame(linkNull, s4.ip()), false, classTCP, want(s4)},
		{"null v6 darwin", linkNull, frame(linkNull, s6.ip()), false, classTCP, want(s6)},
		{"null v6 big-endian linux", linkNull, append([]byte{0, 0, 0, 10}, s6.ip()...), false, classTCP, want(s6)},
		{"null v6 windows", linkNull, append([]byte{23, 0, 0, 0}, s6.ip()...), false, classTCP, want(s6)},
		{"null v6 freebsd", linkNull, append([]byte{28, 0, 0, 0}, s6.ip()...), false, classTCP, want(s6)},
		{"null other family", linkNull, append([]byte{7, 0, 0, 0}, s4.ip()...), false, classSkipped, Packet{}},
		{"loop v4", linkLoop, frame(linkLoop, s4.ip()), false, classTCP, want(s4)},
		{"loop v6", linkLoop, frame(linkLoop, s6.ip()), false, classTCP, want(s6)},
		{"loop little-endian", linkLoop, append([]byte{2, 0, 0, 0}, s4.ip()...), false, classTCP, want(s4)},
		{"raw v4", linkRaw, s4.ip(), false, classTCP, want(s4)},
		{"raw v6", linkRaw, s6.ip(), false, classTCP, want(s6)},
		{"dlt raw 12", linkRawDLT12, s4.ip(), false, classTCP, want(s4)},
		{"dlt raw 14", linkRawDLT14, s6.ip(), false, classTCP, want(s6)},
		{"ipv4 link", linkIPv4, s4.ip(), false, classTCP, want(s4)},
		{"ipv6 link", linkIPv6, s6.ip(), false, classTCP, want(s6)},
		{"raw not ip", linkRaw, []byte{0x50, 1, 2, 3}, false, classMalformed, Packet{}},
		{"unknown link", 147, eth(s4.ip()), false, classUnknownLink, Packet{}},
		{"arp", linkEthernet, append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 6}, make([]byte, 28)...), false, classSkipped, Packet{}},
		{"udp", linkEthernet, udp, false, classSkipped, Packet{}},

		{"ipv4 options", linkEthernet, eth(opt4(s4.ip())), false, classTCP, want(s4)},
		{"first fragment", linkEthernet, eth(frag(s4.ip(), 0x2000)), false, classTCP, want(s4)},
		{"later fragment", linkEthernet, eth(frag(s4.ip(), 0x2010)), false, classSkipped, Packet{}},
		{"v6 hop-by-hop", linkEthernet, eth(v6ext(ext(6, 1), 0).ip()), false, classTCP, want(s6)},
		{"v6 hbh dst routing", linkEthernet, eth(v6ext(cat(ext(60, 1), ext(43, 2), ext(6, 1)), 0).ip()), false, classTCP, want(s6)},
		{"v6 first fragment", linkEthernet, eth(v6ext(fragHdr(6, 0), 44).ip()), false, classTCP, want(s6)},
		{"v6 later fragment", linkEthernet, eth(v6ext(fragHdr(6, 100), 44).ip()), false, classSkipped, Packet{}},
		{"v6 ah", linkEthernet, eth(v6ext(cat([]byte{6, 4}, make([]byte, 22)), 51).ip()), false, classTCP, want(s6)},
		{"v6 no next header", linkEthernet, eth(v6ext(ext(59, 1), 60).ip()), false, classSkipped, Packet{}},

		{"snaplen 64 syn", linkEthernet, eth(s4.ip())[:64], true, classTCP, with(want(s4), func(p *Packet) {
			p.Opts = TCPOptions{MSS: 1460, SACKPerm: true, WScale: -1, Cut: true}
			p.GoodSum = false // cut: not checked
		})},
		{"snaplen 64 data", linkEthernet, eth(data4.ip())[:64], true, classTCP, want(data4)},
		{"tcp cut at 16", linkEthernet, eth(data4.ip())[:14+20+16], true, classTCP, want(data4)},
		{"tcp cut at 14", linkEthernet, eth(data4.ip())[:14+20+14], true, classTCP, with(want(data4), func(p *Packet) { p.Window = 0 })},
		{"tcp cut at 10", linkEthernet, eth(data4.ip())[:14+20+10], true, classTruncated, Packet{}},
		{"v6 tcp cut at 14", linkEthernet, eth(s6.ip())[:14+40+14], true, classTCP, with(want(s6), func(p *Packet) {
			p.Window, p.Opts = 0, TCPOptions{WScale: -1}
			p.GoodSum = false
		})},
		{"ip cut", linkEthernet, eth(s4.ip())[:14+12], true, classTruncated, Packet{}},
		{"ethernet cut", linkEthernet, eth(s4.ip())[:10], true, classTruncated, Packet{}},
		{"ethernet short", linkEthernet, eth(s4.ip())[:10], false, classMalformed, Packet{}},
		{"tcp short", linkEthernet, shortTCP(eth(data4.ip()), 10), false, classMalformed, Packet{}},
		{"ip length lies", linkEthernet, eth(s4.ip())[:60], false, classMalformed, Packet{}},
		{"ihl too small", linkEthernet, set(eth(s4.ip()), 14, 0x44), false, classMalformed, Packet{}},
		{"ip version wrong", linkEthernet, set(eth(s4.ip()), 14, 0x65), false, classMalformed, Packet{}},
		{"tcp offset too small", linkEthernet, set(eth(s4.ip()), 14+20+12, 0x40), false, classMalformed, Packet{}},
		{"tcp offset past length", linkEthernet, set(eth(rst.ip()), 14+20+12, 0xf0), false, classMalformed, Packet{}},
		{"zero ip length (TSO)", linkEthernet, set(set(eth(data4.ip()), 16, 0), 17, 0), false, classTCP, want(data4)},

		{"icmp unreachable 8", linkEthernet, icmp4(3, 1, 8), false, classICMP, icmpWant(s4, "192.0.2.1", 3, 1, 8, false)},
		{"icmp unreachable 14", linkEthernet, icmp4(3, 3, 14), false, classICMP, with(icmpWant(s4, "192.0.2.1", 3, 3, 14, false), func(p *Packet) {
			p.Flags = FlagSYN
		})},
		{"icmp unreachable full", linkEthernet, icmp4(3, 13, 1000), false, classICMP, icmpWant(s4, "192.0.2.1", 3, 13, 40, true)},
		{"icmp time exceeded", linkEthernet, icmp4(11, 0, 8), false, classICMP, icmpWant(s4, "192.0.2.1", 11, 0, 8, false)},
		{"icmp quote too short", linkEthernet, icmp4(3, 1, 4), false, classMalformed, Packet{}},
		{"icmp quote cut", linkEthernet, icmp4(3, 1, 1000)[:14+20+8+20+4], true, classTruncated, Packet{}},
		{"icmp echo", linkEthernet, icmp4(8, 0, 8), false, classSkipped, Packet{}},
		{"icmp source quench", linkEthernet, icmp4(4, 0, 8), false, classSkipped, Packet{}},
		{"icmp quoting udp", linkEthernet, eth(icmpError(netip4("192.0.2.1"), cli4.Addr(), 3, 3, udp[14:], 8)), false, classSkipped, Packet{}},
		{"icmpv6 unreachable", linkEthernet, icmp6(1, 1, 1000), false, classICMP, icmpWant(s6, "2001:db8::1", 1, 1, 40, true)},
		{"icmpv6 too big", linkEthernet, icmp6(2, 0, 8), false, classICMP, icmpWant(s6, "2001:db8::1", 2, 0, 8, false)},
		{"icmpv6 time exceeded", linkEthernet, icmp6(3, 0, 8), false, classICMP, icmpWant(s6, "2001:db8::1", 3, 0, 8, false)},
		{"icmpv6 echo", linkEthernet, icmp6(128, 0, 8), false, classSkipped, Packet{}},
		{"icmpv6 in ipv4", linkEthernet, set(icmp4(3, 1, 8), 14+9, 58), false, classSkipped, Packet{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			c := decode(&p, tt.link, tt.b, tt.cut)
			if c != tt.c {
				t.Fatalf("class %d, want %d", c, tt.c)
			}
			if c == classTCP || c == classICMP {
				if p != tt.want {
					t.Errorf("got  %+v\nwant %+v", p, tt.want)
				}
			}
		})
	}
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// set returns a copy of b with b[i] = v.
func set(b []byte, i int, v byte) []byte {
	b = bytes.Clone(b)
	b[i] = v
	return b
}

// shortTCP cuts a frame to n bytes of TCP and fixes the IPv4 length to match,
// so the header does not lie about the length, it is just too short.
func shortTCP(f []byte, n int) []byte {
	f = bytes.Clone(f[:14+20+n])
	binary.BigEndian.PutUint16(f[16:18], uint16(20+n))
	return f
}

// sent is p as the host a capture was taken on sent it.
func sent(p Packet) Packet {
	p.Dir = DirOut
	return p
}

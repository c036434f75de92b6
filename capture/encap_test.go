package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Builders of encapsulations, each wrapping what it carries. Outer IP
// headers are serialised by gopacket, the tunnel headers by hand from
// their RFCs (gopacket knows too few of them).

var (
	out4a, out4b = netip4("192.0.2.50"), netip4("192.0.2.60") // tunnel endpoints
	out6a, out6b = netip6("2001:db8:ff::1"), netip6("2001:db8:ff::2")
)

// ipWrap puts payload in an IP packet of protocol proto from a to b.
func ipWrap(a, b netip.Addr, proto uint8, payload []byte) []byte {
	buf := gopacket.NewSerializeBuffer()
	o := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var err error
	if a.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 200, Id: 4242, Protocol: layers.IPProtocol(proto), SrcIP: net.IP(a.AsSlice()), DstIP: net.IP(b.AsSlice())}
		err = gopacket.SerializeLayers(buf, o, ip, gopacket.Payload(payload))
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 200, NextHeader: layers.IPProtocol(proto), SrcIP: net.IP(a.AsSlice()), DstIP: net.IP(b.AsSlice())}
		err = gopacket.SerializeLayers(buf, o, ip, gopacket.Payload(payload))
	}
	if err != nil {
		panic(err)
	}
	return bytes.Clone(buf.Bytes())
}

// udpIn is a UDP datagram to port dport in an IPv4 packet between the
// tunnel endpoints.
func udpIn(dport uint16, payload []byte) []byte {
	u := binary.BigEndian.AppendUint16(nil, 49152)
	u = binary.BigEndian.AppendUint16(u, dport)
	u = binary.BigEndian.AppendUint16(u, uint16(8+len(payload)))
	u = append(u, 0, 0)
	return ipWrap(out4a, out4b, protoUDP, append(u, payload...))
}

// ethFrame is an Ethernet header of type et before payload. The
// destination address starts with nibble a, so no MPLS guess takes it for IP
// or a control word.
func ethFrame(et uint16, payload []byte) []byte {
	h := []byte{0xa0, 0, 0, 0, 0, 1, 0xa0, 0, 0, 0, 0, 2, byte(et >> 8), byte(et)}
	return append(h, payload...)
}

// ethIP is an IP packet in an Ethernet frame.
func ethIP(ip []byte) []byte { return ethFrame(etherType(ip), ip) }

func vxlanHdr(vni uint32) []byte {
	return []byte{0x08, 0, 0, 0, byte(vni >> 16), byte(vni >> 8), byte(vni), 0}
}

// geneveHdr has optWords 4-byte words of options.
func geneveHdr(vni uint32, proto uint16, optWords int) []byte {
	h := []byte{byte(optWords), 0, byte(proto >> 8), byte(proto), byte(vni >> 16), byte(vni >> 8), byte(vni), 0}
	for range optWords {
		h = append(h, 0x01, 0x08, 0x80, 0) // an option class, type and length, as GWLB's
	}
	return h
}

// greHdr builds a version-0 GRE header with the fields given (nil: absent).
func greHdr(proto uint16, csum bool, key, seq *uint32) []byte {
	var flags uint16
	var rest []byte
	if csum {
		flags |= 0x8000
		rest = append(rest, 0, 0, 0, 0)
	}
	if key != nil {
		flags |= 0x2000
		rest = binary.BigEndian.AppendUint32(rest, *key)
	}
	if seq != nil {
		flags |= 0x1000
		rest = binary.BigEndian.AppendUint32(rest, *seq)
	}
	return append([]byte{byte(flags >> 8), byte(flags), byte(proto >> 8), byte(proto)}, rest...)
}

func u32(v uint32) *uint32 { return &v }

// gtpHdr is a GTP-U G-PDU header; with ext, a sequence number and a PDU
// session container extension (as 5G cores send).
func gtpHdr(n int, ext bool) []byte {
	if !ext {
		return []byte{0x30, 0xff, byte(n >> 8), byte(n), 0, 0, 0, 7}
	}
	n += 4 + 4
	return []byte{0x36, 0xff, byte(n >> 8), byte(n), 0, 0, 0, 7, 0, 1, 0, 0x85, 1, 0x10, 9, 0}
}

func pppoeHdr(proto uint16, n int) []byte {
	n += 2
	return []byte{0x11, 0, 0, 0x2a, byte(n >> 8), byte(n), byte(proto >> 8), byte(proto)}
}

// mplsHdr is a label stack of n labels, the last marked bottom.
func mplsHdr(n int) []byte {
	var b []byte
	for i := range n {
		l := []byte{0, 0x10 * byte(i+1), 0, 64}
		if i == n-1 {
			l[2] |= 1
		}
		b = append(b, l...)
	}
	return b
}

// nflogRec is an NFLOG record: a prefix attribute, then the payload, in
// the given byte order.
func nflogRec(order binary.AppendByteOrder, family byte, ip []byte) []byte {
	b := []byte{family, 0, 0, 0}
	b = order.AppendUint16(b, 8)
	b = order.AppendUint16(b, 10) // NFULA_PREFIX
	b = append(b, 'f', 'w', 0, 0)
	b = order.AppendUint16(b, uint16(4+len(ip)))
	b = order.AppendUint16(b, 9)
	b = append(b, ip...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// dot11Data is an 802.11 data frame carrying ip over LLC/SNAP. flags are
// the frame-control flags (to/from DS, protected, order).
func dot11Data(qos bool, flags byte, ip []byte) []byte {
	fc := byte(0x08) // data
	if qos {
		fc = 0x88
	}
	b := append([]byte{fc, flags, 0, 0}, make([]byte, 20)...) // duration, 3 addresses, sequence
	if flags&3 == 3 {
		b = append(b, make([]byte, 6)...)
	}
	if qos {
		b = append(b, 0, 0)
		if flags&0x80 != 0 {
			b = append(b, 0, 0, 0, 0)
		}
	}
	b = append(b, 0xaa, 0xaa, 3, 0, 0, 0, byte(etherType(ip)>>8), byte(etherType(ip)))
	return append(b, ip...)
}

func radiotapHdr(b []byte) []byte {
	return append([]byte{0, 0, 12, 0, 0x04, 0, 0, 0, 0x02, 0, 0, 0}, b...) // rate present
}

// tunnelled returns p with the tunnel set.
func tunnelled(p Packet, k TunnelKind, id uint32) Packet {
	p.Tunnel = Tunnel{Kind: k, ID: id}
	return p
}

func TestDecodeEncapsulations(t *testing.T) {
	s4, s6 := syn(cli4, srv4), syn(cli6, srv6)
	ip4, ip6 := s4.ip(), s6.ip()
	w4, w6 := want(s4), want(s6)
	icmpIn := icmpError(netip4("192.0.2.1"), cli4.Addr(), 3, 1, ip4, 1000)
	icmpWant := with(w4, func(p *Packet) {
		p.Kind, p.TTL, p.IPID = KindICMP, 250, 99
		p.ICMP = ICMPInfo{From: netip4("192.0.2.1"), Type: 3, Code: 1, QuoteLen: 40}
		p.GoodSum = false // a quoted segment's checksum is not checked
	})
	nest := func(n int) []byte { // n levels of IP-in-IP around the SYN
		b := ip4
		for range n {
			b = ipWrap(out4a, out4b, protoIPIP, b)
		}
		return b
	}
	vx := udpIn(portVXLAN, append(vxlanHdr(5001), ethIP(ip4)...))
	gen := udpIn(portGeneve, append(geneveHdr(77, etherTEB, 2), ethIP(ip6)...))
	ersp3 := func(o bool, ft byte, inner []byte) []byte {
		h := []byte{0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, ft << 2, 0}
		if o {
			h[11] |= 1
			h = append(h, make([]byte, 8)...)
		}
		return ipWrap(out4a, out4b, protoGRE, cat(greHdr(etherERSP3, false, nil, u32(1)), h, inner))
	}
	tests := []struct {
		name string
		link uint32
		b    []byte
		c    class
		want Packet
	}{
		{"gtp-u v4", linkEthernet, ethIP(udpIn(portGTPU, append(gtpHdr(len(ip4), false), ip4...))), classTCP, w4},
		{"gtp-u seq+ext v6", linkLinuxSLL, frame(linkLinuxSLL, udpIn(portGTPU, append(gtpHdr(len(ip6), true), ip6...))), classTCP, sent(w6)},
		{"gtp-u echo", linkEthernet, ethIP(udpIn(portGTPU, []byte{0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0})), classSkipped, Packet{}},
		{"gtp-u ext cut", linkEthernet, ethIP(udpIn(portGTPU, gtpHdr(0, true)[:14])), classMalformed, Packet{}},

		{"gre ipv4", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, append(greHdr(etherIPv4, false, nil, nil), ip4...))), classTCP, w4},
		{"gre csum key seq ipv6", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, append(greHdr(etherIPv6, true, u32(0xdead), u32(9)), ip6...))), classTCP, tunnelled(w6, TunnelGRE, 0xdead)},
		{"gre over ipv6", linkEthernet, ethIP(ipWrap(out6a, out6b, protoGRE, append(greHdr(etherIPv4, false, nil, nil), ip4...))), classTCP, w4},
		{"gre ethernet (nvgre)", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, append(greHdr(etherTEB, false, u32(0x123456_07), nil), ethIP(ip4)...))), classTCP, tunnelled(w4, TunnelNVGRE, 0x123456)},
		{"gre ethernet no key", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, append(greHdr(etherTEB, false, nil, nil), ethIP(ip4)...))), classTCP, w4},
		{"gre routing", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, append([]byte{0x40, 0, 8, 0}, ip4...))), classSkipped, Packet{}},
		{"gre key cut", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, []byte{0x20, 0, 8, 0, 1})), classMalformed, Packet{}},
		{"erspan I", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, append(greHdr(etherERSPAN, false, nil, nil), ethIP(ip4)...))), classTCP, w4},
		{"erspan II", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, cat(greHdr(etherERSPAN, false, nil, u32(3)), []byte{0x10, 0, 0, 20, 0, 0, 0, 1}, ethIP(ip4)))), classTCP, w4},
		{"erspan II bad version", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, cat(greHdr(etherERSPAN, false, nil, u32(3)), []byte{0x20, 0, 0, 20, 0, 0, 0, 1}, ethIP(ip4)))), classSkipped, Packet{}},
		{"erspan III", linkEthernet, ethIP(ersp3(false, 0, ethIP(ip6))), classTCP, w6},
		{"erspan III subheader", linkEthernet, ethIP(ersp3(true, 0, ethIP(ip4))), classTCP, w4},
		{"erspan III ip frame", linkEthernet, ethIP(ersp3(false, 2, ip4)), classTCP, w4},
		{"pptp", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, cat([]byte{0x30, 0x81, 0x88, 0x0b, 0, byte(len(ip4) + 4), 0, 5, 0, 0, 0, 1, 0, 0, 0, 0}, []byte{0xff, 0x03, 0, 0x21}, ip4))), classTCP, w4},

		{"vxlan", linkEthernet, ethIP(vx), classTCP, tunnelled(w4, TunnelVXLAN, 5001)},
		{"vxlan linux port", linkEthernet, ethIP(udpIn(portVXLANLinx, append(vxlanHdr(1), ethIP(ip6)...))), classTCP, tunnelled(w6, TunnelVXLAN, 1)},
		{"vxlan without vni", linkEthernet, ethIP(udpIn(portVXLAN, append([]byte{0, 0, 0, 0, 0, 0, 1, 0}, ethIP(ip4)...))), classSkipped, Packet{}},
		{"vxlan-gpe ipv4", linkEthernet, ethIP(udpIn(portVXLANGPE, append([]byte{0x0c, 0, 0, 1, 0, 0, 9, 0}, ip4...))), classTCP, tunnelled(w4, TunnelVXLAN, 9)},
		{"vxlan inner vlan", linkEthernet, ethIP(udpIn(portVXLAN, append(vxlanHdr(3), frame(linkEthernet, ip4, 0x8100)...))), classTCP, tunnelled(w4, TunnelVXLAN, 3)},
		{"geneve ethernet with options", linkEthernet, ethIP(gen), classTCP, tunnelled(w6, TunnelGeneve, 77)},
		{"geneve ip (aws gwlb)", linkEthernet, ethIP(udpIn(portGeneve, append(geneveHdr(0, etherIPv4, 3), ip4...))), classTCP, tunnelled(w4, TunnelGeneve, 0)},
		{"geneve version 1", linkEthernet, ethIP(udpIn(portGeneve, append([]byte{0x40, 0, 0x65, 0x58, 0, 0, 1, 0}, ethIP(ip4)...))), classSkipped, Packet{}},
		{"vxlan in geneve", linkEthernet, ethIP(udpIn(portGeneve, append(geneveHdr(77, etherTEB, 0), ethIP(vx)...))), classTCP, tunnelled(w4, TunnelVXLAN, 5001)},
		{"vxlan in erspan", linkEthernet, ethIP(ipWrap(out4a, out4b, protoGRE, cat(greHdr(etherERSPAN, false, nil, u32(3)), []byte{0x10, 0, 0, 20, 0, 0, 0, 1}, ethIP(vx)))), classTCP, tunnelled(w4, TunnelVXLAN, 5001)},
		{"vxlan cut in tcp", linkEthernet, ethIP(vx)[:len(ethIP(vx))-len(ip4)+20+10], classTruncated, Packet{}},
		{"vxlan cut in header", linkEthernet, ethIP(vx)[:14+20+8+4], classTruncated, Packet{}},

		{"6in4", linkEthernet, ethIP(ipWrap(out4a, out4b, protoIPv6, ip6)), classTCP, w6},
		{"4in6", linkEthernet, ethIP(ipWrap(out6a, out6b, protoIPIP, ip4)), classTCP, w4},
		{"4in4", linkRaw, nest(1), classTCP, w4},
		{"4in4 x6", linkRaw, nest(6), classTCP, w4},
		{"4in4 x20: past maxLayers", linkRaw, nest(20), classSkipped, Packet{}},

		{"pppoe", linkEthernet, ethFrame(etherPPPoE, append(pppoeHdr(0x0021, len(ip4)), ip4...)), classTCP, w4},
		{"pppoe v6 over qinq", linkEthernet, ethFrame(etherQinQ, cat([]byte{0, 100, 0x81, 0, 0, 101, 0x88, 0x64}, pppoeHdr(0x0057, len(ip6)), ip6)), classTCP, w6},
		{"pppoe lcp", linkEthernet, ethFrame(etherPPPoE, append(pppoeHdr(0xc021, 4), 1, 1, 0, 4)), classSkipped, Packet{}},
		{"pppoe discovery code", linkEthernet, ethFrame(etherPPPoE, append([]byte{0x11, 0x09, 0, 0, 0, 6, 0, 0x21}, ip4...)), classSkipped, Packet{}},
		{"mpls", linkEthernet, ethFrame(etherMPLS, append(mplsHdr(2), ip4...)), classTCP, w4},
		{"mpls v6", linkEthernet, ethFrame(etherMPLSMC, append(mplsHdr(1), ip6...)), classTCP, w6},
		{"mpls pw control word", linkEthernet, ethFrame(etherMPLS, cat(mplsHdr(2), []byte{0, 0, 0, 1}, ethIP(ip4))), classTCP, w4},
		{"mpls pw no control word", linkEthernet, ethFrame(etherMPLS, cat(mplsHdr(3), ethIP(ip6))), classTCP, w6},
		{"mpls no bottom", linkEthernet, ethFrame(etherMPLS, []byte{0, 0x10, 0, 64, 0, 0x20, 0, 64}), classMalformed, Packet{}},
		{"pbb", linkEthernet, ethFrame(etherPBB, cat([]byte{0, 0, 0, 42}, make([]byte, 12), []byte{0x08, 0}, ip4)), classTCP, w4},
		{"pbb with customer vlan", linkEthernet, ethFrame(etherPBB, cat([]byte{0, 0, 0, 42}, make([]byte, 12), []byte{0x81, 0, 0, 5, 0x86, 0xdd}, ip6)), classTCP, w6},

		{"ppp", linkPPP, cat([]byte{0xff, 0x03, 0, 0x21}, ip4), classTCP, w4},
		{"ppp no address", linkPPP, cat([]byte{0, 0x57}, ip6), classTCP, w6},
		{"ppp compressed protocol", linkPPP, cat([]byte{0x21}, ip4), classTCP, w4},
		{"ppp lcp", linkPPP, []byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, classSkipped, Packet{}},
		{"ppp mpls", linkPPP, cat([]byte{0xff, 0x03, 0x02, 0x81}, mplsHdr(1), ip4), classTCP, w4},
		{"ppp hdlc", linkPPPHDLC, cat([]byte{0xff, 0x03, 0, 0x21}, ip4), classTCP, w4},
		{"cisco hdlc as ppp", linkPPP, cat([]byte{0x0f, 0, 0x08, 0}, ip4), classTCP, w4},
		{"cisco hdlc", linkCHDLC, cat([]byte{0x8f, 0, 0x86, 0xdd}, ip6), classTCP, w6},
		{"cisco hdlc slarp", linkCHDLC, cat([]byte{0x8f, 0, 0x80, 0x35}, make([]byte, 20)), classSkipped, Packet{}},
		{"nflog", linkNFLOG, nflogRec(binary.LittleEndian, 2, ip4), classTCP, w4},
		{"nflog big-endian v6", linkNFLOG, nflogRec(binary.BigEndian, 10, ip6), classTCP, w6},
		{"nflog no payload", linkNFLOG, []byte{2, 0, 0, 0, 8, 0, 10, 0, 'f', 'w', 0, 0}, classSkipped, Packet{}},
		{"nflog bad length", linkNFLOG, []byte{2, 0, 0, 0, 2, 0, 10, 0, 'f', 'w', 0, 0}, classMalformed, Packet{}},
		{"nflog payload cut", linkNFLOG, nflogRec(binary.LittleEndian, 2, ip4)[:16+20+10], classMalformed, Packet{}},
		{"802.11 data", link80211, dot11Data(false, 0x02, ip4), classTCP, w4},
		{"802.11 qos data", link80211, dot11Data(true, 0x01, ip6), classTCP, w6},
		{"802.11 4-address qos +htc", link80211, dot11Data(true, 0x83, ip4), classTCP, w4},
		{"802.11 protected", link80211, dot11Data(true, 0x41, ip4), classSkipped, Packet{}},
		{"802.11 beacon", link80211, cat([]byte{0x80, 0}, make([]byte, 40)), classSkipped, Packet{}},
		{"802.11 ack", link80211, []byte{0xd4, 0, 0, 0, 1, 2, 3, 4, 5, 6}, classSkipped, Packet{}},
		{"802.11 null function", link80211, cat([]byte{0x48, 0x01}, make([]byte, 22)), classSkipped, Packet{}},
		{"802.11 a-msdu", link80211, set(dot11Data(true, 0x01, ip4), 24, 0x80), classSkipped, Packet{}},
		{"802.11 not snap", link80211, set(dot11Data(false, 0x02, ip4), 24, 0x42), classSkipped, Packet{}},
		{"radiotap", linkRadiotap, radiotapHdr(dot11Data(true, 0x02, ip4)), classTCP, w4},
		{"radiotap bad length", linkRadiotap, []byte{0, 0, 4, 0, 0, 0, 0, 0, 0, 0}, classMalformed, Packet{}},

		// ICMP: an error inside the tunnel quotes a tenant's packet and
		// keeps the tunnel; one outside it quotes the tunnel's own packet
		// and is about no attempt.
		{"icmp inside vxlan", linkEthernet, ethIP(udpIn(portVXLAN, append(vxlanHdr(5001), ethIP(icmpIn)...))), classICMP, tunnelled(icmpWant, TunnelVXLAN, 5001)},
		{"icmp quoting vxlan", linkEthernet, ethIP(icmpError(netip4("192.0.2.1"), out4a, 3, 4, vx, 1000)), classSkipped, Packet{}},
		{"icmp quoting gre", linkEthernet, ethIP(icmpError(netip4("192.0.2.1"), out4a, 3, 4, ipWrap(out4a, out4b, protoGRE, append(greHdr(etherIPv4, false, nil, nil), ip4...)), 1000)), classSkipped, Packet{}},
		{"icmp quoting 6in4", linkEthernet, ethIP(icmpError(netip4("192.0.2.1"), out4a, 3, 4, ipWrap(out4a, out4b, protoIPv6, ip6), 1000)), classSkipped, Packet{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			// The truncated cases are cut by the snaplen.
			c := decode(&p, tt.link, tt.b, tt.c == classTruncated)
			if c != tt.c {
				t.Fatalf("class %d, want %d", c, tt.c)
			}
			if (c == classTCP || c == classICMP) && p != tt.want {
				t.Errorf("got  %+v\nwant %+v", p, tt.want)
			}
		})
	}
}

// encaps are the encapsulations and link types decode reads, each as the
// link type and a function wrapping an IP packet into the records that
// carry it, for the allocation test, the benchmarks and the fuzz seeds.
var encaps = []struct {
	name string
	link uint32
	wrap func(ip []byte) [][]byte
}{
	{"plain", linkEthernet, one(ethIP)},
	{"vlan", linkEthernet, one(func(ip []byte) []byte { return frame(linkEthernet, ip, 0x8100) })},
	{"gtp-u", linkLinuxSLL, one(func(ip []byte) []byte {
		return frame(linkLinuxSLL, udpIn(portGTPU, append(gtpHdr(len(ip), true), ip...)))
	})},
	{"gre", linkEthernet, one(func(ip []byte) []byte {
		return ethIP(ipWrap(out4a, out4b, protoGRE, append(greHdr(etherType(ip), true, u32(7), u32(1)), ip...)))
	})},
	{"gre ethernet", linkEthernet, one(func(ip []byte) []byte {
		return ethIP(ipWrap(out4a, out4b, protoGRE, append(greHdr(etherTEB, false, u32(0x100), nil), ethIP(ip)...)))
	})},
	{"erspan II", linkEthernet, one(func(ip []byte) []byte {
		return ethIP(ipWrap(out4a, out4b, protoGRE, cat(greHdr(etherERSPAN, false, nil, u32(3)), []byte{0x10, 0, 0, 20, 0, 0, 0, 1}, ethIP(ip))))
	})},
	{"erspan III", linkEthernet, one(func(ip []byte) []byte {
		return ethIP(ipWrap(out4a, out4b, protoGRE, cat(greHdr(etherERSP3, false, nil, u32(3)), []byte{0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 8), ethIP(ip))))
	})},
	{"pptp", linkEthernet, one(func(ip []byte) []byte {
		return ethIP(ipWrap(out4a, out4b, protoGRE, cat([]byte{0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0}, []byte{0xff, 0x03, 0, byte(map[uint16]int{etherIPv4: 0x21, etherIPv6: 0x57}[etherType(ip)])}, ip)))
	})},
	{"vxlan", linkEthernet, one(func(ip []byte) []byte { return ethIP(udpIn(portVXLAN, append(vxlanHdr(5001), ethIP(ip)...))) })},
	{"geneve", linkEthernet, one(func(ip []byte) []byte {
		return ethIP(udpIn(portGeneve, append(geneveHdr(77, etherTEB, 2), ethIP(ip)...)))
	})},
	{"vxlan in erspan", linkEthernet, one(func(ip []byte) []byte {
		vx := udpIn(portVXLAN, append(vxlanHdr(5001), ethIP(ip)...))
		return ethIP(ipWrap(out4a, out4b, protoGRE, cat(greHdr(etherERSPAN, false, nil, u32(3)), []byte{0x10, 0, 0, 20, 0, 0, 0, 1}, ethIP(vx))))
	})},
	{"ip in ipv4", linkEthernet, one(func(ip []byte) []byte {
		return ethIP(ipWrap(out4a, out4b, map[uint16]uint8{etherIPv4: protoIPIP, etherIPv6: protoIPv6}[etherType(ip)], ip))
	})},
	{"ip in ipv6", linkEthernet, one(func(ip []byte) []byte {
		return ethIP(ipWrap(out6a, out6b, map[uint16]uint8{etherIPv4: protoIPIP, etherIPv6: protoIPv6}[etherType(ip)], ip))
	})},
	{"pppoe qinq", linkEthernet, one(func(ip []byte) []byte {
		proto := map[uint16]uint16{etherIPv4: 0x21, etherIPv6: 0x57}[etherType(ip)]
		return ethFrame(etherQinQ, cat([]byte{0, 100, 0x81, 0, 0, 101, 0x88, 0x64}, pppoeHdr(proto, len(ip)), ip))
	})},
	{"mpls", linkEthernet, one(func(ip []byte) []byte { return ethFrame(etherMPLS, append(mplsHdr(2), ip...)) })},
	{"mpls pw", linkEthernet, one(func(ip []byte) []byte {
		return ethFrame(etherMPLS, cat(mplsHdr(2), []byte{0, 0, 0, 1}, ethIP(ip)))
	})},
	{"pbb", linkEthernet, one(func(ip []byte) []byte {
		return ethFrame(etherPBB, cat([]byte{0, 0, 0, 42}, make([]byte, 12), ethIP(ip)[12:]))
	})},
	{"ppp", linkPPP, one(func(ip []byte) []byte {
		return append([]byte{0xff, 0x03, 0, byte(map[uint16]int{etherIPv4: 0x21, etherIPv6: 0x57}[etherType(ip)])}, ip...)
	})},
	{"ppp hdlc", linkPPPHDLC, one(func(ip []byte) []byte {
		return append([]byte{0xff, 0x03, 0, byte(map[uint16]int{etherIPv4: 0x21, etherIPv6: 0x57}[etherType(ip)])}, ip...)
	})},
	{"cisco hdlc", linkCHDLC, one(func(ip []byte) []byte {
		return append([]byte{0x0f, 0, byte(etherType(ip) >> 8), byte(etherType(ip))}, ip...)
	})},
	{"nflog", linkNFLOG, one(func(ip []byte) []byte {
		return nflogRec(binary.LittleEndian, map[uint16]byte{etherIPv4: 2, etherIPv6: 10}[etherType(ip)], ip)
	})},
	{"802.11", link80211, one(func(ip []byte) []byte { return dot11Data(true, 0x01, ip) })},
	{"radiotap", linkRadiotap, one(func(ip []byte) []byte { return radiotapHdr(dot11Data(false, 0x02, ip)) })},
	{"fragments", linkEthernet, func(ip []byte) [][]byte {
		var fs [][]byte
		if ip[0]>>4 == 4 {
			fs = fragment4(ip, 16)
		} else {
			fs = fragment6(ip, 16, 99)
		}
		for i := range fs {
			fs[i] = ethIP(fs[i])
		}
		return fs
	}},
}

func one(f func([]byte) []byte) func([]byte) [][]byte {
	return func(ip []byte) [][]byte { return [][]byte{f(ip)} }
}

// TestEncapsRoundTrip checks the table above: every record set decodes
// to the segment it wraps.
func TestEncapsRoundTrip(t *testing.T) {
	for _, e := range encaps {
		for _, s := range append(handshake(cli4, srv4), handshake(cli6, srv6)...) {
			var d decoder
			var p Packet
			recs := e.wrap(s.ip())
			for i, r := range recs {
				c := d.decode(&p, e.link, r, false)
				if last := i == len(recs)-1; last && c != classTCP || !last && c != classSkipped {
					t.Fatalf("%s: record %d of %d: class %d", e.name, i+1, len(recs), c)
				}
			}
			w := want(s)
			w.Tunnel = p.Tunnel
			if e.link == linkLinuxSLL || e.link == linkLinuxSLL2 {
				w.Dir = DirOut
			}
			if p != w {
				t.Errorf("%s:\ngot  %#v\nwant %#v", e.name, p, w)
			}
		}
	}
}

// TestDecodeNoAllocs decodes every encapsulation with no allocation (the
// reassembly table, made at the first fragment, aside).
func TestDecodeNoAllocs(t *testing.T) {
	var d decoder
	var p Packet
	for _, e := range encaps {
		recs := e.wrap(syn(cli4, srv4).ip())
		for _, r := range recs {
			d.decode(&p, e.link, r, false)
		}
		allocs := testing.AllocsPerRun(100, func() {
			for _, r := range recs {
				d.decode(&p, e.link, r, false)
			}
		})
		if allocs != 0 || p.Kind != KindTCP {
			t.Errorf("%s: %v allocations, kind %d", e.name, allocs, p.Kind)
		}
	}
}

// TestUnreadLinks counts records per link type not read, in a bounded list.
func TestUnreadLinks(t *testing.T) {
	var st Stats
	for i := range 20 {
		for range i + 1 {
			st.unread(uint32(1000 + i))
		}
	}
	st.unread(1000)
	u := st.Unread()
	if len(u) != maxUnreadLinks || u[0] != (LinkCount{1000, 2}) || u[1] != (LinkCount{1001, 2}) {
		t.Fatalf("%v", u)
	}
	// The last entry lumps every type past the others: 1007 … 1019.
	if last := u[len(u)-1]; last.Link != LinkOthers || last.Packets != (8+20)*13/2 || last.String() != "other link types" {
		t.Errorf("last %+v", last)
	}
	if s := (LinkCount{Link: 105}).String(); s != "link type 105 (802.11)" {
		t.Errorf("%q", s)
	}
	if s := (LinkCount{Link: 60000}).String(); s != "link type 60000" {
		t.Errorf("%q", s)
	}
}

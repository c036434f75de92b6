package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// The decoder below is hand-written rather than a gopacket DecodingLayerParser
// because synpath needs what gopacket's layers refuse or cannot express: a TCP
// header cut by the snaplen inside its options still counts, payload lengths
// come from the IP length fields, the packet quoted inside an ICMP error is a
// second, shortened IP+TCP header, and odd packets must be classified without
// building an error value (gopacket formats one per bad packet, which
// allocates). It reads fixed offsets only and checks every length first.

// class is what decode made of one record.
type class uint8

const (
	classSkipped class = iota
	classTCP
	classICMP
	classMalformed
	classTruncated
	// classUnknownLink is a record of a link type synpath does not read; it
	// counts as skipped, and per link type.
	classUnknownLink
	// classNext is what one layer's decoder says to go on to the next.
	classNext
	// classFragment is an IPv6 fragment header met by ext6.
	classFragment
	// classDNS is a DNS message over UDP.
	classDNS
)

// Link types, as LINKTYPE_ values in capture files.
const (
	linkNull      = 0
	linkEthernet  = 1
	linkPPP       = 9
	linkRawDLT12  = 12 // DLT_RAW leaked into files from most BSDs
	linkRawDLT14  = 14 // DLT_RAW on OpenBSD
	linkPPPHDLC   = 50 // PPP in HDLC-like framing, or Cisco HDLC
	linkRaw       = 101
	linkCHDLC     = 104 // Cisco HDLC
	link80211     = 105 // IEEE 802.11 without radio header
	linkLoop      = 108
	linkLinuxSLL  = 113
	linkRadiotap  = 127 // 802.11 behind a radiotap header
	linkIPv4      = 228
	linkIPv6      = 229
	linkNFLOG     = 239 // Linux netfilter log (tcpdump -i nflog)
	linkIPoIB     = 242 // IP over InfiniBand (tcpdump -i ib0)
	linkLinuxSLL2 = 276
	linkPKTAP     = 258 // Apple's PKTAP: macOS tcpdump -i pktap (or any), -k
	linkUser2     = 149 // PKTAP in files from macOS before 10.10, and others' private use
)

const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	etherDot1Q  = 0x8100
	etherQinQ   = 0x88a8
	etherQinQ1  = 0x9100 // pre-standard QinQ, still seen on some switches
	etherTEB    = 0x6558 // transparent Ethernet bridging: an Ethernet frame follows
	etherPPPoE  = 0x8864 // PPPoE session stage
	etherMPLS   = 0x8847
	etherMPLSMC = 0x8848
	etherPBB    = 0x88e7 // 802.1ah provider backbone bridging (MAC-in-MAC)
	etherERSPAN = 0x88be // ERSPAN type I and II, in GRE
	etherERSP3  = 0x22eb // ERSPAN type III, in GRE

	// Below 0x0600 a type field is an 802.3 length, never an EtherType:
	// those values name what a layer hands on when no EtherType says it.
	nextIP  = 1 // an IP packet, its version in its first nibble
	nextPPP = 2 // a PPP frame: optional FF 03, then the protocol field

	protoICMP   = 1
	protoIPIP   = 4
	protoTCP    = 6
	protoUDP    = 17
	protoIPv6   = 41
	protoGRE    = 47
	protoICMPv6 = 58
)

// maxLayers bounds the headers decoded after the link layer (VLAN tags
// aside: each costs 4 bytes and no more work). A plain segment takes one
// (IP); the deepest stack in the real captures we test, ERSPAN carrying
// VXLAN, takes seven (IP, GRE+ERSPAN, Ethernet, IP, UDP+VXLAN, Ethernet,
// IP). Sixteen leaves room for a few more levels of tunnel (real networks
// nest two or three) while bounding what a crafted packet of nested
// headers, or a wrong guess of what follows an MPLS stack, can cost.
const maxLayers = 16

var be = binary.BigEndian

// decoder decodes records into Packets; its only state is the table of
// fragments being reassembled.
type decoder struct {
	frags  *reassembly // made at the first fragment, then reused
	noFrag bool        // hand on first fragments alone (tests of decode)
	ts     time.Time   // of the record being decoded: fragments time out
	// reassembled counts the datagrams rebuilt from fragments.
	reassembled uint64
}

// decode fills p from one record of the given link type and says what it
// was, without reassembling fragments: first fragments are read alone.
func decode(p *Packet, link uint32, b []byte, cut bool) class {
	d := decoder{noFrag: true}
	return d.decode(p, link, b, cut)
}

// decode fills p from one record of the given link type and says what it
// was. cut reports that the snaplen shortened the record, which tells a
// header cut by the capture (Truncated) from a header that lies about its
// length (Malformed). It never fails and never allocates but for the
// reassembly table, once.
func (d *decoder) decode(p *Packet, link uint32, b []byte, cut bool) class {
	*p = Packet{}
	// IP over Ethernet, most of what captures hold, goes straight to the
	// IP header: the walk below would take two calls and a dispatch more.
	if link == linkEthernet && len(b) >= 14 {
		if et := be.Uint16(b[12:14]); et == etherIPv4 || et == etherIPv6 {
			et, b, c := d.ip(p, et, b[14:], cut)
			if c != classNext {
				return c
			}
			return d.layers(p, et, b, cut, maxLayers-1)
		}
	}
	p.Dir = cookedDirection(link, b)
	et, b, c := linkLayer(link, b, cut)
	if c != classNext {
		return c
	}
	return d.layers(p, et, b, cut, maxLayers)
}

// cookedDirection is the direction a link header records: a Linux cooked
// header's packet type says whether the host sent the packet
// (PACKET_OUTGOING) or received it (to itself, broadcast, multicast, or
// another host's); Apple's PKTAP header has flags for it.
func cookedDirection(link uint32, b []byte) Direction {
	var typ uint16
	switch {
	case link == linkLinuxSLL && len(b) >= 2:
		typ = be.Uint16(b[0:2])
	case link == linkLinuxSLL2 && len(b) >= 11:
		typ = uint16(b[10])
	case (link == linkPKTAP || link == linkUser2) && len(b) >= 40:
		// Apple's PKTAP header (tcpdump -i pktap on macOS): pth_flags
		// says in (1) or out (2).
		switch binary.LittleEndian.Uint32(b[36:40]) & 3 {
		case 1:
			return DirIn
		case 2:
			return DirOut
		}
		return DirUnknown
	default:
		return DirUnknown
	}
	switch {
	case typ == 4:
		return DirOut
	case typ <= 3:
		return DirIn
	}
	return DirUnknown
}

// linkLayer strips the link-layer header and says what follows.
func linkLayer(link uint32, b []byte, cut bool) (uint16, []byte, class) {
	switch link {
	case linkEthernet:
		return ethernet(b, cut)
	case linkLinuxSLL:
		if len(b) < 16 {
			return 0, nil, short(cut)
		}
		return be.Uint16(b[14:16]), b[16:], classNext
	case linkLinuxSLL2:
		if len(b) < 20 {
			return 0, nil, short(cut)
		}
		return be.Uint16(b[0:2]), b[20:], classNext
	case linkNull, linkLoop:
		if len(b) < 4 {
			return 0, nil, short(cut)
		}
		// The family is in the writer's byte order for NULL and in network
		// order for LOOP, but not every writer knew: accept both, as
		// Wireshark does, by swapping a value that does not fit 16 bits.
		af := binary.LittleEndian.Uint32(b)
		if af > 0xffff {
			af = be.Uint32(b)
		}
		switch af {
		case 2: // AF_INET everywhere
			return etherIPv4, b[4:], classNext
		case 10, 23, 24, 28, 30: // AF_INET6: Linux, Windows, Net/OpenBSD, FreeBSD, Darwin
			return etherIPv6, b[4:], classNext
		}
		return 0, nil, classSkipped
	case linkRaw, linkRawDLT12, linkRawDLT14:
		if len(b) < 1 {
			return 0, nil, short(cut)
		}
		if et, ok := ipVersion(b); ok {
			return et, b, classNext
		}
		return 0, nil, classMalformed
	case linkIPv4:
		return etherIPv4, b, classNext
	case linkIPv6:
		return etherIPv6, b, classNext
	case linkPPP, linkPPPHDLC:
		if len(b) > 0 && (b[0] == 0x0f || b[0] == 0x8f) {
			return chdlc(b, cut) // Cisco HDLC written as PPP, as Wireshark guesses
		}
		return nextPPP, b, classNext
	case linkCHDLC:
		return chdlc(b, cut)
	case linkNFLOG:
		return nflog(b, cut)
	case link80211:
		return dot11(b, cut)
	case linkRadiotap:
		return radiotap(b, cut)
	case linkPKTAP, linkUser2:
		return pktap(link, b, cut)
	case linkIPoIB:
		// Linux writes the 20-byte destination and source hardware
		// addresses, then RFC 4391's 4-byte header: the EtherType and two
		// reserved bytes (tcpdump's print-ipoib.c reads it the same way).
		if len(b) < 44 {
			return 0, nil, short(cut)
		}
		return be.Uint16(b[40:42]), b[44:], classNext
	}
	return 0, nil, classUnknownLink
}

// ethernet reads an Ethernet II header.
func ethernet(b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 14 {
		return 0, nil, short(cut)
	}
	return be.Uint16(b[12:14]), b[14:], classNext
}

// layers decodes from a header of type et down to the innermost TCP
// segment or ICMP error, through tunnels, depth headers at most.
func (d *decoder) layers(p *Packet, et uint16, b []byte, cut bool, depth int) class {
	for range depth {
		// VLAN tags, any depth: each one is 4 bytes, so the loop ends.
		for et == etherDot1Q || et == etherQinQ || et == etherQinQ1 {
			if len(b) < 4 {
				return short(cut)
			}
			et, b = be.Uint16(b[2:4]), b[4:]
		}
		var c class
		switch et {
		case etherIPv4, etherIPv6:
			et, b, c = d.ip(p, et, b, cut)
		case nextIP:
			if len(b) < 1 {
				return short(cut)
			}
			var ok bool
			if et, ok = ipVersion(b); !ok {
				return classSkipped
			}
			c = classNext
		case etherTEB:
			et, b, c = ethernet(b, cut)
		case nextPPP:
			et, b, c = ppp(b, cut)
		case etherPPPoE:
			et, b, c = pppoe(b, cut)
		case etherMPLS, etherMPLSMC:
			et, b, c = mpls(b, cut)
		case etherPBB:
			et, b, c = pbb(b, cut)
		default:
			return classSkipped
		}
		if c != classNext {
			return c
		}
	}
	return classSkipped // nested deeper than any real network does
}

// ip reads an IPv4 or IPv6 packet (reassembling fragments) and what it
// carries: TCP and ICMP end the decoding, tunnels go on.
func (d *decoder) ip(p *Packet, et uint16, b []byte, cut bool) (uint16, []byte, class) {
	var proto uint8
	var l4 []byte
	var decl int
	var c class
	if et == etherIPv4 {
		proto, l4, decl, c = ip4(p, b, cut)
		if c == classTCP && be.Uint16(b[6:8])&0x3fff != 0 { // more fragments, or an offset
			proto, l4, decl, c = d.frag4(p, b, l4, decl, cut)
		}
	} else {
		var f frag6
		proto, l4, decl, c = ip6(p, b, cut, &f)
		if c == classFragment {
			proto, l4, decl, c = d.frag6(p, b, &f, l4, decl, cut)
		}
	}
	if c != classTCP {
		return 0, nil, c
	}
	switch proto {
	case protoTCP:
		if len(l4) < 14 {
			return 0, nil, short(cut)
		}
		hl := int(l4[12]>>4) * 4
		if hl < 20 || decl < hl {
			return 0, nil, classMalformed
		}
		p.Kind = KindTCP
		p.PayloadLen = uint32(decl - hl)
		tcp(p, l4)
		if p.Flags&(FlagSYN|FlagRST) != 0 && len(l4) == decl {
			p.BadSum, p.GoodSum = checkSum(b, l4, et == etherIPv4)
		}
		if len(l4) > hl && p.PayloadLen > 0 {
			if p.Src.Port() == portDNS || p.Dst.Port() == portDNS {
				dnsTCP(p, l4[hl:])
			} else {
				app(&p.App, l4[hl:])
			}
		}
		return 0, nil, classTCP
	case protoICMP:
		if et != etherIPv4 {
			return 0, nil, classSkipped
		}
		return 0, nil, icmp(p, l4, cut, false)
	case protoICMPv6:
		if et != etherIPv6 {
			return 0, nil, classSkipped
		}
		return 0, nil, icmp(p, l4, cut, true)
	case protoIPIP:
		return etherIPv4, l4, classNext
	case protoIPv6:
		return etherIPv6, l4, classNext
	case protoGRE:
		return gre(p, l4, cut)
	case protoUDP:
		return udp(p, l4, cut)
	}
	return 0, nil, classSkipped
}

// frag4 takes an IPv4 fragment whose header ip4 read: alone (tests), the
// first fragment is read as it is and the others are skipped; otherwise it
// goes into the reassembly table, and the datagram it completes, if any,
// is read instead.
func (d *decoder) frag4(p *Packet, b, l4 []byte, decl int, cut bool) (uint8, []byte, int, class) {
	off := int(be.Uint16(b[6:8])&0x1fff) * 8
	if d.noFrag {
		if off != 0 {
			return 0, nil, 0, classSkipped // not the first fragment: no TCP header
		}
		return b[9], l4, decl, classTCP
	}
	if d.frags == nil {
		d.frags = new(reassembly)
	}
	k := fragKey{id: uint32(be.Uint16(b[4:6])), proto: b[9], tunnel: p.Tunnel}
	copy(k.src[:], b[12:16])
	copy(k.dst[:], b[16:20])
	dg, dcut, ok := d.frags.add(k, b[:int(b[0]&0x0f)*4], l4, off, decl, be.Uint16(b[6:8])&0x2000 != 0, cut, d.ts)
	if !ok {
		return 0, nil, 0, classSkipped
	}
	d.reassembled++
	return ip4(p, dg, dcut)
}

// frag6 is frag4 for IPv6.
func (d *decoder) frag6(p *Packet, b []byte, f *frag6, l4 []byte, decl int, cut bool) (uint8, []byte, int, class) {
	if d.noFrag {
		if f.off != 0 {
			return 0, nil, 0, classSkipped
		}
		nh, rest, c := ext6(f.nh, l4, cut, nil)
		return nh, rest, decl - (len(l4) - len(rest)), c
	}
	if d.frags == nil {
		d.frags = new(reassembly)
	}
	k := fragKey{id: f.id, proto: f.nh, v6: true, tunnel: p.Tunnel}
	copy(k.src[:], b[8:24])
	copy(k.dst[:], b[24:40])
	var hdr [40]byte
	copy(hdr[:], b[:40])
	hdr[6] = f.nh
	dg, dcut, ok := d.frags.add(k, hdr[:], l4, f.off, decl, f.more, cut, d.ts)
	if !ok {
		return 0, nil, 0, classSkipped
	}
	d.reassembled++
	return ip6(p, dg, dcut, nil)
}

func short(cut bool) class {
	if cut {
		return classTruncated
	}
	return classMalformed
}

// ip4 reads an IPv4 header into p (addresses, TTL, IP ID) and returns the
// protocol, the captured layer-4 bytes and their length as the header
// declares it (larger when the snaplen cut the record). classTCP means "go on".
func ip4(p *Packet, b []byte, cut bool) (proto uint8, l4 []byte, decl int, c class) {
	if len(b) < 20 {
		return 0, nil, 0, short(cut)
	}
	if b[0]>>4 != 4 {
		return 0, nil, 0, classMalformed
	}
	hl := int(b[0]&0x0f) * 4
	tl := int(be.Uint16(b[2:4]))
	if tl == 0 {
		// TCP segmentation offload leaves a zero length in captures of
		// outgoing packets: the capture is then the best length there is.
		tl = len(b)
	}
	if hl < 20 || tl < hl {
		return 0, nil, 0, classMalformed
	}
	if len(b) < hl {
		return 0, nil, 0, short(cut)
	}
	if tl > len(b) && !cut {
		return 0, nil, 0, classMalformed
	}
	p.TTL = b[8]
	p.IPID = be.Uint16(b[4:6])
	p.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[12:16])), 0)
	p.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[16:20])), 0)
	// Fragments are the caller's (see decoder.ip).
	return b[9], b[hl:min(tl, len(b))], tl - hl, classTCP
}

// ip6 is ip4 for IPv6, walking the extension headers. With f, a fragment
// header ends the walk: classFragment, f filled, l4 the fragment's data.
func ip6(p *Packet, b []byte, cut bool, f *frag6) (proto uint8, l4 []byte, decl int, c class) {
	if len(b) < 40 {
		return 0, nil, 0, short(cut)
	}
	if b[0]>>4 != 6 {
		return 0, nil, 0, classMalformed
	}
	tl := 40 + int(be.Uint16(b[4:6]))
	if tl == 40 {
		tl = len(b) // jumbogram or segmentation offload: trust the capture
	}
	if tl > len(b) && !cut {
		return 0, nil, 0, classMalformed
	}
	p.TTL = b[7]
	p.IPID = 0 // an outer IPv4 header's is not this packet's
	p.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), 0)
	p.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[24:40])), 0)
	proto, l4, c = ext6(b[6], b[40:min(tl, len(b))], cut, f)
	// The extension headers walked count against the payload length.
	return proto, l4, tl - (min(tl, len(b)) - len(l4)), c
}

// frag6 is what an IPv6 fragment header says.
type frag6 struct {
	id   uint32
	off  int // in bytes
	more bool
	nh   uint8
}

// ext6 skips IPv6 extension headers from next header nh over b. Each header
// is at least 8 bytes, so the walk ends. Without f, a first fragment is read
// as it is and a later one skipped; with f, see ip6.
func ext6(nh uint8, b []byte, cut bool, f *frag6) (uint8, []byte, class) {
	for {
		var n int
		switch nh {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < 2 {
				return 0, nil, short(cut)
			}
			n = (int(b[1]) + 1) * 8
		case 44: // fragment
			if len(b) < 8 {
				return 0, nil, short(cut)
			}
			if f != nil {
				*f = frag6{id: be.Uint32(b[4:8]), off: int(be.Uint16(b[2:4])>>3) * 8, more: b[3]&1 != 0, nh: b[0]}
				return b[0], b[8:], classFragment
			}
			if be.Uint16(b[2:4])>>3 != 0 {
				return 0, nil, classSkipped
			}
			n = 8
		case 51: // authentication header, counted in 4-byte units
			if len(b) < 2 {
				return 0, nil, short(cut)
			}
			n = (int(b[1]) + 2) * 4
		default:
			return nh, b, classTCP
		}
		if len(b) < n {
			return 0, nil, short(cut)
		}
		nh, b = b[0], b[n:]
	}
}

// tcp fills p's TCP fields from b, which holds at least the first 14 bytes
// of a header (ports, sequence and acknowledgment numbers, flags) whose data
// offset the caller checked. What lies beyond the capture is left zero.
func tcp(p *Packet, b []byte) {
	p.Src = netip.AddrPortFrom(p.Src.Addr(), be.Uint16(b[0:2]))
	p.Dst = netip.AddrPortFrom(p.Dst.Addr(), be.Uint16(b[2:4]))
	p.Seq = be.Uint32(b[4:8])
	p.Ack = be.Uint32(b[8:12])
	p.Flags = TCPFlags(b[13])
	if len(b) >= 16 {
		p.Window = be.Uint16(b[14:16])
	}
	p.Opts.WScale = -1
	if hl := int(b[12]>>4) * 4; p.Flags.Has(FlagSYN) && hl > 20 && len(b) > 20 {
		opts(&p.Opts, b[20:min(hl, len(b))], len(b) < hl)
	}
}

// opts parses the handshake options. cut says the capture ended inside the
// option bytes: the options wholly captured are kept.
func opts(o *TCPOptions, b []byte, cut bool) {
	o.Cut = cut
	for len(b) > 0 {
		kind := b[0]
		if kind == 0 { // end of option list
			return
		}
		if kind == 1 { // no-operation
			b = b[1:]
			continue
		}
		if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
			o.Cut = o.Cut || len(b) < 2 || int(b[1]) > len(b)
			return
		}
		v := b[2:b[1]]
		switch {
		case kind == 2 && len(v) == 2:
			o.MSS = be.Uint16(v)
		case kind == 3 && len(v) == 1:
			o.WScale = int8(min(v[0], 14)) // RFC 7323: larger means 14
		case kind == 4 && len(v) == 0:
			o.SACKPerm = true
		case kind == 8 && len(v) == 8:
			o.HasTS = true
			o.TSVal = be.Uint32(v[0:4])
			o.TSEcr = be.Uint32(v[4:8])
		}
		b = b[b[1]:]
	}
}

// icmp reads an ICMP or ICMPv6 error that quotes a TCP segment; the outer
// header is already in p. Informational messages and errors quoting anything
// but TCP are skipped.
func icmp(p *Packet, b []byte, cut, v6 bool) class {
	if len(b) < 8 {
		return short(cut)
	}
	typ, code := b[0], b[1]
	if v6 {
		if typ < 1 || typ > 3 { // destination unreachable, packet too big, time exceeded
			return classSkipped
		}
	} else if typ != 3 && typ != 11 { // destination unreachable, time exceeded
		return classSkipped
	}
	p.ICMP = ICMPInfo{From: p.Src.Addr(), V6: v6, Type: typ, Code: code}
	// The quote is an IP header and the start of the segment; its lengths
	// describe the original packet, not the bytes quoted.
	var q Packet
	var proto uint8
	var decl int
	var c class
	if v6 {
		proto, b, decl, c = quote6(&q, b[8:], cut)
	} else {
		proto, b, decl, c = quote4(&q, b[8:], cut)
	}
	if c != classTCP {
		return c
	}
	if proto != protoTCP {
		return classSkipped
	}
	if len(b) < 8 {
		return short(cut)
	}
	p.Kind = KindICMP
	p.ICMP.QuoteLen = uint16(min(len(b), 0xffff))
	p.Src, p.Dst = q.Src, q.Dst
	if len(b) < 14 {
		// Ports and sequence number only: RFC 792's minimum quote.
		p.Src = netip.AddrPortFrom(p.Src.Addr(), be.Uint16(b[0:2]))
		p.Dst = netip.AddrPortFrom(p.Dst.Addr(), be.Uint16(b[2:4]))
		p.Seq = be.Uint32(b[4:8])
		p.Opts.WScale = -1
		return classICMP
	}
	tcp(p, b)
	if hl := int(b[12]>>4) * 4; hl >= 20 && decl >= hl {
		p.PayloadLen = uint32(decl - hl)
	}
	return classICMP
}

// quote4 reads the IPv4 header quoted in an ICMP error into p's addresses and
// returns the protocol, the quoted layer-4 bytes and the original length.
func quote4(p *Packet, b []byte, cut bool) (uint8, []byte, int, class) {
	if len(b) < 20 {
		return 0, nil, 0, short(cut)
	}
	hl := int(b[0]&0x0f) * 4
	if b[0]>>4 != 4 || hl < 20 {
		return 0, nil, 0, classMalformed
	}
	if len(b) < hl {
		return 0, nil, 0, short(cut)
	}
	if be.Uint16(b[6:8])&0x1fff != 0 {
		return 0, nil, 0, classSkipped
	}
	p.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[12:16])), 0)
	p.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[16:20])), 0)
	return b[9], b[hl:], int(be.Uint16(b[2:4])) - hl, classTCP
}

// quote6 is quote4 for IPv6.
func quote6(p *Packet, b []byte, cut bool) (uint8, []byte, int, class) {
	if len(b) < 40 {
		return 0, nil, 0, short(cut)
	}
	if b[0]>>4 != 6 {
		return 0, nil, 0, classMalformed
	}
	p.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), 0)
	p.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[24:40])), 0)
	proto, q, c := ext6(b[6], b[40:], cut, nil)
	return proto, q, int(be.Uint16(b[4:6])) - (len(b) - 40 - len(q)), c
}

// ipVersion tells IPv4 from IPv6 by the version nibble of a packet that
// carries no other type field (raw IP, an MPLS payload, IP in a tunnel).
// b must hold a byte.
func ipVersion(b []byte) (uint16, bool) {
	switch b[0] >> 4 {
	case 4:
		return etherIPv4, true
	case 6:
		return etherIPv6, true
	}
	return 0, false
}

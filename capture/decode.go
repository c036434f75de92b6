package capture

import (
	"encoding/binary"
	"net/netip"
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
)

// Link types, as LINKTYPE_ values in capture files.
const (
	linkNull      = 0
	linkEthernet  = 1
	linkRawDLT12  = 12 // DLT_RAW leaked into files from most BSDs
	linkRawDLT14  = 14 // DLT_RAW on OpenBSD
	linkRaw       = 101
	linkLoop      = 108
	linkLinuxSLL  = 113
	linkIPv4      = 228
	linkIPv6      = 229
	linkLinuxSLL2 = 276
)

const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherDot1Q = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ1 = 0x9100 // pre-standard QinQ, still seen on some switches

	protoICMP   = 1
	protoTCP    = 6
	protoICMPv6 = 58
)

var be = binary.BigEndian

// decode fills p from one record of the given link type and says what it was.
// cut reports that the snaplen shortened the record, which tells a header cut
// by the capture (Truncated) from a header that lies about its length
// (Malformed). It never fails and never allocates.
func decode(p *Packet, link uint32, b []byte, cut bool) class {
	*p = Packet{}
	var et uint16
	switch link {
	case linkEthernet:
		if len(b) < 14 {
			return short(cut)
		}
		et, b = be.Uint16(b[12:14]), b[14:]
	case linkLinuxSLL:
		if len(b) < 16 {
			return short(cut)
		}
		et, b = be.Uint16(b[14:16]), b[16:]
	case linkLinuxSLL2:
		if len(b) < 20 {
			return short(cut)
		}
		et, b = be.Uint16(b[0:2]), b[20:]
	case linkNull, linkLoop:
		if len(b) < 4 {
			return short(cut)
		}
		// The family is in the writer's byte order for NULL and in network
		// order for LOOP, but not every writer knew: accept both, as
		// Wireshark does, by swapping a value that does not fit 16 bits.
		af := binary.LittleEndian.Uint32(b)
		if af > 0xffff {
			af = be.Uint32(b)
		}
		b = b[4:]
		switch af {
		case 2: // AF_INET everywhere
			et = etherIPv4
		case 10, 23, 24, 28, 30: // AF_INET6: Linux, Windows, Net/OpenBSD, FreeBSD, Darwin
			et = etherIPv6
		default:
			return classSkipped
		}
	case linkRaw, linkRawDLT12, linkRawDLT14:
		if len(b) < 1 {
			return short(cut)
		}
		switch b[0] >> 4 {
		case 4:
			et = etherIPv4
		case 6:
			et = etherIPv6
		default:
			return classMalformed
		}
	case linkIPv4:
		et = etherIPv4
	case linkIPv6:
		et = etherIPv6
	default:
		return classSkipped
	}
	// VLAN tags, any depth: each one is 4 bytes, so the loop ends.
	for et == etherDot1Q || et == etherQinQ || et == etherQinQ1 {
		if len(b) < 4 {
			return short(cut)
		}
		et, b = be.Uint16(b[2:4]), b[4:]
	}
	var proto uint8
	var l4 []byte
	var decl int
	var c class
	switch et {
	case etherIPv4:
		proto, l4, decl, c = ip4(p, b, cut)
	case etherIPv6:
		proto, l4, decl, c = ip6(p, b, cut)
	default:
		return classSkipped
	}
	if c != classTCP {
		return c
	}
	switch proto {
	case protoTCP:
		if len(l4) < 14 {
			return short(cut)
		}
		hl := int(l4[12]>>4) * 4
		if hl < 20 || decl < hl {
			return classMalformed
		}
		p.Kind = KindTCP
		p.PayloadLen = uint32(decl - hl)
		tcp(p, l4)
		return classTCP
	case protoICMP:
		if et != etherIPv4 {
			return classSkipped
		}
		return icmp(p, l4, cut, false)
	case protoICMPv6:
		if et != etherIPv6 {
			return classSkipped
		}
		return icmp(p, l4, cut, true)
	}
	return classSkipped
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
	if be.Uint16(b[6:8])&0x1fff != 0 {
		return 0, nil, 0, classSkipped // not the first fragment: no TCP header
	}
	return b[9], b[hl:min(tl, len(b))], tl - hl, classTCP
}

// ip6 is ip4 for IPv6, walking the extension headers.
func ip6(p *Packet, b []byte, cut bool) (proto uint8, l4 []byte, decl int, c class) {
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
	p.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), 0)
	p.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[24:40])), 0)
	proto, l4, c = ext6(b[6], b[40:min(tl, len(b))], cut)
	// The extension headers walked count against the payload length.
	return proto, l4, tl - (min(tl, len(b)) - len(l4)), c
}

// ext6 skips IPv6 extension headers from next header nh over b. Each header
// is at least 8 bytes, so the walk ends.
func ext6(nh uint8, b []byte, cut bool) (uint8, []byte, class) {
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
	proto, q, c := ext6(b[6], b[40:], cut)
	return proto, q, int(be.Uint16(b[4:6])) - (len(b) - 40 - len(q)), c
}

package capture

// One function per encapsulation. Each takes the bytes after the header
// that announced it and returns what follows (an EtherType, or nextIP or
// nextPPP), the bytes of it and classNext; or a final class. Each header is
// checked against the captured length before it is read.

// UDP ports that announce a tunnel.
const (
	portGTPU      = 2152
	portVXLAN     = 4789
	portVXLANLinx = 8472 // Linux's default VXLAN port before IANA's (flannel uses it)
	portVXLANGPE  = 4790
	portGeneve    = 6081
)

// gre reads a GRE header (RFC 2784, with RFC 2890's key and sequence
// number; version 1 is PPTP's). A key names the tunnel's tenant.
func gre(p *Packet, b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 4 {
		return 0, nil, short(cut)
	}
	flags, et := be.Uint16(b[0:2]), be.Uint16(b[2:4])
	if flags&0x4000 != 0 { // routing present (RFC 1701, deprecated)
		return 0, nil, classSkipped
	}
	n := 4
	if flags&0x8000 != 0 { // checksum and reserved
		n += 4
	}
	hasKey, seq := flags&0x2000 != 0, flags&0x1000 != 0
	var key uint32
	if hasKey {
		if len(b) < n+4 {
			return 0, nil, short(cut)
		}
		key = be.Uint32(b[n : n+4])
		n += 4
	}
	if seq {
		n += 4
	}
	switch flags & 7 {
	case 0:
	case 1: // PPTP: the key is a payload length and a call id, one per direction
		if et != 0x880b || !hasKey {
			return 0, nil, classSkipped
		}
		if flags&0x0080 != 0 { // acknowledgment number
			n += 4
		}
		hasKey, et = false, nextPPP
	default:
		return 0, nil, classSkipped
	}
	if len(b) < n {
		return 0, nil, short(cut)
	}
	b = b[n:]
	switch {
	case hasKey && et == etherTEB:
		// NVGRE: the key's low byte is a per-flow entropy id, the rest the
		// virtual subnet.
		p.Tunnel = Tunnel{Kind: TunnelNVGRE, ID: key >> 8}
	case hasKey:
		p.Tunnel = Tunnel{Kind: TunnelGRE, ID: key}
	}
	switch et {
	case etherERSPAN:
		if !seq {
			return etherTEB, b, classNext // type I: the mirrored frame, bare
		}
		// Type II: 8 bytes, version 1 in the first nibble.
		if len(b) < 8 {
			return 0, nil, short(cut)
		}
		if b[0]>>4 != 1 {
			return 0, nil, classSkipped
		}
		return etherTEB, b[8:], classNext
	case etherERSP3:
		// Type III: 12 bytes, version 2; 8 more with the platform-specific
		// subheader (O flag). The frame type says Ethernet (0) or IP (2).
		if len(b) < 12 {
			return 0, nil, short(cut)
		}
		if b[0]>>4 != 2 {
			return 0, nil, classSkipped
		}
		n := 12
		if b[11]&1 != 0 {
			n += 8
		}
		if len(b) < n {
			return 0, nil, short(cut)
		}
		switch (b[10] >> 2) & 0x1f {
		case 0:
			return etherTEB, b[n:], classNext
		case 2:
			return nextIP, b[n:], classNext
		}
		return 0, nil, classSkipped
	}
	return et, b, classNext
}

// udp reads a UDP header, and goes on when its destination port is a
// tunnel's; a DNS message ends the decoding.
func udp(p *Packet, b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 8 {
		return 0, nil, short(cut)
	}
	switch be.Uint16(b[2:4]) {
	case portGTPU:
		return gtpu(b[8:], cut)
	case portVXLAN, portVXLANLinx, portVXLANGPE:
		return vxlan(p, b[8:], cut)
	case portGeneve:
		return geneve(p, b[8:], cut)
	}
	if be.Uint16(b[0:2]) == portDNS || be.Uint16(b[2:4]) == portDNS {
		return 0, nil, dnsUDP(p, b, cut)
	}
	return 0, nil, classSkipped
}

// gtpu reads a GTP-U header (3GPP TS 29.281): user packets (G-PDU) only.
// Its TEID is not a tenant: each direction of a bearer has its own.
func gtpu(b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 8 {
		return 0, nil, short(cut)
	}
	if b[0]>>5 != 1 || b[0]&0x10 == 0 || b[1] != 255 { // version 1, GTP (not GTP'), G-PDU
		return 0, nil, classSkipped
	}
	n := 8
	if b[0]&0x07 != 0 { // sequence number, N-PDU number or extension present
		n = 12
		if len(b) < n {
			return 0, nil, short(cut)
		}
		// Extension headers, each a multiple of 4 bytes ending with the
		// next one's type.
		for next := b[11]; next != 0; {
			if len(b) < n+1 {
				return 0, nil, short(cut)
			}
			l := int(b[n]) * 4
			if l == 0 {
				return 0, nil, classMalformed
			}
			if len(b) < n+l {
				return 0, nil, short(cut)
			}
			next = b[n+l-1]
			n += l
		}
	}
	return nextIP, b[n:], classNext
}

// vxlan reads a VXLAN header (RFC 7348): an Ethernet frame follows; or,
// with the P flag of VXLAN-GPE, the frame its next protocol names.
func vxlan(p *Packet, b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 8 {
		return 0, nil, short(cut)
	}
	if b[0]&0x08 == 0 { // the VNI is not valid
		return 0, nil, classSkipped
	}
	p.Tunnel = Tunnel{Kind: TunnelVXLAN, ID: uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])}
	if b[0]&0x04 == 0 {
		return etherTEB, b[8:], classNext
	}
	switch b[3] {
	case 1:
		return etherIPv4, b[8:], classNext
	case 2:
		return etherIPv6, b[8:], classNext
	case 3:
		return etherTEB, b[8:], classNext
	case 5:
		return etherMPLS, b[8:], classNext
	}
	return 0, nil, classSkipped
}

// geneve reads a Geneve header (RFC 8926) and its options; the protocol
// type is an EtherType (0x6558 for Ethernet, IP for AWS's gateway load
// balancer).
func geneve(p *Packet, b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 8 {
		return 0, nil, short(cut)
	}
	if b[0]>>6 != 0 {
		return 0, nil, classSkipped // version 0 only
	}
	n := 8 + int(b[0]&0x3f)*4
	if len(b) < n {
		return 0, nil, short(cut)
	}
	p.Tunnel = Tunnel{Kind: TunnelGeneve, ID: uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])}
	return be.Uint16(b[2:4]), b[n:], classNext
}

// ppp reads a PPP frame's header: address and control (FF 03) when
// present, then the protocol, one byte when compressed (RFC 1661).
func ppp(b []byte, cut bool) (uint16, []byte, class) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) < 1 {
		return 0, nil, short(cut)
	}
	var proto uint16
	if b[0]&1 == 1 {
		proto, b = uint16(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			return 0, nil, short(cut)
		}
		proto, b = be.Uint16(b[0:2]), b[2:]
	}
	return pppProto(proto, b)
}

// pppProto goes on after a PPP protocol number.
func pppProto(proto uint16, b []byte) (uint16, []byte, class) {
	switch proto {
	case 0x0021:
		return etherIPv4, b, classNext
	case 0x0057:
		return etherIPv6, b, classNext
	case 0x0281:
		return etherMPLS, b, classNext
	case 0x0283:
		return etherMPLSMC, b, classNext
	}
	return 0, nil, classSkipped // LCP, IPCP, CHAP, …
}

// pppoe reads a PPPoE session header (RFC 2516) and the PPP protocol.
func pppoe(b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 8 {
		return 0, nil, short(cut)
	}
	if b[0] != 0x11 || b[1] != 0 { // version 1, type 1, session data
		return 0, nil, classSkipped
	}
	return pppProto(be.Uint16(b[6:8]), b[8:])
}

// chdlc reads a Cisco HDLC header: address, control, EtherType.
func chdlc(b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 4 {
		return 0, nil, short(cut)
	}
	return be.Uint16(b[2:4]), b[4:], classNext
}

// mpls skips an MPLS label stack and guesses the payload by its first
// nibble, as Wireshark does: 4 and 6 are IP, 0 a pseudowire control word
// (RFC 4385) before an Ethernet frame, anything else an Ethernet frame.
func mpls(b []byte, cut bool) (uint16, []byte, class) {
	for {
		if len(b) < 4 {
			return 0, nil, short(cut)
		}
		bottom := b[2]&1 != 0
		b = b[4:]
		if bottom {
			break
		}
	}
	if len(b) < 1 {
		return 0, nil, short(cut)
	}
	if et, ok := ipVersion(b); ok {
		return et, b, classNext
	}
	if b[0]>>4 == 0 { // a pseudowire control word, then Ethernet
		if len(b) < 4 {
			return 0, nil, short(cut)
		}
		return etherTEB, b[4:], classNext
	}
	return etherTEB, b, classNext
}

// pbb reads an 802.1ah I-TAG and the customer addresses that follow it.
func pbb(b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 18 {
		return 0, nil, short(cut)
	}
	return be.Uint16(b[16:18]), b[18:], classNext
}

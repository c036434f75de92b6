package capture

import "encoding/binary"

// nflog reads a Linux NFLOG record (what tcpdump -i nflog writes): a
// 4-byte header with the address family, then type-length-value
// attributes in the writing host's byte order, 4-byte aligned; the packet
// is in NFULA_PAYLOAD (type 9).
func nflog(b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 4 {
		return 0, nil, short(cut)
	}
	var et uint16
	switch b[0] {
	case 2:
		et = etherIPv4
	case 10:
		et = etherIPv6
	default:
		return 0, nil, classSkipped
	}
	if b[1] != 0 { // version
		return 0, nil, classSkipped
	}
	b = b[4:]
	// The byte order is the writer's: a first length that fits says which
	// (a little-endian 8 read big-endian is 2048).
	var order binary.ByteOrder = binary.LittleEndian
	if len(b) >= 4 {
		if l := int(order.Uint16(b)); l < 4 || l > len(b) {
			if l := int(be.Uint16(b)); (l < 4 || l > len(b)) && !cut {
				return 0, nil, classMalformed // in neither order
			}
			order = be
		}
	}
	for len(b) >= 4 {
		l, typ := int(order.Uint16(b[0:2])), order.Uint16(b[2:4])&0x3fff // without netlink's nested and byte-order flags
		if l < 4 {
			return 0, nil, classMalformed
		}
		if typ == 9 { // NFULA_PAYLOAD
			if l > len(b) && !cut {
				return 0, nil, classMalformed
			}
			return et, b[4:min(l, len(b))], classNext
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	if cut {
		return 0, nil, classTruncated
	}
	return 0, nil, classSkipped // no payload attribute
}

// radiotap skips a radiotap header, whose length is in it, before 802.11.
func radiotap(b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 8 {
		return 0, nil, short(cut)
	}
	n := int(binary.LittleEndian.Uint16(b[2:4]))
	if b[0] != 0 || n < 8 {
		return 0, nil, classMalformed
	}
	if len(b) < n {
		return 0, nil, short(cut)
	}
	return dot11(b[n:], cut)
}

// dot11 reads an 802.11 data frame (with QoS, and in the 4-address form
// of wireless bridges) and its LLC/SNAP header. Management and control
// frames, frames without data, encrypted frames and A-MSDU aggregates are
// skipped.
func dot11(b []byte, cut bool) (uint16, []byte, class) {
	if len(b) < 2 {
		return 0, nil, short(cut)
	}
	fc, flags := b[0], b[1]
	sub := fc >> 4
	switch {
	case fc&3 != 0, // protocol version 0 only
		(fc>>2)&3 != 2,  // data frames only
		sub&4 != 0,      // null function: no data
		flags&0x40 != 0: // protected: the payload is encrypted
		return 0, nil, classSkipped
	}
	n := 24
	if flags&3 == 3 { // to and from the distribution system: a fourth address
		n += 6
	}
	if sub&8 != 0 { // QoS data: 2 bytes of QoS control, 4 of HT control with the order flag
		if len(b) < n+2 {
			return 0, nil, short(cut)
		}
		if b[n]&0x80 != 0 { // A-MSDU present
			return 0, nil, classSkipped
		}
		n += 2
		if flags&0x80 != 0 {
			n += 4
		}
	}
	if len(b) < n+8 {
		return 0, nil, short(cut)
	}
	llc := b[n:]
	// SNAP, with RFC 1042's OUI 00-00-00 or 802.1H's 00-00-F8.
	if llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 || llc[3] != 0 || llc[4] != 0 || (llc[5] != 0 && llc[5] != 0xf8) {
		return 0, nil, classSkipped
	}
	return be.Uint16(llc[6:8]), llc[8:], classNext
}

// pktap reads Apple's PKTAP header (macOS tcpdump -i pktap or -i any):
// its length, a record type, the DLT_ of the frame it wraps, then the
// interface and process. Apple writes it little-endian, as every Mac is.
// A private link type (user 2, what macOS wrote before PKTAP had its
// own) is read as PKTAP only when its header holds together.
func pktap(link uint32, b []byte, cut bool) (uint16, []byte, class) {
	const minHeader = 108 // what version 1's fields take
	le := binary.LittleEndian
	if len(b) < 12 {
		if link == linkUser2 {
			return 0, nil, classUnknownLink
		}
		return 0, nil, short(cut)
	}
	hl, rectype, dlt := le.Uint32(b[0:4]), le.Uint32(b[4:8]), le.Uint32(b[8:12])
	inner := dlt == linkNull || dlt == linkEthernet || dlt == linkPPP || dlt == linkRawDLT12 || dlt == linkRawDLT14 || dlt == linkLoop
	switch {
	case hl < minHeader || !inner || rectype > 1:
		if link == linkUser2 {
			return 0, nil, classUnknownLink
		}
		return 0, nil, classMalformed
	case rectype != 1: // not a packet
		return 0, nil, classSkipped
	case uint64(hl) > uint64(len(b)):
		return 0, nil, short(cut)
	}
	return linkLayer(dlt, b[hl:], cut)
}

// linkNames names the link types, read or not, that captures commonly hold.
var linkNames = map[uint32]string{
	linkNull: "BSD loopback", linkEthernet: "Ethernet", 8: "SLIP", linkPPP: "PPP", 10: "FDDI",
	linkRawDLT12: "raw IP", linkRawDLT14: "raw IP", linkPPPHDLC: "PPP in HDLC framing", 51: "PPPoE",
	100: "ATM RFC 1483", linkRaw: "raw IP", linkCHDLC: "Cisco HDLC", link80211: "802.11", 106: "ATM classical IP",
	107: "Frame Relay", linkLoop: "OpenBSD loopback", linkLinuxSLL: "Linux cooked", 117: "OpenBSD pflog",
	119: "802.11 Prism", 123: "SunATM", linkRadiotap: "802.11 radiotap", 129: "ARCNET",
	147: "user 0", 148: "user 1", 163: "802.11 AVS", 166: "PPP (pppd)", 187: "Bluetooth HCI",
	189: "USB Linux", 192: "802.11 PPI", 195: "802.15.4", 197: "Endace ERF", 201: "Bluetooth HCI",
	204: "PPP with direction", 205: "Cisco HDLC with direction", 206: "Frame Relay with direction",
	220: "USB Linux", 226: "Solaris ipnet", 227: "SocketCAN", linkIPv4: "IPv4", linkIPv6: "IPv6", 231: "D-Bus",
	linkNFLOG: "NFLOG", linkIPoIB: "IP over InfiniBand", 249: "USBPcap", 252: "Wireshark upper PDU",
	253: "Linux netlink", linkPKTAP: "Apple PKTAP", 271: "Linux vsock", linkLinuxSLL2: "Linux cooked v2",
	281: "Broadcom switch tag", 282: "Broadcom switch tag", 284: "Marvell DSA tag", 285: "Marvell EDSA tag",
}

// LinkTypeName names a LINKTYPE_ value ("802.11"), or says nothing.
func LinkTypeName(link uint32) string { return linkNames[link] }

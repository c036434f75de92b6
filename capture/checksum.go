package capture

// checkSum reports whether the TCP segment seg, captured whole, carries a
// wrong checksum (bad), or a right one (good), given the IP header ip it
// came in (IPv4 if v4); neither when offload left it unfinished. A wrong one: its
// receiver's stack discards such a segment (Linux counts it in
// TcpInCsumErrors) as if it never came. Only the handshake's segments are
// checked (SYN, SYN-ACK, RST): few, and small.
//
// A checksum that checksum offload left unfinished is not wrong: a capture
// on the sending host sees segments before the NIC fills it in, and one on
// the receiving end of a veth (a container's) sees them as the sender's
// stack left them, the receiver trusting them. Linux leaves the
// pseudo-header's sum there (CHECKSUM_PARTIAL), which is told here from
// damage: a segment whose field holds that sum, or zero, is not called
// bad.
func checkSum(ip, seg []byte, v4 bool) (bad, good bool) {
	var pseudo uint32
	if v4 {
		if len(ip) < 20 {
			return false, false
		}
		pseudo = sum16(ip[12:20], 0)
	} else {
		if len(ip) < 40 {
			return false, false
		}
		pseudo = sum16(ip[8:40], 0)
	}
	pseudo += uint32(protoTCP) + uint32(len(seg))>>16 + uint32(len(seg))&0xffff
	if fold(sum16(seg, pseudo)) == 0xffff {
		return false, true
	}
	field := uint16(seg[16])<<8 | uint16(seg[17])
	if field == 0 || field == fold(pseudo) || field == ^fold(pseudo) {
		return false, false
	}
	return true, false
}

// sum16 adds b's big-endian 16-bit words to s (one's complement, carries
// kept above 16 bits), an odd last byte padded with zero.
func sum16(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold folds the carries of a one's complement sum into 16 bits.
func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

package capture

import "net/netip"

// DNS messages (RFC 1035 4.1) on port 53: what the lookup before a connect
// asked and got. Names are read through compression pointers that must
// point backwards, a bounded number of times, so a crafted message cannot
// loop; every length is checked against the bytes captured.

const portDNS = 53

// MaxDNSAddrs is how many A/AAAA answers a DNSInfo keeps.
const MaxDNSAddrs = 4

// DNS response codes a failed lookup may carry.
const (
	RCodeNoError  = 0
	RCodeServFail = 2
	RCodeNXDomain = 3
	RCodeRefused  = 5
)

// DNS question types of the addresses a connect uses.
const (
	QTypeA    = 1
	QTypeAAAA = 28
)

// DNSInfo is one DNS message (Kind == KindDNS over UDP; over TCP the Packet
// stays a KindTCP segment and TCP is set). For a query Src is the client
// and Dst the server; for a response the other way round
// ([Packet.DNSEnds]). Fixed size, no slices.
type DNSInfo struct {
	ID       uint16
	Response bool  // QR: a response, else a query
	Opcode   uint8 // 0: a standard query
	RCode    uint8 // the header's response code (RCode* constants)
	// TC: the response was truncated; the client retries over TCP.
	TC bool
	// TCP: the message came in a TCP segment (with its length prefix).
	TCP bool
	// Questions and Answers are the header's counts.
	Questions, Answers uint16
	// Name and QType are those of the first question.
	Name  Name
	QType uint16
	// Addrs are the first NAddrs A and AAAA answers, in message order
	// (whatever name they belong to: the end of a CNAME chain is the
	// question's), MoreAddrs set when there were more. TTL is the least
	// TTL among them, in seconds.
	Addrs     [MaxDNSAddrs]netip.Addr
	NAddrs    uint8
	MoreAddrs bool
	TTL       uint32
	// Cut says the capture (snaplen, or a TCP message longer than its
	// segment) ended inside the message: what lies beyond was not read.
	Cut bool
}

// HasDNS reports whether p carries a DNS message: a UDP datagram
// (KindDNS), or a TCP segment starting one.
func (p *Packet) HasDNS() bool { return p.Kind == KindDNS || p.DNS.TCP }

// DNSEnds returns the client (who asks) and the server (who answers) of a
// DNS message.
func (p *Packet) DNSEnds() (client, server netip.AddrPort) {
	if p.DNS.Response {
		return p.Dst, p.Src
	}
	return p.Src, p.Dst
}

// maxDNSPointers bounds the compression pointers followed in one name.
const maxDNSPointers = 16

// dnsName reads the name at off in m into n (when n is not nil) and returns
// the offset just past the name where it sits (a pointer ends it).
func dnsName(m []byte, off int, n *Name) (int, bool) {
	end := -1
	floor := off // a pointer must point below the name's part it ends
	total := 0   // bytes of the name in wire form, at most 255
	for ptrs := 0; ; {
		if off >= len(m) {
			return 0, false
		}
		l := int(m[off])
		switch l >> 6 {
		case 0:
			if l == 0 {
				if end < 0 {
					end = off + 1
				}
				return end, true
			}
			if total += l + 1; total > 255 || off+1+l > len(m) {
				return 0, false
			}
			if n != nil {
				if n.n > 0 || n.Cut {
					n.add('.')
				}
				for _, c := range m[off+1 : off+1+l] {
					n.add(c)
				}
			}
			off += 1 + l
		case 3:
			if off+2 > len(m) {
				return 0, false
			}
			ptr := int(be.Uint16(m[off:]) & 0x3fff)
			if ptrs++; ptrs > maxDNSPointers || ptr >= floor {
				return 0, false
			}
			if end < 0 {
				end = off + 2
			}
			off, floor = ptr, ptr
		default: // extended label types (RFC 6891): obsolete
			return 0, false
		}
	}
}

// dnsMsg reads a DNS message. Broken structure in a message the capture
// holds whole is malformed; a message cut by the capture keeps what was
// read before the cut, as long as its header is there.
func dnsMsg(d *DNSInfo, m []byte, cut bool) class {
	if len(m) < 12 {
		if cut {
			return classSkipped
		}
		return classMalformed
	}
	broken := func() class {
		if cut {
			d.Cut = true
			return classDNS
		}
		return classMalformed
	}
	d.ID = be.Uint16(m[0:2])
	flags := be.Uint16(m[2:4])
	d.Response = flags&0x8000 != 0
	d.Opcode = uint8(flags>>11) & 0xf
	d.TC = flags&0x0200 != 0
	d.RCode = uint8(flags & 0xf)
	d.Questions, d.Answers = be.Uint16(m[4:6]), be.Uint16(m[6:8])
	off := 12
	for i := range int(d.Questions) {
		var n *Name
		if i == 0 {
			n = &d.Name
		}
		end, ok := dnsName(m, off, n)
		if !ok || end+4 > len(m) {
			if i == 0 && n.n > 0 {
				d.Name.Cut = true
			}
			return broken()
		}
		if i == 0 {
			d.QType = be.Uint16(m[end:])
		}
		off = end + 4
	}
	for range int(d.Answers) {
		end, ok := dnsName(m, off, nil)
		if !ok || end+10 > len(m) {
			return broken()
		}
		typ, ttl, rdl := be.Uint16(m[end:]), be.Uint32(m[end+4:]), int(be.Uint16(m[end+8:]))
		rd := end + 10
		if rd+rdl > len(m) {
			return broken()
		}
		var a netip.Addr
		switch {
		case typ == QTypeA && rdl == 4:
			a = netip.AddrFrom4([4]byte(m[rd : rd+4]))
		case typ == QTypeAAAA && rdl == 16:
			a = netip.AddrFrom16([16]byte(m[rd : rd+16]))
		}
		if a.IsValid() {
			if d.NAddrs == 0 || ttl < d.TTL {
				d.TTL = ttl
			}
			if int(d.NAddrs) < len(d.Addrs) {
				d.Addrs[d.NAddrs] = a
				d.NAddrs++
			} else {
				d.MoreAddrs = true
			}
		}
		off = rd + rdl
	}
	return classDNS
}

// dnsUDP reads a DNS message in a UDP datagram (the UDP header's ports
// are in b[0:4]); the payload is bounded by the UDP length.
func dnsUDP(p *Packet, b []byte, cut bool) class {
	ul := int(be.Uint16(b[4:6]))
	if ul < 8 || (ul > len(b) && !cut) {
		return classMalformed
	}
	p.Kind = KindDNS
	p.Src = netip.AddrPortFrom(p.Src.Addr(), be.Uint16(b[0:2]))
	p.Dst = netip.AddrPortFrom(p.Dst.Addr(), be.Uint16(b[2:4]))
	c := dnsMsg(&p.DNS, b[8:min(ul, len(b))], cut && ul > len(b))
	if c != classDNS {
		p.Kind = 0
	}
	return c
}

// dnsTCP reads the DNS message a TCP segment to or from port 53 starts
// with, behind its two-byte length; anything else (a later segment of a
// long message) leaves p.DNS zero.
func dnsTCP(p *Packet, b []byte) {
	if len(b) < 2+12 {
		return
	}
	n := int(be.Uint16(b[0:2]))
	if n < 12 {
		return
	}
	var d DNSInfo
	if dnsMsg(&d, b[2:min(len(b), 2+n)], len(b) < 2+n) != classDNS {
		return
	}
	d.TCP = true
	p.DNS = d
}

package capture

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Ref points at one packet the way Wireshark numbers it: 1-based, every
// record in the file counts, whatever it holds.
type Ref struct {
	File string
	N    uint64
	TS   time.Time
	// Iface is, in live capture, the index of the interface the packet
	// was captured on (0 in files). A router's capture on several
	// interfaces sees a forwarded packet once on each: the same packet at
	// two vantages, which this tells apart.
	Iface int32
}

// String formats a Ref as file:frame@time, the form used in evidence.
func (r Ref) String() string {
	var b [64]byte
	return string(r.AppendTo(b[:0]))
}

// AppendTo appends the words String gives, without fmt.
func (r Ref) AppendTo(b []byte) []byte {
	b = append(b, r.File...)
	b = append(b, ':')
	b = strconv.AppendUint(b, r.N, 10)
	b = append(b, '@')
	return r.TS.UTC().AppendFormat(b, "15:04:05.000000")
}

// TCPFlags holds the TCP header flag bits in their wire positions.
type TCPFlags uint8

const (
	FlagFIN TCPFlags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Has reports whether every bit of f2 is set in f.
func (f TCPFlags) Has(f2 TCPFlags) bool { return f&f2 == f2 }

// BareSYN reports whether f opens a connection: SYN without ACK or RST
// (ECN and the other bits aside).
func (f TCPFlags) BareSYN() bool { return f&(FlagSYN|FlagACK|FlagRST) == FlagSYN }

func (f TCPFlags) String() string {
	const names = "FSRPAUEC"
	var b [8]byte
	n := 0
	for i := 0; i < 8; i++ {
		if f&(1<<i) != 0 {
			b[n] = names[i]
			n++
		}
	}
	return string(b[:n])
}

// Direction is which way a packet crossed the host a capture was taken on.
type Direction uint8

const (
	DirUnknown Direction = iota // the capture does not say
	DirIn                       // received by the host (to it, or to pass on)
	DirOut                      // sent by the host (its own, or passed on)
)

// Kind says what a Packet describes.
type Kind uint8

const (
	// KindTCP is a TCP segment.
	KindTCP Kind = iota + 1
	// KindICMP is an ICMP or ICMPv6 error whose quoted packet is a TCP
	// segment; the TCP fields of the Packet are those of the quoted segment.
	KindICMP
	// KindDNS is a DNS message over UDP (port 53): DNS holds it, Src and
	// Dst are the UDP endpoints, and the TCP fields are zero.
	KindDNS
	// KindOtherIP is any other IP packet (UDP, ICMP echo, …), returned
	// only when Reader.ReportOtherIP asks: Src and Dst hold its addresses
	// (ports zero), the rest is zero. It says which hosts a capture shows.
	KindOtherIP
)

// TCPOptions are the handshake options synpath uses to recognise the same
// SYN in two captures, across NAT.
type TCPOptions struct {
	MSS      uint16 // 0: absent
	WScale   int8   // -1: absent
	SACKPerm bool
	HasTS    bool
	TSVal    uint32
	TSEcr    uint32
	// Cut says the capture ended inside the options: those wholly captured
	// are set, the others unknown rather than absent.
	Cut bool
}

// ICMPInfo describes an ICMP or ICMPv6 error (Kind == KindICMP).
type ICMPInfo struct {
	From netip.Addr // who sent the error (outer source address)
	V6   bool       // ICMPv6 rather than ICMP
	Type uint8
	Code uint8
	// QuoteLen is how many bytes of the quoted TCP header the error holds
	// (8 at least): Packet.Ack is valid from 12, Flags and PayloadLen from
	// 14, Window from 16, and Opts as for a captured SYN (see Cut).
	QuoteLen uint16
}

// Packet is what flows needs from one TCP segment, one ICMP error quoting a
// segment, or one DNS message. It holds no slices, so it is safe to copy and
// the Reader may reuse its buffers.
//
// Its fields are in the order tracking reads them: what every packet is
// read for fills the first three cache lines (Ref to App.Kind), options,
// ICMP and DNS details come after. A packet crosses from the decoding
// goroutine to the tracking one; lines it does not read stay behind.
type Packet struct {
	Ref
	Kind  Kind
	Flags TCPFlags
	// TTL is the IPv4 TTL or IPv6 hop limit of the IP header around the
	// segment or the ICMP error (not the quoted packet's, nor a tunnel's:
	// the endpoints', which vantage inference needs), IPID its IPv4
	// identification (0 for IPv6).
	TTL  uint8
	IPID uint16
	// Dir is which way the packet crossed the capture's host, where the
	// capture records it (Linux cooked headers' packet type, pcapng's
	// epb_flags): a router's capture holds what it received and what it
	// sent on, and only this tells its own packets from ones passing.
	Dir Direction
	// Src and Dst are the TCP endpoints. For KindICMP they are the endpoints
	// of the quoted segment (the packet that provoked the error).
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	// PayloadLen is the TCP payload length the IP header announces, which
	// may exceed what the snaplen let the capture keep.
	PayloadLen uint32
	Window     uint16
	// BadSum is set on a SYN, SYN-ACK or RST captured whole whose TCP
	// checksum is wrong, and not as checksum offload leaves it (badSum):
	// its receiver's stack discards it. GoodSum is set on one whose
	// checksum is right: the capture records checksums as computed.
	BadSum, GoodSum bool
	// Tunnel is the virtual network the segment was carried in, when its
	// encapsulation names one (VXLAN, Geneve, keyed GRE): two tenants may
	// use the same inner addresses. Zero for plain traffic and for
	// encapsulations without a tenant (IP-in-IP, MPLS, PPPoE, GTP-U, whose
	// tunnel ids differ per direction).
	Tunnel Tunnel
	// App is what the start of a TCP payload says (a TLS ClientHello and
	// its SNI, an HTTP request and its Host, an HTTP response and its
	// status); zero when there is no payload or it is none of those.
	App  AppInfo
	Opts TCPOptions // parsed on SYN segments only
	ICMP ICMPInfo
	// DNS is the DNS message of a KindDNS packet, or of a TCP segment to or
	// from port 53 that starts one (DNS.TCP set; only a segment with
	// payload).
	DNS DNSInfo
}

// TunnelKind says which encapsulation a Tunnel's ID belongs to.
type TunnelKind uint8

const (
	TunnelVXLAN  TunnelKind = iota + 1 // ID: the VNI (24 bits)
	TunnelGeneve                       // ID: the VNI (24 bits)
	TunnelGRE                          // ID: the GRE key
	TunnelNVGRE                        // ID: the virtual subnet (GRE key >> 8) of Ethernet over GRE
)

// Tunnel names the virtual network of a packet: the innermost one that has
// an id when tunnels nest. It is comparable and holds no pointer.
type Tunnel struct {
	Kind TunnelKind // 0: none
	ID   uint32
}

func (t Tunnel) String() string {
	switch t.Kind {
	case 0:
		return ""
	case TunnelVXLAN:
		return fmt.Sprintf("vxlan vni %d", t.ID)
	case TunnelGeneve:
		return fmt.Sprintf("geneve vni %d", t.ID)
	case TunnelGRE:
		return fmt.Sprintf("gre key %d", t.ID)
	case TunnelNVGRE:
		return fmt.Sprintf("nvgre vsid %d", t.ID)
	}
	return fmt.Sprintf("tunnel %d:%d", t.Kind, t.ID)
}

// Stats counts what a Reader has read.
type Stats struct {
	Packets   uint64 // records read
	TCP       uint64 // TCP segments handed on
	ICMP      uint64 // ICMP errors quoting TCP handed on
	DNS       uint64 // DNS messages over UDP handed on
	Skipped   uint64 // records without TCP: other protocols, other ICMP, non-first fragments
	Malformed uint64 // records whose headers (or DNS messages) do not decode
	Truncated uint64 // records cut by the snaplen before the TCP header ended
	Filtered  uint64 // records the filter expression rejected (analyze --filter)
	// Reassembled counts IPv4 and IPv6 datagrams rebuilt from fragments
	// (their fragments count as Skipped, but for the last one).
	Reassembled uint64
	// UnreadLinks counts, per link type synpath does not read, the records
	// skipped (they count in Skipped too), in order of first appearance;
	// unused entries have no packets. An array keeps Stats comparable.
	UnreadLinks [maxUnreadLinks]LinkCount
	// BadLength counts records whose captured length exceeds the original
	// length (a writer's bug); they are read whole, as tshark reads them.
	BadLength uint64
	// BadTime counts records whose time was impossible, and clamped: a
	// fraction field of a second or more, or (pcapng, a broken
	// if_tsoffset or resolution) a year past 9999 or before 1970.
	BadTime uint64
	// First and Last are the earliest and latest timestamps of any record:
	// how long the capture ran, which TCP alone does not tell.
	First, Last time.Time
}

// LinkCount is how many records of one link type were skipped unread.
type LinkCount struct {
	Link    uint32 // LINKTYPE_ value; LinkOthers lumps the types past the first maxUnreadLinks
	Packets uint64
}

// LinkOthers, in the last entry of Stats.UnreadLinks, lumps the link types
// past the first few a file holds.
const LinkOthers = ^uint32(0)

// maxUnreadLinks bounds UnreadLinks: a pcapng file may declare thousands
// of interfaces, and each packet's lookup is a scan.
const maxUnreadLinks = 8

// Unread lists the link types of UnreadLinks that were met.
func (s *Stats) Unread() []LinkCount {
	n := 0
	for n < len(s.UnreadLinks) && s.UnreadLinks[n].Packets > 0 {
		n++
	}
	return s.UnreadLinks[:n]
}

// unread counts one record of a link type not read.
func (s *Stats) unread(link uint32) {
	u := &s.UnreadLinks
	for i := range u {
		if u[i].Packets == 0 || u[i].Link == link || i == len(u)-1 {
			if u[i].Packets > 0 && u[i].Link != link {
				link = LinkOthers // the last entry lumps the rest
			}
			u[i].Link = link
			u[i].Packets++
			return
		}
	}
}

// String names the link type as "link type 105 (802.11)".
func (l LinkCount) String() string {
	if l.Link == LinkOthers {
		return "other link types"
	}
	if n := LinkTypeName(l.Link); n != "" {
		return fmt.Sprintf("link type %d (%s)", l.Link, n)
	}
	return fmt.Sprintf("link type %d", l.Link)
}

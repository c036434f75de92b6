package capture

import (
	"fmt"
	"net/netip"
	"time"
)

// Ref points at one packet the way Wireshark numbers it: 1-based, every
// record in the file counts, whatever it holds.
type Ref struct {
	File string
	N    uint64
	TS   time.Time
}

// String formats a Ref as file:frame@time, the form used in evidence.
func (r Ref) String() string {
	return fmt.Sprintf("%s:%d@%s", r.File, r.N, r.TS.UTC().Format("15:04:05.000000"))
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

// Kind says what a Packet describes.
type Kind uint8

const (
	// KindTCP is a TCP segment.
	KindTCP Kind = iota + 1
	// KindICMP is an ICMP or ICMPv6 error whose quoted packet is a TCP
	// segment; the TCP fields of the Packet are those of the quoted segment.
	KindICMP
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

// Packet is what flows needs from one TCP segment or one ICMP error quoting a
// segment. It holds no slices, so it is safe to copy and the Reader may reuse
// its buffers.
type Packet struct {
	Ref
	Kind Kind
	// Src and Dst are the TCP endpoints. For KindICMP they are the endpoints
	// of the quoted segment (the packet that provoked the error).
	Src, Dst netip.AddrPort
	Flags    TCPFlags
	Seq, Ack uint32
	Window   uint16
	// PayloadLen is the TCP payload length the IP header announces, which
	// may exceed what the snaplen let the capture keep.
	PayloadLen uint32
	// TTL is the IPv4 TTL or IPv6 hop limit of the outer packet, IPID the
	// IPv4 identification (0 for IPv6).
	TTL  uint8
	IPID uint16
	Opts TCPOptions // parsed on SYN segments only
	ICMP ICMPInfo
}

// Stats counts what a Reader has read.
type Stats struct {
	Packets   uint64 // records read
	TCP       uint64 // TCP segments handed on
	ICMP      uint64 // ICMP errors quoting TCP handed on
	Skipped   uint64 // records without TCP: other protocols, other ICMP, non-first fragments
	Malformed uint64 // records whose headers do not decode
	Truncated uint64 // records cut by the snaplen before the TCP header ended
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

package capture

// Generators for the tests: IP packets are serialised with gopacket (an
// encoder independent of our decoder), link headers and file formats are
// written by hand where pcapgo's writers cannot (big-endian, per-interface
// timestamp resolutions, several sections).

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	cli4 = netip.MustParseAddrPort("198.51.100.10:40512")
	srv4 = netip.MustParseAddrPort("203.0.113.5:443")
	cli6 = netip.MustParseAddrPort("[2001:db8::10]:40512")
	srv6 = netip.MustParseAddrPort("[2001:db8::5]:443")
	t0   = time.Date(2026, 11, 20, 14, 2, 31, 125001000, time.UTC)
)

// seg describes one TCP segment.
type seg struct {
	src, dst netip.AddrPort
	flags    TCPFlags
	seq, ack uint32
	win      uint16
	payload  int
	ttl      uint8
	id       uint16
	ext6     []byte // raw IPv6 extension headers; the first byte of the last is set to TCP
	ext6NH   uint8  // next header announcing ext6
	data     []byte // the payload, when not payload zero bytes
}

// body is the segment's payload.
func (s seg) body() gopacket.Payload {
	if s.data != nil {
		return s.data
	}
	return make([]byte, s.payload)
}

func syn(src, dst netip.AddrPort) seg {
	return seg{src: src, dst: dst, flags: FlagSYN, seq: 1000, win: 64240, ttl: 64, id: 7}
}

// synOpts are the options every generated SYN carries, as Linux sends them.
var synOpts = TCPOptions{MSS: 1460, SACKPerm: true, HasTS: true, TSVal: 123456, TSEcr: 0, WScale: 7}

func (s seg) tcp() *layers.TCP {
	f := s.flags
	t := &layers.TCP{
		SrcPort: layers.TCPPort(s.src.Port()), DstPort: layers.TCPPort(s.dst.Port()),
		Seq: s.seq, Ack: s.ack, Window: s.win,
		FIN: f.Has(FlagFIN), SYN: f.Has(FlagSYN), RST: f.Has(FlagRST), PSH: f.Has(FlagPSH),
		ACK: f.Has(FlagACK), URG: f.Has(FlagURG), ECE: f.Has(FlagECE), CWR: f.Has(FlagCWR),
	}
	if f.Has(FlagSYN) {
		ts := make([]byte, 8)
		binary.BigEndian.PutUint32(ts, synOpts.TSVal)
		t.Options = []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: ts},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
		}
	}
	return t
}

// ip serialises the segment with its IP header.
func (s seg) ip() []byte {
	buf := gopacket.NewSerializeBuffer()
	o := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	t := s.tcp()
	var err error
	if s.src.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, TTL: s.ttl, Id: s.id, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP(s.src.Addr().AsSlice()), DstIP: net.IP(s.dst.Addr().AsSlice())}
		t.SetNetworkLayerForChecksum(ip)
		err = gopacket.SerializeLayers(buf, o, ip, t, s.body())
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: s.ttl, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.IP(s.src.Addr().AsSlice()), DstIP: net.IP(s.dst.Addr().AsSlice())}
		t.SetNetworkLayerForChecksum(ip)
		if s.ext6 == nil {
			err = gopacket.SerializeLayers(buf, o, ip, t, s.body())
		} else {
			l4 := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(l4, o, t, s.body()); err != nil {
				panic(err)
			}
			ip.NextHeader = layers.IPProtocol(s.ext6NH)
			err = gopacket.SerializeLayers(buf, o, ip, gopacket.Payload(append(bytes.Clone(s.ext6), l4.Bytes()...)))
		}
	}
	if err != nil {
		panic(err)
	}
	return bytes.Clone(buf.Bytes())
}

// icmpError wraps quote (an IP packet, cut to n bytes past its IP header) in
// an ICMP or ICMPv6 error sent by from.
func icmpError(from, to netip.Addr, typ, code uint8, quote []byte, n int) []byte {
	buf := gopacket.NewSerializeBuffer()
	o := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var err error
	if from.Is4() {
		hl := int(quote[0]&0x0f) * 4
		quote = quote[:min(len(quote), hl+n)]
		ip := &layers.IPv4{Version: 4, TTL: 250, Id: 99, Protocol: layers.IPProtocolICMPv4,
			SrcIP: net.IP(from.AsSlice()), DstIP: net.IP(to.AsSlice())}
		ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code)}
		err = gopacket.SerializeLayers(buf, o, ip, ic, gopacket.Payload(quote))
	} else {
		quote = quote[:min(len(quote), 40+n)]
		ip := &layers.IPv6{Version: 6, HopLimit: 250, NextHeader: layers.IPProtocolICMPv6,
			SrcIP: net.IP(from.AsSlice()), DstIP: net.IP(to.AsSlice())}
		ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}
		ic.SetNetworkLayerForChecksum(ip)
		// ICMPv6 errors carry 4 more header bytes (unused, or the MTU).
		err = gopacket.SerializeLayers(buf, o, ip, ic, gopacket.Payload(append([]byte{0, 0, 5, 0}, quote...)))
	}
	if err != nil {
		panic(err)
	}
	return bytes.Clone(buf.Bytes())
}

func etherType(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return etherIPv6
	}
	return etherIPv4
}

// frame puts an IP packet in a link-layer frame of the given type. tags are
// VLAN TPIDs (0x8100, 0x88a8), outermost first, for Ethernet and SLL.
func frame(link uint32, ip []byte, tags ...uint16) []byte {
	et := etherType(ip)
	var inner []byte
	for i := len(tags) - 1; i >= 0; i-- {
		inner = append(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, uint16(100+i)), et), inner...)
		et = tags[i]
	}
	ip = append(inner, ip...)
	var h []byte
	switch link {
	case linkEthernet:
		h = append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}, byte(et>>8), byte(et))
	case linkLinuxSLL:
		h = append([]byte{0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 2, 0, 0}, byte(et>>8), byte(et))
	case linkLinuxSLL2:
		h = []byte{byte(et >> 8), byte(et), 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 2, 0, 0}
	case linkNull:
		af := uint32(2)
		if et == etherIPv6 {
			af = 30
		}
		h = binary.LittleEndian.AppendUint32(nil, af)
	case linkLoop:
		af := uint32(2)
		if et == etherIPv6 {
			af = 24
		}
		h = binary.BigEndian.AppendUint32(nil, af)
	}
	return append(h, ip...)
}

// rec is one record of a generated capture.
type rec struct {
	data []byte
	orig int // 0: len(data)
	ts   time.Time
	// epbFlags, if set, is written as the epb_flags option of pcapng.
	epbFlags uint32
}

// pcapFile writes a classic pcap file by hand, in either byte order.
func pcapFile(order binary.AppendByteOrder, nano bool, link uint32, recs ...rec) []byte {
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 262144)
	b = order.AppendUint32(b, link)
	for i, r := range recs {
		ts := r.ts
		if ts.IsZero() {
			ts = t0.Add(time.Duration(i) * time.Millisecond)
		}
		frac := ts.Nanosecond()
		if !nano {
			frac /= 1000
		}
		b = order.AppendUint32(b, uint32(ts.Unix()))
		b = order.AppendUint32(b, uint32(frac))
		b = order.AppendUint32(b, uint32(len(r.data)))
		b = order.AppendUint32(b, uint32(max(r.orig, len(r.data))))
		b = append(b, r.data...)
	}
	return b
}

// ngFile writes pcapng by hand: sections, interfaces and packets in order.
type ngFile struct {
	order binary.AppendByteOrder
	b     []byte
}

func (f *ngFile) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	f.b = f.order.AppendUint32(f.b, typ)
	f.b = f.order.AppendUint32(f.b, uint32(len(body)+12))
	f.b = append(f.b, body...)
	f.b = f.order.AppendUint32(f.b, uint32(len(body)+12))
}

func (f *ngFile) section() {
	b := f.order.AppendUint32(nil, ngBOM)
	b = f.order.AppendUint16(b, 1)
	b = f.order.AppendUint16(b, 0)
	b = f.order.AppendUint64(b, ^uint64(0))
	f.block(ngSHB, b)
}

// iface adds an interface; tsresol is the if_tsresol byte (0: none, 10^-6).
func (f *ngFile) iface(link uint16, tsresol byte) {
	b := f.order.AppendUint16(nil, link)
	b = f.order.AppendUint16(b, 0)
	b = f.order.AppendUint32(b, 0)
	b = f.order.AppendUint16(b, 2) // if_name, to have an option to skip
	b = f.order.AppendUint16(b, 3)
	b = append(b, 'e', 't', 'h', 0)
	if tsresol != 0 {
		b = f.order.AppendUint16(b, 9)
		b = f.order.AppendUint16(b, 1)
		b = append(b, tsresol, 0, 0, 0)
	}
	b = f.order.AppendUint32(b, 0) // end of options
	f.block(ngIDB, b)
}

// epb adds an enhanced packet; ts is in the interface's units.
func (f *ngFile) epb(ifc uint32, ts uint64, r rec) {
	b := f.order.AppendUint32(nil, ifc)
	b = f.order.AppendUint32(b, uint32(ts>>32))
	b = f.order.AppendUint32(b, uint32(ts))
	b = f.order.AppendUint32(b, uint32(len(r.data)))
	b = f.order.AppendUint32(b, uint32(max(r.orig, len(r.data))))
	b = append(b, r.data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = f.order.AppendUint16(b, 1) // opt_comment, to have an option to skip
	b = f.order.AppendUint16(b, 2)
	b = append(b, 'h', 'i', 0, 0)
	if r.epbFlags != 0 {
		b = f.order.AppendUint16(b, 2)
		b = f.order.AppendUint16(b, 4)
		b = f.order.AppendUint32(b, r.epbFlags)
	}
	f.block(ngEPB, b)
}

func gz(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// handshake is a three-way handshake plus one data segment each way.
func handshake(c, s netip.AddrPort) []seg {
	a := syn(c, s)
	b := seg{src: s, dst: c, flags: FlagSYN | FlagACK, seq: 5000, ack: 1001, win: 65160, ttl: 63, id: 0}
	d := seg{src: c, dst: s, flags: FlagACK, seq: 1001, ack: 5001, win: 502, ttl: 64, id: 8}
	e := seg{src: c, dst: s, flags: FlagACK | FlagPSH, seq: 1001, ack: 5001, win: 502, ttl: 64, id: 9, payload: 100}
	f := seg{src: s, dst: c, flags: FlagACK | FlagPSH, seq: 5001, ack: 1101, win: 510, ttl: 63, payload: 1200}
	return []seg{a, b, d, e, f}
}

func netip4(s string) netip.Addr { return netip.MustParseAddr(s) }
func netip6(s string) netip.Addr { return netip.MustParseAddr(s) }

// udpIP is a UDP datagram from src to dst carrying payload, in IPv4 or IPv6.
func udpIP(src, dst netip.AddrPort, payload []byte) []byte {
	buf := gopacket.NewSerializeBuffer()
	o := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	var nl gopacket.SerializableLayer
	if src.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: 11, Protocol: layers.IPProtocolUDP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		u.SetNetworkLayerForChecksum(ip)
		nl = ip
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		u.SetNetworkLayerForChecksum(ip)
		nl = ip
	}
	if err := gopacket.SerializeLayers(buf, o, nl, u, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	return bytes.Clone(buf.Bytes())
}

// dnsMessage serialises a DNS message with gopacket (an encoder
// independent of ours, which does not compress names): a query when
// rcode < 0, else a response with an A or AAAA record per address.
func dnsMessage(id uint16, name string, qtype uint16, rcode int, ttl uint32, addrs ...string) []byte {
	d := &layers.DNS{ID: id, RD: true, OpCode: layers.DNSOpCodeQuery,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSType(qtype), Class: layers.DNSClassIN}}}
	if rcode >= 0 {
		d.QR, d.RA, d.ResponseCode = true, true, layers.DNSResponseCode(rcode)
		for _, a := range addrs {
			ip := netip.MustParseAddr(a)
			typ := layers.DNSTypeA
			if ip.Is6() {
				typ = layers.DNSTypeAAAA
			}
			d.Answers = append(d.Answers, layers.DNSResourceRecord{Name: []byte(name), Type: typ, Class: layers.DNSClassIN, TTL: ttl, IP: net.IP(ip.AsSlice())})
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		panic(err)
	}
	return bytes.Clone(buf.Bytes())
}

// clientHello is a TLS 1.2 record holding a ClientHello with the given
// SNI (none when empty), as browsers lay it out: a 32-byte session id,
// cipher suites, and the server_name extension after another one.
func clientHelloRecord(sni string) []byte {
	var ext []byte
	ext = append(ext, 0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d) // supported_groups: x25519
	if sni != "" {
		n := len(sni)
		ext = append(ext, 0x00, 0x00, byte((n+5)>>8), byte(n+5), byte((n+3)>>8), byte(n+3), 0, byte(n>>8), byte(n))
		ext = append(ext, sni...)
	}
	body := []byte{3, 3}
	body = append(body, bytes.Repeat([]byte{0xab}, 32)...) // random
	body = append(body, 32)
	body = append(body, bytes.Repeat([]byte{0xcd}, 32)...) // session id
	body = append(body, 0, 4, 0x13, 0x01, 0xc0, 0x2f)      // cipher suites
	body = append(body, 1, 0)                              // compression: null
	body = append(body, byte(len(ext)>>8), byte(len(ext)))
	body = append(body, ext...)
	hs := append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{0x16, 3, 1, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

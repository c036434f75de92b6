// Package capgen writes large synthetic client-side captures of many
// connection attempts, for benchmarks: a mix of established, refused and
// timed-out handshakes, interleaved as concurrent clients make them.
package capgen

import (
	"encoding/binary"
	"io"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Mix is how many attempts of each kind, per Established+Refused+Timeout
// attempts, and how many 1 KB reply segments each established one carries.
type Mix struct{ Established, Refused, Timeout, Segments int }

// DefaultMix is mostly healthy handshakes with some failures: a capture
// of connection attempts, a handful of packets each.
var DefaultMix = Mix{Established: 8, Refused: 1, Timeout: 1, Segments: 1}

// BulkMix is mostly data: a postmortem capture of busy connections.
var BulkMix = Mix{Established: 8, Refused: 1, Timeout: 1, Segments: 200}

// Write writes a pcap of n attempts to w and returns the packet count.
// Each established attempt carries a request and a 1 KB reply.
func Write(w io.Writer, n int, mix Mix) (int, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return 0, err
	}
	g := gen{pw: pw, buf: gopacket.NewSerializeBuffer(), t: time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)}
	g.eth = layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	client := net.IP{198, 51, 100, 10}
	total := mix.Established + mix.Refused + mix.Timeout
	for i := 0; i < n; i++ {
		server := net.IP{203, 0, 113, byte(1 + i%50)}
		cport := uint16(10000 + i%50000)
		isn := uint32(i) * 2654435761
		kind := i % total
		g.t = g.t.Add(200 * time.Microsecond)
		switch {
		case kind < mix.Established:
			g.seg(client, server, cport, 80, 64, isn, 0, syn, 0)
			g.seg(server, client, 80, cport, 63, isn^0xabcdef, isn+1, syn|ack, 0)
			g.seg(client, server, cport, 80, 64, isn+1, isn^0xabcdef+1, ack, 0)
			g.seg(client, server, cport, 80, 64, isn+1, isn^0xabcdef+1, ack|psh, 80)
			sent := uint32(0)
			for k := 0; k < max(mix.Segments, 1); k++ {
				g.seg(server, client, 80, cport, 63, isn^0xabcdef+1+sent, isn+81, ack|psh, 1024)
				sent += 1024
				if k%2 == 1 {
					g.seg(client, server, cport, 80, 64, isn+81, isn^0xabcdef+1+sent, ack, 0)
				}
			}
			g.seg(client, server, cport, 80, 64, isn+81, isn^0xabcdef+1+sent, ack|fin, 0)
			g.seg(server, client, 80, cport, 63, isn^0xabcdef+1+sent, isn+82, ack|fin, 0)
			g.seg(client, server, cport, 80, 64, isn+82, isn^0xabcdef+2+sent, ack, 0)
		case kind < mix.Established+mix.Refused:
			g.seg(client, server, cport, 81, 64, isn, 0, syn, 0)
			g.seg(server, client, 81, cport, 63, 0, isn+1, rst|ack, 0)
		default:
			g.seg(client, server, cport, 82, 64, isn, 0, syn, 0)
			g.seg(client, server, cport, 82, 64, isn, 0, syn, 0)
			g.seg(client, server, cport, 82, 64, isn, 0, syn, 0)
		}
		if g.err != nil {
			return g.packets, g.err
		}
	}
	return g.packets, nil
}

const (
	fin = 1 << iota
	syn
	rst
	psh
	ack
)

type gen struct {
	pw      *pcapgo.Writer
	buf     gopacket.SerializeBuffer
	eth     layers.Ethernet
	t       time.Time
	packets int
	ipid    uint16
	err     error
	payload [1500]byte
}

func (g *gen) seg(src, dst net.IP, sport, dport uint16, ttl uint8, seq, ackn uint32, flags int, n int) {
	if g.err != nil {
		return
	}
	g.t = g.t.Add(50 * time.Microsecond)
	// Every packet its own IP-ID, as senders number them: identical
	// headers microseconds apart would be one packet captured twice.
	g.ipid++
	ip := layers.IPv4{Version: 4, Id: g.ipid, TTL: ttl, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst, Flags: layers.IPv4DontFragment}
	tcp := layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq, Ack: ackn, Window: 64240,
		FIN: flags&fin != 0, SYN: flags&syn != 0, RST: flags&rst != 0, PSH: flags&psh != 0, ACK: flags&ack != 0}
	if flags&syn != 0 {
		ts := make([]byte, 8)
		binary.BigEndian.PutUint32(ts, seq/7)
		tcp.Options = []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: ts},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
		}
	}
	if err := tcp.SetNetworkLayerForChecksum(&ip); err != nil {
		g.err = err
		return
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(g.buf, opts, &g.eth, &ip, &tcp, gopacket.Payload(g.payload[:n])); err != nil {
		g.err = err
		return
	}
	data := g.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: g.t, CaptureLength: len(data), Length: len(data)}
	g.err = g.pw.WritePacket(ci, data)
	g.packets++
}

package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"
)

// fuzzLinks are the link types FuzzDecode picks from, so that the fuzzer
// spends its time inside decoders rather than on unknown types. The first
// ones are those frame() builds; 147 is one not read.
var fuzzLinks = []uint32{linkEthernet, linkLinuxSLL, linkLinuxSLL2, linkNull, linkLoop, linkRaw, linkIPv4, linkIPv6, 147,
	linkPPP, linkPPPHDLC, linkCHDLC, linkNFLOG, link80211, linkRadiotap, linkPKTAP, linkUser2, linkIPoIB}

// seedFrames are frames of every kind the generators make, per link type:
// plain, and in every encapsulation (fragments one by one), with short
// payloads: the fuzzer minimizes inputs in O(n²) runs.
func seedFrames() map[uint32][][]byte {
	s4, s6 := syn(cli4, srv4), syn(cli6, srv6)
	out := map[uint32][][]byte{}
	for _, link := range fuzzLinks[:8] {
		for _, s := range append(handshake(cli4, srv4), handshake(cli6, srv6)...) {
			s.payload = min(s.payload, 8)
			out[link] = append(out[link], frame(link, s.ip()))
		}
		out[link] = append(out[link],
			frame(link, icmpError(netip4("192.0.2.1"), cli4.Addr(), 3, 1, s4.ip(), 1000)),
			frame(link, icmpError(netip6("2001:db8::1"), cli6.Addr(), 1, 4, s6.ip(), 8)))
	}
	for _, e := range encaps {
		for _, ip := range [][]byte{s4.ip(), s6.ip(), icmpError(netip4("192.0.2.1"), cli4.Addr(), 3, 1, s4.ip(), 1000)} {
			out[e.link] = append(out[e.link], e.wrap(ip)...)
		}
	}
	s6.ext6, s6.ext6NH = cat(ext(44, 1), []byte{6, 0, 0, 0, 0, 0, 0, 1}), 0
	out[linkEthernet] = append(out[linkEthernet], frame(linkEthernet, s6.ip(), 0x88a8, 0x8100))
	// Payloads: real DNS, TLS and HTTP frames, and built ones.
	out[linkEthernet] = append(out[linkEthernet], realFrames()...)
	hello := seg{src: cli4, dst: srv4, flags: FlagACK | FlagPSH, seq: 1001, ack: 5001, win: 502, ttl: 64, data: clientHelloRecord("seed.example")}
	dns := dnsMessage(3, "seed.example", QTypeAAAA, 0, 60, "2001:db8::5", "2001:db8::6")
	dnsTCP := seg{src: srv6, dst: cli6, flags: FlagACK | FlagPSH, seq: 1, ack: 1, win: 500, ttl: 64, data: append([]byte{0, byte(len(dns))}, dns...)}
	dnsTCP.src = netip.AddrPortFrom(srv6.Addr(), 53)
	out[linkEthernet] = append(out[linkEthernet], frame(linkEthernet, hello.ip()), frame(linkEthernet, dnsTCP.ip()),
		frame(linkEthernet, udpIP(netip.AddrPortFrom(srv6.Addr(), 53), cli6, dns)))
	// PKTAP (macOS), around Ethernet frames: the header is 108 bytes, so
	// a few suffice.
	for _, fr := range out[linkEthernet][:4] {
		out[linkPKTAP] = append(out[linkPKTAP], pktapFrame(108, 1, linkEthernet, fr[:min(len(fr), 80)]))
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for link, frames := range seedFrames() {
		i := 0
		for ; fuzzLinks[i] != link; i++ {
		}
		for _, fr := range frames {
			f.Add(uint8(i), fr, false)
			f.Add(uint8(i), fr[:len(fr)*2/3], true)
		}
	}
	f.Fuzz(func(t *testing.T, li uint8, b []byte, cut bool) {
		if len(b) > 256 { // longer frames teach nothing and take long to minimize
			return
		}
		var p Packet
		var d decoder // fragments go into its table (FuzzOpen completes them)
		switch d.decode(&p, fuzzLinks[int(li)%len(fuzzLinks)], b, cut) {
		case classTCP:
			if p.Kind != KindTCP || !p.Src.IsValid() || !p.Dst.IsValid() {
				t.Fatalf("TCP packet %+v", p)
			}
		case classICMP:
			if p.Kind != KindICMP || !p.Src.IsValid() || !p.ICMP.From.IsValid() || p.ICMP.QuoteLen < 8 {
				t.Fatalf("ICMP packet %+v", p)
			}
		case classDNS:
			if p.Kind != KindDNS || !p.Src.IsValid() || (p.Src.Port() != portDNS && p.Dst.Port() != portDNS) {
				t.Fatalf("DNS packet %+v", p)
			}
		}
		if n := p.DNS.NAddrs; n > MaxDNSAddrs || (n < MaxDNSAddrs && p.DNS.Addrs[n].IsValid()) {
			t.Fatalf("DNS answers %+v", p.DNS)
		}
	})
}

// seedFiles are whole captures in every format, whole and cut; payloads
// are short, to keep inputs small (see FuzzOpen).
func seedFiles(t testing.TB) [][]byte {
	segs := handshake(cli4, srv4)
	for i := range segs {
		segs[i].payload = 0
	}
	var files [][]byte
	for _, link := range []uint32{linkEthernet, linkLinuxSLL2} {
		rs := recs(link, segs, false)
		files = append(files, pcapFile(binary.LittleEndian, false, link, rs...), pcapFile(binary.BigEndian, true, link, rs...))
	}
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		ng := ngFile{order: order}
		ng.section()
		ng.iface(linkEthernet, 0)
		ng.iface(linkRaw, 0x80|20)
		ng.epb(0, 1, rec{data: frame(linkEthernet, segs[0].ip())})
		ng.epb(1, 1<<40, rec{data: segs[1].ip()})
		ng.block(ngSPB, cat(order.AppendUint32(nil, 60), frame(linkEthernet, segs[2].ip())))
		ng.block(ngPB, cat(make([]byte, 12), order.AppendUint32(nil, 54), order.AppendUint32(nil, 54), frame(linkEthernet, segs[3].ip())))
		ng.block(5, make([]byte, 12))
		ng.section()
		ng.iface(linkIPv4, 9)
		ng.epb(0, 1e9, rec{data: segs[4].ip()})
		files = append(files, ng.b)
	}
	files = append(files, encapPcapng(len(encaps)/4+1)) // one handshake segment in each encapsulation
	for _, f := range files[:len(files):len(files)] {
		files = append(files, f[:len(f)-7], gz(t, f))
	}
	return files
}

// budget is a context that runs out after a few looks. Next looks every
// checkEvery records, so a fuzz input stops after a bounded number of
// them, even where gzip inflates it a thousand times: slow inputs would
// stall the fuzzer, which minimizes each new one with O(n²) runs.
type budget struct {
	context.Context
	looks int
}

var errBudget = errors.New("fuzz budget spent")

func (b *budget) Err() error {
	if b.looks--; b.looks < 0 {
		return errBudget
	}
	return nil
}

func FuzzOpen(f *testing.F) {
	for _, file := range seedFiles(f) {
		f.Add(file)
	}
	f.Add(statsSeed()) // interface statistics and a stated filter (Ran, CaptureFilter)
	f.Fuzz(func(t *testing.T, file []byte) {
		// Longer inputs are passed over, so that none counts as new
		// coverage: the fuzzer minimizes those with O(n²) runs, which at a
		// few KB took most of a run.
		if len(file) > 700 {
			return
		}
		r, err := NewReader("fuzz", bytes.NewReader(file))
		var re *ReadError
		if err != nil {
			if !errors.As(err, &re) || re.Packet != 0 || r != nil {
				t.Fatalf("open: %v", err)
			}
			return
		}
		r.SetContext(&budget{context.Background(), 2})
		var p Packet
		for range 1 << 20 { // the budget ends reading long before: more is a reader that loops
			err = r.Next(&p)
			if err == nil {
				continue
			}
			if err == io.EOF || errors.Is(err, errBudget) {
				if from, until, ok := r.Ran(); ok && until.Before(from) {
					t.Fatalf("ran %v to %v", from, until)
				}
				r.CaptureFilter()
				return
			}
			if !errors.As(err, &re) {
				t.Fatalf("next after %d records: %v", r.Stats().Packets, err)
			}
			trailing := errors.Is(err, ErrTrailingData) && re.Packet == 0
			if re.Packet != r.Stats().Packets+1 && !trailing {
				t.Fatalf("next after %d records: %v", r.Stats().Packets, err)
			}
			return
		}
		t.Fatalf("no end after %d records", r.Stats().Packets)
	})
}

// statsSeed is a small pcapng as dumpcap writes one: an interface stating
// its capture filter, a packet, and statistics saying when it ran.
func statsSeed() []byte {
	f := &ngFile{order: binary.LittleEndian}
	f.section()
	b := f.order.AppendUint16(nil, uint16(linkEthernet))
	b = f.order.AppendUint16(b, 0)
	b = f.order.AppendUint32(b, 0)
	b = f.order.AppendUint16(b, 11) // if_filter
	b = f.order.AppendUint16(b, 4)
	b = append(b, 0, 't', 'c', 'p')
	b = f.order.AppendUint32(b, 0)
	f.block(ngIDB, b)
	c, s := netip.MustParseAddrPort("198.51.100.10:40000"), netip.MustParseAddrPort("203.0.113.5:443")
	f.epb(0, uint64(t0.UnixMicro()), rec{data: frame(linkEthernet, syn(c, s).ip())})
	f.isb(0, uint64(t0.Add(-time.Second).UnixMicro()), uint64(t0.Add(time.Second).UnixMicro()), 1)
	return f.b
}

package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// trafficSegs is n handshakes with data, from distinct client ports.
func trafficSegs(n int) []seg {
	var segs []seg
	for i := range n {
		c4 := netip.AddrPortFrom(cli4.Addr(), uint16(30000+i))
		c6 := netip.AddrPortFrom(cli6.Addr(), uint16(30000+i))
		if i%4 == 3 {
			segs = append(segs, handshake(c6, srv6)...)
		} else {
			segs = append(segs, handshake(c4, srv4)...)
		}
	}
	return segs
}

// trafficPcap is a classic pcap of n handshakes over Ethernet, with VLAN
// tags on every other one.
func trafficPcap(n int) []byte {
	var rs []rec
	for i, s := range trafficSegs(n) {
		if i%2 == 0 {
			rs = append(rs, rec{data: frame(linkEthernet, s.ip(), 0x8100)})
		} else {
			rs = append(rs, rec{data: frame(linkEthernet, s.ip())})
		}
	}
	return pcapFile(binary.LittleEndian, false, linkEthernet, rs...)
}

// trafficPcapng has the same traffic on two interfaces, Ethernet and Linux
// cooked v2 (a link type above 255).
func trafficPcapng(n int) []byte {
	ng := ngFile{order: binary.LittleEndian}
	ng.section()
	ng.iface(linkEthernet, 0)
	ng.iface(linkLinuxSLL2, 9)
	for i, s := range trafficSegs(n) {
		if i%2 == 0 {
			ng.epb(0, uint64(t0.UnixMicro()+int64(i)), rec{data: frame(linkEthernet, s.ip())})
		} else {
			ng.epb(1, uint64(t0.UnixNano()+int64(i)), rec{data: frame(linkLinuxSLL2, s.ip())})
		}
	}
	return ng.b
}

// encapPcapng has the same traffic again, each segment in the next of
// encaps, on an interface of its link type.
func encapPcapng(n int) []byte {
	ng := ngFile{order: binary.LittleEndian}
	ng.section()
	for _, e := range encaps {
		ng.iface(uint16(e.link), 0)
	}
	for i, s := range trafficSegs(n) {
		e := i % len(encaps)
		for _, r := range encaps[e].wrap(s.ip()) {
			ng.epb(uint32(e), uint64(t0.UnixMicro()+int64(i)), rec{data: r})
		}
	}
	return ng.b
}

func TestNoAllocs(t *testing.T) {
	files := map[string][]byte{
		"pcap":           trafficPcap(500),
		"pcapng":         trafficPcapng(500),
		"pcap gzip":      gz(t, trafficPcap(500)),
		"encapsulations": encapPcapng(500),
		"filtered":       trafficPcapng(500),
		"dns tls http":   appPcap(2500), // real frames: DNS, a ClientHello, an HTTP request and response
	}
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader("x", bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if name == "filtered" {
				// Some packets do not pass: both paths are taken.
				f, err := ParseFilter("not (ip6 and tcp src port 443) and (ip6 or net 198.51.100.0/24)")
				if err != nil {
					t.Fatal(err)
				}
				r.SetFilter(f)
			}
			var p Packet
			for range 10 { // buffers grow to their steady size
				if err := r.Next(&p); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(2000, func() {
				if err := r.Next(&p); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per packet, want 0", allocs)
			}
		})
	}
}

// benchPackets is the size of the benchmark capture: big enough that
// reopening it at the end does not count.
const benchPackets = 20000

func BenchmarkReaderNext(b *testing.B) {
	file := trafficPcap(benchPackets / 5)
	benchNext(b, file, int64(len(file)-24)/benchPackets)
}

// benchNext reads file with Next over and over, reopening it (untimed)
// at its end.
func benchNext(b *testing.B, file []byte, bytesPerPacket int64) {
	b.SetBytes(bytesPerPacket)
	b.ReportAllocs()
	var p Packet
	open := func() *Reader {
		r, err := NewReader("x", bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		r.Next(&p) // allocates the read buffer
		return r
	}
	r := open()
	for b.Loop() {
		if err := r.Next(&p); err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			b.StopTimer()
			r = open()
			b.StartTimer()
		}
	}
}

// BenchmarkReadFloor is the bare pcapgo read loop over the same bytes and
// buffer size: what Next costs beyond it is decoding.
func BenchmarkReadFloor(b *testing.B) {
	file := trafficPcap(benchPackets / 5)
	b.SetBytes(int64(len(file)-24) / benchPackets)
	b.ReportAllocs()
	open := func() *pcapgo.Reader {
		r, err := pcapgo.NewReader(bufio.NewReaderSize(bytes.NewReader(file), bufSize))
		if err != nil {
			b.Fatal(err)
		}
		r.ZeroCopyReadPacketData() // allocates the read buffer
		return r
	}
	r := open()
	for b.Loop() {
		if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			b.StopTimer()
			r = open()
			b.StartTimer()
		}
	}
}

func BenchmarkReaderNextPcapng(b *testing.B) {
	file := trafficPcapng(benchPackets / 5)
	benchNext(b, file, int64(len(file))/benchPackets)
}

// BenchmarkDecode is the decoding part of Next alone, over the frames of a
// handshake (SYNs with options, IPv4 and IPv6), plain and in each
// encapsulation; ns/op is per record (fragments: per fragment). Then over
// single real frames that carry what the payload readers look at.
func BenchmarkDecode(b *testing.B) {
	defer func() {
		frames := realFrames()
		for _, f := range []struct {
			name string
			n    int
		}{{"tls-client-hello", appTLSClientHello}, {"http-request", appHTTPRequest}, {"http-response", appHTTPResponse}, {"dns-response", appDNSOK}} {
			fr := frames[f.n-1]
			b.Run(f.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(fr)))
				var d decoder
				var p Packet
				for b.Loop() {
					d.decode(&p, linkEthernet, fr, false)
				}
			})
		}
	}()
	for _, e := range encaps {
		var frames [][]byte
		for _, s := range trafficSegs(4) {
			frames = append(frames, e.wrap(s.ip())...)
		}
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			var d decoder
			var p Packet
			i := 0
			for b.Loop() {
				d.decode(&p, e.link, frames[i%len(frames)], false)
				i++
			}
		})
	}
}

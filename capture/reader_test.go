package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// readAll reads r to its end, returning the packets and the final error
// (nil for io.EOF).
func readAll(r *Reader) ([]Packet, error) {
	var ps []Packet
	for {
		var p Packet
		err := r.Next(&p)
		if err == io.EOF {
			return ps, nil
		}
		if err != nil {
			return ps, err
		}
		ps = append(ps, p)
	}
}

// recs frames segs for a link type, with non-TCP records (ARP, UDP) mixed in
// when noise is set. Record i has timestamp t0 + i ms.
func recs(link uint32, segs []seg, noise bool) []rec {
	var rs []rec
	for _, s := range segs {
		if noise && link == linkEthernet {
			rs = append(rs, rec{data: append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 6}, make([]byte, 28)...)})
		}
		rs = append(rs, rec{data: frame(link, s.ip())})
	}
	for i := range rs {
		rs[i].ts = t0.Add(time.Duration(i) * time.Millisecond)
	}
	return rs
}

// check compares what was read with the segments written, by position.
func check(t *testing.T, name string, got []Packet, segs []seg, ns []uint64, ts []time.Time) {
	t.Helper()
	if len(got) != len(segs) {
		t.Fatalf("%d packets, want %d", len(got), len(segs))
	}
	for i, p := range got {
		w := want(segs[i])
		w.Ref = Ref{File: name, N: ns[i], TS: ts[i]}
		w.Dir = p.Dir // TestDirection's
		if p != w {
			t.Errorf("packet %d:\ngot  %+v\nwant %+v", i, p, w)
		}
	}
}

func TestFormats(t *testing.T) {
	le, bo := binary.LittleEndian, binary.BigEndian
	h4, h6 := handshake(cli4, srv4), handshake(cli6, srv6)
	eth4 := recs(linkEthernet, h4, true) // ARP before every segment: N = 2, 4, ...
	ns := []uint64{2, 4, 6, 8, 10}
	ts := []time.Time{}
	for _, n := range ns {
		ts = append(ts, t0.Add(time.Duration(n-1)*time.Millisecond))
	}
	micro := func(ts []time.Time) []time.Time {
		var out []time.Time
		for _, t := range ts {
			out = append(out, t.Truncate(time.Microsecond))
		}
		return out
	}
	nano := recs(linkLinuxSLL2, h6, false)
	var nanoTS []time.Time
	for i := range nano {
		nano[i].ts = nano[i].ts.Add(789)
		nanoTS = append(nanoTS, nano[i].ts)
	}

	// pcapgo's own writer, for interoperability.
	var gow bytes.Buffer
	w := pcapgo.NewWriter(&gow)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, r := range eth4 {
		ci := gopacket.CaptureInfo{Timestamp: r.ts, CaptureLength: len(r.data), Length: len(r.data)}
		if err := w.WritePacket(ci, r.data); err != nil {
			t.Fatal(err)
		}
	}

	// pcapgo's pcapng writer with two interfaces of different link types,
	// one of them above 255.
	var ngw bytes.Buffer
	nw, err := pcapgo.NewNgWriter(&ngw, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeLinuxSLL2}); err != nil {
		t.Fatal(err)
	}
	var mixed []seg
	var mixedTS []time.Time
	for i, s := range append(h4, h6...) {
		link, ifc := uint32(linkEthernet), 0
		if s.src.Addr().Is6() {
			link, ifc = linkLinuxSLL2, 1
		}
		d := frame(link, s.ip())
		ts := t0.Add(time.Duration(i)*time.Second + 1)
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(d), Length: len(d), InterfaceIndex: ifc}
		if err := nw.WritePacket(ci, d); err != nil {
			t.Fatal(err)
		}
		mixed, mixedTS = append(mixed, s), append(mixedTS, ts)
	}
	if err := nw.Flush(); err != nil {
		t.Fatal(err)
	}

	// Hand-made pcapng: a big-endian section with interfaces in ns (SLL2)
	// and in 2^-20 s (Ethernet), then a little-endian section, raw IP in
	// the default µs.
	ng := ngFile{order: bo}
	ng.section()
	ng.iface(linkLinuxSLL2, 9)
	ng.iface(linkEthernet, 0x80|20)
	ng.epb(0, uint64(t0.UnixNano()), rec{data: frame(linkLinuxSLL2, h6[0].ip())})
	ng.epb(1, uint64(t0.Unix())<<20|1<<19, rec{data: frame(linkEthernet, h4[0].ip())})
	ng.block(5, make([]byte, 12)) // interface statistics: skipped
	ng.order = le
	ng.section()
	ng.iface(linkRaw, 0)
	ng.epb(0, uint64(t0.UnixMicro()), rec{data: h4[1].ip()})
	// A simple packet block (no timestamp) and an obsolete packet block,
	// both holding a 40-byte ACK.
	ng.block(ngSPB, cat(le.AppendUint32(nil, 60), h4[2].ip()))
	ng.block(ngPB, cat(make([]byte, 4), le.AppendUint32(nil, uint32(t0.UnixMicro()>>32)),
		le.AppendUint32(nil, uint32(t0.UnixMicro())), le.AppendUint32(nil, 40), le.AppendUint32(nil, 40), h4[2].ip()))
	ngSegs := []seg{h6[0], h4[0], h4[1], h4[2], h4[2]}
	ngTS := []time.Time{t0, time.Unix(t0.Unix(), 5e8).UTC(), t0.Truncate(time.Microsecond), {}, t0.Truncate(time.Microsecond)}

	tests := []struct {
		name string
		file []byte
		segs []seg
		ns   []uint64
		ts   []time.Time
	}{
		{"pcapgo writer", gow.Bytes(), h4, ns, micro(ts)},
		{"pcap little-endian", pcapFile(le, false, linkEthernet, eth4...), h4, ns, micro(ts)},
		{"pcap big-endian", pcapFile(bo, false, linkEthernet, eth4...), h4, ns, micro(ts)},
		{"pcap nanosecond", pcapFile(le, true, linkLinuxSLL2, nano...), h6, []uint64{1, 2, 3, 4, 5}, nanoTS},
		{"pcap nanosecond big-endian", pcapFile(bo, true, linkLinuxSLL2, nano...), h6, []uint64{1, 2, 3, 4, 5}, nanoTS},
		{"pcap gzip", gz(t, pcapFile(le, false, linkEthernet, eth4...)), h4, ns, micro(ts)},
		{"pcapng mixed link types", ngw.Bytes(), mixed, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, mixedTS},
		{"pcapng mixed gzip", gz(t, ngw.Bytes()), mixed, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, mixedTS},
		{"pcapng sections and resolutions", ng.b, ngSegs, []uint64{1, 2, 3, 4, 5}, ngTS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rd := range []struct {
				name string
				r    io.Reader
			}{
				{"bytes", bytes.NewReader(tt.file)},
				{"one byte at a time", iotest.OneByteReader(bytes.NewReader(tt.file))},
				{"data with EOF", iotest.DataErrReader(bytes.NewReader(tt.file))},
			} {
				r, err := NewReader("f.pcap", rd.r)
				if err != nil {
					t.Fatalf("%s: %v", rd.name, err)
				}
				got, err := readAll(r)
				if err != nil {
					t.Fatalf("%s: %v", rd.name, err)
				}
				check(t, "f.pcap", got, tt.segs, tt.ns, tt.ts)
				st := r.Stats()
				if st.TCP != uint64(len(tt.segs)) || st.Packets != tt.ns[len(tt.ns)-1] || st.Skipped != st.Packets-st.TCP {
					t.Errorf("%s: stats %+v", rd.name, st)
				}
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	good := pcapFile(binary.LittleEndian, false, linkEthernet, recs(linkEthernet, handshake(cli4, srv4), false)...)
	path := filepath.Join(dir, "c.pcap.gz") // the name says gzip; only the magic counts
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := readAll(r); err != nil || len(ps) != 5 || ps[0].File != path || r.Name() != path {
		t.Fatalf("%d packets, %v", len(ps), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// "-" is standard input.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdin := os.Stdin
	os.Stdin = f
	r, err = Open("-")
	os.Stdin = stdin
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := readAll(r); err != nil || len(ps) != 5 || ps[4].File != "stdin" {
		t.Fatalf("stdin: %d packets, %v", len(ps), err)
	}

	_, err = Open(filepath.Join(dir, "missing.pcap"))
	var re *ReadError
	if !errors.As(err, &re) || re.Packet != 0 || !errors.Is(err, fs.ErrNotExist) || strings.Count(err.Error(), "missing.pcap") != 1 {
		t.Errorf("missing file: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		msg  string
		is   error
	}{
		{"empty", nil, "x: empty file", nil},
		{"empty gzip", gz(t, nil), "x: empty file", nil},
		{"text", []byte("hello, world\n"), "x: not a pcap or pcapng file (magic 0x68656c6c)", nil},
		{"tiny", []byte{0xd4, 0xc3}, "x: not a pcap or pcapng file (2 bytes)", nil},
		{"gzip garbage", []byte{0x1f, 0x8b, 0, 0}, "x: gzip stream is truncated", nil},
		{"gzip cut after its header", gz(t, pcapFile(binary.LittleEndian, false, 1))[:10], "x: gzip stream is truncated", nil},
		{"gzip cut in its data", gz(t, pcapFile(binary.LittleEndian, false, 1))[:14], "x: gzip stream is truncated", nil},
		{"gzip bad header", []byte{0x1f, 0x8b, 9, 0, 0, 0, 0, 0, 0, 0, 0}, "x: gzip: invalid header", nil},
		{"pcap header cut", pcapFile(binary.LittleEndian, false, 1)[:20], "x: pcap header: capture ends mid-record", ErrTruncated},
		{"pcap version", set(pcapFile(binary.LittleEndian, false, 1), 4, 9), "x: pcap version 9.4 not supported", nil},
		{"pcap minor version", set(pcapFile(binary.LittleEndian, false, 1), 6, 5), "x: pcap version 2.5 not supported", nil},
		{"pcapng cut", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0}, "x: capture ends mid-record", ErrTruncated},
		{"pcapng bad bom", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0}, "x: bad byte-order magic 0x01020304", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader("x", bytes.NewReader(tt.file))
			var re *ReadError
			if r != nil || !errors.As(err, &re) || re.Packet != 0 {
				t.Fatalf("got %v, %v; want a *ReadError at packet 0", r, err)
			}
			if err.Error() != tt.msg {
				t.Errorf("error %q, want %q", err, tt.msg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestBrokenFiles(t *testing.T) {
	le := binary.LittleEndian
	segs := handshake(cli4, srv4)
	rs := recs(linkEthernet, segs, false)
	pcap := pcapFile(le, false, linkEthernet, rs...)
	ng := ngFile{order: le}
	ng.section()
	ng.iface(linkEthernet, 0)
	for _, r := range rs {
		ng.epb(0, uint64(r.ts.UnixMicro()), r)
	}
	// A pcap whose third record claims 2 GiB.
	lying := bytes.Clone(pcap)
	off := 24 + 2*16 + len(rs[0].data) + len(rs[1].data)
	le.PutUint32(lying[off+8:], 1<<31)
	le.PutUint32(lying[off+12:], 1<<31)
	// A pcapng whose second packet block has a length not a multiple of 4.
	badLen := bytes.Clone(ng.b)
	second := blockOffset(ng.b, 3) // SHB, IDB, EPB 1, EPB 2
	le.PutUint32(badLen[second+4:], 37)
	badIfc := bytes.Clone(ng.b)
	le.PutUint32(badIfc[second+8:], 3)

	tests := []struct {
		name   string
		file   []byte
		n      int    // packets read before the error
		at     uint64 // ReadError.Packet
		trunc  bool
		substr string
	}{
		{"pcap cut in record", pcap[:len(pcap)-10], 4, 5, true, "packet 5: capture ends mid-record"},
		{"pcap cut in record header", pcap[:len(pcap)-len(rs[4].data)-6], 4, 5, true, "packet 5"},
		{"pcap cut after record header", pcap[:len(pcap)-len(rs[4].data)], 4, 5, true, "packet 5"},
		{"pcap gzip cut", gz(t, pcap)[:len(gz(t, pcap))-30], -1, 0, true, "capture ends mid-record"},
		{"pcapng cut", ng.b[:len(ng.b)-6], 4, 5, true, "packet 5"},
		{"pcapng gzip cut", gz(t, ng.b)[:len(gz(t, ng.b))-30], -1, 0, true, "capture ends mid-record"},
		{"pcap garbage length", lying, 2, 3, false, "packet 3: pcap record of 2147483648 bytes: more than any link carries (262144)"},
		{"pcapng bad block length", badLen, 1, 2, false, "packet 2: pcapng block type 0x6: bad length 37"},
		{"pcapng unknown interface", badIfc, 1, 2, false, "packet 2: packet on interface 3, section has 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader("x", bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ps, err := readAll(r)
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("error %v, want a *ReadError", err)
			}
			if errors.Is(err, ErrTruncated) != tt.trunc || !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q", err)
			}
			if tt.n >= 0 && (len(ps) != tt.n || re.Packet != tt.at) {
				t.Errorf("%d packets, error at %d; want %d, %d", len(ps), re.Packet, tt.n, tt.at)
			}
			if tt.n < 0 && (len(ps) == 0 || re.Packet != uint64(len(ps))+1) {
				t.Errorf("%d packets, error at %d", len(ps), re.Packet)
			}
			for i, p := range ps {
				if p.Seq != segs[i].seq || p.N != uint64(i+1) {
					t.Errorf("packet %d: %+v", i, p)
				}
			}
			var p Packet
			if err2 := r.Next(&p); err2 != err {
				t.Errorf("next Next: %v, want the same error again", err2)
			}
		})
	}
}

// blockOffset is the offset of the i-th (0-based) pcapng block in a
// little-endian file.
func blockOffset(b []byte, i int) int {
	off := 0
	for range i {
		off += int(binary.LittleEndian.Uint32(b[off+4:]))
	}
	return off
}

func TestStatsCounts(t *testing.T) {
	s := syn(cli4, srv4)
	d := frame(linkEthernet, s.ip())
	rs := []rec{
		{data: d},                          // TCP
		{data: d[:14+20+10], orig: len(d)}, // cut before 14 TCP bytes: truncated
		{data: d[:50]},                     // IP length lies: malformed
		{data: frame(linkEthernet, icmpError(netip4("192.0.2.1"), cli4.Addr(), 3, 1, s.ip(), 8))}, // ICMP
		{data: append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 6}, make([]byte, 28)...)},     // ARP: skipped
		{data: d[:64], orig: len(d)}, // snaplen 64: TCP with options cut
	}
	r, err := NewReader("x", bytes.NewReader(pcapFile(binary.LittleEndian, false, linkEthernet, rs...)))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Packets: 6, TCP: 2, ICMP: 1, Skipped: 1, Malformed: 1, Truncated: 1}
	got := r.Stats()
	// The time span counts every record, handed on or not.
	if len(ps) == 3 && (!got.Last.Equal(ps[2].TS) || !got.First.Before(got.Last)) {
		t.Errorf("span %v … %v, want … %v", got.First, got.Last, ps[2].TS)
	}
	got.First, got.Last = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if len(ps) != 3 || ps[1].N != 4 || ps[1].Kind != KindICMP || ps[2].N != 6 || !ps[2].Opts.Cut {
		t.Errorf("packets %+v", ps)
	}
}

// ReportOtherIP returns the IP packets Next would skip, with their
// addresses only, and counts them as skipped all the same: the mixed
// scenario's server capture holds 4 UDP packets beside its TCP.
func TestReportOtherIP(t *testing.T) {
	const file = "../testdata/scenarios/mixed/server.pcap"
	for _, on := range []bool{false, true} {
		rd, err := Open(file)
		if err != nil {
			t.Skip(err)
		}
		rd.ReportOtherIP(on)
		other := 0
		var p Packet
		for rd.Next(&p) == nil {
			if p.Kind == KindOtherIP {
				other++
				if !p.Src.Addr().IsValid() || !p.Dst.Addr().IsValid() || p.Src.Port() != 0 || p.Flags != 0 || p.N == 0 {
					t.Errorf("packet %d: %+v", p.N, p)
				}
			}
		}
		rd.Close()
		if want := map[bool]int{false: 0, true: 4}[on]; other != want || rd.Stats().Skipped != 4 {
			t.Errorf("ReportOtherIP(%v): %d other IP packets (want %d), %d skipped (want 4)", on, other, want, rd.Stats().Skipped)
		}
	}
}

// TestDirection reads which way a packet crossed the capture's host where
// the capture records it: a Linux cooked header's packet type (v1 and v2),
// Apple's PKTAP flags, pcapng's epb_flags; nowhere else.
func TestDirection(t *testing.T) {
	le := binary.LittleEndian
	s := handshake(cli4, srv4)[0]
	cooked := func(link uint32, typ byte) []byte {
		b := frame(link, s.ip())
		if link == linkLinuxSLL {
			b[0], b[1] = 0, typ
		} else {
			b[10] = typ
		}
		return b
	}
	// Apple's PKTAP header, pth_flags set as given.
	pktapDir := func(flags uint32) []byte {
		b := pktapFrame(108, 1, linkEthernet, frame(linkEthernet, s.ip()))
		le.PutUint32(b[36:], flags)
		return b
	}
	ng := ngFile{order: le}
	ng.section()
	ng.iface(linkEthernet, 0)
	for _, f := range []uint32{1, 2, 0, 3, 1 | 0x100} {
		ng.epb(0, uint64(t0.UnixMicro()), rec{data: frame(linkEthernet, s.ip()), epbFlags: f})
	}
	tests := []struct {
		name string
		file []byte
		want []Direction
	}{
		{"sll", pcapFile(le, false, linkLinuxSLL, rec{data: cooked(linkLinuxSLL, 0)}, rec{data: cooked(linkLinuxSLL, 4)},
			rec{data: cooked(linkLinuxSLL, 3)}, rec{data: cooked(linkLinuxSLL, 1)}, rec{data: cooked(linkLinuxSLL, 7)}),
			[]Direction{DirIn, DirOut, DirIn, DirIn, DirUnknown}},
		{"sll2", pcapFile(le, false, linkLinuxSLL2, rec{data: cooked(linkLinuxSLL2, 0)}, rec{data: cooked(linkLinuxSLL2, 4)}),
			[]Direction{DirIn, DirOut}},
		{"ethernet", pcapFile(le, false, linkEthernet, rec{data: frame(linkEthernet, s.ip())}), []Direction{DirUnknown}},
		{"pktap", pcapFile(le, false, linkPKTAP, rec{data: pktapDir(1)}, rec{data: pktapDir(2)}, rec{data: pktapDir(0)}),
			[]Direction{DirIn, DirOut, DirUnknown}},
		// inbound, outbound, none, both bits (invalid), inbound with a
		// reception type set.
		{"pcapng epb_flags", ng.b, []Direction{DirIn, DirOut, DirUnknown, DirUnknown, DirIn}},
	}
	for _, tt := range tests {
		r, err := NewReader("f", bytes.NewReader(tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := readAll(r)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%s: %d packets, want %d", tt.name, len(got), len(tt.want))
		}
		for i, p := range got {
			if p.Dir != tt.want[i] {
				t.Errorf("%s: packet %d: direction %d, want %d", tt.name, i+1, p.Dir, tt.want[i])
			}
		}
	}
}

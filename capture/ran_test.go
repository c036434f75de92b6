package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"testing"
	"time"
)

// isb adds an interface statistics block for interface ifc, as dumpcap
// writes one when it closes a capture: isb_starttime and isb_endtime (in
// units of the given resolution; dumpcap uses microseconds whatever the
// interface's), and isb_ifrecv unless recv is negative.
func (f *ngFile) isb(ifc uint32, from, until uint64, recv int64) {
	b := f.order.AppendUint32(nil, ifc)
	b = f.order.AppendUint32(b, uint32(until>>32))
	b = f.order.AppendUint32(b, uint32(until))
	for code, v := range map[uint16]uint64{2: from, 3: until} {
		b = f.order.AppendUint16(b, code)
		b = f.order.AppendUint16(b, 8)
		b = f.order.AppendUint32(b, uint32(v>>32))
		b = f.order.AppendUint32(b, uint32(v))
	}
	if recv >= 0 {
		b = f.order.AppendUint16(b, 4)
		b = f.order.AppendUint16(b, 8)
		b = f.order.AppendUint64(b, uint64(recv))
	}
	b = f.order.AppendUint16(b, 5) // isb_ifdrop
	b = f.order.AppendUint16(b, 8)
	b = f.order.AppendUint64(b, 0)
	b = f.order.AppendUint32(b, 0)
	f.block(ngISB, b)
}

// TestRan: a capture proves when it ran only through statistics that
// account for every packet it holds. A file cut from a longer capture, or
// several captures end to end, would otherwise claim to have watched
// times it did not, and a packet missing from it would blame the network.
func TestRan(t *testing.T) {
	c, s := netip.MustParseAddrPort("198.51.100.10:40000"), netip.MustParseAddrPort("203.0.113.5:443")
	pkt := rec{data: frame(linkEthernet, syn(c, s).ip())}
	us := func(t time.Time) uint64 { return uint64(t.UnixMicro()) }
	ns := func(t time.Time) uint64 { return uint64(t.UnixNano()) }
	from, until := t0.Add(-5*time.Second), t0.Add(30*time.Second)
	type step func(f *ngFile)
	section := func(f *ngFile) { f.section() }
	ifaceUS := func(f *ngFile) { f.iface(uint16(linkEthernet), 0) }
	ifaceNS := func(f *ngFile) { f.iface(uint16(linkEthernet), 9) }
	packet := func(ifc uint32, at time.Time, units func(time.Time) uint64) step {
		return func(f *ngFile) { f.epb(ifc, units(at), pkt) }
	}
	stats := func(ifc uint32, a, b uint64, recv int64) step {
		return func(f *ngFile) { f.isb(ifc, a, b, recv) }
	}
	for _, tc := range []struct {
		name  string
		steps []step
		ok    bool
	}{
		{"dumpcap, microseconds", []step{section, ifaceUS, packet(0, t0, us), packet(0, t0.Add(time.Second), us), stats(0, us(from), us(until), 2)}, true},
		// dumpcap 4.x: packets in nanoseconds, its statistics' times in
		// microseconds all the same.
		{"dumpcap, nanosecond packets", []step{section, ifaceNS, packet(0, t0, ns), stats(0, us(from), us(until), 1)}, true},
		{"times in the interface's nanoseconds", []step{section, ifaceNS, packet(0, t0, ns), stats(0, ns(from), ns(until), 1)}, true},
		{"no packet at all", []step{section, ifaceUS, stats(0, us(from), us(until), 0)}, true},
		{"no statistics", []step{section, ifaceUS, packet(0, t0, us)}, false},
		{"a packet fewer than counted (cut by editcap)", []step{section, ifaceUS, packet(0, t0, us), stats(0, us(from), us(until), 2)}, false},
		{"no count", []step{section, ifaceUS, packet(0, t0, us), stats(0, us(from), us(until), -1)}, false},
		{"packets outside the run", []step{section, ifaceUS, packet(0, until.Add(time.Second), us), stats(0, us(from), us(until), 1)}, false},
		{"an end before the start", []step{section, ifaceUS, packet(0, t0, us), stats(0, us(until), us(from), 1)}, false},
		{"two captures end to end", []step{section, ifaceUS, packet(0, t0, us), stats(0, us(from), us(until), 1),
			section, ifaceUS, packet(0, until.Add(time.Hour), us), stats(0, us(until.Add(time.Hour-time.Second)), us(until.Add(2*time.Hour)), 1)}, false},
		{"an interface without statistics", []step{section, ifaceUS, ifaceUS, packet(0, t0, us), stats(0, us(from), us(until), 1)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &ngFile{order: binary.LittleEndian}
			for _, s := range tc.steps {
				s(f)
			}
			r, err := NewReader("ran.pcapng", bytes.NewReader(f.b))
			if err != nil {
				t.Fatal(err)
			}
			var p Packet
			for {
				if err := r.Next(&p); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			gotFrom, gotUntil, ok := r.Ran()
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if ok && (!gotFrom.Equal(from) || !gotUntil.Equal(until)) {
				t.Errorf("ran %v to %v, want %v to %v", gotFrom, gotUntil, from, until)
			}
		})
	}
}

// TestCaptureFilterStated: a pcapng interface description's if_filter is
// the capture filter the file was taken with, when every interface states
// the same one.
func TestCaptureFilterStated(t *testing.T) {
	idb := func(f *ngFile, filter string, has bool) {
		b := f.order.AppendUint16(nil, uint16(linkEthernet))
		b = f.order.AppendUint16(b, 0)
		b = f.order.AppendUint32(b, 0)
		if has {
			v := append([]byte{0}, filter...)
			b = f.order.AppendUint16(b, 11)
			b = f.order.AppendUint16(b, uint16(len(v)))
			b = append(b, v...)
			for len(b)%4 != 0 {
				b = append(b, 0)
			}
		}
		b = f.order.AppendUint32(b, 0)
		f.block(ngIDB, b)
	}
	c, s := netip.MustParseAddrPort("198.51.100.10:40000"), netip.MustParseAddrPort("203.0.113.5:443")
	pkt := rec{data: frame(linkEthernet, syn(c, s).ip())}
	for _, tc := range []struct {
		name    string
		filters []string // "-": the interface states none
		want    string
		ok      bool
	}{
		{"one interface", []string{"tcp port 443"}, "tcp port 443", true},
		{"two, the same", []string{"tcp", "tcp"}, "tcp", true},
		{"two, different", []string{"tcp", "udp"}, "", false},
		{"one states none", []string{"tcp", "-"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &ngFile{order: binary.LittleEndian}
			f.section()
			for _, fl := range tc.filters {
				idb(f, fl, fl != "-")
			}
			f.epb(0, uint64(t0.UnixMicro()), pkt)
			r, err := NewReader("filter.pcapng", bytes.NewReader(f.b))
			if err != nil {
				t.Fatal(err)
			}
			var p Packet
			if err := r.Next(&p); err != nil {
				t.Fatal(err)
			}
			if got, ok := r.CaptureFilter(); got != tc.want || ok != tc.ok {
				t.Errorf("%q %v, want %q %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestPassesSYN: whether a capture filter passes an attempt's SYN is
// known only where a translation rewriting addresses or the client's port
// could not change the answer.
func TestPassesSYN(t *testing.T) {
	for _, tc := range []struct {
		filter, client, server string
		passes, known          bool
	}{
		{"tcp", "198.51.100.10:40000", "203.0.113.5:82", true, true},
		{"tcp or icmp", "198.51.100.10:40000", "203.0.113.5:82", true, true},
		{"tcp port 82", "198.51.100.10:40000", "203.0.113.5:82", true, true},
		{"not port 22", "198.51.100.10:40000", "203.0.113.5:82", true, true},
		{"tcp port 80 or tcp port 81", "198.51.100.10:40000", "203.0.113.5:82", false, true},
		{"udp", "198.51.100.10:40000", "203.0.113.5:82", false, true},
		{"ip6", "198.51.100.10:40000", "203.0.113.5:82", false, true},
		{"tcp port 443", "[2001:db8::10]:40000", "[2001:db8::5]:443", true, true},
		// Addresses and the client's port may arrive rewritten.
		{"host 203.0.113.5", "198.51.100.10:40000", "203.0.113.5:82", false, false},
		{"src host 198.51.100.10 and port 82", "198.51.100.10:40000", "203.0.113.5:82", false, false},
		{"src port 40000", "198.51.100.10:40000", "203.0.113.5:82", false, false},
	} {
		f, err := ParseFilter(tc.filter)
		if err != nil {
			t.Fatalf("%q: %v", tc.filter, err)
		}
		passes, known := f.PassesSYN(netip.MustParseAddrPort(tc.client), netip.MustParseAddrPort(tc.server))
		if passes != tc.passes || known != tc.known {
			t.Errorf("%q, %s → %s: passes %v known %v, want %v %v", tc.filter, tc.client, tc.server, passes, known, tc.passes, tc.known)
		}
	}
}

// TestWriteStatsRan: a capture synpath writes whole ends with statistics
// its own reader takes as proof of when it ran.
func TestWriteStatsRan(t *testing.T) {
	c, s := netip.MustParseAddrPort("198.51.100.10:40000"), netip.MustParseAddrPort("203.0.113.5:443")
	var out bytes.Buffer
	w, err := NewPcapngWriter(&out, false)
	if err != nil {
		t.Fatal(err)
	}
	from, until := t0.Add(-time.Minute), t0.Add(time.Hour)
	for i, iface := range []int{3, 3, 7} {
		f := Frame{N: uint64(i + 1), TS: t0.Add(time.Duration(i) * time.Second), Link: linkEthernet, Data: frame(linkEthernet, syn(c, s).ip()), Iface: iface}
		f.Len = len(f.Data)
		if err := w.WriteFrame(&f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteStats(from, until, 2); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader("written.pcapng", &out)
	if err != nil {
		t.Fatal(err)
	}
	var p Packet
	n := 0
	for ; r.Next(&p) == nil; n++ {
	}
	gotFrom, gotUntil, ok := r.Ran()
	if n != 3 || !ok || !gotFrom.Equal(from) || !gotUntil.Equal(until) {
		t.Errorf("%d packets, ran %v to %v (%v), want 3, %v to %v", n, gotFrom, gotUntil, ok, from, until)
	}
	if d := r.KernelDrops(); d != 2 {
		t.Errorf("%d drops, want 2", d)
	}
}

package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// fragment4 splits an IPv4 packet into fragments of at most size bytes of
// payload (a multiple of 8), in order.
func fragment4(ip []byte, size int) [][]byte {
	hl := int(ip[0]&0x0f) * 4
	hdr, data := ip[:hl], ip[hl:]
	var out [][]byte
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		f := append(bytes.Clone(hdr), data[off:end]...)
		binary.BigEndian.PutUint16(f[2:4], uint16(len(f)))
		fo := uint16(off / 8)
		if end < len(data) {
			fo |= 0x2000
		}
		binary.BigEndian.PutUint16(f[6:8], fo)
		out = append(out, f)
	}
	return out
}

// fragment6 is fragment4 for IPv6, with a fragment header of identification id.
func fragment6(ip []byte, size int, id uint32) [][]byte {
	hdr, data := ip[:40], ip[40:]
	var out [][]byte
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		fh := []byte{ip[6], 0, 0, 0}
		fo := uint16(off/8) << 3
		if end < len(data) {
			fo |= 1
		}
		binary.BigEndian.PutUint16(fh[2:4], fo)
		fh = binary.BigEndian.AppendUint32(fh, id)
		f := cat(bytes.Clone(hdr), fh, data[off:end])
		f[6] = 44
		binary.BigEndian.PutUint16(f[4:6], uint16(len(f)-40))
		out = append(out, f)
	}
	return out
}

func TestReassembly(t *testing.T) {
	s4, s6 := syn(cli4, srv4), syn(cli6, srv6)
	data4 := handshake(cli4, srv4)[4] // 1200 bytes of payload
	data4.payload = 3000
	w4, w6 := want(s4), want(s6)
	f4 := fragment4(s4.ip(), 16) // 16, 16 and 8 bytes of TCP: flags in the first, options cut
	f8 := fragment4(s4.ip(), 8)  // 8 bytes in the first: ports and sequence number only
	f8r := slices.Clone(f8)
	slices.Reverse(f8r)
	d4 := fragment4(data4.ip(), 1480)
	f6 := fragment6(s6.ip(), 16, 77)
	other := syn(netip4p("198.51.100.11:5555"), srv4)
	other.id = 8
	fo := fragment4(other.ip(), 16)
	vx := udpIn(portVXLAN, append(vxlanHdr(5001), ethIP(s4.ip())...))
	fvx := fragment4(vx, 48)

	type in struct {
		b  []byte
		dt time.Duration // after the previous one
	}
	seq := func(bs ...[]byte) []in {
		var out []in
		for _, b := range bs {
			out = append(out, in{b: b})
		}
		return out
	}
	tests := []struct {
		name string
		in   []in
		want []Packet // the packets handed on, in order
	}{
		{"syn in order", seq(f4...), []Packet{w4}},
		{"syn in 8-byte pieces", seq(f8...), []Packet{w4}},
		{"syn in 8-byte pieces reversed", seq(f8r...), []Packet{w4}},
		{"syn reversed", seq(f4[2], f4[1], f4[0]), []Packet{w4}},
		{"syn duplicated fragment", seq(f4[0], f4[0], f4[1], f4[1], f4[2]), []Packet{w4}},
		{"syn without its middle", seq(f4[0], f4[2]), nil},
		{"syn without its last", seq(f4[0], f4[1]), nil},
		{"two datagrams interleaved", seq(f4[0], fo[0], f4[1], fo[1], fo[2], f4[2]), []Packet{want(other), w4}},
		{"same id, other source", seq(f4[0], f4[1], fo[2]), nil},
		{"timed out", []in{{b: f4[0]}, {b: f4[1]}, {b: f4[2], dt: 31 * time.Second}}, nil},
		{"within the timeout", []in{{b: f4[0]}, {b: f4[1]}, {b: f4[2], dt: 29 * time.Second}}, []Packet{w4}},
		{"first data segment past the prefix kept", seq(d4...), []Packet{want(data4)}},
		{"ipv6 syn", seq(f6...), []Packet{w6}},
		{"ipv6 syn reversed", seq(f6[2], f6[1], f6[0]), []Packet{w6}},
		{"fragmented vxlan", seq(fvx...), []Packet{tunnelled(w4, TunnelVXLAN, 5001)}},
		{"unfragmented", seq(s4.ip()), []Packet{w4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d decoder
			var got []Packet
			ts := t0
			for _, x := range tt.in {
				ts = ts.Add(x.dt)
				d.ts = ts
				var p Packet
				switch c := d.decode(&p, linkEthernet, ethIP(x.b), false); c {
				case classTCP:
					got = append(got, p)
				case classSkipped:
				default:
					t.Fatalf("class %d", c)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d packets, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("got  %#v\nwant %#v", got[i], tt.want[i])
				}
			}
			if tt.want != nil && d.reassembled == 0 && tt.name != "unfragmented" {
				t.Error("not counted as reassembled")
			}
		})
	}
}

// TestReassemblyBounded fills the table past its size: the oldest
// datagrams give way, the table does not grow.
func TestReassemblyBounded(t *testing.T) {
	var d decoder
	var p Packet
	var lasts [][]byte
	for i := range fragSlots + 4 {
		s := syn(cli4, srv4)
		s.id = uint16(100 + i)
		f := fragment4(s.ip(), 16)
		d.ts = t0.Add(time.Duration(i) * time.Millisecond)
		for _, x := range f[:len(f)-1] {
			if c := d.decode(&p, linkRaw, x, false); c != classSkipped {
				t.Fatalf("class %d", c)
			}
		}
		lasts = append(lasts, f[len(f)-1])
	}
	// Newest first, so that each completed datagram frees its slot before
	// an evicted one's last fragment takes one.
	for i := len(lasts) - 1; i >= 0; i-- {
		c := d.decode(&p, linkRaw, lasts[i], false)
		if evicted := i < 4; evicted != (c == classSkipped) {
			t.Errorf("datagram %d: class %d", i, c)
		}
	}
	// Too many pieces: a datagram in 8-byte fragments, every other one first.
	s := handshake(cli4, srv4)[3]
	s.payload = 200 // 28 fragments, 14 apart before the others come
	f := fragment4(s.ip(), 8)
	d.ts = d.ts.Add(time.Second)
	for i := 0; i < len(f); i += 2 {
		d.decode(&p, linkRaw, f[i], false)
	}
	got := classSkipped
	for i := 1; i < len(f); i += 2 {
		got = d.decode(&p, linkRaw, f[i], false)
	}
	if len(f) <= 2*fragPieces || got != classSkipped {
		t.Errorf("%d fragments out of order: class %d, want it given up", len(f), got)
	}
}

func netip4p(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

package flows_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// FuzzTracker feeds arbitrary packet sequences (few addresses, so they
// collide into the same attempts) and checks the tracker's promises: no
// panic, the table bound kept, nothing left after Finish.
func FuzzTracker(f *testing.F) {
	f.Add([]byte{0x02, 0, 0, 0, 1, 0, 0, 0, 0, 0x12, 1, 0, 0, 0, 0, 0, 0, 2, 0x10, 0, 0, 0, 2, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Longer inputs are passed over, so that none counts as new
		// coverage: minimizing one takes O(n²) runs, minutes at a few KB.
		if len(data) > 9*24 {
			return
		}
		addrs := []netip.AddrPort{
			netip.MustParseAddrPort("198.51.100.10:40000"),
			netip.MustParseAddrPort("203.0.113.5:80"),
			netip.MustParseAddrPort("[2001:db8::1]:443"),
		}
		handed := 0
		tr := flows.NewTracker(flows.Config{Idle: 3 * time.Second, MaxAttempts: 4}, func(a *flows.Attempt) {
			if a.SYN.Count == 0 {
				t.Fatalf("attempt without a SYN handed on: %+v", a)
			}
			handed++
		})
		ts := time.Unix(1700000000, 0)
		var p capture.Packet
		for n := uint64(1); len(data) >= 9; n++ {
			b := data[:9]
			data = data[9:]
			ts = ts.Add(time.Duration(int8(b[0])) * 37 * time.Millisecond) // back too: the clock must cope
			p = capture.Packet{
				Ref:   capture.Ref{File: "fuzz", N: n, TS: ts},
				Kind:  capture.KindTCP,
				Src:   addrs[int(b[1])%len(addrs)],
				Dst:   addrs[int(b[2])%len(addrs)],
				Flags: capture.TCPFlags(b[3]),
				Seq:   uint32(b[4]) | uint32(b[5])<<30,
				Ack:   uint32(b[6]) | uint32(b[7])<<30,
				TTL:   b[8],
			}
			if b[3]&0xc0 == 0xc0 {
				p.Kind = capture.KindICMP
				p.ICMP = capture.ICMPInfo{From: addrs[0].Addr(), Type: 3, Code: b[8] % 16}
			}
			p.PayloadLen = binary.BigEndian.Uint32([]byte{0, 0, 0, b[8] & 0x3})
			tr.Observe(&p)
			if tr.Pending() > 4 {
				t.Fatalf("%d attempts pending, bound 4", tr.Pending())
			}
		}
		tr.Finish()
		if tr.Pending() != 0 {
			t.Fatalf("%d attempts left after Finish", tr.Pending())
		}
		if uint64(handed) != tr.Counts().Attempts {
			t.Fatalf("handed on %d, counted %d", handed, tr.Counts().Attempts)
		}
	})
}

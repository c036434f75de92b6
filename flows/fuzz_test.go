package flows_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// FuzzTracker feeds arbitrary packet sequences (few addresses, so they
// collide into the same attempts) and checks the tracker's promises: no
// panic, the table bound kept, nothing left after Finish. Flags with the
// top bits 01 make a DNS message instead (ID, QR, rcode, name and type,
// answers from the same few addresses), with 10 a payload naming a service.
func FuzzTracker(f *testing.F) {
	f.Add([]byte{0x02, 0, 0, 0, 1, 0, 0, 0, 0, 0x12, 1, 0, 0, 0, 0, 0, 0, 2, 0x10, 0, 0, 0, 2, 0, 0, 0, 1})
	// A lookup answered with the server's address, a failed one, the
	// connection, a ClientHello, an unanswered lookup.
	f.Add([]byte{
		0x01, 0, 1, 0x40, 1, 0, 0, 0, 0, 0x01, 1, 0, 0x40, 1, 1, 0, 0, 2,
		0x01, 0, 1, 0x40, 2, 0, 0, 1, 0, 0x01, 1, 0, 0x40, 2, 1, 3, 1, 0,
		0x02, 0, 1, 0x02, 1, 0, 0, 0, 0, 0x12, 1, 0, 0x12, 9, 0, 2, 0, 1, 0x01, 0, 1, 0x10, 2, 0, 9, 0, 0,
		0x01, 0, 1, 0x98, 2, 0, 9, 0, 3,
		0x01, 0, 1, 0x40, 3, 0, 0, 2, 4,
	})
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
		handed, failed := 0, 0
		var packets []capture.Packet
		var emitted []string
		names := []string{"a.example", "b.example", "c.example"}
		cfg := flows.Config{Idle: 3 * time.Second, MaxAttempts: 4, DNSWait: time.Second, OnDNS: func(l *flows.Lookup) {
			if (l.Queries == 0 && !l.Answered) || (l.Answered && l.RCode == 0 && !l.Truncated) || l.End.Before(l.Last) {
				t.Fatalf("lookup handed on: %+v", l)
			}
			failed++
		}}
		tr := flows.NewTracker(cfg, func(a *flows.Attempt) {
			if a.DNS != nil && (a.DNS.Addr != a.Key.Server.Addr() || a.DNS.Before < 0) {
				t.Fatalf("attempt to %v with DNS %+v", a.Key.Server, a.DNS)
			}
			if a.SYN.Count == 0 {
				t.Fatalf("attempt without a SYN handed on: %+v", a)
			}
			handed++
			emitted = append(emitted, summary(a))
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
				// Which way it crossed the capture's host: unknown, in,
				// out (passon.go's pairing).
				Dir: capture.Direction(b[2] >> 6 % 3),
			}
			p.PayloadLen = binary.BigEndian.Uint32([]byte{0, 0, 0, b[8] & 0x3})
			switch b[3] & 0xc0 {
			case 0xc0:
				p.Kind = capture.KindICMP
				p.ICMP = capture.ICMPInfo{From: addrs[0].Addr(), Type: 3, Code: b[8] % 16}
			case 0x40:
				p.Kind, p.Flags, p.Seq, p.Ack, p.PayloadLen = capture.KindDNS, 0, 0, 0, 0
				p.Src, p.Dst = netip.AddrPortFrom(p.Src.Addr(), 50000), netip.AddrPortFrom(p.Dst.Addr(), 53)
				d := &p.DNS
				d.ID, d.Response, d.RCode, d.TC = uint16(b[4]%4), b[5]&1 != 0, b[6]%6, b[6]&0x80 != 0
				d.Name, d.QType, d.Questions = capture.NameOf(names[int(b[7])%len(names)]), capture.QTypeA, 1
				if b[7]&0x80 != 0 {
					d.QType = capture.QTypeAAAA
				}
				for i := range int(b[8] % 5) {
					d.Addrs[i] = addrs[(int(b[8])+i)%len(addrs)].Addr()
					d.NAddrs++
				}
				if d.Response {
					p.Src, p.Dst = p.Dst, p.Src
				}
			case 0x80:
				p.Flags &^= 0x80
				p.App = capture.AppInfo{Kind: capture.AppKind(b[8]%4 + 1), Name: capture.NameOf(names[int(b[7])%len(names)]), Status: uint16(b[6]) + 100}
			}
			packets = append(packets, p)
			tr.Observe(&p)
			if tr.Pending() > 4 {
				t.Fatalf("%d attempts pending, bound 4", tr.Pending())
			}
		}
		tr.Finish()
		handOverAgrees(t, cfg, packets, emitted)
		if tr.Pending() != 0 {
			t.Fatalf("%d attempts left after Finish", tr.Pending())
		}
		if uint64(handed) != tr.Counts().Attempts {
			t.Fatalf("handed on %d, counted %d", handed, tr.Counts().Attempts)
		}
		if uint64(failed) != tr.Counts().DNSFailed {
			t.Fatalf("lookups handed on %d, counted %d", failed, tr.Counts().DNSFailed)
		}
	})
}

// summary is what a taker judges an attempt by.
func summary(a *flows.Attempt) string {
	return fmt.Sprintf("%v %d %+v %+v %+v %+v %+v %+v %+v %+v %v %d %v %d", a.Key, a.ISN, a.SYN, a.SYNACK, a.ACK, a.ServerRST, a.ClientRST,
		a.ICMP, a.ClientData, a.ServerData, a.End, a.EndedBy, a.Settled, len(a.Events))
}

// handOverAgrees feeds the packets again to a tracker handing attempts
// over (Config.HandOver) to a taker a few attempts behind, as cmd's pipe
// is, and requires what emit saw, in its order; an attempt must not come
// twice while its taker holds it.
func handOverAgrees(t *testing.T, cfg flows.Config, packets []capture.Packet, want []string) {
	t.Helper()
	var got []string
	var held []*flows.Attempt
	cfg.OnDNS = nil
	cfg.HandOver = func(a *flows.Attempt) *flows.Attempt {
		for _, h := range held {
			if h == a {
				t.Fatalf("attempt handed over twice: %s", summary(a))
			}
		}
		got = append(got, summary(a))
		held = append(held, a)
		if len(held) <= 2 {
			return nil
		}
		spare := held[0]
		held = held[1:]
		return spare
	}
	tr := flows.NewTracker(cfg, func(*flows.Attempt) { t.Fatal("emit called with HandOver set") })
	for i := range packets {
		tr.Observe(&packets[i])
	}
	tr.Finish()
	if len(got) != len(want) {
		t.Fatalf("%d attempts handed over, %d emitted", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("attempt %d handed over:\n%s\nemitted:\n%s", i, got[i], want[i])
		}
	}
}

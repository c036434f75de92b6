package flows_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
)

const ms = time.Millisecond

type recorder struct{ got []*flows.Attempt }

func (r *recorder) emit(a *flows.Attempt) { r.got = append(r.got, a.Clone()) }

func feed(tr *flows.Tracker, pkts ...capture.Packet) {
	for i := range pkts {
		tr.Observe(&pkts[i])
	}
}

func TestAttemptRecordsHandshake(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	// ISN next to 2^32: sequence arithmetic must wrap.
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 0xffffffff)
	feed(tr, c.SYN(0), c.SYN(time.Second), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 100))
	if len(rec.got) != 0 {
		t.Fatalf("handed on before the first data exchange: %+v", rec.got[0])
	}
	feed(tr, c.ServerACK(ms), c.Data(ms, false, 300))
	if len(rec.got) != 0 {
		t.Fatalf("handed on before the client acknowledged the reply (a PMTU black hole delivers tails it never acknowledges)")
	}
	feed(tr, c.ACK(ms))
	if len(rec.got) != 1 {
		t.Fatalf("got %d attempts once the client acknowledged the reply, want 1 at once", len(rec.got))
	}
	a := rec.got[0]
	if a.SYN.Count != 2 || a.SYNACK.Count != 1 || !a.Established() || a.ClientBytes != 100 || a.ServerBytes != 300 || !a.ServerAckedData || !a.Settled {
		t.Errorf("attempt = %+v", a)
	}
	if a.ISN != 0xffffffff || a.Key.Client.Port() != 40512 {
		t.Errorf("key %v isn %d", a.Key, a.ISN)
	}
	// Stragglers after the hand-on are absorbed, not new connections.
	feed(tr, c.FIN(ms, true), c.FIN(ms, false))
	tr.Finish()
	if len(rec.got) != 1 || tr.Counts().Midstream != 0 {
		t.Errorf("after stragglers: %d attempts, %d midstream", len(rec.got), tr.Counts().Midstream)
	}
}

func TestPortReuseIsANewAttempt(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	a := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	b := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 5000)
	b.T = a.T.Add(10 * time.Second)
	feed(tr, a.SYN(0), a.SYN(time.Second), b.SYN(0), b.RefusingRST(ms, 63))
	tr.Finish()
	if len(rec.got) != 2 || rec.got[0].ISN != 1000 || rec.got[1].ISN != 5000 || tr.Counts().PortReuse != 1 {
		t.Fatalf("got %d attempts, counts %+v", len(rec.got), tr.Counts())
	}
	if rec.got[0].SYN.Count != 2 || rec.got[1].ServerRST.Count != 1 {
		t.Errorf("attempts mixed up: %+v / %+v", rec.got[0].SYN, rec.got[1].ServerRST)
	}
}

func TestUnacceptableRSTIsIgnored(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	rst := c.RefusingRST(ms, 63)
	rst.Ack++ // does not acknowledge the SYN: a real stack drops it
	feed(tr, c.SYN(0), rst)
	tr.Finish()
	if len(rec.got) != 1 || rec.got[0].ServerRST.Count != 0 {
		t.Fatalf("an unacceptable RST was taken as a refusal: %+v", rec.got)
	}
}

func TestMidstreamConnectionsAreCountedNotJudged(t *testing.T) {
	var rec recorder
	var listed []flows.Midstream
	cfg := flows.DefaultConfig
	cfg.OnMidstream = func(m *flows.Midstream) { listed = append(listed, *m) }
	tr := flows.NewTracker(cfg, rec.emit)
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	feed(tr, c.Data(0, false, 10), c.Data(ms, true, 10), c.Data(ms, false, 10))
	tr.Finish()
	if len(rec.got) != 0 || tr.Counts().Midstream != 1 {
		t.Errorf("got %d attempts, %d midstream; want 0 and 1", len(rec.got), tr.Counts().Midstream)
	}
	if len(listed) != 1 || listed[0].Packets != 3 || listed[0].From != c.Server || listed[0].First.N != 1 {
		t.Errorf("listed %+v, want one connection of 3 packets, first from the server", listed)
	}
}

func TestIdleAttemptsAreHandedOnAsTimePasses(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.Config{Idle: 5 * time.Second}, rec.emit)
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	feed(tr, c.SYN(0), c.SYN(time.Second))
	other := pkttest.NewConn("198.51.100.10:40513", "203.0.113.5:80", 2000)
	other.T = c.T.Add(7 * time.Second)
	feed(tr, other.SYN(0))
	if len(rec.got) != 1 || rec.got[0].ISN != 1000 || rec.got[0].Settled {
		t.Fatalf("after 6 idle seconds: %d attempts handed on, want the idle one", len(rec.got))
	}
	if end := rec.got[0].End; !end.Equal(other.T) {
		t.Errorf("End = %v, want the time of expiry %v", end, other.T)
	}
	if tr.Pending() != 1 {
		t.Errorf("pending %d, want 1", tr.Pending())
	}
}

func TestMaxAttemptsBoundsMemory(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.Config{Idle: time.Minute, MaxAttempts: 100}, rec.emit)
	for i := 0; i < 1000; i++ {
		c := pkttest.NewConn("198.51.100.10:1", "203.0.113.5:80", uint32(i))
		p := c.SYN(time.Duration(i) * time.Microsecond)
		p.Src = netipPort(p.Src, uint16(1000+i))
		tr.Observe(&p)
		if tr.Pending() > 100 {
			t.Fatalf("%d attempts pending, bound is 100", tr.Pending())
		}
	}
	if got := tr.Counts().Evicted; got != 900 {
		t.Errorf("evicted %d, want 900", got)
	}
}

// TestObserveAllocatesNothing: the per-packet path of an established flow
// must not allocate.
func TestObserveAllocatesNothing(t *testing.T) {
	tr := flows.NewTracker(flows.DefaultConfig, func(*flows.Attempt) {})
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	feed(tr, c.SYN(0), c.SYNACK(ms), c.ACK(ms))
	data := []capture.Packet{c.Data(ms, true, 100), c.ServerACK(ms), c.Data(ms, true, 100), c.ServerACK(ms)}
	allocs := testing.AllocsPerRun(1000, func() {
		for i := range data {
			tr.Observe(&data[i])
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per run of %d packets, want 0", allocs, len(data))
	}
}

func TestPacketsCapturedTwiceCountOnce(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	syn := c.SYN(0)
	syn.IPID = 4242
	synOut := syn // the same SYN leaving the router's other interface
	synOut.TS, synOut.N, synOut.TTL = syn.TS.Add(20*time.Microsecond), syn.N+1, syn.TTL-1
	retx := syn // a real retransmission, a second later
	retx.TS, retx.N = syn.TS.Add(time.Second), syn.N+2
	c.N, c.T = retx.N, retx.TS
	feed(tr, syn, synOut, retx, c.SYNACK(ms), c.ACK(ms), c.FIN(ms, true), c.FIN(ms, false))
	tr.Finish()
	if len(rec.got) != 1 || rec.got[0].SYN.Count != 2 || rec.got[0].Duplicates != 1 {
		t.Fatalf("got %d attempts; SYNs %d, duplicates %d; want 1, 2, 1", len(rec.got), rec.got[0].SYN.Count, rec.got[0].Duplicates)
	}
}

// TestTwinsAStackSendsCountTwice: the same header fields within a
// millisecond are two packets when nothing says they are one captured
// twice, as a stack sends such twins itself.
func TestTwinsAStackSendsCountTwice(t *testing.T) {
	// timerAndAnswer: a Linux server's SYN-ACK timer fires as the client's
	// resent SYN arrives, on a LAN: two SYN-ACKs 6 µs apart, IP-ID 0.
	timerAndAnswer := func(c *pkttest.Conn) []capture.Packet {
		return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.SYN(time.Second), c.SYNACK(3 * time.Microsecond), c.SYNACK(6 * time.Microsecond)}
	}
	// dupACKs: at an IPv6 server, the client acknowledging only the
	// request twice, 10 µs apart, as the segments after the reply's lost
	// first one arrive.
	dupACKs := func(c *pkttest.Conn) []capture.Packet {
		s := c.AtServer()
		ps := []capture.Packet{s.SYN(0), s.SYNACK(ms), s.ACK(ms), s.Data(ms, true, 100),
			s.Data(ms, false, 1400), s.Data(5*time.Microsecond, false, 1400), s.Data(5*time.Microsecond, false, 1400)}
		for range 2 {
			dup := s.ACK(10 * time.Microsecond)
			dup.Ack = s.ServerISN + 1
			ps = append(ps, dup)
		}
		return ps
	}
	// copyingCapture: a capture shown to copy packets (a SYN on both of
	// a router's interfaces, the same TTL: a bridge) before the attempt.
	copyingCapture := func(tr *flows.Tracker) {
		c := pkttest.NewConn("198.51.100.10:40000", "203.0.113.5:80", 77)
		syn := c.SYN(0)
		again := syn
		again.TS, again.N = syn.TS.Add(15*time.Microsecond), syn.N+1
		feed(tr, syn, again)
	}
	for _, tc := range []struct {
		name          string
		client        string
		before        func(*flows.Tracker)
		packets       func(*pkttest.Conn) []capture.Packet
		synacks, dups uint32
		dupACKs       uint32
	}{
		{"SYN-ACK timer and answer", "198.51.100.10:40512", nil, timerAndAnswer, 3, 0, 0},
		{"SYN-ACK timer and answer, capture that copies", "198.51.100.10:40512", copyingCapture, timerAndAnswer, 2, 1, 0},
		{"IPv6 duplicate ACKs", "[2001:db8::10]:40512", nil, dupACKs, 1, 0, 2},
		{"IPv6 duplicate ACKs, capture that copies", "[2001:db8::10]:40512", copyingCapture, dupACKs, 1, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
			if tc.before != nil {
				tc.before(tr)
			}
			server := "203.0.113.5:80"
			if strings.HasPrefix(tc.client, "[") {
				server = "[2001:db8::5]:80"
			}
			c := pkttest.NewConn(tc.client, server, 1000)
			c.T = c.T.Add(time.Minute)
			feed(tr, tc.packets(c)...)
			tr.Finish()
			for _, a := range rec.got {
				if a.ISN != 1000 {
					continue
				}
				if a.SYNACK.Count != tc.synacks || a.Duplicates != tc.dups || a.ClientDupACKs != tc.dupACKs {
					t.Errorf("SYN-ACKs %d, duplicates %d, duplicate ACKs %d; want %d, %d, %d", a.SYNACK.Count, a.Duplicates, a.ClientDupACKs, tc.synacks, tc.dups, tc.dupACKs)
				}
				return
			}
			t.Fatal("attempt not handed on")
		})
	}
}

func TestRefusalWaitsForTheServersOwnPackets(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	refused := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:81", 1000)
	open := pkttest.NewConn("198.51.100.10:40513", "203.0.113.5:80", 2000)
	open.T = refused.T.Add(50 * ms)
	feed(tr, refused.SYN(0), refused.RefusingRST(ms, 63))
	if len(rec.got) != 0 {
		t.Fatal("refusal handed on before the capture showed any packet of the server's")
	}
	feed(tr, open.SYN(0), open.SYNACK(ms), open.ACK(ms), open.Data(ms, true, 10), open.Data(ms, false, 10))
	tr.Finish()
	for _, a := range rec.got {
		if a.Key.Server.Port() == 81 && (a.ServerHops.Count != 1 || a.ServerHops.TTL != 63) {
			t.Errorf("refused attempt handed on with reference %+v, want the later SYN-ACK's", a.ServerHops)
		}
	}
	if len(rec.got) != 2 {
		t.Errorf("%d attempts handed on, want 2", len(rec.got))
	}
}

func TestFastOpenSYNACKAcksTheSYNData(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 1000)
	syn := c.SYN(0)
	syn.PayloadLen = 100 // TFO: the request rides on the SYN
	sa := c.SYNACK(ms)
	sa.Ack = 1000 + 1 + 100
	feed(tr, syn, sa, c.ACK(ms), c.Data(ms, false, 500), c.ACK(ms))
	if len(rec.got) != 1 || rec.got[0].SYNACK.Count != 1 || rec.got[0].ClientBytes != 100 || !rec.got[0].Settled {
		t.Fatalf("a Fast Open SYN-ACK acknowledging the SYN's data was not taken: %+v", rec.got)
	}
}

func TestHandedOnAttemptsLeaveTombs(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.Config{Idle: 5 * time.Second}, rec.emit)
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	feed(tr, c.SYN(0), c.RefusingRST(ms, 63), c.SYNACK(0)) // a reference for the RST, oddly late
	other := pkttest.NewConn("198.51.100.10:40600", "203.0.113.5:80", 7)
	other.T = c.T
	feed(tr, other.SYN(0), other.SYNACK(ms), other.ACK(ms), other.Data(ms, true, 10), other.Data(ms, false, 10), other.ACK(ms))
	if tr.Pending() != 1 {
		t.Fatalf("pending %d after the established attempt was handed on, want only the waiting refusal", tr.Pending())
	}
	// Its stragglers are absorbed by the tomb…
	feed(tr, other.FIN(ms, true), other.FIN(ms, false))
	if got := tr.Counts().Midstream; got != 0 {
		t.Errorf("stragglers counted as %d connections without SYN", got)
	}
	// …a new SYN with another ISN on the 4-tuple is a new attempt…
	again := pkttest.NewConn("198.51.100.10:40600", "203.0.113.5:80", 99999)
	again.T = other.T.Add(time.Second)
	feed(tr, again.SYN(0))
	if tr.Pending() != 2 || tr.Counts().PortReuse != 1 {
		t.Errorf("pending %d, port reuse %d after a new SYN on a tomb; want 2, 1", tr.Pending(), tr.Counts().PortReuse)
	}
	// …and once idle the tomb is gone: a late packet is a connection without SYN.
	late := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	late.T = again.T.Add(time.Minute)
	feed(tr, late.Data(0, true, 10))
	tr.Finish()
	if got := tr.Counts().Midstream; got != 1 {
		t.Errorf("a packet after the tomb expired counted as %d connections without SYN, want 1", got)
	}
	if len(rec.got) != 3 {
		t.Errorf("%d attempts handed on, want 3", len(rec.got))
	}
}

// BenchmarkPendingAttempt reports what a pending SYN-only attempt costs in
// memory (the budget behind --max-memory) against flows.AttemptBytes.
func BenchmarkPendingAttempt(b *testing.B) {
	const n = 100_000
	var perAttempt float64
	for b.Loop() {
		tr := flows.NewTracker(flows.Config{Idle: time.Hour}, func(*flows.Attempt) {})
		pkts := make([]capture.Packet, n)
		for i := range pkts {
			c := pkttest.NewConn(fmt.Sprintf("198.51.%d.%d:%d", i/65000%250, i%250+1, 1024+i%60000), "203.0.113.5:443", uint32(i))
			pkts[i] = c.SYN(time.Duration(i) * time.Microsecond)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range pkts {
			tr.Observe(&pkts[i])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perAttempt = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(tr)
		runtime.KeepAlive(pkts) // freed before the second reading, it would be taken off the attempts
	}
	b.ReportMetric(perAttempt, "B/pending-attempt")
	b.ReportMetric(float64(flows.AttemptBytes), "B/estimate")
}

// TestClosedConnectionsLeaveSoon: the tomb of a connection closed both
// ways goes closeLinger after its last packet, so a capture's tombs cost
// what its last seconds hold; one a RST ended stays for Idle, to absorb
// the SYNs of a client that did not take it.
func TestClosedConnectionsLeaveSoon(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.Config{Idle: time.Minute}, rec.emit)
	closed := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	feed(tr, closed.SYN(0), closed.SYNACK(ms), closed.ACK(ms), closed.Data(ms, true, 10), closed.Data(ms, false, 10), closed.ACK(ms),
		closed.FIN(ms, true), closed.FIN(ms, false), closed.ACK(ms))
	reset := pkttest.NewConn("198.51.100.10:40513", "203.0.113.5:80", 5000)
	reset.T = closed.T
	feed(tr, reset.SYN(0), reset.SYNACK(ms), reset.ACK(ms), reset.Data(ms, true, 10), reset.Data(ms, false, 10), reset.ACK(ms), reset.RST(ms, false))
	// 20 s on, well within Idle, a packet of each, after enough new
	// connections that tombs are swept (a sweep waits for an eighth of
	// the table to have been filled).
	const others = 200
	var clock *pkttest.Conn
	for i := range others {
		clock = pkttest.NewConn(fmt.Sprintf("192.0.2.99:%d", 5000+i), "192.0.2.98:6000", 1)
		clock.T = reset.T.Add(20 * time.Second)
		feed(tr, clock.SYN(0))
	}
	late := closed
	late.T = clock.T.Add(time.Second) // the clock sweeps once a second
	feed(tr, late.Data(0, true, 10))
	lateReset := reset
	lateReset.T = late.T
	feed(tr, lateReset.SYN(0))
	tr.Finish()
	if got := tr.Counts().Midstream; got != 1 {
		t.Errorf("%d connections without SYN, want 1: the closed connection's late packet", got)
	}
	if len(rec.got) != 2+others || tr.Counts().PortReuse != 0 {
		t.Errorf("%d attempts, %d port reuses: want one for each first SYN, the late SYN absorbed by the reset connection's tomb", len(rec.got), tr.Counts().PortReuse)
	}
}

// OnHost hears of each address shown in a packet of no attempt once, and
// once more when it is first shown beyond TCP; never of those a multicast
// or broadcast shows, which every host on the link sees, nor of an
// attempt's.
func TestOnHostTellsEachAddressOnce(t *testing.T) {
	var rec recorder
	var told []string
	cfg := flows.DefaultConfig
	cfg.OnHost = func(a netip.Addr, nonTCP bool) { told = append(told, fmt.Sprint(a, nonTCP)) }
	tr := flows.NewTracker(cfg, rec.emit)
	other := func(src, dst string) capture.Packet {
		return capture.Packet{Ref: capture.Ref{File: "x.pcap", N: 1, TS: pkttest.Base}, Kind: capture.KindOtherIP,
			Src: netip.AddrPortFrom(netip.MustParseAddr(src), 0), Dst: netip.AddrPortFrom(netip.MustParseAddr(dst), 0)}
	}
	attempt := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	midstream := pkttest.NewConn("198.51.100.20:40513", "203.0.113.6:22", 2000)
	feed(tr, attempt.SYN(0), attempt.SYNACK(ms),
		midstream.Data(ms, true, 10), midstream.Data(ms, false, 10), // told once, as TCP
		other("203.0.113.6", "224.0.0.251"), other("203.0.113.6", "255.255.255.255"), // not told
		other("203.0.113.6", "192.0.2.53"), other("203.0.113.6", "192.0.2.53")) // told once, beyond TCP
	tr.Finish()
	want := []string{"198.51.100.20 false", "203.0.113.6 false", "203.0.113.6 true", "192.0.2.53 true"}
	if !slices.Equal(told, want) {
		t.Errorf("told %q, want %q", told, want)
	}
}

// A handshake's round trip is the address's reference for how far it is
// (HopRef.MinRTT): the quickest of those answering a client's only SYN;
// not one across a clock step (longer than a client waits to resend).
func TestServerMinRTT(t *testing.T) {
	const ms = time.Millisecond
	var got []time.Duration
	tr := flows.NewTracker(flows.Config{}, func(a *flows.Attempt) {
		if a.Key.Server.Port() == 81 {
			got = append(got, a.ServerHops.MinRTT)
		}
	})
	// Two refusals: the first judged (its grace over) before the
	// handshakes after the step.
	step := pkttest.NewConn("198.51.100.10:40000", "203.0.113.5:80", 5)
	slow := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 6)
	fast := pkttest.NewConn("198.51.100.10:40002", "203.0.113.5:80", 7)
	probe := pkttest.NewConn("198.51.100.10:40003", "203.0.113.5:81", 8)
	probe2 := pkttest.NewConn("198.51.100.10:40004", "203.0.113.5:81", 9)
	observe := func(c *pkttest.Conn, after *pkttest.Conn, pkts ...func() capture.Packet) {
		if after != nil {
			c.N, c.T = after.N, after.T
		}
		for _, p := range pkts {
			q := p()
			tr.Observe(&q)
		}
	}
	observe(step, nil, func() capture.Packet { return step.SYN(0) }, func() capture.Packet { return step.SYNACK(5 * time.Second) })
	observe(probe, step, func() capture.Packet { return probe.SYN(ms) }, func() capture.Packet { return probe.RefusingRST(ms, 63) })
	tr.Advance(probe.T.Add(3 * time.Second))
	slow.N, slow.T = probe.N, probe.T.Add(3*time.Second)
	observe(slow, nil, func() capture.Packet { return slow.SYN(ms) }, func() capture.Packet { return slow.SYNACK(40 * ms) })
	observe(fast, slow, func() capture.Packet { return fast.SYN(ms) }, func() capture.Packet { return fast.SYNACK(25 * ms) })
	observe(probe2, fast, func() capture.Packet { return probe2.SYN(ms) }, func() capture.Packet { return probe2.RefusingRST(ms, 63) })
	tr.Finish()
	if !slices.Equal(got, []time.Duration{0, 25 * ms}) {
		t.Errorf("MinRTT %v, want [0 25ms] (none from the 5 s across a clock step; the quicker of 40 and 25 ms)", got)
	}
}

// A client whose stack resets a SYN-ACK it cannot place (the reply of a
// server that bypassed a NAT) keeps its socket and resends its SYN at each
// backoff: one attempt holds them all, the backoffs linear (one late, as
// on a loaded host) or doubling past the RST's grace.
func TestSYNsResentAfterTheClientsRSTStayOneAttempt(t *testing.T) {
	for _, gaps := range [][]time.Duration{
		{time.Second, time.Second, 1700 * ms, time.Second},
		{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
	} {
		var rec recorder
		tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
		c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
		feed(tr, c.SYN(0), c.SYNACK(ms), c.AbortRST(ms))
		for _, gap := range gaps {
			feed(tr, c.SYN(gap-2*ms), c.SYNACK(ms), c.AbortRST(ms))
		}
		tr.Finish()
		if len(rec.got) != 1 || int(rec.got[0].SYN.Count) != len(gaps)+1 || int(rec.got[0].SYNACK.Count) != len(gaps)+1 {
			for _, a := range rec.got {
				t.Logf("attempt: %d SYNs, %d SYN-ACKs", a.SYN.Count, a.SYNACK.Count)
			}
			t.Errorf("SYNs %v apart, each answered and reset by the client: %d attempts, want one of %d SYNs", gaps, len(rec.got), len(gaps)+1)
		}
	}
}

package verdict_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

const (
	ms = time.Millisecond
	s  = time.Second
)

// track runs packets through a tracker and returns the attempts it hands on.
func track(pkts ...capture.Packet) []*flows.Attempt {
	var out []*flows.Attempt
	tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) { out = append(out, a.Clone()) })
	for i := range pkts {
		tr.Observe(&pkts[i])
	}
	tr.Finish()
	return out
}

type want struct {
	verdict    verdict.Verdict
	where      verdict.Place
	candidates []verdict.Place
	origin     verdict.Origin
}

func check(t *testing.T, r verdict.Result, w want) {
	t.Helper()
	if r.Verdict != w.verdict || r.Where != w.where || r.RSTOrigin != w.origin {
		t.Errorf("got %s/%s origin %q, want %s/%s origin %q\n%s", r.Verdict, r.Where, r.RSTOrigin, w.verdict, w.where, w.origin, r.Explanation)
	}
	if w.candidates != nil && !slices.Equal(r.Candidates, w.candidates) {
		t.Errorf("candidates %v, want %v", r.Candidates, w.candidates)
	}
	if r.Explanation == "" {
		t.Error("no explanation")
	}
	// where_confidence is empty exactly when the place is unknown.
	if (r.Where == verdict.Unknown) != (r.WhereSure == "") {
		t.Errorf("where %s with where_confidence %q", r.Where, r.WhereSure)
	}
}

var (
	clientSide = []verdict.Place{verdict.OutboundPath, verdict.Server, verdict.ReturnPath}
	returnSide = []verdict.Place{verdict.ReturnPath, verdict.Client}
)

func TestJudgeOneVantage(t *testing.T) {
	tests := []struct {
		name    string
		pkts    func(c *pkttest.Conn) []capture.Packet
		atSrv   bool
		vantage verdict.Vantage
		want    want
	}{
		{"established", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 100), c.Data(ms, false, 200)}
		}, false, verdict.VantageClient, want{verdict.Established, verdict.None, []verdict.Place{}, ""}},
		{"established after lost first SYN", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYN(s), c.SYNACK(ms), c.ACK(ms), c.FIN(ms, true), c.FIN(ms, false)}
		}, false, verdict.VantageClient, want{verdict.Established, verdict.None, nil, ""}},
		{"client timeout", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYN(s), c.SYN(s), c.Idle(3 * s)}
		}, false, verdict.VantageClient, want{verdict.Timeout, verdict.Unknown, clientSide, ""}},
		{"capture ends too soon", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.Idle(500 * ms)}
		}, false, verdict.VantageClient, want{verdict.Incomplete, verdict.Unknown, nil, ""}},
		{"refused, TTL matches an earlier SYN-ACK", refusedAfter(80, 63, 63), false, verdict.VantageClient,
			want{verdict.Refused, verdict.Server, []verdict.Place{verdict.Server}, verdict.OriginServer}},
		// Something nearer resets some connections while the service
		// answers others, before and after.
		{"refused by the path, TTL differs from the port's own SYN-ACKs, before and after", func(c *pkttest.Conn) []capture.Packet {
			pkts := refusedAfter(81, 63, 64)(c)
			later := pkttest.NewConn("198.51.100.10:40002", "203.0.113.5:81", 88)
			later.N, later.T = c.N, c.T.Add(500*ms)
			return append(pkts, later.SYN(0), later.SYNACK(ms), later.ACK(ms))
		}, false, verdict.VantageClient, want{verdict.Refused, verdict.OutboundPath, []verdict.Place{verdict.OutboundPath}, verdict.OriginPath}},
		// Answered from farther until then, refused from nearer since: a
		// firewall that began rejecting, or the host in front of a
		// service that went away (a container host) refusing it itself.
		{"refused nearer than the port's own SYN-ACKs, all before it", refusedAfter(81, 63, 64), false, verdict.VantageClient,
			want{verdict.Refused, verdict.Unknown, []verdict.Place{verdict.Server, verdict.OutboundPath}, verdict.OriginUnknown}},
		// A firewall's RST, or the host at that address refusing a port
		// it does not forward, as a container host or a Kubernetes node
		// does: both nearer than the host its other ports are forwarded to.
		{"refused nearer than other ports' SYN-ACKs", refusedAfter(80, 63, 64), false, verdict.VantageClient,
			want{verdict.Refused, verdict.Unknown, []verdict.Place{verdict.Server, verdict.OutboundPath}, verdict.OriginUnknown}},
		// The port's own SYN-ACK came before the other port's: the
		// reference is the port's, not the address's latest.
		{"refused nearer than other ports' SYN-ACKs, as near as the port's own", func(c *pkttest.Conn) []capture.Packet {
			own := pkttest.NewConn("198.51.100.10:39000", "203.0.113.5:81", 55)
			own.T = c.T
			pkts := []capture.Packet{own.SYN(0), own.SYNACK(ms), own.ACK(ms), own.FIN(ms, true), own.FIN(ms, false)}
			c.N, c.T = own.N, own.T
			return append(pkts, refusedAfter(80, 61, 63)(c)...)
		}, false, verdict.VantageClient, want{verdict.Refused, verdict.Server, []verdict.Place{verdict.Server}, verdict.OriginServer}},
		{"refused from farther than other ports' SYN-ACKs", refusedAfter(80, 63, 62), false, verdict.VantageClient,
			want{verdict.Refused, verdict.Unknown, []verdict.Place{verdict.Server, verdict.OutboundPath}, verdict.OriginUnknown}},
		{"forged RST with the right TTL but no IP-ID", func(c *pkttest.Conn) []capture.Packet {
			// A Windows-like server numbers its packets; the forger does not.
			sa := c.SYNACK(ms)
			sa.IPID = 4711
			return []capture.Packet{c.SYN(0), sa, c.ACK(ms), c.Data(ms, true, 10), c.RST(ms, false)}
		}, false, verdict.VantageClient, want{verdict.Reset, verdict.OutboundPath, nil, verdict.OriginPath}},
		{"refused, no reference", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.RefusingRST(ms, 63)}
		}, false, verdict.VantageClient, want{verdict.Refused, verdict.Unknown, []verdict.Place{verdict.Server, verdict.OutboundPath}, verdict.OriginUnknown}},
		{"icmp admin-prohibited from router", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.ICMP(ms, "198.51.100.1", false, 3, 13)}
		}, false, verdict.VantageClient, want{verdict.Unreachable, verdict.OutboundPath, nil, verdict.OriginPath}},
		{"half-open seen by client", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 50), c.SYNACK(s), c.ACK(ms), c.SYNACK(2 * s), c.ACK(ms)}
		}, false, verdict.VantageClient, want{verdict.HalfOpen, verdict.Unknown, []verdict.Place{verdict.OutboundPath, verdict.Server}, ""}},
		{"stalled seen by client", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 50), c.ServerACK(ms), c.Idle(3 * s), c.FIN(0, true)}
		}, false, verdict.VantageClient, want{verdict.Stalled, verdict.Server, []verdict.Place{verdict.Server, verdict.ReturnPath}, ""}},
		{"client abort", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(300 * ms), c.AbortRST(0)}
		}, false, verdict.VantageClient, want{verdict.Aborted, verdict.Client, nil, verdict.OriginClient}},
		{"server resets after request", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 50), c.RST(ms, false)}
		}, false, verdict.VantageClient, want{verdict.Reset, verdict.Server, nil, verdict.OriginServer}},

		{"server silent", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYN(s), c.Idle(3 * s)}
		}, true, verdict.VantageServer, want{verdict.Timeout, verdict.Server, nil, ""}},
		{"server refuses", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.RefusingRST(ms, 64)}
		}, true, verdict.VantageServer, want{verdict.Refused, verdict.Server, nil, verdict.OriginServer}},
		{"return path drop seen by server", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.SYN(s), c.SYNACK(ms), c.SYN(s), c.SYNACK(ms), c.Idle(3 * s)}
		}, true, verdict.VantageServer, want{verdict.Timeout, verdict.Unknown, returnSide, ""}},
		{"final ACK lost, seen by server", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.Idle(0), c.SYN(40 * s), c.SYNACK(ms), c.SYNACK(s), c.SYNACK(2 * s), c.Idle(3 * s)}
		}, true, verdict.VantageServer, want{verdict.HalfOpen, verdict.OutboundPath, nil, ""}},
		// The same, the capture begun at the SYN: it may be the client's
		// last, its answers lost on the way back.
		{"no resend after the SYN-ACK, seen by a server capture begun at the SYN", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.SYNACK(s), c.SYNACK(2 * s), c.Idle(3 * s)}
		}, true, verdict.VantageServer, want{verdict.Timeout, verdict.Unknown, []verdict.Place{verdict.ReturnPath, verdict.Client, verdict.OutboundPath}, ""}},
		{"accept queue full, seen by server", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.SYNACK(s), c.ACK(ms), c.Idle(3 * s)}
		}, true, verdict.VantageServer, want{verdict.HalfOpen, verdict.Server, nil, ""}},
		{"request never acknowledged, seen by client", func(c *pkttest.Conn) []capture.Packet {
			d := c.Data(ms, true, 50)
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), d, again(d, 300*ms), again(d, 900*ms), c.Idle(3 * s)}
		}, false, verdict.VantageClient, want{verdict.HalfOpen, verdict.Unknown, []verdict.Place{verdict.OutboundPath, verdict.Server}, ""}},
		{"request never acknowledged, seen by server", func(c *pkttest.Conn) []capture.Packet {
			d := c.Data(ms, true, 50)
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), d, again(d, 300*ms), c.Idle(3 * s)}
		}, true, verdict.VantageServer, want{verdict.HalfOpen, verdict.Server, nil, ""}},
		{"RST answering the FIN of an untaken connection", func(c *pkttest.Conn) []capture.Packet {
			d := c.Data(ms, true, 50)
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), d, again(d, 300*ms), c.FIN(3*s, true), c.RST(ms, false)}
		}, true, verdict.VantageServer, want{verdict.HalfOpen, verdict.Server, nil, ""}},
		{"RST before the client gave up", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 50), c.RST(ms, false)}
		}, true, verdict.VantageServer, want{verdict.Reset, verdict.Server, nil, verdict.OriginServer}},
		{"stalled seen by server", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 50), c.ServerACK(ms), c.Idle(3 * s)}
		}, true, verdict.VantageServer, want{verdict.Stalled, verdict.Server, nil, ""}},
		{"client abort seen by server", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.AbortRST(300 * ms)}
		}, true, verdict.VantageServer, want{verdict.Aborted, verdict.Client, nil, verdict.OriginClient}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:81", 1000)
			if tt.atSrv {
				c = c.AtServer()
			}
			as := track(tt.pkts(c)...)
			var got *flows.Attempt
			for _, a := range as {
				if a.Key.Client == c.Client {
					got = a
				}
			}
			if got == nil {
				t.Fatalf("attempt not found among %d", len(as))
			}
			if v := verdict.InferVantage(got); v != tt.vantage {
				t.Errorf("inferred vantage %s, want %s", v, tt.vantage)
			}
			check(t, verdict.Judge(got, tt.vantage, verdict.Config{}), tt.want)
		})
	}
}

func TestHops(t *testing.T) {
	for ttl, want := range map[uint8]uint8{64: 0, 63: 1, 128: 0, 120: 8, 255: 0, 250: 5, 30: 2, 1: 31} {
		if got := verdict.Hops(ttl); got != want {
			t.Errorf("Hops(%d) = %d, want %d", ttl, got, want)
		}
	}
}

// again is a retransmission of p, dt later, with the next frame number.
func again(p capture.Packet, dt time.Duration) capture.Packet {
	p.TS = p.TS.Add(dt)
	p.N += 100
	return p
}

// refusedAfter builds a refusal of c's SYN by a RST sent with rstTTL, after
// a connection to the server's refPort that its SYN-ACK (refTTL) answered.
func refusedAfter(refPort uint16, refTTL, rstTTL uint8) func(c *pkttest.Conn) []capture.Packet {
	return func(c *pkttest.Conn) []capture.Packet {
		const ms, s = time.Millisecond, time.Second
		ref := pkttest.NewConn("198.51.100.10:40000", netip.AddrPortFrom(c.Server.Addr(), refPort).String(), 77)
		ref.N, ref.T, ref.ServerTTL = c.N, c.T, refTTL
		pkts := []capture.Packet{ref.SYN(0), ref.SYNACK(ms), ref.ACK(ms), ref.FIN(ms, true), ref.FIN(ms, false)}
		c.N, c.T = ref.N, ref.T
		return append(pkts, c.SYN(s), c.RefusingRST(ms, rstTTL))
	}
}

// TestICMPFromRouterSaysWhatItMeans: an ICMP error from a router places
// the end on the outbound path whatever its code, and the words say what
// the code most often means there (host-unreachable: the server's own
// link did not answer, the host down or its address wrong; not a routing
// fault).
func TestICMPFromRouterSaysWhatItMeans(t *testing.T) {
	for _, tc := range []struct {
		v6         bool
		typ, code  uint8
		router     string
		want, dont string
	}{
		{false, 3, 1, "198.51.100.1", "the server host is down", "no route"},
		{true, 1, 3, "2001:db8:1::1", "the server host is down", "no route"},
		{false, 3, 0, "198.51.100.1", "no route to the server's network", "host is down"},
		{false, 3, 13, "198.51.100.1", "A firewall's rule refused it", "host is down"},
		{false, 3, 3, "198.51.100.1", "iptables' default answer", "host is down"},
	} {
		c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:81", 1000)
		if tc.v6 {
			c = pkttest.NewConn("[2001:db8:2::10]:40512", "[2001:db8:3::5]:81", 1000)
		}
		as := track(c.SYN(0), c.ICMP(time.Millisecond, tc.router, tc.v6, tc.typ, tc.code))
		if len(as) != 1 {
			t.Fatalf("%d attempts", len(as))
		}
		r := verdict.Judge(as[0], verdict.VantageClient, verdict.Config{})
		if r.Verdict != verdict.Unreachable || r.Where != verdict.OutboundPath || !strings.Contains(r.Explanation, tc.want) || strings.Contains(r.Explanation, tc.dont) {
			t.Errorf("ICMP %d/%d: %s/%s, want unreachable/outbound-path saying %q: %s", tc.typ, tc.code, r.Verdict, r.Where, tc.want, r.Explanation)
		}
	}
}

// TestServerCaptureInFrontOfTheServer: a capture given as the server's
// (--server) but taken on a host in front of it (a container host, a node
// for its pods) holds the server's answers a hop away: a RST from as far
// as its SYN-ACKs is the server's, not forged near it; one from nearer
// than them, or where its SYN-ACKs leave the capture's host as sent, is
// not.
func TestServerCaptureInFrontOfTheServer(t *testing.T) {
	const ms = time.Millisecond
	judge := func(synackTTL, rstTTL uint8) verdict.Result {
		other := pkttest.NewConn("198.51.100.20:50000", "203.0.113.5:80", 9).AtServer()
		other.ServerTTL = synackTTL
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:81", 10).AtServer()
		pkts := []capture.Packet{other.SYN(0), other.SYNACK(ms), other.ACK(ms)}
		c.N, c.T = other.N, other.T
		pkts = append(pkts, c.SYN(ms), c.RefusingRST(ms, rstTTL))
		for _, a := range track(pkts...) {
			if a.Key.Client == c.Client {
				return verdict.Judge(a, verdict.VantageServer, verdict.Config{})
			}
		}
		t.Fatal("no attempt")
		return verdict.Result{}
	}
	r := judge(63, 63)
	check(t, r, want{verdict.Refused, verdict.Server, []verdict.Place{verdict.Server}, verdict.OriginServer})
	if !strings.Contains(r.Explanation, "in front of the server") {
		t.Errorf("not said: %s", r.Explanation)
	}
	for _, ttls := range [][2]uint8{{64, 63}, {62, 63}} {
		if r := judge(ttls[0], ttls[1]); r.RSTOrigin != verdict.OriginPath {
			t.Errorf("SYN-ACKs at TTL %d, RST at %d: origin %s: %s", ttls[0], ttls[1], r.RSTOrigin, r.Explanation)
		}
	}
}

// TestRSTTimingTellsANearSender: a RST from nearer than the SYN-ACKs of
// the server's other ports alone is of unknown origin (a firewall, or the
// host at that address refusing a port it does not forward); coming back
// far sooner than those SYN-ACKs ever did, it was sent far nearer than
// they come from: the path's, likely.
func TestRSTTimingTellsANearSender(t *testing.T) {
	const ms = time.Millisecond
	judge := func(rtt, rstAfter time.Duration, syns int) verdict.Result {
		ref := pkttest.NewConn("198.51.100.10:40000", "203.0.113.5:80", 77)
		pkts := []capture.Packet{ref.SYN(0), ref.SYNACK(rtt), ref.ACK(ms)}
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:81", 10)
		c.N, c.T = ref.N, ref.T
		pkts = append(pkts, c.SYN(time.Second))
		for range syns - 1 {
			pkts = append(pkts, c.SYN(time.Second))
		}
		pkts = append(pkts, c.RefusingRST(rstAfter, 64))
		for _, a := range track(pkts...) {
			if a.Key.Client == c.Client {
				return verdict.Judge(a, verdict.VantageClient, verdict.Config{})
			}
		}
		t.Fatal("no attempt")
		return verdict.Result{}
	}
	r := judge(30*ms, ms/5, 1)
	check(t, r, want{verdict.Refused, verdict.OutboundPath, []verdict.Place{verdict.OutboundPath}, verdict.OriginPath})
	if r.WhereSure != verdict.Inferred || !strings.Contains(r.Explanation, "not sent by the server: its TTL (64)") || !strings.Contains(r.Explanation, "far nearer") {
		t.Errorf("confidence %q: %s", r.WhereSure, r.Explanation)
	}
	for _, tc := range []struct {
		name          string
		rtt, rstAfter time.Duration
		syns          int
	}{
		{"not much sooner", 30 * ms, 20 * ms, 1},
		// A node's hop to a pod on another node: no proof.
		{"sooner by less than the margin", 2 * ms, ms / 10, 1},
		// The RST may answer the first SYN: no telling how long it took.
		{"after a resent SYN", 30 * ms, ms / 5, 2},
	} {
		if r := judge(tc.rtt, tc.rstAfter, tc.syns); r.RSTOrigin != verdict.OriginUnknown || r.Where != verdict.Unknown {
			t.Errorf("%s: %s/%s origin %s: %s", tc.name, r.Verdict, r.Where, r.RSTOrigin, r.Explanation)
		}
	}
}

// TestAttemptReadEndFirstClaimsNoPlace: a file read as it lies, in pieces
// the wrong way round, gives an attempt its end before its start. The
// nat-bypass scenario's server capture, halves swapped: SYNs answered and
// reset by the client each second, the last two rounds read first, was
// "aborted, the client, likely" (its first RST read last), where the whole
// says a timeout of unknown place. Whatever the verdict, no place.
func TestAttemptReadEndFirstClaimsNoPlace(t *testing.T) {
	rounds := pkttest.NewConn("198.51.100.10:60681", "203.0.113.5:80", 7000).AtServer().ResetSYNACKs(4)
	for _, tc := range []struct {
		name string
		pkts []capture.Packet
		want want
	}{
		{"in order", rounds, want{verdict: verdict.Timeout, where: verdict.Unknown, origin: verdict.OriginClient}},
		{"its end first", slices.Concat(rounds[6:], rounds[:6]), want{verdict: verdict.Aborted, where: verdict.Unknown, origin: verdict.OriginClient,
			candidates: []verdict.Place{verdict.OutboundPath, verdict.Server, verdict.ReturnPath, verdict.Client}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := track(tc.pkts...)
			if len(as) != 1 {
				t.Fatalf("%d attempts, want 1", len(as))
			}
			r := verdict.Judge(as[0], verdict.VantageServer, verdict.Config{})
			check(t, r, tc.want)
			if said := strings.Contains(r.Explanation, "out of time order"); said != as[0].OutOfTimeOrder {
				t.Errorf("words say out of time order: %v, attempt marked: %v\n%s", said, as[0].OutOfTimeOrder, r.Explanation)
			}
		})
	}
}

// TestRouterCopiesOutOfTimeOrder: a router's tcpdump -i any holds each
// packet it forwards twice, as received and as sent on, and may record the
// two microseconds out of time order, or another packet between them. The
// midpath lab's port 84 (the client host drops the SYN-ACKs the router
// passes on to it, on its own link) is the client's, likely, in any of
// these orders. A CI run's router passed on the client's resent SYN and
// the server's SYN-ACK (its timer's, a second after the first) at once,
// recorded in, in, out, out (cmd/testdata/midpath/any-interleaved.pcap):
// each copy counted as one more packet, it was unknown, "kept resending
// its SYN (3 times after the first SYN-ACK arrived)", in the router's
// pcap and in synpath live's reading alike.
func TestRouterCopiesOutOfTimeOrder(t *testing.T) {
	const us = time.Microsecond
	for _, order := range []string{"in time order", "the copy stamped before", "the copy recorded first", "copies interleaved"} {
		t.Run(order, func(t *testing.T) {
			c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:84", 1234567)
			var ps []capture.Packet
			at := func(p capture.Packet, dt time.Duration, d capture.Direction, ttl uint8) capture.Packet {
				p.TS, p.N, p.Dir, p.TTL = pkttest.Base.Add(dt), uint64(len(ps)+1), d, ttl
				return p
			}
			// The router receives the client's SYN (TTL as sent: the client
			// is on its link) and sends it on a hop lower; the server's
			// SYN-ACKs come in and go on to the client.
			forward := func(p capture.Packet, dt time.Duration, ttl uint8, outOfOrder bool) {
				in, out := at(p, dt, capture.DirIn, ttl), at(p, dt+20*us, capture.DirOut, ttl-1)
				switch {
				case outOfOrder && order == "the copy stamped before":
					in.TS, out.TS = out.TS, in.TS
				case outOfOrder && order == "the copy recorded first":
					in, out = out, in
				}
				ps = append(ps, in, out)
			}
			for i, syn := range []time.Duration{0, s, 3 * s} {
				if i == 1 && order == "copies interleaved" {
					// The server's SYN-ACK timer fires as the resent SYN
					// comes: both received, then both sent on.
					sa, sy := c.SYNACK(0), c.SYN(0)
					ps = append(ps, at(sa, syn-4*us, capture.DirIn, 63), at(sy, syn, capture.DirIn, 64),
						at(sa, syn+us, capture.DirOut, 62), at(sy, syn+2*us, capture.DirOut, 63))
				} else {
					forward(c.SYN(0), syn, 64, i == 1)
				}
				forward(c.SYNACK(0), syn+100*us, 63, false)
			}
			forward(c.SYNACK(0), 7*s, 63, false)
			as := track(ps...)
			if len(as) != 1 {
				t.Fatalf("%d attempts, want 1", len(as))
			}
			check(t, verdict.Judge(as[0], verdict.VantageUnknown, verdict.Config{}), want{verdict: verdict.Timeout, where: verdict.Client, candidates: []verdict.Place{verdict.Client}})
		})
	}
}

// TestResentSYNTheCaptureLost: a client whose stack resets the SYN-ACKs it
// gets (they went around a NAT) goes on resending its SYN. A server
// capture that lost one of those SYNs still holds the SYN-ACK answering
// it, after the client's RST: the server resends none for a connection a
// RST ended, so that SYN-ACK shows the SYN. Counted as one, the attempt
// waits for the next SYN and is a timeout, as the whole capture says; it
// was "aborted, the client, likely" (the wrongsource server capture, 2% of
// its packets dropped at random, lost the second SYN).
func TestResentSYNTheCaptureLost(t *testing.T) {
	c := pkttest.NewConn("198.51.100.10:32828", "203.0.113.5:80", 7000).AtServer()
	var rounds []capture.Packet
	for _, wait := range []time.Duration{0, s, 2 * s, 4 * s} { // Linux's backoff
		rounds = append(rounds, c.SYN(wait), c.SYNACK(ms), c.RST(ms, true))
	}
	for _, tc := range []struct {
		name string
		pkts []capture.Packet
	}{
		{"whole", rounds},
		{"the second SYN lost", slices.Concat(rounds[:3], rounds[4:])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := track(tc.pkts...)
			if len(as) != 1 {
				t.Fatalf("%d attempts, want 1", len(as))
			}
			check(t, verdict.Judge(as[0], verdict.VantageServer, verdict.Config{}), want{verdict: verdict.Timeout, where: verdict.Unknown, origin: verdict.OriginClient})
		})
	}
}

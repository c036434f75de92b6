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

// Rules made to hold on captures someone else made: each case is built to
// fool the rule it tests (captures that start late or stop early, clients
// that give up early).

func judgeClientCapture(t *testing.T, pkts ...capture.Packet) verdict.Result {
	t.Helper()
	as := track(pkts...)
	if len(as) == 0 {
		t.Fatal("no attempt")
	}
	return verdict.Judge(as[0], verdict.VantageClient, verdict.Config{})
}

func TestTimeoutCountsFromTheFirstSYN(t *testing.T) {
	// A client with a 3.5 s connect timeout: SYNs at 0, 1 and 3 s, and the
	// capture stops one second after it gives up, or at its last SYN.
	for _, tail := range []time.Duration{time.Second, 0} {
		c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 1)
		pkts := []capture.Packet{c.SYN(0), c.SYN(time.Second), c.SYN(2 * time.Second)}
		if tail > 0 {
			pkts = append(pkts, c.Idle(tail))
		}
		r := judgeClientCapture(t, pkts...)
		check(t, r, want{verdict.Timeout, verdict.Unknown, clientSide, ""})
		if !strings.Contains(r.Explanation, "3 SYNs over 3.0 s, no answer; the capture ends") {
			t.Errorf("explanation does not state the rule's facts: %s", r.Explanation)
		}
	}
	// One SYN and a capture that stops a second later: too soon to tell.
	c := pkttest.NewConn("198.51.100.10:40513", "203.0.113.5:443", 2)
	r := judgeClientCapture(t, c.SYN(0), c.Idle(time.Second))
	check(t, r, want{verdict.Incomplete, verdict.Unknown, clientSide, ""})
}

func TestExplanationNamesWhatEndedTheAttempt(t *testing.T) {
	// Port reuse 160 ms after an unanswered SYN: not "the capture ends".
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 1)
	again := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 99)
	c.T = c.T.Add(0)
	first := c.SYN(0)
	again.T, again.N = c.T, c.N
	second := again.SYN(160 * time.Millisecond)
	as := track(first, second, again.Idle(5*time.Second))
	r := verdict.Judge(as[0], verdict.VantageClient, verdict.Config{})
	if r.Verdict != verdict.Incomplete || !strings.Contains(r.Explanation, "another ISN") || strings.Contains(r.Explanation, "capture ends") {
		t.Errorf("got %s: %s", r.Verdict, r.Explanation)
	}
}

// coveredSide is a capture that ran from `from` to `to` (server clock).
func coveredSide(pkts []capture.Packet, from, to time.Time) verdict.Side {
	sd := side(pkts)
	sd.Coverage = []verdict.Span{{First: from, Last: to}}
	return sd
}

func TestJoinDoesNotBlameWhatTheOtherCaptureMissed(t *testing.T) {
	const owd = 5 * time.Millisecond
	// Attempt A: established before the server capture started. Attempt B:
	// unanswered, also before. Attempt C: established while both ran, so
	// the clocks can be aligned.
	a := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	b := pkttest.NewConn("198.51.100.10:40002", "203.0.113.5:80", 20)
	cc := pkttest.NewConn("198.51.100.10:40003", "203.0.113.5:80", 30)
	b.T, cc.T = a.T, a.T
	client := []capture.Packet{
		a.SYN(0), a.SYNACK(2 * owd), a.ACK(0), a.Data(0, true, 10), a.Data(2*owd, false, 20),
		b.SYN(time.Millisecond), b.SYN(time.Second), b.SYN(time.Second),
	}
	cc.T = b.T.Add(5 * time.Second)
	cs := cc.AtServer()
	cs.T = cc.T
	client = append(client, cc.SYN(0), cc.SYNACK(2*owd), cc.ACK(0), cc.Data(0, true, 10), cc.Data(2*owd, false, 20), cc.Idle(3*time.Second))
	server := []capture.Packet{cs.SYN(owd), cs.SYNACK(0), cs.ACK(2 * owd), cs.Data(0, true, 10), cs.Data(0, false, 20), cs.Idle(3 * time.Second)}
	srv := coveredSide(server, cc.T.Add(-time.Second), server[len(server)-1].TS)
	results, _ := verdict.Join(side(client), srv, verdict.JoinConfig{})
	if len(results) != 3 {
		t.Fatalf("%d results", len(results))
	}
	for _, r := range results {
		switch r.Client.Port() {
		case 40001:
			check(t, r, want{verdict.Established, verdict.None, []verdict.Place{}, ""})
			if strings.Contains(r.Explanation, "in the server's place") {
				t.Errorf("blames an invisible proxy for what the server capture did not cover: %s", r.Explanation)
			}
		case 40002:
			check(t, r, want{verdict.Timeout, verdict.Unknown, clientSide, ""})
			if r.SYNSeenByServer >= 0 {
				t.Errorf("out-of-view attempt counts %d SYNs seen by the server", r.SYNSeenByServer)
			}
		case 40003:
			check(t, r, want{verdict.Established, verdict.None, []verdict.Place{}, ""})
		}
	}
}

func TestJoinPartlyCoveredAttempt(t *testing.T) {
	const owd = 5 * time.Millisecond
	// Six SYNs one second apart; the server capture starts at 4.5 s, sees
	// the sixth and answers it; the SYN-ACK is lost on the way back.
	c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	var client []capture.Packet
	for i := range 6 {
		client = append(client, c.SYN(time.Duration(min(i, 1))*time.Second))
	}
	client = append(client, c.Idle(3*time.Second))
	s := c.AtServer()
	s.T = pkttest.Base.Add(5*time.Second + owd)
	server := []capture.Packet{s.SYN(0), s.SYNACK(0), s.Idle(3 * time.Second)}
	srv := coveredSide(server, pkttest.Base.Add(4500*time.Millisecond), server[len(server)-1].TS)
	results, _ := verdict.Join(side(client), srv, verdict.JoinConfig{})
	r := results[0]
	check(t, r, want{verdict.Timeout, verdict.ReturnPath, nil, ""})
	if r.WhereSure != verdict.Inferred {
		t.Errorf("where_confidence %q: the clocks could not be aligned (one SYN in both, IP-IDs unknown), so it is likely at best", r.WhereSure)
	}
	if !r.Partial {
		t.Error("not marked partial: path totals would count 5 SYNs as lost")
	}
	if strings.Contains(r.Explanation, "lost on the way out") {
		t.Errorf("blames the outbound path for SYNs sent before the server capture ran: %s", r.Explanation)
	}
}

func TestJoinTakesProofFromEitherCapture(t *testing.T) {
	const owd = 5 * time.Millisecond
	// An earlier attempt answered in both aligns the clocks. Then the
	// client capture stops 1 s after a SYN (too soon alone), while the
	// server capture shows the client resending its SYN for 3 s after each
	// SYN-ACK went out: the return path lost them.
	ref := pkttest.NewConn("198.51.100.10:40000", "203.0.113.5:80", 5)
	rs := ref.AtServer()
	client := []capture.Packet{ref.SYN(0), ref.SYNACK(2 * owd), ref.ACK(0)}
	server := []capture.Packet{rs.SYN(owd), rs.SYNACK(0), rs.ACK(2 * owd)}
	c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	c.T, c.N = ref.T.Add(time.Second), ref.N
	s := c.AtServer()
	s.T, s.N = c.T, rs.N
	client = append(client, c.SYN(0), c.Idle(time.Second))
	server = append(server, s.SYN(owd), s.SYNACK(0), s.SYN(time.Second), s.SYNACK(0), s.SYN(2*time.Second), s.SYNACK(0), s.Idle(3*time.Second))
	results, _ := verdict.Join(side(client), side(server), verdict.JoinConfig{})
	for _, r := range results {
		if r.Client.Port() != 40001 {
			continue
		}
		check(t, r, want{verdict.Timeout, verdict.ReturnPath, nil, ""})
		if r.WhereSure != verdict.Proven {
			t.Errorf("where_confidence %q, want proven", r.WhereSure)
		}
	}
}

func TestZeroHopCaptureHasNoSide(t *testing.T) {
	// Client and server on one link: every packet undecremented.
	c := pkttest.NewConn("198.51.100.10:40001", "198.51.100.20:80", 10)
	c.ServerTTL = 64
	as := track(c.SYN(0), c.SYNACK(time.Millisecond), c.ACK(0))
	if v := verdict.InferVantage(as[0]); v != verdict.VantageUnknown {
		t.Errorf("vantage %s, want unknown", v)
	}
}

func TestJoinNoticesCrossedClockBounds(t *testing.T) {
	// The captures given the wrong way round on a path with 50 ms each
	// way: the "server" capture saw the SYN 50 ms before the "client"
	// capture, and the SYN-ACK 50 ms after. No clock offset satisfies both.
	const owd = 50 * time.Millisecond
	real := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	atServer := real.AtServer()
	atServer.T = real.T.Add(owd)
	clientSide := []capture.Packet{real.SYN(0), real.SYNACK(2 * owd), real.ACK(0)}
	serverSide := []capture.Packet{atServer.SYN(0), atServer.SYNACK(0), atServer.ACK(2 * owd)}
	_, off := verdict.Join(side(serverSide), side(clientSide), verdict.JoinConfig{})
	if !off.Known || !off.Contradicted {
		t.Errorf("offset %+v: swapped captures' bounds cross, and should say so", off)
	}
	_, off = verdict.Join(side(clientSide), side(serverSide), verdict.JoinConfig{})
	if off.Contradicted {
		t.Errorf("offset %+v: the right way round is no contradiction", off)
	}
}

func TestMidPathCaptureProvesNoSender(t *testing.T) {
	// A capture between two routers: both ends' packets have crossed one.
	// A RST in the client's name was not seen leaving the client: its TTL,
	// against the client's own packets, is all that tells who sent it.
	for _, tc := range []struct {
		name   string
		rstTTL uint8
		want   want
		sure   verdict.Confidence
	}{
		{"as far as the client's ACK", 63, want{verdict.Reset, verdict.Client, nil, verdict.OriginClient}, verdict.Inferred},
		{"nearer than the client", 64, want{verdict.Reset, verdict.OutboundPath, nil, verdict.OriginPath}, verdict.Inferred},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
			c.ClientTTL, c.ServerTTL = 63, 63
			pkts := []capture.Packet{c.SYN(0), c.SYNACK(time.Millisecond), c.ACK(0), c.RST(10*time.Millisecond, true), c.Idle(10 * time.Second)}
			pkts[3].TTL = tc.rstTTL
			as := track(pkts...)
			v := verdict.InferVantage(as[0])
			if v != verdict.VantageUnknown {
				t.Fatalf("vantage %s, want unknown", v)
			}
			r := verdict.Judge(as[0], v, verdict.DefaultConfig)
			check(t, r, tc.want)
			if r.WhereSure != tc.sure {
				t.Errorf("where_confidence %q, want %q: %s", r.WhereSure, tc.sure, r.Explanation)
			}
		})
	}
}

func TestMidPathCaptureLeavesUnansweredSYNsUnplaced(t *testing.T) {
	// SYNs that crossed routers, to an address that sends nothing: on
	// the server's host, it dropped them; in a capture that shows other
	// handshakes from between their ends, they may have gone on past it.
	silent := func(clientTTL uint8) []capture.Packet {
		c := pkttest.NewConn("198.51.100.10:40002", "203.0.113.7:80", 20)
		c.ClientTTL = clientTTL
		c.T = pkttest.Base.Add(time.Second)
		return []capture.Packet{c.SYN(0), c.SYN(time.Second), c.SYN(2 * time.Second)}
	}
	between := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	between.ClientTTL, between.ServerTTL = 63, 63
	answered := []capture.Packet{between.SYN(0), between.SYNACK(time.Millisecond), between.ACK(0)}
	for _, tc := range []struct {
		name string
		pkts []capture.Packet
		want verdict.Vantage
	}{
		{"alone: the server's capture", silent(63), verdict.VantageServer},
		{"after a handshake seen between its ends", append(slices.Clone(answered), silent(63)...), verdict.VantageUnknown},
		// The client's own SYN, undecremented: the capturing host's.
		{"the capturing host's own SYN", append(slices.Clone(answered), silent(64)...), verdict.VantageClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, a := range track(append(tc.pkts, between.Idle(20*time.Second))...) {
				if a.Key.Server.Addr().String() != "203.0.113.7" {
					continue
				}
				v := verdict.InferVantage(a)
				if v != tc.want {
					t.Fatalf("vantage %s, want %s", v, tc.want)
				}
				r := verdict.Judge(a, v, verdict.DefaultConfig)
				if v == verdict.VantageUnknown && (r.Where != verdict.Unknown || !slices.Contains(r.Candidates, verdict.OutboundPath) || !slices.Contains(r.Candidates, verdict.Server)) {
					t.Errorf("%s/%s among %v, want unknown among the outbound path and the server: %s", r.Verdict, r.Where, r.Candidates, r.Explanation)
				}
				return
			}
			t.Fatal("no attempt to 203.0.113.7")
		})
	}
}

// passedBackLater is the client's next connection through a router next to
// it, seen by the router's capture without directions: its SYN as it came
// (TTL 64) and a hop later, its SYN-ACK as it came (63) and passed back a
// hop later: the router's way back to the client was open after c's.
func passedBackLater(c *pkttest.Conn) []capture.Packet {
	n := pkttest.NewConn("198.51.100.10:40099", c.Server.String(), 77)
	n.T, n.N, n.ServerTTL = c.T.Add(500*time.Millisecond), c.N+10, 63
	syn := n.SYN(0)
	fwd := syn
	fwd.TTL, fwd.N = 63, syn.N+1
	n.N++
	sa := n.SYNACK(time.Millisecond)
	back := sa
	back.TTL, back.N, back.TS, back.IPID = 62, sa.N+1, sa.TS.Add(20*time.Microsecond), 7
	sa.IPID = 7
	c.T, c.N = back.TS, back.N+1
	return []capture.Packet{syn, fwd, sa, back}
}

func TestRouterCaptureDropsOnlyWhatItNeverPassedOn(t *testing.T) {
	// tcpdump -i any on a router next to the client: each SYN as it came
	// (TTL 64) and a hop later (63). SYN-ACKs held only as they came, while
	// a later one to that client was passed back, were dropped there; a
	// SYN-ACK passed on whose copy the capture did not pair with its
	// original (another packet between them) shows a second TTL, and
	// proves nothing of the kind; nor do SYN-ACKs the capture ends while
	// its queue back to the client may still hold (none later passed back).
	later := true
	run := func(synack func(c *pkttest.Conn) []capture.Packet) verdict.Result {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		c.ServerTTL = 63
		var pkts []capture.Packet
		for i := 0; i < 3; i++ {
			syn := c.SYN(time.Second)
			if i == 0 {
				syn = c.SYN(0)
			}
			fwd := syn
			fwd.TTL, fwd.N = 63, syn.N+1
			c.N++
			pkts = append(pkts, syn, fwd)
			pkts = append(pkts, synack(c)...)
		}
		if later {
			pkts = append(pkts, passedBackLater(c)...)
		}
		as := track(append(pkts, c.Idle(10*time.Second))...)
		slices.SortFunc(as, func(a, b *flows.Attempt) int { return a.SYN.First.Compare(b.SYN.First) })
		v := verdict.InferVantage(as[0])
		if v != verdict.VantageUnknown {
			t.Fatalf("vantage %s, want unknown", v)
		}
		return verdict.Judge(as[0], v, verdict.DefaultConfig)
	}
	dropped := run(func(c *pkttest.Conn) []capture.Packet { return []capture.Packet{c.SYNACK(time.Millisecond)} })
	check(t, dropped, want{verdict.Timeout, verdict.ReturnPath, nil, ""})
	unpaired := run(func(c *pkttest.Conn) []capture.Packet {
		in := c.SYNACK(time.Millisecond)
		resent := c.SYN(10 * time.Microsecond)
		out := c.SYNACK(10 * time.Microsecond)
		out.Seq, out.TTL = in.Seq, 62
		return []capture.Packet{in, resent, out}
	})
	check(t, unpaired, want{verdict.Timeout, verdict.Unknown, []verdict.Place{verdict.ReturnPath, verdict.Client}, ""})
	later = false
	queued := run(func(c *pkttest.Conn) []capture.Packet { return []capture.Packet{c.SYNACK(time.Millisecond)} })
	check(t, queued, want{verdict.Timeout, verdict.Unknown, []verdict.Place{verdict.ReturnPath, verdict.Client}, ""})
}

func TestMidPathRulesAgainstCapturesCutShort(t *testing.T) {
	// A router's tcpdump -i any: the client's SYN as it came (64) and a
	// hop later (63), the server's SYN-ACK as it came (63).
	forwarded := func(c *pkttest.Conn, dt time.Duration) []capture.Packet {
		syn := c.SYN(dt)
		fwd := syn
		fwd.TTL, fwd.N = 63, syn.N+1
		c.N++
		return []capture.Packet{syn, fwd}
	}
	judge := func(pkts ...capture.Packet) verdict.Result {
		as := track(pkts...)
		v := verdict.InferVantage(as[0])
		if v != verdict.VantageUnknown {
			t.Fatalf("vantage %s, want unknown", v)
		}
		return verdict.Judge(as[0], v, verdict.DefaultConfig)
	}
	t.Run("the capture stops right after a SYN-ACK came in", func(t *testing.T) {
		// Its copy passed on may be just past the end: nothing is said
		// of where it went.
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		c.ServerTTL = 63
		r := judge(append(forwarded(c, 0), c.SYNACK(time.Millisecond))...)
		if r.Verdict != verdict.Incomplete || r.Where != verdict.Unknown {
			t.Errorf("%s/%s, want incomplete/unknown: %s", r.Verdict, r.Where, r.Explanation)
		}
	})
	t.Run("the client gave up after one SYN", func(t *testing.T) {
		// No resend proves nothing of the client; that the router never
		// passed the SYN-ACK on is what places it.
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		c.ServerTTL = 63
		pkts := append(forwarded(c, 0), c.SYNACK(time.Millisecond), c.SYNACK(time.Second), c.SYNACK(2*time.Second))
		pkts = append(pkts, passedBackLater(c)...)
		check(t, judge(append(pkts, c.Idle(10*time.Second))...), want{verdict.Timeout, verdict.ReturnPath, nil, ""})
	})
	t.Run("the capture begins with the unanswered SYNs", func(t *testing.T) {
		// The handshake that shows the capture is between the ends comes
		// after them, while they are still followed: it still counts.
		silent := pkttest.NewConn("198.51.100.10:40002", "203.0.113.7:80", 20)
		silent.ClientTTL = 63
		between := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		between.ClientTTL, between.ServerTTL = 63, 63
		between.T = pkttest.Base.Add(5 * time.Second)
		pkts := []capture.Packet{silent.SYN(0), silent.SYN(time.Second), silent.SYN(2 * time.Second),
			between.SYN(0), between.SYNACK(time.Millisecond), between.ACK(0), between.Idle(20 * time.Second)}
		for _, a := range track(pkts...) {
			if a.Key.Server.Addr().String() == "203.0.113.7" {
				if v := verdict.InferVantage(a); v != verdict.VantageUnknown {
					t.Errorf("vantage %s, want unknown", v)
				}
				return
			}
		}
		t.Fatal("no attempt to 203.0.113.7")
	})
}

func TestRouterCaptureDropsSYNsItNeverPassedOn(t *testing.T) {
	// tcpdump -i any on a router (a firewall, a Kubernetes node), which
	// writes each packet's direction: it received the client's SYNs (TTL
	// 64: the client is adjacent) and, unless said otherwise, passed
	// another client's SYN to the same server on, a hop lower, one it
	// received after the first of them (its way there was open).
	in := func(p capture.Packet) capture.Packet {
		p.Dir = capture.DirIn
		return p
	}
	out := func(p capture.Packet, src netip.AddrPort) capture.Packet {
		q := p
		q.Dir, q.TTL, q.N, q.TS = capture.DirOut, p.TTL-1, p.N+1, p.TS.Add(20*time.Microsecond)
		if src.IsValid() {
			q.Src = src
		}
		return q
	}
	later := func(c *pkttest.Conn) *pkttest.Conn {
		c.T = pkttest.Base.Add(1500 * time.Millisecond)
		return c
	}
	other := func() []capture.Packet {
		o := later(pkttest.NewConn("198.51.100.20:50000", "203.0.113.5:443", 9))
		syn := in(o.SYN(0))
		return []capture.Packet{syn, out(syn, netip.AddrPort{}), in(o.SYNACK(time.Millisecond))}
	}
	judge := func(before []capture.Packet, syns func(c *pkttest.Conn) []capture.Packet) (verdict.Result, verdict.Vantage) {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		c.T = pkttest.Base.Add(time.Second)
		pkts := append(before, syns(c)...)
		slices.SortStableFunc(pkts, func(a, b capture.Packet) int { return a.TS.Compare(b.TS) })
		as := track(append(pkts, c.Idle(10*time.Second))...)
		for _, a := range as {
			if a.Key.Client == c.Client {
				v := verdict.InferVantage(a)
				return verdict.Judge(a, v, verdict.DefaultConfig), v
			}
		}
		t.Fatal("no attempt")
		return verdict.Result{}, verdict.VantageUnknown
	}
	three := func(c *pkttest.Conn) []capture.Packet {
		return []capture.Packet{in(c.SYN(0)), in(c.SYN(time.Second)), in(c.SYN(2 * time.Second))}
	}
	unplaced := want{verdict.Timeout, verdict.Unknown, []verdict.Place{verdict.OutboundPath, verdict.Server, verdict.ReturnPath}, ""}

	r, v := judge(other(), three)
	check(t, r, want{verdict.Timeout, verdict.OutboundPath, []verdict.Place{verdict.OutboundPath}, ""})
	if v != verdict.VantageUnknown || r.WhereSure != verdict.Inferred {
		t.Errorf("vantage %s, confidence %q: want unknown, likely", v, r.WhereSure)
	}
	t.Run("translated copies of other SYNs count", func(t *testing.T) {
		o := later(pkttest.NewConn("198.51.100.20:50000", "203.0.113.5:443", 9))
		syn := in(o.SYN(0))
		r, _ := judge([]capture.Packet{syn, out(syn, netip.MustParseAddrPort("192.0.2.1:61000"))}, three)
		check(t, r, want{verdict.Timeout, verdict.OutboundPath, nil, ""})
	})
	// Other SYNs to the server's address passed on only to another one
	// (DNAT): the host may stand for that address, forwarding some of its
	// ports (a Kubernetes node, port forwarding), its drop the server's;
	// or route to it, redirecting some ports (a transparent proxy).
	t.Run("other SYNs passed on only with the server's address translated", func(t *testing.T) {
		o := later(pkttest.NewConn("198.51.100.20:50000", "203.0.113.5:443", 9))
		syn := in(o.SYN(0))
		fwd := out(syn, netip.AddrPort{})
		fwd.Dst = netip.MustParseAddrPort("10.244.1.7:8443")
		r, v := judge([]capture.Packet{syn, fwd}, three)
		check(t, r, want{verdict.Timeout, verdict.Unknown, []verdict.Place{verdict.OutboundPath, verdict.Server}, ""})
		if v != verdict.VantageUnknown || !strings.Contains(r.Explanation, "dropped them as the server") {
			t.Errorf("vantage %s: %s", v, r.Explanation)
		}
	})
	// What must not be taken for it.
	for _, tc := range []struct {
		name   string
		before []capture.Packet
		syns   func(c *pkttest.Conn) []capture.Packet
	}{
		// The host may be the server itself, its firewall dropping them.
		{"the host passed nothing on to that server", nil, three},
		// Its queue toward the server may still hold them (bufferbloat):
		// nothing it received after them left either.
		{"the host passed a SYN on to that server, received before them", func() []capture.Packet {
			o := pkttest.NewConn("198.51.100.20:50000", "203.0.113.5:443", 9)
			syn := in(o.SYN(0))
			return []capture.Packet{syn, out(syn, netip.AddrPort{})}
		}(), three},
		// A copy sent on the capture lost (a full ring) would be all of it.
		{"one SYN only", other(), func(c *pkttest.Conn) []capture.Packet { return []capture.Packet{in(c.SYN(0))} }},
		{"one of them passed on, translated", other(), func(c *pkttest.Conn) []capture.Packet {
			s := in(c.SYN(0))
			return []capture.Packet{s, out(s, netip.MustParseAddrPort("192.0.2.1:61000")), in(c.SYN(time.Second)), in(c.SYN(time.Second))}
		}},
		// A one-way capture (tcpdump -Q in): the copies sent on are not in
		// it, so nothing shows the host passing anything on.
		{"a capture of what came in only", []capture.Packet{in(pkttest.NewConn("198.51.100.20:50000", "203.0.113.5:443", 9).SYN(0))}, three},
		// A capture that does not record directions.
		{"no direction", other(), func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYN(time.Second), c.SYN(2 * time.Second)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := judge(tc.before, tc.syns)
			if r.Where == verdict.OutboundPath {
				t.Errorf("placed on the outbound path: %s", r.Explanation)
			}
			if tc.name != "one of them passed on, translated" {
				check(t, r, unplaced)
			}
		})
	}
	t.Run("loopback: the host's own SYNs, sent then received", func(t *testing.T) {
		// Not a router's: each SYN is in the capture as sent and then as
		// received, unpaired; the host is the client.
		r, v := judge(other(), func(c *pkttest.Conn) []capture.Packet {
			var ps []capture.Packet
			for i := range 3 {
				s := c.SYN(time.Duration(min(i, 1)) * time.Second)
				s.Dir = capture.DirOut
				r := s
				r.Dir, r.N, r.TS = capture.DirIn, s.N+1, s.TS.Add(5*time.Microsecond)
				ps = append(ps, s, r)
			}
			return ps
		})
		if r.Where == verdict.OutboundPath || v != verdict.VantageClient {
			t.Errorf("vantage %s, %s/%s: %s", v, r.Verdict, r.Where, r.Explanation)
		}
	})
}

func TestTranslatingRouterCaptureDropsSYNACKs(t *testing.T) {
	// tcpdump -i any on a router translating the client's address (a home
	// router, a Kubernetes node): each SYN received, then passed on as
	// 192.0.2.1; the server's SYN-ACKs to that address received, and
	// passed back to the client (or not) a hop lower. Unless said
	// otherwise, the client's next connection follows, answered and passed
	// back both ways: the host's way back to the client was open.
	nat := netip.MustParseAddrPort("192.0.2.1:61000")
	nextOpen := true
	run := func(rounds int, back bool, clientTTL uint8, twins ...bool) map[netip.AddrPort]verdict.Result {
		c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1234567)
		c.ClientTTL = clientTTL
		x := *c
		x.Client = nat
		var ps []capture.Packet
		if len(twins) > 0 {
			// The capture has shown a packet captured twice (another
			// connection's SYN, on a bridge's port and on the bridge).
			o := pkttest.NewConn("198.51.100.30:50000", "203.0.113.9:80", 5)
			s1 := o.SYN(0)
			s2 := s1
			s1.Dir, s2.Dir, s2.N, s2.TS = capture.DirIn, capture.DirIn, s1.N+1, s1.TS.Add(5*time.Microsecond)
			ps = append(ps, s1, s2)
		}
		for i := range rounds {
			syn := c.SYN(time.Duration(min(i, 1)) * time.Second)
			syn.Dir = capture.DirIn
			fwd := syn
			fwd.Dir, fwd.TTL, fwd.Src, fwd.N, fwd.TS = capture.DirOut, clientTTL-1, nat, syn.N+1, syn.TS.Add(20*time.Microsecond)
			x.T, x.N = fwd.TS, fwd.N
			sa := x.SYNACK(time.Millisecond)
			sa.Dir, sa.TTL = capture.DirIn, 62
			ps = append(ps, syn, fwd, sa)
			if len(twins) > 0 && i > 0 {
				// A Linux server's SYN-ACK timer and its answer to the
				// resent SYN, microseconds apart: taken for one.
				tw := sa
				tw.N, tw.TS = sa.N+1, sa.TS.Add(19*time.Microsecond)
				x.N++
				ps = append(ps, tw)
			}
			if back {
				b := sa
				b.Dir, b.TTL, b.Dst, b.N, b.TS = capture.DirOut, 61, c.Client, sa.N+1, sa.TS.Add(20*time.Microsecond)
				ps = append(ps, b)
			}
			c.T, c.N = x.T.Add(40*time.Microsecond), x.N+2
		}
		if nextOpen {
			n := pkttest.NewConn("198.51.100.10:40600", "203.0.113.5:80", 7654321)
			n.ClientTTL, n.T, n.N = clientTTL, c.T.Add(100*time.Millisecond), c.N
			syn := n.SYN(0)
			syn.Dir = capture.DirIn
			fwd := syn
			fwd.Dir, fwd.TTL, fwd.Src, fwd.N, fwd.TS = capture.DirOut, clientTTL-1, netip.MustParseAddrPort("192.0.2.1:61001"), syn.N+1, syn.TS.Add(20*time.Microsecond)
			sa := n.SYNACK(time.Millisecond)
			sa.Dst, sa.Dir, sa.TTL, sa.N = fwd.Src, capture.DirIn, 62, fwd.N+1
			b := sa
			b.Dir, b.TTL, b.Dst, b.N, b.TS = capture.DirOut, 61, n.Client, sa.N+1, sa.TS.Add(20*time.Microsecond)
			ps = append(ps, syn, fwd, sa, b)
			c.T, c.N = b.TS, b.N+1
		}
		ps = append(ps, c.Idle(10*time.Second))
		got := map[netip.AddrPort]verdict.Result{}
		for _, a := range track(ps...) {
			if a.Key.Client != c.Client && a.Key.Client != nat {
				continue // the connection seen twice, the next one
			}
			v := verdict.InferVantage(a)
			if v != verdict.VantageUnknown {
				t.Errorf("%v: vantage %s, want unknown", a.Key.Client, v)
			}
			got[a.Key.Client] = verdict.Judge(a, v, verdict.DefaultConfig)
		}
		if len(got) != 2 {
			t.Fatalf("%d attempts, want the client's and the translated one", len(got))
		}
		return got
	}
	for client, r := range run(3, false, 64) {
		t.Run("dropped: "+client.String(), func(t *testing.T) {
			check(t, r, want{verdict.Timeout, verdict.ReturnPath, []verdict.Place{verdict.ReturnPath}, ""})
			if r.WhereSure != verdict.Inferred {
				t.Errorf("confidence %q, want likely", r.WhereSure)
			}
		})
	}
	for client, r := range run(3, false, 64, true) {
		t.Run("dropped, SYN-ACK twins: "+client.String(), func(t *testing.T) {
			check(t, r, want{verdict.Timeout, verdict.ReturnPath, []verdict.Place{verdict.ReturnPath}, ""})
		})
	}
	// Nothing the host received after them went back to the client either:
	// its queue toward the client (bufferbloat) may hold them still.
	nextOpen = false
	for client, r := range run(3, false, 64) {
		t.Run("none received later passed back: "+client.String(), func(t *testing.T) {
			if r.Where == verdict.ReturnPath {
				t.Errorf("placed on the return path: %s", r.Explanation)
			}
		})
	}
	nextOpen = true
	// A capture begun after the client's SYNs came in: it holds only the
	// copies sent on, translated, and the answers; nothing shows this
	// host received them, so nothing it failed to pass back is claimed.
	t.Run("begun after the SYNs came in", func(t *testing.T) {
		c := pkttest.NewConn("192.0.2.1:61000", "203.0.113.5:80", 1234567)
		c.ServerTTL = 62
		var ps []capture.Packet
		for i := range 3 {
			syn := c.SYN(time.Duration(min(i, 1)) * time.Second)
			syn.Dir, syn.TTL = capture.DirOut, 63
			sa := c.SYNACK(time.Millisecond)
			sa.Dir = capture.DirIn
			ps = append(ps, syn, sa)
		}
		as := track(append(ps, c.Idle(10*time.Second))...)
		r := verdict.Judge(as[0], verdict.InferVantage(as[0]), verdict.DefaultConfig)
		if r.Where == verdict.ReturnPath {
			t.Errorf("placed on the return path: %s", r.Explanation)
		}
	})
	// One SYN-ACK only: a copy passed back that the capture missed would
	// be all of it.
	for client, r := range run(1, false, 64) {
		t.Run("one SYN-ACK: "+client.String(), func(t *testing.T) {
			if r.Where == verdict.ReturnPath {
				t.Errorf("placed on the return path: %s", r.Explanation)
			}
		})
	}
	// Passed back to a client on the router's own link (its SYNs arrive
	// undecremented), never answered: the client host ignored them, in
	// both views.
	for client, r := range run(3, true, 64) {
		t.Run("passed back: "+client.String(), func(t *testing.T) {
			check(t, r, want{verdict.Timeout, verdict.Client, []verdict.Place{verdict.Client}, ""})
		})
	}
	// A client hops away: they may be lost between the router and it.
	for client, r := range run(3, true, 63) {
		t.Run("passed back, the client hops away: "+client.String(), func(t *testing.T) {
			check(t, r, want{verdict.Timeout, verdict.Unknown, []verdict.Place{verdict.ReturnPath, verdict.Client}, ""})
		})
	}
}

func TestLoopbackIsTheServersCapture(t *testing.T) {
	// A host connecting to itself: both ends' packets undecremented, in
	// any capture of lo. Made to fool the rule: a client that gave up at
	// once, a capture that stopped right after the SYN, one that began
	// after it (only the resent SYN), and IPv6.
	judge := func(client, server string, pkts func(c *pkttest.Conn) []capture.Packet) verdict.Result {
		c := pkttest.NewConn(client, server, 77)
		c.ServerTTL = 64
		as := track(pkts(c)...)
		if len(as) != 1 {
			t.Fatalf("%d attempts", len(as))
		}
		v := verdict.InferVantage(as[0])
		if v != verdict.VantageServer {
			t.Errorf("vantage %s, want server", v)
		}
		return verdict.Judge(as[0], v, verdict.DefaultConfig)
	}
	r := judge("127.0.0.1:40000", "127.0.0.1:5432", func(c *pkttest.Conn) []capture.Packet {
		return []capture.Packet{c.SYN(0), c.SYN(time.Second), c.SYN(2 * time.Second), c.Idle(4 * time.Second)}
	})
	check(t, r, want{verdict.Timeout, verdict.Server, nil, ""})
	for _, tc := range []struct {
		name           string
		client, server string
		pkts           func(c *pkttest.Conn) []capture.Packet
	}{
		{"the client gave up at once", "127.0.0.1:40000", "127.0.0.1:5432", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.Idle(50 * time.Millisecond)}
		}},
		{"the capture stopped right after the SYN", "[::1]:40000", "[::1]:5432", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := judge(tc.client, tc.server, tc.pkts); r.Verdict != verdict.Incomplete || r.Where != verdict.Unknown {
				t.Errorf("%s/%s, want incomplete/unknown: %s", r.Verdict, r.Where, r.Explanation)
			}
		})
	}
	t.Run("the capture began after the first SYN", func(t *testing.T) {
		// Only the resent SYN, answered: established, nothing lost.
		r := judge("198.51.100.20:40000", "198.51.100.20:80", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(time.Second), c.SYNACK(10 * time.Microsecond), c.ACK(10 * time.Microsecond)}
		})
		if r.Verdict != verdict.Established || r.Where != verdict.None {
			t.Errorf("%s/%s: %s", r.Verdict, r.Where, r.Explanation)
		}
	})
}

func TestRouterCaptureRefusesItself(t *testing.T) {
	// tcpdump -i any on a router or firewall: it received the client's SYN
	// (the client adjacent) and, unless said otherwise, sent a RST in the
	// server's name itself (TTL 64 as sent), never received; before it,
	// it passed another client's SYN to the server on (to dst, when set:
	// translated, as a Kubernetes node does for a NodePort).
	dir := func(p capture.Packet, d capture.Direction) capture.Packet {
		p.Dir = d
		return p
	}
	passedOn := func(dst string) []capture.Packet {
		o := pkttest.NewConn("198.51.100.20:50000", "203.0.113.5:80", 9)
		syn := dir(o.SYN(0), capture.DirIn)
		fwd := dir(syn, capture.DirOut)
		fwd.TTL, fwd.N, fwd.TS = syn.TTL-1, syn.N+1, syn.TS.Add(20*time.Microsecond)
		if dst != "" {
			fwd.Dst = netip.MustParseAddrPort(dst)
		}
		sa := dir(o.SYNACK(time.Millisecond), capture.DirIn)
		return []capture.Packet{syn, fwd, sa}
	}
	judge := func(before []capture.Packet, rst func(c *pkttest.Conn) []capture.Packet) verdict.Result {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:87", 10)
		c.T = pkttest.Base.Add(time.Second)
		pkts := append(before, dir(c.SYN(0), capture.DirIn))
		as := track(append(append(pkts, rst(c)...), c.Idle(10*time.Second))...)
		for _, a := range as {
			if a.Key.Client == c.Client {
				return verdict.Judge(a, verdict.InferVantage(a), verdict.DefaultConfig)
			}
		}
		t.Fatal("no attempt")
		return verdict.Result{}
	}
	sent := func(c *pkttest.Conn) []capture.Packet {
		return []capture.Packet{dir(c.RefusingRST(20*time.Microsecond, 64), capture.DirOut)}
	}

	r := judge(passedOn(""), sent)
	check(t, r, want{verdict.Refused, verdict.OutboundPath, []verdict.Place{verdict.OutboundPath}, verdict.OriginPath})
	if r.WhereSure != verdict.Inferred || r.OriginSure != verdict.Likely {
		t.Errorf("confidence %q, origin %q: want likely, likely", r.WhereSure, r.OriginSure)
	}
	// What went out only (tcpdump -Q out): the SYN received is not in it,
	// so nothing shows the host refusing what it received.
	t.Run("a capture of what went out only", func(t *testing.T) {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:87", 10)
		c.T = pkttest.Base.Add(time.Second)
		var out []capture.Packet
		for _, p := range passedOn("") {
			if p.Dir == capture.DirOut {
				out = append(out, p)
			}
		}
		c.SYN(0) // its time passes, unseen
		as := track(append(append(out, sent(c)...), c.Idle(10*time.Second))...)
		for _, a := range as {
			if a.Key.Client == c.Client {
				t.Errorf("an attempt without its SYN: %+v", a.Key)
			}
		}
	})
	t.Run("other SYNs passed on only translated", func(t *testing.T) {
		r := judge(passedOn("10.244.1.7:8080"), sent)
		check(t, r, want{verdict.Refused, verdict.Unknown, []verdict.Place{verdict.Server, verdict.OutboundPath}, verdict.OriginUnknown})
		if !strings.Contains(r.Explanation, "as the server") {
			t.Errorf("the host standing for the address not named: %s", r.Explanation)
		}
	})
	// What must not be taken for it.
	for _, tc := range []struct {
		name   string
		before []capture.Packet
		rst    func(c *pkttest.Conn) []capture.Packet
	}{
		// The host may be the server, refusing a port of its own.
		{"the host passed nothing on to that server", nil, sent},
		// The server's RST, received and passed on.
		{"a RST passed on", passedOn(""), func(c *pkttest.Conn) []capture.Packet {
			in := dir(c.RefusingRST(time.Millisecond, 62), capture.DirIn)
			out := dir(in, capture.DirOut)
			out.TTL, out.N, out.TS = 61, in.N+1, in.TS.Add(20*time.Microsecond)
			return []capture.Packet{in, out}
		}},
		// A capture that does not record directions.
		{"no direction", passedOn(""), func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.RefusingRST(20*time.Microsecond, 64)}
		}},
		// What came in only (tcpdump -Q in): the RST sent is not in it.
		{"a capture of what came in only", passedOn(""), func(c *pkttest.Conn) []capture.Packet { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := judge(tc.before, tc.rst)
			if strings.Contains(r.Explanation, "sent by the host this capture was taken on") {
				t.Errorf("taken for the host's own RST: %s", r.Explanation)
			}
		})
	}
}

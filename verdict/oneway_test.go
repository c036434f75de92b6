package verdict_test

import (
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// What the endpoints did wins over what the capture happened to record.

func TestOneWayCaptureTrustsTheClientsPackets(t *testing.T) {
	// Only client→server packets: the client's ACK of the SYN-ACK and of
	// 300 bytes of reply prove the server answered.
	c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	syn := c.SYN(0)
	ack := c.ACK(20 * time.Millisecond)
	req := c.Data(0, true, 50)
	c.Data(0, false, 300) // the reply, not captured
	got := c.ACK(20 * time.Millisecond)
	as := track(syn, ack, req, got, c.Idle(5*time.Second))
	r := verdict.Judge(as[0], verdict.VantageClient, verdict.Config{})
	check(t, r, want{verdict.Established, verdict.None, []verdict.Place{}, ""})
	if r.WhereSure != verdict.Inferred || !r.OneWay {
		t.Errorf("where_confidence %q, one-way %v: the outcome rests on the client's packets", r.WhereSure, r.OneWay)
	}
}

func TestServerAckProvesTheHandshake(t *testing.T) {
	// Server capture missing the client's ACK and request: the server's
	// ACK of 50 request bytes proves the client finished the handshake.
	c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10).AtServer()
	syn, sa := c.SYN(0), c.SYNACK(0)
	c.ACK(time.Millisecond) // not captured
	c.Data(0, true, 50)     // not captured
	ack := c.ServerACK(time.Millisecond)
	as := track(syn, sa, ack, c.Idle(5*time.Second))
	r := verdict.Judge(as[0], verdict.VantageServer, verdict.Config{})
	if r.Verdict == verdict.Timeout || r.Verdict == verdict.HalfOpen || r.Verdict == verdict.Incomplete {
		t.Errorf("got %s: %s", r.Verdict, r.Explanation)
	}
}

func TestRSTFirstThenHandshake(t *testing.T) {
	// A forged RST the client's stack ignored, then the handshake after a
	// SYN retransmission: established, with the early RST mentioned.
	c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	pkts := []capture.Packet{c.SYN(0), c.RefusingRST(time.Millisecond, 64), c.SYN(time.Second),
		c.SYNACK(time.Millisecond), c.ACK(0), c.Data(0, true, 10), c.Data(time.Millisecond, false, 20), c.Idle(3 * time.Second)}
	as := track(pkts...)
	if len(as) != 1 {
		t.Fatalf("%d attempts, want 1", len(as))
	}
	r := verdict.Judge(as[0], verdict.VantageClient, verdict.Config{})
	check(t, r, want{verdict.Established, verdict.None, []verdict.Place{}, ""})
	if !strings.Contains(r.Explanation, "earlier RST") {
		t.Errorf("the early RST goes unmentioned: %s", r.Explanation)
	}

	// The same RST, ignored, and no answer ever: a timeout, not a refusal.
	c = pkttest.NewConn("198.51.100.10:40002", "203.0.113.5:80", 20)
	as = track(c.SYN(0), c.RefusingRST(time.Millisecond, 64), c.SYN(time.Second), c.SYN(time.Second), c.Idle(3*time.Second))
	r = verdict.Judge(as[0], verdict.VantageClient, verdict.Config{})
	if r.Verdict != verdict.Timeout || !strings.Contains(r.Explanation, "ignored") {
		t.Errorf("got %s: %s", r.Verdict, r.Explanation)
	}
}

func TestClientTakesTheSecondSYNACK(t *testing.T) {
	c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	syn := c.SYN(0)
	first := c.SYNACK(time.Millisecond)
	c.ServerISN += 1000 // the server (or a middlebox) answers again with another ISN
	second := c.SYNACK(time.Millisecond)
	pkts := []capture.Packet{syn, first, second, c.ACK(0), c.Data(0, true, 10), c.Data(time.Millisecond, false, 20), c.Idle(7 * time.Second)}
	r := verdict.Judge(track(pkts...)[0], verdict.VantageClient, verdict.Config{})
	check(t, r, want{verdict.Established, verdict.None, []verdict.Place{}, ""})
}

func TestScannerRSTIsNotBlamedOnThePath(t *testing.T) {
	// A SYN scan seen at the server: a crafted SYN TTL (43), then the
	// scanner's kernel RST (TTL 57) answering the SYN-ACK. The SYN is no
	// reference for the kernel's RST: the origin is unknown, never "path".
	c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10).AtServer()
	c.ClientTTL = 43
	syn := c.SYN(0)
	sa := c.SYNACK(0)
	c.ClientTTL = 57
	rst := c.AbortRST(time.Millisecond)
	r := verdict.Judge(track(syn, sa, rst, c.Idle(3*time.Second))[0], verdict.VantageServer, verdict.Config{})
	if r.Verdict != verdict.Aborted || r.RSTOrigin == verdict.OriginPath || r.Where == verdict.OutboundPath {
		t.Errorf("got %s/%s origin %s: %s", r.Verdict, r.Where, r.RSTOrigin, r.Explanation)
	}
}

// A capture of the client's outgoing packets cannot show the server
// acknowledging the request; the client not resending it does, once its
// retransmission timeout (three round trips, at least a second) has
// passed. Over a path of 800 ms, a capture that stops 2.3 s after the
// request (past --stall-after) had not reached that point: nothing says
// the server took it, and no stall is laid at its door; over 20 ms, it
// had.
func TestOneWayRequestNotResentWithinItsTimeout(t *testing.T) {
	for _, tc := range []struct {
		rtt      time.Duration
		inferred bool
	}{{20 * time.Millisecond, true}, {800 * time.Millisecond, false}} {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		syn := c.SYN(0)
		c.SYNACK(tc.rtt) // not captured
		ack := c.ACK(0)
		req := c.Data(0, true, 50)
		r := verdict.Judge(track(syn, ack, req, c.Idle(2300*time.Millisecond))[0], verdict.VantageClient, verdict.Config{})
		if got := strings.Contains(r.Explanation, "never resent its request"); got != tc.inferred {
			t.Errorf("round trip %s: the server's acknowledgment inferred %v, want %v: %s/%s: %s", tc.rtt, got, tc.inferred, r.Verdict, r.Where, r.Explanation)
		}
		if stalledAtServer := r.Verdict == verdict.Stalled && r.Where == verdict.Server; stalledAtServer != tc.inferred {
			t.Errorf("round trip %s: stalled at the server %v, want %v: %s/%s: %s", tc.rtt, stalledAtServer, tc.inferred, r.Verdict, r.Where, r.Explanation)
		}
	}
}

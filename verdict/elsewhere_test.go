package verdict_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// TestAnswerFromAnotherAddress: SYN-ACKs acknowledging the client's SYN
// from an address it did not connect to are that attempt's (the SYN got
// somewhere; the reply's source was not translated back), never the path's
// blame from one capture. Made to fool it: a SYN-ACK from elsewhere for
// another ISN, or to another client port, or one after the attempt had its
// own answer, is not the attempt's.
func TestAnswerFromAnotherAddress(t *testing.T) {
	real := netip.MustParseAddrPort("203.0.113.5:80")
	// elsewhere is a SYN-ACK from real answering c's SYN, with ack and
	// client port as given.
	elsewhere := func(c *pkttest.Conn, ack uint32, clientPort uint16) capture.Packet {
		p := c.SYNACK(0)
		p.Src, p.Dst, p.Ack = real, netip.AddrPortFrom(c.Client.Addr(), clientPort), ack
		c.ServerISN = 0
		return p
	}
	for _, tc := range []struct {
		name     string
		packets  func(c *pkttest.Conn) []capture.Packet
		attached bool
	}{
		{"answered from the real address", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), elsewhere(c, c.ISN+1, c.Client.Port()), c.SYN(ms * 1000), elsewhere(c, c.ISN+1, c.Client.Port()), c.Idle(5 * s)}
		}, true},
		{"another ISN", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), elsewhere(c, c.ISN+7, c.Client.Port()), c.Idle(5 * s)}
		}, false},
		{"another client port", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), elsewhere(c, c.ISN+1, c.Client.Port()+1), c.Idle(5 * s)}
		}, false},
		{"after its own answer", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), elsewhere(c, c.ISN+1, c.Client.Port()), c.Idle(5 * s)}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pkttest.NewConn("198.51.100.10:40000", "192.0.2.80:80", 1000)
			as := track(tc.packets(c)...)
			var a *flows.Attempt
			for _, x := range as {
				if x.ISN == 1000 {
					a = x
				}
			}
			if a == nil {
				t.Fatal("no attempt")
			}
			if (a.AnsweredFromCount > 0) != tc.attached || (tc.attached && a.AnsweredFrom != real) {
				t.Fatalf("answered from %v (%d), want attached: %v", a.AnsweredFrom, a.AnsweredFromCount, tc.attached)
			}
			r := verdict.Judge(a, verdict.InferVantage(a), verdict.Config{})
			if a.SYNACK.Count > 0 {
				return // answered: judged as any answered attempt
			}
			if r.Verdict != verdict.Timeout || r.Where != verdict.Unknown {
				t.Errorf("%s/%s: %s", r.Verdict, r.Where, r.Explanation)
			}
			if said := strings.Contains(r.Explanation, "another address"); said != tc.attached {
				t.Errorf("words name the other address: %v, want %v: %s", said, tc.attached, r.Explanation)
			}
		})
	}
}

// TestSYNACKForAnotherSequenceNumber: SYN-ACKs on the attempt's ports
// that acknowledge another sequence number (a server's stale entry for
// reused ports, a path rewriting sequence numbers one way) are told, not
// passed over as "no answer"; the place stays unknown.
func TestSYNACKForAnotherSequenceNumber(t *testing.T) {
	c := pkttest.NewConn("198.51.100.10:40000", "203.0.113.5:80", 1000)
	stale := func(dt time.Duration) capture.Packet {
		p := c.SYNACK(dt)
		p.Ack += 77
		return p
	}
	as := track(c.SYN(0), stale(ms), c.SYN(s), stale(ms), c.SYN(2*s), stale(ms), c.Idle(5*s))
	if len(as) != 1 {
		t.Fatalf("%d attempts", len(as))
	}
	r := verdict.Judge(as[0], verdict.InferVantage(as[0]), verdict.Config{})
	if r.Verdict != verdict.Timeout || r.Where != verdict.Unknown || len(r.Candidates) != 3 ||
		!strings.Contains(r.Explanation, "3 SYN-ACKs on these ports") || strings.Contains(r.Explanation, "no answer") {
		t.Errorf("%s/%s %v: %s", r.Verdict, r.Where, r.Candidates, r.Explanation)
	}
}

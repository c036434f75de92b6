package verdict_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// A RST that resets an established connection from a hop nearer than the
// server's own packets, seen from the client alone. A firewall on the way
// sends it, and so does the host in front of the server that passed the
// connection on (a load balancer, a NAT gateway, a Kubernetes node) once it
// has lost the connection's state: the capture blames the path only when
// the RST answers the client's first request (a name filter), or came back
// far sooner than the server could have answered.
func TestResetFromNearerThanTheServer(t *testing.T) {
	const µs = time.Microsecond
	// exchange: a handshake 80 ms long (the SYN-ACK two hops off, TTL 62),
	// a request the server acknowledges and has not answered yet, the
	// connection idle, then the client's next segment and a RST in the
	// server's name from a hop nearer (63) back after rstAfter.
	exchange := func(idle, rstAfter time.Duration, bare bool) func(c *pkttest.Conn) []capture.Packet {
		return func(c *pkttest.Conn) []capture.Packet {
			c.ServerTTL = 62
			pkts := []capture.Packet{c.SYN(0), c.SYNACK(80 * ms), c.ACK(µs), c.Data(µs, true, 40), c.ServerACK(80 * ms),
				c.Data(idle, true, 12)}
			rst := c.RST(rstAfter, false)
			rst.TTL = 63
			if bare {
				rst.Flags = capture.FlagRST
			}
			return append(pkts, rst)
		}
	}
	unknown := []verdict.Place{verdict.Server, verdict.OutboundPath}
	for _, tc := range []struct {
		name  string
		pkts  func(c *pkttest.Conn) []capture.Packet
		where verdict.Place
		cands []verdict.Place
		orig  verdict.Origin
		says  string
	}{
		// The host in front of the server, 80 ms off, lost the state: its
		// RST takes the round trip the server's answers take.
		{"as slow as the server", exchange(1500*ms, 80*ms, true), verdict.Unknown, unknown, verdict.OriginUnknown,
			"having lost the connection's state"},
		// A firewall next to the client, its RST back in microseconds.
		{"far sooner than the server", exchange(1500*ms, 50*µs, true), verdict.OutboundPath, nil, verdict.OriginPath,
			"sent from far nearer than the server"},
		// A RST that acknowledges may be the server's own abort, timed by
		// its application, not an answer to the segment before it.
		{"sooner, but acknowledging", exchange(1500*ms, 50*µs, false), verdict.Unknown, unknown, verdict.OriginUnknown,
			"having lost the connection's state"},
		// Segments in flight a round trip before: the RST may answer one of
		// them, sent by the server.
		{"sooner, but the client busy", exchange(60*ms, 50*µs, true), verdict.Unknown, unknown, verdict.OriginUnknown,
			"having lost the connection's state"},
		{"right after the ClientHello", func(c *pkttest.Conn) []capture.Packet {
			c.ServerTTL = 62
			pkts := []capture.Packet{c.SYN(0), c.SYNACK(80 * ms), c.ACK(µs), c.ClientHello(µs, "blocked.example")}
			rst := c.RST(80*ms, false)
			rst.TTL = 63
			return append(pkts, rst)
		}, verdict.OutboundPath, nil, verdict.OriginPath, "filters on the name"},
		// A tap that missed the server's SYN-ACK: no packet of the
		// server's to compare with, and no handshake to time the round
		// trip by; a RST back in microseconds proves nothing.
		{"a tap without the SYN-ACK", func(c *pkttest.Conn) []capture.Packet {
			c.ServerTTL = 62
			syn := c.SYN(0)
			c.SYNACK(80 * ms) // not captured
			pkts := []capture.Packet{syn, c.ACK(µs), c.Data(µs, true, 40), c.ServerACK(80 * ms),
				c.Data(1500*ms, true, 12)}
			rst := c.RST(50*µs, false)
			rst.TTL, rst.Flags = 63, capture.FlagRST
			return append(pkts, rst)
		}, verdict.Unknown, unknown, verdict.OriginUnknown, "no packet of the server's"},
		// The RST answers the client's second request, a round trip off:
		// no name filter's answer to the first.
		{"after the second request", func(c *pkttest.Conn) []capture.Packet {
			c.ServerTTL = 62
			pkts := []capture.Packet{c.SYN(0), c.SYNACK(80 * ms), c.ACK(µs), c.HTTPRequest(µs, "app.example"), c.ServerACK(80 * ms),
				c.HTTPRequest(1500*ms, "app.example")}
			rst := c.RST(80*ms, false)
			rst.TTL, rst.Flags = 63, capture.FlagRST
			return append(pkts, rst)
		}, verdict.Unknown, unknown, verdict.OriginUnknown, "having lost the connection's state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pkttest.NewConn("198.51.100.10:40512", "192.0.2.80:85", 1000)
			as := track(tc.pkts(c)...)
			if len(as) != 1 {
				t.Fatalf("%d attempts", len(as))
			}
			r := verdict.Judge(as[0], verdict.VantageClient, verdict.Config{})
			cands := tc.cands
			if cands == nil {
				cands = []verdict.Place{tc.where}
			}
			if r.Verdict != verdict.Reset || r.Where != tc.where || !slices.Equal(r.Candidates, cands) || r.RSTOrigin != tc.orig {
				t.Errorf("%s/%s %v origin %s, want reset/%s %v origin %s: %s", r.Verdict, r.Where, r.Candidates, r.RSTOrigin, tc.where, cands, tc.orig, r.Explanation)
			}
			if blocked := r.Cause == verdict.CauseBlockedHello; blocked != (tc.says == "filters on the name") {
				t.Errorf("cause %q: %s", r.Cause, r.Explanation)
			}
			if (r.Where == verdict.Unknown) != strings.Contains(r.Settle, "capture on the server") {
				t.Errorf("settle with %q, where %s", r.Settle, r.Where)
			}
			if !strings.Contains(r.Explanation, tc.says) {
				t.Errorf("explanation does not say %q: %s", tc.says, r.Explanation)
			}
		})
	}
}

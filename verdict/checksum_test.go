package verdict_test

import (
	"slices"
	"testing"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// TestDamagedChecksum: SYN-ACKs that reached the client with a wrong
// checksum, which its stack discards, are no proof that the client host
// ignored them; SYNs that reached the server so, none that the server
// dropped them. Made to fool it: one good SYN-ACK among damaged ones (the
// client ignored that one itself), a capture whose damaged-looking
// segments were taken anyway (its checksums are not the wire's: an
// offload), and one that shows no right checksum at all (a capture whose
// every checksum is wrong proves nothing by one): the old proofs stand.
func TestDamagedChecksum(t *testing.T) {
	damaged := func(p capture.Packet) capture.Packet { p.BadSum = true; return p }
	right := func(p capture.Packet) capture.Packet { p.GoodSum = true; return p }
	for _, tc := range []struct {
		name       string
		atServer   bool
		packets    func(c, other *pkttest.Conn) []capture.Packet
		where      verdict.Place
		candidates []verdict.Place
		cause      verdict.Cause
	}{
		{"client: every SYN-ACK damaged", false, func(c, other *pkttest.Conn) []capture.Packet {
			return []capture.Packet{right(other.SYN(0)), right(other.SYNACK(ms)), c.SYN(0), damaged(c.SYNACK(ms)), c.SYN(s), damaged(c.SYNACK(ms)), c.SYN(2 * s), damaged(c.SYNACK(ms)), c.Idle(2 * s)}
		}, verdict.Unknown, []verdict.Place{verdict.ReturnPath, verdict.Server}, verdict.CauseBadChecksum},
		{"client: one SYN-ACK intact", false, func(c, _ *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), damaged(c.SYNACK(ms)), c.SYN(s), c.SYNACK(ms), c.SYN(2 * s), c.Idle(2 * s)}
		}, verdict.Client, []verdict.Place{verdict.Client}, ""},
		{"client: the capture's checksums lie", false, func(c, other *pkttest.Conn) []capture.Packet {
			return []capture.Packet{right(other.SYN(0)), damaged(other.SYNACK(ms)), other.ACK(ms),
				c.SYN(0), damaged(c.SYNACK(ms)), c.SYN(s), damaged(c.SYNACK(ms)), c.SYN(2 * s), c.Idle(2 * s)}
		}, verdict.Client, []verdict.Place{verdict.Client}, ""},
		{"client: no right checksum anywhere", false, func(c, _ *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), damaged(c.SYNACK(ms)), c.SYN(s), damaged(c.SYNACK(ms)), c.SYN(2 * s), damaged(c.SYNACK(ms)), c.Idle(2 * s)}
		}, verdict.Client, []verdict.Place{verdict.Client}, ""},
		{"server: every SYN damaged", true, func(c, other *pkttest.Conn) []capture.Packet {
			return []capture.Packet{right(other.SYN(0)), damaged(c.SYN(0)), damaged(c.SYN(s)), damaged(c.SYN(2 * s)), c.Idle(2 * s)}
		}, verdict.Unknown, []verdict.Place{verdict.OutboundPath, verdict.Client}, verdict.CauseBadChecksum},
		{"server: the capture's checksums lie", true, func(c, other *pkttest.Conn) []capture.Packet {
			return []capture.Packet{damaged(other.SYN(0)), right(other.SYNACK(ms)),
				damaged(c.SYN(0)), damaged(c.SYN(s)), damaged(c.SYN(2 * s)), c.Idle(2 * s)}
		}, verdict.Server, []verdict.Place{verdict.Server}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pkttest.NewConn("198.51.100.10:40000", "203.0.113.5:80", 1<<20)
			other := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 1<<24)
			v := verdict.VantageClient
			if tc.atServer {
				c, other, v = c.AtServer(), other.AtServer(), verdict.VantageServer
			}
			// One clock: the other connection's packets come first.
			c.T, c.N = other.T.Add(10*ms), 100
			var a *flows.Attempt
			for _, x := range track(tc.packets(c, other)...) {
				if x.ISN == 1<<20 {
					a = x
				}
			}
			if a == nil {
				t.Fatal("no attempt")
			}
			r := verdict.Judge(a, v, verdict.Config{})
			if r.Verdict != verdict.Timeout || r.Where != tc.where || !slices.Equal(r.Candidates, tc.candidates) || r.Cause != tc.cause {
				t.Errorf("got %s/%s among %v, cause %q; want timeout/%s among %v, cause %q: %s",
					r.Verdict, r.Where, r.Candidates, r.Cause, tc.where, tc.candidates, tc.cause, r.Explanation)
			}
		})
	}
}

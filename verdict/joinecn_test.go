package verdict_test

import (
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// TestJoinECNProof: joined, a server capture holding only the client's
// SYN without ECN proves the ECN-setup ones were dropped on the way; not
// one that says it dropped packets itself, nor one that started after the
// first of them.
func TestJoinECNProof(t *testing.T) {
	const proof = "dropped on the way, not by the server"
	for _, tc := range []struct {
		name    string
		dropped uint64
		late    bool
		want    bool
	}{
		{"a whole server capture", 0, false, true},
		{"a server capture that dropped packets", 3, false, false},
		{"a server capture started after the ECN SYN", 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 1)
			s := c.AtServer()
			ecn := c.SYN(0)
			ecn.Flags |= capture.FlagECE | capture.FlagCWR
			c.TSVal += 1000
			plain := c.SYN(time.Second)
			synack := c.SYNACK(5 * ms)
			synack.Opts = capture.TCPOptions{HasTS: true, TSVal: 9, TSEcr: c.TSVal}
			cl := []capture.Packet{ecn, plain, synack, c.ACK(0), c.FIN(10*ms, true), c.FIN(10*ms, false)}
			s.TSVal = c.TSVal
			s.T = s.T.Add(time.Second)
			sv := []capture.Packet{s.SYN(2 * ms), s.SYNACK(0), s.ACK(5 * ms), s.FIN(10*ms, true), s.FIN(10*ms, false)}
			server := side(sv)
			server.Dropped = tc.dropped
			if !tc.late {
				server.First = ecn.TS.Add(-time.Second) // it ran before the ECN SYN
			}
			server.Coverage = []verdict.Span{{First: server.First, Last: server.Last.Add(time.Second)}}
			results, _ := verdict.Join(side(cl), server, verdict.JoinConfig{})
			if len(results) != 1 {
				t.Fatalf("%d results, want 1", len(results))
			}
			r := results[0]
			if r.Verdict != verdict.Established || r.Cause != verdict.CauseECNSetupDropped {
				t.Errorf("judged %s, cause %q; want established, %q: %s", r.Verdict, r.Cause, verdict.CauseECNSetupDropped, r.Explanation)
			}
			if got := strings.Contains(r.Explanation, proof); got != tc.want {
				t.Errorf("proof told: %v, want %v: %s", got, tc.want, r.Explanation)
			}
		})
	}
}

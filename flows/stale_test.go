package flows_test

import (
	"testing"
	"time"

	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
)

// TestStaleAnswer: a server segment before any SYN-ACK that acknowledges
// neither the SYN nor data just past it answers for an earlier connection
// (Attempt.StaleACKs), and the client's RST carrying its acknowledgment
// number ends that connection, not this attempt (StaleResets). A bare ACK
// just past the SYN is TIME_WAIT's answer to a SYN numbered behind the
// connection before. Made to fool it: data just past the SYN acknowledges
// data the capture missed (the handshake is inferred, as before); an ACK
// after the SYN-ACK is this connection's; a client RST with another
// sequence number is no answer to it.
func TestStaleAnswer(t *testing.T) {
	const isn = 1 << 20
	for _, tc := range []struct {
		name                       string
		ack, data                  uint32
		afterSYNACK, otherRSTSeq   bool
		stale, resets, established bool
	}{
		{"behind the SYN", isn - 5000, 0, false, false, true, true, false},
		{"far past the SYN", isn + 1<<30, 0, false, false, true, true, false},
		{"just past the SYN (TIME_WAIT's)", isn + 1 + 500, 0, false, false, true, true, false},
		{"data just past the SYN", isn + 1 + 500, 100, false, false, false, false, true},
		{"after the SYN-ACK", isn - 5000, 0, true, false, false, false, true},
		{"a RST with another sequence number", isn - 5000, 0, false, true, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
			c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", isn)
			feed(tr, c.SYN(0))
			if tc.afterSYNACK {
				feed(tr, c.SYNACK(ms), c.ACK(ms))
			}
			rstSeq := tc.ack
			if tc.otherRSTSeq {
				rstSeq++
			}
			answer := c.StaleACK(ms, tc.ack)
			answer.PayloadLen = tc.data
			feed(tr, answer, c.StaleRST(0, rstSeq), c.SYN(time.Second), c.Idle(5*time.Second))
			tr.Finish()
			if len(rec.got) != 1 {
				t.Fatalf("%d attempts, want 1", len(rec.got))
			}
			a := rec.got[0]
			if (a.StaleACKs == 1) != tc.stale || (a.StaleResets == 1) != tc.resets || a.Established() != tc.established {
				t.Errorf("stale ACKs %d, resets %d, established %v; want stale %v, reset %v, established %v",
					a.StaleACKs, a.StaleResets, a.Established(), tc.stale, tc.resets, tc.established)
			}
			// The RST ends the earlier connection, never this attempt.
			if tc.resets && (a.ClientRST.Count != 0 || a.Settled) {
				t.Errorf("the RST to the earlier connection's ACK was taken as this attempt's: %+v", a.ClientRST)
			}
		})
	}
}

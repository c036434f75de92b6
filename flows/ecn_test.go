package flows_test

import (
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
)

// TestECNFallback: SYNs asking for ECN (ECE and CWR) that went unanswered,
// then one without them answered at once, is an ECN fallback, proven by
// the SYN-ACK echoing the plain SYN's timestamp. Made to fool it: a slow
// answer to the first ECN SYN arriving after the plain one (it echoes the
// ECN SYN's timestamp); SYNs without timestamps (nothing proves which SYN
// was answered); a SYN-ACK after a second plain SYN; a client whose first
// SYN was plain.
func TestECNFallback(t *testing.T) {
	const ece = capture.FlagECE | capture.FlagCWR
	for _, tc := range []struct {
		name     string
		flags    []capture.TCPFlags // each SYN's ECN bits
		noTS     bool
		echo     int // index of the SYN the SYN-ACK echoes
		ecnSYNs  uint32
		fellBack bool
	}{
		{"two ECN SYNs, then a plain one answered", []capture.TCPFlags{ece, ece, 0}, false, 2, 2, true},
		{"a slow answer to the ECN SYN", []capture.TCPFlags{ece, 0}, false, 0, 1, false},
		{"no timestamps", []capture.TCPFlags{ece, 0}, true, 1, 1, false},
		{"answered after a second plain SYN", []capture.TCPFlags{ece, 0, 0}, false, 2, 1, false},
		{"a plain SYN first", []capture.TCPFlags{0, ece, 0}, false, 2, 0, false},
		{"every SYN ECN, answered", []capture.TCPFlags{ece, ece}, false, 1, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
			c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1<<20)
			var tsvals []uint32
			for i, f := range tc.flags {
				c.TSVal = uint32(1000 + 1000*i)
				syn := c.SYN(time.Duration(min(i, 1)) * time.Second)
				syn.Flags |= f
				if tc.noTS {
					syn.Opts.HasTS = false
				}
				tsvals = append(tsvals, c.TSVal)
				feed(tr, syn)
			}
			synack := c.SYNACK(ms)
			synack.Opts = capture.TCPOptions{HasTS: !tc.noTS, TSVal: 77, TSEcr: tsvals[tc.echo]}
			feed(tr, synack, c.ACK(ms))
			tr.Finish()
			if len(rec.got) != 1 {
				t.Fatalf("%d attempts, want 1", len(rec.got))
			}
			a := rec.got[0]
			if a.ECNSYNs != tc.ecnSYNs || a.ECNFallback != tc.fellBack {
				t.Errorf("ECN SYNs %d, fallback %v; want %d, %v", a.ECNSYNs, a.ECNFallback, tc.ecnSYNs, tc.fellBack)
			}
		})
	}
}

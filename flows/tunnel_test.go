package flows_test

import (
	"testing"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
)

// Two tenants of an overlay use the same addresses, ports and even ISN:
// each tunnel's packets make their own attempt, and one tenant's RST does
// not end the other's.
func TestTunnelsKeepTenantsApart(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	a := pkttest.NewConn("10.0.0.1:40000", "10.0.0.2:443", 1000)
	a.Tunnel = capture.Tunnel{Kind: capture.TunnelVXLAN, ID: 100}
	b := pkttest.NewConn("10.0.0.1:40000", "10.0.0.2:443", 1000)
	b.Tunnel = capture.Tunnel{Kind: capture.TunnelVXLAN, ID: 200}
	feed(tr, a.SYN(0), b.SYN(ms), b.RefusingRST(ms, 63), a.SYNACK(ms), a.ACK(ms), a.Data(ms, true, 10), a.Data(ms, false, 20))
	icmp := b.ICMP(ms, "192.0.2.1", false, 3, 1) // quotes b's SYN, in b's tunnel: b's attempt only
	feed(tr, icmp)
	tr.Finish()
	if len(rec.got) != 2 {
		t.Fatalf("%d attempts, want 2", len(rec.got))
	}
	for _, got := range rec.got {
		switch got.Key.Tunnel {
		case a.Tunnel:
			if !got.Established() || got.ServerRST.Count != 0 || got.ICMP.Count != 0 {
				t.Errorf("tenant 100: %+v", got)
			}
		case b.Tunnel:
			if got.Established() || got.ServerRST.Count != 1 {
				t.Errorf("tenant 200: %+v", got)
			}
		default:
			t.Errorf("attempt in tunnel %v", got.Key.Tunnel)
		}
	}
	if tr.Counts().Midstream != 0 {
		t.Errorf("%d midstream", tr.Counts().Midstream)
	}
}

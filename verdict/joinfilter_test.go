package verdict

import (
	"net/netip"
	"testing"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// TestServerFilterTrust: the server capture's stated filter proves an
// attempt was out of its view whenever it rejects the SYN, but that the
// capture would have held the SYN only once the capture proves nothing was
// taken out of it after (Side.Whole, known when it ends): a display
// filter's output keeps the original's stated filter. Tunnels and
// translations between IP versions leave nothing to test.
func TestServerFilterTrust(t *testing.T) {
	f, err := capture.ParseFilter("tcp port 80 or tcp port 81")
	if err != nil {
		t.Fatal(err)
	}
	key := func(client, server string, tunnel capture.TunnelKind) streamKey {
		a := &flows.Attempt{Key: flows.Key{Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server)}}
		a.Key.Tunnel.Kind = tunnel
		return keyOf(a)
	}
	passing, rejected := key("198.51.100.10:40000", "203.0.113.5:80", 0), key("198.51.100.10:40000", "203.0.113.5:82", 0)
	tunneled := key("198.51.100.10:40000", "203.0.113.5:82", capture.TunnelVXLAN)
	mixed := key("[2001:db8::10]:40000", "203.0.113.5:82", 0)
	j := NewStream(JoinConfig{}, nil, nil, func(Ready) {})
	if _, known := j.filterSays(&rejected); known {
		t.Fatal("a filter said something before any was set")
	}
	j.SetServerFilter(f)
	check := func(when string, k streamKey, passes, known bool) {
		t.Helper()
		if p, kn := j.filterSays(&k); p != passes || kn != known {
			t.Errorf("%s: passes %v known %v, want %v %v", when, p, kn, passes, known)
		}
	}
	check("rejected, before the end", rejected, false, true)
	check("passing, before the end", passing, true, false)
	check("tunneled", tunneled, false, false)
	check("IPv6 to IPv4", mixed, false, false)
	j.End(VantageServer, Side{Whole: false})
	check("passing, a capture cut after", passing, true, false)
	j.End(VantageServer, Side{Whole: true})
	check("passing, a whole capture", passing, true, true)
	check("rejected, a whole capture", rejected, false, true)
}

package verdict_test

import (
	"strings"
	"testing"

	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// TestTimeExceededWords: a router's time-exceeded answering the SYN says
// what it means (the hop limit ran out: a routing loop, or a path longer
// than the client's TTL), for IPv4 and IPv6; other errors do not.
func TestTimeExceededWords(t *testing.T) {
	for _, tc := range []struct {
		client, server, router string
		v6                     bool
		typ, code              uint8
		loop                   bool
	}{
		{"198.51.100.10:40000", "203.0.113.5:80", "192.0.2.1", false, 11, 0, true},
		{"[2001:db8::10]:40000", "[2001:db8:5::5]:80", "2001:db8:1::1", true, 3, 0, true},
		{"198.51.100.10:40000", "203.0.113.5:80", "192.0.2.1", false, 3, 13, false},
	} {
		c := pkttest.NewConn(tc.client, tc.server, 1000)
		as := track(c.SYN(0), c.ICMP(ms, tc.router, tc.v6, tc.typ, tc.code), c.Idle(5*s))
		if len(as) != 1 {
			t.Fatalf("%d attempts", len(as))
		}
		r := verdict.Judge(as[0], verdict.InferVantage(as[0]), verdict.Config{})
		if r.Verdict != verdict.Unreachable || r.Where != verdict.OutboundPath || strings.Contains(r.Explanation, "routing loop") != tc.loop {
			t.Errorf("ICMP %d/%d (v6 %v): %s/%s: %s", tc.typ, tc.code, tc.v6, r.Verdict, r.Where, r.Explanation)
		}
	}
}

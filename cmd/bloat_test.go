package cmd

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// cmd/testdata/bloat holds a router's tcpdump -i any, its way out to the
// server bufferbloated (make.sh: a full tbf queue): each SYN shows as
// received and, 600 ms later, as sent on, a hop fewer. The build before
// read such a file as two hosts' captures merged (the SYN "sent" by the
// client with TTL 64, "received" by the server with 63, the copies too far
// apart to pair as one packet passed on) and said of port 82's SYNs, which
// the router dropped, that the server received 4 and never answered:
// timeout/server, proven. Read as the router's capture it is, they were
// received and never passed on: the outbound path, likely; and each
// connection to port 80 took one SYN, not two. router.pcap pairs each copy
// by its timestamp, router6.pcap (IPv6, no timestamps: no mark at all) by
// the hop the router took off; in router-long.pcap the queue holds 5.5 s,
// past the wait for a copy, and only the TTLs tell a router's capture from
// two hosts' merged.
//
// CI remakes the captures on its own kernel and runs this test on them
// too (SYNPATH_REMADE_BLOAT names the directory make.sh wrote them into).
func TestBufferbloatedRouterCapture(t *testing.T) {
	dir := filepath.Join("testdata", "bloat")
	if remade := os.Getenv("SYNPATH_REMADE_BLOAT"); remade != "" {
		dir = remade
	}
	type want struct {
		verdict, where, confidence string
		syns                       int // 0: not checked (copies unpaired)
	}
	for _, tc := range []struct {
		file string
		want map[uint16]want
	}{
		{"router.pcap", map[uint16]want{80: {"established", "none", "proven", 1}, 81: {"refused", "server", "likely", 1}, 82: {"timeout", "outbound-path", "likely", 4}}},
		{"router6.pcap", map[uint16]want{80: {"established", "none", "proven", 1}, 81: {"refused", "server", "likely", 1}, 82: {"timeout", "outbound-path", "likely", 4}}},
		{"router-long.pcap", map[uint16]want{80: {"established", "none", "proven", 0}, 81: {"refused", "server", "likely", 0}, 82: {"timeout", "outbound-path", "likely", 4}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			seen := map[uint16]int{}
			for _, r := range runJSON(t, filepath.Join(dir, tc.file)) {
				server, err := netip.ParseAddrPort(r.Server)
				if err != nil {
					t.Fatal(err)
				}
				w, ok := tc.want[server.Port()]
				if !ok {
					t.Errorf("%s → %s: an attempt to a port the lab never dialled", r.Client, r.Server)
					continue
				}
				seen[server.Port()]++
				if r.Vantage == "both" {
					t.Errorf("%s → %s: judged as one end of a file holding both ends' captures", r.Client, r.Server)
				}
				syns := 0
				if r.SYNSent != nil {
					syns = *r.SYNSent
				}
				if r.Verdict != w.verdict || r.Where != w.where || r.WhereConfidence != w.confidence || w.syns != 0 && syns != w.syns {
					t.Errorf("%s → %s: %s/%s %s, %d SYNs; want %s/%s %s, %d SYNs\n%s", r.Client, r.Server, r.Verdict, r.Where, r.WhereConfidence, syns,
						w.verdict, w.where, w.confidence, w.syns, r.Explanation)
				}
			}
			if seen[80] != 3 || seen[81] != 1 || seen[82] != 1 {
				t.Errorf("attempts by port %v, want 3 to 80, 1 to 81, 1 to 82", seen)
			}
		})
	}
}

package cmd

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/synpath/synpath/capture"
)

// cmd/testdata/bloat holds a router's tcpdump -i any, its way out to the
// server bufferbloated (make.sh: a full tbf queue): each SYN shows as
// received and, 600 ms later, as sent on, a hop fewer. The build before
// read such a file as two hosts' captures merged (the SYN "sent" by the
// client with TTL 64, "received" by the server with 63, the copies too far
// apart to pair as one packet passed on) and said of port 82's SYNs, which
// the router dropped, that the server received 4 and never answered:
// timeout/server, proven. Read as the router's capture it is, they were
// received and never passed on while SYNs it received later were: the
// outbound path, likely; and each connection's SYNs are those the router
// received, not again when sent on. router.pcap pairs each copy by the hop
// the router took off within 5 s, router6.pcap too (IPv6, timestamps off:
// no mark on any copy); in router-long.pcap the queue holds 5.5 s, past
// that wait, and only the TTLs tell a router's capture from two hosts'
// merged. router-cut.pcap stops while the queue still holds a
// connection's SYNs (it completes later): no drop is claimed, as nothing
// the router received later was sent on either (before: timeout/server,
// proven). router-back.pcap and router-back-cut.pcap are the same on the
// way back, the queue toward the client: the SYN-ACKs from port 83, which
// the router drops, as received and never passed back while a later one
// was (return path, likely; before: timeout/client, proven), and a
// connection's SYN-ACKs still in the queue when the capture stops (no
// claim; before: timeout/client, proven).
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
		count                      bool // SYNs: those the router received
	}
	dropped := want{"timeout", "outbound-path", "likely", true}
	for _, tc := range []struct {
		file  string
		addr  string // the server's: a capture may begin with the round before's last SYNs
		want  map[uint16]want
		ports map[uint16]int // attempts by port
		// unplaced: the last attempt to port 80 is a timeout of unknown place.
		unplaced bool
	}{
		{"router.pcap", "203.0.113.5", map[uint16]want{80: {"established", "none", "proven", true}, 81: {"refused", "server", "likely", true}, 82: dropped}, map[uint16]int{80: 4, 81: 1, 82: 1}, false},
		{"router6.pcap", "2001:db8:5::5", map[uint16]want{80: {"established", "none", "proven", true}, 81: {"refused", "server", "likely", true}, 82: dropped}, map[uint16]int{80: 4, 81: 1, 82: 1}, false},
		{"router-long.pcap", "203.0.113.5", map[uint16]want{80: {"", "", "", false}, 81: {"refused", "server", "likely", false}, 82: dropped}, map[uint16]int{80: 4, 81: 1, 82: 1}, false},
		{"router-cut.pcap", "203.0.113.5", map[uint16]want{80: {"established", "none", "proven", true}}, map[uint16]int{80: 2}, true},
		{"router-back.pcap", "203.0.113.5", map[uint16]want{80: {"established", "none", "proven", true}, 83: {"timeout", "return-path", "likely", true}}, map[uint16]int{80: 2, 83: 1}, false},
		{"router-back-cut.pcap", "203.0.113.5", map[uint16]want{80: {"established", "none", "proven", true}}, map[uint16]int{80: 2}, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			file := filepath.Join(dir, tc.file)
			received := receivedSYNs(t, file)
			recs := runJSON(t, file)
			seen := map[uint16]int{}
			for i, r := range recs {
				server, err := netip.ParseAddrPort(r.Server)
				if err != nil {
					t.Fatal(err)
				}
				w, ok := tc.want[server.Port()]
				if server.Addr().String() != tc.addr {
					continue
				}
				if !ok {
					t.Errorf("%s → %s: an attempt to a port the lab never dialled", r.Client, r.Server)
					continue
				}
				seen[server.Port()]++
				if r.Vantage == "both" {
					t.Errorf("%s → %s: judged as one end of a file holding both ends' captures", r.Client, r.Server)
				}
				if tc.unplaced && i == len(recs)-1 {
					w = want{"timeout", "unknown", "", true}
				}
				syns := 0
				if r.SYNSent != nil {
					syns = *r.SYNSent
				}
				client, _ := netip.ParseAddrPort(r.Client)
				if w.verdict == "" {
					// Held 5.5 s both ways, the handshake's end may be
					// past the capture's or seem resent for: no place.
					if r.Where != "none" && r.Where != "unknown" {
						t.Errorf("%s → %s: %s/%s %s\n%s", r.Client, r.Server, r.Verdict, r.Where, r.WhereConfidence, r.Explanation)
					}
					continue
				}
				if r.Verdict != w.verdict || r.Where != w.where || r.WhereConfidence != w.confidence || w.count && syns != received[client] {
					t.Errorf("%s → %s: %s/%s %s, %d SYNs; want %s/%s %s, %d SYNs (as received)\n%s", r.Client, r.Server, r.Verdict, r.Where, r.WhereConfidence, syns,
						w.verdict, w.where, w.confidence, received[client], r.Explanation)
				}
			}
			for port, n := range tc.ports {
				if seen[port] != n {
					t.Errorf("attempts by port %v, want %v", seen, tc.ports)
					break
				}
			}
		})
	}
}

// receivedSYNs counts the SYNs a capture recording directions holds as
// received, by client.
func receivedSYNs(t *testing.T, file string) map[netip.AddrPort]int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := capture.NewReader(file, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	n := map[netip.AddrPort]int{}
	var p capture.Packet
	for rd.Next(&p) == nil {
		if p.Kind == capture.KindTCP && p.Flags.BareSYN() && p.Dir == capture.DirIn {
			n[p.Src]++
		}
	}
	return n
}

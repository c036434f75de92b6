package cmd

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cmd/testdata/synproxy holds real captures made in network namespaces
// as the lab makes them: the router runs netfilter's SYNPROXY for the
// server's ports 80 and 81. It answers the client's SYN itself (a SYN
// cookie, TTL 64: one hop closer than the server), and only after the
// client's ACK opens the connection to the server with the client's ISN;
// port 80 is served, port 81 closed: the server refuses the proxy's SYN,
// and the proxy relays its RST (TTL 63) to the client, whose handshake had
// completed. The proxy also acknowledges the client's ACK, as the server
// does a moment later: two ACKs alike but for their TTLs. Port 82, closed
// and not proxied, the server refuses itself.
//
// The client capture alone blamed the path for both RSTs (their TTL
// differs from the SYN-ACKs', the proxy's), took the two ACKs for one
// packet captured at both ends, and so read the file as a client and a
// server capture merged. A path device that forges a RST is no farther
// than the server: a RST from farther than the reference leaves its origin
// unknown. Made to fool it: the same capture with the SYN-ACKs two hops
// off (TTL 62) makes the RSTs closer: port 81's, nearer than its own
// SYN-ACK, is a firewall's or the host's in front of the server that lost
// the connection's state (a Kubernetes node marking the ACK invalid), back
// 16 µs after the client's ACK with no idle before it to time it by:
// unknown; port 82's, nearer than other ports' SYN-ACKs only, stays
// unknown (a host that forwards those ports farther off refuses the rest
// itself, from nearer). Joined
// with the server's capture, both are the server's, and the words say who
// completed port 81's handshake.
func TestSYNProxy(t *testing.T) {
	dir := filepath.Join("testdata", "synproxy")
	client := filepath.Join(dir, "client.pcap")
	farSYNACKs := rewriteFrames(t, client, "far-synacks.pcap", func(frame []byte) bool {
		if frame[14+20+13] == 0x12 {
			frame[22] = 62
		}
		return true
	})
	type want struct{ verdict, where, origin string }
	for _, tc := range []struct {
		name, file string
		args       []string
		ports      map[string]want
	}{
		{"client capture", client, nil, map[string]want{
			"81": {"reset", "unknown", "unknown"}, "82": {"refused", "unknown", "unknown"}}},
		{"SYN-ACKs farther than the RSTs", farSYNACKs, nil, map[string]want{
			"81": {"reset", "unknown", "unknown"}, "82": {"refused", "unknown", "unknown"}}},
		{"joined", client, []string{"--server", filepath.Join(dir, "server.pcap"), "--client"}, map[string]want{
			"81": {"reset", "server", "server"}, "82": {"refused", "server", "server"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, stderr := runMain(append(append([]string{"analyze", "--format", "json"}, tc.args...), tc.file)...)
			if strings.Contains(stderr, "both ends") || strings.Contains(stderr, "captured twice") {
				t.Errorf("read as a merged or duplicating capture:\n%s", stderr)
			}
			n := 0
			eachAttempt(t, stdout, tc.file, func(r map[string]any, port, desc string) {
				n++
				w, ok := tc.ports[port]
				if !ok {
					if r["verdict"] != "established" {
						t.Errorf("want established: %s", desc)
					}
					return
				}
				if r["verdict"] != w.verdict || r["where"] != w.where || r["rst_origin"] != w.origin {
					t.Errorf("want %s/%s, RST origin %s: %s", w.verdict, w.where, w.origin, desc)
				}
				if w.where == "unknown" && !slices.Contains(anyStrings(r["candidates"]), "server") {
					t.Errorf("want the server among the candidates: %s", desc)
				}
				if tc.args != nil && port == "81" && !strings.Contains(r["explanation"].(string), "SYN proxy") {
					t.Errorf("want the SYN proxy named: %s", desc)
				}
			})
			if n != 3 {
				t.Errorf("%d attempts, want 3", n)
			}
		})
	}
}

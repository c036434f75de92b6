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
// does a moment later: two ACKs alike but for their TTLs.
//
// The client capture alone blamed the path for the RST (its TTL differs
// from the SYN-ACK's), took the two ACKs for one packet captured at both
// ends, and so read the file as a client and a server capture merged.
// A path device that forges a RST is no farther than the server: a RST
// from farther than the SYN-ACK leaves its origin unknown. Made to fool
// it: the same capture with the port 81 SYN-ACK two hops off (TTL 62)
// makes the RST closer: from the path, as before. Joined with the
// server's capture (SYN, RST), the reset is the server's, and the words
// say who completed the handshake.
func TestSYNProxy(t *testing.T) {
	dir := filepath.Join("testdata", "synproxy")
	client := filepath.Join(dir, "client.pcap")
	farSYNACK := rewriteFrames(t, client, "far-synack.pcap", func(frame []byte) bool {
		if tcpPort(frame, 81) && frame[14+20+13] == 0x12 {
			frame[22] = 62
		}
		return true
	})
	for _, tc := range []struct {
		name, file, where, origin string
		args                      []string
	}{
		{"client capture", client, "unknown", "unknown", nil},
		{"SYN-ACK farther than the RST", farSYNACK, "outbound-path", "path", nil},
		{"joined", client, "server", "server", []string{"--server", filepath.Join(dir, "server.pcap"), "--client"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, stderr := runMain(append(append([]string{"analyze", "--format", "json"}, tc.args...), tc.file)...)
			if strings.Contains(stderr, "both ends") || strings.Contains(stderr, "captured twice") {
				t.Errorf("read as a merged or duplicating capture:\n%s", stderr)
			}
			ports := 0
			eachAttempt(t, stdout, tc.file, func(r map[string]any, port, desc string) {
				ports++
				switch port {
				case "80":
					if r["verdict"] != "established" {
						t.Errorf("want established: %s", desc)
					}
				case "81":
					if r["verdict"] != "reset" || r["where"] != tc.where || r["rst_origin"] != tc.origin {
						t.Errorf("want reset/%s, RST origin %s: %s", tc.where, tc.origin, desc)
					}
					if tc.where == "unknown" && !slices.Contains(anyStrings(r["candidates"]), "server") {
						t.Errorf("want the server among the candidates: %s", desc)
					}
					if tc.args != nil && !strings.Contains(r["explanation"].(string), "SYN proxy") {
						t.Errorf("want the SYN proxy named: %s", desc)
					}
				}
			})
			if ports != 2 {
				t.Errorf("%d attempts, want 2", ports)
			}
		})
	}
}

package cmd

import (
	"path/filepath"
	"strings"
	"testing"
)

// cmd/testdata/happyeyeballs holds real captures made in network
// namespaces (make.sh): curl on a dual-stack client connects three times
// to a name with an IPv6 and an IPv4 address, racing them (Happy
// Eyeballs: IPv6 first, IPv4 200 ms later). In drop-*.pcap the router
// drops IPv6 to the port: the IPv6 SYN is never answered. In late-*.pcap
// it drops the server's first IPv6 SYN-ACK; the server's resend a second
// later finds the client connected over IPv4, and its kernel answers with
// a RST.
//
// The client capture alone called each IPv6 attempt a timeout the client
// waited out ("waited at least 2.6 s … (ETIMEDOUT)"), or a refusal for
// no reason it could name; the user's connections all worked, over IPv4.
// Now the IPv6 attempt names the connection the client moved on to
// (fell_back_to), still a failure (the IPv6 SYN got no answer in time),
// and never one that blames the path from one capture.
func TestHappyEyeballs(t *testing.T) {
	dir := filepath.Join("testdata", "happyeyeballs")
	for _, tc := range []struct {
		name, verdict, where string
		args                 []string
	}{
		{"drop, client capture", "timeout", "unknown", []string{filepath.Join(dir, "drop-client.pcap")}},
		{"drop, joined", "timeout", "unknown", []string{"--client", filepath.Join(dir, "drop-client.pcap"), "--server", filepath.Join(dir, "drop-server.pcap")}},
		{"late, client capture", "aborted", "client", []string{filepath.Join(dir, "late-client.pcap")}},
		{"late, joined", "aborted", "client", []string{"--client", filepath.Join(dir, "late-client.pcap"), "--server", filepath.Join(dir, "late-server.pcap")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, tc.args...)...)
			v6, v4 := 0, 0
			eachAttempt(t, stdout, tc.args[len(tc.args)-1], func(r map[string]any, port, desc string) {
				if !strings.HasPrefix(r["client"].(string), "[") {
					v4++
					if r["verdict"] != "established" || r["fell_back_to"] != nil {
						t.Errorf("want established, falling back to nothing: %s", desc)
					}
					return
				}
				v6++
				expl := r["explanation"].(string)
				if r["verdict"] != tc.verdict || r["where"] != tc.where || r["fell_back_to"] != "203.0.113.5:80" {
					t.Errorf("want %s/%s, fell back to 203.0.113.5:80 (got %v): %s", tc.verdict, tc.where, r["fell_back_to"], desc)
				}
				if !strings.Contains(expl, "Happy Eyeballs") || strings.Contains(expl, "ETIMEDOUT") || strings.Contains(expl, "waited at least") {
					t.Errorf("want the fallback in words, no wait the client did not live through: %s", desc)
				}
				if strings.HasSuffix(tc.name, "joined") && tc.verdict == "aborted" && !strings.Contains(expl, "1 lost on the way back") {
					t.Errorf("want the server's lost SYN-ACK named: %s", desc)
				}
			})
			if v6 != 3 || v4 != 3 {
				t.Errorf("%d IPv6 and %d IPv4 attempts, want 3 each", v6, v4)
			}
			// The table says so under each verdict.
			_, table, _ := runMain(append([]string{"analyze"}, tc.args...)...)
			if n := strings.Count(table, "fell back"); n != 3 {
				t.Errorf("%d rows say the client fell back, want 3:\n%s", n, table)
			}
		})
	}
}

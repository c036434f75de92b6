package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cmd/testdata/ecn holds real captures made in network namespaces
// (make.sh): a Linux client asking for ECN in its SYNs, a router dropping
// SYNs with ECE and CWR set to ports 81 and 82. On 81 the client falls
// back and its plain SYN is answered at once; before, the verdict said
// only that the first SYN "went unanswered", as any loss. On 82 it never
// falls back and times out: the place stays unknown from the client, the
// words name the ECN SYNs.
//
// CI remakes the captures on its own kernel and runs this test on them
// too (SYNPATH_REMADE_ECN names the directory make.sh wrote them into).
func TestECNSetupDropped(t *testing.T) {
	dir := filepath.Join("testdata", "ecn")
	if remade := os.Getenv("SYNPATH_REMADE_ECN"); remade != "" {
		dir = remade
	}
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	for _, tc := range []struct {
		name   string
		args   []string
		joined bool
	}{
		{"client capture", []string{client}, false},
		{"joined", []string{"--client", client, "--server", server}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, tc.args...)...)
			n := eachAttempt(t, stdout, client, func(r map[string]any, port, desc string) {
				cause, _ := r["cause"].(string)
				expl := r["explanation"].(string)
				switch port {
				case "80":
					if r["verdict"] != "established" || cause != "" {
						t.Errorf("want established, no cause: %s", desc)
					}
				case "81":
					if r["verdict"] != "established" || r["where"] != "none" || cause != "ecn-setup-dropped" ||
						!strings.Contains(expl, "asked for ECN (ECE and CWR set) and went unanswered") {
						t.Errorf("want established, cause ecn-setup-dropped, the ECN SYN named: %s (cause %q)", desc, cause)
					}
					if onTheWay := strings.Contains(expl, "the ECN-setup SYNs were dropped on the way, not by the server"); onTheWay != tc.joined {
						t.Errorf("the server capture's proof told: %v, want %v: %s", onTheWay, tc.joined, desc)
					}
				case "82":
					if r["verdict"] != "timeout" || cause != "" || !strings.Contains(expl, "Every SYN asked for ECN") {
						t.Errorf("want timeout, no cause, the ECN SYNs named: %s (cause %q)", desc, cause)
					}
					// Joined too: the server's tcpdump capture holds nothing
					// after port 81's connection, so nothing proves it ran
					// while 82's SYNs were on their way.
					if r["where"] != "unknown" {
						t.Errorf("want unknown: %s", desc)
					}
				}
			})
			if n != 3 {
				t.Errorf("%d attempts, want 3", n)
			}
		})
	}
}

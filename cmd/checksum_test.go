package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cmd/testdata/checksum holds real captures made in network namespaces
// (make.sh): the router damages the SYN-ACKs of port 81 on their way back
// and the SYNs of port 82 on their way out (a tc eBPF program rewrites a
// byte and leaves the checksum wrong), and the receiving kernel discards
// them. Before, the client capture blamed the client host for ignoring
// port 81's SYN-ACKs (proven), and the server capture and the join blamed
// the server for dropping port 82's SYNs (proven).
//
// CI remakes the captures on its own kernel and runs this test on them
// too (SYNPATH_REMADE_CHECKSUM names the directory make.sh wrote them into).
func TestDamagedChecksum(t *testing.T) {
	dir := filepath.Join("testdata", "checksum")
	if remade := os.Getenv("SYNPATH_REMADE_CHECKSUM"); remade != "" {
		dir = remade
	}
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	type want struct {
		where, confidence, cause string
		candidates               []string
	}
	for _, tc := range []struct {
		name  string
		args  []string
		ports map[string]want
	}{
		{"client capture", []string{client}, map[string]want{
			"81": {"unknown", "", "bad-checksum", []string{"return-path", "server"}},
			"82": {"unknown", "", "", []string{"outbound-path", "server", "return-path"}},
		}},
		{"server capture", []string{server}, map[string]want{
			"81": {"unknown", "", "", []string{"return-path", "client"}},
			"82": {"unknown", "", "bad-checksum", []string{"outbound-path", "client"}},
		}},
		{"joined", []string{"--client", client, "--server", server}, map[string]want{
			"81": {"unknown", "", "bad-checksum", []string{"return-path", "server"}},
			"82": {"outbound-path", "likely", "bad-checksum", []string{"outbound-path", "client"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, tc.args...)...)
			n := eachAttempt(t, stdout, tc.args[len(tc.args)-1], func(r map[string]any, port, desc string) {
				w, ok := tc.ports[port]
				if !ok {
					if r["verdict"] != "established" || r["cause"] != nil {
						t.Errorf("want established: %s", desc)
					}
					return
				}
				cause, _ := r["cause"].(string)
				if r["verdict"] != "timeout" || r["where"] != w.where || r["where_confidence"] != w.confidence || cause != w.cause ||
					!slices.Equal(anyStrings(r["candidates"]), w.candidates) {
					t.Errorf("want timeout/%s (%s) among %v, cause %q: %s (cause %q)", w.where, w.confidence, w.candidates, w.cause, desc, cause)
				}
				if w.cause != "" && !strings.Contains(r["explanation"].(string), "each with a wrong TCP checksum") {
					t.Errorf("want the damage named: %s", desc)
				}
				// The evidence names the damaged segments as they arrived.
				damaged := map[string]string{"81": "SYN-ACK (wrong checksum)", "82": "SYN (wrong checksum)"}[port]
				if marked := slices.ContainsFunc(r["evidence"].([]any), func(e any) bool {
					return e.(map[string]any)["what"] == damaged
				}); marked != (w.cause != "") {
					t.Errorf("%q among the evidence: %v, want %v: %s", damaged, marked, w.cause != "", desc)
				}
			})
			if n != 3 {
				t.Errorf("%d attempts, want 3", n)
			}
		})
	}
}

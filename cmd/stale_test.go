package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cmd/testdata/stale holds real captures made in network namespaces
// (make.sh): the server still holds connections the client forgot (their
// RSTs dropped by the client's own firewall), and the client connects
// again from the same ports. The server answers each SYN with the earlier
// connection's ACK, and the client's stack answers that with a RST. From
// port 40001 the RST gets through and the next SYN is answered; from 40002
// the router drops the client's RSTs; on 40003 the client's firewall drops
// the server's ACKs, so its stack never resets anything.
//
// Before, the server's ACKs were no answer at all: the client capture said
// the SYNs may have been lost on the way out, the server's and the join
// that the server dropped them (a firewall, a full SYN queue), proven.
//
// The timewait- pair: the server closed the earlier connection first and
// holds it in TIME_WAIT, the client's new SYN is behind what it sent, and
// with net.ipv4.tcp_rfc1337=1 the server ignores the client's RSTs. Its
// captures start after the earlier connection's SYN.
//
// CI remakes the captures on its own kernel and runs this test on them
// too (SYNPATH_REMADE names the directory make.sh wrote them into).
func TestStaleConnection(t *testing.T) {
	dir := filepath.Join("testdata", "stale")
	if remade := os.Getenv("SYNPATH_REMADE"); remade != "" {
		dir = remade
	}
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	type want struct {
		verdict, where, confidence string
		candidates                 []string
		words                      string
	}
	recovered := want{"established", "none", "proven", nil, "the client's RST (" + client}
	for _, tc := range []struct {
		name  string
		args  []string
		ports map[string]want
	}{
		{"client capture", []string{client}, map[string]want{
			"40001": recovered,
			"40002": {"timeout", "unknown", "", []string{"outbound-path", "server"}, "yet the server answered its next SYN with the same ACK"},
			"40003": {"timeout", "client", "proven", []string{"client"}, "never answered with the RST its stack owes"},
		}},
		{"server capture", []string{server}, map[string]want{
			"40001": {"established", "none", "proven", nil, "the client's RST (" + server},
			"40002": {"timeout", "unknown", "", []string{"return-path", "outbound-path", "client"}, "none arrived while the client kept resending its SYN"},
			"40003": {"timeout", "unknown", "", []string{"return-path", "outbound-path", "client"}, "none arrived while the client kept resending its SYN"},
		}},
		{"joined", []string{"--client", client, "--server", server}, map[string]want{
			"40001": recovered,
			"40002": {"timeout", "outbound-path", "proven", []string{"outbound-path"}, "none of the RSTs reached the server"},
			"40003": {"timeout", "client", "proven", []string{"client"}, "The ACKs reached the client, which never answered"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, tc.args...)...)
			// Per client port, in order: the earlier connection, then the
			// attempt the server answered for it.
			seen := map[string]int{}
			n := eachAttempt(t, stdout, tc.args[len(tc.args)-1], func(r map[string]any, _, desc string) {
				c := r["client"].(string)
				port := c[strings.LastIndex(c, ":")+1:]
				seen[port]++
				w, ok := tc.ports[port]
				switch {
				case !ok:
					t.Errorf("unexpected attempt: %s", desc)
					return
				case seen[port] == 1:
					if r["verdict"] != "established" || r["cause"] != nil {
						t.Errorf("the earlier connection: want established, no cause: %s", desc)
					}
					return
				}
				if r["verdict"] != w.verdict || r["where"] != w.where || r["where_confidence"] != w.confidence ||
					!slices.Equal(anyStrings(r["candidates"]), w.candidates) {
					t.Errorf("want %s/%s (%s) among %v: %s", w.verdict, w.where, w.confidence, w.candidates, desc)
				}
				if cause := r["cause"]; (w.verdict == "timeout") != (cause == "stale-connection") {
					t.Errorf("cause %v: %s", cause, desc)
				}
				if !strings.Contains(r["explanation"].(string), w.words) {
					t.Errorf("want %q in the words: %s", w.words, desc)
				}
				// The server's ACK is evidence, named for what it is.
				if !slices.ContainsFunc(r["evidence"].([]any), func(e any) bool {
					return e.(map[string]any)["what"] == "ACK (of an earlier connection)"
				}) {
					t.Errorf("want the earlier connection's ACK among the evidence: %s", desc)
				}
			})
			if n != 6 {
				t.Errorf("%d attempts, want 6", n)
			}
		})
	}
	client, server = filepath.Join(dir, "timewait-client.pcap"), filepath.Join(dir, "timewait-server.pcap")
	whole, wholeServer := filepath.Join(dir, "timewait-whole-client.pcap"), filepath.Join(dir, "timewait-whole-server.pcap")
	for _, tc := range []struct {
		name     string
		args     []string
		earlier  int // attempts before the stale one: the earlier connection, if captured
		timeWait bool
		want
	}{
		{"TIME_WAIT, client capture", []string{client}, 0, false, want{"timeout", "unknown", "", []string{"outbound-path", "server"}, "the RST did not end it"}},
		{"TIME_WAIT, server capture", []string{server}, 0, false, want{"timeout", "server", "proven", []string{"server"}, "it did not take the RST"}},
		{"TIME_WAIT, joined", []string{"--client", client, "--server", server}, 0, false, want{"timeout", "server", "proven", []string{"server"}, "reached the server"}},
		// Captured from before the earlier connection: the server closed it
		// first, so it is named TIME_WAIT's. Its ACK is a little past the
		// new SYN (2 MB were sent), where data would say the handshake
		// completed unseen.
		{"TIME_WAIT whole, client capture", []string{whole}, 1, true, want{"timeout", "unknown", "", []string{"outbound-path", "server"}, "the RST did not end it"}},
		{"TIME_WAIT whole, server capture", []string{wholeServer}, 1, true, want{"timeout", "server", "proven", []string{"server"}, "it did not take the RST"}},
		{"TIME_WAIT whole, joined", []string{"--client", whole, "--server", wholeServer}, 1, true, want{"timeout", "server", "proven", []string{"server"}, "reached the server"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, tc.args...)...)
			seen := 0
			n := eachAttempt(t, stdout, tc.args[len(tc.args)-1], func(r map[string]any, _, desc string) {
				if seen++; seen <= tc.earlier {
					if r["verdict"] != "established" {
						t.Errorf("the earlier connection: want established: %s", desc)
					}
					return
				}
				if inTimeWait := strings.Contains(r["explanation"].(string), "holds in TIME_WAIT: this capture shows the server closing that connection first"); inTimeWait != tc.timeWait {
					t.Errorf("TIME_WAIT named: %v, want %v: %s", inTimeWait, tc.timeWait, desc)
				}
				if r["verdict"] != tc.verdict || r["where"] != tc.where || r["where_confidence"] != tc.confidence ||
					!slices.Equal(anyStrings(r["candidates"]), tc.candidates) || r["cause"] != "stale-connection" {
					t.Errorf("want %s/%s (%s) among %v, stale-connection: %s", tc.verdict, tc.where, tc.confidence, tc.candidates, desc)
				}
				if !strings.Contains(r["explanation"].(string), tc.words) {
					t.Errorf("want %q in the words: %s", tc.words, desc)
				}
			})
			if n != 1+tc.earlier {
				t.Errorf("%d attempts, want %d (the earlier connection is one only where its SYN was captured)", n, 1+tc.earlier)
			}
		})
	}
}

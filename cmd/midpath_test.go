package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// cmd/testdata/midpath holds a real capture taken in the middle of the
// path (make.sh): on the link between two routers, where packets both
// ways have crossed a router, as one taken on a firewall or a SPAN port.
// Its TTLs cannot tell which end it is at. Judged as if taken on the
// client, it had proven the client host guilty of ignoring SYN-ACKs that
// the capture only saw pass: port 83's were dropped by the router after
// the capture point (the return path), port 84's by the client's own
// firewall, and the capture cannot tell the two apart. And SYNs to an
// address that never answered, dropped past the capture point, were
// judged as if it were taken on that server: the server host dropped
// them (likely). Told it is the client's (--client), the user's word
// settles it.
//
// CI remakes the capture on its own kernel and runs this test on it too
// (SYNPATH_REMADE_MIDPATH names the directory make.sh wrote it into).
func TestMidPathCapture(t *testing.T) {
	dir := filepath.Join("testdata", "midpath")
	if remade := os.Getenv("SYNPATH_REMADE_MIDPATH"); remade != "" {
		dir = remade
	}
	tap := filepath.Join(dir, "tap.pcap")
	type want struct {
		verdict, where, confidence, origin string
		candidates                         []string
	}
	lostAfterTap := want{"timeout", "unknown", "", "", []string{"return-path", "client"}}
	for _, tc := range []struct {
		name    string
		args    []string
		servers map[string]want
	}{
		{"vantage from the TTLs", []string{tap}, map[string]want{
			"203.0.113.5:80": {"established", "none", "proven", "", []string{}},
			"203.0.113.5:81": {"refused", "server", "likely", "server", []string{"server"}},
			"203.0.113.5:83": lostAfterTap,
			"203.0.113.5:84": lostAfterTap,
			// Its TTL matches the client's SYN, but it was not seen leaving
			// the client.
			"203.0.113.5:85": {"aborted", "client", "likely", "client", []string{"client"}},
			"203.0.113.7:80": {"timeout", "unknown", "", "", []string{"outbound-path", "server", "return-path"}},
		}},
		{"--client", []string{"--client", tap}, map[string]want{
			"203.0.113.5:80": {"established", "none", "proven", "", []string{}},
			"203.0.113.5:81": {"refused", "server", "likely", "server", []string{"server"}},
			"203.0.113.5:83": {"timeout", "client", "proven", "", []string{"client"}},
			"203.0.113.5:84": {"timeout", "client", "proven", "", []string{"client"}},
			"203.0.113.5:85": {"aborted", "client", "proven", "client", []string{"client"}},
			"203.0.113.7:80": {"timeout", "unknown", "", "", []string{"outbound-path", "server", "return-path"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, tc.args...)...)
			seen := map[string]bool{}
			eachAttempt(t, stdout, tap, func(r map[string]any, _, desc string) {
				server := r["server"].(string)
				w, ok := tc.servers[server]
				if !ok {
					t.Errorf("unexpected attempt: %s", desc)
					return
				}
				seen[server] = true
				if want := map[bool]string{true: "client", false: "unknown"}[tc.args[0] == "--client"]; r["vantage"] != want {
					t.Errorf("vantage %v, want %s: %s", r["vantage"], want, desc)
				}
				if r["verdict"] != w.verdict || r["where"] != w.where || r["where_confidence"] != w.confidence || r["rst_origin"] != w.origin ||
					!slices.Equal(anyStrings(r["candidates"]), w.candidates) {
					t.Errorf("want %s/%s (%s) among %v, rst_origin %q: %s", w.verdict, w.where, w.confidence, w.candidates, w.origin, desc)
				}
			})
			for server := range tc.servers {
				if !seen[server] {
					t.Errorf("no attempt to %s", server)
				}
			}
		})
	}
}

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
// firewall, and the capture cannot tell the two apart. Told it is the
// client's (--client), the user's word settles it.
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
		name  string
		args  []string
		ports map[string]want
	}{
		{"vantage from the TTLs", []string{tap}, map[string]want{
			"80": {"established", "none", "proven", "", []string{}},
			"81": {"refused", "server", "likely", "server", []string{"server"}},
			"83": lostAfterTap,
			"84": lostAfterTap,
			// Its TTL matches the client's SYN, but it was not seen leaving
			// the client.
			"85": {"aborted", "client", "likely", "client", []string{"client"}},
		}},
		{"--client", []string{"--client", tap}, map[string]want{
			"80": {"established", "none", "proven", "", []string{}},
			"81": {"refused", "server", "likely", "server", []string{"server"}},
			"83": {"timeout", "client", "proven", "", []string{"client"}},
			"84": {"timeout", "client", "proven", "", []string{"client"}},
			"85": {"aborted", "client", "proven", "client", []string{"client"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, tc.args...)...)
			seen := map[string]bool{}
			eachAttempt(t, stdout, tap, func(r map[string]any, port, desc string) {
				w, ok := tc.ports[port]
				if !ok {
					t.Errorf("unexpected attempt: %s", desc)
					return
				}
				seen[port] = true
				if want := map[bool]string{true: "client", false: "unknown"}[tc.args[0] == "--client"]; r["vantage"] != want {
					t.Errorf("vantage %v, want %s: %s", r["vantage"], want, desc)
				}
				if r["verdict"] != w.verdict || r["where"] != w.where || r["where_confidence"] != w.confidence || r["rst_origin"] != w.origin ||
					!slices.Equal(anyStrings(r["candidates"]), w.candidates) {
					t.Errorf("want %s/%s (%s) among %v, rst_origin %q: %s", w.verdict, w.where, w.confidence, w.candidates, w.origin, desc)
				}
			})
			for port := range tc.ports {
				if !seen[port] {
					t.Errorf("no attempt to port %s", port)
				}
			}
		})
	}
}

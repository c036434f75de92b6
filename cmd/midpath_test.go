package cmd

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cmd/testdata/midpath holds real captures taken in the middle of the
// path (make.sh), between two routers. tap.pcap is taken on the link
// between them, where packets both ways have crossed a router, as one on
// a SPAN port; any.pcap is the first router's tcpdump -i any, as one on a
// firewall, holding what it forwards twice. The TTLs cannot tell which
// end either is at. Judged as if taken on the client, tap.pcap had proven
// the client host guilty of ignoring SYN-ACKs that the capture only saw
// pass: port 83's were dropped by the router after the capture point (the
// return path), port 84's by the client's own firewall, and the capture
// cannot tell the two apart. SYNs to an address that never answered,
// dropped past the capture point, were judged as if taken on that server:
// the server host dropped them (likely). any.pcap was taken for a client's
// and a server's capture merged, its far side for the server's, with the
// same blames; it shows port 83's SYN-ACKs reaching the router and never
// leaving it, which tells where they were dropped. Told it is the
// client's (--client), the user's word settles it.
//
// CI remakes the captures on its own kernel and runs this test on them
// too (SYNPATH_REMADE_MIDPATH names the directory make.sh wrote them into),
// and on what synpath live, run on the router beside its tcpdump -i any,
// said (live.json).
func TestMidPathCapture(t *testing.T) {
	dir := filepath.Join("testdata", "midpath")
	if remade := os.Getenv("SYNPATH_REMADE_MIDPATH"); remade != "" {
		dir = remade
	}
	tap, anyIface := filepath.Join(dir, "tap.pcap"), filepath.Join(dir, "any.pcap")
	type want struct {
		verdict, where, confidence, origin string
		candidates                         []string
	}
	lostAfterTap := want{"timeout", "unknown", "", "", []string{"return-path", "client"}}
	unplaced := map[string]want{
		"203.0.113.5:80": {"established", "none", "proven", "", []string{}},
		"203.0.113.5:81": {"refused", "server", "likely", "server", []string{"server"}},
		"203.0.113.5:83": lostAfterTap,
		"203.0.113.5:84": lostAfterTap,
		// Its TTL matches the client's SYN, but it was not seen leaving
		// the client.
		"203.0.113.5:85": {"aborted", "client", "likely", "client", []string{"client"}},
		"203.0.113.7:80": {"timeout", "unknown", "", "", []string{"outbound-path", "server", "return-path"}},
	}
	// The router's own capture shows the SYN-ACKs it dropped coming in and
	// never going out.
	dropsOwn := maps.Clone(unplaced)
	dropsOwn["203.0.113.5:83"] = want{"timeout", "return-path", "likely", "", []string{"return-path"}}
	if live := filepath.Join(dir, "live.json"); dir != filepath.Join("testdata", "midpath") {
		t.Run("synpath live -i any on the router", func(t *testing.T) {
			b, err := os.ReadFile(live)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			eachAttempt(t, string(b), live, func(r map[string]any, _, desc string) {
				server := r["server"].(string)
				w, ok := dropsOwn[server]
				if !ok {
					t.Errorf("unexpected attempt: %s", desc)
					return
				}
				seen[server] = true
				if r["vantage"] != "unknown" || r["verdict"] != w.verdict || r["where"] != w.where || r["where_confidence"] != w.confidence ||
					r["rst_origin"] != w.origin || !slices.Equal(anyStrings(r["candidates"]), w.candidates) {
					t.Errorf("want unknown vantage, %s/%s (%s) among %v, rst_origin %q: %s", w.verdict, w.where, w.confidence, w.candidates, w.origin, desc)
				}
			})
			if len(seen) != len(dropsOwn) {
				t.Errorf("attempts to %d servers, want %d", len(seen), len(dropsOwn))
			}
		})
	}
	for _, tc := range []struct {
		name    string
		args    []string
		vantage string
		servers map[string]want
	}{
		{"between the routers", []string{tap}, "unknown", unplaced},
		{"a router's tcpdump -i any", []string{anyIface}, "unknown", dropsOwn},
		{"--client", []string{"--client", tap}, "client", map[string]want{
			"203.0.113.5:80": {"established", "none", "proven", "", []string{}},
			"203.0.113.5:81": {"refused", "server", "likely", "server", []string{"server"}},
			"203.0.113.5:83": {"timeout", "client", "proven", "", []string{"client"}},
			"203.0.113.5:84": {"timeout", "client", "proven", "", []string{"client"}},
			"203.0.113.5:85": {"aborted", "client", "proven", "client", []string{"client"}},
			"203.0.113.7:80": {"timeout", "unknown", "", "", []string{"outbound-path", "server", "return-path"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.args[len(tc.args)-1]
			_, stdout, stderr := runMain(append([]string{"analyze", "--format", "json"}, tc.args...)...)
			if strings.Contains(stderr, "holds both ends") {
				t.Errorf("taken for both ends' captures merged:\n%s", stderr)
			}
			seen := map[string]bool{}
			eachAttempt(t, stdout, file, func(r map[string]any, _, desc string) {
				server := r["server"].(string)
				w, ok := tc.servers[server]
				if !ok {
					t.Errorf("unexpected attempt: %s", desc)
					return
				}
				seen[server] = true
				if r["vantage"] != tc.vantage {
					t.Errorf("vantage %v, want %s: %s", r["vantage"], tc.vantage, desc)
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

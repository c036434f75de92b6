package cmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// A real capture made in namespaces: dig answered NXDOMAIN and SERVFAIL,
// then a TLS connection with SNI blocked.example and an HTTP request a
// gateway answered 504. The failed lookups are their own lines, the
// attempts carry the name they asked for and the gateway's error.
func TestCausesOnARealCapture(t *testing.T) {
	code, out, stderr := runMain("analyze", "--format", "json", filepath.Join("..", "capture", "testdata", "app-dns.pcap"))
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d (failed lookups count as failures): %s", code, ExitFailed, stderr)
	}
	var dns, gateway, sni int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		switch {
		case rec["type"] == "dns":
			if rec["verdict"] != "dns-failed" || (rec["rcode"] != "NXDOMAIN" && rec["rcode"] != "SERVFAIL") {
				t.Errorf("dns line %v", rec)
			}
			dns++
		case rec["cause"] == "gateway-error":
			if rec["http_status"] != float64(504) || rec["verdict"] != "established" {
				t.Errorf("gateway line %v", rec)
			}
			gateway++
		case rec["sni"] == "blocked.example":
			d, _ := rec["dns"].(map[string]any)
			if d["name"] != "ok.example" || d["answer"] != "203.0.113.5" {
				t.Errorf("the attempt does not name the lookup before it: %v", rec["dns"])
			}
			sni++
		}
	}
	if dns != 2 || gateway != 1 || sni != 1 {
		t.Errorf("%d failed lookups, %d gateway errors, %d attempts with SNI; want 2, 1, 1:\n%s", dns, gateway, sni, out)
	}
}

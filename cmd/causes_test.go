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

// Real client captures of the lab's backlog-abort-on-overflow scenario (a
// server that never accepts, backlog 1, tcp_abort_on_overflow=1; 20
// clients; the router's shaper lets one SYN-ACK through every 37 ms). The
// server resets each connection whose ACK finds its accept queue full, at
// once, but the client sees that RST late: 360 ms after its ACK, held in
// the queue on the way back behind other SYN-ACKs, as the handshake's SYN-
// ACK was (592 ms); or 611 ms after, once its request went unacknowledged
// long enough that it resent it. Either way the cause is the accept queue,
// and the RST shows it whatever the timing: it carries no ACK, as a TCP's
// answer to a segment of a connection it does not hold.
func TestAcceptQueueResetSeenLateAtTheClient(t *testing.T) {
	for _, c := range []struct{ file, client string }{
		{"rst-behind-queue.pcap", "198.51.100.10:54243"},
		{"data-resent.pcap", "198.51.100.10:55431"},
	} {
		_, out, stderr := runMain("analyze", "--format", "json", filepath.Join("testdata", "acceptq", c.file))
		found := false
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: bad line %q: %v (%s)", c.file, line, err, stderr)
			}
			if rec["client"] != c.client {
				continue
			}
			found = true
			if rec["verdict"] != "reset" || rec["where"] != "server" || rec["rst_origin"] != "server" || rec["cause"] != "accept-queue-full" {
				t.Errorf("%s: %s: %v/%v rst_origin %v cause %q, want reset/server, rst_origin server, cause accept-queue-full: %v",
					c.file, c.client, rec["verdict"], rec["where"], rec["rst_origin"], rec["cause"], rec["explanation"])
			}
			if e, _ := rec["explanation"].(string); !strings.Contains(e, "The RST carried no ACK: its sender held no connection") {
				t.Errorf("%s: %s: the explanation does not say the RST carried no ACK: %s", c.file, c.client, e)
			}
		}
		if !found {
			t.Errorf("%s: no attempt from %s", c.file, c.client)
		}
	}
}

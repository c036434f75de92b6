package cmd

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tcpPort reports whether an Ethernet frame holds IPv4 TCP to or from
// port.
func tcpPort(frame []byte, port uint16) bool {
	if len(frame) < 34 || frame[12] != 8 || frame[13] != 0 || frame[23] != 6 {
		return false
	}
	hl := int(frame[14]&15) * 4
	if len(frame) < 14+hl+4 {
		return false
	}
	tcp := frame[14+hl:]
	return binary.BigEndian.Uint16(tcp[0:2]) == port || binary.BigEndian.Uint16(tcp[2:4]) == port
}

// Behind a destination translation (DNAT, a load balancer), the server
// capture shows one host of those the translator may send a connection
// to. The nat-dnat scenario's server capture with ports 82 and 83 left
// out, as a load balancer sending them to another backend would leave
// them: their SYNs never reached this host, which proves no loss on the
// way out (in the lab, the server dropped port 82's SYNs and the router
// its SYN-ACKs of port 83). Port 80, in both captures, teaches the
// translation and aligns the clocks.
func TestTranslatedServerCaptureBlamesNoPath(t *testing.T) {
	dir := filepath.Join(scenariosDir(), "nat-dnat")
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	if _, err := os.Stat(client); err != nil {
		t.Skip("no lab scenario")
	}
	backend := keepFrames(t, server, "backend.pcap", func(frame []byte) bool {
		return !tcpPort(frame, 82) && !tcpPort(frame, 83)
	})
	_, stdout, _ := runMain("analyze", "--format", "json", "--client", client, "--server", backend)
	seen := map[string]bool{}
	n := eachAttempt(t, stdout, backend, func(r map[string]any, port, desc string) {
		seen[port] = true
		switch port {
		case "80":
			if r["verdict"] != "established" || r["vantage"] != "both" {
				t.Errorf("want established, seen from both ends: %s", desc)
			}
		case "82", "83":
			if r["where"] == "outbound-path" || r["rst_origin"] == "path" || r["where_confidence"] == "proven" {
				t.Errorf("the path blamed for a connection the translator may have sent elsewhere: %s", desc)
			}
			if r["verdict"] != "timeout" || !slices.Contains(anyStrings(r["candidates"]), "server") {
				t.Errorf("want a timeout with the server among the candidates: %s", desc)
			}
		}
	})
	if n != 3 || len(seen) != 3 {
		t.Errorf("%d attempts on ports %v, want 3 on 80, 82, 83", n, seen)
	}
}

// Connections the client capture shows answered that the server capture,
// running and showing the client's other connections to the same address,
// never saw were answered by something else: a proxy in the path, or the
// server through an interface not captured. The mixed scenario's server
// capture with ports 87 (the server never replies to the request) and 88
// (the server resets after the handshake) left out: neither the stall nor
// the reset may stay the server's.
func TestAnsweredInTheServersPlace(t *testing.T) {
	client, server := mixedCapture(t)
	without := keepFrames(t, server, "server.pcap", func(frame []byte) bool {
		return !tcpPort(frame, 87) && !tcpPort(frame, 88)
	})
	_, stdout, _ := runMain("analyze", "--format", "json", "--client", client, "--server", without)
	counts := map[string]int{}
	eachAttempt(t, stdout, without, func(r map[string]any, port, desc string) {
		switch port {
		case "80":
			if r["verdict"] != "established" || r["vantage"] != "both" {
				t.Errorf("want established, seen from both ends: %s", desc)
			}
		case "87", "88":
			counts[port]++
			cands := anyStrings(r["candidates"])
			if r["where"] != "unknown" || !slices.Contains(cands, "server") || !slices.Contains(cands, "outbound-path") {
				t.Errorf("want the place unknown, the server and the path among the candidates: %s", desc)
			}
			if r["rst_origin"] == "server" {
				t.Errorf("a RST the server capture never saw called the server's: %s", desc)
			}
			if want := map[string]string{"87": "stalled", "88": "reset"}[port]; r["verdict"] != want {
				t.Errorf("want %s: %s", want, desc)
			}
		}
	})
	if counts["87"] == 0 || counts["88"] == 0 {
		t.Errorf("attempts on ports 87 and 88: %v", counts)
	}
}

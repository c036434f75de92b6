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

// A load balancer with direct server return sends each connection to one
// of its backends, each holding the service address, each answering from
// it: a backend's capture looks like the server's, but lacks the
// connections sent to the others, answered or not. The mixed scenario's
// server capture as backend A's: half the connections to port 80 (odd
// client ports) and all those to port 86 went to backend B, port 86's to
// a B that drops them. The client capture holds SYN-ACKs of port 80
// connections the capture never saw: the absence of port 86's (and 82's)
// SYNs then proves no loss on the way. Before, both were the outbound
// path's, proven.
func TestDirectServerReturnBackendBlamesNoPath(t *testing.T) {
	client, server := mixedCapture(t)
	backendA := keepFrames(t, server, "backend-a.pcap", func(frame []byte) bool {
		if tcpPort(frame, 86) {
			return false
		}
		if !tcpPort(frame, 80) {
			return true
		}
		hl := int(frame[14]&15) * 4
		tcp := frame[14+hl:]
		other := binary.BigEndian.Uint16(tcp[0:2])
		if other == 80 {
			other = binary.BigEndian.Uint16(tcp[2:4])
		}
		return other%2 == 0
	})
	_, stdout, _ := runMain("analyze", "--format", "json", "--client", client, "--server", backendA)
	counts := map[string]int{}
	eachAttempt(t, stdout, backendA, func(r map[string]any, port, desc string) {
		counts[port]++
		switch port {
		case "80":
			if r["verdict"] != "established" {
				t.Errorf("want established: %s", desc)
			}
		case "82", "86":
			if r["verdict"] != "timeout" || r["where"] == "outbound-path" || r["where_confidence"] == "proven" {
				t.Errorf("want a timeout, no place proven, the path not blamed: %s", desc)
			}
			if !slices.Contains(anyStrings(r["candidates"]), "server") {
				t.Errorf("want the server among the candidates: %s", desc)
			}
		case "81":
			if r["verdict"] != "refused" || r["where"] != "server" || r["vantage"] != "both" {
				t.Errorf("want refused by the server, seen from both ends: %s", desc)
			}
		}
	})
	if counts["80"] != 30 || counts["82"] != 30 || counts["86"] != 30 {
		t.Errorf("attempts by port: %v", counts)
	}
}

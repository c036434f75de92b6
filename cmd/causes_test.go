package cmd

import (
	"encoding/binary"
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

// The same real capture made to fool the rule: each of the server's RSTs
// made an application's abort (RST and ACK, acknowledging the client's SYN
// and nothing more), as a server that accepts and resets at once sends it,
// as fast. Its TCP held the connection: a reset by the server, with no
// cause named.
func TestApplicationAbortIsNoAcceptQueue(t *testing.T) {
	aborted := withServerAborts(t, filepath.Join("testdata", "acceptq", "rst-behind-queue.pcap"))
	_, out, stderr := runMain("analyze", "--format", "json", aborted)
	resets := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("bad line %q: %v (%s)", line, err, stderr)
		}
		if rec["verdict"] != "reset" {
			continue
		}
		resets++
		if c, _ := rec["cause"].(string); rec["where"] != "server" || c != "" {
			t.Errorf("%s: reset/%v cause %q, want reset/server and no cause: %v", rec["client"], rec["where"], rec["cause"], rec["explanation"])
		}
	}
	if resets == 0 {
		t.Fatalf("no reset in the rewritten capture: %s", out)
	}
}

// withServerAborts writes the capture src (Ethernet, IPv4) with every bare
// RST from port 80 given the ACK flag and an acknowledgment of the
// client's SYN, its TCP checksum made anew.
func withServerAborts(t *testing.T, src string) string {
	t.Helper()
	isn := map[uint16]uint32{} // the client's SYN sequence number, by its port
	changed := 0
	path := rewriteFrames(t, src, "aborts.pcap", func(frame []byte) bool {
		if len(frame) < 34 || frame[12] != 8 || frame[13] != 0 || frame[23] != 6 {
			return true
		}
		ihl := int(frame[14]&0xf) * 4
		if len(frame) < 14+ihl+20 {
			return true
		}
		ip, tcp := frame[14:14+ihl], frame[14+ihl:]
		switch {
		case tcp[13] == 0x02: // the SYN comes first
			isn[binary.BigEndian.Uint16(tcp[0:2])] = binary.BigEndian.Uint32(tcp[4:8])
		case binary.BigEndian.Uint16(tcp[0:2]) == 80 && tcp[13] == 0x04:
			tcp[13] |= 0x10
			binary.BigEndian.PutUint32(tcp[8:12], isn[binary.BigEndian.Uint16(tcp[2:4])]+1)
			binary.BigEndian.PutUint16(tcp[16:18], 0)
			binary.BigEndian.PutUint16(tcp[16:18], tcpChecksum(ip, tcp))
			changed++
		}
		return true
	})
	if changed == 0 {
		t.Fatal("no bare RST from port 80 to rewrite")
	}
	return path
}

// tcpChecksum is the checksum of an IPv4 TCP segment whose checksum field
// is zero.
func tcpChecksum(ip, tcp []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(ip[12:20])
	sum += 6 + uint32(len(tcp))
	add(tcp)
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

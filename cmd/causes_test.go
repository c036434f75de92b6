package cmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
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

// withServerAborts writes the capture src with every bare RST from port
// 80 given the ACK flag and an acknowledgment of the client's SYN, its TCP
// checksum made anew (gopacket serialises it).
func withServerAborts(t *testing.T, src string) string {
	t.Helper()
	isn := map[layers.TCPPort]uint32{} // the client's SYN sequence number, by its port
	changed := 0
	path := rewriteFrames(t, src, "aborts.pcap", func(frame []byte) bool {
		pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.NoCopy)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		switch {
		case ip == nil || tcp == nil:
		case tcp.SYN && !tcp.ACK: // the SYN comes first
			isn[tcp.SrcPort] = tcp.Seq
		case tcp.SrcPort == 80 && tcp.RST && !tcp.ACK:
			tcp.ACK, tcp.Ack = true, isn[tcp.DstPort]+1
			if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, tcp, gopacket.Payload(tcp.Payload)); err != nil {
				t.Fatal(err)
			}
			copy(tcp.Contents, buf.Bytes()[:len(tcp.Contents)]) // in place: NoCopy decoded the frame itself
			changed++
		}
		return true
	})
	if changed == 0 {
		t.Fatal("no bare RST from port 80 to rewrite")
	}
	return path
}

package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A one-way tap: the mixed scenario's client capture with every
// server-to-client packet removed, as asymmetric routing or a SPAN port
// copying one direction shows it. The client's own ACKs prove the answers
// the capture lacks: the connections that worked stay established (likely),
// none is called a timeout, and the footer names the blind spot.
func TestOneWayTapTrustsTheClient(t *testing.T) {
	client, _ := mixedCapture(t)
	b, err := os.ReadFile(client)
	if err != nil {
		t.Fatal(err)
	}
	hdr, recs, _, ok := pcapRecords(b)
	if !ok {
		t.Skip("not a little-endian pcap")
	}
	out := append([]byte{}, hdr...)
	for _, r := range recs {
		frame := r[16:]
		// Ethernet, IPv4 source 198.51.100.10: the client's own packets.
		if len(frame) >= 30 && frame[12] == 8 && frame[13] == 0 && string(frame[26:30]) == string([]byte{198, 51, 100, 10}) {
			out = append(out, r...)
		}
	}
	oneWay := filepath.Join(t.TempDir(), "c2s.pcap")
	if err := os.WriteFile(oneWay, out, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stdout, stderr := runMain("analyze", "--format", "json", oneWay)
	established := 0
	for _, r := range jsonLines(t, stdout) {
		if strings.HasSuffix(r["server"].(string), ":80") {
			if r["verdict"] != "established" || r["where_confidence"] != "likely" {
				t.Errorf("%s → %s: %s (%s): %s", r["client"], r["server"], r["verdict"], r["where_confidence"], r["explanation"])
			}
			established++
		}
	}
	if established != 30 || !strings.Contains(stderr, "no server-to-client packets for") {
		t.Errorf("%d established attempts to port 80 (want 30); stderr: %s", established, stderr)
	}
}

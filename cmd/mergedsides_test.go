package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// A file holding both ends' captures (mergecap) covers, for each end, the
// time of that end's own packets, not the file's: one end's capture may
// have started later or stopped earlier than the other's. Before, the
// whole file's span stood for both, and the join proved losses in time the
// server's capture never saw. Made from cmd/testdata/ecn (the client's and
// the server's real captures): merged whole, port 82's SYNs come after the
// server's last packet, so they stay unknown as in the join of the two
// files (before: outbound-path, proven); merged with the server's capture
// starting at port 81's second SYN, the first one, asking for ECN, is
// before it, so its absence there proves nothing (before: "dropped on the
// way, not by the server").
func TestMergedFileSideCoverage(t *testing.T) {
	dir := filepath.Join("testdata", "ecn")
	client, err := os.ReadFile(filepath.Join(dir, "client.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	server, err := os.ReadFile(filepath.Join(dir, "server.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	whole, late := filepath.Join(tmp, "whole.pcap"), filepath.Join(tmp, "late.pcap")
	mergeByTime(t, whole, client, server)
	mergeByTime(t, late, client, fromPlainSYN(t, server, 81))
	for _, tc := range []struct {
		name, file string
		port       string
		where      string
		proofWords bool // port 81: the ECN SYNs proven dropped on the way
	}{
		{"merged whole", whole, "82", "unknown", true},
		{"the server's capture starting late", late, "81", "none", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, stderr := runMain("analyze", "--format", "json", tc.file)
			n := eachAttempt(t, stdout, tc.file, func(r map[string]any, port, desc string) {
				if port == tc.port && r["where"] != tc.where {
					t.Errorf("want %s: %s", tc.where, desc)
				}
				if port == "81" {
					proof := strings.Contains(r["explanation"].(string), "dropped on the way, not by the server")
					if proof != tc.proofWords {
						t.Errorf("the server capture's proof told: %v, want %v: %s", proof, tc.proofWords, desc)
					}
				}
			})
			if n != 3 {
				t.Errorf("%d attempts, want 3 (%s)", n, stderr)
			}
		})
	}
}

// fromPlainSYN is the pcap b from the first SYN to port without ECN bits
// on: a capture started then.
func fromPlainSYN(t *testing.T, b []byte, port uint16) []byte {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := pcapgo.NewWriterNanos(&out)
	if err := w.WriteFileHeader(65535, r.LinkType()); err != nil {
		t.Fatal(err)
	}
	var from time.Time
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		// Ethernet, IPv4 without options: TCP flags at 14+20+13.
		if from.IsZero() && len(data) > 47 && data[23] == 6 && uint16(data[36])<<8|uint16(data[37]) == port && data[47] == 0x02 {
			from = ci.Timestamp
		}
		if !from.IsZero() {
			if err := w.WritePacket(ci, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if from.IsZero() {
		t.Fatalf("no plain SYN to port %d", port)
	}
	return out.Bytes()
}

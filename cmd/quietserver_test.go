package cmd

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cmd/testdata/quietserver holds real captures made in network namespaces
// (make.sh): the client's by tcpdump, the server's by dumpcap, as
// Wireshark and tshark capture. Ports 80 and 81 answer; the router drops
// the SYNs to port 82, and the server sees nothing after port 81's
// connection until its capture stops. Its last packet is then seconds
// before the lost SYNs, and only its statistics block (isb_starttime,
// isb_endtime, isb_ifrecv) proves it still ran: before, the join said
// "the server capture does not cover this time" and left port 82
// unknown. The same server captured with filters dumpcap records in the
// file: "tcp" passes port 82's SYNs, so the capture, though it holds TCP
// alone, was not filtered to ports 80 and 81 (before, only likely);
// "tcp port 80 or tcp port 81" leaves them out, so it cannot confirm
// the attempt (before, a likely loss on the way out).
//
// CI remakes the captures on its own kernel and runs this test on them
// too (SYNPATH_REMADE_QUIET names the directory make.sh wrote them into).
func TestQuietServerCapture(t *testing.T) {
	dir := filepath.Join("testdata", "quietserver")
	if remade := os.Getenv("SYNPATH_REMADE_QUIET"); remade != "" {
		dir = remade
	}
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcapng")
	raw, err := os.ReadFile(server)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// The same capture without its statistics (editcap drops them), and
	// one that still has them but lacks a packet they count (cut from the
	// capture by hand): neither proves when it ran.
	noStats := filepath.Join(tmp, "nostats.pcapng")
	cut := filepath.Join(tmp, "cut.pcapng")
	writeBlocks(t, noStats, raw, func(typ uint32, i int) bool { return typ != 5 })
	writeBlocks(t, cut, raw, func(typ uint32, i int) bool { return typ != 6 || i > 0 })
	for _, tc := range []struct {
		name       string
		server     string
		where      string
		confidence string
		ran        bool
		words      string // in port 82's explanation
	}{
		{"its statistics", server, "outbound-path", "proven", true, "None of 3 SYNs reached the server"},
		{"without statistics", noStats, "unknown", "", false, "does not cover this time"},
		{"a packet fewer than counted", cut, "unknown", "", false, "does not cover this time"},
		{"filter tcp", filepath.Join(dir, "server-tcp.pcapng"), "outbound-path", "proven", true, "None of 3 SYNs reached the server"},
		{"filter on ports 80 and 81", filepath.Join(dir, "server-ports.pcapng"), "unknown", "", true,
			`its own capture filter ("tcp port 80 or tcp port 81", as the file states it) would not pass its SYN`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, _ := runMain("analyze", "--format", "json", "--with-summary", "--client", client, "--server", tc.server)
			n := eachAttempt(t, stdout, client, func(r map[string]any, port, desc string) {
				if port != "82" {
					if r["verdict"] != "established" {
						t.Errorf("want established: %s", desc)
					}
					return
				}
				if r["verdict"] != "timeout" || r["where"] != tc.where || r["where_confidence"] != tc.confidence {
					t.Errorf("want timeout/%s (%s): %s", tc.where, tc.confidence, desc)
				}
				if !strings.Contains(r["explanation"].(string), tc.words) {
					t.Errorf("want %q in the words: %s", tc.words, desc)
				}
			})
			if n != 3 {
				t.Errorf("%d attempts, want 3", n)
			}
			for _, r := range jsonLines(t, stdout) {
				if r["type"] != "summary" {
					continue
				}
				for _, f := range r["files"].([]any) {
					f := f.(map[string]any)
					_, ran := f["ran_until"]
					if want := tc.ran && f["file"] == tc.server; ran != want {
						t.Errorf("%s: ran_until given: %v, want %v", f["file"], ran, want)
					}
				}
			}
		})
	}
}

// writeBlocks writes to path the little-endian pcapng b with only the
// blocks keep keeps, given each block's type and its index among those
// of its type.
func writeBlocks(t *testing.T, path string, b []byte, keep func(typ uint32, i int) bool) {
	t.Helper()
	var out []byte
	seen := map[uint32]int{}
	for len(b) >= 12 {
		typ, n := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		if n < 12 || int(n) > len(b) {
			t.Fatalf("%s: a block of %d bytes, %d left", path, n, len(b))
		}
		if keep(typ, seen[typ]) {
			out = append(out, b[:n]...)
		}
		seen[typ]++
		b = b[n:]
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFileStartsFilter: a group's files state a capture filter only when
// every one of them states the same; a pcap file, or one that cannot be
// peeked at (standard input, gone), says nothing.
func TestFileStartsFilter(t *testing.T) {
	dir := filepath.Join("testdata", "quietserver")
	tcp, ports, pcap := filepath.Join(dir, "server-tcp.pcapng"), filepath.Join(dir, "server-ports.pcapng"), filepath.Join(dir, "client.pcap")
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{tcp}, "tcp"},
		{[]string{tcp, tcp}, "tcp"},
		{[]string{tcp, ports}, ""},
		{[]string{tcp, pcap}, ""},
		{[]string{tcp, "-"}, ""},
		{[]string{tcp, filepath.Join(t.TempDir(), "gone.pcapng")}, ""},
	} {
		if _, got := fileStarts(tc.files); got != tc.want {
			t.Errorf("%v: filter %q, want %q", tc.files, got, tc.want)
		}
	}
}

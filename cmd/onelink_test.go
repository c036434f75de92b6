package cmd

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/synpath/synpath/report"
)

// cmd/testdata/onelink holds real captures of a client and a server on one
// link, no router between them (make.sh), each end's tcpdump -i any. Both
// ends' packets arrive with the TTL they were sent with, so the TTLs
// cannot tell which end a capture is from: each was of unknown vantage,
// judged like a client's with nothing proven of the client (port 84's
// SYN-ACKs, which the client host dropped, were "return path or client"),
// and the two were not joined unless --client and --server said which was
// which. The cooked header's packet type says which way each packet
// crossed the host: the client's capture holds its SYNs as sent, the
// server's holds them as received and its own SYN-ACKs as sent. Read, it
// tells each capture's end, and given together they are joined. A host
// connecting to itself is its own server, whatever the capture records.
//
// CI remakes the captures on its own kernel and runs this test on them
// too (SYNPATH_REMADE_ONELINK names the directory make.sh wrote them into).
func TestOneLinkCapture(t *testing.T) {
	dir := filepath.Join("testdata", "onelink")
	if remade := os.Getenv("SYNPATH_REMADE_ONELINK"); remade != "" {
		dir = remade
	}
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	type want struct {
		vantage, verdict, where, confidence string
		candidates                          []string
	}
	for _, tc := range []struct {
		name  string
		files []string
		wants map[string]want
	}{
		{"the client's", []string{client}, map[string]want{
			"80": {"client", "established", "none", "proven", []string{}},
			"81": {"client", "refused", "server", "likely", []string{"server"}},
			"82": {"client", "timeout", "unknown", "", []string{"outbound-path", "server", "return-path"}},
			"84": {"client", "timeout", "client", "proven", []string{"client"}},
		}},
		{"the server's", []string{server}, map[string]want{
			"80": {"server", "established", "none", "proven", []string{}},
			"81": {"server", "refused", "server", "proven", []string{"server"}},
			"82": {"server", "timeout", "server", "proven", []string{"server"}},
			"84": {"server", "timeout", "unknown", "", []string{"return-path", "client"}},
		}},
		// The server host connecting to itself (lo): before, of unknown
		// vantage, port 89's SYNs (its INPUT chain drops them on lo) were
		// "lost on the way out, dropped by the server, or answered and
		// lost on the way back" on a host talking to itself.
		{"the server host's own connections", []string{filepath.Join(dir, "loopback.pcap")}, map[string]want{
			"80": {"server", "established", "none", "proven", []string{}},
			"81": {"server", "refused", "server", "proven", []string{"server"}},
			"89": {"server", "timeout", "server", "proven", []string{"server"}},
		}},
		{"both, joined unasked", []string{client, server}, map[string]want{
			"80": {"both", "established", "none", "proven", []string{}},
			"81": {"both", "refused", "server", "proven", []string{"server"}},
			"82": {"both", "timeout", "server", "proven", []string{"server"}},
			"84": {"both", "timeout", "client", "proven", []string{"client"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, tc.files...)...)
			seen := map[string]bool{}
			eachAttempt(t, stdout, tc.files[0], func(r map[string]any, port, desc string) {
				w, ok := tc.wants[port]
				if !ok {
					t.Errorf("unexpected attempt: %s", desc)
					return
				}
				seen[port] = true
				if r["vantage"] != w.vantage || r["verdict"] != w.verdict || r["where"] != w.where || r["where_confidence"] != w.confidence ||
					!slices.Equal(anyStrings(r["candidates"]), w.candidates) {
					t.Errorf("want %s vantage, %s/%s (%s) among %v: %s (vantage %v)", w.vantage, w.verdict, w.where, w.confidence, w.candidates, desc, r["vantage"])
				}
			})
			for port := range tc.wants {
				if !seen[port] {
					t.Errorf("no attempt to port %s", port)
				}
			}
		})
	}
	// The footer says what told it (its lines wrapped as they fall).
	_, table, _ := runMain("analyze", server)
	if !strings.Contains(strings.Join(strings.Fields(table), " "), "(server side, inferred from the packets' directions and TTLs)") {
		t.Errorf("the footer does not say the server's side was read from directions:\n%s", table)
	}
}

// TestOneLinkCapturesMerged: both hosts' tcpdump -i any merged into one
// file (mergecap), on one link: every packet twice, the same TTL both
// times, as its sender recorded it sent and its receiver received. The
// TTLs cannot tell the two captures apart; before, the file was one
// capture of unknown vantage ("captured twice, counted once": 82 and 84
// unplaced). The directions split it into the two, joined as the two
// files are, whatever the hosts' clocks (the server's shifted 37 s either
// way before merging). A router's or a bridge's own capture records what
// it passes on received, then sent, on one clock, and is not split
// (TestMidPathCapture).
func TestOneLinkCapturesMerged(t *testing.T) {
	client, server, cb := oneLinkCaptures(t)
	sb, err := os.ReadFile(server)
	if err != nil {
		t.Fatal(err)
	}
	key := func(r report.Record) string { return r.Client + " " + r.Server }
	joined := map[string]report.Record{}
	for _, r := range runJSON(t, "--client", client, "--server", server) {
		joined[key(r)] = r
	}
	if len(joined) != 4 {
		t.Fatalf("%d attempts joined, want 4", len(joined))
	}
	for _, shift := range []int32{0, 37, -37} {
		t.Run(fmt.Sprintf("server clock %+d s", shift), func(t *testing.T) {
			shifted := slices.Clone(sb)
			_, recs, _, ok := pcapRecords(shifted)
			if !ok {
				t.Skip("not a little-endian pcap of microseconds")
			}
			for _, r := range recs {
				binary.LittleEndian.PutUint32(r, uint32(int32(binary.LittleEndian.Uint32(r))+shift))
			}
			both := filepath.Join(t.TempDir(), "both.pcap")
			mergeByTime(t, both, cb, shifted)
			got := runJSON(t, both)
			if len(got) != len(joined) {
				t.Fatalf("%d attempts from the merged file, %d joined", len(got), len(joined))
			}
			for _, r := range got {
				w := joined[key(r)]
				if r.Vantage != "both" || r.Verdict != w.Verdict || r.Where != w.Where || r.WhereConfidence != w.WhereConfidence {
					t.Errorf("%s: merged file says %s/%s (%s, vantage %s), the two files %s/%s (%s)", key(r), r.Verdict, r.Where, r.WhereConfidence, r.Vantage, w.Verdict, w.Where, w.WhereConfidence)
				}
				if off := r.ClockOffsetms; off == nil || math.Abs(*off-float64(shift)*1000) > 1000 {
					t.Errorf("%s: clock offset %v ms, want about %d s", key(r), off, shift)
				}
			}
		})
	}
}

// TestOneLinkCapturesMergedOneCut: made to fool the split, the server's
// capture begun late (its first half gone) or stopped early (its second
// half gone) before merging: the merged file gives what the two files
// give, attempt by attempt; those the server's part does not cover are
// judged from the client's alone in both.
func TestOneLinkCapturesMergedOneCut(t *testing.T) {
	client, server, cb := oneLinkCaptures(t)
	key := func(r report.Record) string { return r.Client + " " + r.Server }
	for _, tc := range []struct {
		name string
		keep func(i, n int) bool
	}{
		{"server capture begun late", func(i, n int) bool { return i >= n/2 }},
		{"server capture stopped early", func(i, n int) bool { return i < n/2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cut := rewriteRecords(t, server, "server.pcap", func(recs [][]byte) [][]byte {
				var out [][]byte
				for i, r := range recs {
					if tc.keep(i, len(recs)) {
						out = append(out, r)
					}
				}
				return out
			})
			sb, err := os.ReadFile(cut)
			if err != nil {
				t.Fatal(err)
			}
			joined := map[string]report.Record{}
			for _, r := range runJSON(t, "--client", client, "--server", cut) {
				joined[key(r)] = r
			}
			both := filepath.Join(t.TempDir(), "both.pcap")
			mergeByTime(t, both, cb, sb)
			got := runJSON(t, both)
			if len(got) != len(joined) || len(got) == 0 {
				t.Fatalf("%d attempts from the merged file, %d joined", len(got), len(joined))
			}
			for _, r := range got {
				w, ok := joined[key(r)]
				if !ok || r.Vantage != w.Vantage || r.Verdict != w.Verdict || r.Where != w.Where || r.WhereConfidence != w.WhereConfidence {
					t.Errorf("%s: merged file says %s/%s (%s, vantage %s), the two files %s/%s (%s, vantage %s)", key(r), r.Verdict, r.Where, r.WhereConfidence, r.Vantage, w.Verdict, w.Where, w.WhereConfidence, w.Vantage)
				}
			}
		})
	}
}

// oneLinkCaptures names the onelink lab's client and server captures (CI's
// remade ones when SYNPATH_REMADE_ONELINK says where) and reads the
// client's.
func oneLinkCaptures(t *testing.T) (client, server string, clientBytes []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "onelink")
	if remade := os.Getenv("SYNPATH_REMADE_ONELINK"); remade != "" {
		dir = remade
	}
	client, server = filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	b, err := os.ReadFile(client)
	if err != nil {
		t.Fatal(err)
	}
	return client, server, b
}

package cmd

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cmd/testdata/wrongsource holds real captures made in network namespaces
// (make.sh): the router publishes 192.0.2.80 and DNATs it to the server
// 203.0.113.5, but the server's replies from port 80 skip its connection
// tracking, so they leave untranslated. The client's SYNs to
// 192.0.2.80:80 are answered by SYN-ACKs from 203.0.113.5:80; its kernel
// resets each, resends the SYN, and connect() times out. Port 81 is
// translated both ways.
//
// The client capture alone said "no answer", the SYN-ACKs left out as a
// connection without a SYN; joined, "lost on the way back"; the server's
// capture, "the client no longer wanted the connection", though it kept
// resending its SYN. Now each says what it can prove: the client's, that
// the answers came from another address (so the SYN got there; return
// path or server); the join, that the return path did not translate them
// back (proven); the server's, that the client took none of its SYN-ACKs
// (return path or client host), never that it gave up.
func TestAnswerFromAnotherAddress(t *testing.T) {
	dir := filepath.Join("testdata", "wrongsource")
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	for _, tc := range []struct {
		name                      string
		args                      []string
		where, confidence, origin string
		candidates                []string
		words                     string
	}{
		{"client capture", []string{client}, "unknown", "", "", []string{"return-path", "server"}, "no answer from 192.0.2.80:80; the capture ends 91 µs after the last (the client waited at least 3.0 s, ETIMEDOUT). The answers came from another address: 3 SYN-ACKs acknowledging the SYN came from 203.0.113.5:80"},
		{"server capture", []string{server}, "unknown", "", "client", []string{"return-path", "client"}, "kept resending the same SYN"},
		{"joined", []string{"--client", client, "--server", server}, "return-path", "proven", "", []string{"return-path"}, "but from 203.0.113.5:80, not from 192.0.2.80:80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, stderr := runMain(append([]string{"analyze", "--format", "json", "--with-summary"}, tc.args...)...)
			n := 0
			eachAttempt(t, stdout, tc.args[len(tc.args)-1], func(r map[string]any, port, desc string) {
				n++
				if port == "81" {
					if r["verdict"] != "established" {
						t.Errorf("want established: %s", desc)
					}
					return
				}
				if r["verdict"] != "timeout" || r["where"] != tc.where || r["where_confidence"] != tc.confidence || r["rst_origin"] != tc.origin ||
					!slices.Equal(anyStrings(r["candidates"]), tc.candidates) {
					t.Errorf("want timeout/%s (%s) among %v, RST origin %q: %s", tc.where, tc.confidence, tc.candidates, tc.origin, desc)
				}
				if !strings.Contains(r["explanation"].(string), tc.words) {
					t.Errorf("want %q in the words: %s", tc.words, desc)
				}
				// What the client got from the other address is named, and
				// the Wireshark filter shows it.
				if tc.name != "server capture" && (r["answered_from"] != "203.0.113.5:80" || !strings.Contains(r["wireshark_filter"].(string), "ip.addr==203.0.113.5 ")) {
					t.Errorf("want answered_from 203.0.113.5:80 and a filter showing it (%v, %v): %s", r["answered_from"], r["wireshark_filter"], desc)
				}
			})
			if n != 2 {
				t.Errorf("%d attempts, want 2", n)
			}
			// The SYN-ACKs from the other address are the attempt's, not a
			// connection whose SYN was not captured.
			if tc.name == "client capture" && !strings.Contains(stdout, `"midstream":0`) {
				t.Errorf("want no midstream connection in the summary:\n%s\n%s", stdout, stderr)
			}
		})
	}
}

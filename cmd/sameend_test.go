package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One capture given for both ends: joined with itself, every SYN would
// seem to reach the server and every SYN-ACK the client the moment it was
// sent, and the drops of the path would be the server's or the client's.
// The same file under one name is refused; a copy under another is seen
// by its TTLs for what it is, a second capture of the client's end, and
// judged as such, joined with nothing; a file holding both ends (mergecap)
// is split and joined as when given alone.
func TestOneCaptureForBothEnds(t *testing.T) {
	client, _ := mixedCapture(t)
	code, stdout, stderr := runMain("analyze", "--format", "json", "--client", client, "--server", client)
	if code != 2 || stdout != "" || !strings.Contains(stderr, client) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("the same file for both ends: exit %d, stdout %d bytes, stderr %q; want 2, nothing, one line naming it", code, len(stdout), stderr)
	}
	copied := filepath.Join(t.TempDir(), "copy.pcap")
	b, err := os.ReadFile(client)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copied, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stdout, stderr = runMain("analyze", "--format", "json", "--with-summary", "--client", client, "--server", copied)
	alone := map[string]int{}
	_, clientAlone, _ := runMain("analyze", "--format", "json", client)
	eachAttempt(t, clientAlone, client, func(r map[string]any, port, desc string) {
		alone[fmt.Sprint(r["client"], r["verdict"], r["where"], r["where_confidence"], r["rst_origin"])]++
	})
	n := eachAttempt(t, stdout, copied, func(r map[string]any, port, desc string) {
		if r["vantage"] == "both" {
			t.Errorf("joined with a copy of itself: %s", desc)
		}
		if alone[fmt.Sprint(r["client"], r["verdict"], r["where"], r["where_confidence"], r["rst_origin"])] == 0 {
			t.Errorf("judged otherwise than the client capture alone: %s", desc)
		}
	})
	if n != 540 {
		t.Errorf("%d attempts, want 540: each capture judged alone", n)
	}
	if !strings.Contains(stdout+stderr, "--server was given, but the TTLs say "+copied+" was taken at the client end") {
		t.Errorf("no warning that the TTLs overruled --server:\n%s%s", stdout, stderr)
	}
	both := filepath.Join(scenariosDir(), "merged", "both.pcap")
	_, merged, _ := runMain("analyze", "--format", "json", both)
	_, flagged, _ := runMain("analyze", "--format", "json", "--client", both, "--server", both)
	if merged == "" || flagged != merged {
		t.Errorf("a capture of both ends given for both: output differs from the file given alone")
	}
	if !strings.Contains(merged, `"vantage":"both"`) {
		t.Errorf("the capture of both ends was not joined")
	}
}

// Made to fool the overruling: a host of both roles given as --server
// (a proxy, mostly a client of its backends), whose TTLs say client, is
// another host than the --client capture's: its flag stands. Here the
// mixed scenario's client capture with the client's address rewritten
// to 198.51.100.20 (checksums are not checked).
func TestServerFlagOfAnotherHostStands(t *testing.T) {
	client, _ := mixedCapture(t)
	from, to := []byte{198, 51, 100, 10}, []byte{198, 51, 100, 20}
	other := rewriteFrames(t, client, "other-host.pcap", func(frame []byte) bool {
		if len(frame) >= 34 && frame[12] == 8 && frame[13] == 0 {
			for _, off := range []int{26, 30} {
				if string(frame[off:off+4]) == string(from) {
					copy(frame[off:], to)
				}
			}
		}
		return true
	})
	_, stdout, stderr := runMain("analyze", "--format", "json", "--with-summary", "--client", client, "--server", other)
	if strings.Contains(stderr, "TTLs say") {
		t.Errorf("the flag of another host overruled: %s", stderr)
	}
	for _, r := range jsonLines(t, stdout) {
		if r["type"] != "summary" {
			continue
		}
		for _, f := range r["files"].([]any) {
			if f := f.(map[string]any); f["file"] == other && !strings.HasPrefix(f["vantage"].(string), "server side") {
				t.Errorf("%s judged as %q, want the server side it was given as", other, f["vantage"])
			}
		}
	}
}

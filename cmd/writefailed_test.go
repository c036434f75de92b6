package cmd

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWriteFailedHoldsExactlyTheFailedFrames opens the --write-failed file
// with tshark and finds in it exactly the evidence frames of the failed
// attempts, from both input captures, each under its own interface.
func TestWriteFailedHoldsExactlyTheFailedFrames(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("no tshark")
	}
	client, server := mixedCapture(t)
	out := filepath.Join(t.TempDir(), "failed.pcapng")
	code, stdout, stderr := runMain("analyze", "--format", "json", "--write-failed", out, "--client", client, "--server", server)
	if code != ExitFailed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r struct {
			Type, Verdict string
			Evidence      []struct {
				File   string
				Packet uint64
			}
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Type != "attempt" || r.Verdict == "established" {
			continue
		}
		for _, e := range r.Evidence {
			want = append(want, fmt.Sprintf("%s:%d", filepath.Base(e.File), e.Packet))
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	b, err := exec.Command("tshark", "-r", out, "-T", "fields", "-e", "frame.interface_name", "-e", "frame.packet_id", "-e", "frame.comment").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || !strings.HasPrefix(f[2], "synpath: ") {
			t.Fatalf("frame without its verdict comment: %q", line)
		}
		got = append(got, f[0]+":"+f[1])
	}
	slices.Sort(got)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("%d frames written, want the %d evidence frames of failed attempts", len(got), len(want))
	}
}

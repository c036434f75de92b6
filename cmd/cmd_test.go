package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("hello, not a capture\n"), 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	tests := []struct {
		args []string
		want string // in the one-line error
	}{
		{nil, "no capture given"},
		{[]string{"analyze"}, "no capture given"},
		{[]string{"analyze", "--format", "xml", "x.pcap"}, "--format must be table or json"},
		{[]string{"analyze", "--bogus", "x.pcap"}, "unknown flag: --bogus"},
		{[]string{"analyze", "-", "-"}, "standard input (-) can be read only once"},
		{[]string{"analyze", filepath.Join(dir, "missing.pcap")}, "missing.pcap: no such file"},
		{[]string{"analyze", notCapture}, "notes.txt: not a pcap or pcapng file"},
		{[]string{"analyze", empty}, "empty.pcap: empty file"},
		{[]string{"analyze", "-"}, "stdin: empty file"},
		{[]string{"live"}, "no interface given"},
		{[]string{"live", "-i", "eth0", "--side", "middle"}, "--side must be client or server"},
		{[]string{"live", "-i", "eth0", "x.pcap"}, "capture files go to synpath analyze"},
		{[]string{"live", "-i", "synpath-no-such0"}, "no interface synpath-no-such0 (interfaces: "},
		{[]string{"live", "-i", "eth0", "tcp[13] & 2 != 0"}, `"tcp[13]" is not supported`},
		{[]string{"live", "-i", "eth0", "--filter", "tcp", "port 80"}, "a filter given both as --filter and as arguments"},
		{[]string{"analyze", "--filter", "vlan", "x.pcap"}, `"vlan" is not supported`},
	}
	for _, tt := range tests {
		code, _, stderr := runMain(tt.args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tt.args, code, ExitUsage)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if !strings.HasPrefix(last, "synpath: ") || !strings.Contains(last, tt.want) {
			t.Errorf("%v: stderr %q, want a line 'synpath: …%s…'", tt.args, stderr, tt.want)
		}
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
			t.Errorf("%v: stack trace on stderr", tt.args)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}} {
		code, out, _ := runMain(args...)
		if code != ExitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "synpath analyze") {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
	}
	// Help is output: on stdout, exit 0, for every command.
	for _, args := range [][]string{{"analyze", "--help"}, {"analyze", "-h"}, {"live", "--help"}} {
		code, out, stderr := runMain(args...)
		if code != ExitOK || !strings.Contains(out, "--syn-timeout") || !strings.Contains(out, "Usage: synpath "+args[0]) || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
	code, out, _ := runMain("version")
	if code != ExitOK || !strings.HasPrefix(out, "synpath ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestFailedOnlyFiltersJSON(t *testing.T) {
	f := filepath.Join(scenariosDir(), "refused", "client.pcap")
	if _, err := os.Stat(f); err != nil {
		t.Skip("no lab scenario")
	}
	_, all, _ := runMain("analyze", "--format", "json", f)
	code, failed, _ := runMain("analyze", "--format", "json", "--failed", f)
	if code != ExitFailed || strings.Count(all, "\n") != 3 || strings.Count(failed, "\n") != 2 || strings.Contains(failed, `"established"`) {
		t.Errorf("exit %d; all:\n%s\nfailed only:\n%s", code, all, failed)
	}
}

func TestRowsBoundTheTableNotTheSummary(t *testing.T) {
	f := filepath.Join(scenariosDir(), "mixed", "client.pcap")
	if _, err := os.Stat(f); err != nil {
		t.Skip("no lab scenario")
	}
	_, out, _ := runMain("analyze", "--ascii", "--rows", "5", f)
	if !strings.Contains(out, "265 more attempts not listed") || !strings.Contains(out, "203.0.113.5:80 | 30 ") {
		t.Errorf("table with --rows 5:\n%s", out)
	}
	if strings.Contains(out, "#6 ") {
		t.Error("explanations of unlisted attempts are printed")
	}
}

package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStandardInputCountsItsAttempts: a capture read from standard input
// ("-", as a fleet's pipeline feeds it: zcat x.pcap.gz | synpath analyze
// -) is summed up as the same file read by name is. Its packets are named
// "stdin", and the summary matched attempts to files by the name given:
// "attempts":0 and "vantage unknown: no attempts", alone and joined.
func TestStandardInputCountsItsAttempts(t *testing.T) {
	dir := filepath.Join("..", "testdata", "scenarios", "clock-skew")
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	raw, err := os.ReadFile(client)
	if err != nil {
		t.Skip(err)
	}
	type file struct {
		File, Vantage string
		Attempts      int
	}
	summary := func(stdin []byte, args ...string) []file {
		t.Helper()
		var out, errb bytes.Buffer
		Main(context.Background(), append([]string{"analyze", "--format", "json", "--with-summary"}, args...), bytes.NewReader(stdin), &out, &errb)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var s struct{ Files []file }
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
			t.Fatalf("%v: %s (stderr %q)", err, lines[len(lines)-1], errb.String())
		}
		return s.Files
	}
	for _, tc := range []struct {
		name           string
		byName, byPipe []string
	}{
		{"alone", []string{client}, []string{"-"}},
		{"joined", []string{"--client", client, "--server", server}, []string{"--client", "-", "--server", server}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, got := summary(nil, tc.byName...), summary(raw, tc.byPipe...)
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("files %+v, want %+v", got, want)
			}
			for i := range want {
				if want[i].File == client {
					want[i].File = "-"
				}
				if got[i] != want[i] {
					t.Errorf("file %d: %+v, want %+v", i, got[i], want[i])
				}
			}
			if want[0].Attempts == 0 {
				t.Errorf("no attempts in %s: the test no longer sees any", client)
			}
		})
	}
}

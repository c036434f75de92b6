package cmd

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/synpath/synpath/internal/capgen"
)

// TestGeneratedMix judges a small realistic mix (internal/capgen, what
// bench/mix.sh measures) and holds the verdict counts to the generator's
// truth, from the client's capture alone and joined with the server's.
func TestGeneratedMix(t *testing.T) {
	var c, s bytes.Buffer
	truth, err := capgen.WriteMix(&c, &s, capgen.MixConfig{N: 1500, Rate: 500, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range truth.Kinds {
		if n == 0 {
			t.Fatalf("no %s connection in the mix", capgen.Kind(k))
		}
	}
	if per := float64(truth.ClientPackets) / float64(truth.Connections); per < 8 || per > 10 {
		t.Errorf("%.1f packets per connection, want about 9", per)
	}
	dir := t.TempDir()
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	if err := os.WriteFile(client, c.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(server, s.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want := truth.Verdicts()
	// One core: attempts are judged as read, not on the writing goroutine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var outs []string
	for i, args := range [][]string{{client}, {"--client", client, "--server", server}, {client}} {
		runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
		if i == 2 {
			runtime.GOMAXPROCS(1)
		}
		_, out, stderr := runMain(append([]string{"analyze", "--format", "json", "--with-summary"}, args...)...)
		outs = append(outs, out)
		recs := jsonLines(t, out)
		if len(recs) == 0 {
			t.Fatalf("%v: no output; stderr %q", args, stderr)
		}
		sum := recs[len(recs)-1]
		got := sum["verdicts"].(map[string]any)
		if len(got) != len(want) {
			t.Errorf("%v: verdicts %v, want %v", args, got, want)
		}
		for v, n := range want {
			if g, _ := got[v].(float64); int(g) != n {
				t.Errorf("%v: %d %s, want %d", args, int(g), v, n)
			}
		}
		// The stale connections are named so, and joined, the client's
		// RSTs missing from the server's capture place them.
		stale, where := 0, "unknown"
		if i == 1 {
			where = "outbound-path"
		}
		for _, r := range recs {
			if r["cause"] == "stale-connection" {
				stale++
				if r["where"] != where {
					t.Errorf("%v: a stale connection at %v, want %s: %v", args, r["where"], where, r["explanation"])
				}
			}
		}
		if stale != truth.Kinds[capgen.KindStale] {
			t.Errorf("%v: %d stale connections, want %d", args, stale, truth.Kinds[capgen.KindStale])
		}
	}
	if outs[0] != outs[2] {
		t.Error("judged on the reading goroutine (one core), the JSON differs")
	}
	// Gzip'd, inflated ahead on a goroutine of its own: the same lines.
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(c.Bytes())
	zw.Close()
	gz := filepath.Join(dir, "client.pcap.gz")
	if err := os.WriteFile(gz, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ := runMain("analyze", "--format", "json", "--with-summary", gz)
	if strings.ReplaceAll(out, gz, client) != outs[0] {
		t.Error("gzip'd, the JSON differs")
	}
}

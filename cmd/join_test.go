package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/capgen"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// batchJoin is the join of whole captures: every attempt of both read
// first, then verdict.Join, as analyze did before it streamed.
func batchJoin(t *testing.T, client, server []byte, clientName, serverName string) string {
	t.Helper()
	side := func(name string, b []byte) verdict.Side {
		var sd verdict.Side
		tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) { sd.Attempts = append(sd.Attempts, a.Clone()) })
		rd, err := capture.NewReader(name, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var p capture.Packet
		for rd.Next(&p) == nil {
			tr.Observe(&p)
		}
		st := rd.Stats()
		tr.Advance(st.Last)
		tr.Finish()
		sd.First, sd.Last = st.First, st.Last
		sd.Coverage = []verdict.Span{{First: st.First, Last: st.Last}}
		return sd
	}
	results, _ := verdict.Join(side(clientName, client), side(serverName, server), verdict.JoinConfig{})
	var out bytes.Buffer
	jw := report.NewJSONWriter(&out)
	for i := range results {
		if err := jw.Write(&results[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

// TestStreamedJoinIsBatchJoin: captures several windows long, joined as
// they are read (at once, or one after the other when one is standard
// input), give the verdicts of a join of the whole captures, in the same
// order.
func TestStreamedJoinIsBatchJoin(t *testing.T) {
	var c, s bytes.Buffer
	if _, err := capgen.WriteMix(&c, &s, capgen.MixConfig{N: 3000, Rate: 10, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	if err := os.WriteFile(client, c.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(server, s.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("read at once", func(t *testing.T) {
		want := batchJoin(t, c.Bytes(), s.Bytes(), client, server)
		_, got, stderr := runMain("analyze", "--format", "json", "--client", client, "--server", server)
		sameLines(t, got, want, stderr)
	})
	t.Run("sides told the wrong way round", func(t *testing.T) {
		want := batchJoin(t, c.Bytes(), s.Bytes(), client, server)
		_, got, stderr := runMain("analyze", "--format", "json", "--client", server, "--server", client)
		sameLines(t, got, want, stderr)
		if !strings.Contains(stderr, "look swapped") {
			t.Errorf("no warning that --client and --server look swapped: %q", stderr)
		}
	})
	t.Run("sides told by the TTLs", func(t *testing.T) {
		want := batchJoin(t, c.Bytes(), s.Bytes(), client, server)
		_, got, stderr := runMain("analyze", "--format", "json", server, client)
		sameLines(t, got, want, stderr)
	})
	t.Run("one after the other", func(t *testing.T) {
		want := batchJoin(t, c.Bytes(), s.Bytes(), "stdin", server)
		var out, errb bytes.Buffer
		Main(context.Background(), []string{"analyze", "--format", "json", "--client", "-", "--server", server}, bytes.NewReader(c.Bytes()), &out, &errb)
		sameLines(t, out.String(), want, errb.String())
	})
}

func sameLines(t *testing.T, got, want, stderr string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			t.Fatalf("line %d of %d differs from the batch join's (stderr %q):\n got %s\nwant %s", i+1, len(w), stderr, g[i], w[i])
		}
	}
	t.Fatalf("%d lines, the batch join gives %d (stderr %q)", len(g), len(w), stderr)
}

// TestStreamedJoinRefillsItsChunks: on captures long enough that the join
// fills the chunks it keeps attempts in again (once the writer is done
// with the attempts they held), every line is still the batch join's. Run
// with -race, it checks that no chunk is filled while being judged.
func TestStreamedJoinRefillsItsChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("a mix of 12,000 connections")
	}
	var c, s bytes.Buffer
	if _, err := capgen.WriteMix(&c, &s, capgen.MixConfig{N: 12000, Rate: 40, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	if err := os.WriteFile(client, c.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(server, s.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want := batchJoin(t, c.Bytes(), s.Bytes(), client, server)
	_, got, stderr := runMain("analyze", "--format", "json", "--client", client, "--server", server)
	sameLines(t, got, want, stderr)
}

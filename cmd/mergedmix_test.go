package cmd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/synpath/synpath/internal/capgen"
)

// TestLargeMergedFileIsJoined: a client and a server capture merged in
// one file (mergecap) of thousands of attempts is still told apart and
// joined, though its peek stops at the first few hundred attempts; and
// the join gives what the two files give.
func TestLargeMergedFileIsJoined(t *testing.T) {
	var c, s bytes.Buffer
	truth, err := capgen.WriteMix(&c, &s, capgen.MixConfig{N: 3000, Rate: 500, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	client, server, both := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap"), filepath.Join(dir, "both.pcap")
	for name, b := range map[string][]byte{client: c.Bytes(), server: s.Bytes()} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mergeByTime(t, both, c.Bytes(), s.Bytes())

	merged := runJSON(t, both)
	joined := runJSON(t, "--client", client, "--server", server)
	if len(merged) != truth.Connections || len(joined) != truth.Connections {
		t.Fatalf("%d attempts from the merged file, %d joined, want %d", len(merged), len(joined), truth.Connections)
	}
	for i := range merged {
		if merged[i].Vantage != "both" || merged[i].Verdict != joined[i].Verdict || merged[i].Where != joined[i].Where {
			t.Fatalf("attempt %d: merged file says %s/%s (%s), the two files %s/%s", i, merged[i].Verdict, merged[i].Where, merged[i].Vantage, joined[i].Verdict, joined[i].Where)
		}
	}
}

// mergeByTime writes the records of two pcaps in time order, as mergecap
// does.
func mergeByTime(t *testing.T, out string, a, b []byte) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ra, err := pcapgo.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(65535, ra.LinkType()); err != nil {
		t.Fatal(err)
	}
	da, ca, ea := ra.ReadPacketData()
	db, cb, eb := rb.ReadPacketData()
	for ea == nil || eb == nil {
		if eb != nil || (ea == nil && !cb.Timestamp.Before(ca.Timestamp)) {
			if err := w.WritePacket(ca, da); err != nil {
				t.Fatal(err)
			}
			da, ca, ea = ra.ReadPacketData()
		} else {
			if err := w.WritePacket(cb, db); err != nil {
				t.Fatal(err)
			}
			db, cb, eb = rb.ReadPacketData()
		}
	}
	if ea != io.EOF || eb != io.EOF {
		t.Fatalf("reading the captures to merge: %v, %v", ea, eb)
	}
}

package cmd

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/capgen"
	"github.com/synpath/synpath/verdict"
)

// BenchmarkPipeline reads, decodes, tracks and judges a synthetic client
// capture held in memory: the whole job but output.
// Two shapes: a capture of handshakes (7 packets an attempt) and a capture
// of busy connections (200 data segments each), where per-packet cost rules.
func BenchmarkPipeline(b *testing.B) {
	b.Run("handshakes", func(b *testing.B) { benchPipeline(b, 20000, capgen.DefaultMix) })
	b.Run("bulk", func(b *testing.B) { benchPipeline(b, 500, capgen.BulkMix) })
}

func benchPipeline(b *testing.B, attempts int, mix capgen.Mix) {
	var file bytes.Buffer
	packets, err := capgen.Write(&file, attempts, mix)
	if err != nil {
		b.Fatal(err)
	}
	data := file.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	judged := 0
	for b.Loop() {
		rd, err := capture.NewReader("bench.pcap", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) {
			r := verdict.Judge(a, verdict.InferVantage(a), verdict.Config{})
			judged += len(r.Evidence)
		})
		var p capture.Packet
		for {
			if err := rd.Next(&p); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			tr.Observe(&p)
		}
		tr.Finish()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*packets), "ns/packet")
	if judged == 0 {
		b.Fatal("nothing judged")
	}
}

// BenchmarkAnalyzeMix runs `synpath analyze` end to end (open, read, track,
// judge, write) on a realistic mix (capgen.WriteMix) written to a file, the
// output going to /dev/null through write(2) as a shell's would. It
// reports allocations per attempt, where judging and writing cost most.
func BenchmarkAnalyzeMix(b *testing.B) {
	const conns = 5000
	var c, srv bytes.Buffer
	truth, err := capgen.WriteMix(&c, &srv, capgen.MixConfig{N: conns, Rate: 1000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	// Busy connections: 200 data segments each, where anything spent per
	// packet shows.
	var bulk bytes.Buffer
	bulkPackets, err := capgen.Write(&bulk, 500, capgen.BulkMix)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	file, server, gz, bulkFile := filepath.Join(dir, "mix.pcap"), filepath.Join(dir, "server.pcap"), filepath.Join(dir, "mix.pcap.gz"), filepath.Join(dir, "bulk.pcap")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(c.Bytes())
	zw.Close()
	for name, data := range map[string][]byte{file: c.Bytes(), server: srv.Bytes(), gz: zipped.Bytes(), bulkFile: bulk.Bytes()} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	for _, run := range []struct {
		name     string
		args     []string
		packets  int
		attempts int
	}{
		{"json", []string{"--format", "json", file}, truth.ClientPackets, conns},
		{"table", []string{file}, truth.ClientPackets, conns},
		{"gzip", []string{"--format", "json", gz}, truth.ClientPackets, conns},
		{"join", []string{"--format", "json", "--client", file, "--server", server}, truth.ClientPackets + truth.ServerPackets, conns},
		{"bulk", []string{"--format", "json", bulkFile}, bulkPackets, 500},
	} {
		b.Run(run.name, func(b *testing.B) {
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				if code := Main(context.Background(), append([]string{"analyze"}, run.args...), strings.NewReader(""), devnull, io.Discard); code > 1 {
					b.Fatalf("exit %d", code)
				}
			}
			runtime.ReadMemStats(&after)
			allocs := float64(after.Mallocs - before.Mallocs)
			b.ReportMetric(allocs/float64(b.N*run.attempts), "allocs/attempt")
			b.ReportMetric(allocs/float64(b.N*run.packets), "allocs/packet")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*run.packets), "ns/packet")
		})
	}
}

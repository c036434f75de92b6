package cmd

import (
	"bytes"
	"io"
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

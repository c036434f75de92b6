package flows

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/internal/capgen"
)

// BenchmarkTrackMix tracks the realistic mix bench/mix.sh measures by
// default (capgen.WriteMix, 36,000 connections over 36 s: short
// connections, failures of every kind, ~9 packets each) decoded in memory
// beforehand: the tracker's own cost per packet, which sets a run's pace
// (it is the one stage every packet waits for). Attempts are handed over
// and given back at once, as a judge that keeps up would.
func BenchmarkTrackMix(b *testing.B) {
	var client bytes.Buffer
	truth, err := capgen.WriteMix(&client, io.Discard, capgen.MixConfig{N: 36000, Rate: 1000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	rd, err := capture.NewReader("mix.pcap", &client)
	if err != nil {
		b.Fatal(err)
	}
	packets := make([]capture.Packet, 0, truth.ClientPackets)
	for {
		var p capture.Packet
		if err := rd.Next(&p); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		packets = append(packets, p)
	}
	b.ReportAllocs()
	handed := 0
	// The machine may be shared: this thread's CPU time, beside the wall
	// time, is what others' load leaves alone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	for b.Loop() {
		cfg := DefaultConfig
		cfg.HandOver = func(a *Attempt) *Attempt { handed++; return a }
		tr := NewTracker(cfg, nil)
		for i := range packets {
			tr.Observe(&packets[i])
		}
		tr.Finish()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(packets)), "ns/packet")
	b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N*len(packets)), "cpu-ns/packet")
	if handed < b.N*truth.Connections {
		b.Fatalf("%d attempts handed over, want %d a run", handed/b.N, truth.Connections)
	}
}

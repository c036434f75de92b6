package cmd

import (
	"context"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// BenchmarkJoinPair joins a pair of captures given by SYNPATH_JOIN_PAIR
// (the path before .client.pcap and .server.pcap, as bench/mix.sh names
// them), output to /dev/null: what `go test -cpuprofile` profiles on
// captures longer than the join's window, which the generated ones of
// BenchmarkAnalyzeMix are not. With SYNPATH_HEAP_AFTER (a duration), it
// writes the live heap at that point of the first run to
// SYNPATH_HEAP_PROFILE.
func BenchmarkJoinPair(b *testing.B) {
	pair := os.Getenv("SYNPATH_JOIN_PAIR")
	if pair == "" {
		b.Skip("SYNPATH_JOIN_PAIR not set")
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	if after, err := time.ParseDuration(os.Getenv("SYNPATH_HEAP_AFTER")); err == nil {
		go func() {
			time.Sleep(after)
			f, err := os.Create(os.Getenv("SYNPATH_HEAP_PROFILE"))
			if err != nil {
				return
			}
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
		}()
	}
	args := []string{"analyze", "--format", "json", "--client", pair + ".client.pcap", "--server", pair + ".server.pcap"}
	b.ReportAllocs()
	for b.Loop() {
		if code := Main(context.Background(), args, strings.NewReader(""), devnull, io.Discard); code > 1 {
			b.Fatalf("exit %d", code)
		}
	}
}

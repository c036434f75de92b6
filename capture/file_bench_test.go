package capture

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReaderNextFile reads a capture file on disk with Next, through
// read(2) and the read buffer (bufio), and for comparison from memory,
// what reading costs without the file (memory): an op is a packet handed
// on, ns/record counts the others too; opening and closing the file are
// included. SYNPATH_BENCH_FILE names a capture to read instead of the
// generated one (the 100 MB mix of bench/mix.sh is the realistic one).
func BenchmarkReaderNextFile(b *testing.B) {
	name := os.Getenv("SYNPATH_BENCH_FILE")
	if name == "" {
		name = filepath.Join(b.TempDir(), "bench.pcap")
		if err := os.WriteFile(name, trafficPcap(benchPackets/5), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	open := func() (*Reader, error) {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		r, err := NewReaderOptions(name, f, ReaderOptions{})
		if err != nil {
			f.Close()
			return nil, err
		}
		r.closer = f
		return r, nil
	}
	b.Run("bufio", func(b *testing.B) { benchFile(b, open) })
	b.Run("memory", func(b *testing.B) {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		benchFile(b, func() (*Reader, error) { return NewReader(name, bytes.NewReader(data)) })
	})
}

// benchFile reads the file open opens over and over.
func benchFile(b *testing.B, open func() (*Reader, error)) {
	b.ReportAllocs()
	var p Packet
	var r *Reader
	var records uint64
	for b.Loop() {
		if r == nil {
			var err error
			if r, err = open(); err != nil {
				b.Fatal(err)
			}
		}
		if err := r.Next(&p); err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			records += r.Stats().Packets
			r.Close()
			r = nil
		}
	}
	if r != nil {
		records += r.Stats().Packets
		r.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
}

// BenchmarkTimeOrderWalk is the pass over a file's record headers that
// finds whether its records lie in time order (timeorder.go), on one core
// and on two; ns/record is per record. Like BenchmarkReaderNextFile it
// reads SYNPATH_BENCH_FILE, else a generated file.
func BenchmarkTimeOrderWalk(b *testing.B) {
	name := os.Getenv("SYNPATH_BENCH_FILE")
	if name == "" {
		name = filepath.Join(b.TempDir(), "bench.pcap")
		if err := os.WriteFile(name, trafficPcap(benchPackets/5), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	again := func(off int64) io.Reader { return io.NewSectionReader(f, off, st.Size()-off) }
	records := 0
	if src, err := openSource(again(0)); err == nil {
		records = int(timeRuns(src)[0].To)
	}
	for _, cores := range []int{1, 2} {
		b.Run(fmt.Sprintf("cores=%d", cores), func(b *testing.B) {
			size := st.Size()
			if cores == 1 {
				size = 0 // not split
			}
			for b.Loop() {
				if runs := timeOrder(again, size); runs != nil {
					b.Fatalf("read in %d runs", len(runs))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(records), "ns/record")
		})
	}
}

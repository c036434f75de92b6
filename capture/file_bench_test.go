package capture

import (
	"bytes"
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

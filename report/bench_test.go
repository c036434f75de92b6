package report

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/capgen"
	"github.com/synpath/synpath/verdict"
)

// mixConns is how many connections the benchmark mix holds.
const mixConns = 5000

// mixSet holds the verdicts of a realistic mix (capgen.WriteMix), judged
// once per test binary: from the client capture alone, and joined with
// the server's (NAT-free, but with server counters and clock offsets).
var mixSet = sync.OnceValues(func() (mix, joined []verdict.Result) {
	var c, s bytes.Buffer
	if _, err := capgen.WriteMix(&c, &s, capgen.MixConfig{N: mixConns, Rate: 1000, Seed: 1}); err != nil {
		panic(err)
	}
	client, server := trackAll("client.pcap", c.Bytes()), trackAll("server.pcap", s.Bytes())
	for _, a := range client {
		mix = append(mix, verdict.Judge(a, verdict.InferVantage(a), verdict.Config{}))
	}
	joined, _ = verdict.Join(verdict.Side{Attempts: client}, verdict.Side{Attempts: server}, verdict.JoinConfig{})
	return mix, joined
})

// trackAll reads a capture held in memory and keeps every attempt.
func trackAll(name string, data []byte) []*flows.Attempt {
	rd, err := capture.NewReader(name, bytes.NewReader(data))
	if err != nil {
		panic(err)
	}
	var out []*flows.Attempt
	tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) { out = append(out, a.Clone()) })
	var p capture.Packet
	for {
		if err := rd.Next(&p); err == io.EOF {
			break
		} else if err != nil {
			panic(err)
		}
		tr.Observe(&p)
	}
	tr.Finish()
	return out
}

// BenchmarkJSONWrite writes the client-side verdicts of the mix as JSON
// Lines: the per-record cost of --format json.
func BenchmarkJSONWrite(b *testing.B) {
	rs, _ := mixSet()
	var n countWriter
	jw := NewJSONWriter(&n)
	for i := range rs {
		jw.Write(&rs[i])
	}
	b.SetBytes(n.n) // MB/s is output written
	b.ReportAllocs()
	jw = NewJSONWriter(io.Discard)
	allocs := testing.AllocsPerRun(1, func() {
		for i := range rs {
			jw.Write(&rs[i])
		}
	})
	for b.Loop() {
		for i := range rs {
			if err := jw.Write(&rs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	perRecord(b, len(rs), allocs)
	b.ReportMetric(float64(n.n)/float64(len(rs)), "B/record")
}

// BenchmarkTableAdd adds the client-side verdicts of the mix to a table:
// the per-attempt cost of --format table before rendering. steady: a
// table that has seen them (full sample, a row for every key); fresh: a
// new table each pass.
func BenchmarkTableAdd(b *testing.B) {
	rs, _ := mixSet()
	fill := func(t *Table) {
		for i := range rs {
			t.Add(rs[i])
		}
	}
	b.Run("steady", func(b *testing.B) {
		b.ReportAllocs()
		tbl := &Table{}
		fill(tbl)
		allocs := testing.AllocsPerRun(1, func() { fill(tbl) })
		for b.Loop() {
			fill(tbl)
		}
		perRecord(b, len(rs), allocs)
	})
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		allocs := testing.AllocsPerRun(1, func() { fill(&Table{}) })
		for b.Loop() {
			fill(&Table{})
		}
		perRecord(b, len(rs), allocs)
	})
}

// perRecord reports the loop's time and the allocations of one pass over
// the set per record. The benchmark's own allocs/op counts a whole pass.
func perRecord(b *testing.B, n int, allocs float64) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(allocs/float64(n), "allocs/record")
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

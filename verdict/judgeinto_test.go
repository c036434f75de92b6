package verdict

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/capgen"
)

// Judging attempt after attempt into one reused Result: what it costs, and
// that reuse never lets one attempt's result show through in the next.

// sample is an attempt and the vantage it is judged at.
type sample struct {
	a *flows.Attempt
	v Vantage
}

// mixSamples are the attempts of a realistic mix (capgen.WriteMix: 5000
// connections, a failure of every kind among them) as its client and its
// server capture hold them, each at the vantage its TTLs say, as analyze
// judges a capture given without one.
var mixSamples = sync.OnceValues(func() ([2][]sample, error) {
	var c, s bytes.Buffer
	if _, err := capgen.WriteMix(&c, &s, capgen.MixConfig{N: 5000, Rate: 1000, Seed: 1}); err != nil {
		return [2][]sample{}, err
	}
	var sides [2][]sample
	for i, data := range []*bytes.Buffer{&c, &s} {
		rd, err := capture.NewReader("mix.pcap", data)
		if err != nil {
			return sides, err
		}
		as, err := readAttempts(rd)
		if err != nil {
			return sides, err
		}
		for _, a := range as {
			sides[i] = append(sides[i], sample{a, InferVantage(a)})
		}
	}
	return sides, nil
})

// readAttempts tracks a capture and returns the attempts handed on.
func readAttempts(rd *capture.Reader) ([]*flows.Attempt, error) {
	var out []*flows.Attempt
	tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) { out = append(out, a.Clone()) })
	var p capture.Packet
	for {
		err := rd.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		tr.Observe(&p)
	}
	tr.Finish()
	return out, nil
}

func mix(tb testing.TB) (client, server []sample) {
	tb.Helper()
	sides, err := mixSamples()
	if err != nil {
		tb.Fatal(err)
	}
	return sides[0], sides[1]
}

// BenchmarkJudge judges the mix's attempts one after the other, as a
// capture's are handed on: reusing one Result (JudgeInto), and with a fresh
// one each (Judge).
func BenchmarkJudge(b *testing.B) {
	client, server := mix(b)
	for _, side := range []struct {
		name string
		set  []sample
	}{{"client", client}, {"server", server}} {
		b.Run(side.name+"/reuse", func(b *testing.B) {
			var r Result
			benchJudge(b, side.set, func(s sample) { JudgeInto(&r, s.a, s.v, Config{}) })
		})
		b.Run(side.name+"/fresh", func(b *testing.B) {
			benchJudge(b, side.set, func(s sample) { _ = Judge(s.a, s.v, Config{}) })
		})
	}
}

// BenchmarkJudgeCold is BenchmarkJudge/*/reuse with the attempts out of
// the cache, as in analyze, where the tracker on another core has just
// written each: the mix's attempts cloned to far more than the caches
// hold and judged in a shuffled order, so that each attempt's memory is
// met cold. What judging costs there is mostly the cache lines of the
// attempt and its events it touches.
func BenchmarkJudgeCold(b *testing.B) {
	client, server := mix(b)
	var set []sample
	for range 5 {
		for _, s := range slices.Concat(client, server) {
			set = append(set, sample{s.a.Clone(), s.v})
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(set), func(i, j int) { set[i], set[j] = set[j], set[i] })
	var r Result
	benchJudge(b, set, func(s sample) { JudgeInto(&r, s.a, s.v, Config{}) })
}

func benchJudge(b *testing.B, set []sample, judge func(sample)) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		for _, s := range set {
			judge(s)
		}
	}
	runtime.ReadMemStats(&after)
	n := float64(b.N * len(set))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/attempt")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/attempt")
}

// TestJudgeIntoAllocs holds judging into a reused Result to one allocation
// per attempt (the string its words are cut from), over the mix.
func TestJudgeIntoAllocs(t *testing.T) {
	client, server := mix(t)
	set := slices.Concat(client, server)
	var r Result
	allocs := testing.AllocsPerRun(3, func() {
		for _, s := range set {
			JudgeInto(&r, s.a, s.v, Config{})
		}
	})
	if per := allocs / float64(len(set)); per > 1 {
		t.Errorf("JudgeInto into a reused Result: %.2f allocations per attempt, want at most 1", per)
	}
}

// TestJudgeIntoReuse judges attempts one after the other into one Result,
// at every vantage, and holds each result to a fresh Judge of the same
// attempt: reuse must not leave a field of an earlier attempt behind.
func TestJudgeIntoReuse(t *testing.T) {
	client, server := mix(t)
	sets := map[string][]*flows.Attempt{}
	for _, s := range slices.Concat(client, server) {
		sets["mix"] = append(sets["mix"], s.a)
	}
	// The lab's captures, which the golden tests judge.
	files, _ := filepath.Glob("../testdata/scenarios/*/*")
	more, _ := filepath.Glob("../capture/testdata/*.pcap")
	for _, f := range append(files, more...) {
		if !strings.Contains(filepath.Base(f), ".pcap") {
			continue
		}
		rd, err := capture.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		as, err := readAttempts(rd)
		rd.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sets[f] = as
	}
	if len(sets) < 40 {
		t.Fatalf("only %d captures found", len(sets))
	}
	quick := Config{SYNTimeout: 300 * time.Millisecond, StallAfter: 300 * time.Millisecond, AnswerWait: 100 * time.Millisecond}
	r := stale()
	for name, as := range sets {
		for _, a := range as {
			for _, v := range []Vantage{InferVantage(a), VantageClient, VantageServer, VantageUnknown} {
				for _, cfg := range []Config{{}, quick} {
					JudgeInto(&r, a, v, cfg)
					if diff := differ(r, Judge(a, v, cfg)); diff != nil {
						t.Fatalf("%s: attempt %s isn %d at vantage %s: JudgeInto into a used Result differs from Judge in %v",
							name, a.Key.Client, a.ISN, v, diff)
					}
				}
			}
		}
	}
}

// TestJudgeIntoOverwritesAll judges into a Result whose every field, and
// every field of its evidence, is set.
func TestJudgeIntoOverwritesAll(t *testing.T) {
	r := stale()
	for _, v := range []reflect.Value{reflect.ValueOf(r), reflect.ValueOf(r.Evidence[0])} {
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && v.Field(i).IsZero() {
				t.Errorf("stale leaves %s.%s zero: set it, so that reuse is tested for it", v.Type().Name(), f.Name)
			}
		}
	}
	client, server := mix(t)
	for _, s := range slices.Concat(client[:100], server[:100]) {
		r := stale()
		JudgeInto(&r, s.a, s.v, Config{})
		if diff := differ(r, Judge(s.a, s.v, Config{})); diff != nil {
			t.Fatalf("JudgeInto into a used Result differs from Judge in %v", diff)
		}
	}
}

// stale returns a Result every field of which holds something, as does
// every field of its evidence, longer than any attempt's.
func stale() Result {
	old := time.Unix(7, 0)
	ev := Evidence{Ref: capture.Ref{File: "stale.pcap", N: 7, TS: old, Iface: 7}, What: "stale", FromClient: true, TTL: 7, Len: 7,
		Side: VantageBoth, At: old, Pair: 7, Lost: true}
	r := Result{
		Client: netip.MustParseAddrPort("192.0.2.1:1"), Server: netip.MustParseAddrPort("192.0.2.2:2"),
		Tunnel: capture.Tunnel{Kind: capture.TunnelVXLAN, ID: 7}, ISN: 7,
		Verdict: Stalled, Where: Client, Candidates: []Place{Client, Server, ReturnPath, OutboundPath},
		WhereSure: Proven, Cause: CauseDNS, FellBackTo: netip.MustParseAddrPort("192.0.2.99:1"), AnsweredFrom: netip.MustParseAddrPort("192.0.2.98:1"), SNI: "stale.example", HTTPHost: "stale.example", HTTPStatus: 503,
		DNS:       &Lookup{Name: "stale.example", Stale: true},
		RSTOrigin: OriginPath, OriginSure: Likely, ICMP: "stale", Vantage: VantageBoth,
		FirstSYN: old, SYNSent: 7, SYNSeenByServer: 7, SYNACKSent: 7, SYNACKSeenByClient: 7, RTT: 7,
		ClockOffset: 7, ClockError: 7, HasClockOffset: true,
		ClientSeenByServer: netip.MustParseAddrPort("192.0.2.3:3"), ServerSeenByServer: netip.MustParseAddrPort("192.0.2.4:4"),
		ClientSeenByClient: netip.MustParseAddrPort("192.0.2.5:5"), ServerSeenByClient: netip.MustParseAddrPort("192.0.2.6:6"),
		Partial: true, OneWay: true, Match: "stale", Explanation: "stale", Settle: "stale",
	}
	for range flows.MaxEvents + 1 {
		r.Evidence = append(r.Evidence, ev)
	}
	return r
}

// differ names the fields in which two results differ, nil if none. Their
// space for words is no part of them.
func differ(got, want Result) []string {
	got.w, want.w = nil, nil
	if reflect.DeepEqual(got, want) {
		return nil
	}
	var diff []string
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		if f := g.Type().Field(i); f.IsExported() && !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			diff = append(diff, f.Name)
		}
	}
	return diff
}

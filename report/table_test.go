package report

import (
	"bytes"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/verdict"
)

// genResult makes the i-th of many attempts: 5000 servers, a new client
// port each time over 250,000 client hosts, a verdict mix, an hour long.
func genResult(i int, ev []verdict.Evidence) verdict.Result {
	vs := []verdict.Verdict{verdict.Established, verdict.Established, verdict.Established, verdict.Timeout, verdict.Refused, verdict.Established, verdict.Stalled}
	t0 := time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)
	c := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	s := netip.AddrFrom4([4]byte{203, 0, byte(i % 5000 / 250), byte(i % 250)})
	return verdict.Result{
		Client: netip.AddrPortFrom(c, uint16(i)), Server: netip.AddrPortFrom(s, 443), ISN: uint32(i),
		Verdict: vs[i%len(vs)], Where: verdict.Unknown, FirstSYN: t0.Add(time.Duration(i) * 3600 * time.Millisecond / 1000),
		SYNSent: 1, SYNSeenByServer: -1, SYNACKSent: -1, SYNACKSeenByClient: -1, RTT: -1,
		Explanation: "an explanation of some length, as real ones have, to weigh what a kept result weighs",
		Evidence:    ev,
	}
}

// TestTableMemoryBounded feeds a table a million attempts: the heap it
// keeps stays a few MB (counts and the listed sample), not a million
// Results (the old table kept every one: about 1 KB each).
func TestTableMemoryBounded(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tbl := &Table{MaxRows: 200, Top: 20}
	for i := range n {
		// Each result has its own evidence, as judged ones do.
		ev := []verdict.Evidence{{Ref: capture.Ref{File: "big.pcap", N: uint64(i)}, What: "SYN", FromClient: true, TTL: 64}}
		tbl.Add(genResult(i, ev))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap after %d attempts: %.1f MB", n, float64(grown)/1e6)
	if grown > 24<<20 {
		t.Errorf("table holds %.1f MB after %d attempts: it should keep counts and a sample, not results", float64(grown)/1e6, n)
	}
	if got := tbl.n.total(); got != n {
		t.Errorf("counted %d attempts, want %d", got, n)
	}
	if len(tbl.sample.items) != 200 {
		t.Errorf("sample holds %d attempts, want 200", len(tbl.sample.items))
	}
	runtime.KeepAlive(tbl)
}

// TestSampleShowsEveryKindAndServer: failures of a rare kind and of a rare
// server, late in the capture, make the list; the first 200 by time would
// all be timeouts to one server.
func TestSampleShowsEveryKindAndServer(t *testing.T) {
	tbl := &Table{MaxRows: 20}
	t0 := time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)
	add := func(i int, v verdict.Verdict, server string) {
		tbl.Add(verdict.Result{Client: netip.AddrPortFrom(netip.MustParseAddr("198.51.100.10"), uint16(10000+i)),
			Server: netip.MustParseAddrPort(server), Verdict: v, FirstSYN: t0.Add(time.Duration(i) * time.Millisecond), RTT: -1,
			SYNSent: 1, SYNSeenByServer: -1, SYNACKSent: -1, SYNACKSeenByClient: -1})
	}
	for i := range 5000 {
		add(i, verdict.Timeout, "203.0.113.10:443")
	}
	add(5000, verdict.Refused, "203.0.113.11:443")
	add(5001, verdict.Timeout, "[2001:db8::7]:443")
	for i := range 100 {
		add(5002+i, verdict.Established, "203.0.113.12:443")
	}
	var buf bytes.Buffer
	if err := tbl.Render(&buf, Footer{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"refused", "→ 203.0.113.11:443", "→ [2001:db8::7]:443", "established",
		"5082 more attempts not listed"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// Not the first 20 by time: later timeouts to the busy server show too.
	if !strings.Contains(out, "│ 14:00:03.") || !strings.Contains(out, "│ 14:00:04.") || strings.Count(out, "→ 203.0.113.10:443") < 10 {
		t.Errorf("sample is not spread over the capture:\n%s", out)
	}
}

// TestTableAddAllocs: a table that has met its keys adds an attempt
// without allocating, and so does one past maxSummaryKeys; a new key
// costs no allocation of its own either.
func TestTableAddAllocs(t *testing.T) {
	mix, _ := mixSet()
	many := make([]verdict.Result, 2*maxSummaryKeys) // a new client each attempt
	for i := range many {
		many[i] = genResult(i, nil)
	}
	for _, rs := range [][]verdict.Result{mix, many} {
		tbl := &Table{MaxRows: 100}
		add := func() {
			for i := range rs {
				tbl.Add(rs[i])
			}
		}
		add()
		if n := testing.AllocsPerRun(2, add); n != 0 {
			t.Errorf("%d attempts again: %v allocations", len(rs), n)
		}
	}
	n := testing.AllocsPerRun(1, func() {
		tbl := &Table{MaxRows: 100}
		for i := range many {
			tbl.Add(many[i])
		}
	})
	if perKey := n / maxSummaryKeys; perKey > 0.05 {
		t.Errorf("%v allocations for %d new clients", n, maxSummaryKeys)
	}
}

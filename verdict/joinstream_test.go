package verdict_test

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/capgen"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// handedOn is an attempt as a side's tracker handed it on.
type handedOn struct {
	side verdict.Vantage
	a    *flows.Attempt
}

// generatedPair reads a generated client and server capture of the same
// connections: each side's attempts in the order handed on, and when each
// capture ran.
func generatedPair(t testing.TB, cfg capgen.MixConfig) (client, server verdict.Side) {
	t.Helper()
	var c, s bytes.Buffer
	if _, err := capgen.WriteMix(&c, &s, cfg); err != nil {
		t.Fatal(err)
	}
	read := func(name string, b []byte) verdict.Side {
		var sd verdict.Side
		readAttempts(t, name, b, func(a *flows.Attempt) { sd.Attempts = append(sd.Attempts, a.Clone()) })
		rd, err := capture.NewReader(name, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var p capture.Packet
		for rd.Next(&p) == nil {
		}
		sd.First, sd.Last = rd.Stats().First, rd.Stats().Last
		return sd
	}
	return read("client.pcap", c.Bytes()), read("server.pcap", s.Bytes())
}

// interleave orders both sides' attempts as two trackers reading at the
// same pace hand them on.
func interleave(client, server verdict.Side) []handedOn {
	var all []handedOn
	for _, a := range client.Attempts {
		all = append(all, handedOn{verdict.VantageClient, a})
	}
	for _, a := range server.Attempts {
		all = append(all, handedOn{verdict.VantageServer, a})
	}
	slices.SortStableFunc(all, func(x, y handedOn) int { return x.a.End.Compare(y.a.End) })
	return all
}

// streamJoin runs a Stream over attempts in the given order, then ends
// both sides.
func streamJoin(cfg verdict.JoinConfig, order []handedOn, client, server verdict.Side) ([]verdict.Result, verdict.ClockOffset, *verdict.Stream) {
	var out []verdict.Result
	st := verdict.NewStream(cfg, verdict.NewPacker("client.pcap", "server.pcap"), nil, func(r verdict.Ready) { out = append(out, r.Judge(nil)) })
	opening(st, client, server)
	for _, h := range order {
		st.Add(h.side, h.a)
		st.Advance(h.side, h.a.End)
	}
	st.End(verdict.VantageClient, verdict.Side{First: client.First, Last: client.Last, Coverage: client.Coverage, Dropped: client.Dropped})
	st.End(verdict.VantageServer, verdict.Side{First: server.First, Last: server.Last, Coverage: server.Coverage, Dropped: server.Dropped})
	return out, st.Offset(), st
}

// opening tells a Stream when the captures started, as a caller reading
// them knows.
func opening(st *verdict.Stream, client, server verdict.Side) {
	if !client.First.IsZero() {
		st.SetCoverage(verdict.VantageClient, []verdict.Span{{First: client.First}})
	}
	if !server.First.IsZero() {
		st.SetCoverage(verdict.VantageServer, []verdict.Span{{First: server.First}})
	}
}

// serverFirst is the order a caller holding both captures gives: the
// server's attempts first, so that the last of two with one 4-tuple and
// ISN is matched, as Join does.
func serverFirst(client, server verdict.Side) []handedOn {
	var all []handedOn
	for _, a := range server.Attempts {
		all = append(all, handedOn{verdict.VantageServer, a})
	}
	for _, a := range client.Attempts {
		all = append(all, handedOn{verdict.VantageClient, a})
	}
	return all
}

func sameResults(t *testing.T, got, want []verdict.Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d verdicts, Join gives %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("verdict %d of %d differs from Join's:\n got %+v\nwant %+v", i, len(want), got[i], want[i])
		}
	}
}

func TestStreamIsJoinWhenAllFits(t *testing.T) {
	client, server := generatedPair(t, capgen.MixConfig{N: 1500, Rate: 500, Seed: 7})
	want, wantOff := verdict.Join(client, server, verdict.JoinConfig{})
	clientFirst := append(slices.Clone(client.Attempts), server.Attempts...)
	var ahead []handedOn // the client's capture read to its end before the server's
	for i, a := range clientFirst {
		ahead = append(ahead, handedOn{map[bool]verdict.Vantage{true: verdict.VantageClient, false: verdict.VantageServer}[i < len(client.Attempts)], a})
	}
	for name, order := range map[string][]handedOn{"server first": serverFirst(client, server), "as read": interleave(client, server), "client first": ahead} {
		t.Run(name, func(t *testing.T) {
			got, off, _ := streamJoin(verdict.JoinConfig{}, order, client, server)
			sameResults(t, got, want)
			if off != wantOff {
				t.Errorf("clock offset %+v, Join's %+v", off, wantOff)
			}
		})
	}
}

// TestStreamIsJoinOnLiterals runs the join's table cases through a Stream.
func TestStreamIsJoinOnLiterals(t *testing.T) {
	const owd = 5 * ms
	cases := map[string][2]func(c *pkttest.Conn) []capture.Packet{
		"outbound SYN loss": {
			func(c *pkttest.Conn) []capture.Packet { return []capture.Packet{c.SYN(0), c.SYN(s), c.Idle(3 * s)} },
			func(s *pkttest.Conn) []capture.Packet { return []capture.Packet{s.Idle(0), s.Idle(4 * time.Second)} }},
		"return path drop": {
			func(c *pkttest.Conn) []capture.Packet { return []capture.Packet{c.SYN(0), c.SYN(s), c.Idle(3 * s)} },
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYNACK(0), s.SYN(time.Second), s.SYNACK(0), s.Idle(3 * time.Second)}
			}},
		"RST forged by the path": {
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.RefusingRST(owd, 63), c.Idle(3 * s)}
			},
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYNACK(0), s.Idle(3 * time.Second)}
			}},
		"server only": {
			func(c *pkttest.Conn) []capture.Packet { return []capture.Packet{c.Idle(0), c.Idle(3 * s)} },
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYNACK(0), s.Idle(3 * time.Second)}
			}},
	}
	for name, tc := range cases {
		for _, skew := range []time.Duration{0, 10 * time.Minute, -37250 * ms} {
			t.Run(fmt.Sprintf("%s/skew %s", name, skew), func(t *testing.T) {
				c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 4000000000)
				sv := c.AtServer()
				sv.T = c.T.Add(skew)
				client, server := side(tc[0](c)), side(tc[1](sv))
				want, _ := verdict.Join(client, server, verdict.JoinConfig{})
				for _, order := range [][]handedOn{serverFirst(client, server), interleave(client, server)} {
					got, _, _ := streamJoin(verdict.JoinConfig{}, order, client, server)
					sameResults(t, got, want)
				}
			})
		}
	}
}

// TestStreamHoldsAWindow joins captures several times longer than the
// Stream's window: it hands verdicts on as it goes, holds attempts of
// about one window, and still gives Join's verdicts.
func TestStreamHoldsAWindow(t *testing.T) {
	const rate = 10.0 // connections a second
	client, server := generatedPair(t, capgen.MixConfig{N: 6000, Rate: rate, Seed: 11})
	want, _ := verdict.Join(client, server, verdict.JoinConfig{})
	order := interleave(client, server)
	var got []verdict.Result
	st := verdict.NewStream(verdict.JoinConfig{}, verdict.NewPacker("client.pcap", "server.pcap"), nil, func(r verdict.Ready) { got = append(got, r.Judge(nil)) })
	outBeforeEnd := 0
	opening(st, client, server)
	for _, h := range order {
		st.Add(h.side, h.a)
		st.Advance(h.side, h.a.End)
	}
	outBeforeEnd = len(got)
	st.End(verdict.VantageClient, client)
	st.End(verdict.VantageServer, server)
	span := client.Last.Sub(client.First)
	_, most := st.Held()
	// Both captures' attempts of one window, and a margin for those
	// handed on late (idle).
	bound := int(2 * rate * (st.Window() + 30*time.Second).Seconds())
	t.Logf("captures of %s, window %s: held at most %d of %d attempts (bound %d); %d of %d verdicts out before the end",
		span.Round(time.Second), st.Window(), most, len(order), bound, outBeforeEnd, len(want))
	if span < 3*st.Window() {
		t.Fatalf("the captures last %s: not much longer than the window", span)
	}
	if most > bound {
		t.Errorf("held %d attempts at once, more than the %d of a window", most, bound)
	}
	if outBeforeEnd < len(want)/2 {
		t.Errorf("only %d of %d verdicts went out before the end", outBeforeEnd, len(want))
	}
	if now, _ := st.Held(); now != 0 {
		t.Errorf("still holds %d attempts at the end", now)
	}
	sameResults(t, got, want)
}

// TestStreamOrder: verdicts go out in order of first SYN, though
// attempts come in the order their trackers hand them on.
func TestStreamOrder(t *testing.T) {
	client, server := generatedPair(t, capgen.MixConfig{N: 3000, Rate: 10, Seed: 5})
	got, _, _ := streamJoin(verdict.JoinConfig{}, interleave(client, server), client, server)
	if !slices.IsSortedFunc(got, func(a, b verdict.Result) int { return cmp.Compare(a.FirstSYN.UnixNano(), b.FirstSYN.UnixNano()) }) {
		t.Error("verdicts out of first-SYN order")
	}
}

// shiftTimes moves every time reachable from v by d: a capture taken with
// a clock that far off.
func shiftTimes(v reflect.Value, d time.Duration) {
	switch v.Kind() {
	case reflect.Struct:
		if t, ok := v.Addr().Interface().(*time.Time); ok {
			if !t.IsZero() {
				*t = t.Add(d)
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				shiftTimes(v.Field(i), d)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			shiftTimes(v.Index(i), d)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			shiftTimes(v.Elem(), d)
		}
	}
}

// TestStreamAcrossClocks: with the server's clock minutes off, the Stream
// waits on the server capture's time for what the client's shows, and
// still gives Join's verdicts.
func TestStreamAcrossClocks(t *testing.T) {
	client, server := generatedPair(t, capgen.MixConfig{N: 3000, Rate: 10, Seed: 13})
	for _, skew := range []time.Duration{10 * time.Minute, -10 * time.Minute, 37250 * ms} {
		t.Run(skew.String(), func(t *testing.T) {
			sv := verdict.Side{First: server.First.Add(skew), Last: server.Last.Add(skew)}
			for _, a := range server.Attempts {
				a = a.Clone()
				shiftTimes(reflect.ValueOf(a).Elem(), skew)
				sv.Attempts = append(sv.Attempts, a)
			}
			want, wantOff := verdict.Join(client, sv, verdict.JoinConfig{})
			got, off, st := streamJoin(verdict.JoinConfig{}, interleaveAs(client, sv, skew), client, sv)
			sameResults(t, got, want)
			if off != wantOff {
				t.Errorf("clock offset %+v, Join's %+v", off, wantOff)
			}
			if _, most := st.Held(); most > int(2*10*(st.Window()+30*time.Second).Seconds()) {
				t.Errorf("held %d attempts at once, more than a window's", most)
			}
		})
	}
}

// interleaveAs is interleave for a server clock skew off: the captures are
// read at the same pace in real time.
func interleaveAs(client, server verdict.Side, skew time.Duration) []handedOn {
	all := interleave(client, verdict.Side{})
	for _, a := range server.Attempts {
		all = append(all, handedOn{verdict.VantageServer, a})
	}
	at := func(h handedOn) time.Time {
		if h.side == verdict.VantageServer {
			return h.a.End.Add(-skew)
		}
		return h.a.End
	}
	slices.SortStableFunc(all, func(x, y handedOn) int { return at(x).Compare(at(y)) })
	return all
}

// BenchmarkStream runs generated captures as read through a Stream: a
// minute (all of it held to the end) and seven minutes (several windows)
// of 50 connections a second. held-attempts is the most it held at once:
// the budget the window sets, which must not grow with the captures.
func BenchmarkStream(b *testing.B) {
	for _, n := range []int{3000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			client, server := generatedPair(b, capgen.MixConfig{N: n, Rate: 50, Seed: 1})
			order := interleave(client, server)
			pk := verdict.NewPacker("client.pcap", "server.pcap")
			most := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				out := 0
				st := verdict.NewStream(verdict.JoinConfig{}, pk, nil, func(r verdict.Ready) {
					r.Judge(nil)
					out++
				})
				opening(st, client, server)
				for _, h := range order {
					st.Add(h.side, h.a)
					st.Advance(h.side, h.a.End)
				}
				st.End(verdict.VantageClient, client)
				st.End(verdict.VantageServer, server)
				if out != n {
					b.Fatalf("%d verdicts, want %d", out, n)
				}
				_, most = st.Held()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(order)), "ns/attempt")
			b.ReportMetric(float64(most), "held-attempts")
		})
	}
}

// BenchmarkStreamMatch is BenchmarkStream without packing or judging:
// attempts packed beforehand, verdicts dropped as they go out. What the
// joiner's goroutine does with each attempt.
func BenchmarkStreamMatch(b *testing.B) {
	client, server := generatedPair(b, capgen.MixConfig{N: 20000, Rate: 50, Seed: 1})
	order := interleave(client, server)
	pk := verdict.NewPacker("client.pcap", "server.pcap")
	var packed [][]byte
	for _, h := range order {
		packed = append(packed, pk.Pack(nil, h.a))
	}
	// The chunks of one run are filled again in the next, as the join's
	// are once its writer is done with them.
	packs := new(verdict.Packs)
	b.ReportAllocs()
	for b.Loop() {
		out := 0
		epoch := packs.Epoch()
		st := verdict.NewStream(verdict.JoinConfig{}, pk, packs, func(verdict.Ready) { out++ })
		opening(st, client, server)
		for i, h := range order {
			st.AddPacked(h.side, packs.Keep(packed[i]))
			st.Advance(h.side, h.a.End)
		}
		st.End(verdict.VantageClient, client)
		st.End(verdict.VantageServer, server)
		if out != 20000 {
			b.Fatalf("%d verdicts, want 20000", out)
		}
		packs.Done(epoch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(order)), "ns/attempt")
}

package flows_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
)

// synAt is a lone SYN from client port i at ts, packet number n.
func synAt(i int, ts time.Time, n uint64) capture.Packet {
	c := pkttest.NewConn(fmt.Sprintf("198.51.%d.%d:%d", 100+i>>16&0xff, i>>8&0xff, 1024+i&0xff), "203.0.113.5:80", uint32(i))
	c.T, c.N = ts, n-1
	return c.SYN(0)
}

// TestTimeRunsBackwards: a capture whose times run backwards (here 10 ms a
// packet) still expires attempts: the table holds about Idle's worth of
// them, as it does forwards, not all of them.
func TestTimeRunsBackwards(t *testing.T) {
	const n = 30000 // 300 s of SYNs; Idle is 70 s, so about 7,000 at once
	for _, dir := range []time.Duration{10 * ms, -10 * ms} {
		t.Run(fmt.Sprint(dir), func(t *testing.T) {
			handed := 0
			tr := flows.NewTracker(flows.DefaultConfig, func(*flows.Attempt) { handed++ })
			most := 0
			for i := range n {
				p := synAt(i, pkttest.Base.Add(time.Duration(i)*dir), uint64(i+1))
				tr.Observe(&p)
				most = max(most, tr.Pending())
			}
			if most > 7500 || handed < n-7500 {
				t.Errorf("up to %d attempts tracked at once, %d handed on before the end; want about 7,000 and %d", most, handed, n-7000)
			}
			j := tr.TimeJumps()
			if dir < 0 && (j.Count == 0 || j.At.N == 0 || j.By > -time.Second) {
				t.Errorf("time jumps %+v", j)
			}
			if dir > 0 && j.Count != 0 {
				t.Errorf("time jumps %+v in a capture in order", j)
			}
		})
	}
}

// TestTimeSteppedBack: after the clock is set back an hour, attempts from
// before the step are handed on at once rather than an hour later, and the
// ones after it expire as usual.
func TestTimeSteppedBack(t *testing.T) {
	var handed []time.Time // the first SYN of each attempt handed on
	tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) { handed = append(handed, a.SYN.First) })
	n := uint64(0)
	syns := func(from time.Time, k int) {
		for i := range k {
			n++
			p := synAt(int(n), from.Add(time.Duration(i)*100*ms), n)
			tr.Observe(&p)
		}
	}
	syns(pkttest.Base, 100) // 10 s
	step := n + 1
	syns(pkttest.Base.Add(-time.Hour), 100)
	if len(handed) != 100 || tr.Pending() != 100 {
		t.Errorf("after the step back: %d handed on, %d tracked; want the 100 before the step handed on", len(handed), tr.Pending())
	}
	syns(pkttest.Base.Add(-time.Hour+80*time.Second), 10)
	if len(handed) != 200 {
		t.Errorf("80 s after the step: %d handed on, want 200", len(handed))
	}
	j := tr.TimeJumps()
	if j.At.N != step || j.By > -time.Hour+20*time.Second || j.By < -time.Hour-20*time.Second {
		t.Errorf("time jump %+v, want one of about -1h at packet %d", j, step)
	}
}

// TestOddPacketTimes: one packet a day ahead or an hour back neither hands
// on the attempts in progress nor stops their expiry.
func TestOddPacketTimes(t *testing.T) {
	for _, odd := range []time.Duration{24*time.Hour + time.Second, 1000 * time.Hour, -time.Hour, -2 * time.Second} {
		t.Run(fmt.Sprint(odd), func(t *testing.T) {
			var rec recorder
			tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
			c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
			feed(tr, c.SYN(0), c.SYNACK(ms))
			p := synAt(7, c.T.Add(odd), 3)
			tr.Observe(&p)
			c.N++
			feed(tr, c.ACK(2*time.Second))
			if len(rec.got) != 0 {
				t.Fatalf("the odd packet handed on %d attempts", len(rec.got))
			}
			feed(tr, c.Data(ms, true, 10), c.Data(ms, false, 10), c.ACK(ms))
			if len(rec.got) != 1 || !rec.got[0].Established() {
				t.Fatalf("got %d attempts, want the established one", len(rec.got))
			}
			// The clock still moves with the packets: an attempt begun
			// now is handed on once idle for Idle.
			d := pkttest.NewConn("198.51.100.10:40513", "203.0.113.5:80", 5000)
			d.T, d.N = c.T, c.N
			feed(tr, d.SYN(ms), d.SYN(80*time.Second))
			if len(rec.got) < 2 {
				t.Errorf("an attempt idle for 80 s was not handed on")
			}
			if j := tr.TimeJumps(); j.Count != 1 || j.At.N != 3 {
				t.Errorf("time jumps %+v, want one at packet 3", j)
			}
		})
	}
}

// TestSkewedMerge: two captures merged, one 5 s behind the other, packet
// by packet: the clock follows the first, and an attempt of the second
// stays one attempt while its SYNs keep coming, as it did before.
func TestSkewedMerge(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	a := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	b := pkttest.NewConn("198.51.100.20:40512", "203.0.113.6:80", 7000)
	b.T = a.T.Add(-5 * time.Second)
	n := uint64(0)
	for i := range 120 { // 120 s
		p := a.SYN(time.Second) // a flood of retransmissions, for the clock
		n++
		p.N = n
		tr.Observe(&p)
		if i%20 == 0 {
			q := b.SYN(0)
			b.T = a.T.Add(-5 * time.Second)
			n++
			q.N = n
			tr.Observe(&q)
		}
	}
	if len(rec.got) != 0 {
		t.Errorf("%d attempts handed on while their SYNs kept coming; first %v ISN %d", len(rec.got), rec.got[0].Key, rec.got[0].ISN)
	}
	tr.Finish()
	if len(rec.got) != 2 {
		t.Errorf("%d attempts, want 2", len(rec.got))
	}
}

// TestAttemptsAfterAStepBack: a file read as it lies (gzip'd, standard
// input, -c) with stretches out of time order holds, ahead of an attempt,
// packets of its time, maybe its own: AfterStepBack marks the attempts
// whose first SYN comes after a step back of more than 10 ms, to within
// Idle of the span read before it, and those whose connection showed later
// packets before the SYN. Frames merged a few milliseconds out of order
// mark none.
func TestAttemptsAfterAStepBack(t *testing.T) {
	const s = time.Second
	type syn struct {
		at   time.Duration // from pkttest.Base
		want bool
	}
	for _, tc := range []struct {
		name string
		syns []syn
	}{
		{"in order, 5 ms of jitter", []syn{{0, false}, {5 * ms, false}, {1 * ms, false}, {2 * s, false}, {2*s - 4*ms, false}}},
		// Halves appended the wrong way round: the later one first.
		{"halves swapped", []syn{{100 * s, false}, {110 * s, false}, {90 * s, true}, {99 * s, true}}},
		// The earlier half reaches back further than Idle (70 s) from the
		// part read first: its first attempts cannot have packets there.
		{"a long earlier half", []syn{{200 * s, false}, {210 * s, false}, {100 * s, false}, {129 * s, false}, {131 * s, true}}},
		// A step of 20 ms: what comes after the span read before is
		// past it.
		{"a 20 ms step", []syn{{10 * s, false}, {10*s - 20*ms, true}, {10*s + 30*ms, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[int]bool{}
			tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) { got[int(a.ISN)] = a.AfterStepBack })
			for i, sy := range tc.syns {
				p := synAt(i, pkttest.Base.Add(sy.at), uint64(i+1))
				tr.Observe(&p)
			}
			tr.Finish()
			for i, sy := range tc.syns {
				if got[i] != sy.want {
					t.Errorf("SYN %d at %v: AfterStepBack %v, want %v", i, sy.at, got[i], sy.want)
				}
			}
		})
	}
	// A connection's end read before its start, less than 10 ms apart:
	// no step in the times, but the connection shows it.
	t.Run("a connection's end first", func(t *testing.T) {
		var got []bool
		tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) { got = append(got, a.AfterStepBack) })
		c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
		first := []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms)}
		rest := []capture.Packet{c.Data(ms, true, 10), c.FIN(ms, true)}
		for _, p := range append(rest, first...) {
			tr.Observe(&p)
		}
		tr.Finish()
		if len(got) != 1 || !got[0] {
			t.Errorf("AfterStepBack %v, want one attempt marked", got)
		}
	})
}

// TestAttemptsReadEndFirst: an attempt the file holds in pieces the wrong
// way round, its end read first, gets packets from before its first SYN
// once the times have stepped back: OutOfTimeOrder marks it (its end was
// read before its start). Frames a few milliseconds out of order, a step
// back that only other connections cross, and an earlier connection on the
// same ports (another ISN) mark nothing.
func TestAttemptsReadEndFirst(t *testing.T) {
	const s = time.Second
	// A client resending its SYN each second, each answered and reset:
	// the nat-bypass lab scenario's server capture.
	resets := func() []capture.Packet {
		return pkttest.NewConn("198.51.100.10:60681", "203.0.113.5:80", 7000).ResetSYNACKs(4)
	}
	other := func(at time.Duration) capture.Packet { return synAt(9, pkttest.Base.Add(at), 99) }
	for _, tc := range []struct {
		name  string
		order func([]capture.Packet) []capture.Packet
		want  bool
	}{
		{"in order", func(ps []capture.Packet) []capture.Packet { return ps }, false},
		{"its end first", func(ps []capture.Packet) []capture.Packet {
			return append(slices.Clone(ps[6:]), ps[:6]...)
		}, true},
		{"two SYNs 5 ms apart, swapped", func(ps []capture.Packet) []capture.Packet {
			a, b := ps[0], ps[0]
			b.TS, b.N = a.TS.Add(5*ms), a.N+1
			return []capture.Packet{b, a}
		}, false},
		{"another connection steps back", func(ps []capture.Packet) []capture.Packet {
			return slices.Concat(ps[:3], []capture.Packet{other(-2 * s)}, ps[3:])
		}, false},
		{"an earlier connection on its ports", func(ps []capture.Packet) []capture.Packet {
			early := ps[0]
			early.TS, early.Seq = early.TS.Add(-30*s), early.Seq+1e6
			return slices.Concat([]capture.Packet{other(10 * s)}, ps[:3], []capture.Packet{early})
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []bool
			tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) {
				if a.ISN == 7000 {
					got = append(got, a.OutOfTimeOrder)
				}
			})
			for _, p := range tc.order(resets()) {
				tr.Observe(&p)
			}
			tr.Finish()
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("OutOfTimeOrder %v, want one attempt, %v", got, tc.want)
			}
		})
	}
}

package flows

import (
	"bytes"
	"io"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/internal/capgen"
	"github.com/synpath/synpath/internal/pkttest"
)

// TestFreezingChangesNothing: a realistic mix (timeouts resending SYNs for
// half a minute, stalled requests, refusals waiting for a reference) hands
// on the same attempts, field for field and in the same order, whether
// quiet attempts are packed or not; and packing kept most of them packed.
func TestFreezingChangesNothing(t *testing.T) {
	var file bytes.Buffer
	if _, err := capgen.WriteMix(&file, nil, capgen.MixConfig{N: 3000, Rate: 200, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	run := func(noFreeze bool, cfg Config) (got []*Attempt, mostFrozen int, evicted uint64) {
		tr := NewTracker(cfg, func(a *Attempt) { got = append(got, a.Clone()) })
		tr.packAbove = 0 // pack every quiet attempt
		if noFreeze {
			tr.packAbove = math.MaxInt
		}
		rd, err := capture.NewReader("mix.pcap", bytes.NewReader(file.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var p capture.Packet
		for rd.Next(&p) != io.EOF {
			tr.Observe(&p)
			frozen := tr.pending
			for i := tr.head; i != noState; i = tr.state(i).next {
				frozen--
			}
			mostFrozen = max(mostFrozen, frozen)
		}
		tr.Finish()
		return got, mostFrozen, tr.Counts().Evicted
	}
	for name, cfg := range map[string]Config{
		"default":              DefaultConfig,
		"short idle":           {Idle: 15e9},
		"table full (a flood)": {Idle: 60e9, MaxAttempts: 600},
	} {
		want, _, _ := run(true, cfg)
		got, frozen, evicted := run(false, cfg)
		if cfg.MaxAttempts > 0 && cfg.MaxAttempts < 1e6 && evicted == 0 {
			t.Errorf("%s: no attempt was evicted: the table never filled", name)
		}
		least := 100
		if cfg.MaxAttempts > 0 {
			least = min(least, cfg.MaxAttempts/2)
		}
		if frozen < least {
			t.Errorf("%s: at most %d attempts were frozen at once", name, frozen)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d attempts handed on, %d without freezing", name, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("%s: attempt %d differs:\n%+v\nwithout freezing:\n%+v", name, i, got[i], want[i])
			}
		}
	}
}

// TestHandOverSeesWhatEmitSees: attempts handed over are those emit gets,
// in its order, whole; the spares given back are reused, not leaked.
func TestHandOverSeesWhatEmitSees(t *testing.T) {
	var file bytes.Buffer
	if _, err := capgen.WriteMix(&file, nil, capgen.MixConfig{N: 3000, Rate: 500, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	feed := func(tr *Tracker) {
		rd, err := capture.NewReader("mix.pcap", bytes.NewReader(file.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var p capture.Packet
		for rd.Next(&p) != io.EOF {
			tr.Observe(&p)
		}
		tr.Finish()
	}
	var want []*Attempt
	feed(NewTracker(DefaultConfig, func(a *Attempt) { want = append(want, a.Clone()) }))

	var got []*Attempt
	var held []*Attempt // taken, not yet given back
	allocated := map[*Attempt]bool{}
	cfg := DefaultConfig
	cfg.HandOver = func(a *Attempt) *Attempt {
		allocated[a] = true
		got = append(got, a.Clone())
		held = append(held, a)
		if len(held) < 64 { // a taker a batch behind
			return nil
		}
		spare := held[0]
		held = held[1:]
		return spare
	}
	feed(NewTracker(cfg, func(*Attempt) { t.Fatal("emit called with HandOver set") }))
	if len(got) != len(want) {
		t.Fatalf("%d attempts handed over, %d emitted", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("attempt %d handed over differs from the one emitted:\n%+v\n%+v", i, got[i], want[i])
		}
	}
	if len(allocated) > len(want)/2 { // without reuse, one per attempt
		t.Errorf("%d distinct attempts for %d handed over: spares are not reused", len(allocated), len(want))
	}
}

// TestPortReuseDuringAGraceHandsOverOnce: a refusal waiting out its RST
// grace is replaced by a new SYN on its 4-tuple (a client reusing the port
// at once), which is refused in turn. Both are handed on, once each, the
// second refused: the first, handed over, must not be entombed in the
// place of the second.
func TestPortReuseDuringAGraceHandsOverOnce(t *testing.T) {
	for _, handOver := range []bool{false, true} {
		var got []*Attempt
		cfg := DefaultConfig
		emit := func(a *Attempt) { got = append(got, a.Clone()) }
		if handOver {
			cfg.HandOver = func(a *Attempt) *Attempt { emit(a); return nil }
		}
		tr := NewTracker(cfg, emit)
		ref := pkttest.NewConn("198.51.100.10:40000", "203.0.113.5:80", 1)
		first := pkttest.NewConn("198.51.100.10:34055", "203.0.113.5:84", 1000)
		second := pkttest.NewConn("198.51.100.10:34055", "203.0.113.5:84", 90000)
		// A SYN-ACK from the server first: a reference for its RSTs.
		for _, p := range []capture.Packet{ref.SYN(0), ref.SYNACK(time.Millisecond), first.SYN(time.Millisecond), first.RefusingRST(time.Millisecond, 63)} {
			tr.Observe(&p)
		}
		second.T = first.T.Add(100 * time.Millisecond) // within the grace
		for _, p := range []capture.Packet{second.SYN(0), second.RefusingRST(time.Millisecond, 63)} {
			tr.Observe(&p)
		}
		tr.Finish()
		var refused []uint32
		for _, a := range got {
			if a.Key.Server.Port() == 84 {
				if a.ServerRST.Count != 1 {
					t.Errorf("handOver %v: attempt isn %d handed on with %d RSTs, want 1", handOver, a.ISN, a.ServerRST.Count)
				}
				refused = append(refused, a.ISN)
			}
		}
		if !reflect.DeepEqual(refused, []uint32{1000, 90000}) {
			t.Errorf("handOver %v: attempts to port 84 handed on: %v, want 1000 then 90000, once each", handOver, refused)
		}
	}
}

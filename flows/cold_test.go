package flows

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/internal/capgen"
	"github.com/synpath/synpath/internal/pkttest"
)

// fillRandom gives every field of v, exported or not, a random value of
// its type: a field freeze forgets then fails the round trip.
func fillRandom(v reflect.Value, rng *rand.Rand) {
	switch x := v.Addr().Interface().(type) {
	case *time.Time:
		*x = time.Unix(1_790_000_000+rng.Int64N(1_000_000)-500_000, rng.Int64N(1e9)).UTC()
		return
	case *stamp: // plain, or none
		if rng.IntN(8) > 0 {
			*x = stamp(plainOffset + 1_790_000_000e9 + rng.Int64N(1e15) - 5e14)
		}
		return
	case *netip.Addr:
		*x = randomAddr(rng)
		return
	case *netip.AddrPort:
		*x = netip.AddrPortFrom(randomAddr(rng), uint16(rng.Uint32()))
		return
	case *capture.Name:
		b := make([]byte, rng.IntN(capture.NameLen+8))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		*x = capture.NameOfBytes(b)
		x.Cut = x.Cut || rng.IntN(2) == 0
		return
	case *string:
		*x = []string{"a.pcap", "rotated.pcap1", "-"}[rng.IntN(3)]
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			fillRandom(reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), rng)
		}
	case reflect.Slice:
		n := 1 + rng.IntN(MaxEvents)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fillRandom(v.Index(i), rng)
		}
	case reflect.Array:
		for i := range v.Len() {
			fillRandom(v.Index(i), rng)
		}
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rng.Uint64() >> (64 - v.Type().Bits()) >> rng.IntN(v.Type().Bits()))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(rng.Int64() >> (64 - v.Type().Bits()) >> rng.IntN(v.Type().Bits()))
	case reflect.Pointer: // the DNS answer: not packed
		if v.Type() == reflect.TypeFor[*DNSAnswer]() && rng.IntN(2) == 0 {
			v.Set(reflect.ValueOf(new(DNSAnswer)))
		}
	default:
		panic("fillRandom: no value for " + v.Type().String())
	}
}

func randomAddr(rng *rand.Rand) netip.Addr {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	switch rng.IntN(3) {
	case 0:
		return netip.AddrFrom4([4]byte(b[:4]))
	case 1:
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

// randomState fills every field of a with a random value, its events with
// tr's storage, its files from tr's names.
func randomState(tr *Tracker, a *attemptState, rng *rand.Rand) {
	fillRandom(reflect.ValueOf(a).Elem(), rng)
	a.events = [inlineEvents]eventState{}
	a.nEvents, a.more = 0, 0
	for range rng.IntN(MaxEvents + 1) {
		e := tr.addEvent(a)
		fillRandom(reflect.ValueOf(e).Elem(), rng)
		e.file = uint32(rng.IntN(len(tr.files.names)))
	}
	for _, r := range []*refState{&a.ClientAppAt, &a.ServerAppAt} {
		if r.file = uint32(rng.IntN(len(tr.files.names) + 1)); r.file == 0 {
			*r = refState{} // no packet
		}
	}
	tr.files.id(a.File)
}

// TestFillSetsEveryField: the record of an attempt is the same whatever
// the recycled Attempt it is filled into held, and its every field comes
// from the state.
func TestFillSetsEveryField(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	tr := NewTracker(DefaultConfig, func(*Attempt) {})
	for _, name := range []string{"a.pcap", "rotated.pcap1", "-"} {
		tr.files.id(name)
	}
	tr.loc = time.UTC
	for i := range 500 {
		var s attemptState
		randomState(tr, &s, rng)
		end := time.Unix(1_790_000_000, int64(i)).UTC()
		var fresh, used Attempt
		fillRandom(reflect.ValueOf(&used).Elem(), rng)
		tr.fill(&fresh, &s, end, EndIdle)
		tr.fill(&used, &s, end, EndIdle)
		if len(fresh.Events) == 0 && len(used.Events) == 0 {
			fresh.Events, used.Events = nil, nil
		}
		if !reflect.DeepEqual(fresh, used) {
			t.Fatalf("state %d filled into a used Attempt:\n%+v\ninto a zero one:\n%+v", i, used, fresh)
		}
		// Every field set in s shows: no zero left but where s has one.
		v := reflect.ValueOf(fresh)
		for f := range v.NumField() {
			if name := v.Type().Field(f).Name; v.Field(f).IsZero() && name != "ServerHops" && name != "PortHops" && name != "EndedBy" {
				if sv := reflect.ValueOf(s).FieldByName(name); sv.IsValid() && !sv.IsZero() {
					t.Fatalf("state %d: %s not filled (%v in the state)", i, name, sv)
				}
			}
		}
		tr.dropMoreEvents(&s)
	}
}

// TestFrozenAttemptsThawWhole: every field comes back, for attempts whose
// every field is set (and for an empty one).
func TestFrozenAttemptsThawWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	tr := NewTracker(DefaultConfig, func(*Attempt) {})
	for _, name := range []string{"a.pcap", "rotated.pcap1", "-"} {
		tr.files.id(name)
	}
	for i := range 2000 {
		var a attemptState
		if i > 0 {
			randomState(tr, &a, rng)
		}
		// What freeze leaves to the tracker.
		a.idx, a.prev, a.next, a.DNS, a.emitted, a.held = 0, 0, 0, nil, false, 0
		b, ok := tr.freeze(nil, &a)
		if !ok {
			t.Fatalf("attempt %d not packable: %+v", i, a)
		}
		var got attemptState
		if err := tr.thaw(&got, b); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		for e := range int(min(a.nEvents, got.nEvents)) {
			if *tr.event(&a, e) != *tr.event(&got, e) {
				t.Fatalf("attempt %d: event %d came back as %+v, want %+v", i, e, *tr.event(&got, e), *tr.event(&a, e))
			}
		}
		tr.dropMoreEvents(&a)
		tr.dropMoreEvents(&got)
		if !reflect.DeepEqual(a, got) {
			t.Fatalf("attempt %d came back changed:\n%+v\nwant\n%+v", i, got, a)
		}
		if i > 0 && len(b) > 1600 {
			t.Errorf("attempt %d packed into %d bytes", i, len(b))
		}
	}
}

// TestFreezeRefusesWhatItCannotKeep: times not plain (kept whole, by the
// tracker), zoned addresses, attempts handed on or waiting out a grace
// are left as they are.
func TestFreezeRefusesWhatItCannotKeep(t *testing.T) {
	tr := NewTracker(DefaultConfig, func(*Attempt) {})
	tr.lastOdd--
	tr.oddTimes = map[stamp]time.Time{tr.lastOdd: time.Now()}
	for name, a := range map[string]attemptState{
		"odd time":     {SYN: seenState{Count: 1, First: tr.lastOdd}},
		"zoned client": {Key: Key{Client: netip.MustParseAddrPort("[fe80::1%eth0]:1000")}},
		"handed on":    {emitted: true},
		"held":         {held: 1},
	} {
		if b, ok := tr.freeze(nil, &a); ok || len(b) != 0 {
			t.Errorf("%s: frozen (%d bytes)", name, len(b))
		}
	}
}

// TestTimesKeptWhole: an attempt hands on the times its packets had, as
// they were (location, monotonic reading and all), plain or not, packed
// while quiet or not.
func TestTimesKeptWhole(t *testing.T) {
	local := time.FixedZone("here", 3600)
	for name, times := range map[string][]time.Time{
		"utc":        {pkttest.Base},
		"local":      {pkttest.Base.In(local)},
		"clock":      {time.Now(), time.Now().UTC()},
		"year 2200":  {time.Date(2200, 1, 1, 0, 0, 0, 7, time.UTC)},
		"year 1700":  {time.Date(1700, 1, 1, 0, 0, 0, 7, time.UTC)},
		"zero":       {{}},
		"utc, local": {pkttest.Base, pkttest.Base.Add(time.Minute).In(local)},
	} {
		for _, packAll := range []bool{false, true} {
			var got []*Attempt
			tr := NewTracker(DefaultConfig, func(a *Attempt) { got = append(got, a.Clone()) })
			if packAll {
				tr.packAbove = 0
			}
			var want [][]time.Time
			for i, start := range times {
				c := pkttest.NewConn("198.51.100.10:40512", fmt.Sprintf("203.0.113.5:%d", 80+i), 1000)
				c.T = start
				var ts []time.Time
				for _, p := range []capture.Packet{c.SYN(0), c.SYNACK(12 * time.Second), c.ACK(time.Millisecond), c.Data(time.Millisecond, true, 10)} {
					if start.IsZero() {
						p.TS = time.Time{}
					}
					tr.Observe(&p)
					ts = append(ts, p.TS)
				}
				want = append(want, ts)
			}
			tr.Finish()
			if len(got) != len(want) {
				t.Fatalf("%s: %d attempts, want %d", name, len(got), len(want))
			}
			for i, a := range got {
				ts := want[i]
				if a.SYN.First != ts[0] || a.SYN.Last != ts[0] || a.SYNACK.First != ts[1] || a.ACK.First != ts[2] || a.ClientData.Last != ts[3] {
					t.Errorf("%s (packed %v): attempt %d came with times %v %v %v %v %v, want %v", name, packAll, i,
						a.SYN.First, a.SYN.Last, a.SYNACK.First, a.ACK.First, a.ClientData.Last, ts)
				}
				for j, e := range a.Events {
					if e.TS != ts[j] {
						t.Errorf("%s (packed %v): attempt %d event %d at %v, want %v", name, packAll, i, j, e.TS, ts[j])
					}
				}
			}
			if len(tr.oddTimes) != 0 {
				t.Errorf("%s: %d times not plain still kept", name, len(tr.oddTimes))
			}
		}
	}
}

// TestPackedMixIsCompact: on the realistic mix, a quiet attempt packs
// into about 80 bytes plus 10 to 12 an event. The window of attempts
// a long capture holds (a minute of timeouts) is mostly these.
func TestPackedMixIsCompact(t *testing.T) {
	var client bytes.Buffer
	if _, err := capgen.WriteMix(&client, io.Discard, capgen.MixConfig{N: 30000, Rate: 1000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	rd, err := capture.NewReader("mix.pcap", &client)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig
	cfg.HandOver = func(a *Attempt) *Attempt { return a }
	tr := NewTracker(cfg, nil)
	tr.packAbove = 0
	var p capture.Packet
	for rd.Next(&p) == nil {
		tr.Observe(&p)
	}
	var timeouts, timeoutBytes, all, allBytes int
	for i := range tr.frozen {
		f := &tr.frozen[i]
		if tr.thawed(coldEntry{idx: uint32(i), gen: f.gen}) || len(f.b) == 0 {
			continue
		}
		var a attemptState
		if err := tr.thaw(&a, f.b); err != nil {
			t.Fatal(err)
		}
		all++
		allBytes += len(f.b)
		if a.SYN.Count == uint32(a.nEvents) {
			timeouts++
			timeoutBytes += len(f.b)
		}
	}
	if timeouts < 1000 || all < 2000 {
		t.Fatalf("%d attempts packed, %d of them SYNs only: the mix should leave thousands", all, timeouts)
	}
	// Measured: 126 and 179 bytes (nanosecond times, every field written,
	// each event whole: 215 and 273).
	if avg := timeoutBytes / timeouts; avg > 140 {
		t.Errorf("a timeout packs into %d bytes on average, want at most 140", avg)
	}
	if avg := allBytes / all; avg > 200 {
		t.Errorf("a quiet attempt packs into %d bytes on average, want at most 200", avg)
	}
	t.Logf("%d attempts packed, %d bytes on average; %d timeouts, %d bytes", all, allBytes/all, timeouts, timeoutBytes/timeouts)
}

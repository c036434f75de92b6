package flows

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/synpath/synpath/capture"
)

// fillRandom gives every field of v, exported or not, a random value of
// its type: a field freeze forgets then fails the round trip.
func fillRandom(v reflect.Value, rng *rand.Rand) {
	switch x := v.Addr().Interface().(type) {
	case *time.Time:
		*x = time.Unix(1_790_000_000+rng.Int64N(1_000_000)-500_000, rng.Int64N(1e9)).UTC()
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
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rng.Uint64() >> (64 - v.Type().Bits()) >> rng.IntN(v.Type().Bits()))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(rng.Int64() >> (64 - v.Type().Bits()) >> rng.IntN(v.Type().Bits()))
	case reflect.Pointer: // lru links and the DNS answer: not packed
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

// TestFrozenAttemptsThawWhole: every field comes back, for attempts whose
// every field is set (and for an empty one).
func TestFrozenAttemptsThawWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var files coldFiles
	for i := range 2000 {
		var a Attempt
		if i > 0 {
			fillRandom(reflect.ValueOf(&a).Elem(), rng)
		} else {
			a.SYN.First = time.Unix(1_790_000_000, 0).UTC()
		}
		// What freeze leaves to the tracker.
		a.prev, a.next, a.DNS, a.emitted, a.heldUntil = nil, nil, nil, false, time.Time{}
		b, ok := freeze(nil, &a, &files)
		if !ok {
			t.Fatalf("attempt %d not packable: %+v", i, a)
		}
		var got Attempt
		if err := thaw(&got, b, &files); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if len(a.Events) == 0 && len(got.Events) == 0 {
			got.Events = a.Events
		}
		if !reflect.DeepEqual(a, got) {
			t.Fatalf("attempt %d came back changed:\n%+v\nwant\n%+v", i, got, a)
		}
		if i > 0 && len(b) > 1600 {
			t.Errorf("attempt %d packed into %d bytes", i, len(b))
		}
	}
}

// TestFreezeRefusesWhatItCannotKeep: times read from a clock (a location,
// a monotonic reading) and zoned addresses are left as they are.
func TestFreezeRefusesWhatItCannotKeep(t *testing.T) {
	var files coldFiles
	for name, a := range map[string]Attempt{
		"local time":   {SYN: Seen{First: time.Unix(1_790_000_000, 0)}},
		"clock time":   {SYN: Seen{First: time.Now().UTC()}, last: time.Now()},
		"zoned client": {SYN: Seen{First: time.Unix(1_790_000_000, 0).UTC()}, Key: Key{Client: netip.MustParseAddrPort("[fe80::1%eth0]:1000")}},
		"handed on":    {SYN: Seen{First: time.Unix(1_790_000_000, 0).UTC()}, emitted: true},
	} {
		if b, ok := freeze(nil, &a, &files); ok || len(b) != 0 {
			t.Errorf("%s: frozen (%d bytes)", name, len(b))
		}
	}
}

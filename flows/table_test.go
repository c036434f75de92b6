package flows

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestConnTableAgreesWithAMap drives the table and a Go map with the same
// random inserts and removals (enough to grow it and to wrap probes round
// its end) and checks that every key is found where the map says, and no
// other.
func TestConnTableAgreesWithAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tab connTable
	tab.init()
	want := map[connKey]uint32{}
	var keys []connKey
	key := func() connKey {
		c := netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(8))})
		s := netip.AddrFrom4([4]byte{203, 0, 113, byte(rng.IntN(8))})
		k, _ := order(Key{Client: netip.AddrPortFrom(c, uint16(rng.IntN(64))), Server: netip.AddrPortFrom(s, 80)}.mapKey())
		return k
	}
	for step := range 200_000 {
		switch k := key(); {
		case rng.IntN(3) > 0 || len(want) < 100:
			if _, ok := want[k]; ok {
				continue
			}
			tab.slots[tab.insert(&k)].isn = uint32(step)
			want[k] = uint32(step)
			keys = append(keys, k)
		default:
			k := keys[rng.IntN(len(keys))]
			i := tab.find(&k)
			if _, ok := want[k]; ok != (i >= 0) {
				t.Fatalf("step %d: found %v, the map says %v", step, i >= 0, ok)
			}
			if i >= 0 {
				tab.remove(i)
				delete(want, k)
			}
		}
	}
	if tab.n != len(want) {
		t.Fatalf("the table holds %d, the map %d", tab.n, len(want))
	}
	for _, k := range keys {
		i := tab.find(&k)
		isn, ok := want[k]
		if ok != (i >= 0) || (ok && tab.slots[i].isn != isn) {
			t.Fatalf("key %v: table slot %d, map %v %d", k, i, ok, isn)
		}
	}
}

// TestOrderIsTheSameBothWays: a connection's key is one whichever way its
// packet went, and order says which way that was.
func TestOrderIsTheSameBothWays(t *testing.T) {
	for _, k := range []Key{
		{Client: netip.MustParseAddrPort("192.0.2.1:40000"), Server: netip.MustParseAddrPort("203.0.113.1:80")},
		{Client: netip.MustParseAddrPort("203.0.113.1:40000"), Server: netip.MustParseAddrPort("192.0.2.1:80")},
		{Client: netip.MustParseAddrPort("192.0.2.1:80"), Server: netip.MustParseAddrPort("192.0.2.1:40000")},
		{Client: netip.MustParseAddrPort("[2001:db8::1]:40000"), Server: netip.MustParseAddrPort("198.51.100.1:443")},
	} {
		rev := Key{Client: k.Server, Server: k.Client, Tunnel: k.Tunnel}
		a, sa := order(k.mapKey())
		b, sb := order(rev.mapKey())
		if a != b || sa == sb {
			t.Errorf("%v: keys equal %v, swapped %v and %v", k, a == b, sa, sb)
		}
	}
}

// TestSlotTagsHoldHashBits: the bits of a slot's control word that hold
// the hash are neither the used bit nor the flags.
func TestSlotTagsHoldHashBits(t *testing.T) {
	if ctlHashMask&(ctlUsed|ctlFlags) != 0 || ctlHashMask == 0 || ctlHashMask|ctlUsed|ctlFlags != 1<<32-1 {
		t.Fatalf("hash bits %#x overlap the used bit or the flags, or leave bits unused", ctlHashMask)
	}
}

// TestSequentialKeysSpread: a scan's keys differ in a few bits (one client
// port after another, one address after another); the hash must still
// spread them, or probes grow long.
func TestSequentialKeysSpread(t *testing.T) {
	var tab connTable
	tab.init()
	const n = 100_000
	for i := range n {
		c := netip.AddrFrom4([4]byte{192, 0, 2, byte(i >> 16)})
		s := netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 7)})
		k, _ := order(Key{Client: netip.AddrPortFrom(c, uint16(i)), Server: netip.AddrPortFrom(s, 443)}.mapKey())
		tab.insert(&k)
	}
	probes := 0
	for i := range tab.slots {
		s := &tab.slots[i]
		if s.ctl&ctlUsed != 0 {
			probes += int((uint64(i)-tab.hash(&s.key))&tab.mask) + 1
		}
	}
	if avg := float64(probes) / n; avg > 2.5 {
		t.Errorf("%.2f probes per key on average at load %.2f", avg, float64(n)/float64(len(tab.slots)))
	}
}

package flows

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"unsafe"

	"github.com/synpath/synpath/capture"
)

// connTable holds every connection the tracker follows, both attempts in
// progress and tombs, under one key with its endpoints in a fixed order:
// a packet either way finds its connection with one probe. Tombs live in
// the slot by value (64 bytes all told), so a settled connection costs no
// allocation and no pointer for the collector to follow.
//
// It is open addressing with linear probing and backward-shift deletion
// (no deleted markers to wade through), its hash seeded per table: a
// capture is untrusted input, and a fixed hash would let one be crafted
// to collide.
type connTable struct {
	slots []connSlot
	mask  uint64
	n     int // occupied slots
	seed  uint64
	// inserts counts insertions since the owner last reset it: the
	// tracker sweeps tombs at a pace set by it.
	inserts int
}

// connSlot is one connection: an attempt in progress (att set), or the
// tomb of one handed on. It holds no pointer: the collector never scans
// the table.
type connSlot struct {
	key connKey
	// ctl: ctlUsed, the connection's flags (ctlClientFirst…) and the top
	// bits of the hash, so most probes that miss compare no key.
	ctl uint32
	att int32  // the attempt's state (Tracker.state), or noState
	isn uint32 // a tomb's ISN: a SYN with another one is port reuse
	// last is a tomb's last packet, in whole seconds of capture time since
	// the tracker's epoch: a tomb costs no more than this.
	last int32
	_    uint32 // to 64 bytes, so that no slot straddles two cache lines
}

// connKey is a mapKey with its endpoints in order: the lower first.
type connKey mapKey

const (
	ctlUsed        = 1 << 31
	ctlClientFirst = 1 << 0 // the client is the key's first endpoint
	ctlFINFirst    = 1 << 1 // a tomb saw a FIN from the first endpoint
	ctlFINSecond   = 1 << 2 // … from the second
	ctlFrozen      = 1 << 3 // the attempt is packed: isn holds its index
	ctlReset       = 1 << 4 // a tomb's connection was reset
	ctlServerFIN1  = 1 << 5 // a tomb's server sent its FIN before the client did
	ctlFlags       = 0xff
	ctlHashMask    = (ctlUsed - 1) &^ ctlFlags
)

const minTableSlots = 1 << 10

// keyOf sets k to the connKey of a packet from src to dst within tun: the
// mapKey of Key{src, dst, tun} with the lower endpoint first, and says
// whether the endpoints were swapped (the packet goes from the second
// endpoint to the first), and returns its hash. It builds the key in
// place: every packet needs one, and going through a Key and a mapKey
// cost a fifth of tracking. It hashes the words it has in registers:
// loading back the key just stored, each load spanning several narrower
// stores would wait for them to complete.
func (t *connTable) keyOf(k *connKey, src, dst netip.AddrPort, tun capture.Tunnel) (swapped bool, h uint64) {
	sa, da := src.Addr(), dst.Addr()
	s0, s1 := addrWords(&sa)
	d0, d1 := addrWords(&da)
	sp, dp := uint32(src.Port()), uint32(dst.Port())
	s4, d4 := sa.Is4(), da.Is4()
	swapped = s0 > d0 || (s0 == d0 && (s1 > d1 || (s1 == d1 && sp > dp)))
	if swapped {
		s0, s1, d0, d1, sp, dp, s4, d4 = d0, d1, s0, s1, dp, sp, d4, s4
	}
	binary.BigEndian.PutUint64(k.client[:8], s0)
	binary.BigEndian.PutUint64(k.client[8:], s1)
	binary.BigEndian.PutUint64(k.server[:8], d0)
	binary.BigEndian.PutUint64(k.server[8:], d1)
	k.ports = sp<<16 | dp
	k.tunnelID = tun.ID
	meta := uint32(tun.Kind)
	if s4 {
		meta |= clientIs4
	}
	if d4 {
		meta |= serverIs4
	}
	k.meta = meta
	h = t.hashWords(bits.ReverseBytes64(s0), bits.ReverseBytes64(s1), bits.ReverseBytes64(d0), bits.ReverseBytes64(d1),
		uint64(sp<<16|dp)|uint64(tun.ID)<<32, meta)
	return swapped, h
}

// addrWords is a's 16 bytes (As16) as two big-endian words, read where
// netip.Addr keeps them (its first field, a uint128 of hi and lo words;
// TestAddrWords holds it to As16): As16 stores them to an array that Go
// then copies in 16-byte moves, each waiting on the two 8-byte stores it
// spans, a tenth of tracking.
func addrWords(a *netip.Addr) (hi, lo uint64) {
	w := (*[2]uint64)(unsafe.Pointer(a))
	return w[0], w[1]
}

func (t *connTable) init() {
	t.slots = make([]connSlot, minTableSlots)
	t.mask = minTableSlots - 1
	t.seed = rand.Uint64() | 1
}

// hash mixes the key's words with the table's seed, pairs multiplied as
// wyhash does (three of the four products independent of each other):
// cheap, and unpredictable without the seed.
func (t *connTable) hash(k *connKey) uint64 {
	p := (*[44]byte)(unsafe.Pointer(k))
	w := func(i int) uint64 { return binary.LittleEndian.Uint64(p[i:]) }
	return t.hashWords(w(0), w(8), w(16), w(24), w(32), binary.LittleEndian.Uint32(p[40:]))
}

// hashWords is hash for the key whose bytes, as little-endian words, are
// w0…w4 and w5 (4 bytes).
func (t *connTable) hashWords(w0, w1, w2, w3, w4 uint64, w5 uint32) uint64 {
	s := t.seed
	a := mix(w0^s, w1^s^0xa0761d6478bd642f)
	b := mix(w2^s^0xe7037ed1a0b428db, w3^s^0x8ebc6af09c88c6e3)
	c := mix(w4^s^0x589965cc75374cc3, uint64(w5)^s^0x1d8e4e27c47d124f)
	return mix(a^b^0x9e3779b97f4a7c15, c^s)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// findHashed is find for a key whose hash h is known.
func (t *connTable) findHashed(k *connKey, h uint64) int {
	tag := ctlUsed | uint32(h>>32)&ctlHashMask
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.ctl&ctlUsed == 0 {
			return -1
		}
		if s.ctl&^ctlFlags == tag && s.key == *k {
			return int(i)
		}
	}
}

// insertHashed adds k, whose hash is h and which must not be in the
// table, and returns its slot.
func (t *connTable) insertHashed(k *connKey, h uint64) int {
	if t.full() {
		t.grow()
	}
	t.inserts++
	i := h & t.mask
	for t.slots[i].ctl&ctlUsed != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = connSlot{key: *k, ctl: ctlUsed | uint32(h>>32)&ctlHashMask}
	t.n++
	return int(i)
}

// full says whether the next insert grows the table (load 3/4).
func (t *connTable) full() bool { return (t.n+1)*4 > len(t.slots)*3 }

func (t *connTable) grow() {
	old := t.slots
	t.slots = make([]connSlot, 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for i := range old {
		s := &old[i]
		if s.ctl&ctlUsed == 0 {
			continue
		}
		j := t.hash(&s.key) & t.mask
		for t.slots[j].ctl&ctlUsed != 0 {
			j = (j + 1) & t.mask
		}
		t.slots[j] = *s
	}
}

// remove empties slot i, moving back the slots after it that probed past
// it, so that no probe stops short of its key.
func (t *connTable) remove(i int) {
	t.n--
	j := uint64(i)
	for {
		t.slots[j] = connSlot{}
		k := j
		for {
			k = (k + 1) & t.mask
			s := &t.slots[k]
			if s.ctl&ctlUsed == 0 {
				return
			}
			home := t.hash(&s.key) & t.mask
			// s may fill the hole at j if its home is not within (j, k].
			if (k-home)&t.mask >= (k-j)&t.mask {
				t.slots[j] = *s
				j = k
				break
			}
		}
	}
}

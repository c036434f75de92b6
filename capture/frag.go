package capture

import "time"

// Reassembly of IPv4 and IPv6 fragments, bounded in every way: a fixed
// table of datagrams in progress, a fixed prefix of each datagram kept
// (enough for every header down to the innermost TCP header and its
// options, tunnels included), a fixed number of pieces per datagram, and a
// timeout. A datagram is handed on only once every byte of it was seen, as
// the receiving host would have taken it; a SYN whose second fragment was
// lost never reached the server. Nothing is allocated past the table.
const (
	fragSlots   = 16               // datagrams reassembled at once; the oldest gives way
	fragPrefix  = 512              // bytes of each datagram's payload kept
	fragPieces  = 8                // disjoint ranges tracked per datagram (fragments mostly come in order)
	fragTimeout = 30 * time.Second // Linux's ipfrag_time
	fragMax     = 65535            // no IP datagram is longer
)

// fragKey names a datagram, as RFC 791 and RFC 8200 do, within its tunnel.
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
	tunnel   Tunnel
}

// ranges is a set of disjoint byte ranges, merged as they are added.
type ranges struct {
	lo, hi [fragPieces]int32
	n      int
}

// add adds [lo, hi); false when it would take more than fragPieces ranges.
func (r *ranges) add(lo, hi int32) bool {
	if lo >= hi {
		return true
	}
	j := 0
	for i := range r.n {
		if r.hi[i] < lo || r.lo[i] > hi { // apart: keep it
			r.lo[j], r.hi[j] = r.lo[i], r.hi[i]
			j++
			continue
		}
		lo, hi = min(lo, r.lo[i]), max(hi, r.hi[i]) // touching or overlapping: merge
	}
	if j == fragPieces {
		return false
	}
	r.lo[j], r.hi[j] = lo, hi
	r.n = j + 1
	return true
}

// from0 is how far the range starting at 0 goes.
func (r *ranges) from0() int32 {
	for i := range r.n {
		if r.lo[i] == 0 {
			return r.hi[i]
		}
	}
	return 0
}

type fragEntry struct {
	key  fragKey
	used bool
	last time.Time
	hdr  [60]byte // IP header of the first fragment
	hl   int      // 0 until the first fragment came
	end  int32    // payload length, -1 until the last fragment came
	seen ranges   // the payload bytes the fragments declare
	kept ranges   // the payload bytes captured into data
	data [fragPrefix]byte
}

type reassembly struct {
	e   [fragSlots]fragEntry
	out [60 + fragPrefix]byte // the datagram handed on: valid until the next add
}

// add takes one fragment: its IP header (for IPv6, the fixed header with
// the fragment's next header), the captured part of its data, the data's
// offset and declared length, whether more fragments follow, and whether
// the snaplen cut it. When the fragment completes its datagram, add
// returns the datagram as one unfragmented IP packet and whether its
// payload is cut (past fragPrefix, or by the snaplen).
func (r *reassembly) add(k fragKey, hdr, data []byte, off, decl int, more, cut bool, ts time.Time) ([]byte, bool, bool) {
	if off+decl > fragMax || (more && decl%8 != 0) || decl <= 0 {
		return nil, false, false
	}
	e := r.slot(k, ts)
	e.last = ts
	if off == 0 {
		e.hl = copy(e.hdr[:], hdr)
	}
	if !more {
		e.end = int32(off + decl)
	}
	ok := e.seen.add(int32(off), int32(off+decl))
	if n := min(len(data), decl); off < fragPrefix && n > 0 {
		ok = ok && e.kept.add(int32(off), int32(off+copy(e.data[off:], data[:n])))
	}
	if !ok {
		e.used = false // too many pieces: give up
		return nil, false, false
	}
	if e.end < 0 || e.hl == 0 || e.seen.n != 1 || e.seen.lo[0] != 0 || e.seen.hi[0] != e.end {
		return nil, false, false
	}
	e.used = false
	kept := min(e.kept.from0(), e.end)
	n := copy(r.out[:], e.hdr[:e.hl])
	n += copy(r.out[n:], e.data[:kept])
	if k.v6 {
		be.PutUint16(r.out[4:6], uint16(e.end))
	} else {
		be.PutUint16(r.out[2:4], uint16(min(e.hl+int(e.end), fragMax)))
		r.out[6], r.out[7] = 0, 0 // neither more fragments nor an offset
	}
	return r.out[:n], cut || kept < e.end, true
}

// slot finds the datagram's entry, or starts one in a free slot, a timed
// out one, or the oldest.
func (r *reassembly) slot(k fragKey, ts time.Time) *fragEntry {
	var free, oldest *fragEntry
	for i := range r.e {
		e := &r.e[i]
		if e.used && ts.Sub(e.last) > fragTimeout {
			e.used = false
		}
		switch {
		case e.used && e.key == k:
			return e
		case !e.used:
			if free == nil {
				free = e
			}
		case oldest == nil || e.last.Before(oldest.last):
			oldest = e
		}
	}
	if free == nil {
		free = oldest
	}
	free.key, free.used, free.hl, free.end = k, true, 0, -1
	free.seen.n, free.kept.n = 0, 0
	return free
}

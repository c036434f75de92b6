package verdict

import "slices"

// Packs keeps packed attempts (Packer) while a join waits on them, in
// chunks of bytes: one allocation for hundreds of attempts, nothing the
// collector scans, and a chunk let go once none of its attempts is kept.
// The bytes of an attempt (Bytes) stay as they are after it is dropped, so
// that it can be judged on another goroutine without a copy: a chunk let
// go is not written again until whoever holds its bytes says it is done
// with them (Epochs), and without that never.
//
// Packs is not safe for concurrent use.
type Packs struct {
	chunks [][]byte
	live   []int32 // attempts kept in each chunk
	free   []int32 // slots of chunks let go
	cur    int32   // the chunk being filled
	n      int     // attempts kept

	epoch uint64
	limbo []retired // chunks let go whose bytes may be in use
	spare [][]byte  // chunks nobody uses, to fill again
}

// retired is a chunk let go during epoch.
type retired struct {
	b     []byte
	epoch uint64
}

// PackRef names an attempt kept in Packs: n bytes at off in a chunk, or
// (n 0) a chunk of its own.
type PackRef struct {
	chunk  uint32
	off, n uint16
}

// packChunk is a chunk's size: about 300 attempts.
const packChunk = 64 << 10

// Keep keeps a copy of the packed attempt b.
func (p *Packs) Keep(b []byte) PackRef {
	if len(b) == 0 {
		panic("verdict: keeping an empty packed attempt")
	}
	p.n++
	if len(b) > packChunk/2 { // none is, but n must fit
		c := p.slot()
		p.chunks[c] = slices.Clip(slices.Clone(b))
		p.live[c]++
		return PackRef{chunk: uint32(c)}
	}
	c := p.cur
	if len(p.chunks) == 0 || cap(p.chunks[c]) != packChunk || len(p.chunks[c])+len(b) > packChunk {
		c = p.next()
	}
	off := len(p.chunks[c])
	p.chunks[c] = append(p.chunks[c], b...)
	p.live[c]++
	return PackRef{uint32(c), uint16(off), uint16(len(b))}
}

// next starts a chunk, letting go of the one being filled if nothing in
// it is kept any more.
func (p *Packs) next() int32 {
	if len(p.chunks) > 0 && p.live[p.cur] == 0 {
		p.letGo(p.cur)
	}
	c := p.slot()
	if k := len(p.spare); k > 0 {
		p.chunks[c], p.spare = p.spare[k-1], p.spare[:k-1]
	} else {
		p.chunks[c] = make([]byte, 0, packChunk)
	}
	p.cur = c
	return c
}

// slot is a place in chunks for a chunk.
func (p *Packs) slot() int32 {
	if k := len(p.free); k > 0 {
		c := p.free[k-1]
		p.free = p.free[:k-1]
		return c
	}
	p.chunks, p.live = append(p.chunks, nil), append(p.live, 0)
	return int32(len(p.chunks) - 1)
}

func (p *Packs) letGo(c int32) {
	if b := p.chunks[c]; p.epoch > 0 && cap(b) == packChunk {
		p.limbo = append(p.limbo, retired{b[:0], p.epoch})
	}
	p.chunks[c] = nil
	p.free = append(p.free, c)
}

// Bytes is the packed attempt r names; the caller must not change it.
func (p *Packs) Bytes(r PackRef) []byte {
	b := p.chunks[r.chunk]
	if r.n == 0 {
		return b[:len(b):len(b)]
	}
	end := int(r.off) + int(r.n)
	return b[r.off:end:end]
}

// Drop lets go of the attempt r names.
func (p *Packs) Drop(r PackRef) {
	c := int32(r.chunk)
	p.n--
	if p.live[c]--; p.live[c] == 0 && c != p.cur {
		p.letGo(c)
	}
}

// Len is how many attempts are kept.
func (p *Packs) Len() int { return p.n }

// Epoch starts a new epoch and returns it, numbered from 1: the bytes of
// attempts (Bytes) dropped from now on may be in use until Done is told
// this epoch or a later one.
func (p *Packs) Epoch() uint64 {
	p.epoch++
	return p.epoch
}

// Done tells that the bytes handed out up to the end of epoch are no
// longer in use: the chunks let go by then may be filled again.
func (p *Packs) Done(epoch uint64) {
	k := 0
	for _, r := range p.limbo {
		if r.epoch <= epoch {
			p.spare = append(p.spare, r.b)
		} else {
			p.limbo[k] = r
			k++
		}
	}
	clear(p.limbo[k:])
	p.limbo = p.limbo[:k]
}

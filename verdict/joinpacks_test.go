package verdict

import (
	"bytes"
	"fmt"
	"testing"
)

// TestPacksKeepBytes keeps attempts of every size, drops them in another
// order, and holds the bytes handed out to what was kept: while kept,
// after they are dropped, and until Done says their epoch is over; a
// chunk let go is filled again only then.
func TestPacksKeepBytes(t *testing.T) {
	var p Packs
	type kept struct {
		ref  PackRef
		want []byte
		out  []byte // handed out, in use until done
		at   uint64 // the epoch it was dropped in
	}
	var all []kept
	reused := 0
	epoch := p.Epoch()
	for i := range 5000 {
		b := bytes.Repeat([]byte{byte(i)}, 1+i%300)
		if i%1000 == 0 {
			b = bytes.Repeat([]byte{byte(i)}, packChunk+10) // larger than a chunk
		}
		all = append(all, kept{ref: p.Keep(b), want: b})
	}
	if p.Len() != len(all) {
		t.Fatalf("Len %d, want %d", p.Len(), len(all))
	}
	// Dropped in waves, one epoch each, whole chunks at a time: the bytes
	// handed out stay in use for two epochs, while new attempts come.
	for wave := range 5 {
		for i := range all {
			if k := &all[i]; i/1000 == wave {
				k.out = p.Bytes(k.ref)
				if !bytes.Equal(k.out, k.want) {
					t.Fatalf("attempt %d: bytes changed while kept", i)
				}
				p.Drop(k.ref)
				k.at = epoch
			}
		}
		if epoch > 2 {
			p.Done(epoch - 2)
		}
		// Fill every chunk free again.
		reused += len(p.spare)
		for i := 0; len(p.spare) > 0; i++ {
			p.Drop(p.Keep(bytes.Repeat([]byte{0xee}, 1+i%300)))
		}
		for i, k := range all {
			if k.out != nil && k.at+2 > epoch && !bytes.Equal(k.out, k.want) {
				t.Fatalf("attempt %d: bytes dropped in epoch %d overwritten in epoch %d before done with", i, k.at, epoch)
			}
		}
		epoch = p.Epoch()
	}
	if p.Len() != 0 {
		t.Errorf("Len %d after every attempt was dropped", p.Len())
	}
	if reused == 0 {
		t.Error("no chunk was filled again")
	}
}

// TestPacksWithoutEpochs: without Epoch, a chunk let go is never filled
// again, so bytes handed out stay valid for good.
func TestPacksWithoutEpochs(t *testing.T) {
	var p Packs
	var out [][]byte
	for i := range 2000 {
		r := p.Keep(fmt.Appendf(nil, "attempt %d", i))
		out = append(out, p.Bytes(r))
		p.Drop(r)
	}
	for range 2000 {
		p.Drop(p.Keep(bytes.Repeat([]byte{0xee}, 250)))
	}
	for i, b := range out {
		if want := fmt.Sprintf("attempt %d", i); string(b) != want {
			t.Fatalf("bytes %q handed out as %q", b, want)
		}
	}
}

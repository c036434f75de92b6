package cmd

import (
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/verdict"
)

// joinWriter judges and writes, on a goroutine of its own, what the
// joiner hands it, in the order handed: the joiner goes on matching while
// the last batch is judged and written (judging and writing JSON took as
// long as the matching). Only its goroutine touches the sink until close
// returns.
type joinWriter struct {
	out        *sink
	pk         *verdict.Packer
	vcfg       verdict.Config
	cur        []joinOut
	full, free chan []joinOut
	done       chan struct{}
	// packs holds the packed attempts the batches point into: each batch
	// is an epoch of it (verdict.Packs.Epoch), done with once the batch
	// comes back written. taken counts the batches taken from free.
	packs *verdict.Packs
	taken uint64
}

// joinOut is one of: an attempt the join is done with, an attempt to
// judge alone (from vantage alone, or by its TTLs when infer), a failed
// lookup, a midstream connection.
type joinOut struct {
	ready    verdict.Ready
	hasReady bool
	packed   []byte
	alone    verdict.Vantage
	lookup   *flows.Lookup
	mid      *flows.Midstream
}

func newJoinWriter(out *sink, pk *verdict.Packer, packs *verdict.Packs, vcfg verdict.Config) *joinWriter {
	w := &joinWriter{out: out, pk: pk, packs: packs, vcfg: vcfg, full: make(chan []joinOut, 4), free: make(chan []joinOut, 6), done: make(chan struct{})}
	for range cap(w.free) {
		w.free <- make([]joinOut, 0, joinBatch)
	}
	w.next()
	go w.write()
	return w
}

// next takes the batch to fill next. Past those free from the start, a
// batch from free is one the writer is done with, the earliest not yet
// taken: so are the bytes of the epoch it was filled in.
func (w *joinWriter) next() {
	w.cur = <-w.free
	if w.taken++; w.taken > uint64(cap(w.free)) {
		w.packs.Done(w.taken - uint64(cap(w.free)))
	}
	w.packs.Epoch()
}

func (w *joinWriter) write() {
	defer close(w.done)
	var (
		scratch verdict.JoinScratch
		res     verdict.Result
		a       flows.Attempt
	)
	for b := range w.full {
		for i := range b {
			switch it := &b[i]; {
			case it.hasReady:
				// One Result for all: the sink keeps none but the
				// table's rows, which it copies.
				it.ready.JudgeInto(&res, &scratch)
				w.out.add(res)
			case it.packed != nil:
				if err := w.pk.Unpack(it.packed, &a); err != nil {
					panic(err) // packed by the readers with the same Packer: a bug
				}
				v := it.alone
				if v == "" {
					v = verdict.InferVantage(&a)
				}
				verdict.JudgeInto(&res, &a, v, w.vcfg)
				w.out.add(res)
			case it.lookup != nil:
				w.out.addDNS(it.lookup)
			case it.mid != nil:
				w.out.addMidstream(it.mid)
			}
			b[i] = joinOut{}
		}
		w.free <- b[:0]
	}
}

func (w *joinWriter) add(it joinOut) {
	if w.cur = append(w.cur, it); len(w.cur) == joinBatch {
		w.full <- w.cur
		w.next()
	}
}

// close hands on the last batch and waits until everything is written:
// the sink is the caller's again.
func (w *joinWriter) close() {
	if len(w.cur) > 0 {
		w.full <- w.cur
	}
	w.cur = nil
	close(w.full)
	<-w.done
}

package cmd

import (
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/verdict"
)

// pipeBatch is how many items go to the other goroutine at once: enough
// that handing them over costs nothing next to judging them, few enough
// that the attempts in flight (six batches) stay in the caches, to be
// judged and reused warm. On the 100 MB mix 128 ran 5% faster than 256,
// and 1024 a third slower (medians of 11 interleaved runs; 64 as 128).
const pipeBatch = 128

// pipe hands what reading one capture produces (settled attempts, failed
// lookups, midstream connections), in order, to a goroutine of its own
// that judges the attempts and writes everything to a sink, in batches:
// reading and tracking go on while the previous batch is judged and
// written. Attempts cross without a copy: each slot of a batch gives the
// tracker back the attempt it held, judged a round before. Only the pipe's goroutine touches the sink until close
// returns. Library packages stay goroutine-free; cmd owns this one.
type pipe struct {
	out  *sink
	vcfg verdict.Config
	// res is where each attempt is judged (verdict.JudgeInto), allocating
	// nothing but its words: the sink keeps no verdict past its call but
	// the table's rows, which it copies.
	res        verdict.Result
	cur        []pipeItem
	full, free chan []pipeItem
	done       chan struct{}
}

// pipeItem is one of: an attempt to judge from vantage v, a verdict, a
// judged failed lookup, a midstream connection. att stays with the slot
// for reuse.
type pipeItem struct {
	att    *flows.Attempt
	judge  bool
	v      verdict.Vantage
	hasRes bool
	res    verdict.Result
	lookup *verdict.LookupResult
	mid    *flows.Midstream
}

func newPipe(out *sink, vcfg verdict.Config) *pipe {
	p := &pipe{out: out, vcfg: vcfg, full: make(chan []pipeItem, 4), free: make(chan []pipeItem, 6), done: make(chan struct{})}
	for range cap(p.free) {
		p.free <- make([]pipeItem, 0, pipeBatch)
	}
	p.cur = <-p.free
	go p.write()
	return p
}

func (p *pipe) write() {
	defer close(p.done)
	for b := range p.full {
		for i := range b {
			switch it := &b[i]; {
			case it.judge:
				verdict.JudgeInto(&p.res, it.att, it.v, p.vcfg)
				p.out.add(p.res)
			case it.hasRes:
				p.out.add(it.res)
			case it.lookup != nil:
				p.out.addLookup(*it.lookup)
			case it.mid != nil:
				p.out.addMidstream(it.mid)
			}
			// The attempt and the verdict's storage stay for reuse.
			b[i] = pipeItem{att: b[i].att, res: b[i].res}
		}
		p.free <- b[:0]
	}
}

// next is the next free slot of the current batch.
func (p *pipe) next() *pipeItem {
	n := len(p.cur)
	p.cur = p.cur[:n+1]
	return &p.cur[n]
}

// filled hands the batch on once it is full.
func (p *pipe) filled() {
	if len(p.cur) == pipeBatch {
		p.full <- p.cur
		p.cur = <-p.free
	}
}

// takeAttempt takes an attempt the tracker handed over, to be judged from
// vantage v, and gives back the one its slot held, judged already (or
// nil): the tracker reuses it (flows.Config.HandOver).
func (p *pipe) takeAttempt(a *flows.Attempt, v verdict.Vantage) *flows.Attempt {
	it := p.next()
	spare := it.att
	it.att, it.judge, it.v = a, true, v
	p.filled()
	return spare
}

// judgeHere judges an attempt the tracker handed on, here: on one core,
// that spares the copy of the attempt.
func (p *pipe) judgeHere(a *flows.Attempt, v verdict.Vantage) {
	it := p.next()
	verdict.JudgeInto(&it.res, a, v, p.vcfg)
	it.hasRes = true
	p.filled()
}

// addDNS judges a lookup the tracker handed on, here: the tracker may
// reuse it once this returns.
func (p *pipe) addDNS(l *flows.Lookup) {
	if r, ok := verdict.JudgeLookup(l, p.out.dnsWait); ok {
		p.next().lookup = &r
		p.filled()
	}
}

// addMidstream takes a copy of a midstream connection.
func (p *pipe) addMidstream(m *flows.Midstream) {
	c := *m
	p.next().mid = &c
	p.filled()
}

// close hands on the last batch and waits until everything is written:
// the sink is the caller's again.
func (p *pipe) close() {
	if len(p.cur) > 0 {
		p.full <- p.cur
	}
	p.cur = nil
	close(p.full)
	<-p.done
}

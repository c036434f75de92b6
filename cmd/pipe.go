package cmd

import (
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/verdict"
)

// pipeBatch is how many verdicts go to the writing goroutine at once:
// enough that handing them over costs nothing next to judging them.
const pipeBatch = 256

// pipe hands what one capture's reading produces (verdicts, failed
// lookups, midstream connections), in order, to a sink on a goroutine of
// its own, in batches: reading, tracking and judging go on while the
// previous batch is written. Only the writing goroutine touches the sink
// until close returns. Library packages stay goroutine-free; cmd owns this
// one.
type pipe struct {
	out        *sink
	cur        []pipeItem
	full, free chan []pipeItem
	done       chan struct{}
}

// pipeItem is one of: a verdict, a judged failed lookup, a midstream
// connection.
type pipeItem struct {
	res    verdict.Result
	lookup *verdict.LookupResult
	mid    *flows.Midstream
}

func newPipe(out *sink) *pipe {
	p := &pipe{out: out, full: make(chan []pipeItem, 4), free: make(chan []pipeItem, 6), done: make(chan struct{})}
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
			case it.lookup != nil:
				p.out.addLookup(*it.lookup)
			case it.mid != nil:
				p.out.addMidstream(it.mid)
			default:
				p.out.add(it.res)
			}
			b[i] = pipeItem{} // let the strings go
		}
		p.free <- b[:0]
	}
}

func (p *pipe) push(it pipeItem) {
	p.cur = append(p.cur, it)
	if len(p.cur) == pipeBatch {
		p.full <- p.cur
		p.cur = <-p.free
	}
}

// add takes a verdict, as sink.add.
func (p *pipe) add(r verdict.Result) { p.push(pipeItem{res: r}) }

// addDNS judges a lookup the tracker handed on, here: the tracker may
// reuse it once this returns.
func (p *pipe) addDNS(l *flows.Lookup) {
	if r, ok := verdict.JudgeLookup(l, p.out.dnsWait); ok {
		p.push(pipeItem{lookup: &r})
	}
}

// addMidstream takes a copy of a midstream connection.
func (p *pipe) addMidstream(m *flows.Midstream) {
	c := *m
	p.push(pipeItem{mid: &c})
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

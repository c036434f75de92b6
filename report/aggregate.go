package report

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/synpath/synpath/verdict"
)

// verdictOrder is the order verdict columns and timeline rows come in.
var verdictOrder = [...]verdict.Verdict{verdict.Established, verdict.Refused, verdict.Unreachable, verdict.Timeout,
	verdict.HalfOpen, verdict.Stalled, verdict.Reset, verdict.Aborted, verdict.Incomplete}

const numVerdicts = len(verdictOrder)

// verdictIndex is v's place in verdictOrder; a verdict this package does
// not know counts as incomplete rather than vanishing.
func verdictIndex(v verdict.Verdict) int {
	switch v {
	case verdict.Established:
		return 0
	case verdict.Refused:
		return 1
	case verdict.Unreachable:
		return 2
	case verdict.Timeout:
		return 3
	case verdict.HalfOpen:
		return 4
	case verdict.Stalled:
		return 5
	case verdict.Reset:
		return 6
	case verdict.Aborted:
		return 7
	}
	return 8
}

// counts is attempts per verdict, indexed as verdictOrder.
type counts [numVerdicts]int

func (c *counts) total() int {
	n := 0
	for _, k := range c {
		n += k
	}
	return n
}

// failed is every attempt but the established ones.
func (c *counts) failed() int { return c.total() - c[0] }

// summaryRow is what a summary keeps per key: a few words, whatever the
// number of attempts.
type summaryRow struct {
	counts
	firstFail, lastFail time.Time
}

func (s *summaryRow) add(vi int, t time.Time) {
	s.counts[vi]++
	if vi == 0 {
		return
	}
	if s.firstFail.IsZero() || t.Before(s.firstFail) {
		s.firstFail = t
	}
	if t.After(s.lastFail) {
		s.lastFail = t
	}
}

// maxSummaryKeys bounds each summary: a scan of a whole network would
// otherwise keep a row per address. Keys past it are counted together.
const maxSummaryKeys = 20000

// summary counts attempts per key (a server, a client, a client network).
type summary[K comparable] struct {
	// rows holds a row per key, index where: values in one slice, not an
	// allocation a key (a scan meets a new client every attempt).
	rows  []keyedRow[K]
	index map[K]int32
	// other holds the attempts of keys that came after the table was full,
	// and otherKeys how many attempts started such a key.
	other     summaryRow
	overflow  bool
	total     summaryRow
	cmpKey    func(a, b K) int
	formatKey func(K) string
}

// keyedRow is one key's row.
type keyedRow[K any] struct {
	key K
	summaryRow
}

func newSummary[K comparable](cmpKey func(a, b K) int, format func(K) string) *summary[K] {
	return &summary[K]{index: map[K]int32{}, cmpKey: cmpKey, formatKey: format}
}

// add counts one attempt; first reports whether it is the key's first
// attempt with this verdict (false when the key is past the bound).
func (s *summary[K]) add(k K, vi int, t time.Time) (first bool) {
	s.total.add(vi, t)
	i, ok := s.index[k]
	if !ok {
		if len(s.rows) >= maxSummaryKeys {
			s.overflow = true
			s.other.add(vi, t)
			return false
		}
		i = int32(len(s.rows))
		s.rows = append(s.rows, keyedRow[K]{key: k})
		s.index[k] = i
	}
	row := &s.rows[i].summaryRow
	first = row.counts[vi] == 0
	row.add(vi, t)
	return first
}

// worst lists the rows worst first: most failures, then the highest
// failure rate, then by key (addresses and ports numerically).
func (s *summary[K]) worst() []keyedRow[K] {
	out := slices.Clone(s.rows)
	slices.SortFunc(out, func(a, b keyedRow[K]) int {
		if c := cmp.Compare(b.failed(), a.failed()); c != 0 {
			return c
		}
		// b.failed/b.total vs a.failed/a.total, without division
		if c := cmp.Compare(b.failed()*a.total(), a.failed()*b.total()); c != 0 {
			return c
		}
		return s.cmpKey(a.key, b.key)
	})
	return out
}

// clientNet is the network a client is counted in: its /24 (IPv4) or /64
// (IPv6), where one site or one NAT pool usually sits.
func clientNet(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// sample keeps the attempts a table lists, at most max of them, chosen so
// that every failure kind and every failing server shows. Each attempt
// gets a rank (lower is kept first): the first attempt of each verdict,
// then the first failure of each (verdict, server), then the other
// failures, then the established ones; within a rank a random draw
// decides, which makes each rank a uniform sample (bottom-k reservoir),
// not the first ones by time. Memory: max Results, whatever the input.
type sample struct {
	max   int
	items []sampled // a heap: the root is the worst kept
	rng   *rand.Rand
	// offered counts the attempts that could have been listed.
	offered int
}

type sampled struct {
	rank int
	draw uint64
	r    verdict.Result
}

const (
	rankFirstOfVerdict = iota
	rankFirstOfServer
	rankFailure
	rankEstablished
)

func newSample(max int) *sample {
	// A fixed seed: the same capture lists the same attempts every run.
	return &sample{max: max, rng: rand.New(rand.NewPCG(0x5eed, 0x13))}
}

func worse(a, b *sampled) bool {
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	return a.draw > b.draw
}

func (s *sample) add(r *verdict.Result, rank int) {
	s.offered++
	if s.max <= 0 {
		return
	}
	if len(s.items) == s.max && s.items[0].rank < rank {
		return // cannot make it: spare the draw
	}
	it := sampled{rank: rank, draw: s.rng.Uint64()}
	if len(s.items) < s.max {
		it.r = owned(r)
		s.items = append(s.items, it)
		s.up(len(s.items) - 1)
		return
	}
	if !worse(&s.items[0], &it) {
		return
	}
	it.r = owned(r)
	s.items[0] = it
	s.down(0)
}

// owned is a copy of r that shares no memory with it: the caller may judge
// the next attempt into r (verdict.JudgeInto), and a kept row must not
// change with it. Strings are immutable, and shared.
func owned(r *verdict.Result) verdict.Result {
	c := *r
	c.Candidates = slices.Clone(r.Candidates)
	c.Evidence = slices.Clone(r.Evidence)
	if r.DNS != nil {
		d := *r.DNS
		c.DNS = &d
	}
	return c
}

func (s *sample) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !worse(&s.items[i], &s.items[p]) {
			return
		}
		s.items[i], s.items[p] = s.items[p], s.items[i]
		i = p
	}
}

func (s *sample) down(i int) {
	n := len(s.items)
	for {
		w := i
		if l := 2*i + 1; l < n && worse(&s.items[l], &s.items[w]) {
			w = l
		}
		if r := 2*i + 2; r < n && worse(&s.items[r], &s.items[w]) {
			w = r
		}
		if w == i {
			return
		}
		s.items[i], s.items[w] = s.items[w], s.items[i]
		i = w
	}
}

// results are the kept attempts, failures first, each part by time.
func (s *sample) results() []verdict.Result {
	out := make([]verdict.Result, len(s.items))
	for i := range s.items {
		out[i] = s.items[i].r
	}
	slices.SortStableFunc(out, func(a, b verdict.Result) int {
		if fa, fb := a.Verdict.Failed(), b.Verdict.Failed(); fa != fb {
			if fa {
				return -1
			}
			return 1
		}
		if c := a.FirstSYN.Compare(b.FirstSYN); c != 0 {
			return c
		}
		if c := a.Client.Compare(b.Client); c != 0 {
			return c
		}
		return cmp.Compare(a.ISN, b.ISN)
	})
	return out
}

package report

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The timeline counts attempts per time bucket and verdict, by the time of
// their first SYN. The capture's span is known only as attempts come, so
// buckets start at a millisecond and are merged whenever the span outgrows
// timelineKeep of them: each width in timelineSteps is a whole multiple of
// the one before and buckets are aligned on multiples of their width since
// the Unix epoch, so merging is exact. Memory is timelineKeep buckets,
// whatever the capture. When printed, buckets are merged again up to the
// finest width that gives at most timelineCols columns.
var timelineSteps = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, time.Second, 2 * time.Second, 10 * time.Second,
	20 * time.Second, time.Minute, 2 * time.Minute, 10 * time.Minute, 20 * time.Minute, time.Hour,
	2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
}

const (
	timelineKeep = 300 // at most 5 times timelineCols: the largest step ratio
	timelineCols = 60
	hitters      = 3 // servers remembered per bucket and verdict (Misra-Gries)
	minBurst     = 3 // a rise of fewer attempts a column is not named a burst
)

// hitter is a server and a lower bound of its attempts in a bucket.
type hitter struct {
	server netip.AddrPort
	n      int
}

// tbucket is one time bucket: attempts per verdict, and for each failure
// verdict the servers most of them went to.
type tbucket struct {
	n   counts
	top [numVerdicts][hitters]hitter
}

// addHitter counts one attempt to s (Misra-Gries: when every slot is
// taken by another server, all are decremented).
func (b *tbucket) addHitter(vi int, s netip.AddrPort) {
	h := &b.top[vi]
	free := -1
	for i := range h {
		if h[i].n > 0 && h[i].server == s {
			h[i].n++
			return
		}
		if h[i].n == 0 && free < 0 {
			free = i
		}
	}
	if free >= 0 {
		h[free] = hitter{s, 1}
		return
	}
	for i := range h {
		h[i].n--
	}
}

// merge adds o into b; the hitters keep the largest merged counts.
func (b *tbucket) merge(o *tbucket) {
	for vi := range b.n {
		b.n[vi] += o.n[vi]
		if vi == 0 {
			continue
		}
		all := make([]hitter, 0, 2*hitters)
		all = append(all, b.top[vi][:]...)
	next:
		for _, h := range o.top[vi] {
			if h.n == 0 {
				continue
			}
			for i := range all {
				if all[i].n > 0 && all[i].server == h.server {
					all[i].n += h.n
					continue next
				}
			}
			all = append(all, h)
		}
		slices.SortFunc(all, func(x, y hitter) int { return cmp.Compare(y.n, x.n) })
		copy(b.top[vi][:], all)
	}
}

// topServer is the server most of the bucket's attempts with verdict vi
// went to, and a lower bound of their number.
func (b *tbucket) topServer(vi int) hitter {
	var best hitter
	for _, h := range b.top[vi] {
		if h.n > best.n {
			best = h
		}
	}
	return best
}

func (b *tbucket) count(vi int, s netip.AddrPort) int {
	for _, h := range b.top[vi] {
		if h.n > 0 && h.server == s {
			return h.n
		}
	}
	return 0
}

type timeline struct {
	step    int   // width: timelineSteps[step]
	lo      int64 // bucket number of buckets[0], counted from the epoch
	buckets []tbucket
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// timelineFrom and timelineUntil bound the times a timeline counts: a
// capture clock outside them is broken, and nanoseconds since the epoch
// would overflow.
var timelineFrom, timelineUntil = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

func (tl *timeline) add(t time.Time, vi int, server netip.AddrPort) {
	if t.Before(timelineFrom) || !t.Before(timelineUntil) {
		return
	}
	ns := t.UnixNano()
	for {
		idx := floorDiv(ns, int64(timelineSteps[tl.step]))
		if len(tl.buckets) == 0 {
			tl.lo = idx
			tl.buckets = make([]tbucket, 1, 16)
		}
		lo, hi := min(tl.lo, idx), max(tl.lo+int64(len(tl.buckets))-1, idx)
		if hi-lo+1 > timelineKeep && tl.step < len(timelineSteps)-1 {
			tl.coarsen()
			continue
		}
		if hi-lo+1 > timelineKeep {
			return // more than timelineKeep weeks: the rest is left out
		}
		if lo < tl.lo {
			grown := make([]tbucket, hi-lo+1)
			copy(grown[tl.lo-lo:], tl.buckets)
			tl.buckets, tl.lo = grown, lo
		}
		for int64(len(tl.buckets)) < hi-lo+1 {
			tl.buckets = append(tl.buckets, tbucket{})
		}
		b := &tl.buckets[idx-tl.lo]
		b.n[vi]++
		if vi != 0 {
			b.addHitter(vi, server)
		}
		return
	}
}

// coarsen merges the buckets into ones of the next width.
func (tl *timeline) coarsen() {
	tl.buckets, tl.lo = mergeBuckets(tl.buckets, tl.lo, int64(timelineSteps[tl.step+1]/timelineSteps[tl.step]))
	tl.step++
}

// mergeBuckets merges every ratio consecutive aligned buckets into one.
func mergeBuckets(bs []tbucket, lo, ratio int64) ([]tbucket, int64) {
	if len(bs) == 0 {
		return bs, lo
	}
	nlo := floorDiv(lo, ratio)
	nhi := floorDiv(lo+int64(len(bs))-1, ratio)
	out := make([]tbucket, nhi-nlo+1)
	for i := range bs {
		j := floorDiv(lo+int64(i), ratio) - nlo
		out[j].merge(&bs[i])
	}
	return out, nlo
}

// timelineView is the timeline as printed: at most timelineCols columns.
type timelineView struct {
	start time.Time
	width time.Duration
	cols  []tbucket
}

func (tl *timeline) view() timelineView {
	bs, lo, step := slices.Clone(tl.buckets), tl.lo, tl.step
	for len(bs) > timelineCols && step < len(timelineSteps)-1 {
		bs, lo = mergeBuckets(bs, lo, int64(timelineSteps[step+1]/timelineSteps[step]))
		step++
	}
	w := timelineSteps[step]
	return timelineView{start: time.Unix(0, lo*int64(w)).UTC(), width: w, cols: bs}
}

// series is the counts of verdict vi, one per column.
func (v *timelineView) series(vi int) []int {
	s := make([]int, len(v.cols))
	for i := range v.cols {
		s[i] = v.cols[i].n[vi]
	}
	return s
}

// rows are the verdicts to draw: established and every failure seen.
func (v *timelineView) rows() []int {
	var out []int
	for vi := range numVerdicts {
		if slices.Max(v.series(vi)) > 0 {
			out = append(out, vi)
		}
	}
	return out
}

// rate says n attempts per column width, per second or, for wide
// columns, per minute.
func (v *timelineView) rate(n int) string {
	unit, per := "/s", v.width.Seconds()
	if v.width >= time.Minute {
		unit, per = "/min", v.width.Minutes()
	}
	r := float64(n) / per
	prec := 0
	if r < 10 && r != float64(int(r)) {
		prec = 1
	}
	return strconv.FormatFloat(r, 'f', prec, 64) + unit
}

var verdictPlural = [numVerdicts]string{"established attempts", "refusals", "unreachable errors", "timeouts",
	"half-open handshakes", "stalls", "resets", "aborts", "incomplete attempts"}

// burst names, in words, the steepest rise of a failure from one column
// to the next (the first column rises from nothing), and the server most
// of it went to; "" when no failure rose by minBurst attempts.
func (v *timelineView) burst() string {
	bestJump, bestV, bestI := 0, 0, 0
	for vi := 1; vi < numVerdicts; vi++ {
		s := v.series(vi)
		for i := range s {
			j := s[i]
			if i > 0 {
				j -= s[i-1]
			}
			if j > bestJump {
				bestJump, bestV, bestI = j, vi, i
			}
		}
	}
	if bestJump < minBurst {
		return ""
	}
	col := &v.cols[bestI]
	var prev tbucket
	if bestI > 0 {
		prev = v.cols[bestI-1]
	}
	at := v.start.Add(time.Duration(bestI) * v.width).Format("15:04:05")
	rise := func(from, to int) string {
		if bestI == 0 {
			return fmt.Sprintf("were at %s from the capture's start, %s", v.rate(to), at)
		}
		return fmt.Sprintf("went from %s to %s at %s", v.rate(from), v.rate(to), at)
	}
	n := col.n[bestV]
	top := col.topServer(bestV)
	switch {
	case top.n*2 > n:
		return fmt.Sprintf("worst burst: %s to %s %s.", verdictPlural[bestV], top.server, rise(prev.count(bestV, top.server), top.n))
	case top.n > 0:
		return fmt.Sprintf("worst burst: %s %s, spread over servers (the most to %s: at least %d of %d).", verdictPlural[bestV],
			rise(prev.n[bestV], n), top.server, top.n, n)
	}
	return fmt.Sprintf("worst burst: %s %s.", verdictPlural[bestV], rise(prev.n[bestV], n))
}

var (
	sparkUTF8  = []rune(" ▁▂▃▄▅▆▇█")
	sparkASCII = []rune(" .:-=+*#@")
)

// spark draws a series scaled to its own peak; any attempt shows.
func spark(s []int, glyphs []rune) string {
	peak := slices.Max(s)
	var b strings.Builder
	for _, n := range s {
		lvl := 0
		if n > 0 {
			top := len(glyphs) - 1
			lvl = max(1, min(top, (n*top+peak-1)/peak))
		}
		b.WriteRune(glyphs[lvl])
	}
	return b.String()
}

// renderTimeline prints one sparkline per verdict and the worst burst.
func (t *Table) renderTimeline(w io.Writer) {
	v := t.timeline.view()
	if len(v.cols) < 2 {
		return
	}
	end := v.start.Add(time.Duration(len(v.cols)) * v.width)
	fmt.Fprintln(w)
	t.wrap(w, fmt.Sprintf("Timeline of first SYNs, %s to %s UTC, one column = %s, each row scaled to its own peak:",
		v.start.Format("15:04:05"), end.Format("15:04:05"), v.width))
	glyphs := sparkUTF8
	if t.ASCII {
		glyphs = sparkASCII
	}
	axis := "│"
	if t.ASCII {
		axis = "|"
	}
	for _, vi := range v.rows() {
		s := v.series(vi)
		fmt.Fprintf(w, "  %-12s %s%s%s peak %s\n", verdictOrder[vi], axis, spark(s, glyphs), axis, v.rate(slices.Max(s)))
	}
	if b := v.burst(); b != "" {
		t.wrap(w, b)
	}
}

package cmd

import (
	"fmt"
	"io"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// liveID names one attempt across its provisional and final lines.
type liveID struct {
	key flows.Key
	isn uint32
}

// shownFailure is what a provisional line said of an attempt.
type shownFailure struct {
	verdict    verdict.Verdict
	where      verdict.Place
	candidates []verdict.Place
}

// maxProvisional bounds the provisional failures remembered until their
// attempt is handed on. Past it the oldest is forgotten: if its final
// verdict differs, it is printed again as a plain line, not an update.
const maxProvisional = 1 << 16

// liveLoop is what synpath live does with packets and clock ticks,
// separated from the socket so that a benchmark can drive it with a
// simulated clock.
type liveLoop struct {
	vantage    verdict.Vantage
	vcfg       verdict.Config
	json       bool
	failedOnly bool
	ascii      bool
	out        io.Writer
	jw         *report.JSONWriter
	summary    *report.Table
	tracker    *flows.Tracker

	// drops is the kernel's drop counter over the last minutes, for
	// marking verdicts made while it rose.
	drops dropHistory
	// onFailure, if set, is told of each failure line's evidence (the
	// --write-failed file).
	onFailure func(r *verdict.Result)
	// beforeLine, if set, is called before a line is printed (to clear a
	// status line on the terminal).
	beforeLine func()

	shown     map[liveID]shownFailure
	shownFIFO []liveID
	// recheck says when a pending attempt judged not failing is judged
	// again (see recheckQuiet).
	recheck map[liveID]recheckAt

	failed      bool
	failures    map[verdict.Verdict]uint64 // final verdicts
	reported    map[verdict.Verdict]int64  // failures as the lines so far say, for the status line
	provisional uint64
	err         error
}

func newLiveLoop(vantage verdict.Vantage, vcfg verdict.Config, fcfg flows.Config, json, failedOnly, ascii bool, out io.Writer) *liveLoop {
	l := &liveLoop{
		vantage: vantage, vcfg: vcfg, json: json, failedOnly: failedOnly, ascii: ascii, out: out,
		jw:       report.NewJSONWriter(out),
		summary:  &report.Table{SummaryOnly: true, ASCII: ascii},
		shown:    make(map[liveID]shownFailure),
		recheck:  make(map[liveID]recheckAt),
		failures: make(map[verdict.Verdict]uint64),
		reported: make(map[verdict.Verdict]int64),
	}
	l.tracker = flows.NewTracker(fcfg, l.handedOn)
	return l
}

func (l *liveLoop) judge(a *flows.Attempt) verdict.Result {
	v := l.vantage
	if v == "" {
		v = verdict.InferVantage(a)
	}
	return verdict.Judge(a, v, l.vcfg)
}

// handedOn takes an attempt's final verdict: printed, unless a provisional
// line already said the same; printed as an update if it said otherwise.
func (l *liveLoop) handedOn(a *flows.Attempt) {
	r := l.judge(a)
	id := liveID{a.Key, a.ISN}
	prev, had := l.shown[id]
	if had {
		delete(l.shown, id)
	}
	delete(l.recheck, id)
	l.failed = l.failed || r.Verdict.Failed()
	if r.Verdict.Failed() {
		l.failures[r.Verdict]++
	}
	l.summary.Add(r)
	if had {
		l.reported[prev.verdict]--
	}
	if r.Verdict.Failed() {
		l.reported[r.Verdict]++
	}
	if had && prev.verdict == r.Verdict && prev.where == r.Where {
		if l.onFailure != nil {
			l.onFailure(&r) // packets that came since the provisional line
		}
		return
	}
	if !had && l.failedOnly && !r.Verdict.Failed() {
		return
	}
	l.print(&r, a.SYN.First, had, &verdict.Result{Verdict: prev.verdict, Where: prev.where, Candidates: prev.candidates})
}

// tick judges, at wall-clock time now, the attempts not yet handed on, and
// prints each failure the client has already lived through (a SYN
// unanswered for --syn-timeout, a request unanswered for --stall-after)
// once. Whatever verdict rule verdict.Judge applies, an attempt it calls
// incomplete is left to wait.
func (l *liveLoop) tick(now time.Time) {
	l.tracker.Advance(now)
	var c flows.Attempt
	for a := range l.tracker.PendingAttempts() {
		id := liveID{a.Key, a.ISN}
		if _, ok := l.shown[id]; ok {
			continue
		}
		rc := l.recheck[id]
		if seen := uint32(len(a.Events)) + a.EventsDropped; seen != rc.seen || rc.changed.IsZero() {
			rc.seen, rc.changed = seen, now
		}
		quiet := now.Sub(rc.changed) >= recheckQuiet
		if quiet && now.Before(rc.at) {
			continue
		}
		c = *a
		c.End = now
		r := l.judge(&c)
		if !r.Verdict.Failed() || r.Verdict == verdict.Incomplete {
			rc.at = now.Add(recheckSlow - liveTick/2)
			l.recheck[id] = rc
			continue
		}
		delete(l.recheck, id)
		l.remember(id, shownFailure{r.Verdict, r.Where, r.Candidates})
		l.provisional++
		l.reported[r.Verdict]++
		l.print(&r, a.SYN.First, false, nil)
	}
}

// recheckAt is when to judge a pending attempt again, and the interval
// that led there.
type recheckAt struct {
	at      time.Time // when to judge it again, once quiet
	seen    uint32    // its packets so far
	changed time.Time // when that last changed
}

// A pending attempt is judged on every tick until it has had no packet
// for recheckQuiet (past any SYN timeout or stall wait in use), then
// every recheckSlow: an idle pooled connection, pending for --idle, costs
// a judgement a second, not four.
const (
	recheckQuiet = 10 * time.Second
	recheckSlow  = time.Second
)

func (l *liveLoop) remember(id liveID, s shownFailure) {
	l.shown[id] = s
	l.shownFIFO = append(l.shownFIFO, id)
	for len(l.shown) > maxProvisional && len(l.shownFIFO) > 0 {
		delete(l.shown, l.shownFIFO[0])
		l.shownFIFO = l.shownFIFO[1:]
	}
	if len(l.shownFIFO) > 2*len(l.shown)+1024 {
		// Drop the entries of attempts since handed on.
		kept := l.shownFIFO[:0]
		for _, id := range l.shownFIFO {
			if _, ok := l.shown[id]; ok {
				kept = append(kept, id)
			}
		}
		l.shownFIFO = kept
	}
}

// print writes one verdict line; update says it revises what an earlier
// one said (was).
func (l *liveLoop) print(r *verdict.Result, first time.Time, update bool, was *verdict.Result) {
	drops := l.drops.since(first)
	if drops > 0 {
		r.Explanation += fmt.Sprintf(" (Capture drops: the kernel dropped %d packets while this attempt was tracked; this verdict may miss some.)", drops)
	}
	if l.onFailure != nil && r.Verdict.Failed() {
		l.onFailure(r)
	}
	if l.err != nil {
		return
	}
	if l.beforeLine != nil {
		l.beforeLine()
	}
	switch {
	case l.json:
		l.err = l.jw.WriteLive(r, report.Live{Update: update, CaptureDrops: drops})
	case update:
		l.err = report.WriteRevision(l.out, r, was, l.ascii)
	default:
		l.err = report.WriteLine(l.out, r, l.ascii)
	}
}

func (l *liveLoop) observe(p *capture.Packet) { l.tracker.Observe(p) }

// finish hands on every attempt left, at time now.
func (l *liveLoop) finish(now time.Time) {
	l.tracker.Advance(now)
	l.tracker.Finish()
}

// dropHistory keeps the kernel's cumulative drop counter once a second
// over the last few minutes.
type dropHistory struct {
	at    [256]time.Time
	count [256]uint64
	n     int // samples taken
	now   uint64
}

// sample records the counter's value at time t.
func (d *dropHistory) sample(t time.Time, count uint64) {
	i := d.n % len(d.at)
	d.at[i], d.count[i] = t, count
	d.n++
	d.now = count
}

// since is how many packets were dropped from t on: the counter now, less
// its value at the last sample before t (or the oldest kept).
func (d *dropHistory) since(t time.Time) uint64 {
	if d.now == 0 {
		return 0
	}
	base := uint64(0)
	for k := 0; k < min(d.n, len(d.at)); k++ {
		i := (d.n - 1 - k) % len(d.at)
		base = d.count[i]
		if !d.at[i].After(t) {
			break
		}
	}
	return d.now - base
}

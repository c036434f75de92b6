package capture

import (
	"bufio"
	"io"
	"math"
	"net/netip"
	"slices"
	"time"
)

// A capture file can hold its records out of time order in stretches:
// captures appended the wrong way round (mergecap -a b a, cat of pcapng
// files), a ring buffer's files joined from the wrong one. Read as it
// lies, a connection across the seam comes in two pieces, its end before
// its SYN: an answered SYN looks unanswered, and a path is blamed. Such a
// file is read here a stretch at a time, in time order, as rotated files
// are, its records keeping their numbers.
//
// A clock stepped back looks the same in the times, and there the file's
// order is the true one. Connections tell them apart: at the true seam a
// connection goes on (later data, more acknowledged), at the false one
// none does. So stretches are reordered only when they do not overlap in
// time, and more connections go on across the seams time order makes
// than across the file's own, or none across either.

// runBreak is how far back a record's time must go to start a new run,
// and how far runs may overlap and still be read one after the other.
// Frames merged from several interfaces or CPUs (tcpdump -i any) come out
// of order by microseconds, rarely a millisecond: noise, not pieces.
const runBreak = 10 * time.Millisecond

// maxRuns bounds the runs a file is read in: each costs a pass over the
// records before it, and a file cut into more pieces than that is not
// pieces put together the wrong way round.
const maxRuns = 32

// Run is a stretch of a capture's records (numbered from 1, as read) whose
// times follow on, and the span of those times.
type Run struct {
	From, To    uint64
	First, Last time.Time
}

// timeRuns reads the record headers of a capture, packets undecoded, and
// splits them into runs. It stops at the first record it cannot read, or
// when there are more than maxRuns (nil).
func timeRuns(src source) []Run {
	var rs runSplitter
	if s, ok := src.(*pcapSource); ok {
		s.times(func(ns, _ int64) bool { return rs.add(ns) })
	} else {
		var rec record
		for src.read(&rec) == nil && rs.add(nanos(rec.ts)) {
		}
	}
	return rs.done()
}

// nanos is t in nanoseconds since 1970, 0 for the zero time (pcapng's
// simple packets have none).
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// runSplitter splits records into runs by their times, in nanoseconds,
// as they come. Times are compared as integers: this is a pass over every
// record of every file read, a tenth of reading it.
type runSplitter struct {
	runs []Run
	// ns are the first and last time of each run, as Run's are filled
	// once all are known.
	ns      [][2]int64
	n       uint64 // records seen
	head    int64  // the first record's time
	tooMany bool
}

// add takes the next record's time (0: none) and reports whether to go
// on.
func (rs *runSplitter) add(ns int64) bool {
	rs.n++
	if rs.n == 1 {
		rs.head = ns
	}
	cur := len(rs.runs) - 1
	if cur >= 0 {
		t := &rs.ns[cur]
		switch {
		case ns == 0:
		case ns < t[1]-int64(runBreak):
			return rs.start(ns)
		case ns > t[1]:
			t[1] = ns
		case ns < t[0]:
			t[0] = ns
		}
		rs.runs[cur].To = rs.n
		return true
	}
	return rs.start(ns)
}

func (rs *runSplitter) start(ns int64) bool {
	if len(rs.runs) == maxRuns {
		rs.tooMany = true
		return false
	}
	rs.runs = append(rs.runs, Run{From: rs.n, To: rs.n})
	rs.ns = append(rs.ns, [2]int64{ns, ns})
	return true
}

// join returns the runs of rs and then next, the records next split
// following rs's: next's first run goes on rs's last unless its first
// record starts a run.
func (rs *runSplitter) join(next *runSplitter) []Run {
	if rs.tooMany || len(next.runs) == 0 {
		return rs.done()
	}
	for i := range next.runs {
		next.runs[i].From += rs.n
		next.runs[i].To += rs.n
	}
	runs, ns := next.runs, next.ns
	if cur := len(rs.runs) - 1; cur >= 0 && !(next.head != 0 && next.head < rs.ns[cur][1]-int64(runBreak)) {
		rs.runs[cur].To = runs[0].To
		t := &rs.ns[cur]
		if ns[0][0] != 0 {
			t[0] = min(t[0], ns[0][0])
		}
		t[1] = max(t[1], ns[0][1])
		runs, ns = runs[1:], ns[1:]
	}
	if len(rs.runs)+len(runs) > maxRuns {
		return nil
	}
	rs.runs, rs.ns = append(rs.runs, runs...), append(rs.ns, ns...)
	rs.n += next.n
	return rs.done()
}

// done returns the runs, nil when there were too many.
func (rs *runSplitter) done() []Run {
	if rs.tooMany {
		return nil
	}
	for i, t := range rs.ns {
		rs.runs[i].First, rs.runs[i].Last = time.Unix(0, t[0]).UTC(), time.Unix(0, t[1]).UTC()
	}
	return rs.runs
}

// disjointInTime returns runs in time order when they are more than one
// and do not overlap in time (within runBreak), else nil. A run of one
// record is a record out of time alone, a corrupt time (1970, the year
// 2106) more likely than a piece: the file is read as it lies, and the
// tracker takes the odd packet for what it is.
func disjointInTime(runs []Run) []Run {
	if len(runs) < 2 || slices.ContainsFunc(runs, func(r Run) bool { return r.From == r.To }) {
		return nil
	}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b Run) int { return a.First.Compare(b.First) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i-1].Last.After(sorted[i].First.Add(runBreak)) {
			return nil
		}
	}
	return sorted
}

// seamPackets is how many records either side of a seam are looked at
// for connections going on across it: a few dozen connections' worth on
// a busy link, all of a small capture.
const seamPackets = 512

// seamEnds is what a run's first and last seamPackets records show, per
// direction of a connection: every segment it sent in the first, and how
// far it had got in the last (the highest sequence number and
// acknowledgment: a segment resent late is not how far it got).
type seamEnds struct {
	head map[[2]netip.AddrPort][]segment
	tail map[[2]netip.AddrPort]segment
}

// segment is where a direction of a connection was: its sequence number,
// and what it acknowledged (0 without ACK).
type segment struct{ seq, ack uint32 }

// goOn counts the directions of connections that tail (before a seam)
// and head (after it) both show, a segment of head past tail's: later
// data, or more acknowledged, and neither back. One connection going on
// across the seam. A segment sent again (a SYN resent across the seam, on
// either side of it) tells nothing, and is not counted.
func goOn(tail map[[2]netip.AddrPort]segment, head map[[2]netip.AddrPort][]segment) int {
	n := 0
	for k, t := range tail {
		if slices.ContainsFunc(head[k], t.before) {
			n++
		}
	}
	return n
}

// furthest is the higher sequence number and acknowledgment of t and h.
func (t segment) furthest(h segment) segment {
	if h.seq-t.seq >= 1<<31 {
		h.seq = t.seq
	}
	if h.ack == 0 || t.ack != 0 && h.ack-t.ack >= 1<<31 {
		h.ack = t.ack
	}
	return h
}

// before reports whether h comes after t in its direction.
func (t segment) before(h segment) bool {
	seq, ack := h.seq-t.seq, uint32(0)
	if h.ack != 0 && t.ack != 0 {
		ack = h.ack - t.ack
	}
	return seq < 1<<30 && ack < 1<<30 && seq|ack != 0
}

// readRunEnds reads the capture through once, to the first record it
// cannot read (where timeRuns stopped too), and returns what the records
// near the runs' ends show; only those are decoded.
func readRunEnds(src source, runs []Run) []seamEnds {
	ends := make([]seamEnds, len(runs))
	for i := range ends {
		ends[i] = seamEnds{head: map[[2]netip.AddrPort][]segment{}, tail: map[[2]netip.AddrPort]segment{}}
	}
	var rec record
	var dec decoder
	var p Packet
	i := 0 // the run record n is in: runs lie in the file's order
	for n := uint64(1); i < len(runs) && src.read(&rec) == nil; n++ {
		for n > runs[i].To {
			if i++; i == len(runs) {
				return ends
			}
		}
		r := runs[i]
		head, tail := n < r.From+seamPackets, n+seamPackets > r.To
		if !head && !tail {
			continue
		}
		dec.ts = rec.ts
		if dec.decode(&p, rec.link, rec.data, rec.cut) != classTCP {
			continue
		}
		k := [2]netip.AddrPort{p.Src, p.Dst}
		seg := segment{seq: p.Seq}
		if p.Flags&FlagACK != 0 {
			seg.ack = p.Ack
		}
		if head {
			ends[i].head[k] = append(ends[i].head[k], seg)
		}
		if tail {
			if t, ok := ends[i].tail[k]; ok {
				seg = t.furthest(seg)
			}
			ends[i].tail[k] = seg
		}
	}
	return ends
}

// timeOrder decides how to read a capture: it returns the runs in the
// order to read them, or nil when the file is read as it lies (as it is
// when it cannot be read: the reading says why).
func timeOrder(again func(off int64) io.Reader, size int64) []Run {
	src, err := openSource(again(0))
	if err != nil {
		return nil
	}
	var runs []Run
	if p, ok := src.(*pcapSource); ok && size >= splitWalkAt {
		runs, _ = p.splitRuns(again, size/2)
	} else {
		runs = timeRuns(src)
	}
	ordered := disjointInTime(runs)
	if ordered == nil {
		return nil
	}
	src, err = openSource(again(0))
	if err != nil {
		return nil
	}
	ends := readRunEnds(src, runs)
	asLies, inTime := 0, 0
	for i := 1; i < len(runs); i++ {
		asLies += goOn(ends[i-1].tail, ends[i].head)
	}
	at := func(r Run) int { return slices.IndexFunc(runs, func(x Run) bool { return x.From == r.From }) }
	for i := 1; i < len(ordered); i++ {
		inTime += goOn(ends[at(ordered[i-1])].tail, ends[at(ordered[i])].head)
	}
	if asLies > inTime || asLies == inTime && asLies > 0 {
		return nil // a clock stepped back, or no telling
	}
	// More connections go on across time order's seams than the file's,
	// or none across either (then the order hardly matters, and time
	// order is how reordercap would put it).
	return ordered
}

// openSource reads the header of an uncompressed capture.
func openSource(r io.Reader) (source, error) {
	br := bufio.NewReaderSize(r, bufSize)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, err
	}
	return newSource(br, magic)
}

// runsSource reads a capture's runs in the order given, each by reading
// the file anew from its start (or on from where the run before ended)
// and passing over the records before the run's first. Records keep the
// numbers they have in the file.
type runsSource struct {
	again func(off int64) io.Reader
	runs  []Run
	i     int    // the run being read
	cur   source // reading it; nil before the first
	n     uint64 // records cur has read
	in    bool   // cur is at or inside the run
	// end read to the file's end: it saw the statistics blocks there.
	end source
	// err is the first error a run ended with: the others are read
	// before it is returned, as they come before it in the file or in
	// time.
	err error
}

func newRunsSource(again func(off int64) io.Reader, runs []Run) *runsSource {
	runs = slices.Clone(runs)
	// The run last in the file reads to its end, past its last record,
	// so that what follows (statistics, a broken record) is read too.
	last := 0
	for i, r := range runs {
		if r.From > runs[last].From {
			last = i
		}
	}
	runs[last].To = math.MaxUint64
	return &runsSource{again: again, runs: runs}
}

func (s *runsSource) read(rec *record) error {
	for s.i < len(s.runs) {
		run := &s.runs[s.i]
		if !s.in {
			if s.cur == nil || s.n+1 != run.From {
				if err := s.seek(run.From); err != nil {
					s.fail(err)
					continue
				}
			}
			s.in = true
		}
		if err := s.cur.read(rec); err != nil {
			s.end = s.cur
			if err == io.EOF {
				s.next()
			} else {
				s.fail(err)
			}
			continue
		}
		s.n++
		rec.n = s.n
		if s.n == run.To {
			s.next() // the next run may follow on in the file: read on
		}
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return io.EOF
}

func (s *runsSource) next() {
	s.i++
	s.in = false
}

// seek makes the next record cur reads the file's record n: reading on
// when it lies ahead, from the start again when it is behind.
func (s *runsSource) seek(n uint64) error {
	if s.cur == nil || s.n >= n {
		src, err := openSource(s.again(0))
		if err != nil {
			return err
		}
		s.cur, s.n = src, 0
	}
	var rec record
	for s.n+1 < n {
		if err := s.cur.read(&rec); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the file changed since it was read
			}
			return err
		}
		s.n++
	}
	return nil
}

// fail ends the run being read with err, kept if it is the first.
func (s *runsSource) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.next()
	s.cur = nil
}

// last is the source whose statistics hold: the one that read to the end.
func (s *runsSource) last() source {
	if s.end != nil {
		return s.end
	}
	return s.cur
}

func (s *runsSource) Ran() (from, until time.Time, ok bool) {
	if r, is := s.last().(interface {
		Ran() (time.Time, time.Time, bool)
	}); is {
		return r.Ran()
	}
	return time.Time{}, time.Time{}, false
}

func (s *runsSource) CaptureFilter() (string, bool) {
	if r, is := s.last().(interface{ CaptureFilter() (string, bool) }); is {
		return r.CaptureFilter()
	}
	return "", false
}

func (s *runsSource) Drops() uint64 {
	if r, is := s.last().(interface{ Drops() uint64 }); is {
		return r.Drops()
	}
	return 0
}

// splitWalkAt is the size from which the header walk is split in two: a
// goroutine's start costs nothing next to walking half of 8 MB.
const splitWalkAt = 8 << 20

// splitRuns walks the record headers of a pcap file on two cores, the
// second part from the first record it finds by looking from byte mid:
// records follow on there, each header plausible. The first part's walk
// must land on that record for the second's runs to count (landed); if it
// does not (a record whose data looked like headers), it walks on to the
// end alone. Either way the runs are those of the whole file.
func (s *pcapSource) splitRuns(again func(off int64) io.Reader, mid int64) (runs []Run, landed bool) {
	type half struct {
		rs runSplitter
		at int64 // where it began in the file
		ok bool  // walked to the end
	}
	found := make(chan int64, 1)
	second := make(chan half, 1)
	stop := make(chan struct{})
	p := *s // its header, before this goroutine reads on from s.in
	go func() {
		var h half
		defer func() { second <- h }()
		from, ok := p.recordNear(again(mid))
		if !ok {
			found <- 0
			return
		}
		h.at = mid + from
		found <- h.at
		p.in = input{br: bufio.NewReaderSize(again(h.at), bufSize)}
		stopped := false
		p.times(func(ns, _ int64) bool {
			if h.rs.n%4096 == 0 {
				select {
				case <-stop:
					stopped = true
					return false
				default:
				}
			}
			return h.rs.add(ns)
		})
		h.ok = !stopped && !h.rs.tooMany
	}()
	at := <-found
	var first runSplitter
	passed := at == 0
	s.times(func(ns, off int64) bool {
		if pos := off + 24; !passed && pos >= at {
			if pos == at {
				landed = true
				return false
			}
			passed = true // the second half began inside a record
			close(stop)
		}
		return first.add(ns)
	})
	if !landed {
		if !passed {
			close(stop) // too many runs before the second half
		}
		<-second
		return first.done(), false
	}
	h := <-second
	if !h.ok {
		return nil, true
	}
	return first.join(&h.rs), true
}

// recordNear returns how far into r the first record lies that begins a
// chain of plausible records (lengths the format allows, not empty, times
// within a day of each other): where a walk from the middle of a file can
// start. Zeros, as padding and payloads hold, are not records.
func (s *pcapSource) recordNear(r io.Reader) (int64, bool) {
	const chain = 32
	buf := make([]byte, 1<<20)
	n, _ := io.ReadFull(r, buf)
	buf = buf[:n]
	order := s.order
	fracMax := uint32(1e6)
	if s.scale == 1 {
		fracMax = 1e9
	}
	plausible := func(i int) bool {
		var sec0 uint32
		for k := 0; k < chain; k++ {
			if i+16 > len(buf) {
				return false
			}
			h := buf[i : i+16]
			sec, frac, incl, orig := order.Uint32(h), order.Uint32(h[4:]), order.Uint32(h[8:]), order.Uint32(h[12:])
			if k == 0 {
				sec0 = sec
			}
			if frac >= fracMax || incl == 0 || incl > maxRecord || incl > orig || orig > 1<<24 || sec-sec0+86400 > 2*86400 {
				return false
			}
			i += 16 + int(incl)
		}
		return i <= len(buf)
	}
	for i := range len(buf) - 16 {
		if plausible(i) {
			return int64(i), true
		}
	}
	return 0, false
}

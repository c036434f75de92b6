package verdict

import (
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/synpath/synpath/capture"
)

// dur formats a duration for people: 1.5 s, 320 ms, 45 µs.
func dur(d time.Duration) string {
	var b [32]byte
	return string(appendDur(b[:0], d))
}

// appendDur appends dur's words to b.
func appendDur(b []byte, d time.Duration) []byte {
	// In whole units of the last digit, rounded to nearest in integers:
	// what strconv makes of the float (below), at a fraction of the cost,
	// for every d but exact halves, where the float's binary value
	// decides, and durations too long for the float to be that close.
	var step time.Duration
	point, unit := false, " s"
	switch {
	case d >= 1e6*time.Second:
		return appendDurFloat(b, d)
	case d >= 10*time.Second:
		step = time.Second
	case d >= time.Second:
		step, point = 100*time.Millisecond, true
	case d >= 10*time.Millisecond:
		step, unit = time.Millisecond, " ms"
	case d >= time.Millisecond:
		step, point, unit = 100*time.Microsecond, true, " ms"
	default:
		return append(strconv.AppendInt(b, d.Microseconds(), 10), " µs"...)
	}
	q, rem := d/step, d%step
	switch {
	case rem == step/2:
		return appendDurFloat(b, d)
	case rem > step/2:
		q++
	}
	if !point {
		return append(strconv.AppendInt(b, int64(q), 10), unit...)
	}
	b = strconv.AppendInt(b, int64(q/10), 10)
	return append(append(b, '.', byte('0'+q%10)), unit...)
}

// appendDurFloat is appendDur by strconv, as fmt's %.0f, %.1f and %d
// use it, without fmt's boxing.
func appendDurFloat(b []byte, d time.Duration) []byte {
	switch {
	case d >= 10*time.Second:
		return append(strconv.AppendFloat(b, d.Seconds(), 'f', 0, 64), " s"...)
	case d >= time.Second:
		return append(strconv.AppendFloat(b, d.Seconds(), 'f', 1, 64), " s"...)
	case d >= 10*time.Millisecond:
		return append(strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 0, 64), " ms"...)
	case d >= time.Millisecond:
		return append(strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 1, 64), " ms"...)
	}
	return append(strconv.AppendInt(b, d.Microseconds(), 10), " µs"...)
}

func appendCount(b []byte, n uint32, noun string) []byte {
	b = strconv.AppendUint(b, uint64(n), 10)
	b = append(b, ' ')
	b = append(b, noun...)
	if n != 1 {
		b = append(b, 's')
	}
	return b
}

func appendTimes(b []byte, n uint32) []byte {
	switch n {
	case 1:
		return append(b, "once"...)
	case 2:
		return append(b, "twice"...)
	}
	return append(strconv.AppendUint(b, uint64(n), 10), " times"...)
}

// text is words being written for people. Each method appends and returns
// the text, so that a sentence reads as one chain of calls. It does what
// fmt did without boxing every argument: judging writes words for every
// attempt.
type text struct{ b []byte }

func (t *text) str(s string) *text   { t.b = append(t.b, s...); return t }
func (t *text) bytes(p []byte) *text { t.b = append(t.b, p...); return t }

// sentence appends p, a sentence or none, after a space.
func (t *text) sentence(p []byte) *text {
	if len(p) > 0 {
		t.b = append(append(t.b, ' '), p...)
	}
	return t
}
func (t *text) num(n uint64) *text { t.b = strconv.AppendUint(t.b, n, 10); return t }

func (t *text) dur(d time.Duration) *text         { t.b = appendDur(t.b, d); return t }
func (t *text) count(n uint32, noun string) *text { t.b = appendCount(t.b, n, noun); return t }
func (t *text) times(n uint32) *text              { t.b = appendTimes(t.b, n); return t }

// addr writes an address as its String method does, which writes the zero
// Addr as "invalid IP" where AppendTo writes nothing.
func (t *text) addr(a netip.Addr) *text {
	if !a.IsValid() {
		return t.str("invalid IP")
	}
	t.b = a.AppendTo(t.b)
	return t
}

func (t *text) ref(r capture.Ref) *text       { t.b = r.AppendTo(t.b); return t }
func (t *text) name(n capture.Name) *text     { t.b = n.AppendTo(t.b); return t }
func (t *text) icmp(i capture.ICMPInfo) *text { t.b = i.AppendTo(t.b); return t }

// since is what was written from mark (a length of t) on. It stays as it
// is while t grows, since t only ever appends.
func (t *text) since(mark int) []byte { return t.b[mark:len(t.b):len(t.b)] }

// span is where a field's text lies in words.fields, before it is cut from
// the one string; the zero span is unset (or empty, which is the same).
type span struct{ from, to int }

func (t *text) spanSince(mark int) span { return span{mark, len(t.b)} }

func (s span) set() bool            { return s.to > s.from }
func (s span) of(str string) string { return str[s.from:s.to] }

// words is the space one judgement writes its text in, kept with its
// Result by JudgeInto (lent by spareWords to Judge). Every string the
// judgement makes is cut from one string made at the end (finish): one
// allocation per attempt, however many words. Those strings stay valid
// when the space is reused: a string is an immutable copy.
type words struct {
	// expl is the explanation, written in order. In Join's second look
	// (from the server's capture) it starts with the explanation the
	// result already had, kept bytes long.
	expl text
	kept int
	// fields holds the text of each field other than the explanation
	// (ICMP, SNI…), each written whole.
	fields text
	// Where each field's text lies in fields.
	icmp, sni, host, dnsName, rcode, icmpWhat span
	// tmp holds phrases written before their place in the explanation is
	// known: the handshake note, why a RST was judged to come from where.
	tmp text
	// lookup is what Result.DNS points to.
	lookup *Lookup
}

// spareWords lends words to Judge and to Join's second look, which start
// from a Result of their own each time: without it, each would grow new
// texts for every attempt.
var spareWords = sync.Pool{New: func() any { return new(words) }}

// giveBack returns words lent for r, which keeps the Lookup it points to.
func (w *words) giveBack(r *Result) {
	if r.DNS == w.lookup {
		w.lookup = nil
	}
	spareWords.Put(w)
}

// reset empties the words for the next judgement, keeping their room.
func (w *words) reset() {
	w.expl.b, w.fields.b, w.tmp.b = w.expl.b[:0], w.fields.b[:0], w.tmp.b[:0]
	w.kept = 0
	w.icmp, w.sni, w.host, w.dnsName, w.rcode, w.icmpWhat = span{}, span{}, span{}, span{}, span{}, span{}
}

// writeField appends a field's text to t: what w.fields holds at at while
// the field is being written, else s, the field as it was set before.
func (w *words) writeField(t *text, s string, at span) *text {
	if at.set() {
		return t.bytes(w.fields.b[at.from:at.to])
	}
	return t.str(s)
}

// finish makes the one string, the explanation followed by the fields,
// and gives each field written its part.
func (w *words) finish(r *Result) {
	if len(w.expl.b) == w.kept && len(w.fields.b) == 0 {
		return // nothing new: Join's second look found nothing to add
	}
	n := len(w.expl.b)
	w.expl.bytes(w.fields.b)
	s := string(w.expl.b)
	r.Explanation = s[:n]
	fields := s[n:]
	if w.icmp.set() {
		r.ICMP = w.icmp.of(fields)
	}
	if w.sni.set() {
		r.SNI = w.sni.of(fields)
	}
	if w.host.set() {
		r.HTTPHost = w.host.of(fields)
	}
	if r.DNS != nil && w.dnsName.set() {
		r.DNS.Name = w.dnsName.of(fields)
	}
	if r.DNS != nil && w.rcode.set() {
		r.DNS.RCode = w.rcode.of(fields)
	}
	if w.icmpWhat.set() {
		// The ICMP errors, which evidence left unnamed.
		for i := range r.Evidence {
			if r.Evidence[i].What == "" {
				r.Evidence[i].What = w.icmpWhat.of(fields)
			}
		}
	}
}

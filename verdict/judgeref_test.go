package verdict

import (
	"fmt"
	"strconv"

	"github.com/synpath/synpath/flows"
)

// What judging was before JudgeInto wrote its words in place: kept only as
// the reference joinref_test.go holds the join's words to.

// nameCauses is causes for a result already judged: Join's second look,
// from the server's capture.
func nameCauses(a *flows.Attempt, r *Result) {
	w := spareWords.Get().(*words)
	w.reset()
	w.kept = len(w.expl.str(r.Explanation).b)
	causes(a, r, w)
	w.finish(r)
	w.giveBack(r)
}

// set is judged with fmt, for Join: it rewrites the results of attempts
// both captures saw, far fewer than those judged.
func (r *Result) set(v Verdict, where Place, sure Confidence, why string, args ...any) {
	r.Verdict, r.Where, r.WhereSure = v, where, sure
	r.Explanation = fmt.Sprintf(why, args...)
}

// unknown is unknownAmong for Join, in new storage: Join keeps a copy of
// a result (what one capture said) that shares the old.
func (r *Result) unknown(candidates ...Place) {
	r.Where = Unknown
	r.Candidates = candidates
}

// unanswered is the words of (*text).unanswered, for Join.
func unanswered(a *flows.Attempt) string {
	var t text
	return string(t.unanswered(a).b)
}

// evidence is the evidence of a's events, for Join.
func evidence(a *flows.Attempt, side Vantage) []Evidence {
	icmpWhat := ""
	if hasEvent(a, flows.EvICMP) {
		icmpWhat = "ICMP " + a.ICMPInfo.Name()
	}
	ev := appendEvidence(make([]Evidence, 0, len(a.Events)), a.Events, side, icmpWhat)
	return ev
}

// mssWords is what (*text).mss writes, for Join.
func mssWords(mss uint16) string {
	if mss == 0 {
		return "none"
	}
	return strconv.FormatUint(uint64(mss), 10)
}

// count writes "1 SYN" or "4 SYNs".
func count(n uint32, noun string) string {
	var b [32]byte
	return string(appendCount(b[:0], n, noun))
}

// times writes "once", "twice" or "5 times".
func times(n uint32) string {
	var b [32]byte
	return string(appendTimes(b[:0], n))
}

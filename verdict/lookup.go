package verdict

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// DNSFailed is the verdict of a failed lookup: its own rows, apart from
// connection attempts.
const DNSFailed Verdict = "dns-failed"

// LookupResult is the judgement of a failed DNS lookup.
type LookupResult struct {
	Client, Server netip.AddrPort
	Tunnel         capture.Tunnel
	Name, QType    string
	Verdict        Verdict
	// RCode is the error answered (NXDOMAIN, SERVFAIL, REFUSED…), empty
	// when no answer came.
	RCode    string
	Answered bool
	Queries  uint32 // the query and its retries
	First    time.Time
	// Waited is how long the client went unanswered after its last query.
	Waited      time.Duration
	Explanation string
	Evidence    []capture.Ref // the first query, the answer
}

// JudgeLookup judges a lookup the tracker handed on as failed; ok is false
// when the capture ended too soon after the query to call it unanswered.
func JudgeLookup(l *flows.Lookup, wait time.Duration) (LookupResult, bool) {
	r := LookupResult{Client: l.Client, Server: l.Server, Tunnel: l.Tunnel, Name: l.Name.String(), QType: qtypeName(l.QType),
		Verdict: DNSFailed, Answered: l.Answered, Queries: l.Queries, First: l.First.TS}
	if r.First.IsZero() {
		r.First = l.Answer.TS
	}
	if !l.First.TS.IsZero() {
		r.Evidence = append(r.Evidence, l.First)
	}
	if l.Answered {
		r.RCode = RCodeName(l.RCode)
		r.Evidence = append(r.Evidence, l.Answer)
		r.Explanation = fmt.Sprintf("The resolver %s answered %s for %s (%s): the name did not resolve, so no connection could be tried.",
			l.Server.Addr(), r.RCode, r.Name, r.QType)
		return r, true
	}
	r.Waited = l.End.Sub(l.Last)
	// A client that asked again had given up waiting for the first answer;
	// one query is unanswered only once the capture shows wait after it.
	if l.EndedBy == flows.EndCapture && r.Waited < wait && l.Queries < 2 {
		return r, false
	}
	queries := "1 query"
	if l.Queries != 1 {
		queries = fmt.Sprintf("%d queries", l.Queries)
	}
	r.Explanation = fmt.Sprintf("%s for %s (%s) to %s got no answer in %s: the resolver is unreachable or silent.",
		queries, r.Name, r.QType, l.Server.Addr(), dur(r.Waited))
	return r, true
}

func qtypeName(t uint16) string {
	switch t {
	case capture.QTypeA:
		return "A"
	case capture.QTypeAAAA:
		return "AAAA"
	}
	return fmt.Sprintf("TYPE%d", t)
}

package report

import (
	"encoding/json"
	"io"
	"net/netip"
	"time"

	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/verdict"
)

// Record is one attempt as JSON Lines output carries it. Field names are
// a contract (SPEC.md): add, never rename.
type Record struct {
	Type            string   `json:"type"` // always "attempt": every line says what it is (SPEC)
	Client          string   `json:"client"`
	Server          string   `json:"server"`
	Tunnel          string   `json:"tunnel,omitempty"` // "vxlan vni 100", "gre key 7"
	Verdict         string   `json:"verdict"`
	Where           string   `json:"where"`
	Candidates      []string `json:"candidates"`
	WhereConfidence string   `json:"where_confidence"`
	Cause           string   `json:"cause,omitempty"`
	// FellBackTo is the server of the attempt the client moved on to while
	// this one was unanswered (Happy Eyeballs, a retry elsewhere).
	FellBackTo string `json:"fell_back_to,omitempty"`
	// AnsweredFrom is where SYN-ACKs acknowledging the SYN came from, when
	// not from the server (a reply that went around a NAT).
	AnsweredFrom        string         `json:"answered_from,omitempty"`
	SNI                 string         `json:"sni,omitempty"`
	HTTPHost            string         `json:"http_host,omitempty"`
	HTTPStatus          int            `json:"http_status,omitempty"`
	DNS                 *DNSJSON       `json:"dns,omitempty"`
	RSTOrigin           string         `json:"rst_origin"`
	RSTOriginConfidence string         `json:"rst_origin_confidence,omitempty"`
	ICMP                string         `json:"icmp"`
	Vantage             string         `json:"vantage"`
	FirstSYN            string         `json:"first_syn"`
	ISN                 uint32         `json:"isn"`
	SYNSent             *int           `json:"syn_sent"`
	SYNSeenByServer     *int           `json:"syn_seen_by_server"`
	SYNACKSent          *int           `json:"synack_sent"`
	SYNACKSeenByClient  *int           `json:"synack_seen_by_client"`
	RTTms               *float64       `json:"rtt_ms"`
	ClockOffsetms       *float64       `json:"clock_offset_ms"`
	ClockErrorms        *float64       `json:"clock_error_ms,omitempty"`
	NAT                 NAT            `json:"nat"`
	Match               string         `json:"match,omitempty"`
	Explanation         string         `json:"explanation"`
	SettleWith          string         `json:"settle_with,omitempty"`
	Evidence            []EvidenceJSON `json:"evidence"`
	// WiresharkFilter is a display filter isolating the attempt: its
	// 4-tuple and a time window around its packets.
	WiresharkFilter string `json:"wireshark_filter,omitempty"`
	// CommunityID is the Community ID v1 of the connection, as Zeek,
	// Suricata and Arkime log it.
	CommunityID string `json:"community_id,omitempty"`
	// Update marks, in live capture, a line that revises the verdict an
	// earlier line gave the same attempt (client, server, isn).
	Update bool `json:"update,omitempty"`
	// CaptureDrops is, in live capture, how many packets the kernel dropped
	// while the attempt was tracked: its verdict may miss some.
	CaptureDrops uint64 `json:"capture_drops,omitempty"`
}

// DNSJSON is the lookup whose answer held the server's address (SPEC dns):
// lookup_ms is how long before the first SYN the answer came.
type DNSJSON struct {
	Name     string   `json:"name"`
	Answer   string   `json:"answer"`
	RCode    string   `json:"rcode"`
	LookupMs *float64 `json:"lookup_ms"`
	// Stale: a newer answer for the name no longer held this address;
	// Current is what it gave.
	Stale   bool   `json:"stale,omitempty"`
	Current string `json:"current,omitempty"`
}

// NAT holds the endpoints the server's capture shows when they differ from
// the client's.
type NAT struct {
	ClientSeenByServer string `json:"client_seen_by_server,omitempty"`
	ServerSeenByServer string `json:"server_seen_by_server,omitempty"`
	// In the capture of a host that translated the connection, its
	// translated view says what the client's view is under.
	ClientSeenByClient string `json:"client_seen_by_client,omitempty"`
	ServerSeenByClient string `json:"server_seen_by_client,omitempty"`
}

// EvidenceJSON is one packet behind a verdict.
type EvidenceJSON struct {
	File   string `json:"file"`
	Packet uint64 `json:"packet"`
	Time   string `json:"time"`
	What   string `json:"what"`
	Dir    string `json:"dir"` // "c2s" or "s2c"
	TTL    uint8  `json:"ttl"`
	Len    uint32 `json:"len,omitempty"`
}

// TimeFormat is RFC 3339 with nanoseconds, in UTC.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// NewRecord converts a verdict to its JSON schema. JSONWriter writes the
// same bytes encoding/json makes of it, without making it.
func NewRecord(r *verdict.Result) Record {
	rec := Record{
		Type:                "attempt",
		Client:              r.Client.String(),
		Server:              r.Server.String(),
		Tunnel:              r.Tunnel.String(),
		Verdict:             string(r.Verdict),
		Where:               string(r.Where),
		Candidates:          make([]string, 0, len(r.Candidates)), // never nil: an empty list is [] in JSON
		WhereConfidence:     string(r.WhereSure),
		Cause:               string(r.Cause),
		FellBackTo:          addrIfSet(r.FellBackTo),
		AnsweredFrom:        addrIfSet(r.AnsweredFrom),
		SNI:                 r.SNI,
		HTTPHost:            r.HTTPHost,
		HTTPStatus:          r.HTTPStatus,
		RSTOrigin:           string(r.RSTOrigin),
		RSTOriginConfidence: string(r.OriginSure),
		ICMP:                r.ICMP,
		Vantage:             string(r.Vantage),
		FirstSYN:            formatTime(r.FirstSYN),
		ISN:                 r.ISN,
		SYNSent:             count(r.SYNSent),
		SYNSeenByServer:     count(r.SYNSeenByServer),
		SYNACKSent:          count(r.SYNACKSent),
		SYNACKSeenByClient:  count(r.SYNACKSeenByClient),
		NAT: NAT{ClientSeenByServer: addrIfSet(r.ClientSeenByServer), ServerSeenByServer: addrIfSet(r.ServerSeenByServer),
			ClientSeenByClient: addrIfSet(r.ClientSeenByClient), ServerSeenByClient: addrIfSet(r.ServerSeenByClient)},
		Match:           r.Match,
		Explanation:     r.Explanation,
		SettleWith:      r.Settle,
		Evidence:        make([]EvidenceJSON, 0, len(r.Evidence)),
		WiresharkFilter: WiresharkFilter(r),
		CommunityID:     CommunityID(r),
	}
	for _, c := range r.Candidates {
		rec.Candidates = append(rec.Candidates, string(c))
	}
	if r.RTT >= 0 {
		rec.RTTms = ms(r.RTT)
	}
	if r.HasClockOffset {
		rec.ClockOffsetms = ms(r.ClockOffset)
		if r.ClockError >= 0 {
			rec.ClockErrorms = ms(r.ClockError)
		}
	}
	if d := r.DNS; d != nil {
		rec.DNS = &DNSJSON{Name: d.Name, Answer: d.Answer.String(), RCode: d.RCode, LookupMs: ms(d.Before), Stale: d.Stale}
		if d.Stale {
			rec.DNS.Current = d.Current.String()
		}
	}
	for _, e := range r.Evidence {
		rec.Evidence = append(rec.Evidence, EvidenceJSON{File: e.File, Packet: e.N, Time: formatTime(e.TS), What: e.What,
			Dir: evidenceDir(e.TowardServer()), TTL: e.TTL, Len: e.Len})
	}
	return rec
}

// evidenceDir is the way a packet travelled: c2s towards the server, s2c
// towards the client (an ICMP error, back towards the sender of the packet
// it quotes).
func evidenceDir(towardServer bool) string {
	if towardServer {
		return "c2s"
	}
	return "s2c"
}

// formatTime formats t in UTC as TimeFormat does; time.Format's general
// layout engine was a tenth of a large-capture run.
func formatTime(t time.Time) string {
	var b [30]byte
	return string(appendTime(b[:0], t))
}

// appendTime appends formatTime(t) to b.
func appendTime(b []byte, t time.Time) []byte {
	p, ok := timePrefix(t)
	if !ok {
		return append(b, t.UTC().Format(TimeFormat)...)
	}
	b = append(b, p[:]...)
	return appendNanos(b, t.Nanosecond())
}

// timePrefix is t's date and time of day in UTC, to the second, as
// TimeFormat writes them up to the dot; false for years of other than
// four digits, which the layout engine writes.
func timePrefix(t time.Time) (p [20]byte, ok bool) {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	if year < 0 || year > 9999 {
		return p, false
	}
	digits(p[0:4], year)
	p[4] = '-'
	digits(p[5:7], int(month))
	p[7] = '-'
	digits(p[8:10], day)
	p[10] = 'T'
	digits(p[11:13], hour)
	p[13] = ':'
	digits(p[14:16], min)
	p[16] = ':'
	digits(p[17:19], sec)
	p[19] = '.'
	return p, true
}

// appendNanos appends what TimeFormat writes after the dot.
func appendNanos(b []byte, ns int) []byte {
	var a [10]byte
	nanoDigits(a[:], ns)
	a[9] = 'Z'
	return append(b, a[:]...)
}

// nanoDigits is digits(b[:9], ns) for 0 ≤ ns < 1e9, in three groups of
// three whose divisions do not wait on each other: a line writes a
// dozen times, and a chain of divisions was most of one.
func nanoDigits(b []byte, ns int) {
	n := uint32(ns)
	threeDigits(b[0:3], n/1e6)
	threeDigits(b[3:6], n/1e3%1e3)
	threeDigits(b[6:9], n%1e3)
}

// threeDigits writes 0 ≤ n < 1000 into b[:3], zero-padded.
func threeDigits(b []byte, n uint32) {
	b = b[:3]
	b[0], b[1], b[2] = byte('0'+n/100), digitPairs[2*(n%100)], digitPairs[2*(n%100)+1]
}

// digitPairs holds 00 to 99.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// digits writes n ≥ 0 into b, zero-padded to len(b), two digits a
// division.
func digits(b []byte, n int) {
	i := len(b)
	for ; i >= 2; i -= 2 {
		q := n / 100
		r := 2 * (n - 100*q)
		b[i-2], b[i-1] = digitPairs[r], digitPairs[r+1]
		n = q
	}
	if i == 1 {
		b[0] = byte('0' + n%10)
	}
}

// count is n, or nil for -1 (not known from this vantage).
func count(n int) *int {
	if n < 0 {
		return nil
	}
	return &n
}

// ms is d in milliseconds, rounded to the microsecond: enough for any
// capture clock.
func ms(d time.Duration) *float64 {
	f := msFloat(d)
	return &f
}

func msFloat(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}

func addrIfSet(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// JSONWriter writes one JSON object per line, as verdicts arrive, one
// write per line so that a reader of a pipe sees whole lines at once.
type JSONWriter struct {
	w   io.Writer
	buf []byte
	enc encoder
}

// NewJSONWriter returns a JSONWriter on w.
func NewJSONWriter(w io.Writer) *JSONWriter { return &JSONWriter{w: w} }

// Write writes one verdict.
func (j *JSONWriter) Write(r *verdict.Result) error {
	return j.WriteLive(r, Live{})
}

// Live is what live capture adds to a verdict line.
type Live struct {
	// Update: this line revises the verdict of an earlier one.
	Update bool
	// CaptureDrops: packets the kernel dropped while the attempt was
	// tracked.
	CaptureDrops uint64
}

// WriteLive writes one verdict with what live capture knows of it.
func (j *JSONWriter) WriteLive(r *verdict.Result, l Live) error {
	j.buf = j.enc.appendResult(j.buf[:0], r, l)
	_, err := j.w.Write(j.buf)
	return err
}

// MidstreamRecord is a connection whose SYN was not captured, listed with
// --midstream: not an attempt, so it has no verdict.
type MidstreamRecord struct {
	Type      string       `json:"type"`      // always "midstream"
	Midstream bool         `json:"midstream"` // always true: tells these lines from attempts
	From      string       `json:"from"`
	To        string       `json:"to"`
	First     EvidenceJSON `json:"first_packet"`
	Last      string       `json:"last_time"`
	Packets   uint64       `json:"packets"`
}

// WriteMidstream writes one connection seen without its SYN. These lines
// are rare and only on request, so encoding/json does.
func (j *JSONWriter) WriteMidstream(m *flows.Midstream) error {
	rec := MidstreamRecord{
		Type: "midstream", Midstream: true, From: m.From.String(), To: m.To.String(),
		First:   EvidenceJSON{File: m.First.File, Packet: m.First.N, Time: formatTime(m.First.TS), What: "first packet", Dir: "c2s"},
		Last:    formatTime(m.Last),
		Packets: m.Packets,
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = j.w.Write(append(b, '\n'))
	return err
}

// SummaryRecord ends JSON Lines output with --with-summary: what was
// read, skipped and judged, per file and per verdict.
type SummaryRecord struct {
	Type     string         `json:"type"` // always "summary"
	Files    []FileSummary  `json:"files"`
	Attempts int            `json:"attempts"` // judged (and inside --since/--until)
	Failed   int            `json:"failed"`
	Verdicts map[string]int `json:"verdicts"`
	// OutsideWindow counts attempts left out by --since/--until.
	OutsideWindow int      `json:"outside_window"`
	Notes         []string `json:"notes"`
	Warnings      []string `json:"warnings"`
}

// FileSummary is what was read from one capture file.
type FileSummary struct {
	File      string `json:"file"`
	Vantage   string `json:"vantage"`
	Packets   uint64 `json:"packets"`
	TCP       uint64 `json:"tcp"`
	ICMP      uint64 `json:"icmp"`
	Skipped   uint64 `json:"skipped"`
	Malformed uint64 `json:"malformed"`
	Truncated uint64 `json:"truncated"`
	Attempts  uint64 `json:"attempts"`
	Midstream uint64 `json:"midstream"`
	// Dropped is what the capture's own statistics say it dropped;
	// CaptureGaps the attempts whose ends acknowledged data it lacks.
	Dropped     uint64 `json:"dropped"`
	CaptureGaps uint64 `json:"capture_gaps"`
	First       string `json:"first_packet,omitempty"`
	Last        string `json:"last_packet,omitempty"`
	// RanFrom and RanUntil: when the capture ran, as the file's own
	// statistics prove it (pcapng, dumpcap); absent when it does not say.
	RanFrom  string `json:"ran_from,omitempty"`
	RanUntil string `json:"ran_until,omitempty"`
}

// NewSummaryRecord gathers the footer and the verdict counts.
func NewSummaryRecord(f Footer, counts map[verdict.Verdict]int, outside int) SummaryRecord {
	rec := SummaryRecord{Type: "summary", Files: []FileSummary{}, Verdicts: map[string]int{}, OutsideWindow: outside,
		Notes: append([]string{}, f.Notes...), Warnings: append([]string{}, f.Warnings...)}
	for _, s := range f.Sources {
		fs := FileSummary{File: s.Name, Vantage: s.Vantage, Packets: s.Packets, TCP: s.TCP, ICMP: s.ICMP, Skipped: s.Skipped,
			Malformed: s.Malformed, Truncated: s.Truncated, Attempts: s.Attempts, Midstream: s.Midstream,
			Dropped: s.Dropped, CaptureGaps: s.Gaps}
		if !s.First.IsZero() {
			fs.First, fs.Last = formatTime(s.First), formatTime(s.Last)
		}
		if !s.RanFrom.IsZero() {
			fs.RanFrom, fs.RanUntil = formatTime(s.RanFrom), formatTime(s.RanUntil)
		}
		rec.Files = append(rec.Files, fs)
	}
	for v, n := range counts {
		rec.Verdicts[string(v)] = n
		rec.Attempts += n
		if v.Failed() {
			rec.Failed += n
		}
	}
	return rec
}

// WriteSummary writes the summary line. Once a run, so encoding/json does.
func (j *JSONWriter) WriteSummary(rec SummaryRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = j.w.Write(append(b, '\n'))
	return err
}

// DNSRecord is a failed DNS lookup: its own line, apart from attempts.
type DNSRecord struct {
	Type        string         `json:"type"` // always "dns"
	Client      string         `json:"client"`
	Server      string         `json:"server"`
	Tunnel      string         `json:"tunnel,omitempty"`
	Name        string         `json:"name"`
	QType       string         `json:"qtype"`
	Verdict     string         `json:"verdict"` // "dns-failed"
	RCode       string         `json:"rcode"`   // empty: no answer
	Answered    bool           `json:"answered"`
	Queries     uint32         `json:"queries"`
	FirstQuery  string         `json:"first_query"`
	Explanation string         `json:"explanation"`
	Evidence    []EvidenceJSON `json:"evidence"`
}

// NewDNSRecord converts a failed lookup to its JSON schema.
func NewDNSRecord(l *verdict.LookupResult) DNSRecord {
	rec := DNSRecord{Type: "dns", Client: l.Client.String(), Server: l.Server.String(), Tunnel: l.Tunnel.String(),
		Name: l.Name, QType: l.QType, Verdict: string(l.Verdict), RCode: l.RCode, Answered: l.Answered, Queries: l.Queries,
		FirstQuery: formatTime(l.First), Explanation: l.Explanation, Evidence: []EvidenceJSON{}}
	for i, e := range l.Evidence {
		what, dir := "query", "c2s"
		if i > 0 {
			what, dir = "answer", "s2c"
		}
		rec.Evidence = append(rec.Evidence, EvidenceJSON{File: e.File, Packet: e.N, Time: formatTime(e.TS), What: what, Dir: dir})
	}
	return rec
}

// WriteDNS writes one failed lookup. These lines are rare, so
// encoding/json does.
func (j *JSONWriter) WriteDNS(l *verdict.LookupResult) error {
	b, err := json.Marshal(NewDNSRecord(l))
	if err != nil {
		return err
	}
	_, err = j.w.Write(append(b, '\n'))
	return err
}

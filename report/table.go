package report

import (
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/verdict"
)

// Source is what was read from one capture file, for the footer.
type Source struct {
	Name      string
	Vantage   string // what the attempts in it were judged from
	Packets   uint64
	TCP       uint64
	ICMP      uint64
	Skipped   uint64
	Malformed uint64
	Truncated uint64
	Attempts  uint64
	Midstream uint64 // connections whose SYN was not captured
	// Dropped is what the capture's own statistics say it dropped
	// (pcapng interface statistics).
	Dropped uint64
	// Gaps counts attempts whose ends acknowledged data the capture does
	// not hold (flows.Counts.Gaps): it missed packets, statistics or not.
	// A group of rotated files counts them on its last file.
	Gaps uint64
	// First and Last are the times of the first and last packet.
	First, Last time.Time
	// RanFrom and RanUntil are when the capture ran, where the file proves
	// it (capture.Reader.Ran: dumpcap's statistics): before its first
	// packet and after its last, it saw nothing. Zero when unknown.
	RanFrom, RanUntil time.Time
}

// Table collects verdicts, then renders them for people: a sample of the
// attempts, failures first, summaries per server and per client, a
// timeline, and a footer. Memory is bounded whatever the capture's size:
// it keeps counts, and only the attempts it will list.
type Table struct {
	FailedOnly bool // list failed attempts only (the summaries still count all)
	// MaxRows bounds the attempts listed; 0: up to maxListedRows. The list
	// is a sample: every failure kind and every failing server, then
	// failures at random, then established attempts.
	MaxRows int
	// Top bounds the rows of each summary, worst first; 0: all.
	Top int
	// SummaryOnly lists no attempt, only the summaries, the timeline and
	// the footer (live capture has printed each attempt as it was judged).
	SummaryOnly bool
	ASCII       bool // no box-drawing characters, for terminals that are not UTF-8
	Explain     bool // draw a ladder diagram of each failed attempt
	Color       bool // colour verdicts (a terminal that wants it)

	init     bool
	n        counts
	sample   *sample
	servers  *summary[netip.AddrPort]
	clients  *summary[netip.Addr]
	nets     *summary[netip.Prefix]
	timeline timeline
	paths    pathCounts
	// translated counts the translated views of connections a host the
	// capture was taken on passed on under other addresses: each is
	// listed and counted once, under its client's addresses.
	translated int
	// midstream keeps the earliest connections seen without their SYN,
	// midstreamN counts them all.
	midstream  []flows.Midstream
	midstreamN int
	// dns keeps the first failed lookups, dnsN counts them all.
	dns  []verdict.LookupResult
	dnsN int
}

// maxListedRows bounds --rows 0: a listing longer than this is for JSON.
const maxListedRows = 10000

func (t *Table) start() {
	if t.init {
		return
	}
	t.init = true
	rows := t.MaxRows
	if rows <= 0 || rows > maxListedRows {
		rows = maxListedRows
	}
	if t.SummaryOnly {
		rows = 0
	}
	t.sample = newSample(rows)
	t.servers = newSummary(func(a, b netip.AddrPort) int { return a.Compare(b) }, netip.AddrPort.String)
	t.clients = newSummary(func(a, b netip.Addr) int { return a.Compare(b) }, netip.Addr.String)
	t.nets = newSummary(comparePrefix, netip.Prefix.String)
}

// AddMidstream counts a connection seen without its SYN, and keeps the
// earliest ones for listing.
func (t *Table) AddMidstream(m flows.Midstream) {
	t.midstreamN++
	t.midstream = append(t.midstream, m)
	if len(t.midstream) >= 4*maxMidstreamRows {
		t.trimMidstream()
	}
}

func (t *Table) trimMidstream() {
	slices.SortStableFunc(t.midstream, func(a, b flows.Midstream) int { return a.First.TS.Compare(b.First.TS) })
	if len(t.midstream) > maxMidstreamRows {
		t.midstream = slices.Clip(t.midstream[:maxMidstreamRows])
	}
}

// Add counts one verdict, and keeps a copy of it if it may be listed: the
// caller may reuse r's storage for the next (verdict.JudgeInto).
func (t *Table) Add(r verdict.Result) {
	t.start()
	if r.ClientSeenByClient.IsValid() || r.ServerSeenByClient.IsValid() {
		t.translated++
		return
	}
	vi := verdictIndex(r.Verdict)
	t.n[vi]++
	firstServer := t.servers.add(r.Server, vi, r.FirstSYN)
	client := r.Client.Addr().Unmap()
	t.clients.add(client, vi, r.FirstSYN)
	t.nets.add(clientNet(client), vi, r.FirstSYN)
	t.timeline.add(r.FirstSYN, vi, r.Server)
	t.paths.add(&r)
	failed := vi != 0
	if t.FailedOnly && !failed {
		return
	}
	rank := rankEstablished
	switch {
	case t.n[vi] == 1:
		rank = rankFirstOfVerdict
	case failed && firstServer:
		rank = rankFirstOfServer
	case failed:
		rank = rankFailure
	}
	t.sample.add(&r, rank)
}

// Counts returns how many attempts got each verdict.
func (t *Table) Counts() map[verdict.Verdict]int {
	m := map[verdict.Verdict]int{}
	for i, n := range t.n {
		if n > 0 {
			m[verdictOrder[i]] = n
		}
	}
	return m
}

// Footer is what the run read and noticed, printed below the verdicts.
type Footer struct {
	Sources  []Source
	Notes    []string // facts worth knowing (the clock offset applied)
	Warnings []string // things that limit the answer (a capture cut short)
}

// Render writes the listed attempts, the summaries, the timeline and the
// footer.
func (t *Table) Render(w io.Writer, f Footer) error {
	t.start()
	shown := t.sample.results()
	total := t.n.total()
	if len(shown) > 0 {
		arrow := "→"
		if t.ASCII {
			arrow = "->"
		}
		tbl := t.newTable(w)
		tbl.Header("#", "client "+arrow+" server", "verdict", "where", "SYNs", "RTT", "first SYN")
		for i, r := range shown {
			if err := tbl.Append(fmt.Sprint(i+1), r.Client.String()+"\n"+arrow+" "+r.Server.String(), t.verdictText(r.Verdict)+verdictNote(&r), place(&r),
				synCount(&r, arrow), t.text(rttText(r.RTT)), r.FirstSYN.UTC().Format("15:04:05.000")); err != nil {
				return err
			}
		}
		if err := tbl.Render(); err != nil {
			return err
		}
		if hidden := t.sample.offered - len(shown); hidden > 0 {
			t.wrap(w, t.hiddenText(hidden, shown))
		}
		fmt.Fprintln(w)
		for i, r := range shown {
			if !r.Verdict.Failed() && len(shown) > 20 {
				continue // established attempts speak for themselves in bulk
			}
			text := fmt.Sprintf("#%d %s: %s", i+1, r.Verdict, r.Explanation)
			if r.Settle != "" {
				text += " (" + capitalizeFirst(r.Settle) + ".)"
			}
			if r.Verdict.Failed() && !t.Explain {
				text += " Evidence: " + evidenceRefs(r.Evidence, 6) + "."
			}
			t.wrap(w, text)
		}
		if t.Explain {
			for i, r := range shown {
				if !r.Verdict.Failed() {
					continue
				}
				fmt.Fprintf(w, "\n#%d %s %s %s\n", i+1, r.Client, arrow, r.Server)
				if err := WriteLadder(w, &r, t.ASCII); err != nil {
					return err
				}
				t.wrap(w, "Wireshark filter: "+WiresharkFilter(&r))
				t.wrap(w, "Community ID: "+CommunityID(&r))
			}
		}
	} else if total == 0 {
		fmt.Fprintln(w, "No connection attempts (no SYN) in the capture.")
	} else if !t.SummaryOnly && t.n.failed() == 0 {
		fmt.Fprintf(w, "All %d connection attempts were established.\n", total)
	}
	if total > 0 {
		if err := t.summaries(w); err != nil {
			return err
		}
		t.renderTimeline(w)
	}
	if err := t.renderDNS(w); err != nil {
		return err
	}
	if err := t.renderMidstream(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if line := t.paths.String(); line != "" {
		t.wrap(w, line)
	}
	if line := t.translatedText(); line != "" {
		t.wrap(w, line)
	}
	for _, n := range f.Notes {
		t.wrap(w, n)
	}
	for _, s := range f.Sources {
		line := fmt.Sprintf("read %s (%s): %d packets, %d TCP, %d ICMP errors, %d other skipped, %d malformed, %d cut short; %d attempts, %d connections without a captured SYN",
			s.Name, s.Vantage, s.Packets, s.TCP, s.ICMP, s.Skipped, s.Malformed, s.Truncated, s.Attempts, s.Midstream)
		if !s.RanFrom.IsZero() {
			line += fmt.Sprintf("; it ran %s to %s, its own statistics say", s.RanFrom.UTC().Format("15:04:05.000"), s.RanUntil.UTC().Format("15:04:05.000 MST"))
		}
		t.wrap(w, line)
	}
	for _, warn := range f.Warnings {
		t.wrap(w, "warning: "+warn)
	}
	return nil
}

// translatedText says how many translated views the table folded.
func (t *Table) translatedText() string {
	if t.translated == 0 {
		return ""
	}
	return fmt.Sprintf("%d of these connections are also in the capture under the addresses its host translated them to, and are listed and counted once, under their clients' (--format json gives both views, each naming the other in nat).", t.translated)
}

// hiddenText says what the sample left out, and how it was drawn.
func (t *Table) hiddenText(hidden int, shown []verdict.Result) string {
	text := fmt.Sprintf("… %d more attempts not listed. The list is a sample: the first attempt of each verdict and the first failure of each failing server, then failures drawn at random", hidden)
	if !t.FailedOnly {
		text += ", then established ones"
	}
	text += " (--rows N lists more; --format json writes every one)."
	// Failing servers that have no attempt in the list.
	listed := map[netip.AddrPort]bool{}
	for _, r := range shown {
		if r.Verdict.Failed() {
			listed[r.Server] = true
		}
	}
	missing := 0
	for i := range t.servers.rows {
		if row := &t.servers.rows[i]; row.failed() > 0 && !listed[row.key] {
			missing++
		}
	}
	if missing > 0 {
		text += fmt.Sprintf(" %d failing servers have no attempt listed.", missing)
	}
	return text
}
func (t *Table) newTable(w io.Writer) *tablewriter.Table {
	style := tw.StyleLight
	if t.ASCII {
		style = tw.StyleASCII
	}
	opts := []tablewriter.Option{
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(style)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	}
	return tablewriter.NewTable(w, opts...)
}

// verdictNote is the second line of a row's verdict: what the words say
// that the table would otherwise hide (the cause, a client that moved on,
// answers from another address), no wider than "established", so that
// the table keeps its width.
func verdictNote(r *verdict.Result) string {
	switch {
	case r.Cause != "":
		return "\n" + causeNote(r.Cause)
	case r.FellBackTo.IsValid():
		return "\nfell back"
	case r.AnsweredFrom.IsValid():
		return "\nother src"
	}
	return ""
}

// causeNote is a cause as verdictNote writes it.
func causeNote(c verdict.Cause) string {
	switch c {
	case verdict.CausePMTU:
		return "PMTU hole"
	case verdict.CauseBlockedHello:
		return "after hello"
	case verdict.CauseAcceptQueue:
		return "queue full"
	case verdict.CauseGateway:
		return "gateway err"
	case verdict.CauseStaleConnection:
		return "stale conn"
	case verdict.CauseBadChecksum:
		return "bad cksum"
	case verdict.CauseECNSetupDropped:
		return "ECN SYN lost"
	}
	return string(c)
}

func place(r *verdict.Result) string {
	if r.Where == verdict.Unknown && len(r.Candidates) > 0 {
		s := make([]string, len(r.Candidates))
		for i, c := range r.Candidates {
			s[i] = string(c)
		}
		return "? " + strings.ReplaceAll(strings.Join(s, "|"), "-path", "")
	}
	return string(r.Where)
}

// synCount is the SYNs the client sent, or the server saw; with both
// captures, sent→arrived.
func synCount(r *verdict.Result, arrow string) string {
	switch {
	case r.SYNSent >= 0 && r.SYNSeenByServer >= 0:
		return fmt.Sprintf("%d%s%d", r.SYNSent, arrow, r.SYNSeenByServer)
	case r.SYNSent >= 0:
		return fmt.Sprint(r.SYNSent)
	case r.SYNSeenByServer >= 0:
		return fmt.Sprint(r.SYNSeenByServer)
	}
	return "-"
}

func rttText(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return d.Round(time.Microsecond).String()
}

// wrap writes text for people: wrapped at 100 columns, continuation lines
// indented, and in ASCII when the terminal wants it.
func (t *Table) wrap(w io.Writer, text string) {
	writeWrapped(w, t.text(text), 100, "   ")
}

// text is s as the terminal can show it.
func (t *Table) text(s string) string {
	if t.ASCII {
		return toASCII(s)
	}
	return s
}

// writeWrapped writes text wrapped at width columns, continuation lines
// indented.
func writeWrapped(w io.Writer, text string, width int, indent string) {
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len([]rune(line))+1+len([]rune(word)) > width {
			fmt.Fprintln(w, line)
			line = indent + word
			continue
		}
		if line == "" {
			line = word
		} else if strings.TrimSpace(line) == "" {
			line += word
		} else {
			line += " " + word
		}
	}
	if line != "" {
		fmt.Fprintln(w, line)
	}
}

func capitalizeFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// pathCounts adds up, over attempts seen in both captures, the SYNs and
// SYN-ACKs each direction of the path lost.
type pathCounts struct{ synSent, synGot, ackSent, ackGot, n int }

func (p *pathCounts) add(r *verdict.Result) {
	// An attempt the other capture saw only part of would count the
	// packets it missed as lost.
	if r.Partial || r.SYNSent < 0 || r.SYNSeenByServer < 0 || r.SYNACKSent < 0 || r.SYNACKSeenByClient < 0 {
		return
	}
	p.n++
	p.synSent += r.SYNSent
	p.synGot += min(r.SYNSeenByServer, r.SYNSent)
	p.ackSent += r.SYNACKSent
	p.ackGot += min(r.SYNACKSeenByClient, r.SYNACKSent)
}

func (p *pathCounts) String() string {
	if p.n == 0 {
		return ""
	}
	return fmt.Sprintf("paths, over %d attempts seen from both ends: outbound lost %d of %d SYNs; return lost %d of %d SYN-ACKs",
		p.n, p.synSent-p.synGot, p.synSent, p.ackSent-p.ackGot, p.ackSent)
}

// evidenceRefs lists up to max packets as file:frame@time, the first ones
// and the last, which is where a failure shows.
func evidenceRefs(ev []verdict.Evidence, max int) string {
	var parts []string
	for i, e := range ev {
		if len(ev) > max && i == max-2 {
			parts = append(parts, fmt.Sprintf("… %d more", len(ev)-max+1))
		}
		if len(ev) > max && i >= max-2 && i < len(ev)-1 {
			continue
		}
		ref := e.Ref
		ref.File = filepath.Base(ref.File)
		parts = append(parts, ref.String()+" "+e.What)
	}
	return strings.Join(parts, ", ")
}

// maxMidstreamRows bounds the listing: a capture started mid-transfer can
// hold thousands.
const maxMidstreamRows = 50

func (t *Table) renderMidstream(w io.Writer) error {
	if len(t.midstream) == 0 {
		return nil
	}
	t.trimMidstream()
	fmt.Fprintf(w, "\nConnections without a captured SYN (not judged): %d\n", t.midstreamN)
	tbl := t.newTable(w)
	tbl.Header("from", "to", "pkts", "first frame", "last at")
	for _, m := range t.midstream {
		ref := m.First
		ref.File = filepath.Base(ref.File)
		if err := tbl.Append(m.From.String(), m.To.String(), fmt.Sprint(m.Packets), ref.String(), m.Last.UTC().Format("15:04:05.000000")); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	if more := t.midstreamN - len(t.midstream); more > 0 {
		fmt.Fprintln(w, t.text(fmt.Sprintf("… and %d more", more)))
	}
	return nil
}

// maxDNSRows bounds the failed lookups listed; all are counted.
const maxDNSRows = 50

// AddDNS counts a failed lookup, and keeps the first ones for listing.
func (t *Table) AddDNS(l verdict.LookupResult) {
	t.dnsN++
	if len(t.dns) < maxDNSRows {
		t.dns = append(t.dns, l)
	}
}

// renderDNS lists failed lookups apart from the attempts.
func (t *Table) renderDNS(w io.Writer) error {
	if t.dnsN == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nFailed DNS lookups (before any connection could be tried): %d\n", t.dnsN)
	tbl := t.newTable(w)
	tbl.Header("name", "client", "resolver", "result", "queries", "first query")
	for _, l := range t.dns {
		result := l.RCode
		if !l.Answered {
			result = "no answer"
		}
		if err := tbl.Append(l.Name+" "+l.QType, l.Client.Addr().String(), l.Server.String(), result, fmt.Sprint(l.Queries), l.First.UTC().Format("15:04:05.000")); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	if t.dnsN > len(t.dns) {
		fmt.Fprintln(w, t.text(fmt.Sprintf("… and %d more (--format json lists every one)", t.dnsN-len(t.dns))))
	}
	return nil
}

package report

import (
	"fmt"
	"io"
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
	// First and Last are the times of the first and last packet.
	First, Last time.Time
}

// Table collects verdicts, then renders them for people: one row per
// attempt, failures first, a summary per server and a footer.
type Table struct {
	FailedOnly bool // list failed attempts only (the summary still counts all)
	// MaxRows bounds the attempts listed (failures come first); 0: all.
	// The summary always counts every attempt.
	MaxRows int
	// SummaryOnly lists no attempt, only the summary and the footer (live
	// capture has printed each attempt as it was judged).
	SummaryOnly bool
	ASCII       bool // no box-drawing characters, for terminals that are not UTF-8
	Explain     bool // draw a ladder diagram of each failed attempt
	results     []verdict.Result
	midstream   []flows.Midstream
	// The summary is counted as verdicts come, so that SummaryOnly (live
	// capture, for hours) keeps no result.
	n     int
	tally map[string]map[verdict.Verdict]int
	paths pathCount
}

// AddMidstream keeps a connection seen without its SYN, for listing.
func (t *Table) AddMidstream(m flows.Midstream) { t.midstream = append(t.midstream, m) }

// Add keeps one verdict for rendering; with SummaryOnly, only counts it.
func (t *Table) Add(r verdict.Result) {
	t.n++
	if t.tally == nil {
		t.tally = map[string]map[verdict.Verdict]int{}
	}
	s := r.Server.String()
	if t.tally[s] == nil {
		t.tally[s] = map[verdict.Verdict]int{}
	}
	t.tally[s][r.Verdict]++
	t.paths.add(&r)
	if !t.SummaryOnly {
		t.results = append(t.results, r)
	}
}

// Footer is what the run read and noticed, printed below the verdicts.
type Footer struct {
	Sources  []Source
	Notes    []string // facts worth knowing (the clock offset applied)
	Warnings []string // things that limit the answer (a capture cut short)
}

// Render writes the table, the summary and the footer.
func (t *Table) Render(w io.Writer, f Footer) error {
	slices.SortStableFunc(t.results, func(a, b verdict.Result) int {
		if fa, fb := a.Verdict.Failed(), b.Verdict.Failed(); fa != fb {
			if fa {
				return -1
			}
			return 1
		}
		return a.FirstSYN.Compare(b.FirstSYN)
	})
	shown := t.results
	if t.FailedOnly {
		shown = slices.DeleteFunc(slices.Clone(t.results), func(r verdict.Result) bool { return !r.Verdict.Failed() })
	}
	if t.SummaryOnly {
		shown = nil
	}
	hidden := 0
	if t.MaxRows > 0 && len(shown) > t.MaxRows {
		hidden = len(shown) - t.MaxRows
		shown = shown[:t.MaxRows]
	}
	if len(shown) > 0 {
		arrow := "→"
		if t.ASCII {
			arrow = "->"
		}
		tbl := t.newTable(w)
		tbl.Header("#", "client "+arrow+" server", "verdict", "where", "SYNs", "RTT", "first SYN")
		for i, r := range shown {
			if err := tbl.Append(fmt.Sprint(i+1), r.Client.String()+"\n"+arrow+" "+r.Server.String(), string(r.Verdict), place(&r),
				synCount(&r, arrow), t.text(rttText(r.RTT)), r.FirstSYN.UTC().Format("15:04:05.000")); err != nil {
				return err
			}
		}
		if err := tbl.Render(); err != nil {
			return err
		}
		if hidden > 0 {
			t.wrap(w, fmt.Sprintf("… %d more attempts not listed (--rows 0 lists all; --format json writes every one).", hidden))
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
			}
		}
	} else if t.n == 0 {
		fmt.Fprintln(w, "No connection attempts (no SYN) in the capture.")
	} else if !t.SummaryOnly {
		fmt.Fprintf(w, "All %d connection attempts were established.\n", t.n)
	}
	if t.n > 0 {
		fmt.Fprintln(w)
		if err := t.summary(w); err != nil {
			return err
		}
	}
	if err := t.renderMidstream(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if line := t.paths.String(); line != "" {
		t.wrap(w, line)
	}
	for _, n := range f.Notes {
		t.wrap(w, n)
	}
	for _, s := range f.Sources {
		t.wrap(w, fmt.Sprintf("read %s (%s): %d packets, %d TCP, %d ICMP errors, %d other skipped, %d malformed, %d cut short; %d attempts, %d connections without a captured SYN",
			s.Name, s.Vantage, s.Packets, s.TCP, s.ICMP, s.Skipped, s.Malformed, s.Truncated, s.Attempts, s.Midstream))
	}
	for _, warn := range f.Warnings {
		t.wrap(w, "warning: "+warn)
	}
	return nil
}

// summary counts verdicts per server:port.
func (t *Table) summary(w io.Writer) error {
	type row struct {
		server string
		counts map[verdict.Verdict]int
	}
	var rows []*row
	for s, counts := range t.tally {
		rows = append(rows, &row{server: s, counts: counts})
	}
	slices.SortFunc(rows, func(a, b *row) int { return strings.Compare(a.server, b.server) })
	order := []verdict.Verdict{verdict.Established, verdict.Refused, verdict.Unreachable, verdict.Timeout,
		verdict.HalfOpen, verdict.Stalled, verdict.Reset, verdict.Aborted, verdict.Incomplete}
	var cols []verdict.Verdict
	for _, v := range order {
		for _, r := range rows {
			if r.counts[v] > 0 {
				cols = append(cols, v)
				break
			}
		}
	}
	tbl := t.newTable(w)
	header := []any{"server", "attempts"}
	for _, v := range cols {
		header = append(header, string(v))
	}
	tbl.Header(header...)
	for _, r := range rows {
		total := 0
		cells := []any{r.server, ""}
		for _, v := range cols {
			total += r.counts[v]
			cells = append(cells, countCell(r.counts[v]))
		}
		cells[1] = fmt.Sprint(total)
		if err := tbl.Append(cells...); err != nil {
			return err
		}
	}
	return tbl.Render()
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

func countCell(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
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

// pathCount adds up, over attempts seen in both captures, the SYNs and
// SYN-ACKs each direction of the path lost.
type pathCount struct{ synSent, synGot, ackSent, ackGot, n int }

func (p *pathCount) add(r *verdict.Result) {
	if r.SYNSent < 0 || r.SYNSeenByServer < 0 || r.SYNACKSent < 0 || r.SYNACKSeenByClient < 0 {
		return
	}
	p.n++
	p.synSent += r.SYNSent
	p.synGot += min(r.SYNSeenByServer, r.SYNSent)
	p.ackSent += r.SYNACKSent
	p.ackGot += min(r.SYNACKSeenByClient, r.SYNACKSent)
}

func (p *pathCount) String() string {
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
	slices.SortFunc(t.midstream, func(a, b flows.Midstream) int { return a.First.TS.Compare(b.First.TS) })
	fmt.Fprintf(w, "\nConnections without a captured SYN (not judged): %d\n", len(t.midstream))
	tbl := t.newTable(w)
	tbl.Header("first packet from", "to", "packets", "first frame", "last packet")
	for i, m := range t.midstream {
		if i == maxMidstreamRows {
			fmt.Fprintln(w, t.text(fmt.Sprintf("… and %d more", len(t.midstream)-i)))
			break
		}
		ref := m.First
		ref.File = filepath.Base(ref.File)
		if err := tbl.Append(m.From.String(), m.To.String(), fmt.Sprint(m.Packets), ref.String(), m.Last.UTC().Format("15:04:05.000000")); err != nil {
			return err
		}
	}
	return tbl.Render()
}

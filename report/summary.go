package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/synpath/synpath/verdict"
)

// summaryTable is one summary ready to print, whatever its key: the rows
// worst first, cut at Top, the totals row, and what was left out.
type summaryTable struct {
	title  string // "server", "client", "client network"
	plural string
	keys   []string
	rows   []*summaryRow
	total  summaryRow
	// hidden rows past Top; other: attempts of keys past maxSummaryKeys.
	hidden int
	other  *summaryRow
}

func buildSummary[K comparable](s *summary[K], title, plural string, top int) summaryTable {
	st := summaryTable{title: title, plural: plural, total: s.total}
	rows := s.worst()
	if top > 0 && len(rows) > top {
		st.hidden = len(rows) - top
		rows = rows[:top]
	}
	for i := range rows {
		st.keys = append(st.keys, s.formatKey(rows[i].key))
		st.rows = append(st.rows, &rows[i].summaryRow)
	}
	if s.overflow {
		o := s.other
		st.other = &o
	}
	return st
}

// summaryTables are the summaries worth printing: per server always; per
// client host when there are several; per client network when it groups
// hosts into fewer, several, networks.
func (t *Table) summaryTables() []summaryTable {
	t.start()
	out := []summaryTable{buildSummary(t.servers, "server", "servers", t.Top)}
	if len(t.clients.rows) > 1 {
		out = append(out, buildSummary(t.clients, "client", "clients", t.Top))
	}
	if n := len(t.nets.rows); n > 1 && n < len(t.clients.rows) {
		out = append(out, buildSummary(t.nets, "client network", "client networks", t.Top))
	}
	return out
}

// summaryCells is one row's cells: attempts, the failure rate, the
// failures by kind (most first), and when they came.
func (t *Table) summaryCells(r *summaryRow) []string {
	return []string{fmt.Sprint(r.total()), failRate(r), failureKinds(r), t.failSpan(r)}
}

// failureKinds lists a row's failures by verdict, most first, two a line.
func failureKinds(r *summaryRow) string {
	idx := make([]int, 0, numVerdicts)
	for i := 1; i < numVerdicts; i++ {
		if r.counts[i] > 0 {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(r.counts[b], r.counts[a]) })
	var b strings.Builder
	for k, i := range idx {
		switch {
		case k == 0:
		case k%2 == 0:
			b.WriteString(",\n")
		default:
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", r.counts[i], verdictOrder[i])
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

func failRate(r *summaryRow) string {
	if r.total() == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(r.failed())/float64(r.total()))
}

// failSpan is when the first and the last failure started, to the second.
func (t *Table) failSpan(r *summaryRow) string {
	if r.firstFail.IsZero() {
		return "-"
	}
	first, last := r.firstFail.UTC().Format("15:04:05"), r.lastFail.UTC().Format("15:04:05")
	if first == last {
		return first
	}
	return first + t.text("–") + last
}

// summaries prints each summary table.
func (t *Table) summaries(w io.Writer) error {
	for _, st := range t.summaryTables() {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "By %s, worst first:\n", st.title)
		tbl := t.newTable(w)
		tbl.Header(st.title, "attempts", "failed", "failures", t.text("first–last failure"))
		for i, r := range st.rows {
			if err := tbl.Append(toAny(append([]string{st.keys[i]}, t.summaryCells(r)...))...); err != nil {
				return err
			}
		}
		if st.other != nil {
			if err := tbl.Append(toAny(append([]string{"(other " + st.plural + ")"}, t.summaryCells(st.other)...))...); err != nil {
				return err
			}
		}
		if err := tbl.Append(toAny(append([]string{"total"}, t.summaryCells(&st.total)...))...); err != nil {
			return err
		}
		if err := tbl.Render(); err != nil {
			return err
		}
		if st.hidden > 0 {
			t.wrap(w, fmt.Sprintf("… %d more %s not listed (--top 0 lists all); the total counts them.", st.hidden, st.plural))
		}
		if st.other != nil {
			t.wrap(w, fmt.Sprintf("%s past the first %d are counted together as (other %s).", capitalizeFirst(st.plural), maxSummaryKeys, st.plural))
		}
	}
	return nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// ANSI colours of verdicts on a terminal.
func verdictColor(v verdict.Verdict) string {
	switch v {
	case verdict.Established:
		return "\x1b[32m" // green
	case verdict.Timeout, verdict.HalfOpen, verdict.Stalled:
		return "\x1b[33m" // yellow: nothing came back
	case verdict.Incomplete:
		return "\x1b[2m" // dim: not settled
	}
	return "\x1b[31m" // red: refused, unreachable, reset, aborted
}

// verdictText is the verdict as the table prints it, coloured when asked.
func (t *Table) verdictText(v verdict.Verdict) string {
	if !t.Color {
		return string(v)
	}
	return verdictColor(v) + string(v) + "\x1b[0m"
}

package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/synpath/synpath/verdict"
)

// WriteLine writes one verdict as live capture streams it: a line with
// time, endpoints, verdict and place; for a failure, its explanation
// below, indented.
func WriteLine(w io.Writer, r *verdict.Result, ascii bool) error {
	return writeVerdictLine(w, r, ascii, "")
}

// WriteRevision writes the line of an attempt that an earlier line,
// earlier, judged otherwise (a SYN-ACK came after the timeout was
// reported; the server's own packets placed a RST): the same attempt,
// marked revised, what was said before, and its explanation below whatever
// the new verdict. was is the earlier Result (its verdict and place).
func WriteRevision(w io.Writer, r, was *verdict.Result, ascii bool) error {
	before := string(was.Verdict)
	if was.Verdict == r.Verdict {
		before += " where " + place(was)
	}
	return writeVerdictLine(w, r, ascii, before)
}

func writeVerdictLine(w io.Writer, r *verdict.Result, ascii bool, was string) error {
	t := Table{ASCII: ascii}
	arrow := "→"
	if ascii {
		arrow = "->"
	}
	var b strings.Builder
	if was != "" {
		fmt.Fprintf(&b, "%s  revised     %s %s %s: %s", r.FirstSYN.UTC().Format("15:04:05.000"), r.Client, arrow, r.Server, r.Verdict)
		if r.Verdict.Failed() {
			fmt.Fprintf(&b, " where %s", place(r))
		}
		fmt.Fprintf(&b, ", not %s", was)
	} else {
		fmt.Fprintf(&b, "%s  %-11s %s %s %s", r.FirstSYN.UTC().Format("15:04:05.000"), r.Verdict, r.Client, arrow, r.Server)
		if r.Verdict.Failed() {
			fmt.Fprintf(&b, "  where: %s", place(r))
		}
	}
	if _, err := fmt.Fprintln(w, t.text(b.String())); err != nil {
		return err
	}
	if !r.Verdict.Failed() && was == "" {
		return nil
	}
	var e strings.Builder
	writeWrapped(&e, t.text(r.Explanation), 97, "")
	for _, line := range strings.SplitAfter(e.String(), "\n") {
		if line != "" {
			if _, err := io.WriteString(w, "   "+line); err != nil {
				return err
			}
		}
	}
	return nil
}

package report

import (
	"bufio"
	"bytes"
	"fmt"
	"html"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/synpath/synpath/verdict"
)

// RenderHTML writes the report as one self-contained HTML page to attach
// to an incident: summaries, the timeline as an SVG chart, each listed
// failure with its ladder diagram, Wireshark filter and Community ID, and
// the footer. Inline CSS and SVG only: nothing is fetched, nothing runs.
func (t *Table) RenderHTML(w io.Writer, f Footer) error {
	t.start()
	bw := bufio.NewWriter(w)
	shown := t.sample.results()
	total, failed := t.n.total(), t.n.failed()
	fmt.Fprint(bw, htmlHead)
	fmt.Fprint(bw, "<h1>synpath: where the handshakes died</h1>\n")
	fmt.Fprintf(bw, "<p class=\"lead\">%d connection attempts, %d failed (%s).", total, failed, pct(failed, total))
	if v := t.timeline.view(); len(v.cols) > 0 {
		end := v.start.Add(time.Duration(len(v.cols)) * v.width)
		fmt.Fprintf(bw, " First SYNs from %s to %s UTC.", v.start.Format("2006-01-02 15:04:05"), end.Format("15:04:05"))
	}
	fmt.Fprint(bw, "</p>\n<p class=\"counts\">")
	for i, n := range t.n {
		if n > 0 {
			fmt.Fprintf(bw, "<span class=\"badge %s\">%s %d</span> ", verdictClass(verdictOrder[i]), verdictOrder[i], n)
		}
	}
	fmt.Fprint(bw, "</p>\n")

	if total > 0 {
		t.htmlTimeline(bw)
		for _, st := range t.summaryTables() {
			htmlSummary(bw, &st)
		}
	}
	if len(shown) > 0 {
		t.htmlAttempts(bw, shown)
	}
	fmt.Fprint(bw, "<h2>What was read</h2>\n<ul class=\"footer\">\n")
	for _, line := range []string{t.paths.String(), t.translatedText()} {
		if line != "" {
			fmt.Fprintf(bw, "<li>%s</li>\n", esc(line))
		}
	}
	for _, n := range f.Notes {
		fmt.Fprintf(bw, "<li>%s</li>\n", esc(n))
	}
	for _, s := range f.Sources {
		fmt.Fprintf(bw, "<li>read <b>%s</b> (%s): %d packets, %d TCP, %d ICMP errors, %d other skipped, %d malformed, %d cut short; %d attempts, %d connections without a captured SYN</li>\n",
			esc(s.Name), esc(s.Vantage), s.Packets, s.TCP, s.ICMP, s.Skipped, s.Malformed, s.Truncated, s.Attempts, s.Midstream)
	}
	for _, warn := range f.Warnings {
		fmt.Fprintf(bw, "<li class=\"warning\">warning: %s</li>\n", esc(warn))
	}
	if t.midstreamN > 0 {
		fmt.Fprintf(bw, "<li>%d connections without a captured SYN (not judged)</li>\n", t.midstreamN)
	}
	fmt.Fprint(bw, "</ul>\n</body>\n</html>\n")
	return bw.Flush()
}

const htmlHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>synpath report</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1150px; padding: 0 16px; color: #1d2330; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #d8dce5; padding-bottom: 3px; }
h3 { font-size: 15px; margin: 18px 0 4px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #d8dce5; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f7; } tr.total td { font-weight: 600; background: #f7f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 12px/1.3 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre.ladder { background: #f7f8fa; border: 1px solid #d8dce5; padding: 8px; overflow-x: auto; }
code.filter { display: block; background: #fffbe6; border: 1px solid #eadfa6; padding: 4px 6px; word-break: break-all; }
.badge { display: inline-block; border-radius: 3px; padding: 0 6px; color: #fff; font-size: 12px; }
.established { background: #2e8540; } .refused, .unreachable, .reset, .aborted { background: #c62828; }
.timeout, .half-open, .stalled { background: #d98300; } .incomplete { background: #7a8394; }
svg .established { fill: #2e8540; } svg .refused { fill: #c62828; } svg .unreachable { fill: #8e24aa; }
svg .timeout { fill: #d98300; } svg .half-open { fill: #f4b400; } svg .stalled { fill: #6d4c41; }
svg .reset { fill: #e5533d; } svg .aborted { fill: #ad1457; } svg .incomplete { fill: #7a8394; }
svg text { font: 11px system-ui, sans-serif; fill: #1d2330; }
.note, .lead { color: #3b4456; } .warning { color: #a33; }
</style>
</head>
<body>
`

func esc(s string) string { return html.EscapeString(s) }

func pct(n, total int) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}

func verdictClass(v verdict.Verdict) string { return string(v) }

// htmlTimeline draws the timeline as stacked bars, one per column, each
// verdict in its colour, with the worst burst named below.
func (t *Table) htmlTimeline(w io.Writer) {
	v := t.timeline.view()
	if len(v.cols) == 0 {
		return
	}
	const (
		left, top, plotH, bottom = 48, 10, 180, 44
		plotW                    = 1000
	)
	gap := 2
	barW := max(3, plotW/len(v.cols)-gap)
	peak := 0
	for i := range v.cols {
		peak = max(peak, v.cols[i].n.total())
	}
	width := max(left+len(v.cols)*(barW+gap)+40, left+numVerdicts*110)
	height := top + plotH + bottom
	fmt.Fprintf(w, "<h2>Timeline of first SYNs</h2>\n<p class=\"note\">One bar = %s; attempts per bar by verdict. Peak: %d attempts (%s).</p>\n",
		v.width, peak, v.rate(peak))
	fmt.Fprintf(w, "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"attempts per %s by verdict\">\n",
		width, height, width, height, v.width)
	fmt.Fprintf(w, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", left-2, top+plotH, width-10, top+plotH)
	fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%d</text>\n", left-6, top+10, peak)
	fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", left-6, top+plotH)
	for i := range v.cols {
		x := left + i*(barW+gap)
		y := float64(top + plotH)
		at := v.start.Add(time.Duration(i) * v.width)
		for vi := range numVerdicts {
			n := v.cols[i].n[vi]
			if n == 0 || peak == 0 {
				continue
			}
			h := float64(n) * plotH / float64(peak)
			y -= h
			fmt.Fprintf(w, "<rect class=\"bar %s\" x=\"%d\" y=\"%.2f\" width=\"%d\" height=\"%.2f\"><title>%s %s: %d</title></rect>\n",
				verdictOrder[vi], x, y, barW, h, at.Format("15:04:05.000"), verdictOrder[vi], n)
		}
	}
	// Time labels: the start, the end, and a few between.
	step := max(1, 90/(barW+gap))
	for i := 0; i <= len(v.cols); i += step {
		x := left + i*(barW+gap)
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, top+plotH+16,
			v.start.Add(time.Duration(i)*v.width).Format("15:04:05"))
	}
	// Legend.
	x := left
	for _, vi := range v.rows() {
		fmt.Fprintf(w, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"10\" height=\"10\"/><text x=\"%d\" y=\"%d\">%s</text>\n",
			verdictOrder[vi], x, top+plotH+26, x+14, top+plotH+35, verdictOrder[vi])
		x += 110
	}
	fmt.Fprint(w, "</svg>\n")
	if b := v.burst(); b != "" {
		fmt.Fprintf(w, "<p><b>%s</b></p>\n", esc(capitalizeFirst(b)))
	}
}

func htmlSummary(w io.Writer, st *summaryTable) {
	fmt.Fprintf(w, "<h2>By %s, worst first</h2>\n<table class=\"summary\">\n<tr><th>%s</th><th>attempts</th><th>failed</th><th>failures</th><th>first–last failure</th></tr>\n",
		esc(st.title), esc(st.title))
	row := func(class, key string, r *summaryRow) {
		fmt.Fprintf(w, "<tr%s><td>%s</td><td class=\"num\">%d</td><td class=\"num\">%s</td><td>%s</td><td>%s</td></tr>\n",
			class, esc(key), r.total(), failRate(r), esc(strings.ReplaceAll(failureKinds(r), ",\n", ", ")), esc(htmlFailSpan(r)))
	}
	for i, r := range st.rows {
		row("", st.keys[i], r)
	}
	if st.other != nil {
		row("", "(other "+st.plural+")", st.other)
	}
	row(" class=\"total\"", "total", &st.total)
	fmt.Fprint(w, "</table>\n")
	if st.hidden > 0 {
		fmt.Fprintf(w, "<p class=\"note\">… %d more %s not listed (--top 0 lists all); the total counts them.</p>\n", st.hidden, esc(st.plural))
	}
}

func htmlFailSpan(r *summaryRow) string {
	if r.firstFail.IsZero() {
		return "-"
	}
	return r.firstFail.UTC().Format("15:04:05.000") + " – " + r.lastFail.UTC().Format("15:04:05.000")
}

// htmlAttempts lists the sampled attempts, then each failure in detail.
func (t *Table) htmlAttempts(w io.Writer, shown []verdict.Result) {
	fmt.Fprint(w, "<h2>Attempts listed</h2>\n")
	if hidden := t.sample.offered - len(shown); hidden > 0 {
		fmt.Fprintf(w, "<p class=\"note\">%s</p>\n", esc(t.hiddenText(hidden, shown)))
	}
	fmt.Fprint(w, "<table class=\"attempts\">\n<tr><th>#</th><th>client → server</th><th>verdict</th><th>where</th><th>SYNs</th><th>RTT</th><th>first SYN</th><th>Community ID</th></tr>\n")
	for i, r := range shown {
		ref := fmt.Sprint(i + 1)
		if r.Verdict.Failed() {
			ref = fmt.Sprintf("<a href=\"#a%d\">%d</a>", i+1, i+1)
		}
		fmt.Fprintf(w, "<tr><td>%s</td><td>%s → %s</td><td><span class=\"badge %s\">%s</span></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td><code>%s</code></td></tr>\n",
			ref, esc(r.Client.String()), esc(r.Server.String()), verdictClass(r.Verdict), esc(string(r.Verdict)), esc(place(&r)),
			esc(synCount(&r, "→")), esc(rttText(r.RTT)), r.FirstSYN.UTC().Format("15:04:05.000000"), esc(CommunityID(&r)))
	}
	fmt.Fprint(w, "</table>\n")
	if !slices.ContainsFunc(shown, func(r verdict.Result) bool { return r.Verdict.Failed() }) {
		return
	}
	fmt.Fprint(w, "<h2>Failed attempts, packet by packet</h2>\n")
	var ladder bytes.Buffer
	for i, r := range shown {
		if !r.Verdict.Failed() {
			continue
		}
		fmt.Fprintf(w, "<section class=\"attempt\" id=\"a%d\">\n<h3>#%d %s → %s <span class=\"badge %s\">%s</span> where: %s</h3>\n",
			i+1, i+1, esc(r.Client.String()), esc(r.Server.String()), verdictClass(r.Verdict), esc(string(r.Verdict)), esc(place(&r)))
		text := r.Explanation
		if r.Settle != "" {
			text += " (" + capitalizeFirst(r.Settle) + ".)"
		}
		fmt.Fprintf(w, "<p>%s</p>\n", esc(text))
		ladder.Reset()
		if err := WriteLadder(&ladder, &r, false); err != nil {
			fmt.Fprintf(&ladder, "(no diagram: %v)", err)
		}
		fmt.Fprintf(w, "<pre class=\"ladder\">%s</pre>\n", esc(ladder.String()))
		var files []string
		for _, e := range r.Evidence {
			if b := filepath.Base(e.File); !slices.Contains(files, b) {
				files = append(files, b)
			}
		}
		fmt.Fprintf(w, "<p>Wireshark display filter (for %s):</p>\n<code class=\"filter\">%s</code>\n", esc(strings.Join(files, ", ")), esc(WiresharkFilter(&r)))
		fmt.Fprintf(w, "<p>Community ID: <code>%s</code> · ISN %d</p>\n</section>\n", esc(CommunityID(&r)), r.ISN)
	}
}

package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/synpath/synpath/verdict"
)

// Ladder layout. Lines stay within ladderMaxWidth columns; the diagram aims
// at ladderGoalWidth and grows only for long labels.
const (
	ladderMaxWidth  = 100
	ladderGoalWidth = 80
	ladderWideWidth = 88 // how far the diagram grows to put ✗ and ● mid-way
	ladderMinMiddle = 28 // narrowest space between the two timelines
	ladderMaxRows   = 40 // arrows drawn; beyond, the first and last ones
	ladderHeadRows  = 30
)

// ladderGlyphs are the characters a ladder is drawn with.
type ladderGlyphs struct {
	line, dash, right, left, lost, origin, axis, blind rune
}

var (
	utf8Glyphs  = ladderGlyphs{line: '─', dash: '┄', right: '▶', left: '◀', lost: '✗', origin: '●', axis: '│', blind: '┊'}
	asciiGlyphs = ladderGlyphs{line: '-', dash: '.', right: '>', left: '<', lost: 'x', origin: '*', axis: '|', blind: ':'}
)

// arrowKind is how much of a packet's trip the captures show.
type arrowKind uint8

const (
	arrowBoth   arrowKind = iota // seen leaving and arriving: solid, the whole width
	arrowOneEnd                  // seen at one end only, the other end unknown: dashed
	arrowLost                    // seen leaving, never arrived: ends mid-way in ✗
	arrowPath                    // arrived, never sent by the other end (or ICMP from a router): starts mid-way
)

// ladderRow is one arrow: one packet, or one packet as both captures saw it.
type ladderRow struct {
	at       time.Time // where it sits in time: its earliest sighting
	kind     arrowKind
	toServer bool
	c, s     *verdict.Evidence // the packet as the client / server capture has it
	labels   []string          // longest first; the first that fits is drawn
}

// ladder holds what one diagram needs while it is drawn.
type ladder struct {
	r      *verdict.Result
	ascii  bool
	g      ladderGlyphs
	base   time.Time // t = 0: the first SYN, on the client's clock
	micro  bool      // µs precision: the whole attempt lasts < 10 ms
	seen   [2]bool   // which ends have a capture (0 client, 1 server)
	files  [2][]string
	rows   []ladderRow
	fw, tw int  // frame and time column widths
	clock  bool // server clock column shown
	clockW int
	mw     int // columns between the two timelines
}

const (
	endClient = 0
	endServer = 1
)

// WriteLadder draws one attempt as an engineer draws it on a whiteboard:
// the client's timeline on the left, the server's on the right, one arrow
// per packet in time order, each end labelled with the frame number
// (Wireshark's) and the time since the first SYN on the client's clock.
// A packet both captures saw spans the whole width; one that was lost ends
// mid-way in ✗; one that only its receiver saw (a RST forged on the path, an
// ICMP error from a router) starts mid-way. With ascii set the output holds
// no byte above 127.
func WriteLadder(w io.Writer, r *verdict.Result, ascii bool) error {
	if r == nil {
		return errors.New("ladder: no result")
	}
	l := &ladder{r: r, ascii: ascii, g: utf8Glyphs}
	if ascii {
		l.g = asciiGlyphs
	}
	l.build()
	var b bytes.Buffer
	l.header(&b)
	l.diagram(&b)
	l.footer(&b)
	out := b.Bytes()
	if ascii {
		out = []byte(toASCII(string(out)))
	}
	_, err := w.Write(out)
	return err
}

// ladderEnd is which timeline a capture's packets sit on; a capture of unknown
// vantage counts as the client's.
func ladderEnd(v verdict.Vantage) int {
	if v == verdict.VantageServer {
		return endServer
	}
	return endClient
}

func (l *ladder) build() {
	r, ev := l.r, l.r.Evidence
	switch r.Vantage {
	case verdict.VantageBoth:
		l.seen = [2]bool{true, true}
	default:
		l.seen[ladderEnd(r.Vantage)] = true
	}
	for i := range ev {
		e := ladderEnd(ev[i].Side)
		l.seen[e] = true
		if !slices.Contains(l.files[e], ev[i].File) {
			l.files[e] = append(l.files[e], ev[i].File)
		}
	}

	// t = 0 is the first SYN; the span of the attempt sets the precision.
	var first, last time.Time
	for i := range ev {
		at := ev[i].At
		if ev[i].What == "SYN" && (l.base.IsZero() || at.Before(l.base)) {
			l.base = at
		}
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if last.IsZero() || at.After(last) {
			last = at
		}
	}
	if l.base.IsZero() {
		l.base = r.FirstSYN
	}
	if l.base.IsZero() {
		l.base = first
	}
	if !l.base.IsZero() && l.base.Before(first) {
		first = l.base
	}
	l.micro = len(ev) > 0 && last.Sub(first) < 10*time.Millisecond

	used := make([]bool, len(ev))
	for i := range ev {
		if used[i] {
			continue
		}
		used[i] = true
		e := &ev[i]
		icmp := strings.HasPrefix(e.What, "ICMP")
		row := ladderRow{at: e.At, toServer: e.TowardServer()}
		side := ladderEnd(e.Side)
		sender := endServer
		if e.FromClient {
			sender = endClient
		}
		if p := e.Pair; p >= 0 && p < len(ev) && p != i && !used[p] && ladderEnd(ev[p].Side) != side &&
			ev[p].FromClient == e.FromClient && (ev[p].Pair == i || ev[p].Pair < 0) {
			used[p] = true
			row.kind = arrowBoth
			if ev[p].At.Before(row.at) {
				row.at = ev[p].At
			}
			row.c, row.s = e, &ev[p]
			if side == endServer {
				row.c, row.s = row.s, row.c
			}
		} else {
			if side == endClient {
				row.c = e
			} else {
				row.s = e
			}
			switch {
			case icmp:
				row.kind = arrowPath // from a router, towards the sender of the packet it quotes
			case e.Lost:
				row.kind = arrowLost
			case side == sender:
				row.kind = arrowOneEnd
			case l.seen[sender]:
				row.kind = arrowPath // the sender's capture never shows it leaving
			default:
				row.kind = arrowOneEnd
			}
		}
		row.labels = l.labels(&row)
		l.rows = append(l.rows, row)
	}
	slices.SortStableFunc(l.rows, func(a, b ladderRow) int { return a.at.Compare(b.at) })
	l.layout()
}

// labels are the texts an arrow can carry, longest first: what the packet
// is, its payload length, and its TTL as sent and as received.
func (l *ladder) labels(row *ladderRow) []string {
	var e, from, to *verdict.Evidence // e names the packet; from/to carry the TTLs at each end
	switch {
	case row.c != nil && row.s != nil:
		from, to = row.c, row.s
		if !row.toServer {
			from, to = to, from
		}
		e = from
	case row.c != nil:
		e = row.c
	default:
		e = row.s
	}
	what := l.txt(e.What)
	if from != nil && len(to.What) > len(from.What) && strings.HasPrefix(to.What, from.What) {
		what = l.txt(to.What) // the receiver's says more: how it arrived (damaged)
	}
	if e.Len > 0 {
		what += fmt.Sprintf(" len %d", e.Len)
	}
	var ttl string
	switch {
	case from != nil && from.TTL != 0 && to.TTL != 0 && from.TTL != to.TTL:
		ttl = fmt.Sprintf("ttl %d%s%d", from.TTL, l.txt("→"), to.TTL)
	case from != nil && from.TTL != 0:
		ttl = fmt.Sprintf("ttl %d", from.TTL)
	case from != nil && to.TTL != 0:
		ttl = fmt.Sprintf("ttl %d", to.TTL)
	case from == nil && e.TTL != 0:
		ttl = fmt.Sprintf("ttl %d", e.TTL)
	}
	if ttl == "" {
		return []string{what}
	}
	return []string{what + "  " + ttl, what}
}

// frame is a packet's frame number, prefixed with its file's number when
// one end has several files (rotated captures).
func (l *ladder) frame(e *verdict.Evidence) string {
	files := l.files[ladderEnd(e.Side)]
	if len(files) > 1 {
		return fmt.Sprintf("%d:%d", slices.Index(files, e.File)+1, e.N)
	}
	return fmt.Sprint(e.N)
}

// rel is a time as seconds since the first SYN.
func (l *ladder) rel(t time.Time) string {
	prec := 3
	if l.micro {
		prec = 6
	}
	return fmt.Sprintf("%+.*f", prec, t.Sub(l.base).Seconds())
}

// clockOf is a server packet's own capture time, as the server's clock read it.
func (l *ladder) clockOf(e *verdict.Evidence) string {
	f := "15:04:05.000"
	if l.micro {
		f = "15:04:05.000000"
	}
	return e.TS.UTC().Format(f)
}

// ladderNeed is how wide the middle must be to draw a row with a label; ideal
// asks that a half arrow's mark (✗ or ●) sit exactly mid-way, otherwise it
// may sit up to two thirds of the way.
func ladderNeed(row *ladderRow, label string, ideal bool) int {
	body := utf8.RuneCountInString(label) + 2 + 4 // " label " and two dashes each side
	switch {
	case row.kind != arrowLost && row.kind != arrowPath:
		return body + 1 // and the head
	case ideal:
		return 2*(body+1) + 1
	}
	return max((3*body+1)/2, body+4) + 1
}

// ladderReach is how many columns a half arrow covers, its mark excluded.
func ladderReach(body, mw int) int {
	return max(min(max(mw/2, body), 2*mw/3, mw-4), 1)
}

func (l *ladder) layout() {
	l.fw, l.tw = len("no."), len("time")
	for i := range l.rows {
		row := &l.rows[i]
		for _, e := range []*verdict.Evidence{row.c, row.s} {
			if e == nil {
				continue
			}
			l.fw = max(l.fw, len(l.frame(e)))
			l.tw = max(l.tw, len(l.rel(e.At)))
			if ladderEnd(e.Side) == endServer {
				l.clock = true
				l.clockW = len(l.clockOf(e))
			}
		}
	}
	// Aim at the goal width; grow to draw every row's full label, within
	// the widest a line may be, and to put marks mid-way, a little less far.
	mid, ideal := ladderGoalWidth-l.gutters(), 0
	for i := range l.rows {
		row := &l.rows[i]
		mid = max(mid, ladderNeed(row, row.labels[0], false))
		ideal = max(ideal, ladderNeed(row, row.labels[0], true))
	}
	mid = max(mid, min(ideal, ladderWideWidth-l.gutters()))
	l.mw = min(max(mid, ladderMinMiddle), ladderMaxWidth-l.gutters())
}

// gutters is the width of everything but the middle: the frame and time
// columns on both sides, and the two timelines.
func (l *ladder) gutters() int {
	n := 1 + l.fw + 2 + l.tw + 2 + 1 + 1 + 2 + l.tw + 2 + l.fw
	if l.clock {
		n += 2 + l.clockW
	}
	return n
}

func (l *ladder) header(b *bytes.Buffer) {
	r := l.r
	line := func(tag, text string) { l.wrapLine(b, fmt.Sprintf("%-7s ", tag), "        ", l.txt(text)) }
	line("client", addrPort(r.Client)+", "+l.capture(endClient))
	server := addrPort(r.Server)
	var nat []string // what the server's capture shows, behind NAT
	if r.ClientSeenByServer.IsValid() && r.ClientSeenByServer != r.Client {
		nat = append(nat, "client as "+r.ClientSeenByServer.String())
	}
	if r.ServerSeenByServer.IsValid() && r.ServerSeenByServer != r.Server {
		nat = append(nat, "itself as "+r.ServerSeenByServer.String())
	}
	line("server", server+", "+l.capture(endServer))
	if len(nat) > 0 {
		line("", "sees "+strings.Join(nat, ", ")+" (NAT)")
	}
	switch {
	case r.HasClockOffset:
		line("clock", fmt.Sprintf("server − client = %s ± %s, subtracted from server times",
			signedDur(r.ClockOffset), absDur(r.ClockError)))
	case l.seen[endClient] && l.seen[endServer]:
		line("clock", "no offset estimated between the captures: server times as captured")
	}
	if !l.base.IsZero() {
		prec := ".000"
		if l.micro {
			prec = ".000000"
		}
		clock := "client's"
		if !l.seen[endClient] {
			clock = "server's"
		}
		line("t = 0", fmt.Sprintf("first SYN, %s UTC by the %s clock",
			l.base.UTC().Format("2006-01-02 15:04:05"+prec), clock))
	}
	b.WriteByte('\n')
}

// capture names the files one end's packets come from.
func (l *ladder) capture(e int) string {
	files := l.files[e]
	switch {
	case !l.seen[e]:
		return "not captured"
	case len(files) == 0:
		return "captured, no packets of this attempt"
	case len(files) == 1:
		return "capture " + shorten(files[0], 60)
	}
	s := make([]string, len(files))
	for i, f := range files {
		s[i] = fmt.Sprintf("%d:%s", i+1, shorten(f, 40))
	}
	return "captures " + strings.Join(s, " ") + " (frames as file:frame)"
}

func (l *ladder) diagram(b *bytes.Buffer) {
	// Column heads: "client" starts at its timeline, "server" ends at its own.
	left := fmt.Sprintf(" %*s  %*s  ", l.fw, "no.", l.tw, "time")
	mid := []rune(strings.Repeat(" ", l.mw+2))
	copy(mid, []rune("client"))
	copy(mid[len(mid)-len("server"):], []rune("server"))
	right := fmt.Sprintf("  %*s  %*s", l.tw, "time", l.fw, "no.")
	if l.clock {
		right += fmt.Sprintf("  %-*s", l.clockW, "server clock")
	}
	writeLine(b, left+string(mid)+right)
	l.blank(b)

	rows := l.rows
	if len(rows) == 0 {
		l.note(b, "no packets to draw")
	}
	for i := range rows {
		if len(rows) > ladderMaxRows && i == ladderHeadRows {
			l.note(b, fmt.Sprintf("… %d more packets …", len(rows)-ladderMaxRows))
		}
		if len(rows) > ladderMaxRows && i >= ladderHeadRows && i < len(rows)-(ladderMaxRows-ladderHeadRows) {
			continue
		}
		l.row(b, &rows[i])
	}
	l.blank(b)
	l.legend(b)
}

// axis is a timeline's character: solid where there is a capture.
func (l *ladder) axis(e int) string {
	if l.seen[e] {
		return string(l.g.axis)
	}
	return string(l.g.blind)
}

func (l *ladder) gutterLeft(frame, t string) string {
	return fmt.Sprintf(" %*s  %*s  ", l.fw, frame, l.tw, t)
}

func (l *ladder) gutterRight(frame, t, clock string) string {
	s := fmt.Sprintf("  %*s  %*s", l.tw, t, l.fw, frame)
	if l.clock && clock != "" {
		s += "  " + clock
	}
	return s
}

func (l *ladder) blank(b *bytes.Buffer) {
	writeLine(b, l.gutterLeft("", "")+l.axis(endClient)+strings.Repeat(" ", l.mw)+l.axis(endServer))
}

// note writes a line of text centred between the timelines.
func (l *ladder) note(b *bytes.Buffer, text string) {
	text = l.fit(l.txt(text), l.mw)
	n := utf8.RuneCountInString(text)
	pad := (l.mw - n) / 2
	writeLine(b, l.gutterLeft("", "")+l.axis(endClient)+strings.Repeat(" ", pad)+text+strings.Repeat(" ", l.mw-n-pad)+l.axis(endServer))
}

func (l *ladder) row(b *bytes.Buffer, row *ladderRow) {
	g, mw := l.g, l.mw
	cells := []rune(strings.Repeat(" ", mw))
	label := row.labels[len(row.labels)-1]
	for _, s := range row.labels {
		if ladderNeed(row, s, false) <= mw {
			label = s
			break
		}
	}
	body := utf8.RuneCountInString(label) + 2 + 4 // " label " and two dashes each side
	var from, to int                              // the span the label is centred in, [from, to)
	fill := func(a, z int, r rune) {
		for i := a; i < z; i++ {
			cells[i] = r
		}
	}
	switch row.kind {
	case arrowBoth, arrowOneEnd:
		r := g.line
		if row.kind == arrowOneEnd {
			r = g.dash
		}
		from, to = 0, mw
		fill(0, mw, r)
		if row.toServer {
			cells[mw-1], to = g.right, mw-1
		} else {
			cells[0], from = g.left, 1
		}
	case arrowLost, arrowPath:
		// The mark (✗ where it was lost, ● where it came from) sits mid-way,
		// or nearer the far timeline when the label needs the room.
		reach := ladderReach(body, mw)
		mark := g.lost
		if row.kind == arrowPath {
			mark = g.origin
		}
		// A lost packet starts at its sender, one from the path ends at its receiver.
		atClient := row.toServer == (row.kind == arrowLost)
		if atClient {
			fill(0, reach, g.line)
			cells[reach] = mark
			from, to = 0, reach
		} else {
			x := mw - 1 - reach
			cells[x] = mark
			fill(x+1, mw, g.line)
			from, to = x+1, mw
		}
		if row.kind == arrowPath {
			if row.toServer {
				cells[mw-1], to = g.right, mw-1
			} else {
				cells[0], from = g.left, 1
			}
		}
	}
	label = l.fit(label, to-from-2)
	if n := utf8.RuneCountInString(label); n > 0 {
		at := from + (to-from-n-2)/2
		copy(cells[at:], []rune(" "+label+" "))
	}

	var lf, lt, rf, rt, rc string
	if row.c != nil {
		lf, lt = l.frame(row.c), l.rel(row.c.At)
	}
	if row.s != nil {
		rf, rt, rc = l.frame(row.s), l.rel(row.s.At), l.clockOf(row.s)
	}
	if row.kind == arrowOneEnd {
		// An end that was captured, yet does not show the packet: we do
		// not know what became of it there (the capture may not cover the
		// time). An end not captured at all says so with its timeline.
		if row.c == nil && l.seen[endClient] {
			lt = "?"
		} else if row.s == nil && l.seen[endServer] {
			rt = "?"
		}
	}
	writeLine(b, l.gutterLeft(lf, lt)+l.axis(endClient)+string(cells)+l.axis(endServer)+l.gutterRight(rf, rt, rc))
}

func (l *ladder) legend(b *bytes.Buffer) {
	var kinds [4]bool
	unknown := false // some "?" drawn
	for _, row := range l.rows {
		kinds[row.kind] = true
		if row.kind == arrowOneEnd && (row.c == nil && l.seen[endClient] || row.s == nil && l.seen[endServer]) {
			unknown = true
		}
	}
	g := l.g
	if kinds[arrowLost] {
		writeLine(b, fmt.Sprintf("%c lost: sent, never reached the other end", g.lost))
	}
	if kinds[arrowPath] {
		writeLine(b, fmt.Sprintf("%c from the path: not sent by the other end", g.origin))
	}
	var items []string
	if kinds[arrowOneEnd] {
		items = append(items, fmt.Sprintf("%c%c seen at one end only", g.dash, g.dash))
	}
	if unknown {
		items = append(items, "? not in that end's capture")
	}
	if !l.seen[endClient] || !l.seen[endServer] {
		items = append(items, fmt.Sprintf("%c not captured", g.blind))
	}
	if len(items) > 0 {
		l.wrapLine(b, "", "  ", strings.Join(items, ";  "))
	}
}

func (l *ladder) footer(b *bytes.Buffer) {
	r := l.r
	b.WriteByte('\n')
	where := string(r.Where)
	if where == "" {
		where = string(verdict.Unknown)
	}
	if r.Where == verdict.Unknown && len(r.Candidates) > 0 {
		s := make([]string, len(r.Candidates))
		for i, c := range r.Candidates {
			s[i] = string(c)
		}
		list := s[0]
		if n := len(s); n > 1 {
			list = strings.Join(s[:n-1], ", ") + " or " + s[n-1]
		}
		where += " — one of " + list
	}
	text := fmt.Sprintf("verdict: %s, where: %s", r.Verdict, where)
	if r.RSTOrigin != verdict.NoOrigin {
		text += fmt.Sprintf("; RST from the %s", r.RSTOrigin)
		if r.OriginSure != "" {
			text += fmt.Sprintf(" (%s)", r.OriginSure)
		}
	}
	if r.ICMP != "" {
		text += "; " + r.ICMP
	}
	text += "."
	if r.Settle != "" {
		text += " " + capitalizeFirst(r.Settle) + "."
	}
	l.wrapLine(b, "", "   ", l.txt(text))
}

// txt makes text safe for the chosen character set.
func (l *ladder) txt(s string) string {
	if l.ascii {
		return toASCII(s)
	}
	return s
}

var asciiReplacer = strings.NewReplacer(
	"→", "->", "←", "<-", "−", "-", "—", "-", "–", "-", "±", "+/-", "µ", "u", "…", "...",
	"≠", "!=", "≈", "~", "×", "x", "·", "-", "’", "'", "‘", "'", "“", `"`, "”", `"`, "✗", "x",
)

// toASCII spells out what it can and writes '?' for any other non-ASCII rune.
func toASCII(s string) string {
	s = asciiReplacer.Replace(s)
	return strings.Map(func(r rune) rune {
		if r > 127 {
			return '?'
		}
		return r
	}, s)
}

// fit shortens s to at most n runes, marking the cut.
func (l *ladder) fit(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := "…"
	if l.ascii {
		cut = "~"
	}
	if n < 2 {
		return ""
	}
	return string(r[:n-1]) + cut
}

// shorten keeps the end of a long file name, where it differs most often.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

// wrapLine writes text after prefix, wrapped as wide as the diagram (and
// no narrower than the goal width), continuation lines indented. Unlike writeWrapped it keeps the spacing
// within the text and never lets a long word overflow.
func (l *ladder) wrapLine(b *bytes.Buffer, prefix, indent, text string) {
	width := max(ladderGoalWidth, l.gutters()+l.mw)
	line := []rune(prefix)
	for len(line)+utf8.RuneCountInString(text) > width {
		room := width - len(line)
		r := []rune(text)
		cut := strings.LastIndex(string(r[:room+1]), " ")
		if cut <= 0 {
			cut = len(string(r[:room]))
		}
		writeLine(b, string(line)+text[:cut])
		text = strings.TrimLeft(text[cut:], " ")
		line = []rune(indent)
	}
	writeLine(b, string(line)+text)
}

func writeLine(b *bytes.Buffer, s string) {
	b.WriteString(strings.TrimRight(s, " "))
	b.WriteByte('\n')
}

func addrPort(a netip.AddrPort) string {
	if !a.IsValid() {
		return "?"
	}
	return a.String()
}

func signedDur(d time.Duration) string {
	if d < 0 {
		return "-" + absDur(-d)
	}
	return "+" + absDur(d)
}

func absDur(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d µs", d/time.Microsecond)
}

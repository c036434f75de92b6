package cmd

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// joinBatch is how many attempts (or lookups, or midstream connections)
// a reader hands the joiner at once: one channel operation for many.
const joinBatch = 256

// joinLead is how far, in capture time, one capture's reading may run
// ahead of the other's: beyond it the joiner stops taking its batches
// (the reader then waits), so that its attempts do not pile up waiting for
// counterparts the other capture has not reached. What waits is held
// unpacked in part (keys, clock facts): 2 s of it at 1000 connections a
// second is under a megabyte; a few batches' worth of capture time, so
// that the readers seldom wait.
const joinLead = 2 * time.Second

// joinGroup is one group being read for the join.
type joinGroup struct {
	group
	// ch carries the reader's batches to the joiner; free takes them back.
	ch, free chan *joinBatchOf
	votes    map[verdict.Vantage]int
	// voters counts, until the join starts, the hosts the votes say the
	// capture was taken on.
	voters map[netip.Addr]int
	// Set by the reader before its last batch.
	sources  []report.Source
	warnings []string
	err      error

	ended           bool
	start, progress time.Time // its first packet's time, and how far it has been read
	starts          []time.Time
	filter          string // the capture filter its files all say they were taken with, or ""
	// Until the join starts: its attempts and failed lookups.
	held    []held
	lookups []flows.Lookup
	hosts   []joinItem // host sightings (joinItem.host, nonTCP)
	// Decided when the join starts: the side it is joined as (client or
	// server), or judged alone from the vantage alone ("": each attempt by
	// its TTLs); whether its failed lookups are shown.
	decided, side, alone verdict.Vantage
	joined               bool
	showDNS              bool
}

// vantage is the group's forced vantage, or what most of its attempts
// say; unknown when they do not agree clearly.
func (g *joinGroup) vantage() verdict.Vantage {
	if g.group.vantage != "" {
		return g.group.vantage
	}
	return majority(g.votes)
}

// held is an attempt, packed, held until the join starts, with when it was
// handed on.
type held struct {
	packed verdict.PackRef
	end    time.Time
}

// joinBatchOf is what a reader hands on at once. The last of a group has
// end set: its reader has returned.
type joinBatchOf struct {
	items []joinItem
	// packed holds the items' attempts, packed one after the other: the
	// joiner keeps a copy of each, and the batch goes back to the reader.
	packed   []byte
	progress time.Time   // the latest time an attempt was handed on
	starts   []time.Time // the first batch: when each of the group's files starts
	// filter, in the first batch: the capture filter every file of the
	// group says it was taken with, if they all say the same one.
	filter string
	end    bool
}

// joinItem is one of: an attempt, packed (packed[from:to] of its batch),
// with what its TTLs say and when it was handed on; a failed lookup; a
// midstream connection.
type joinItem struct {
	from, to int
	end      time.Time
	vote     verdict.Vantage
	voter    netip.Addr // the host the vote says the capture was taken on
	lookup   *flows.Lookup
	mid      *flows.Midstream
	host     netip.Addr // shown in a packet of no attempt (flows.Config.OnHost)
	nonTCP   bool       // … other than TCP
}

// swapped reports whether --client and --server were given the other
// way round: a flagged capture's TTLs clearly say the other side, and no
// flagged capture's TTLs agree with its flag (a capture whose TTLs cannot
// tell, or with no attempt at all, is neutral).
func swapped(all []*joinGroup) bool {
	contradicted, flagged := false, 0
	for _, c := range all {
		if c.group.vantage == "" || c.group.split {
			continue
		}
		flagged++
		switch majority(c.votes) {
		case c.group.vantage:
			return false
		case verdict.VantageUnknown:
		default:
			contradicted = true
		}
	}
	return contradicted && flagged == 2
}

// joiner reads several groups, joins the client-side and the server-side
// ones as they are read (verdict.Stream), and judges the rest alone.
// Readers hand it everything through their channels, and it hands on to
// its writer, which alone touches the sink. What it holds is what the
// captures show in the join's window (verdict.StreamWindow: 2 min 20 s at
// the default --idle), however long they run: packed, in the chunks of
// one verdict.Packs, which fill again once the writer is done with what
// they held, and the collector paced for it (gcPace).
//
// Until every group has been read a window past its start (or to its
// end), it only holds their attempts, packed: then the TTLs have told
// which side each capture is, and the join starts. On captures shorter
// than that, all of it happens at the end, and the output is that of a
// join of whole captures. On longer ones, beyond what verdict.Stream says:
//   - which side a capture without --client or --server is, and whether
//     --client and --server were swapped, is what the TTLs of its first
//     window say (a capture whose TTLs change their mind later is rare);
//   - while rotated files are read, the join takes them to follow on
//     without a gap, until their ends are known;
//   - verdicts of captures judged alone (vantage unknown) and failed
//     lookups come as they are read, among the joined verdicts, rather
//     than all before them.
type joiner struct {
	cfg     *analyzeConfig
	out     *joinWriter
	groups  []*joinGroup
	pk      *verdict.Packer
	packs   *verdict.Packs // the attempts held, packed
	stream  *verdict.Stream
	started bool
	warmup  time.Duration
	// concurrent: the groups are read at once (else one after another).
	concurrent bool
	// told: the sides the join was told are read to their end.
	told              map[verdict.Vantage]bool
	swapped, sameSide bool
	// overruled says which flags the TTLs overruled.
	overruled []string
	scratch   flows.Attempt
	// gc paces the collector for what the join holds; taken counts the
	// batches taken.
	gc    *gcPace
	taken int
}

// analyzeJoined reads several groups, joins the client-side and the
// server-side ones, and judges the rest alone.
func analyzeJoined(ctx context.Context, cfg *analyzeConfig, gs []group, notes []string, stdin io.Reader, out *sink) error {
	var files []string
	for _, g := range gs {
		files = append(files, g.files...)
	}
	jn := &joiner{cfg: cfg, pk: verdict.NewPacker(slices.Compact(slices.Clone(files))...), packs: new(verdict.Packs)}
	jn.out = newJoinWriter(out, jn.pk, jn.packs, cfg.verdict)
	jn.gc = newGCPace(0, joinHeadroom)
	defer jn.gc.restore()
	jn.warmup = verdict.StreamWindow(jn.joinConfig())
	for _, g := range gs {
		jn.groups = append(jn.groups, &joinGroup{group: g, votes: map[verdict.Vantage]int{}, voters: map[netip.Addr]int{}, ch: make(chan *joinBatchOf, 2), free: make(chan *joinBatchOf, 4)})
	}
	// Each side has its own tracker: the sides are read at once, on
	// goroutines of their own, unless they share something reading
	// changes (the --since/--until window is set by the first packet,
	// --midstream lines come in the order the captures are read) or one
	// of them is standard input. A progress line is drawn for the first
	// group only.
	jn.concurrent = cfg.window == nil && cfg.flows.OnMidstream == nil && !slices.ContainsFunc(gs, func(g group) bool { return slices.Contains(g.files, "-") })
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if jn.concurrent {
		for i := range jn.groups {
			opt := cfg.readOptions()
			if i > 0 {
				opt.progress = nil
			}
			wg.Go(func() { jn.read(rctx, i, opt, stdin) })
		}
	} else {
		wg.Go(func() {
			for i, g := range jn.groups {
				if jn.read(rctx, i, cfg.readOptions(), stdin); g.err != nil {
					// Nothing more is read: the groups after it end empty.
					for _, h := range jn.groups[i+1:] {
						h.ch <- &joinBatchOf{end: true}
					}
					return
				}
			}
		})
	}
	err := jn.run(cancel)
	wg.Wait()
	jn.out.close()
	if err != nil {
		return err
	}
	sources, warnings := jn.footer()
	if jn.stream != nil {
		if off := jn.stream.Offset(); off.Known {
			notes = append(notes, clockNote(off))
		}
	}
	return out.finish(report.Footer{Sources: sources, Notes: notes, Warnings: warnings})
}

// joinConfig is what the join is told.
func (jn *joiner) joinConfig() verdict.JoinConfig {
	return verdict.JoinConfig{Config: jn.cfg.verdict, Idle: jn.cfg.flows.Idle}
}

// read reads group i and hands on what its tracker hands on, in batches.
func (jn *joiner) read(ctx context.Context, i int, opt readOptions, stdin io.Reader) {
	g := jn.groups[i]
	b := g.batch()
	b.starts, b.filter = fileStarts(g.files)
	if g.group.split {
		b.starts = splitStarts(g.files, g.group.vantage)
	}
	add := func(it joinItem) {
		if b.items = append(b.items, it); len(b.items) == joinBatch {
			g.ch <- b
			b = g.batch()
		}
	}
	fcfg := jn.cfg.flows
	fcfg.OnDNS = func(l *flows.Lookup) {
		c := *l
		add(joinItem{lookup: &c})
	}
	if fcfg.OnMidstream != nil {
		fcfg.OnMidstream = func(m *flows.Midstream) {
			c := *m
			add(joinItem{mid: &c})
		}
	}
	fcfg.OnHost = func(a netip.Addr, nonTCP bool) { add(joinItem{host: a, nonTCP: nonTCP}) }
	g.sources, g.warnings, g.err = readGroup(ctx, g.group, fcfg, opt, stdin, func(a *flows.Attempt, _ verdict.Vantage) {
		if a.End.After(b.progress) {
			b.progress = a.End
		}
		from := len(b.packed)
		b.packed = jn.pk.Pack(b.packed, a)
		it := joinItem{from: from, to: len(b.packed), end: a.End, vote: verdict.InferVantage(a)}
		switch it.vote {
		case verdict.VantageClient:
			it.voter = a.Key.Client.Addr()
		case verdict.VantageServer:
			it.voter = a.Key.Server.Addr()
		}
		add(it)
	})
	b.end = true
	g.ch <- b
}

// batch is a batch to fill: one the joiner gave back, else a new one.
func (g *joinGroup) batch() *joinBatchOf {
	select {
	case b := <-g.free:
		return b
	default:
		return &joinBatchOf{items: make([]joinItem, 0, joinBatch)}
	}
}

// fileStarts reads the first record's time of each file, for what the
// join takes the capture to cover while it is read; zero where a file
// cannot be read twice (standard input, a FIFO) or holds no record. And
// the capture filter the files say they were taken with, if every one
// says the same (pcapng's if_filter); "" if not.
func fileStarts(files []string) ([]time.Time, string) {
	starts := make([]time.Time, len(files))
	filter, filtered := "", true
	for i, f := range files {
		rd := openToPeek(f)
		if rd == nil {
			filtered = false // a file not peeked at says nothing
			continue
		}
		// The first record is enough: stop there, even when no packet
		// of those Next returns follows for long.
		ctx, stop := context.WithCancel(context.Background())
		rd.SetContext(ctx)
		rd.OnFrame(func(fr *capture.Frame) {
			starts[i] = fr.TS
			stop()
		})
		var p capture.Packet
		rd.Next(&p)
		stop()
		f, ok := rd.CaptureFilter()
		filtered = filtered && ok && (i == 0 || f == filter)
		filter = f
		rd.Close()
	}
	if !filtered || len(files) == 0 {
		return starts, ""
	}
	return starts, filter
}

// splitStarts is, for files holding both ends' captures, when vantage's
// end's capture starts in each: its first packet of this end's alone
// (flows.Splitter), not the file's first record, which may be the other
// end's. Where none is among the first peekPackets, the last time read:
// this end's capture is not known to run before it. Far in the future
// where nothing could be read: nothing is covered until the file has been
// read through.
func splitStarts(files []string, vantage verdict.Vantage) []time.Time {
	starts := make([]time.Time, len(files))
	for i, f := range files {
		starts[i] = never
		rd := openToPeek(f)
		if rd == nil {
			continue
		}
		sp := flows.NewSplitter()
		var p capture.Packet
		for n := 0; n < peekPackets && rd.Next(&p) == nil; n++ {
			starts[i] = p.TS
			if atClient, atServer := sp.Sides(&p); atClient != atServer && atServer == (vantage == verdict.VantageServer) {
				break
			}
		}
		rd.Close()
	}
	return starts
}

// never is a time no capture reaches: a span starting then covers nothing.
var never = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// run takes the groups' batches until every group has been read; the
// first group that fails stops the others (cancel) and is the error.
func (jn *joiner) run(cancel func()) error {
	cases := make([]reflect.SelectCase, len(jn.groups))
	for {
		open := 0
		for i, g := range jn.groups {
			cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv}
			if !g.ended && !jn.throttled(g) {
				cases[i].Chan = reflect.ValueOf(g.ch)
				open++
			}
		}
		if open == 0 {
			break
		}
		i, v, _ := reflect.Select(cases)
		g := jn.groups[i]
		b := v.Interface().(*joinBatchOf)
		if b.starts != nil {
			g.starts, g.filter = b.starts, b.filter
		}
		jn.take(g, b)
		if jn.taken++; jn.taken%16 == 0 {
			jn.gc.adjust()
		}
		end := b.end
		// Back to its reader, emptied (nothing in it is kept).
		*b = joinBatchOf{items: b.items[:0], packed: b.packed[:0]}
		select {
		case g.free <- b:
		default:
		}
		if end {
			g.ended = true
			if g.err != nil {
				cancel()
				for _, h := range jn.groups {
					for !h.ended {
						h.ended = (<-h.ch).end
					}
				}
				return g.err
			}
		}
		jn.advance()
	}
	return nil
}

// take takes a batch of g's.
func (jn *joiner) take(g *joinGroup, b *joinBatchOf) {
	if b.progress.After(g.progress) {
		g.progress = b.progress
	}
	for i := range b.items {
		it := &b.items[i]
		switch {
		case it.to > it.from:
			packed := b.packed[it.from:it.to]
			g.votes[it.vote]++
			if !jn.started && it.voter.IsValid() {
				g.voters[it.voter]++
			}
			if g.start.IsZero() {
				jn.unpack(packed)
				g.start = jn.scratch.SYN.First
			}
			ref := jn.packs.Keep(packed)
			if !jn.started {
				g.held = append(g.held, held{ref, it.end})
			} else {
				jn.attempt(g, ref)
			}
		case it.host.IsValid():
			if !jn.started {
				g.hosts = append(g.hosts, joinItem{host: it.host, nonTCP: it.nonTCP})
			} else if g.joined {
				jn.stream.HostSeen(g.side, it.host, it.nonTCP)
			}
		case it.lookup != nil:
			if !jn.started {
				g.lookups = append(g.lookups, *it.lookup)
			} else if g.showDNS {
				jn.out.add(joinOut{lookup: it.lookup})
			}
		case it.mid != nil:
			jn.out.add(joinOut{mid: it.mid})
		}
	}
	if s := g.starts; len(s) > 0 && !s[0].IsZero() {
		g.start = s[0]
	}
}

// throttled reports whether g's reading has run too far ahead of another
// group still being read: only when they are read at once, and only
// among joined groups (those judged alone hold nothing). A group that has
// handed nothing on yet counts as behind.
func (jn *joiner) throttled(g *joinGroup) bool {
	if !jn.concurrent || (jn.started && !g.joined) {
		return false
	}
	t, ok := jn.reached(g)
	if !ok {
		return false
	}
	// Once joined, the server side does not lead: its attempts then come
	// after their client views, which take them at once, rather than
	// waiting for them in the tables of the matches that need the clock.
	lead := joinLead
	if jn.started && g.side == verdict.VantageServer {
		lead = 0
	}
	for _, h := range jn.groups {
		if h == g || h.ended || (jn.started && !h.joined) {
			continue
		}
		if u, ok := jn.reached(h); !ok || t.Sub(u) > lead {
			return true
		}
	}
	return false
}

// reached is how far g has been read, comparable between groups: on the
// client's clock once the join has started; before, since its start (the
// clocks are not aligned yet).
func (jn *joiner) reached(g *joinGroup) (time.Time, bool) {
	if g.progress.IsZero() || g.start.IsZero() {
		return time.Time{}, false
	}
	if !jn.started {
		return time.Time{}.Add(g.progress.Sub(g.start)), true
	}
	if g.side == verdict.VantageServer && jn.stream != nil {
		return g.progress.Add(-jn.stream.Offset().Offset), true
	}
	return g.progress, true
}

// advance starts the join once every group has been read past its
// warm-up, and tells the join how far each side has been read.
func (jn *joiner) advance() {
	if !jn.started {
		for _, g := range jn.groups {
			if !g.ended && (g.start.IsZero() || g.progress.Sub(g.start) < jn.warmup) {
				return
			}
		}
		jn.start()
	}
	if jn.stream == nil {
		return
	}
	for _, side := range []verdict.Vantage{verdict.VantageClient, verdict.VantageServer} {
		if jn.told[side] {
			continue
		}
		var progress time.Time
		ended := true
		for _, g := range jn.groups {
			if !g.joined || g.side != side || g.ended {
				continue
			}
			if ended || g.progress.Before(progress) {
				progress = g.progress
			}
			ended = false
		}
		if ended {
			jn.told[side] = true
			jn.stream.End(side, jn.side(side))
		} else {
			jn.stream.Advance(side, progress)
		}
	}
}

// start decides, on what the captures have shown so far, which side each
// group is and whether --client and --server were swapped, and starts the
// join with what was held.
func (jn *joiner) start() {
	jn.started = true
	if swapped(jn.groups) {
		for _, g := range jn.groups {
			g.group.vantage = map[verdict.Vantage]verdict.Vantage{verdict.VantageClient: verdict.VantageServer, verdict.VantageServer: verdict.VantageClient}[g.group.vantage]
		}
		jn.swapped = true
	}
	for _, g := range jn.groups {
		// A flag the TTLs clearly contradict, while another capture,
		// flagged so, shows the same host at that end: both were taken
		// there (the same capture twice, under two names?). Joined as
		// flagged, each packet would seem to arrive where it was sent, or
		// never to have left. A host of both roles (a proxy given as
		// --server, mostly a client of its backends) keeps its flag.
		v := majority(g.votes)
		if g.group.split || g.group.vantage == "" || v == g.group.vantage || v != verdict.VantageClient && v != verdict.VantageServer {
			continue
		}
		for _, h := range jn.groups {
			if h != g && h.group.vantage == v && majority(h.votes) == v && mostOf(h.voters) == mostOf(g.voters) {
				jn.overruled = append(jn.overruled, fmt.Sprintf("--%s was given, but the TTLs say %s was taken at the %s end, on %s, as %s was; judged as taken there", g.group.vantage, strings.Join(g.group.files, ", "), v, mostOf(g.voters), strings.Join(h.group.files, ", ")))
				g.group.vantage = v
				break
			}
		}
	}
	clientN, serverN := 0, 0
	for _, g := range jn.groups {
		switch g.decided = g.vantage(); g.decided {
		case verdict.VantageClient:
			clientN++
		case verdict.VantageServer:
			serverN++
		}
	}
	join := clientN > 0 && serverN > 0
	jn.sameSide = !join && clientN+serverN > 1
	// Failed lookups once: from the client side's captures when there are
	// any (the client asked), else from whichever showed them.
	for _, g := range jn.groups {
		v := g.decided
		g.showDNS = clientN == 0 || v != verdict.VantageServer
		if g.showDNS {
			for i := range g.lookups {
				jn.out.add(joinOut{lookup: &g.lookups[i]})
			}
		}
		g.lookups = nil
		switch {
		case v != verdict.VantageClient && v != verdict.VantageServer:
			g.alone = "" // each attempt by its TTLs
		case join:
			g.joined, g.side = true, v
		default:
			g.alone = v
		}
	}
	// Those judged alone first: of unknown vantage, then (nothing joined)
	// the client side's and the server side's, as a join of whole
	// captures wrote them.
	for _, v := range []verdict.Vantage{"", verdict.VantageClient, verdict.VantageServer} {
		for _, g := range jn.groups {
			if !g.joined && g.alone == v {
				for _, h := range g.held {
					jn.judgeAlone(g, h.packed)
				}
				g.held = nil
			}
		}
	}
	if !join {
		return
	}
	jn.told = map[verdict.Vantage]bool{}
	jn.stream = verdict.NewStream(jn.joinConfig(), jn.pk, jn.packs, func(r verdict.Ready) { jn.out.add(joinOut{ready: r, hasReady: true}) })
	jn.stream.TellsHosts()
	for _, g := range jn.groups {
		if g.joined {
			for _, h := range g.hosts {
				jn.stream.HostSeen(g.side, h.host, h.nonTCP)
			}
		}
		g.hosts = nil
	}
	for _, side := range []verdict.Vantage{verdict.VantageClient, verdict.VantageServer} {
		if spans := jn.opening(side); spans != nil {
			jn.stream.SetCoverage(side, spans)
		}
	}
	if f := jn.serverFilter(); f != nil {
		jn.stream.SetServerFilter(f)
	}
	// In the order the trackers handed them on, as if the join had run
	// from the start: its tables then hold no more than they will later.
	// That is a stable sort of all of them by when they were handed on: a
	// merge of the groups' own, those of earlier groups first where equal.
	var at []int
	for _, g := range jn.groups {
		at = append(at, 0)
		slices.SortStableFunc(g.held, func(a, b held) int { return a.end.Compare(b.end) })
	}
	for {
		next := -1
		for k, g := range jn.groups {
			if at[k] < len(g.held) && (next < 0 || g.held[at[k]].end.Before(jn.groups[next].held[at[next]].end)) {
				next = k
			}
		}
		if next < 0 {
			break
		}
		g := jn.groups[next]
		jn.stream.AddPacked(g.side, g.held[at[next]].packed)
		at[next]++
	}
	for _, g := range jn.groups {
		g.held = nil
	}
}

// attempt takes an attempt of g once the join has started.
func (jn *joiner) attempt(g *joinGroup, p verdict.PackRef) {
	if g.joined {
		jn.stream.AddPacked(g.side, p)
		return
	}
	jn.judgeAlone(g, p)
}

// judgeAlone hands an attempt to the writer, to be judged from g's
// vantage alone; the bytes stay valid once dropped.
func (jn *joiner) judgeAlone(g *joinGroup, p verdict.PackRef) {
	jn.out.add(joinOut{packed: jn.packs.Bytes(p), alone: g.alone})
	jn.packs.Drop(p)
}

func (jn *joiner) unpack(p []byte) *flows.Attempt {
	if err := jn.pk.Unpack(p, &jn.scratch); err != nil {
		panic(err) // packed by the readers with the same Packer: a bug
	}
	return &jn.scratch
}

// opening is what the join takes side's captures to cover while they
// are read: from each file's first packet, rotated files following on
// without a gap, the last running up to what has been read. Nil when a
// file's start is not known.
func (jn *joiner) opening(side verdict.Vantage) []verdict.Span {
	var spans []verdict.Span
	for _, g := range jn.groups {
		if !g.joined || g.side != side {
			continue
		}
		if len(g.starts) == 0 || slices.ContainsFunc(g.starts, time.Time.IsZero) {
			return nil
		}
		for i, t := range g.starts {
			var last time.Time
			if i+1 < len(g.starts) {
				last = g.starts[i+1]
			}
			spans = append(spans, verdict.Span{First: t, Last: last})
		}
	}
	return spans
}

// serverFilter is the capture filter the server side's captures say they
// were taken with, when all of them say the same one and it parses; nil
// otherwise.
func (jn *joiner) serverFilter() *capture.Filter {
	expr, n := "", 0
	for _, g := range jn.groups {
		if !g.joined || g.side != verdict.VantageServer {
			continue
		}
		if g.filter == "" || (n > 0 && g.filter != expr) || g.group.split {
			return nil
		}
		expr, n = g.filter, n+1
	}
	if n == 0 {
		return nil
	}
	f, err := capture.ParseFilter(expr)
	if err != nil {
		return nil // a filter we cannot read says nothing
	}
	return f
}

// side is what side's captures, read to their end, say of when they ran.
func (jn *joiner) side(side verdict.Vantage) verdict.Side {
	var sd verdict.Side
	whole, files := true, 0
	for _, g := range jn.groups {
		if !g.joined || g.side != side {
			continue
		}
		for _, s := range g.sources {
			files++
			whole = whole && !s.RanFrom.IsZero()
			sd.First, sd.Last = widen(sd.First, sd.Last, s.First, s.Last)
			// A capture that proves it ran before its first packet or
			// after its last (dumpcap's statistics) covers that time too:
			// a quiet server's capture then proves what never reached it.
			first, last := widen(s.First, s.Last, s.RanFrom, s.RanUntil)
			if !first.IsZero() {
				sd.Coverage = append(sd.Coverage, verdict.Span{First: first, Last: last})
			}
			sd.Dropped += s.Dropped
			sd.Gaps += s.Gaps
		}
	}
	sd.Whole = whole && files > 0
	if sd.Coverage == nil {
		// Read to the end and no packet in it (a filter that matched
		// nothing, the wrong interface): it covers no time at all.
		sd.Coverage = []verdict.Span{}
	}
	return sd
}

// footer is what the footer says of the captures and the join.
func (jn *joiner) footer() ([]report.Source, []string) {
	var sources []report.Source
	var warnings []string
	for _, g := range jn.groups {
		v := g.decided
		for i := range g.sources {
			switch {
			case g.group.split:
			case v == verdict.VantageUnknown:
				g.sources[i].Vantage = "vantage unknown: the TTLs cannot tell which end it was taken at"
			default:
				g.sources[i].Vantage = string(v) + " side"
				if g.group.vantage == "" {
					g.sources[i].Vantage += ", inferred from TTLs"
				}
			}
		}
		sources = append(sources, g.sources...)
		warnings = append(warnings, g.warnings...)
	}
	warnings = append(warnings, jn.overruled...)
	if jn.swapped {
		warnings = append(warnings, "--client and --server look swapped: the TTLs say the --client capture was taken at the server end (SYNs arrive with hops lost, SYN-ACKs leave undecremented) or the --server one at the client end; judged as swapped")
	}
	if jn.stream != nil {
		for _, side := range []verdict.Vantage{verdict.VantageClient, verdict.VantageServer} {
			if jn.side(side).First.IsZero() {
				warnings = append(warnings, fmt.Sprintf("the %s side's captures hold no packet (a filter that matched nothing, the wrong interface?): they confirm no attempt, and each was judged from the other side's alone", side))
			}
		}
	}
	if jn.sameSide {
		warnings = append(warnings, "all captures look taken on the same side, so nothing was joined: each was judged alone (rotated files of one capture go together with --client or --server; --client and --server also say which side is which)")
	}
	return sources, warnings
}

// widen extends the span first…last to cover f…l; zero times are empty.
func widen(first, last, f, l time.Time) (time.Time, time.Time) {
	if !f.IsZero() && (first.IsZero() || f.Before(first)) {
		first = f
	}
	if l.After(last) {
		last = l
	}
	return first, last
}

func clockNote(off verdict.ClockOffset) string {
	if off.Contradicted {
		return fmt.Sprintf("clock offset server - client: the matched attempts contradict each other by %s (a SYN seen at the server before the client sent it, or a SYN-ACK at the client before the server sent it): the clocks drifted, or the captures are each other's (--client and --server swapped?); conclusions that compare the clocks are only likely", (2 * off.Error).Round(time.Microsecond))
	}
	if off.Error < 0 {
		return fmt.Sprintf("clock offset server - client: at most %s (one-sided bound from %d matched attempts)", off.Offset, off.Pairs)
	}
	return fmt.Sprintf("clock offset server - client: %s ± %s (from %d matched attempts), applied", off.Offset.Round(time.Microsecond), off.Error.Round(time.Microsecond), off.Pairs)
}

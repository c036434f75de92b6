package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// analyzeConfig is the validated command line of "synpath analyze".
type analyzeConfig struct {
	clientFiles, serverFiles, autoFiles []string
	// cpuProfile: write a CPU profile of the run there (a hidden flag,
	// for reports of a slow run).
	cpuProfile                          string
	json, failedOnly, explain, ascii    bool
	midstream, summaryOnly, withSummary bool
	color                               bool
	rows, top                           int
	count                               int         // -c: packets read before stopping (each side), 0: all
	window                              *timeWindow // --since / --until; nil: all
	html                                string      // --html FILE
	progress                            io.Writer   // a terminal for progress lines, or nil
	filter                              string      // tcpdump syntax; "" none
	memory                              byteSize    // --max-memory
	writeFailed                         string      // --write-failed FILE
	verdict                             verdict.Config
	flows                               flows.Config
}

const analyzeUsage = `Usage: synpath analyze [flags] FILE...

FILE is a pcap or pcapng capture, gzip'd or not ("-" reads standard input).
--since and --until take RFC 3339 (2026-11-20T14:02:31Z) or a time of day
(14:02:31), which is on the UTC day of the first packet, as the table prints.

Flags:
`

func parseAnalyze(args []string, stdout, stderr io.Writer) (*analyzeConfig, error) {
	fs := pflag.NewFlagSet("analyze", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	cfg := &analyzeConfig{}
	var readFiles []string
	fs.StringArrayVarP(&readFiles, "read", "r", nil, "capture to read, as a plain FILE argument (tcpdump's -r)")
	fs.StringArrayVar(&cfg.clientFiles, "client", nil, "capture taken on or next to the client (repeat for rotated files)")
	fs.StringArrayVar(&cfg.serverFiles, "server", nil, "capture taken on or next to the server (repeat for rotated files)")
	format := fs.String("format", "table", "output: table (for people) or json (JSON Lines, one object per attempt)")
	fs.BoolVar(&cfg.withSummary, "with-summary", false, "with --format json: end with a {\"type\":\"summary\"} line of counts")
	fs.BoolVar(&cfg.failedOnly, "failed", false, "list only attempts that were not established")
	fs.BoolVar(&cfg.explain, "explain", false, "draw a ladder diagram of each failed attempt, with its Wireshark filter")
	fs.BoolVar(&cfg.midstream, "midstream", false, "also list connections whose SYN is not in the capture (not judged)")
	fs.IntVar(&cfg.rows, "rows", 200, "list at most this many attempts: a sample showing every failure kind and failing server (0: up to 10000)")
	fs.BoolVar(&cfg.summaryOnly, "summary", false, "print only the summaries, the timeline and the footer")
	fs.IntVar(&cfg.top, "top", 20, "rows in each summary (per server, client, client network), worst first (0: all)")
	fs.StringVar(&cfg.html, "html", "", "also write a self-contained HTML report to this file, to attach to a ticket")
	fs.IntVarP(&cfg.count, "count", "c", 0, "stop after this many packets (of each side, when joining)")
	since := fs.String("since", "", "keep attempts whose first SYN is at or after this time")
	until := fs.String("until", "", "keep attempts whose first SYN is before this time")
	fs.StringVarP(&cfg.writeFailed, "write-failed", "W", "", "write the packets of failed attempts (their evidence frames, from every input capture) to this pcapng file, each with its verdict as a comment")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	_ = fs.MarkHidden("cpuprofile")
	fs.StringVar(&cfg.filter, "filter", "", "read only the packets this tcpdump-syntax expression passes (frame numbers stay those of the file)")
	judgeFlags(fs, &cfg.ascii, &cfg.verdict, &cfg.flows, &cfg.memory)
	fs.Usage = func() { fmt.Fprintf(stderr, "%s%s", analyzeUsage, fs.FlagUsages()) }
	if err := parseFlags(fs, "analyze", args, stdout, analyzeUsage); err != nil {
		return nil, err
	}
	cfg.autoFiles = append(readFiles, fs.Args()...)
	var err error
	if cfg.json, err = jsonFormat("analyze", *format); err != nil {
		return nil, err
	}
	if cfg.withSummary && !cfg.json {
		return nil, errors.New("analyze: --with-summary goes with --format json (the table always ends with its summary)")
	}
	if cfg.count < 0 || cfg.rows < 0 || cfg.top < 0 {
		return nil, errors.New("analyze: --count, --rows and --top must not be negative")
	}
	if len(cfg.clientFiles)+len(cfg.serverFiles)+len(cfg.autoFiles) == 0 {
		return nil, errors.New("analyze: no capture given (see synpath analyze --help)")
	}
	stdins := 0
	for _, f := range slices.Concat(cfg.clientFiles, cfg.serverFiles, cfg.autoFiles) {
		if f == "-" {
			stdins++
		}
	}
	if stdins > 1 {
		return nil, errors.New("analyze: standard input (-) can be read only once")
	}
	if w, err := newTimeWindow(*since, *until); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	} else if w.set() {
		cfg.window = w
	}
	if err := checkJudgeFlags(&cfg.ascii, cfg.verdict, &cfg.flows, cfg.memory); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if _, err := capture.ParseFilter(cfg.filter); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	// Colour only for people at a terminal that wants it (no-color.org).
	cfg.color = !cfg.json && isTerminal(stdout) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	if isTerminal(stderr) {
		cfg.progress = stderr
	}
	return cfg, nil
}

// parseFlags parses args, naming the command in pflag's errors. Asked for
// help, it prints the usage on stdout: help is output, not an error.
func parseFlags(fs *pflag.FlagSet, cmd string, args []string, stdout io.Writer, usage string) error {
	usageOnError := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usageOnError
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stdout, "%s%s", usage, fs.FlagUsages())
			return err
		}
		usageOnError()
		return fmt.Errorf("%s: %v", cmd, err)
	}
	return nil
}

// jsonFormat reads --format: JSON Lines, or a table for people.
func jsonFormat(cmd, format string) (bool, error) {
	switch format {
	case "json":
		return true, nil
	case "table":
		return false, nil
	}
	return false, fmt.Errorf("%s: --format must be table or json, not %q", cmd, format)
}

// judgeFlags are the flags of every command that judges attempts.
func judgeFlags(fs *pflag.FlagSet, ascii *bool, vcfg *verdict.Config, fcfg *flows.Config, mem *byteSize) {
	fs.BoolVar(ascii, "ascii", false, "draw with ASCII only (default when the terminal is not UTF-8)")
	fs.DurationVar(&vcfg.SYNTimeout, "syn-timeout", verdict.DefaultConfig.SYNTimeout, "SYNs unanswered this long since the first one are a timeout (the capture showing the client waiting), else incomplete")
	fs.DurationVar(&vcfg.StallAfter, "stall-after", verdict.DefaultConfig.StallAfter, "a request without reply for this long is stalled")
	fs.DurationVar(&fcfg.Idle, "idle", flows.DefaultConfig.Idle, "forget an attempt after this much capture time without packets")
	fs.IntVar(&fcfg.MaxAttempts, "max-attempts", 0, "attempts tracked at once before the oldest is judged early (SYN floods); 0: as many as --max-memory allows")
	*mem = defaultMemory
	fs.Var(mem, "max-memory", "memory budget: bounds the attempts tracked at once (a SYN flood is judged early beyond it) and paces the garbage collector")
}

func checkJudgeFlags(ascii *bool, vcfg verdict.Config, fcfg *flows.Config, mem byteSize) error {
	if fcfg.Idle < vcfg.SYNTimeout {
		return errors.New("--idle must not be shorter than --syn-timeout")
	}
	if fcfg.MaxAttempts < 0 {
		return errors.New("--max-attempts must not be negative")
	}
	if fcfg.MaxAttempts == 0 {
		fcfg.MaxAttempts = flows.AttemptsFor(int64(mem))
	}
	// The budget also paces the collector: near it, the heap is collected
	// sooner rather than doubled.
	debug.SetMemoryLimit(int64(mem))
	if !*ascii && !utf8Terminal() {
		*ascii = true
	}
	return nil
}

func analyze(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	cfg, err := parseAnalyze(args, stdout, stderr)
	if err != nil {
		return err
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return fmt.Errorf("analyze: --cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("analyze: --cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	// What was judged is written out whatever ends the run (the end, an
	// input error, Ctrl-C).
	o := newOutput(stdout)
	defer o.flushInto(&err)
	out := newSink(cfg, o, stderr)
	if cfg.writeFailed != "" {
		out.failedFrames = &failedFrames{}
		out.writeFailed = func() ([]string, error) {
			return out.failedFrames.write(ctx, cfg.writeFailed, slices.Compact(slices.Concat(cfg.clientFiles, cfg.serverFiles, cfg.autoFiles)))
		}
	}
	if cfg.midstream {
		cfg.flows.OnMidstream = out.addMidstream
	}
	out.dnsWait = cfg.flows.DNSWait
	if out.dnsWait <= 0 {
		out.dnsWait = flows.DefaultDNSWait
	}
	heapAdvised := hugeHeap(inputSize(slices.Concat(cfg.clientFiles, cfg.serverFiles, cfg.autoFiles)))
	gs, notes, err := planGroups(ctx, cfg)
	<-heapAdvised
	if err != nil {
		return err
	}
	opt := cfg.readOptions()
	if len(gs) > 1 {
		return analyzeJoined(ctx, cfg, gs, notes, stdin, out)
	}
	if cfg.window != nil {
		// One capture: nothing after --until, plus the time an attempt may
		// still run, can change a verdict in the window.
		opt.stopAfter = cfg.flows.Idle
	}
	// Reading and tracking on this goroutine; judging and writing on the
	// pipe's, a batch behind. With one core, judging here spares copying
	// each attempt (6% of a one-core run).
	pipe := newPipe(out, cfg.verdict)
	opt.gc = newGCPace(analyzeBudget, 0)
	defer opt.gc.restore()
	judgeHere := runtime.GOMAXPROCS(0) < 2
	closed := false
	closePipe := func() {
		if !closed {
			pipe.close()
			closed = true
		}
	}
	defer closePipe()
	if cfg.midstream {
		cfg.flows.OnMidstream = pipe.addMidstream
	}
	cfg.flows.OnDNS = pipe.addDNS
	var sources []report.Source
	var warnings []string
	for _, g := range gs {
		var votes vantageVotes
		gopt := opt
		// What the TTLs say of each attempt's vantage: v itself, unless the
		// group's vantage was given.
		inferred := func(a *flows.Attempt, v verdict.Vantage) verdict.Vantage {
			if g.vantage == "" {
				return v
			}
			return verdict.InferVantage(a)
		}
		if !judgeHere {
			// Attempts cross to the pipe's goroutine without a copy.
			gopt.take = func(a *flows.Attempt, v verdict.Vantage) *flows.Attempt {
				votes.add(inferred(a, v))
				return pipe.takeAttempt(a, v)
			}
		}
		srcs, warns, err := readGroup(ctx, g, cfg.flows, gopt, stdin, func(a *flows.Attempt, v verdict.Vantage) {
			votes.add(inferred(a, v))
			pipe.judgeHere(a, v)
		})
		if err != nil {
			return err
		}
		sources = append(sources, srcs...)
		warnings = append(warnings, warns...)
		if inferred := majority(votes.counts()); g.vantage != "" && inferred != verdict.VantageUnknown && inferred != g.vantage {
			warnings = append(warnings, fmt.Sprintf("--%s was given, but the TTLs say %s was taken at the %s end: its verdicts are judged as told, and may be wrong", g.vantage, strings.Join(g.files, ", "), inferred))
		}
	}
	closePipe()
	return out.finish(report.Footer{Sources: sources, Notes: notes, Warnings: warnings})
}

// readOptions are what the command line asks of reading, beyond flows'
// own settings.
type readOptions struct {
	count  int         // stop after this many packets of the group, 0: all
	window *timeWindow // resolved on the first packet; with stopAfter, ends reading
	// stopAfter: stop reading once packets are this long past the window's
	// end (0: read to the end).
	stopAfter time.Duration
	progress  io.Writer // a terminal for a progress line, or nil
	filter    string    // --filter, tcpdump syntax
	// take, if set, takes each attempt rather than the judge function:
	// flows.Config.HandOver, with the vantage to judge it from.
	take func(*flows.Attempt, verdict.Vantage) *flows.Attempt
	gc   *gcPace // paced as reading goes, if set
}

func (cfg *analyzeConfig) readOptions() readOptions {
	return readOptions{count: cfg.count, window: cfg.window, progress: cfg.progress, filter: cfg.filter}
}

// group is a set of files read as one capture (rotated files), from one
// vantage; an empty vantage is inferred per attempt.
type group struct {
	files   []string
	vantage verdict.Vantage
	// split: the files hold both ends' captures, and this group keeps the
	// packets of its vantage's end (flows.Splitter).
	split bool
}

// readGroup reads a group's files through one tracker and hands each
// attempt, with its vantage, to judge. A file that cannot be opened is an
// error; one that breaks off is a warning, and what came before it counts.
func readGroup(ctx context.Context, g group, fcfg flows.Config, opt readOptions, stdin io.Reader, judge func(*flows.Attempt, verdict.Vantage)) ([]report.Source, []string, error) {
	sources := make([]report.Source, len(g.files))
	vantages := make([]vantageVotes, len(g.files))
	// directed: the file records which way packets crossed its host.
	directed := make([]bool, len(g.files))
	readAs := make([]string, len(g.files)) // the names its packets carry
	for i, f := range g.files {
		sources[i].Name, readAs[i] = f, readName(f)
	}
	vantage := func(a *flows.Attempt) verdict.Vantage {
		v := g.vantage
		if v == "" {
			v = verdict.InferVantage(a)
		}
		if i := slices.Index(readAs, a.File); i >= 0 {
			sources[i].Attempts++
			vantages[i].add(v)
			directed[i] = directed[i] || a.SYNsIn+a.SYNsOut > 0
		}
		return v
	}
	if opt.take != nil {
		fcfg.HandOver = func(a *flows.Attempt) *flows.Attempt { return opt.take(a, vantage(a)) }
	}
	tracker := flows.NewTracker(fcfg, func(a *flows.Attempt) { judge(a, vantage(a)) })
	var warnings []string
	var splitter *flows.Splitter
	if g.split {
		splitter = flows.NewSplitter()
	}
	read := 0 // packets of the group, for --count
	// looked: files whose stretches out of time order would have been
	// read in time order, had time order been right for them.
	looked := map[string]bool{}
	interrupted := func(name string, st capture.Stats) {
		name = readName(name)
		if st.Packets == 0 {
			warnings = append(warnings, fmt.Sprintf("interrupted before %s was read", name))
		} else {
			warnings = append(warnings, fmt.Sprintf("interrupted after packet %d of %s: verdicts cover what was read", st.Packets, name))
		}
	}
	for i, name := range g.files {
		if ctx.Err() != nil {
			interrupted(name, capture.Stats{})
			continue
		}
		rd, in, prog, err := openInput(ctx, name, stdin, opt.progress, opt.count == 0)
		if err != nil {
			if ctx.Err() != nil {
				interrupted(name, capture.Stats{})
				continue
			}
			return nil, nil, err
		}
		if runs := rd.InTimeOrder(); runs != nil {
			warnings = append(warnings, inTimeOrderNote(name, runs))
		}
		if rd.TimeOrderLooked() {
			looked[name] = true
		}
		filter, _ := capture.ParseFilter(opt.filter) // checked with the flags
		rd.SetFilter(filter)
		rd.ReportOtherIP(fcfg.OnHost != nil)
		before := tracker.Counts().Midstream
		ahead := newPacketsAhead(rd)
		whole := false // read to its end: then what the file says of its run holds
		// Of a file holding both ends, this end's capture ran from its
		// first packet to its last, not the file's: the other end's may
		// have run longer.
		var sideFirst, sideLast time.Time
		for n := 0; ; n++ {
			if n%8192 == 0 {
				prog.tick(ahead.records())
				opt.gc.adjust()
			}
			p, err := ahead.next()
			if err == io.EOF {
				whole = true
				break
			}
			if err == nil {
				// -c counts records, as tcpdump does, not only those with TCP.
				if opt.count > 0 && read+int(p.N) > opt.count {
					break
				}
				if w := opt.window; w != nil {
					w.resolve(p.TS)
					if opt.stopAfter > 0 && !w.until.IsZero() && p.TS.After(w.until.Add(opt.stopAfter)) {
						break
					}
				}
			}
			if err != nil {
				st := rd.Stats()
				switch {
				case ctx.Err() != nil:
					interrupted(name, st)
				case st.Packets == 0 && !errors.Is(err, capture.ErrTruncated) && !errors.Is(err, capture.ErrTrailingData):
					// Broken structure before the first packet: not a
					// capture we can read at all.
					ahead.stop()
					prog.done()
					rd.Close()
					in.Close()
					return nil, nil, err
				case errors.Is(err, capture.ErrTrailingData):
					warnings = append(warnings, oneLine(err.Error())+", ignored")
				default:
					// Later on, keep what came before.
					warnings = append(warnings, oneLine(err.Error())+"; verdicts cover the packets before it")
				}
				break
			}
			if i == 0 && n == 0 && splitter == nil {
				// Not for one end of a merged file: the other end's
				// capture may have begun first.
				tracker.Began(ahead.first())
			}
			if splitter != nil {
				atClient, atServer := splitter.Sides(p)
				if !atClient && g.vantage == verdict.VantageClient || !atServer && g.vantage == verdict.VantageServer {
					continue
				}
				if atClient != atServer { // this end's alone
					sideFirst, sideLast = widen(sideFirst, sideLast, p.TS, p.TS)
				}
			}
			tracker.Observe(p)
		}
		ahead.stop()
		prog.done()
		rd.Close()
		in.Close()
		st := rd.Stats()
		if opt.count > 0 && read+int(st.Packets) > opt.count {
			// The reader looked past the last record -c keeps.
			st.Packets = uint64(opt.count - read)
		}
		read += int(st.Packets)
		if err := unreadLinks(name, &st, &warnings); err != nil {
			return nil, nil, err
		}
		if splitter != nil {
			st.First, st.Last = sideFirst, sideLast
		}
		tracker.Advance(st.Last)
		s := &sources[i]
		s.Packets, s.TCP, s.ICMP, s.Skipped, s.Malformed, s.Truncated = st.Packets, st.TCP, st.ICMP, st.Skipped, st.Malformed, st.Truncated
		s.First, s.Last = st.First, st.Last
		if from, until, ok := rd.Ran(); ok && whole && splitter == nil {
			s.RanFrom, s.RanUntil = from, until
		}
		if i == len(g.files)-1 {
			tracker.Finish()
		}
		s.Midstream = tracker.Counts().Midstream - before
		if st.Truncated > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: %d packets were cut by the snaplen inside their TCP header", name, st.Truncated))
		}
		warnings = append(warnings, fileWarnings(name, st)...)
		if d := rd.KernelDrops(); d > 0 {
			s.Dropped = d
			warnings = append(warnings, fmt.Sprintf("%s: the capture dropped %d packets (its own statistics say so): a packet missing from it is no proof that the network lost it", name, d))
		}
	}
	if n := tracker.Counts().Gaps; n > 0 && len(sources) > 0 {
		sources[len(sources)-1].Gaps = n
		warnings = append(warnings, gapWarning(g.files, n))
	}
	if j := tracker.TimeJumps(); j.Count > 0 {
		warnings = append(warnings, timeJumpWarning(j, looked[j.At.File]))
	}
	if tracker.FlagsOnly() {
		warnings = append(warnings, fmt.Sprintf("%s: holds no TCP segment without SYN, FIN or RST, though servers answered handshakes: it was taken with a filter on TCP flags (tcp[tcpflags] & tcp-syn != 0?). ACKs and data, perhaps RSTs, are not in it: a handshake the client resent no SYN for is judged established (likely), and no one is blamed for an answer the capture cannot hold", strings.Join(g.files, ", ")))
	}
	if n := tracker.Counts().Duplicates; n > 0 {
		warnings = append(warnings, fmt.Sprintf("%d packets were captured twice (tcpdump -i any on a router sees forwarded packets on both interfaces) and counted once", n))
	}
	if n := tracker.Counts().Evicted; n > 0 {
		warnings = append(warnings, fmt.Sprintf("%d attempts were judged early: more than %d were in progress at once, all --max-memory allows (SYN flood?)", n, fcfg.MaxAttempts))
	}
	for i := range sources {
		sources[i].Vantage = vantageText(g.vantage, vantages[i].counts(), directed[i])
		if g.split {
			sources[i].Vantage = string(g.vantage) + "-side packets of a file holding both ends"
		}
	}
	return sources, warnings, nil
}

// unreadLinks names the link types of a file that synpath does not read,
// as warnings; a file of nothing else is an error: it could not be read.
func unreadLinks(name string, st *capture.Stats, warnings *[]string) error {
	unread := st.Unread()
	var n uint64
	var names []string
	for _, l := range unread {
		n += l.Packets
		names = append(names, l.String())
	}
	if n > 0 && n == st.Packets {
		return &capture.ReadError{File: name, Err: fmt.Errorf("nothing read: %s is not a link type synpath reads (%d packets)", strings.Join(names, ", "), n)}
	}
	for _, l := range unread {
		*warnings = append(*warnings, fmt.Sprintf("%s: %s: not read, %d packets skipped", name, l, l.Packets))
	}
	return nil
}

// mostlyGarbage is how many undecodable records, when they are also most of
// a file's, make it worth saying that the file is mostly not packets.
const mostlyGarbage = 100

// fileWarnings are what a file's counts say about it being sound.
func fileWarnings(name string, st capture.Stats) []string {
	var w []string
	if st.Malformed >= mostlyGarbage && st.Malformed*2 > st.Packets {
		w = append(w, fmt.Sprintf("%s: %d of its %d records do not decode as packets (corrupt, or not the link type its header says)", name, st.Malformed, st.Packets))
	}
	if st.BadTime > 0 {
		w = append(w, fmt.Sprintf("%s: %d records had impossible times (a fraction of a second above one, a year past 9999 or before 1970), clamped", name, st.BadTime))
	}
	if st.BadLength > 0 {
		w = append(w, fmt.Sprintf("%s: %d records say they kept more bytes than were on the wire (a writer's bug): read whole, as tshark does", name, st.BadLength))
	}
	return w
}

// gapWarning says that a capture missed packets its hosts acknowledged.
func gapWarning(files []string, n uint64) string {
	return fmt.Sprintf("%s: on %d connections an end acknowledged data this capture never showed: it missed packets (dropped them, as tcpdump's 'packets dropped by kernel' says, or they went past it), so a packet missing from it is no proof that the network lost it", strings.Join(files, ", "), n)
}

// inTimeOrderNote says that a file's records were read in time order,
// not as they lie, and in which pieces.
func inTimeOrderNote(name string, runs []capture.Run) string {
	pieces := make([]string, len(runs))
	for i, r := range runs {
		pieces[i] = fmt.Sprintf("%d-%d", r.From, r.To)
	}
	return fmt.Sprintf("%s: its records lie in %d stretches out of time order (captures appended the wrong way round?): read in time order, records %s, each packet keeping its number", name, len(runs), strings.Join(pieces, " then "))
}

// timeJumpWarning says where capture time first jumped, which limits what
// idle times and timeouts mean around it: a connection across the jump
// comes in two pieces, its end before its SYN. A jump back left in a file
// whose stretches were looked at (looked) is one time order would not
// mend; in another it may be.
func timeJumpWarning(j flows.TimeJump, looked bool) string {
	how := fmt.Sprintf("back by %s", max(-j.By, -(j.By+1))) // -MinInt64 overflows
	if j.By > 0 {
		how = fmt.Sprintf("forward by %s", j.By)
	}
	more := ""
	if j.Count > 1 {
		more = fmt.Sprintf(" (%d packets out of time in all)", j.Count)
	}
	why := ""
	switch {
	case j.By > 0:
	case looked:
		why = ": read as it lies, as what lies out of time is not pieces of a capture in the wrong order (it overlaps in time, is a packet alone, or a connection goes on across the jump, as when a clock is stepped back)"
	default:
		why = ": synpath reads the stretches of an uncompressed capture file in time order when they are pieces out of order, not of a gzip'd one, standard input or with -c"
	}
	return fmt.Sprintf("%s: packet %d: capture time jumps %s%s; a connection with packets on both sides of it is judged in two pieces, and timeouts near it may be wrong%s", j.At.File, j.At.N, how, more, why)
}

// vantageText says how a file's attempts were judged: forced, or inferred
// (with a breakdown when a host was client for some and server for others),
// from TTLs and, where the file records them (directed), directions.
func vantageText(forced verdict.Vantage, seen map[verdict.Vantage]int, directed bool) string {
	if forced != "" {
		return string(forced) + " side, as told"
	}
	if len(seen) == 0 {
		return "vantage unknown: no attempts"
	}
	var parts []string
	for _, v := range []verdict.Vantage{verdict.VantageClient, verdict.VantageServer, verdict.VantageUnknown} {
		if seen[v] > 0 {
			parts = append(parts, fmt.Sprintf("%s side for %d", v, seen[v]))
		}
	}
	from := "TTLs"
	if directed {
		from = "the packets' directions and TTLs"
	}
	if len(parts) == 1 {
		if v := firstKey(seen); v != verdict.VantageUnknown {
			return string(v) + " side, inferred from " + from
		}
		if directed {
			return "vantage unknown: its host received these connections' SYNs or passed them on, so it is not the clients'; neither directions nor TTLs tell more"
		}
		return "vantage unknown: the TTLs cannot tell which end it was taken at"
	}
	return "inferred from " + from + ": " + strings.Join(parts, ", ")
}

func firstKey(m map[verdict.Vantage]int) verdict.Vantage {
	for k := range m {
		return k
	}
	return ""
}

// sink takes verdicts as they are judged: JSON Lines stream out at once,
// the table waits for the end.
type sink struct {
	json  *report.JSONWriter
	table *report.Table
	// html is the table behind --html: the table itself in table mode, a
	// table of its own beside JSON.
	html     *report.Table
	htmlPath string
	w        io.Writer
	stderr   io.Writer
	// failedOnly drops established attempts from JSON output (the table
	// filters itself, its summary still counting them).
	failedOnly bool
	failed     bool
	// oneWay counts attempts whose server packets the capture lacks though
	// the client's show an answer.
	oneWay int
	// failedFrames collects the frames of failed attempts; writeFailed
	// writes them at the end (--write-failed).
	failedFrames *failedFrames
	writeFailed  func() ([]string, error)
	// dnsWait is how long an unanswered query must have waited to count
	// as failed (flows.Config.DNSWait).
	dnsWait time.Duration
	// window keeps attempts by the time of their first SYN; outside counts
	// those left out.
	window  *timeWindow
	outside int
	// withSummary ends JSON output with a summary line; counts are the
	// verdicts of the attempts kept.
	withSummary bool
	counts      map[verdict.Verdict]int
	err         error
}

func newSink(cfg *analyzeConfig, w, stderr io.Writer) *sink {
	s := &sink{w: w, stderr: stderr, failedOnly: cfg.failedOnly, window: cfg.window, withSummary: cfg.withSummary,
		counts: map[verdict.Verdict]int{}, htmlPath: cfg.html}
	if cfg.json {
		s.json = report.NewJSONWriter(w)
	} else {
		s.table = &report.Table{FailedOnly: cfg.failedOnly, ASCII: cfg.ascii, Explain: cfg.explain, MaxRows: cfg.rows,
			Top: cfg.top, SummaryOnly: cfg.summaryOnly, Color: cfg.color}
	}
	if cfg.html != "" {
		s.html = s.table
		if s.html == nil {
			s.html = &report.Table{FailedOnly: cfg.failedOnly, MaxRows: cfg.rows, Top: cfg.top, SummaryOnly: cfg.summaryOnly}
		}
	}
	return s
}

func (s *sink) add(r verdict.Result) {
	if !s.window.contains(r.FirstSYN) {
		s.outside++
		return
	}
	failed := r.Verdict.Failed()
	s.failed = s.failed || failed
	s.counts[r.Verdict]++
	if failed && s.failedFrames != nil {
		s.failedFrames.add(&r)
	}
	if r.OneWay {
		s.oneWay++
	}
	if s.html != nil && s.html != s.table {
		s.html.Add(r)
	}
	switch {
	case s.table != nil:
		s.table.Add(r)
	case s.failedOnly && !failed:
	case s.err == nil:
		s.err = s.json.Write(&r)
	}
}

// addDNS takes a lookup the tracker handed on as failed.
func (s *sink) addDNS(l *flows.Lookup) {
	if r, ok := verdict.JudgeLookup(l, s.dnsWait); ok {
		s.addLookup(r)
	}
}

// addLookup takes a failed lookup, judged.
func (s *sink) addLookup(r verdict.LookupResult) {
	s.failed = true
	if s.html != nil && s.html != s.table {
		s.html.AddDNS(r)
	}
	switch {
	case s.table != nil:
		s.table.AddDNS(r)
	case s.err == nil:
		s.err = s.json.WriteDNS(&r)
	}
}

func (s *sink) addMidstream(m *flows.Midstream) {
	if s.html != nil && s.html != s.table {
		s.html.AddMidstream(*m)
	}
	switch {
	case s.table != nil:
		s.table.AddMidstream(*m)
	case s.err == nil:
		s.err = s.json.WriteMidstream(m)
	}
}

func (s *sink) finish(f report.Footer) error {
	if s.writeFailed != nil {
		warns, err := s.writeFailed()
		if err != nil {
			return err
		}
		f.Warnings = append(f.Warnings, warns...)
	}
	if s.oneWay > 0 {
		f.Warnings = append(f.Warnings, fmt.Sprintf("the capture holds no server-to-client packets for %d connections whose client packets show the server answered: asymmetric routing, or a tap that copies one direction? (their verdicts rest on the client's packets)", s.oneWay))
	}
	if s.window != nil {
		f.Notes = append(f.Notes, fmt.Sprintf("kept the attempts whose first SYN is from %s; %d others were left out (--since, --until)", s.window, s.outside))
	}
	// The two ends of a file holding both are read apart, and say the
	// same of it twice.
	f.Warnings = uniqueInOrder(f.Warnings)
	if s.html != nil && s.err == nil {
		s.err = writeHTML(s.htmlPath, s.html, f)
	}
	if s.table != nil {
		if s.err == nil {
			s.err = s.table.Render(s.w, f)
		}
	} else {
		// JSON Lines stay pure: warnings go where people look.
		for _, w := range f.Warnings {
			fmt.Fprintf(s.stderr, "synpath: warning: %s\n", w)
		}
		if s.withSummary && s.err == nil {
			s.err = s.json.WriteSummary(report.NewSummaryRecord(f, s.counts, s.outside))
		}
	}
	if s.err != nil {
		return s.err
	}
	if s.failed {
		return errFailed
	}
	return nil
}

func uniqueInOrder(ss []string) []string {
	seen := map[string]bool{}
	return slices.DeleteFunc(ss, func(s string) bool {
		dup := seen[s]
		seen[s] = true
		return dup
	})
}

// writeHTML writes the HTML report to path, whole or not at all.
func writeHTML(path string, t *report.Table, f report.Footer) error {
	tmp := path + ".tmp"
	file, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	bw := bufio.NewWriter(file)
	err = t.RenderHTML(bw, f)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("--html: %w", err)
	}
	return nil
}

package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// analyzeConfig is the validated command line of "synpath analyze".
type analyzeConfig struct {
	clientFiles, serverFiles, autoFiles []string
	json, failedOnly, explain, ascii    bool
	midstream                           bool
	rows                                int
	verdict                             verdict.Config
	flows                               flows.Config
}

func parseAnalyze(args []string, stderr io.Writer) (*analyzeConfig, error) {
	fs := pflag.NewFlagSet("analyze", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	cfg := &analyzeConfig{}
	fs.StringArrayVar(&cfg.clientFiles, "client", nil, "capture taken on or next to the client (repeat for rotated files)")
	fs.StringArrayVar(&cfg.serverFiles, "server", nil, "capture taken on or next to the server (repeat for rotated files)")
	format := fs.String("format", "table", "output: table (for people) or json (JSON Lines, one object per attempt)")
	fs.BoolVar(&cfg.failedOnly, "failed", false, "list only attempts that were not established")
	fs.BoolVar(&cfg.explain, "explain", false, "draw a ladder diagram of each failed attempt")
	fs.BoolVar(&cfg.midstream, "midstream", false, "also list connections whose SYN is not in the capture (not judged)")
	fs.IntVar(&cfg.rows, "rows", 200, "list at most this many attempts in the table, failures first (0: all)")
	judgeFlags(fs, &cfg.ascii, &cfg.verdict, &cfg.flows)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: synpath analyze [flags] FILE...\n\nFlags:\n%s", fs.FlagUsages())
	}
	if err := parseFlags(fs, "analyze", args); err != nil {
		return nil, err
	}
	cfg.autoFiles = fs.Args()
	var err error
	if cfg.json, err = jsonFormat("analyze", *format); err != nil {
		return nil, err
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
	if err := checkJudgeFlags(&cfg.ascii, cfg.verdict, cfg.flows); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	return cfg, nil
}

// parseFlags parses args, naming the command in pflag's errors.
func parseFlags(fs *pflag.FlagSet, cmd string, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
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
func judgeFlags(fs *pflag.FlagSet, ascii *bool, vcfg *verdict.Config, fcfg *flows.Config) {
	fs.BoolVar(ascii, "ascii", false, "draw with ASCII only (default when the terminal is not UTF-8)")
	fs.DurationVar(&vcfg.SYNTimeout, "syn-timeout", verdict.DefaultConfig.SYNTimeout, "an unanswered SYN followed by this much capture is a timeout, else incomplete")
	fs.DurationVar(&vcfg.StallAfter, "stall-after", verdict.DefaultConfig.StallAfter, "a request without reply for this long is stalled")
	fs.DurationVar(&fcfg.Idle, "idle", flows.DefaultConfig.Idle, "forget an attempt after this much capture time without packets")
	fs.IntVar(&fcfg.MaxAttempts, "max-attempts", flows.DefaultConfig.MaxAttempts, "attempts tracked at once before the oldest is judged early (SYN floods)")
}

func checkJudgeFlags(ascii *bool, vcfg verdict.Config, fcfg flows.Config) error {
	if fcfg.Idle < vcfg.SYNTimeout {
		return errors.New("--idle must not be shorter than --syn-timeout")
	}
	if !*ascii && !utf8Terminal() {
		*ascii = true
	}
	return nil
}

func analyze(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := parseAnalyze(args, stderr)
	if err != nil {
		return err
	}
	out := newSink(cfg, stdout, stderr)
	if cfg.midstream {
		cfg.flows.OnMidstream = out.addMidstream
	}
	gs := groups(cfg)
	if len(gs) > 1 {
		return analyzeJoined(ctx, cfg, gs, stdin, out)
	}
	var sources []report.Source
	var warnings []string
	for _, g := range gs {
		srcs, warns, err := readGroup(ctx, g, cfg.flows, stdin, func(a *flows.Attempt, v verdict.Vantage) {
			out.add(verdict.Judge(a, v, cfg.verdict))
		})
		if err != nil {
			return err
		}
		sources = append(sources, srcs...)
		warnings = append(warnings, warns...)
	}
	return out.finish(report.Footer{Sources: sources, Warnings: warnings})
}

// group is a set of files read as one capture (rotated files), from one
// vantage; an empty vantage is inferred per attempt.
type group struct {
	files   []string
	vantage verdict.Vantage
}

func groups(cfg *analyzeConfig) []group {
	var gs []group
	if len(cfg.clientFiles) > 0 {
		gs = append(gs, group{cfg.clientFiles, verdict.VantageClient})
	}
	if len(cfg.serverFiles) > 0 {
		gs = append(gs, group{cfg.serverFiles, verdict.VantageServer})
	}
	for _, f := range cfg.autoFiles {
		gs = append(gs, group{files: []string{f}})
	}
	return gs
}

// readGroup reads a group's files through one tracker and hands each
// attempt, with its vantage, to judge. A file that cannot be opened is an
// error; one that breaks off is a warning, and what came before it counts.
func readGroup(ctx context.Context, g group, fcfg flows.Config, stdin io.Reader, judge func(*flows.Attempt, verdict.Vantage)) ([]report.Source, []string, error) {
	sources := make([]report.Source, len(g.files))
	vantages := make([]map[verdict.Vantage]int, len(g.files))
	for i, f := range g.files {
		sources[i].Name = f
		vantages[i] = map[verdict.Vantage]int{}
	}
	tracker := flows.NewTracker(fcfg, func(a *flows.Attempt) {
		v := g.vantage
		if v == "" {
			v = verdict.InferVantage(a)
		}
		if i := slices.Index(g.files, a.File); i >= 0 {
			sources[i].Attempts++
			vantages[i][v]++
		}
		judge(a, v)
	})
	var warnings []string
	var p capture.Packet
	interrupted := func(name string, st capture.Stats) {
		if name == "-" {
			name = "stdin"
		}
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
		rd, in, err := openInput(ctx, name, stdin)
		if err != nil {
			if ctx.Err() != nil {
				interrupted(name, capture.Stats{})
				continue
			}
			return nil, nil, err
		}
		before := tracker.Counts().Midstream
		for {
			err := rd.Next(&p)
			if err == io.EOF {
				break
			}
			if err != nil {
				st := rd.Stats()
				switch {
				case ctx.Err() != nil:
					interrupted(name, st)
				case st.Packets == 0 && !errors.Is(err, capture.ErrTruncated) && !errors.Is(err, capture.ErrTrailingData):
					// Broken structure before the first packet: not a
					// capture we can read at all.
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
			tracker.Observe(&p)
		}
		rd.Close()
		in.Close()
		st := rd.Stats()
		tracker.Advance(st.Last)
		s := &sources[i]
		s.Packets, s.TCP, s.ICMP, s.Skipped, s.Malformed, s.Truncated = st.Packets, st.TCP, st.ICMP, st.Skipped, st.Malformed, st.Truncated
		s.First, s.Last = st.First, st.Last
		if i == len(g.files)-1 {
			tracker.Finish()
		}
		s.Midstream = tracker.Counts().Midstream - before
		if st.Truncated > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: %d packets were cut by the snaplen inside their TCP header", name, st.Truncated))
		}
		warnings = append(warnings, fileWarnings(name, st)...)
	}
	if j := tracker.TimeJumps(); j.Count > 0 {
		warnings = append(warnings, timeJumpWarning(j))
	}
	if n := tracker.Counts().Duplicates; n > 0 {
		warnings = append(warnings, fmt.Sprintf("%d packets were captured twice (tcpdump -i any on a router sees forwarded packets on both interfaces) and counted once", n))
	}
	if n := tracker.Counts().Evicted; n > 0 {
		warnings = append(warnings, fmt.Sprintf("%d attempts were judged early: more than %d were in progress at once (SYN flood?)", n, fcfg.MaxAttempts))
	}
	for i := range sources {
		sources[i].Vantage = vantageText(g.vantage, vantages[i])
	}
	return sources, warnings, nil
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
	return w
}

// timeJumpWarning says where capture time first jumped, which limits what
// idle times and timeouts mean around it.
func timeJumpWarning(j flows.TimeJump) string {
	how := fmt.Sprintf("back by %s", max(-j.By, -(j.By+1))) // -MinInt64 overflows
	if j.By > 0 {
		how = fmt.Sprintf("forward by %s", j.By)
	}
	more := ""
	if j.Count > 1 {
		more = fmt.Sprintf(" (%d packets out of time in all)", j.Count)
	}
	return fmt.Sprintf("%s: packet %d: capture time jumps %s%s; timeouts near it may be wrong", j.At.File, j.At.N, how, more)
}

// vantageText says how a file's attempts were judged: forced, or inferred
// (with a breakdown when a host was client for some and server for others).
func vantageText(forced verdict.Vantage, seen map[verdict.Vantage]int) string {
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
	if len(parts) == 1 {
		return string(firstKey(seen)) + " side, inferred from TTLs"
	}
	return "inferred from TTLs: " + strings.Join(parts, ", ")
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
	json   *report.JSONWriter
	table  *report.Table
	w      io.Writer
	stderr io.Writer
	// failedOnly drops established attempts from JSON output (the table
	// filters itself, its summary still counting them).
	failedOnly bool
	failed     bool
	err        error
}

func newSink(cfg *analyzeConfig, w, stderr io.Writer) *sink {
	s := &sink{w: w, stderr: stderr, failedOnly: cfg.failedOnly}
	if cfg.json {
		s.json = report.NewJSONWriter(w)
	} else {
		s.table = &report.Table{FailedOnly: cfg.failedOnly, ASCII: cfg.ascii, Explain: cfg.explain, MaxRows: cfg.rows}
	}
	return s
}

func (s *sink) add(r verdict.Result) {
	failed := r.Verdict.Failed()
	s.failed = s.failed || failed
	switch {
	case s.table != nil:
		s.table.Add(r)
	case s.failedOnly && !failed:
	case s.err == nil:
		s.err = s.json.Write(&r)
	}
}

func (s *sink) addMidstream(m *flows.Midstream) {
	switch {
	case s.table != nil:
		s.table.AddMidstream(*m)
	case s.err == nil:
		s.err = s.json.WriteMidstream(m)
	}
}

func (s *sink) finish(f report.Footer) error {
	if s.table != nil {
		s.err = s.table.Render(s.w, f)
	} else {
		// JSON Lines stay pure: warnings go where people look.
		for _, w := range f.Warnings {
			fmt.Fprintf(s.stderr, "synpath: warning: %s\n", w)
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

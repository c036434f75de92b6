package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// liveConfig is the validated command line of "synpath live".
type liveConfig struct {
	ifaces           []string
	vantage          verdict.Vantage // "" to infer per attempt
	json, failedOnly bool
	ascii            bool
	duration         time.Duration
	verdict          verdict.Config
	flows            flows.Config
	wait             time.Duration // how often time is let pass with no packets
	write, writeFail string        // -w, -W
	filter           *capture.Filter
	user             string
	memory           byteSize // --max-memory
}

func parseLive(args []string, stdout, stderr io.Writer) (*liveConfig, error) {
	fs := pflag.NewFlagSet("live", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	cfg := &liveConfig{wait: 200 * time.Millisecond}
	fs.StringArrayVarP(&cfg.ifaces, "interface", "i", nil, "network interface to capture on (required; repeat for several; any: all of them)")
	side := fs.String("side", "", "which end this host is: client or server (default: inferred per attempt from TTLs)")
	format := fs.String("format", "table", "output: table (a line per attempt as it is judged, a summary at the end) or json")
	fs.BoolVar(&cfg.failedOnly, "failed", false, "show only attempts that were not established")
	fs.DurationVar(&cfg.duration, "duration", 0, "stop after this long (default: until interrupted)")
	fs.StringVarP(&cfg.write, "write", "w", "", "write every packet captured to this pcapng file, ending with statistics that prove when the capture ran (evidence frame numbers refer to it)")
	fs.StringVarP(&cfg.writeFail, "write-failed", "W", "", "write the packets of failed attempts to this pcapng file (frame.packet_id is the frame number)")
	filter := fs.String("filter", "", "capture filter in tcpdump syntax (also taken from the arguments, as tcpdump does)")
	fs.StringVarP(&cfg.user, "user", "Z", "", "after opening the capture, drop root for this user (as tcpdump -Z)")
	judgeFlags(fs, &cfg.ascii, &cfg.verdict, &cfg.flows, &cfg.memory)
	usage := "Usage: synpath live -i INTERFACE [flags] [FILTER EXPRESSION]\n\nVerdicts are printed as attempts conclude; a failure as soon as the client has lived\nthrough it (revised later if the attempt succeeds after all). Ctrl-C stops and prints\nthe summary.\n\nFlags:\n"
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s%s\nFilter expressions (tcpdump syntax, a subset):\n%s\n", usage, fs.FlagUsages(), capture.FilterHelp)
	}
	if err := parseFlags(fs, "live", args, stdout, usage); err != nil {
		return nil, err
	}
	expr := strings.Join(fs.Args(), " ")
	for _, a := range fs.Args() {
		if strings.Contains(a, ".pcap") || strings.HasSuffix(a, ".gz") {
			return nil, fmt.Errorf("live: unexpected argument %q (capture files go to synpath analyze)", a)
		}
	}
	if *filter != "" {
		if expr != "" {
			return nil, errors.New("live: a filter given both as --filter and as arguments")
		}
		expr = *filter
	}
	var err error
	if cfg.filter, err = capture.ParseFilter(expr); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	if len(cfg.ifaces) == 0 {
		return nil, errors.New("live: no interface given (-i INTERFACE)")
	}
	switch *side {
	case "":
	case "client":
		cfg.vantage = verdict.VantageClient
	case "server":
		cfg.vantage = verdict.VantageServer
	default:
		return nil, fmt.Errorf("live: --side must be client or server, not %q", *side)
	}
	if cfg.json, err = jsonFormat("live", *format); err != nil {
		return nil, err
	}
	if err := checkJudgeFlags(&cfg.ascii, cfg.verdict, &cfg.flows, cfg.memory); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	if cfg.write != "" && cfg.write == cfg.writeFail {
		return nil, errors.New("live: -w and -W name the same file")
	}
	return cfg, nil
}

// liveTick is how often live capture lets time pass for the attempts in
// progress and reports the failures already lived through.
const liveTick = 250 * time.Millisecond

// live captures on an interface and prints each attempt's verdict as soon
// as it is judged, until interrupted or --duration has passed.
func live(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseLive(args, stdout, stderr)
	if err != nil {
		return err
	}
	// Lines are written out on every tick, a quarter of a second at most
	// after they were judged, and at the end.
	o := newOutput(stdout)
	defer o.flushInto(&err)
	stdout = o
	rd, err := capture.OpenLive(capture.LiveConfig{Interfaces: cfg.ifaces, Wait: cfg.wait, Filter: cfg.filter})
	if err != nil {
		return err
	}
	defer rd.Close()
	if cfg.user != "" {
		// As tcpdump -Z: the socket is open, files are opened as the user.
		if err := dropPrivileges(cfg.user); err != nil {
			return fmt.Errorf("live: --user %s: %w", cfg.user, err)
		}
	}
	if cfg.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}

	l := newLiveLoop(cfg.vantage, cfg.verdict, cfg.flows, cfg.json, cfg.failedOnly, cfg.ascii, stdout)
	var outs []*pcapngOut
	var all *pcapngOut
	var ring *frameRing
	if cfg.write != "" {
		if all, err = createPcapng(cfg.write, false); err != nil {
			return err
		}
		all.whole, all.from, all.drops = true, time.Now(), rd.KernelDrops
		outs = append(outs, all)
	}
	if cfg.writeFail != "" {
		w, err := createPcapng(cfg.writeFail, true)
		if err != nil {
			return err
		}
		outs = append(outs, w)
		ring = newFrameRing(failedRingFrames)
		l.onFailure = func(r *verdict.Result) { ring.writeEvidence(w, r) }
	}
	if all != nil || ring != nil {
		rd.OnFrame(func(f *capture.Frame) {
			if all != nil {
				all.write(f)
			}
			if ring != nil {
				ring.add(f)
			}
		})
	}
	closeOuts := func() error {
		var errs []error
		for _, o := range outs {
			errs = append(errs, o.close())
		}
		outs = nil
		return errors.Join(errs...)
	}
	defer closeOuts()

	var status *statusLine
	if isTerminal(stderr) {
		status = &statusLine{w: stderr}
		l.beforeLine = status.clear
	}
	if !cfg.json {
		fmt.Fprintf(stderr, "synpath: capturing on %s; Ctrl-C stops\n", strings.Join(cfg.ifaces, ", "))
	}
	var p capture.Packet
	lastTick, lastDrops := time.Now(), time.Time{}
	for ctx.Err() == nil && l.err == nil {
		err := rd.Next(&p)
		switch {
		case err == nil:
			l.observe(&p)
		case errors.Is(err, capture.ErrNoPacket):
			// A quiet link: time still passes for attempts in progress.
		default:
			return err
		}
		if now := time.Now(); now.Sub(lastTick) >= liveTick {
			// Lines judged since the last tick go out before the status
			// line is drawn again below them.
			if err := o.Flush(); err != nil {
				return err
			}
			if now.Sub(lastDrops) >= time.Second {
				l.drops.sample(now, rd.KernelDrops())
				lastDrops = now
				if status != nil {
					status.show(rd.Stats().Packets, l.tracker.Counts().Attempts+uint64(l.tracker.Pending()), l.reported, l.drops.now)
				}
			}
			l.tick(now)
			if err := o.Flush(); err != nil {
				return err
			}
			for _, o := range outs {
				if err := o.flush(); err != nil {
					return err
				}
			}
			lastTick = now
		}
	}
	l.finish(time.Now())
	if status != nil {
		status.clear()
	}
	if err := o.Flush(); err != nil {
		return err
	}
	if l.err != nil {
		return l.err
	}
	if err := closeOuts(); err != nil {
		return err
	}
	st := rd.Stats()
	counts := l.tracker.Counts()
	src := report.Source{Name: rd.Name(), Vantage: liveVantage(cfg.vantage), Packets: st.Packets, TCP: st.TCP, ICMP: st.ICMP,
		Skipped: st.Skipped, Malformed: st.Malformed, Truncated: st.Truncated, Attempts: counts.Attempts, Midstream: counts.Midstream, Gaps: counts.Gaps}
	drops := rd.KernelDrops()
	src.Dropped = drops
	var notes, warnings []string
	if drops > 0 {
		warnings = append(warnings, fmt.Sprintf("the kernel dropped %d packets: the capture could not keep up, verdicts may miss packets", drops))
	} else {
		notes = append(notes, "the kernel dropped 0 packets")
	}
	if counts.Gaps > 0 && drops == 0 {
		// Dropped before the socket counts (a NIC's own drops), or routed
		// past this interface.
		warnings = append(warnings, gapWarning([]string{rd.Name()}, counts.Gaps))
	}
	if ring != nil && ring.missed > 0 {
		warnings = append(warnings, fmt.Sprintf("%s misses %d frames of failed attempts: they had left the last %d frames kept", cfg.writeFail, ring.missed, failedRingFrames))
	}
	if cfg.json {
		for _, w := range warnings {
			fmt.Fprintf(stderr, "synpath: warning: %s\n", w)
		}
	} else if err := l.summary.Render(stdout, report.Footer{Sources: []report.Source{src}, Notes: notes, Warnings: warnings}); err != nil {
		return err
	}
	if l.failed {
		return errFailed
	}
	return nil
}

func liveVantage(v verdict.Vantage) string {
	if v == "" {
		return "vantage inferred per attempt from TTLs"
	}
	return string(v) + " side, as told"
}

// pcapngOut is a pcapng file being written.
type pcapngOut struct {
	name string
	f    *os.File
	w    *capture.PcapngWriter
	err  error
	// whole: it holds every frame captured, so it ends with statistics
	// proving when the capture ran (capture.PcapngWriter.WriteStats):
	// from its creation until it is closed.
	whole bool
	from  time.Time
	drops func() uint64
}

func createPcapng(name string, packetIDs bool) (*pcapngOut, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	w, err := capture.NewPcapngWriter(f, packetIDs)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("live: %s: %w", name, err)
	}
	return &pcapngOut{name: name, f: f, w: w}, nil
}

func (o *pcapngOut) write(f *capture.Frame) {
	if o.err == nil {
		o.err = o.w.WriteFrame(f)
	}
}

func (o *pcapngOut) flush() error {
	if o.err == nil {
		o.err = o.w.Flush()
	}
	if o.err != nil {
		return fmt.Errorf("live: %s: %w", o.name, o.err)
	}
	return nil
}

func (o *pcapngOut) close() error {
	if o.whole && o.err == nil {
		o.err = o.w.WriteStats(o.from, time.Now(), o.drops())
	}
	err := o.flush()
	if cerr := o.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("live: %s: %w", o.name, cerr)
	}
	return err
}

// statusLine is a one-line status on a terminal, rewritten in place.
type statusLine struct {
	w     io.Writer
	shown bool
}

func (s *statusLine) show(packets, attempts uint64, failures map[verdict.Verdict]int64, drops uint64) {
	var b strings.Builder
	fmt.Fprintf(&b, "\r%d packets, %d attempts", packets, attempts)
	for _, v := range []verdict.Verdict{verdict.Refused, verdict.Unreachable, verdict.Timeout, verdict.HalfOpen, verdict.Stalled, verdict.Reset, verdict.Aborted} {
		if n := failures[v]; n > 0 {
			fmt.Fprintf(&b, ", %d %s", n, v)
		}
	}
	fmt.Fprintf(&b, ", %d dropped by the kernel\x1b[K", drops)
	io.WriteString(s.w, b.String())
	s.shown = true
}

func (s *statusLine) clear() {
	if s.shown {
		io.WriteString(s.w, "\r\x1b[K")
		s.shown = false
	}
}

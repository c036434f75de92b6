package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// liveConfig is the validated command line of "synpath live".
type liveConfig struct {
	iface            string
	vantage          verdict.Vantage // "" to infer per attempt
	json, failedOnly bool
	ascii            bool
	duration         time.Duration
	verdict          verdict.Config
	flows            flows.Config
	wait             time.Duration // how often time is let pass with no packets
}

func parseLive(args []string, stderr io.Writer) (*liveConfig, error) {
	fs := pflag.NewFlagSet("live", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	cfg := &liveConfig{wait: 200 * time.Millisecond}
	fs.StringVarP(&cfg.iface, "interface", "i", "", "network interface to capture on (required)")
	side := fs.String("side", "", "which end this host is: client or server (default: inferred per attempt from TTLs)")
	format := fs.String("format", "table", "output: table (a line per attempt as it is judged, a summary at the end) or json")
	fs.BoolVar(&cfg.failedOnly, "failed", false, "show only attempts that were not established")
	fs.DurationVar(&cfg.duration, "duration", 0, "stop after this long (default: until interrupted)")
	judgeFlags(fs, &cfg.ascii, &cfg.verdict, &cfg.flows)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: synpath live -i INTERFACE [flags]\n\nVerdicts are printed as attempts conclude; Ctrl-C stops and prints the summary.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if err := parseFlags(fs, "live", args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("live: unexpected argument %q (capture files go to synpath analyze)", fs.Arg(0))
	}
	if cfg.iface == "" {
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
	var err error
	if cfg.json, err = jsonFormat("live", *format); err != nil {
		return nil, err
	}
	if err := checkJudgeFlags(&cfg.ascii, cfg.verdict, cfg.flows); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	return cfg, nil
}

// liveTick is how often live capture lets time pass for the attempts in
// progress and reports the failures already lived through.
const liveTick = 250 * time.Millisecond

// live captures on an interface and prints each attempt's verdict as soon
// as it is judged, until interrupted or --duration has passed.
func live(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseLive(args, stderr)
	if err != nil {
		return err
	}
	rd, err := capture.OpenLive(cfg.iface, cfg.wait)
	if err != nil {
		return err
	}
	defer rd.Close()
	if cfg.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}

	l := newLiveLoop(cfg.vantage, cfg.verdict, cfg.flows, cfg.json, cfg.failedOnly, cfg.ascii, stdout)
	if !cfg.json {
		fmt.Fprintf(stderr, "synpath: capturing on %s; Ctrl-C stops\n", cfg.iface)
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
			if now.Sub(lastDrops) >= time.Second {
				l.drops.sample(now, rd.KernelDrops())
				lastDrops = now
			}
			l.tick(now)
			lastTick = now
		}
	}
	l.finish(time.Now())
	if l.err != nil {
		return l.err
	}
	tracker, summary := l.tracker, l.summary
	st := rd.Stats()
	src := report.Source{Name: rd.Name(), Vantage: liveVantage(cfg.vantage), Packets: st.Packets, TCP: st.TCP, ICMP: st.ICMP,
		Skipped: st.Skipped, Malformed: st.Malformed, Truncated: st.Truncated, Attempts: tracker.Counts().Attempts, Midstream: tracker.Counts().Midstream}
	var warnings []string
	notes := []string{fmt.Sprintf("the kernel dropped %d packets", rd.KernelDrops())}
	if n := rd.KernelDrops(); n > 0 {
		notes = nil
		warnings = append(warnings, fmt.Sprintf("the kernel dropped %d packets: the capture could not keep up, verdicts may miss packets", n))
	}
	if cfg.json {
		for _, w := range warnings {
			fmt.Fprintf(stderr, "synpath: warning: %s\n", w)
		}
	} else if err := summary.Render(stdout, report.Footer{Sources: []report.Source{src}, Notes: notes, Warnings: warnings}); err != nil {
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

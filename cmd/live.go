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

func parseLive(args []string, stdout, stderr io.Writer) (*liveConfig, error) {
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
	const usage = "Usage: synpath live -i INTERFACE [flags]\n\nVerdicts are printed as attempts conclude; Ctrl-C stops and prints the summary.\n\nFlags:\n"
	fs.Usage = func() { fmt.Fprintf(stderr, "%s%s", usage, fs.FlagUsages()) }
	if err := parseFlags(fs, "live", args, stdout, usage); err != nil {
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

// live captures on an interface and prints each attempt's verdict as soon
// as it is judged, until interrupted or --duration has passed.
func live(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseLive(args, stdout, stderr)
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

	summary := &report.Table{SummaryOnly: true, ASCII: cfg.ascii}
	jw := report.NewJSONWriter(stdout)
	failed := false
	var werr error
	tracker := flows.NewTracker(cfg.flows, func(a *flows.Attempt) {
		v := cfg.vantage
		if v == "" {
			v = verdict.InferVantage(a)
		}
		r := verdict.Judge(a, v, cfg.verdict)
		failed = failed || r.Verdict.Failed()
		summary.Add(r)
		if werr != nil || (cfg.failedOnly && !r.Verdict.Failed()) {
			return
		}
		if cfg.json {
			werr = jw.Write(&r)
		} else {
			werr = report.WriteLine(stdout, &r, cfg.ascii)
		}
	})
	if !cfg.json {
		fmt.Fprintf(stderr, "synpath: capturing on %s; Ctrl-C stops\n", cfg.iface)
	}
	var p capture.Packet
	for ctx.Err() == nil && werr == nil {
		err := rd.Next(&p)
		switch {
		case err == nil:
			tracker.Observe(&p)
		case errors.Is(err, capture.ErrNoPacket):
			// A quiet link: time still passes for attempts in progress.
			tracker.Advance(time.Now())
		default:
			return err
		}
	}
	tracker.Advance(time.Now())
	tracker.Finish()
	if werr != nil {
		return werr
	}
	st := rd.Stats()
	src := report.Source{Name: rd.Name(), Vantage: liveVantage(cfg.vantage), Packets: st.Packets, TCP: st.TCP, ICMP: st.ICMP,
		Skipped: st.Skipped, Malformed: st.Malformed, Truncated: st.Truncated, Attempts: tracker.Counts().Attempts, Midstream: tracker.Counts().Midstream}
	var warnings []string
	if n := rd.KernelDrops(); n > 0 {
		warnings = append(warnings, fmt.Sprintf("the kernel dropped %d packets: the capture could not keep up, verdicts may miss packets", n))
	}
	if cfg.json {
		for _, w := range warnings {
			fmt.Fprintf(stderr, "synpath: warning: %s\n", w)
		}
	} else if err := summary.Render(stdout, report.Footer{Sources: []report.Source{src}, Warnings: warnings}); err != nil {
		return err
	}
	if failed {
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

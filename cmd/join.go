package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// collected is one group's attempts, kept for the join.
type collected struct {
	group
	attempts []*flows.Attempt
	votes    map[verdict.Vantage]int
	sources  []report.Source
	// lookups are the failed DNS lookups the group showed, held until the
	// sides are known: both captures may show the same one.
	lookups []flows.Lookup
}

// vantage is the group's forced vantage, or what most of its attempts
// say; unknown when they do not agree clearly.
func (c *collected) vantage() verdict.Vantage {
	if c.group.vantage != "" {
		return c.group.vantage
	}
	return majority(c.votes)
}

// swapped reports whether --client and --server were given the other
// way round: a flagged capture's TTLs clearly say the other side, and no
// flagged capture's TTLs agree with its flag (a capture whose TTLs cannot
// tell, or with no attempt at all, is neutral).
func swapped(all []*collected) bool {
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

func (c *collected) span() (first, last time.Time) {
	for _, s := range c.sources {
		first, last = widen(first, last, s.First, s.Last)
	}
	return first, last
}

// analyzeJoined reads several groups, joins the client-side and the
// server-side ones, and judges the rest alone.
func analyzeJoined(ctx context.Context, cfg *analyzeConfig, gs []group, notes []string, stdin io.Reader, out *sink) error {
	var all []*collected
	var warnings []string
	warns := make([][]string, len(gs))
	errs := make([]error, len(gs))
	read := func(i int) {
		c := all[i]
		fcfg := cfg.flows
		fcfg.OnDNS = func(l *flows.Lookup) { c.lookups = append(c.lookups, *l) }
		c.sources, warns[i], errs[i] = readGroup(ctx, c.group, fcfg, cfg.readOptions(), stdin, func(a *flows.Attempt, _ verdict.Vantage) {
			c.attempts = append(c.attempts, a.Clone())
			c.votes[verdict.InferVantage(a)]++ // what the TTLs say, even where a flag says otherwise
		})
	}
	for _, g := range gs {
		all = append(all, &collected{group: g, votes: map[verdict.Vantage]int{}})
	}
	// Each side has its own tracker: the sides are read at once, on
	// goroutines of their own, unless they share something reading
	// changes (the --since/--until window is set by the first packet, the
	// progress line, --midstream lines go straight to the output) or one
	// of them is standard input.
	if cfg.window == nil && cfg.progress == nil && cfg.flows.OnMidstream == nil && !slices.ContainsFunc(gs, func(g group) bool { return slices.Contains(g.files, "-") }) {
		var wg sync.WaitGroup
		for i := range all {
			wg.Go(func() { read(i) })
		}
		wg.Wait()
	} else {
		for i := range all {
			if read(i); errs[i] != nil {
				break
			}
		}
	}
	for i := range all {
		if errs[i] != nil {
			return errs[i]
		}
		warnings = append(warnings, warns[i]...)
	}
	if swapped(all) {
		for _, c := range all {
			c.group.vantage = map[verdict.Vantage]verdict.Vantage{verdict.VantageClient: verdict.VantageServer, verdict.VantageServer: verdict.VantageClient}[c.group.vantage]
		}
		warnings = append(warnings, "--client and --server look swapped: the TTLs say the --client capture was taken at the server end (SYNs arrive with hops lost, SYN-ACKs leave undecremented) or the --server one at the client end; judged as swapped")
	}
	// Failed lookups once: from the client side's captures when there are
	// any (the client asked), else from whichever showed them.
	anyClient := slices.ContainsFunc(all, func(c *collected) bool { return c.vantage() == verdict.VantageClient })
	for _, c := range all {
		if anyClient && c.vantage() == verdict.VantageServer {
			continue
		}
		for i := range c.lookups {
			out.addDNS(&c.lookups[i])
		}
	}
	var client, server verdict.Side
	var clientN, serverN int
	var sources []report.Source
	for _, c := range all {
		v := c.vantage()
		first, last := c.span()
		var spans []verdict.Span
		var dropped uint64
		for i := range c.sources {
			switch {
			case c.group.split:
			case v == verdict.VantageUnknown:
				c.sources[i].Vantage = "vantage unknown: the TTLs cannot tell which end it was taken at"
			default:
				c.sources[i].Vantage = string(v) + " side"
				if c.group.vantage == "" {
					c.sources[i].Vantage += ", inferred from TTLs"
				}
			}
			dropped += c.sources[i].Dropped
			if s := c.sources[i]; !s.First.IsZero() {
				spans = append(spans, verdict.Span{First: s.First, Last: s.Last})
			}
		}
		sources = append(sources, c.sources...)
		switch v {
		case verdict.VantageClient:
			client.Attempts = append(client.Attempts, c.attempts...)
			client.First, client.Last = widen(client.First, client.Last, first, last)
			client.Coverage = append(client.Coverage, spans...)
			client.Dropped += dropped
			clientN++
		case verdict.VantageServer:
			server.Attempts = append(server.Attempts, c.attempts...)
			server.First, server.Last = widen(server.First, server.Last, first, last)
			server.Coverage = append(server.Coverage, spans...)
			server.Dropped += dropped
			serverN++
		default:
			for _, a := range c.attempts {
				out.add(verdict.Judge(a, verdict.InferVantage(a), cfg.verdict))
			}
		}
	}
	switch {
	case clientN > 0 && serverN > 0:
		results, off := verdict.Join(client, server, verdict.JoinConfig{Config: cfg.verdict})
		for _, r := range results {
			out.add(r)
		}
		if off.Known {
			notes = append(notes, clockNote(off))
		}
	default:
		// Nothing to join: each side alone.
		for _, side := range []struct {
			s verdict.Side
			v verdict.Vantage
		}{{client, verdict.VantageClient}, {server, verdict.VantageServer}} {
			for _, a := range side.s.Attempts {
				out.add(verdict.Judge(a, side.v, cfg.verdict))
			}
		}
		if clientN+serverN > 1 {
			warnings = append(warnings, "all captures look taken on the same side, so nothing was joined: each was judged alone (rotated files of one capture go together with --client or --server; --client and --server also say which side is which)")
		}
	}
	return out.finish(report.Footer{Sources: sources, Notes: notes, Warnings: warnings})
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

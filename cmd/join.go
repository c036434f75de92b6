package cmd

import (
	"context"
	"fmt"
	"io"
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
}

// vantage is the group's forced vantage, or what most of its attempts
// say; unknown when they do not agree clearly.
func (c *collected) vantage() verdict.Vantage {
	if c.group.vantage != "" {
		return c.group.vantage
	}
	best, n, total := verdict.VantageUnknown, 0, 0
	for v, k := range c.votes {
		total += k
		if k > n {
			best, n = v, k
		}
	}
	if n*3 < total*2 { // less than two thirds agree
		return verdict.VantageUnknown
	}
	return best
}

func (c *collected) span() (first, last time.Time) {
	for _, s := range c.sources {
		first, last = widen(first, last, s.First, s.Last)
	}
	return first, last
}

// analyzeJoined reads several groups, joins the client-side and the
// server-side ones, and judges the rest alone.
func analyzeJoined(ctx context.Context, cfg *analyzeConfig, gs []group, stdin io.Reader, out *sink) error {
	var all []*collected
	var warnings, notes []string
	for _, g := range gs {
		c := &collected{group: g, votes: map[verdict.Vantage]int{}}
		srcs, warns, err := readGroup(ctx, g, cfg.flows, stdin, func(a *flows.Attempt, v verdict.Vantage) {
			c.attempts = append(c.attempts, a.Clone())
			c.votes[v]++
		})
		if err != nil {
			return err
		}
		c.sources = srcs
		warnings = append(warnings, warns...)
		all = append(all, c)
	}
	var client, server verdict.Side
	var clientN, serverN int
	var sources []report.Source
	for _, c := range all {
		v := c.vantage()
		first, last := c.span()
		for i := range c.sources {
			c.sources[i].Vantage = string(v) + " side"
			if c.group.vantage == "" {
				c.sources[i].Vantage += ", inferred from TTLs"
			}
		}
		sources = append(sources, c.sources...)
		switch v {
		case verdict.VantageClient:
			client.Attempts = append(client.Attempts, c.attempts...)
			client.First, client.Last = widen(client.First, client.Last, first, last)
			clientN++
		case verdict.VantageServer:
			server.Attempts = append(server.Attempts, c.attempts...)
			server.First, server.Last = widen(server.First, server.Last, first, last)
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
	if off.Error < 0 {
		return fmt.Sprintf("clock offset server - client: at most %s (one-sided bound from %d matched attempts)", off.Offset, off.Pairs)
	}
	return fmt.Sprintf("clock offset server - client: %s ± %s (from %d matched attempts), applied", off.Offset.Round(time.Microsecond), off.Error.Round(time.Microsecond), off.Pairs)
}

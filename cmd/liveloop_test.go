package cmd

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/report"
	"github.com/synpath/synpath/verdict"
)

// TestLiveLoopEarlyAndUpdate drives the live loop on a simulated clock: a
// SYN unanswered for --syn-timeout is reported at once as a timeout, with
// the kernel drops seen meanwhile; when a SYN-ACK comes after all, the
// attempt is reported again as an update; the summary counts it once.
func TestLiveLoopEarlyAndUpdate(t *testing.T) {
	for _, json_ := range []bool{true, false} {
		var out bytes.Buffer
		l := newLiveLoop("", verdict.Config{SYNTimeout: 2 * time.Second}, flows.DefaultConfig, json_, false, true, &out)
		late := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 1000)
		silent := pkttest.NewConn("198.51.100.10:40513", "203.0.113.5:444", 2000)
		t0 := late.T
		l.drops.sample(t0, 0)
		feed := func(ps ...capture.Packet) {
			for i := range ps {
				l.observe(&ps[i])
			}
		}
		tickUntil := func(end time.Duration) {
			for at := t0; !at.After(t0.Add(end)); at = at.Add(liveTick) {
				if at.Sub(t0)%time.Second == 0 {
					l.drops.sample(at, uint64(at.Sub(t0)/time.Second)*3) // dropping all along
				}
				l.tick(at)
			}
		}
		feed(late.SYN(0), silent.SYN(0))
		tickUntil(time.Second)
		if out.Len() != 0 {
			t.Fatalf("reported after 1 s: %q", out.String())
		}
		tickUntil(2*time.Second + liveTick)
		early := out.String()
		// The SYN-ACK answers the third SYN, the exchange follows.
		silent.T = t0.Add(3 * time.Second)
		late.T = t0.Add(3 * time.Second)
		feed(late.SYN(0), late.SYNACK(time.Millisecond), late.ACK(time.Millisecond), late.Data(time.Millisecond, true, 10), late.Data(time.Millisecond, false, 10))
		tickUntil(4 * time.Second)
		l.finish(t0.Add(80 * time.Second))
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if json_ {
			if len(lines) != 3 {
				t.Fatalf("%d lines, want 2 early timeouts and 1 update:\n%s", len(lines), out.String())
			}
			var recs []report.Record
			for _, line := range lines {
				var r report.Record
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatal(err)
				}
				recs = append(recs, r)
			}
			if recs[0].Verdict != "timeout" || recs[1].Verdict != "timeout" || recs[0].Update || recs[0].CaptureDrops != 6 || !strings.Contains(recs[0].Explanation, "dropped 6 packets") {
				t.Errorf("early lines: %s", early)
			}
			u := recs[2]
			if !u.Update || u.Verdict != "established" || u.Server != "203.0.113.5:443" || u.ISN != 1000 {
				t.Errorf("update: %s", lines[2])
			}
		} else if !strings.Contains(out.String(), "revised     198.51.100.10:40512 -> 203.0.113.5:443: established, not timeout") {
			t.Errorf("no revised line:\n%s", out.String())
		}
		if l.summary == nil || l.tracker.Counts().Attempts != 2 || l.failures[verdict.Timeout] != 1 || !l.failed || l.reported[verdict.Timeout] != 1 {
			t.Errorf("counted %d attempts, failures %v, reported %v", l.tracker.Counts().Attempts, l.failures, l.reported)
		}
	}
}

func TestDropHistory(t *testing.T) {
	var d dropHistory
	t0 := pkttest.Base
	if d.since(t0) != 0 {
		t.Error("drops before any sample")
	}
	for i := range 300 { // more than the history holds
		d.sample(t0.Add(time.Duration(i)*time.Second), uint64(i/100)*10)
	}
	for _, tt := range []struct {
		at   time.Duration
		want uint64
	}{
		{299 * time.Second, 0}, {250 * time.Second, 0}, {199*time.Second + time.Millisecond, 10}, {199 * time.Second, 10}, {150 * time.Second, 10},
		{0, 20}, // older than the history: from its oldest sample
	} {
		if got := d.since(t0.Add(tt.at)); got != tt.want {
			t.Errorf("since %v: %d, want %d", tt.at, got, tt.want)
		}
	}
}

func TestStatusLine(t *testing.T) {
	var b bytes.Buffer
	s := statusLine{w: &b}
	s.show(1200, 40, map[verdict.Verdict]int64{verdict.Timeout: 3, verdict.Refused: 1, verdict.Stalled: 0}, 0)
	if want := "\r1200 packets, 40 attempts, 1 refused, 3 timeout, 0 dropped by the kernel\x1b[K"; b.String() != want {
		t.Errorf("status %q, want %q", b.String(), want)
	}
	b.Reset()
	s.clear()
	s.clear()
	if b.String() != "\r\x1b[K" {
		t.Errorf("clear wrote %q", b.String())
	}
}

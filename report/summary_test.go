package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/verdict"
)

var sumT0 = time.Date(2026, 11, 20, 14, 2, 0, 0, time.UTC)

func addAttempt(tbl *Table, client, server string, v verdict.Verdict, at time.Duration) {
	tbl.Add(verdict.Result{Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server), Verdict: v,
		FirstSYN: sumT0.Add(at), RTT: -1, SYNSent: 1, SYNSeenByServer: -1, SYNACKSent: -1, SYNACKSeenByClient: -1})
}

// TestSummariesOrderAndTotals: worst first, ties by address and port as
// numbers (10.0.0.9 before 10.0.0.10, port 9 before 10), a totals row,
// rows past --top counted, clients by host and by /24 or /64.
func TestSummariesOrderAndTotals(t *testing.T) {
	tbl := &Table{SummaryOnly: true, ASCII: true, Top: 4}
	addAttempt(tbl, "192.0.2.7:1000", "10.0.0.10:443", verdict.Timeout, 0)
	addAttempt(tbl, "192.0.2.7:1001", "10.0.0.9:443", verdict.Timeout, time.Second)
	addAttempt(tbl, "192.0.2.8:1002", "10.0.0.9:10", verdict.Refused, 2*time.Second)
	addAttempt(tbl, "192.0.2.8:1003", "10.0.0.9:9", verdict.Refused, 3*time.Second)
	for i := range 3 {
		addAttempt(tbl, "198.51.100.1:2000", "[2001:db8::1]:443", verdict.Timeout, time.Duration(4+i)*time.Second)
	}
	addAttempt(tbl, "[2001:db8:1:2::5]:3000", "10.0.0.1:443", verdict.Established, 7*time.Second)
	addAttempt(tbl, "[2001:db8:1:2::6]:3000", "10.0.0.1:443", verdict.Established, 8*time.Second)
	var buf bytes.Buffer
	if err := tbl.Render(&buf, Footer{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	wantOrder := []string{
		"By server, worst first:",
		"| [2001:db8::1]:443 | 3 ",                           // 3 failures
		"| 10.0.0.9:9 ", "| 10.0.0.9:10 ", "| 10.0.0.9:443 ", // 1 each, numerically
		"| total             | 9        | 77.8%  | 5 timeout, 2 refused |",
		"... 2 more servers not listed",
		"By client, worst first:",
		"| 198.51.100.1 ", "| 192.0.2.7 ", "| 192.0.2.8 ", "| 2001:db8:1:2::5 ",
		"By client network, worst first:",
		"| 192.0.2.0/24 ", "| 198.51.100.0/24 ", "| 2001:db8:1:2::/64 ",
		"Timeline of first SYNs, 14:02:00 to 14:02:08 UTC, one column = 200ms",
		"  established  |                                   @    @| peak 5/s",
		"  refused      |          @    @                         | peak 5/s",
	}
	at := 0
	for _, w := range wantOrder {
		i := strings.Index(out[at:], w)
		if i < 0 {
			t.Fatalf("missing, or out of order: %q in\n%s", w, out)
		}
		at += i + len(w)
	}
	if strings.Contains(out, "worst burst") {
		t.Errorf("one attempt a column named a burst:\n%s", out)
	}
	if strings.Contains(out, "10.0.0.10:443") {
		t.Errorf("past --top 4, 10.0.0.10:443 is listed:\n%s", out)
	}
}

// TestTimelineBounded: a day of attempts, out of order, keeps at most
// timelineKeep buckets, loses none, and prints at most timelineCols.
func TestTimelineBounded(t *testing.T) {
	var tl timeline
	srv := netip.MustParseAddrPort("203.0.113.10:443")
	n := 0
	for i := range 20000 {
		at := sumT0.Add(time.Duration((i*7919)%86400) * time.Second) // a day, shuffled
		vi := 0
		if i%5 == 0 {
			vi = verdictIndex(verdict.Timeout)
		}
		tl.add(at, vi, srv)
		n++
		if len(tl.buckets) > timelineKeep {
			t.Fatalf("%d buckets after %d attempts", len(tl.buckets), i+1)
		}
	}
	// Broken capture clocks are left out, not a panic.
	tl.add(time.Time{}, 0, srv)
	tl.add(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0, srv)
	tl.add(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 0, srv)
	v := tl.view()
	total := 0
	for i := range v.cols {
		total += v.cols[i].n.total()
	}
	if total != n || len(v.cols) > timelineCols || len(v.cols) < timelineCols/5 {
		t.Errorf("%d attempts in %d columns of %s, want %d in at most %d", total, len(v.cols), v.width, n, timelineCols)
	}
}

// TestBurstNamed: timeouts to one server jump from 0 to 38 a second.
func TestBurstNamed(t *testing.T) {
	var tl timeline
	busy := netip.MustParseAddrPort("203.0.113.10:443")
	other := netip.MustParseAddrPort("203.0.113.11:443")
	for s := range 60 {
		at := sumT0.Add(time.Duration(s) * time.Second)
		tl.add(at, 0, other)
		if s == 31 || s == 32 {
			for i := range 38 {
				tl.add(at.Add(time.Duration(i)*time.Millisecond), verdictIndex(verdict.Timeout), busy)
			}
			tl.add(at, verdictIndex(verdict.Timeout), other)
		}
	}
	v := tl.view()
	want := "worst burst: timeouts to 203.0.113.10:443 went from 0/s to 38/s at 14:02:31."
	if got := v.burst(); got != want {
		t.Errorf("burst:\n got %s\nwant %s", got, want)
	}
}

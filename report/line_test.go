package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/verdict"
)

func TestWriteLine(t *testing.T) {
	r := verdict.Result{
		Client: netip.MustParseAddrPort("198.51.100.10:40512"), Server: netip.MustParseAddrPort("203.0.113.5:82"),
		Verdict: verdict.Timeout, Where: verdict.Unknown,
		Candidates: []verdict.Place{verdict.OutboundPath, verdict.Server, verdict.ReturnPath},
		FirstSYN:   time.Date(2026, 11, 20, 14, 2, 31, 125001000, time.UTC),
		Explanation: "6 SYNs over 5.1 s got no answer (ETIMEDOUT). Seen from the client, the SYN may have been lost " +
			"on the way out, dropped by the server, or answered with a SYN-ACK that was lost on the way back.",
	}
	var b bytes.Buffer
	if err := WriteLine(&b, &r, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if want := "14:02:31.125  timeout     198.51.100.10:40512 -> 203.0.113.5:82  where: ? outbound|server|return"; lines[0] != want {
		t.Errorf("first line\n got %q\nwant %q", lines[0], want)
	}
	if len(lines) < 3 {
		t.Fatalf("explanation not wrapped below: %q", b.String())
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "   ") || len(l) > 100 {
			t.Errorf("explanation line %q: want indented, ≤ 100 columns", l)
		}
	}
	r.Verdict = verdict.Established
	b.Reset()
	WriteLine(&b, &r, false)
	if strings.Count(b.String(), "\n") != 1 || !strings.Contains(b.String(), "→") {
		t.Errorf("an established attempt takes one line: %q", b.String())
	}
}

func TestWriteRevision(t *testing.T) {
	r := verdict.Result{
		Client: netip.MustParseAddrPort("198.51.100.10:40512"), Server: netip.MustParseAddrPort("203.0.113.5:82"),
		Verdict: verdict.Established, Where: verdict.None,
		FirstSYN:    time.Date(2026, 11, 20, 14, 2, 31, 125001000, time.UTC),
		Explanation: "The handshake completed after 3 SYNs (the first 2 went unanswered).",
	}
	was := verdict.Result{Verdict: verdict.Timeout, Where: verdict.Unknown, Candidates: []verdict.Place{verdict.OutboundPath, verdict.Server}}
	var b bytes.Buffer
	if err := WriteRevision(&b, &r, &was, true); err != nil {
		t.Fatal(err)
	}
	want := "14:02:31.125  revised     198.51.100.10:40512 -> 203.0.113.5:82: established, not timeout\n" +
		"   The handshake completed after 3 SYNs (the first 2 went unanswered).\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	// Only the place changed.
	r.Verdict, r.Where, r.Explanation = verdict.Timeout, verdict.Server, "Dropped by the server."
	b.Reset()
	WriteRevision(&b, &r, &was, true)
	want = "14:02:31.125  revised     198.51.100.10:40512 -> 203.0.113.5:82: timeout where server, not timeout where ? outbound|server\n" +
		"   Dropped by the server.\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

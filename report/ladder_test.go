package report

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/verdict"
)

var updateLadder = flag.Bool("update", false, "rewrite testdata/ladder/*.golden")

// ladderT0 is every scenario's first SYN, on the client's clock.
var ladderT0 = time.Date(2024, 5, 1, 14, 2, 31, 125104000, time.UTC)

// atMs is a time ladderT0 + d milliseconds.
func atMs(d float64) time.Time { return ladderT0.Add(time.Duration(d * float64(time.Millisecond))) }

// lpkt is one packet for a ladder scenario: at is on the client's clock; a
// server packet's own TS is at plus the scenario's clock offset.
type lpkt struct {
	side       verdict.Vantage
	n          uint64
	what       string
	fromClient bool
	at         time.Time
	ttl        uint8
	len        uint32
	lost       bool
	pair       int // index of the same packet in the other capture; 0 for none
}

// ladderEvidence builds Result.Evidence; pair numbers in lpkt are 1-based so that
// the zero value means none.
func ladderEvidence(offset time.Duration, files map[verdict.Vantage]string, ps ...lpkt) []verdict.Evidence {
	ev := make([]verdict.Evidence, len(ps))
	for i, p := range ps {
		ts := p.at
		if p.side == verdict.VantageServer {
			ts = ts.Add(offset)
		}
		ev[i] = verdict.Evidence{
			Ref:  capture.Ref{File: files[p.side], N: p.n, TS: ts},
			What: p.what, FromClient: p.fromClient, TTL: p.ttl, Len: p.len,
			Side: p.side, At: p.at, Pair: p.pair - 1, Lost: p.lost,
		}
	}
	return ev
}

var (
	vCli        = verdict.VantageClient
	vSrv        = verdict.VantageServer
	ladderFiles = map[verdict.Vantage]string{vCli: "client.pcap", vSrv: "server.pcap", verdict.VantageUnknown: "laptop.pcapng"}
)

func ladderScenarios() []struct {
	name string
	r    verdict.Result
} {
	base := func() verdict.Result {
		return verdict.Result{
			Client:   netip.MustParseAddrPort("192.0.2.1:61034"),
			Server:   netip.MustParseAddrPort("203.0.113.5:80"),
			ISN:      3735928559,
			FirstSYN: ladderT0,
			RTT:      -1,
		}
	}

	// The SYNs reach the server; its SYN-ACKs never reach the client.
	returnPath := base()
	returnPath.Vantage, returnPath.Verdict, returnPath.Where = verdict.VantageBoth, verdict.Timeout, verdict.ReturnPath
	returnPath.Candidates = []verdict.Place{verdict.ReturnPath}
	returnPath.HasClockOffset, returnPath.ClockOffset, returnPath.ClockError = true, 2512*time.Microsecond, 150*time.Microsecond
	returnPath.Evidence = ladderEvidence(returnPath.ClockOffset, ladderFiles,
		lpkt{side: vCli, n: 1, what: "SYN", fromClient: true, at: atMs(0), ttl: 64, pair: 4},
		lpkt{side: vCli, n: 2, what: "SYN", fromClient: true, at: atMs(1002.4), ttl: 64, pair: 6},
		lpkt{side: vCli, n: 5, what: "SYN", fromClient: true, at: atMs(3010.9), ttl: 64, pair: 8},
		lpkt{side: vSrv, n: 11, what: "SYN", fromClient: true, at: atMs(11.3), ttl: 57, pair: 1},
		lpkt{side: vSrv, n: 12, what: "SYN-ACK", at: atMs(11.4), ttl: 64, lost: true},
		lpkt{side: vSrv, n: 14, what: "SYN", fromClient: true, at: atMs(1013.6), ttl: 57, pair: 2},
		lpkt{side: vSrv, n: 15, what: "SYN-ACK", at: atMs(1013.7), ttl: 64, lost: true},
		lpkt{side: vSrv, n: 19, what: "SYN", fromClient: true, at: atMs(3022.1), ttl: 57, pair: 3},
		lpkt{side: vSrv, n: 20, what: "SYN-ACK", at: atMs(3022.2), ttl: 64, lost: true},
	)

	// The SYNs never reach the server, whose capture covers the time.
	outbound := base()
	outbound.Vantage, outbound.Verdict, outbound.Where = verdict.VantageBoth, verdict.Timeout, verdict.OutboundPath
	outbound.Candidates = []verdict.Place{verdict.OutboundPath}
	outbound.HasClockOffset, outbound.ClockOffset, outbound.ClockError = true, -(4*time.Minute + 12118*time.Millisecond), 1200*time.Microsecond
	outbound.Evidence = ladderEvidence(outbound.ClockOffset, ladderFiles,
		lpkt{side: vCli, n: 3, what: "SYN", fromClient: true, at: atMs(0), ttl: 64, lost: true},
		lpkt{side: vCli, n: 4, what: "SYN", fromClient: true, at: atMs(1003.1), ttl: 64, lost: true},
		lpkt{side: vCli, n: 7, what: "SYN", fromClient: true, at: atMs(3011.0), ttl: 64, lost: true},
		lpkt{side: vCli, n: 9, what: "SYN", fromClient: true, at: atMs(7043.2), ttl: 64, lost: true},
	)

	// A middlebox near the client answers the SYN with a RST the server
	// never sent; the server's SYN-ACK is dropped by the same box.
	pathRST := base()
	pathRST.Server = netip.MustParseAddrPort("203.0.113.5:443")
	pathRST.Vantage, pathRST.Verdict, pathRST.Where = verdict.VantageBoth, verdict.Refused, verdict.OutboundPath
	pathRST.Candidates = []verdict.Place{verdict.OutboundPath}
	pathRST.RSTOrigin, pathRST.OriginSure = verdict.OriginPath, verdict.Certain
	pathRST.HasClockOffset, pathRST.ClockOffset, pathRST.ClockError = true, -731*time.Microsecond, 88*time.Microsecond
	pathRST.Evidence = ladderEvidence(pathRST.ClockOffset, ladderFiles,
		lpkt{side: vCli, n: 10, what: "SYN", fromClient: true, at: atMs(0), ttl: 64, pair: 3},
		lpkt{side: vCli, n: 11, what: "RST", at: atMs(0.412), ttl: 253},
		lpkt{side: vSrv, n: 7, what: "SYN", fromClient: true, at: atMs(4.108), ttl: 52, pair: 1},
		lpkt{side: vSrv, n: 8, what: "SYN-ACK", at: atMs(4.161), ttl: 64, lost: true},
	)

	// A router on the way refuses the SYN with an ICMP error; only the
	// client was captured.
	icmp := base()
	icmp.Vantage, icmp.Verdict, icmp.Where = verdict.VantageClient, verdict.Unreachable, verdict.OutboundPath
	icmp.Candidates = []verdict.Place{verdict.OutboundPath}
	icmp.ICMP = "admin-prohibited (ICMP 3/13) from 198.51.100.1"
	icmp.Evidence = ladderEvidence(0, ladderFiles,
		lpkt{side: vCli, n: 1, what: "SYN", fromClient: true, at: atMs(0), ttl: 64},
		lpkt{side: vCli, n: 2, what: "ICMP admin-prohibited", fromClient: true, at: atMs(23.870), ttl: 253},
	)

	// Through NAT on both sides, with the server's clock ten minutes ahead:
	// a TLS exchange both captures saw whole, the client closing first.
	nat := base()
	nat.Client = netip.MustParseAddrPort("192.168.1.20:51544")
	nat.Server = netip.MustParseAddrPort("203.0.113.5:443")
	nat.ClientSeenByServer = netip.MustParseAddrPort("198.51.100.7:40112")
	nat.ServerSeenByServer = netip.MustParseAddrPort("10.0.0.5:8443")
	nat.Vantage, nat.Verdict, nat.Where = verdict.VantageBoth, verdict.Established, verdict.None
	nat.Candidates = []verdict.Place{verdict.None}
	nat.HasClockOffset, nat.ClockOffset, nat.ClockError = true, 612038*time.Millisecond, 400*time.Microsecond
	nat.RTT = 24 * time.Millisecond
	nat.Evidence = ladderEvidence(nat.ClockOffset, map[verdict.Vantage]string{vCli: "client.pcap", vSrv: "/var/tmp/captures/edge-lb-03/server-2024-05-01T14.pcapng"},
		lpkt{side: vCli, n: 41, what: "SYN", fromClient: true, at: atMs(0), ttl: 64, pair: 10},
		lpkt{side: vCli, n: 42, what: "SYN-ACK", at: atMs(24.1), ttl: 50, pair: 11},
		lpkt{side: vCli, n: 43, what: "ACK", fromClient: true, at: atMs(24.2), ttl: 64, pair: 12},
		lpkt{side: vCli, n: 44, what: "data", fromClient: true, at: atMs(24.9), ttl: 64, len: 517, pair: 13},
		lpkt{side: vCli, n: 47, what: "data", at: atMs(51.3), ttl: 50, len: 1448, pair: 14},
		lpkt{side: vCli, n: 48, what: "data", at: atMs(51.3), ttl: 50, len: 1448, pair: 15},
		lpkt{side: vCli, n: 49, what: "data", at: atMs(51.4), ttl: 50, len: 1207, pair: 16},
		lpkt{side: vCli, n: 50, what: "FIN", fromClient: true, at: atMs(60.0), ttl: 64, pair: 17},
		lpkt{side: vCli, n: 52, what: "FIN", at: atMs(84.5), ttl: 50, pair: 18},
		lpkt{side: vSrv, n: 1001, what: "SYN", fromClient: true, at: atMs(11.9), ttl: 51},
		lpkt{side: vSrv, n: 1002, what: "SYN-ACK", at: atMs(12.0), ttl: 64},
		lpkt{side: vSrv, n: 1003, what: "ACK", fromClient: true, at: atMs(36.3), ttl: 51},
		lpkt{side: vSrv, n: 1004, what: "data", fromClient: true, at: atMs(37.0), ttl: 51, len: 517},
		lpkt{side: vSrv, n: 1005, what: "data", at: atMs(39.1), ttl: 64, len: 1448},
		lpkt{side: vSrv, n: 1006, what: "data", at: atMs(39.1), ttl: 64, len: 1448},
		lpkt{side: vSrv, n: 1007, what: "data", at: atMs(39.2), ttl: 64, len: 1207},
		lpkt{side: vSrv, n: 1009, what: "FIN", fromClient: true, at: atMs(72.1), ttl: 51},
		lpkt{side: vSrv, n: 1010, what: "FIN", at: atMs(72.3), ttl: 64},
	)
	for i := 9; i < len(nat.Evidence); i++ { // pair the server's copies back
		nat.Evidence[i].Pair = i - 9
	}

	// Only the client was captured and no answer ever came: every SYN's fate
	// is unknown.
	oneTimeout := base()
	oneTimeout.Vantage, oneTimeout.Verdict, oneTimeout.Where = verdict.VantageUnknown, verdict.Timeout, verdict.Unknown
	oneTimeout.Candidates = []verdict.Place{verdict.OutboundPath, verdict.Server, verdict.ReturnPath}
	oneTimeout.Settle = "a capture on the server would tell which"
	oneTimeout.Evidence = ladderEvidence(0, ladderFiles,
		lpkt{side: verdict.VantageUnknown, n: 118, what: "SYN", fromClient: true, at: atMs(0), ttl: 64},
		lpkt{side: verdict.VantageUnknown, n: 131, what: "SYN", fromClient: true, at: atMs(1001.8), ttl: 64},
		lpkt{side: verdict.VantageUnknown, n: 190, what: "SYN", fromClient: true, at: atMs(3009.6), ttl: 64},
		lpkt{side: verdict.VantageUnknown, n: 377, what: "SYN", fromClient: true, at: atMs(7041.0), ttl: 64},
		lpkt{side: verdict.VantageUnknown, n: 902, what: "SYN", fromClient: true, at: atMs(15105.3), ttl: 64},
		lpkt{side: verdict.VantageUnknown, n: 2210, what: "SYN", fromClient: true, at: atMs(31233.7), ttl: 64},
	)

	// Only the server was captured: the request arrives in many segments,
	// the reply is never acknowledged; more packets than a ladder draws.
	stalled := base()
	stalled.Vantage, stalled.Verdict, stalled.Where = verdict.VantageServer, verdict.Stalled, verdict.Unknown
	stalled.Candidates = []verdict.Place{verdict.Server, verdict.ReturnPath, verdict.Client}
	stalled.Settle = "a capture on the client would tell which"
	ps := []lpkt{
		{side: vSrv, n: 3, what: "SYN", fromClient: true, at: atMs(0), ttl: 55},
		{side: vSrv, n: 4, what: "SYN-ACK", at: atMs(0.1), ttl: 64},
		{side: vSrv, n: 6, what: "ACK", fromClient: true, at: atMs(30.2), ttl: 55},
	}
	for i := range 50 {
		ps = append(ps, lpkt{side: vSrv, n: uint64(7 + i), what: "data", fromClient: true, at: atMs(30.5 + float64(i)*0.2), ttl: 55, len: 1400})
	}
	for i := range 4 {
		ps = append(ps, lpkt{side: vSrv, n: uint64(60 + i), what: "data", at: atMs(45.0 + float64(int(200)<<i)), ttl: 64, len: 310})
	}
	ps = append(ps, lpkt{side: vSrv, n: 71, what: "RST (ignored: does not ack the SYN)", fromClient: true, at: atMs(3245.0), ttl: 55})
	stalled.Evidence = ladderEvidence(0, ladderFiles, ps...)

	return []struct {
		name string
		r    verdict.Result
	}{
		{"return-path", returnPath},
		{"outbound", outbound},
		{"path-rst", pathRST},
		{"icmp", icmp},
		{"nat-established", nat},
		{"one-capture-timeout", oneTimeout},
		{"server-only-stalled", stalled},
	}
}

func TestWriteLadder(t *testing.T) {
	for _, sc := range ladderScenarios() {
		for _, ascii := range []bool{false, true} {
			name := sc.name
			if ascii {
				name += "-ascii"
			}
			t.Run(name, func(t *testing.T) {
				var b bytes.Buffer
				if err := WriteLadder(&b, &sc.r, ascii); err != nil {
					t.Fatal(err)
				}
				got := b.String()
				checkLadder(t, got, &sc.r, ascii)

				path := filepath.Join("testdata", "ladder", name+".golden")
				if *updateLadder {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./report -run TestWriteLadder -update)", err)
				}
				if got != string(want) {
					t.Errorf("ladder differs from %s (rerun with -update if intended):\ngot:\n%s\nwant:\n%s", path, got, want)
				}
			})
		}
	}
}

// checkLadder holds for every ladder, whatever its layout.
func checkLadder(t *testing.T, out string, r *verdict.Result, ascii bool) {
	t.Helper()
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > ladderMaxWidth {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
		}
		if line != strings.TrimRight(line, " ") {
			t.Errorf("line %d has trailing spaces: %q", i+1, line)
		}
	}
	if ascii {
		for i := 0; i < len(out); i++ {
			if out[i] > 127 {
				t.Fatalf("ASCII ladder has byte %#x at %d: %q", out[i], i, out[max(0, i-20):min(len(out), i+20)])
			}
		}
	}
	if !utf8.ValidString(out) {
		t.Error("ladder is not valid UTF-8")
	}
	drawn := len(r.Evidence) <= ladderMaxRows
	for _, e := range r.Evidence {
		if drawn && !hasWord(out, fmt.Sprint(e.N)) {
			t.Errorf("frame %d is not in the ladder", e.N)
		}
	}
	if !strings.Contains(out, "verdict: "+string(r.Verdict)) {
		t.Errorf("the footer does not give the verdict %s", r.Verdict)
	}
	for _, ap := range []netip.AddrPort{r.Client, r.Server, r.ClientSeenByServer, r.ServerSeenByServer} {
		if ap.IsValid() && !strings.Contains(out, ap.String()) {
			t.Errorf("endpoint %s is not named", ap)
		}
	}
}

// hasWord reports whether w occurs in s between non-digits.
func hasWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || s[j-1] < '0' || s[j-1] > '9'
		after := j+len(w) == len(s) || s[j+len(w)] < '0' || s[j+len(w)] > '9'
		if before && after {
			return true
		}
		i = j + 1
	}
}

// TestWriteLadderMany checks that a long attempt is cut to the first and
// last packets, saying how many were left out.
func TestWriteLadderMany(t *testing.T) {
	var stalled verdict.Result
	for _, sc := range ladderScenarios() {
		if sc.name == "server-only-stalled" {
			stalled = sc.r
		}
	}
	var b bytes.Buffer
	if err := WriteLadder(&b, &stalled, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	more := fmt.Sprintf("… %d more packets …", len(stalled.Evidence)-ladderMaxRows)
	if !strings.Contains(out, more) {
		t.Errorf("no %q in\n%s", more, out)
	}
	arrows := strings.Count(out, "▶") + strings.Count(out, "◀")
	if arrows != ladderMaxRows {
		t.Errorf("%d arrows drawn, want %d", arrows, ladderMaxRows)
	}
	for _, n := range []uint64{3, 71} { // the first and the last packet stay
		if !hasWord(out, fmt.Sprint(n)) {
			t.Errorf("frame %d is not in the ladder", n)
		}
	}
}

// TestWriteLadderOdd feeds results a judge should not produce: the ladder
// still draws, within its width, without panicking.
func TestWriteLadderOdd(t *testing.T) {
	long := strings.Repeat("very-long-packet-description-", 6)
	tests := []struct {
		name string
		r    verdict.Result
	}{
		{"empty", verdict.Result{Verdict: verdict.Incomplete, Where: verdict.Unknown}},
		{"bad pairs", verdict.Result{Verdict: verdict.Timeout, Vantage: verdict.VantageBoth, Evidence: []verdict.Evidence{
			{Ref: capture.Ref{File: "a", N: 1, TS: ladderT0}, What: "SYN", FromClient: true, Side: vCli, At: ladderT0, Pair: 0},
			{Ref: capture.Ref{File: "b", N: 2, TS: ladderT0}, What: "SYN", FromClient: true, Side: vSrv, At: ladderT0, Pair: 7},
			{Ref: capture.Ref{File: "b", N: 3, TS: ladderT0}, What: "SYN", FromClient: true, Side: vSrv, At: ladderT0, Pair: 0},
		}}},
		{"long labels", verdict.Result{Verdict: verdict.Reset, Vantage: verdict.VantageBoth, Evidence: []verdict.Evidence{
			{Ref: capture.Ref{File: strings.Repeat("dir/", 40) + "c.pcap", N: 123456789012, TS: ladderT0}, What: long, Side: vCli, At: ladderT0, Pair: -1, TTL: 1, Len: 4294967295},
			{Ref: capture.Ref{File: "s.pcap", N: 9, TS: ladderT0}, What: long + "→≠µ", Side: vSrv, At: ladderT0.Add(time.Hour), Pair: -1, Lost: true, TTL: 255},
		}}},
		{"rotated files", verdict.Result{Verdict: verdict.Timeout, Vantage: verdict.VantageClient, Evidence: []verdict.Evidence{
			{Ref: capture.Ref{File: "c-1.pcap", N: 99, TS: ladderT0}, What: "SYN", FromClient: true, Side: vCli, At: ladderT0, Pair: -1},
			{Ref: capture.Ref{File: "c-2.pcap", N: 1, TS: ladderT0.Add(time.Second)}, What: "SYN", FromClient: true, Side: vCli, At: ladderT0.Add(time.Second), Pair: -1},
		}}},
	}
	for _, tt := range tests {
		for _, ascii := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/ascii=%v", tt.name, ascii), func(t *testing.T) {
				var b bytes.Buffer
				if err := WriteLadder(&b, &tt.r, ascii); err != nil {
					t.Fatal(err)
				}
				checkLadder(t, b.String(), &tt.r, ascii)
			})
		}
	}
	if err := WriteLadder(&bytes.Buffer{}, nil, false); err == nil {
		t.Error("nil result: no error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteLadderError(t *testing.T) {
	r := ladderScenarios()[0].r
	if err := WriteLadder(failWriter{}, &r, false); err != os.ErrClosed {
		t.Errorf("got %v, want the writer's error", err)
	}
}

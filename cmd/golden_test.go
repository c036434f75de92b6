package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/synpath/synpath/report"
)

// scenariosDir is the lab's output; SYNPATH_SCENARIOS points the golden
// tests at a freshly regenerated lab (CI does).
func scenariosDir() string {
	if d := os.Getenv("SYNPATH_SCENARIOS"); d != "" {
		return d
	}
	return filepath.Join("..", "testdata", "scenarios")
}

// truth is the lab's testdata/scenarios/<name>/truth.json.
type truth struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description"`
	ClientFile  string `json:"client_file"`
	ServerFile  string `json:"server_file"`
	// ClientFiles are a rotated client capture, in the order a shell glob
	// gives them (which may not be time order).
	ClientFiles []string `json:"client_files"`
	// MergedFile holds both captures in one file (mergecap).
	MergedFile string `json:"merged_file"`
	// ClientVantage and ServerVantage are the vantages each capture alone
	// must be judged from ("unknown" where the TTLs cannot tell).
	ClientVantage string `json:"client_vantage"`
	// DNSFailed are the failed lookups the client capture shows.
	DNSFailed []struct {
		Client   string `json:"client"`
		Name     string `json:"name"`
		RCode    string `json:"rcode"`
		Answered bool   `json:"answered"`
		Queries  uint32 `json:"queries"`
	} `json:"dns_failed"`
	ServerVantage string `json:"server_vantage"`
	Attempts      []struct {
		Client             string `json:"client"`
		Server             string `json:"server"`
		ISN                uint32 `json:"isn"`
		ClientSeenByServer string `json:"client_seen_by_server"`
		ServerSeenByServer string `json:"server_seen_by_server"`
		ISNSeenByServer    uint32 `json:"isn_seen_by_server"`
		Both               *view  `json:"both"`
		ClientView         *view  `json:"client_view"`
		ServerView         *view  `json:"server_view"`
		// Wire is what tshark counts in each capture (labnet's truth).
		Wire struct {
			Client, Server wireCounts
		} `json:"wire"`
	} `json:"attempts"`
}

type wireCounts struct {
	SYN    int `json:"syn"`
	SYNACK int `json:"synack"`
}

type view struct {
	Verdict    string   `json:"verdict"`
	Where      string   `json:"where"`
	Candidates []string `json:"candidates"`
	RSTOrigin  string   `json:"rst_origin"`
	// WhereConfidence is checked when the truth file has it.
	WhereConfidence *string `json:"where_confidence"`
	Cause           string  `json:"cause"`
	FellBackTo      string  `json:"fell_back_to"`
}

func (v view) String() string {
	conf := "-"
	if v.WhereConfidence != nil {
		conf = *v.WhereConfidence
	}
	return fmt.Sprintf("%s/%s %v origin %q confidence %q cause %q fell back to %q", v.Verdict, v.Where, v.Candidates, v.RSTOrigin, conf, v.Cause, v.FellBackTo)
}

func loadTruths(t *testing.T) map[string]*truth {
	dir := scenariosDir()
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "truth.json"))
	if len(paths) == 0 {
		t.Skipf("no scenarios in %s (run make lab)", dir)
	}
	truths := map[string]*truth{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var tr truth
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		truths[filepath.Dir(p)] = &tr
	}
	return truths
}

// runJSON runs synpath and parses its JSON Lines: the attempts.
func runJSON(t *testing.T, args ...string) []report.Record {
	t.Helper()
	recs, _ := runJSONAll(t, args...)
	return recs
}

// runJSONAll runs synpath and parses its JSON Lines: the attempts and the
// failed DNS lookups.
func runJSONAll(t *testing.T, args ...string) ([]report.Record, []report.DNSRecord) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"analyze", "--format", "json"}, args...), nil, &out, &errb)
	if code == ExitUsage {
		t.Fatalf("synpath %v: exit %d: %s", args, code, errb.String())
	}
	var recs []report.Record
	var lookups []report.DNSRecord
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r report.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		switch r.Type {
		case "attempt":
			recs = append(recs, r)
		case "dns":
			var l report.DNSRecord
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
			}
			lookups = append(lookups, l)
		default:
			t.Errorf("line of type %q: %s", r.Type, sc.Text())
		}
	}

	failed := len(lookups) > 0 || slices.ContainsFunc(recs, func(r report.Record) bool { return r.Verdict != "established" })
	if wantCode := map[bool]int{true: ExitFailed, false: ExitOK}[failed]; code != wantCode {
		t.Errorf("exit %d, want %d", code, wantCode)
	}
	return recs, lookups
}

type attemptID struct {
	client, server string
	isn            uint32
}

func compareViews(t *testing.T, label string, got []report.Record, want map[attemptID]view, wantVantage string) {
	t.Helper()
	seen := map[attemptID]bool{}
	for _, r := range got {
		id := attemptID{r.Client, r.Server, r.ISN}
		w, ok := want[id]
		if !ok {
			t.Errorf("%s: attempt %s → %s isn %d is not in truth.json (%s/%s)", label, r.Client, r.Server, r.ISN, r.Verdict, r.Where)
			continue
		}
		seen[id] = true
		g := view{r.Verdict, r.Where, r.Candidates, r.RSTOrigin, &r.WhereConfidence, r.Cause, r.FellBackTo}
		if g.Verdict != w.Verdict || g.Where != w.Where || g.RSTOrigin != w.RSTOrigin || !sameSet(g.Candidates, w.Candidates) ||
			(w.WhereConfidence != nil && *w.WhereConfidence != r.WhereConfidence) || g.Cause != w.Cause || g.FellBackTo != w.FellBackTo {
			t.Errorf("%s: %s → %s isn %d:\n  got  %s\n  want %s\n  %s", label, r.Client, r.Server, r.ISN, g, w, r.Explanation)
		}
		if wantVantage != "" && r.Vantage != wantVantage {
			t.Errorf("%s: %s → %s judged from vantage %q, want %q", label, r.Client, r.Server, r.Vantage, wantVantage)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("%s: attempt %s → %s isn %d missing from the output", label, id.client, id.server, id.isn)
		}
	}
}

// compareCounts checks the handshake's counts in the JSON against
// tshark's count of the same capture: a count synpath does not know (null)
// is not checked, a count it gives must be the wire's. At the client the
// SYNs sent and SYN-ACKs that arrived; at the server the SYNs that arrived
// and SYN-ACKs sent.
func compareCounts(t *testing.T, label string, got []report.Record, wire map[attemptID]wireCounts) {
	t.Helper()
	for _, r := range got {
		w, ok := wire[attemptID{r.Client, r.Server, r.ISN}]
		if !ok {
			continue // compareViews names it
		}
		syn, synack := r.SYNSent, r.SYNACKSeenByClient
		if r.Vantage == "server" {
			syn, synack = r.SYNSeenByServer, r.SYNACKSent
		}
		if (syn != nil && *syn != w.SYN) || (synack != nil && *synack != w.SYNACK) {
			t.Errorf("%s: %s → %s isn %d: SYNs %s, SYN-ACKs %s; the capture holds %d and %d", label, r.Client, r.Server, r.ISN, nullable(syn), nullable(synack), w.SYN, w.SYNACK)
		}
	}
}

func nullable(n *int) string {
	if n == nil {
		return "null"
	}
	return strconv.Itoa(*n)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestGoldenScenarios runs synpath over every lab scenario: each capture
// alone (vantage inferred) and both joined, against truth.json; and, where
// the lab made them, the client capture as rotated files (given out of
// order, with --client and as plain files), both captures in one merged
// file, and --client/--server given the wrong way round.
func TestGoldenScenarios(t *testing.T) {
	for dir, tr := range loadTruths(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			path := func(f string) string { return filepath.Join(dir, f) }
			wantClient := map[attemptID]view{}
			wantServer := map[attemptID]view{}
			wantBoth := map[attemptID]view{}
			wireClient := map[attemptID]wireCounts{}
			wireServer := map[attemptID]wireCounts{}
			for _, a := range tr.Attempts {
				id := attemptID{a.Client, a.Server, a.ISN}
				wireClient[id] = a.Wire.Client
				wireServer[attemptID{a.ClientSeenByServer, a.ServerSeenByServer, a.ISNSeenByServer}] = a.Wire.Server
				if a.ClientView != nil {
					wantClient[id] = *a.ClientView
				}
				if a.Both != nil {
					wantBoth[id] = *a.Both
				}
				if a.ServerView != nil {
					wantServer[attemptID{a.ClientSeenByServer, a.ServerSeenByServer, a.ISNSeenByServer}] = *a.ServerView
				}
			}
			clientVantage, serverVantage := or(tr.ClientVantage, "client"), or(tr.ServerVantage, "server")
			var clientArgs, clientPlain []string
			switch {
			case len(tr.ClientFiles) > 0:
				for _, f := range tr.ClientFiles {
					clientArgs = append(clientArgs, "--client", path(f))
					clientPlain = append(clientPlain, path(f))
				}
			case tr.ClientFile != "":
				clientArgs = []string{"--client", path(tr.ClientFile)}
				clientPlain = []string{path(tr.ClientFile)}
			}
			if len(clientPlain) > 0 {
				recs, lookups := runJSONAll(t, clientPlain...)
				compareViews(t, "client capture alone", recs, wantClient, clientVantage)
				compareLookups(t, "client capture alone", lookups, tr)
				if tr.ClientFile != "" {
					compareCounts(t, "client capture alone", recs, wireClient)
				}
			}
			if tr.ServerFile != "" {
				recs := runJSON(t, path(tr.ServerFile))
				compareViews(t, "server capture alone", recs, wantServer, serverVantage)
				compareCounts(t, "server capture alone", recs, wireServer)
			}
			if len(clientArgs) > 0 && tr.ServerFile != "" {
				both, lookups := runJSONAll(t, append(clientArgs, "--server", path(tr.ServerFile))...)
				// Attempts only the server saw (none in the lab) would be
				// extra; every client attempt must be judged from both.
				compareViews(t, "both captures", both, wantBoth, "")
				compareLookups(t, "both captures", lookups, tr)
				if clientVantage == "client" && serverVantage == "server" && len(tr.ClientFiles) == 0 {
					swapped := runJSON(t, "--client", path(tr.ServerFile), "--server", path(tr.ClientFile))
					compareViews(t, "both captures, flags swapped", swapped, wantBoth, "")
				}
			}
			if tr.MergedFile != "" {
				compareViews(t, "both captures merged in one file", runJSON(t, path(tr.MergedFile)), wantBoth, "")
			}
		})
	}
}

// compareLookups checks the failed DNS lookups against the lab's: each
// once (a join must not list a lookup both captures saw twice).
func compareLookups(t *testing.T, label string, got []report.DNSRecord, tr *truth) {
	t.Helper()
	key := func(client, name, rcode string, answered bool, queries uint32) string {
		return fmt.Sprintf("%s %s %q answered=%v queries=%d", client, name, rcode, answered, queries)
	}
	var g, w []string
	for _, l := range got {
		client, _, _ := strings.Cut(l.Client, ":")
		if strings.HasPrefix(l.Client, "[") {
			client = strings.Trim(l.Client[:strings.LastIndex(l.Client, ":")], "[]")
		}
		g = append(g, key(client, l.Name, l.RCode, l.Answered, l.Queries))
	}
	for _, l := range tr.DNSFailed {
		w = append(w, key(l.Client, l.Name, l.RCode, l.Answered, l.Queries))
	}
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: failed lookups\n  got  %q\n  want %q", label, g, w)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestASCIIOutput renders every scenario, joined and explained, for a
// terminal that is not UTF-8: nothing but ASCII, nothing wider than 100.
func TestASCIIOutput(t *testing.T) {
	for dir, tr := range loadTruths(t) {
		if tr.ClientFile == "" || tr.ServerFile == "" {
			continue
		}
		var out, errb bytes.Buffer
		Main(context.Background(), []string{"analyze", "--ascii", "--explain", "--midstream",
			"--client", filepath.Join(dir, tr.ClientFile), "--server", filepath.Join(dir, tr.ServerFile)}, nil, &out, &errb)
		if out.Len() == 0 {
			t.Errorf("%s: no output; stderr %s", filepath.Base(dir), errb.String())
		}
		for i, line := range strings.Split(out.String(), "\n") {
			for _, r := range line {
				if r > 127 {
					t.Errorf("%s line %d: non-ASCII %q in %q", filepath.Base(dir), i+1, r, line)
					break
				}
			}
			if n := len(line); n > 100 {
				t.Errorf("%s line %d: %d columns: %q", filepath.Base(dir), i+1, n, line)
			}
		}
	}
}

package cmd

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mixedCapture(t *testing.T) (client, server string) {
	t.Helper()
	dir := filepath.Join(scenariosDir(), "mixed")
	client, server = filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	if _, err := os.Stat(client); err != nil {
		t.Skip("no lab scenario")
	}
	return client, server
}

// jsonLines parses JSON Lines into generic objects.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestDidYouMean(t *testing.T) {
	for _, word := range []string{"analyse", "anaylze", "lvie"} {
		code, out, stderr := runMain(word, "x.pcap")
		if code != ExitUsage || out != "" || !strings.Contains(stderr, "did you mean ") {
			t.Errorf("%s: exit %d, stderr %q", word, code, stderr)
		}
	}
	// A file of that name is a file; a word far from every command is a
	// file that does not exist.
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile("analyse", []byte("not a capture"), 0o644)
	if _, _, stderr := runMain("analyse"); strings.Contains(stderr, "did you mean") || !strings.Contains(stderr, "not a pcap") {
		t.Errorf("existing file: %q", stderr)
	}
	if _, _, stderr := runMain("capture"); strings.Contains(stderr, "did you mean") {
		t.Errorf("far word: %q", stderr)
	}
}

func TestReadFlagCountAndWindow(t *testing.T) {
	client, _ := mixedCapture(t)
	_, plain, _ := runMain("analyze", "--format", "json", client)
	_, withR, _ := runMain("analyze", "--format", "json", "-r", client)
	if plain == "" || plain != withR {
		t.Errorf("-r FILE differs from FILE: %d vs %d bytes", len(plain), len(withR))
	}
	all := jsonLines(t, plain)

	// -c: the footer counts only the packets read.
	_, out, _ := runMain("analyze", "--format", "json", "--with-summary", "-c", "100", client)
	recs := jsonLines(t, out)
	sum := recs[len(recs)-1]
	files := sum["files"].([]any)
	if sum["type"] != "summary" || files[0].(map[string]any)["packets"].(float64) != 100 || len(recs)-1 >= len(all) {
		t.Errorf("-c 100: %d attempts of %d, summary %v", len(recs)-1, len(all), sum)
	}

	// --since as a time of day of the capture: later attempts only.
	first, _ := time.Parse(time.RFC3339Nano, all[0]["first_syn"].(string))
	since := first.Add(3 * time.Second).Format("15:04:05")
	_, out, _ = runMain("analyze", "--format", "json", "--with-summary", "--since", since, client)
	recs = jsonLines(t, out)
	sum = recs[len(recs)-1]
	kept := recs[:len(recs)-1]
	if len(kept) == 0 || len(kept) >= len(all) || int(sum["outside_window"].(float64)) != len(all)-len(kept) {
		t.Fatalf("--since %s: kept %d of %d, summary %v", since, len(kept), len(all), sum)
	}
	for _, r := range kept {
		if r["first_syn"].(string)[11:19] < since {
			t.Errorf("--since %s kept an attempt at %s", since, r["first_syn"])
		}
	}
	// --until with RFC 3339: the complement.
	until := first.Add(3 * time.Second).Truncate(time.Second).Format(time.RFC3339)
	_, out, _ = runMain("analyze", "--format", "json", "--until", until, client)
	if n := len(jsonLines(t, out)); n+len(kept) != len(all) {
		t.Errorf("--until %s kept %d, --since kept %d, of %d", until, n, len(kept), len(all))
	}
	if code, _, stderr := runMain("analyze", "--since", "yesterday", client); code != ExitUsage || !strings.Contains(stderr, "RFC 3339") {
		t.Errorf("bad --since: exit %d %q", code, stderr)
	}
}

func TestJSONSummaryLine(t *testing.T) {
	client, server := mixedCapture(t)
	_, out, _ := runMain("analyze", "--format", "json", "--with-summary", "--client", client, "--server", server)
	recs := jsonLines(t, out)
	sum := recs[len(recs)-1]
	if sum["type"] != "summary" {
		t.Fatalf("last line is not the summary: %v", sum)
	}
	counts := map[string]float64{}
	for _, r := range recs[:len(recs)-1] {
		if r["type"] != "attempt" {
			t.Errorf("line without type attempt: %v", r)
		}
		counts[r["verdict"].(string)]++
	}
	verdicts := sum["verdicts"].(map[string]any)
	for v, n := range counts {
		if verdicts[v].(float64) != n {
			t.Errorf("summary says %v %s, lines say %v", verdicts[v], v, n)
		}
	}
	if len(sum["files"].([]any)) != 2 || sum["attempts"].(float64) != float64(len(recs)-1) {
		t.Errorf("summary %v", sum)
	}
	if _, out, _ := runMain("analyze", "--format", "json", client); strings.Contains(out, `"summary"`) {
		t.Error("summary line without --with-summary")
	}
}

// Colour is for terminals only: a pipe or a file never gets escapes.
func TestNoColourOffTerminal(t *testing.T) {
	client, _ := mixedCapture(t)
	t.Setenv("NO_COLOR", "")
	_, out, _ := runMain("analyze", client)
	if strings.Contains(out, "\x1b[") {
		t.Error("colour escapes in output that is not a terminal")
	}
}

func TestExplainHandsOver(t *testing.T) {
	client, server := mixedCapture(t)
	// Every listed failure gets its ladder, its filter and its Community ID.
	_, out, _ := runMain("analyze", "--explain", "--failed", "--rows", "3", "--client", client, "--server", server)
	if strings.Count(out, "Wireshark filter: ip.addr==") != 3 || strings.Count(out, "Community ID: 1:") != 3 {
		t.Errorf("--explain without filters:\n%s", out)
	}
}

package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/synpath/synpath/report"
)

// TestAnalyzeFilter reads a lab capture with and without --filter: the
// filter keeps the attempts it names, and their verdicts and frame
// numbers are those of the whole file.
func TestAnalyzeFilter(t *testing.T) {
	const file = "../testdata/scenarios/mixed/client.pcap"
	lines := func(args ...string) map[string]string {
		_, out, stderr := runMain(append([]string{"analyze", "--format", "json"}, args...)...)
		got := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var r report.Record
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%v: %q: %v (%s)", args, l, err, stderr)
			}
			b, _ := json.Marshal(r.Evidence)
			got[r.Client+" "+r.Server] = r.Verdict + " " + string(b)
		}
		return got
	}
	all := lines(file)
	some := lines("--filter", "dst port 81 or src port 81", file)
	if len(some) == 0 || len(some) >= len(all) {
		t.Fatalf("the filter kept %d of %d attempts", len(some), len(all))
	}
	for k, v := range some {
		if !strings.HasSuffix(k, ":81") {
			t.Errorf("%s: passed the filter", k)
		}
		if all[k] != v {
			t.Errorf("%s: filtered %s, whole %s", k, v, all[k])
		}
	}
}

package cmd

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/postmortem/*.golden")

// TestPostmortemGolden holds the summaries, the timeline and the footer of
// the lab's mixed scenario (nine ports, each with its own fault) to golden
// files: go test ./cmd -run Postmortem -update rewrites them.
func TestPostmortemGolden(t *testing.T) {
	if os.Getenv("SYNPATH_SCENARIOS") != "" {
		t.Skip("golden files are of the bundled lab, not a regenerated one")
	}
	client, server := mixedCapture(t)
	for _, tc := range []struct {
		name string
		args []string
		utf8 bool
	}{
		{"mixed-summary", []string{"--summary", "--client", client, "--server", server}, true},
		{"mixed-summary-ascii", []string{"--summary", "--ascii", "--client", client, "--server", server}, false},
		{"mixed-client-top3", []string{"--summary", "--ascii", "--top", "3", client}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LC_ALL", "")
			t.Setenv("LC_CTYPE", "")
			t.Setenv("LANG", map[bool]string{true: "C.UTF-8", false: "C"}[tc.utf8])
			code, out, stderr := runMain(append([]string{"analyze"}, tc.args...)...)
			if code != ExitFailed {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			out = strings.ReplaceAll(out, filepath.Dir(client), "<mixed>")
			golden := filepath.Join("testdata", "postmortem", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./cmd -run Postmortem -update writes it)", err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s (rerun with -update if the change is meant):\n%s", golden, lineDiff(string(want), out))
			}
		})
	}
}

// lineDiff shows the first lines where want and got part.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 8; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCorpus runs synpath over tcpdump's 830 odd captures: none may panic;
// each gives verdicts (or none) or one positioned error line.
func TestCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpus", "tcpdump-tests")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Skipf("no corpus at %s", dir)
	}
	positioned := regexp.MustCompile(`^synpath: [^:]+: (packet \d+: )?\S.*\n$`)
	var judged, failedOpen int
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			continue
		}
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"analyze", "--format", "json", f}, nil, &out, &errb)
		switch code {
		case ExitOK, ExitFailed:
			judged++
			for _, line := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
				if line != "" && !strings.HasPrefix(line, "synpath: warning: ") {
					t.Errorf("%s: unexpected stderr %q", filepath.Base(f), line)
				}
			}
		case ExitUsage:
			failedOpen++
			if !positioned.MatchString(errb.String()) || !strings.Contains(errb.String(), filepath.Base(f)) {
				t.Errorf("%s: error is not one positioned line naming the file: %q", filepath.Base(f), errb.String())
			}
		default:
			t.Errorf("%s: exit %d", filepath.Base(f), code)
		}
	}
	t.Logf("%d files judged, %d refused with a positioned error", judged, failedOpen)
	if judged == 0 {
		t.Error("no corpus file was judged")
	}
}

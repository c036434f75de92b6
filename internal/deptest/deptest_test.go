package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/synpath/synpath/"

// allowed lists, per package, the imports it may have among ours and
// among the third-party libraries; everything else is the standard library.
var allowed = map[string][]string{
	"capture":          {"github.com/gopacket/gopacket"},
	"flows":            {mod + "capture"},
	"verdict":          {mod + "capture", mod + "flows"},
	"report":           {mod + "capture", mod + "flows", mod + "verdict", "github.com/olekukonko/tablewriter"},
	"cmd":              {mod + "capture", mod + "flows", mod + "verdict", mod + "report", "github.com/spf13/pflag"},
	"internal/pkttest": {mod + "capture"},
}

func TestStageBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		allow, ok := allowed[pkg]
		if !ok {
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				continue // standard library
			}
			okImp := false
			for _, a := range allow {
				if imp == a || strings.HasPrefix(imp, a+"/") {
					okImp = true
				}
			}
			if !okImp {
				t.Errorf("%s imports %s: against the one-way stage order", pkg, imp)
			}
		}
	}
	if checked != len(allowed) {
		t.Errorf("checked %d packages, want %d", checked, len(allowed))
	}
}

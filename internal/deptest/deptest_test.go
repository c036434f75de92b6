package deptest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const mod = "github.com/synpath/synpath/"

// allowed lists, per package, the imports it may have among ours and
// among the third-party libraries; everything else is the standard library.
var allowed = map[string][]string{
	"capture":          {"github.com/gopacket/gopacket", "golang.org/x/net/bpf", "github.com/klauspost/compress/gzip"},
	"flows":            {mod + "capture"},
	"verdict":          {mod + "capture", mod + "flows"},
	"report":           {mod + "capture", mod + "flows", mod + "verdict", "github.com/olekukonko/tablewriter"},
	"cmd":              {mod + "capture", mod + "flows", mod + "verdict", mod + "report", "github.com/spf13/pflag"},
	"internal/pkttest": {mod + "capture"},
}

// TestStageBoundaries parses the imports of every non-test file (reading
// the files, so the test cache notices a change).
func TestStageBoundaries(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		allow, ok := allowed[pkg]
		if !ok {
			return nil
		}
		seen[pkg] = true
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				continue // standard library
			}
			ok := false
			for _, a := range allow {
				ok = ok || imp == a || strings.HasPrefix(imp, a+"/")
			}
			if !ok {
				t.Errorf("%s imports %s: against the one-way stage order", path, imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(allowed) {
		t.Errorf("found %d of the %d packages checked", len(seen), len(allowed))
	}
}

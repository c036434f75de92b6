package cmd

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func TestInputSizeCountsWhatIsRead(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "a.pcap")
	data := bytes.Repeat([]byte("synpath "), 50000) // 400,000 bytes, compresses well
	if err := os.WriteFile(plain, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	gz := filepath.Join(dir, "a.pcap.gz")
	if err := os.WriteFile(gz, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files []string
		want  int64
	}{
		{"plain file", []string{plain}, 400000},
		{"gzip'd file: what it inflates to", []string{gz}, 400000},
		{"both, stdin and a missing file", []string{plain, gz, "-", filepath.Join(dir, "missing")}, 800000},
		{"a directory", []string{dir}, 0},
	} {
		if got := inputSize(c.files); got != c.want {
			t.Errorf("%s: inputSize = %d, want %d", c.name, got, c.want)
		}
	}
}

package cmd

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The advice must land on the heap's own mapping and stay there: the
// kernel shows it as the "hg" flag of the mapping holding the block.
func TestMapFreshMarksTheHeapForHugePages(t *testing.T) {
	if !thpAdvised() {
		t.Skip("transparent huge pages are not in madvise mode here")
	}
	from, to, err := mapFresh(16<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	if to-from < 6*hugePage {
		t.Fatalf("advised %d bytes of a 16 MB block, want at least 12 MB", to-from)
	}
	flags := mappingFlags(t, from)
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("mapping at %#x has VmFlags %q, want hg among them", from, flags)
	}
	if flags := mappingFlags(t, to-1); !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("mapping at %#x (the advised end) has VmFlags %q, want hg among them", to-1, flags)
	}
}

// mappingFlags returns the VmFlags of the mapping holding addr, from
// /proc/self/smaps.
func mappingFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			in = lo <= uint64(addr) && uint64(addr) < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:"))
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}

// mappingRange parses the header line of a smaps entry ("lo-hi perms …").
func mappingRange(line string) (lo, hi uint64, ok bool) {
	r, _, found := strings.Cut(line, " ")
	a, b, dash := strings.Cut(r, "-")
	if !found || !dash {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(a, 16, 64)
	hi, err2 := strconv.ParseUint(b, 16, 64)
	return lo, hi, err1 == nil && err2 == nil
}

// A balloon's features file, bit 0 first: bit 5 is free page reporting.
func TestReportsFreePagesReadsBalloonFeatureBit5(t *testing.T) {
	dir := t.TempDir()
	write := func(name, bits string) {
		if err := os.MkdirAll(dir+"/"+name, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+name+"/features", []byte(bits+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("virtio0", "0110000000000000000000000000000010000000") // stats, deflate on OOM
	if reportsFreePages(dir + "/virtio*/features") {
		t.Error("a balloon without bit 5 read as reporting free pages")
	}
	write("virtio1", "0110010100000000000000000000000010000000") // the bench VM's (Firecracker)
	if !reportsFreePages(dir + "/virtio*/features") {
		t.Error("a balloon with bit 5 read as not reporting free pages")
	}
	if reportsFreePages(dir + "/none*/features") {
		t.Error("no balloon read as reporting free pages")
	}
}

// The order free blocks are reported from: a huge page's (9) when the
// file says nothing usable.
func TestReportingOrder(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		content string
		want    int
	}{{"9\n", 9}, {"11\n", 11}, {"", 9}, {"x", 9}, {"0", 9}} {
		path := dir + "/order"
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := reportingOrder(path); got != tc.want {
			t.Errorf("reportingOrder(%q) = %d, want %d", tc.content, got, tc.want)
		}
	}
	if got := reportingOrder(dir + "/none"); got != 9 {
		t.Errorf("reportingOrder(missing) = %d, want 9", got)
	}
}

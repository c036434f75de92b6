package cmd

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSize is a size flag: 512MiB, 1GiB, 300MB, 1e9 or plain bytes.
type byteSize int64

// defaultMemory is --max-memory's default: a SYN flood of millions of SYNs
// stays within it, its early judgements counted in the footer.
const defaultMemory = byteSize(512 << 20)

func (b *byteSize) String() string {
	for _, u := range []struct {
		s string
		n int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if int64(*b) >= u.n && int64(*b)%u.n == 0 {
			return fmt.Sprintf("%d%s", int64(*b)/u.n, u.s)
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

func (b *byteSize) Type() string { return "size" }

func (b *byteSize) Set(s string) error {
	units := []struct {
		s string
		n float64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range units {
		if strings.HasSuffix(num, u.s) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.s)), u.n
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v*mult < 16<<20 {
		return fmt.Errorf("%q is not a size of at least 16MiB (512MiB, 1GiB, …)", s)
	}
	*b = byteSize(v * mult)
	return nil
}

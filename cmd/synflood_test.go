package cmd

import (
	"bufio"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// writeSYNFlood writes a pcap of n SYNs, each from its own address and
// port, a microsecond apart: every one is a pending attempt for the whole
// capture, the worst case for the tracker's memory.
func writeSYNFlood(t testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // Ethernet
	w.Write(hdr)
	frame := make([]byte, 14+20+20)
	frame[12], frame[13] = 0x08, 0x00
	ip := frame[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], 40)
	copy(ip[16:], []byte{203, 0, 113, 5})
	tcp := frame[34:]
	binary.BigEndian.PutUint16(tcp[2:], 443)
	tcp[12], tcp[13] = 5<<4, 0x02 // SYN
	rec := make([]byte, 16)
	for i := range n {
		// Sources spread over 198.51.100.0/24 and every port: distinct.
		ip[12], ip[13], ip[14], ip[15] = 198, 51, 100, byte(i%250+1)
		binary.BigEndian.PutUint16(tcp[0:], uint16(1024+i/250%60000))
		binary.BigEndian.PutUint32(tcp[4:], uint32(i)*2654435761)
		us := int64(i)
		binary.LittleEndian.PutUint32(rec[0:], uint32(1_790_000_000+us/1e6))
		binary.LittleEndian.PutUint32(rec[4:], uint32(us%1e6))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
		w.Write(rec)
		w.Write(frame)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// BenchmarkSYNFlood runs synpath over 3 M SYNs (SYNFLOOD_N to change it)
// and reports its peak RSS in JSON and in table mode, against the default
// --max-memory of 512 MiB: the attempts beyond the budget are judged early
// and counted in the footer, instead of the table growing to gigabytes.
func BenchmarkSYNFlood(b *testing.B) {
	n := 3_000_000
	if s := os.Getenv("SYNFLOOD_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "synpath")
	if out, err := exec.Command("go", "build", "-o", bin, "./synpath").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	capture := filepath.Join(dir, "flood.pcap")
	writeSYNFlood(b, capture, n)
	for b.Loop() {
		for _, mode := range []string{"json", "table"} {
			cmd := exec.Command(bin, "analyze", "--format", mode, capture)
			cmd.Stdout, cmd.Stderr = nil, nil
			if err := cmd.Run(); err != nil {
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitFailed {
					b.Fatalf("%s: %v", mode, err)
				}
			}
			rss := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024 // KiB on Linux
			b.ReportMetric(rss, "peakRSS-MiB/"+mode)
			if rss > 512 {
				b.Errorf("%s: peak RSS %.0f MiB over the 512 MiB budget", mode, rss)
			}
		}
	}
}

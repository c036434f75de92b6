package cmd

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"
)

// TestRSTTimingOnALabCapture: the lab's path-rst client capture holds a
// router's REJECT (port 81) one hop nearer than the server's SYN-ACK from
// port 80. From it alone the RST's origin is unknown: the host at the
// server's address, forwarding 80 to a host a hop farther off, would
// refuse 81 so itself (a container host, a Kubernetes node). The same
// capture with the server moved far off (every record from its SYN-ACK
// on 40 ms later, as a server across a WAN answers) shows the RSTs coming
// back in microseconds where the SYN-ACK took 40 ms: sent far nearer than
// the server, the path's (likely).
func TestRSTTimingOnALabCapture(t *testing.T) {
	src := filepath.Join("..", "testdata", "scenarios", "path-rst", "client.pcap")
	far := rewriteRecords(t, src, "far.pcap", func(recs [][]byte) [][]byte {
		var out [][]byte
		late := false
		for _, r := range recs {
			r = append([]byte{}, r...)
			frame := r[16:]
			// Ethernet, IPv4 without options, TCP flags SYN|ACK.
			if len(frame) > 14+20+13 && frame[23] == 6 && frame[14+20+13]&0x3f == 0x12 {
				late = true
			}
			if late {
				us := uint64(binary.LittleEndian.Uint32(r[0:]))*1e6 + uint64(binary.LittleEndian.Uint32(r[4:])) + uint64(40*time.Millisecond/time.Microsecond)
				binary.LittleEndian.PutUint32(r[0:], uint32(us/1e6))
				binary.LittleEndian.PutUint32(r[4:], uint32(us%1e6))
			}
			out = append(out, r)
		}
		if !late {
			t.Fatal("no SYN-ACK in the capture")
		}
		return out
	}, func(hdr []byte) {
		if binary.LittleEndian.Uint32(hdr) != 0xa1b2c3d4 {
			t.Fatal("not a pcap of microseconds")
		}
	})
	for _, tc := range []struct {
		file                   string
		where, origin, confide string
	}{
		{src, "unknown", "unknown", ""},
		{far, "outbound-path", "path", "likely"},
	} {
		_, stdout, _ := runMain("analyze", "--format", "json", tc.file)
		n := 0
		eachAttempt(t, stdout, tc.file, func(r map[string]any, port, desc string) {
			if port != "81" {
				return
			}
			n++
			if r["verdict"] != "refused" || r["where"] != tc.where || r["rst_origin"] != tc.origin || r["where_confidence"] != tc.confide {
				t.Errorf("want refused/%s (%s), origin %s: %s", tc.where, tc.confide, tc.origin, desc)
			}
		})
		if n != 2 {
			t.Errorf("%s: %d refused attempts, want 2", tc.file, n)
		}
	}
}

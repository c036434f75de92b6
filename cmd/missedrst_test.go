package cmd

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/report"
)

// segmentOf reports whether an Ethernet frame holds an IPv4 TCP segment
// to or from port with any of flags set.
func segmentOf(frame []byte, port uint16, flags byte) bool {
	if len(frame) < 34 || frame[12] != 8 || frame[13] != 0 || frame[23] != 6 {
		return false
	}
	tcp := frame[14+int(frame[14]&15)*4:]
	if len(tcp) < 20 || tcp[13]&flags == 0 {
		return false
	}
	return binary.BigEndian.Uint16(tcp[0:2]) == port || binary.BigEndian.Uint16(tcp[2:4]) == port
}

// setTTL rewrites an IPv4 frame's TTL, and its header checksum to match.
func setTTL(frame []byte, ttl byte) {
	ip := frame[14:]
	hl := int(ip[0]&15) * 4
	ip[8] = ttl
	ip[10], ip[11] = 0, 0
	var sum uint32
	for i := 0; i < hl; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
}

// serverProvenAt checks that the whole captures place r at the server,
// proven, and returns r's client port.
func serverProvenAt(t *testing.T, r report.Record) uint16 {
	t.Helper()
	if r.Where != "server" || r.WhereConfidence != "proven" {
		t.Fatalf("whole captures: %s: %s at %s (%s), want the server, proven", r.Client, r.Verdict, r.Where, r.WhereConfidence)
	}
	p, err := strconv.ParseUint(r.Client[strings.LastIndexByte(r.Client, ':')+1:], 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(p)
}

// A capture that drops packets (tcpdump's "packets dropped by kernel",
// which a pcap file does not record) may lose the one RST an attempt got.
// Joined, the RST's absence from one capture is then no proof that it was
// forged or lost on the way; what else each capture shows must settle it.
// The refused scenario's first refusal (the server's kernel answers port
// 81 with a RST), with the RST cut from one capture or the other:
//   - from the server's: the RST the client got came from as far off as
//     the server (its TTL as the server's SYN-ACKs'), so no forger is
//     proven; one a hop nearer is still a forger's, proven;
//   - from the client's: the client resent no SYN for seconds after it,
//     as a client that got its answer: refused at the server, likely, not
//     lost on the way back; with too little capture after it, unknown.
//
// Before, each was a proven path: "something on the way forged it" and
// "lost on the way back".
func TestRSTTheCaptureMissed(t *testing.T) {
	dir := filepath.Join(scenariosDir(), "refused")
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	var port uint16
	var rstAt time.Time
	for _, r := range runJSON(t, "--client", client, "--server", server) {
		if r.Verdict == "refused" && port == 0 {
			port = serverProvenAt(t, r)
			for _, e := range r.Evidence {
				if e.What == "RST" {
					rstAt, _ = time.Parse(time.RFC3339Nano, e.Time)
				}
			}
		}
	}
	if port == 0 || rstAt.IsZero() {
		t.Fatal("no refused attempt with its RST in the refused scenario")
	}
	const rst, syn = 0x04, 0x02
	without := func(src, name string, flags byte) string {
		return keepFrames(t, src, name, func(frame []byte) bool { return !segmentOf(frame, port, flags) })
	}
	noRSTAtServer := without(server, "server-no-rst.pcap", rst)
	nearerRST := rewriteFrames(t, client, "client-nearer-rst.pcap", func(frame []byte) bool {
		if segmentOf(frame, port, rst) {
			setTTL(frame, frame[14+8]+1) // sent a hop nearer than the server
		}
		return true
	})
	noRSTAtClient := without(client, "client-no-rst.pcap", rst)
	// The client capture without the RST, ending 2.5 s after it (its last
	// record moved there): a Linux client would have resent its SYN by
	// then, a Windows one not.
	b, err := os.ReadFile(noRSTAtClient)
	if err != nil {
		t.Fatal(err)
	}
	hdr, _, times, _ := pcapRecords(b)
	end := rstAt.Add(2500 * time.Millisecond)
	kept := slices.IndexFunc(times, func(ts time.Time) bool { return ts.After(end) })
	if kept <= 0 || string(hdr[:4]) != "\xd4\xc3\xb2\xa1" {
		t.Fatalf("the client capture holds nothing after the RST (%v), or is not a pcap of microseconds", rstAt)
	}
	shortClient := rewriteRecords(t, noRSTAtClient, "client-short.pcap", func(recs [][]byte) [][]byte {
		last := append([]byte{}, recs[len(recs)-1]...)
		binary.LittleEndian.PutUint32(last[0:], uint32(end.Unix()))
		binary.LittleEndian.PutUint32(last[4:], uint32(end.Nanosecond()/1000))
		return append(recs[:kept:kept], last)
	})
	for _, tc := range []struct {
		name           string
		client, server string
		verdict, where string
		sure           string
		candidates     []string
		origin         string
	}{
		{"server capture without the RST", client, noRSTAtServer, "refused", "unknown", "", []string{"server", "outbound-path"}, "unknown"},
		{"server capture without the SYN and the RST", client, without(server, "server-no-syn.pcap", rst|syn), "refused", "unknown", "", []string{"server", "outbound-path"}, "unknown"},
		{"server capture without the RST, which came from a hop nearer", nearerRST, noRSTAtServer, "refused", "outbound-path", "proven", []string{"outbound-path"}, "path"},
		{"client capture without the RST", noRSTAtClient, server, "refused", "server", "likely", []string{"server", "return-path"}, "server"},
		{"client capture without the RST, ending 2.5 s after it", shortClient, server, "timeout", "unknown", "", []string{"return-path", "server"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *report.Record
			recs := runJSON(t, "--client", tc.client, "--server", tc.server)
			for i := range recs {
				if strings.HasSuffix(recs[i].Client, ":"+strconv.Itoa(int(port))) {
					got = &recs[i]
				}
			}
			if got == nil {
				t.Fatalf("no attempt from port %d", port)
			}
			if got.Verdict != tc.verdict || got.Where != tc.where || got.WhereConfidence != tc.sure || !slices.Equal(got.Candidates, tc.candidates) || got.RSTOrigin != tc.origin {
				t.Errorf("%s at %s (%s), candidates %v, RST origin %q; want %s at %s (%s), %v, %q\n%s", got.Verdict, got.Where, got.WhereConfidence, got.Candidates, got.RSTOrigin,
					tc.verdict, tc.where, tc.sure, tc.candidates, tc.origin, got.Explanation)
			}
		})
	}
}

// The same for a connection the server reset once established (the mixed
// scenario's port 88): the server capture without that RST does not prove
// something on the way ended the connection.
func TestResetTheServerCaptureMissed(t *testing.T) {
	dir := filepath.Join(scenariosDir(), "mixed")
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	var port uint16
	for _, r := range runJSON(t, "--client", client, "--server", server) {
		if r.Verdict == "reset" && strings.HasSuffix(r.Server, ":88") && port == 0 {
			port = serverProvenAt(t, r)
		}
	}
	if port == 0 {
		t.Fatal("no connection to port 88 reset in the mixed scenario")
	}
	noRST := keepFrames(t, server, "server-no-rst.pcap", func(frame []byte) bool { return !segmentOf(frame, port, 0x04) })
	for _, r := range runJSON(t, "--client", client, "--server", noRST) {
		if !strings.HasSuffix(r.Client, ":"+strconv.Itoa(int(port))) {
			continue
		}
		if r.Verdict != "reset" || r.Where != "unknown" || !slices.Equal(r.Candidates, []string{"server", "outbound-path"}) || r.RSTOrigin != "unknown" {
			t.Errorf("%s at %s (%s), candidates %v, RST origin %q; want reset at unknown, [server outbound-path], unknown\n%s",
				r.Verdict, r.Where, r.WhereConfidence, r.Candidates, r.RSTOrigin, r.Explanation)
		}
		return
	}
	t.Fatalf("no attempt from port %d", port)
}

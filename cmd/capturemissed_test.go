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

// segmentOf reports whether an Ethernet frame holds a TCP segment to or
// from port with all of flags set.
func segmentOf(frame []byte, port uint16, flags byte) bool {
	f, ok := tcpFlagsOf(frame, port)
	return ok && f&flags == flags
}

// tcpFlagsOf returns the TCP flags of an Ethernet frame holding a TCP
// segment (IPv4 with a 20-byte header or more, IPv6 without extension
// headers) to or from port.
func tcpFlagsOf(frame []byte, port uint16) (byte, bool) {
	var tcp []byte
	switch {
	case len(frame) >= 34 && frame[12] == 0x08 && frame[13] == 0x00 && frame[23] == 6:
		tcp = frame[14+int(frame[14]&15)*4:]
	case len(frame) >= 54 && frame[12] == 0x86 && frame[13] == 0xdd && frame[20] == 6:
		tcp = frame[54:]
	}
	if len(tcp) < 20 || binary.BigEndian.Uint16(tcp[0:2]) != port && binary.BigEndian.Uint16(tcp[2:4]) != port {
		return 0, false
	}
	return tcp[13], true
}

// restamped returns a copy of a pcap record (microseconds) stamped ts.
func restamped(rec []byte, ts time.Time) []byte {
	c := slices.Clone(rec)
	binary.LittleEndian.PutUint32(c[0:], uint32(ts.Unix()))
	binary.LittleEndian.PutUint32(c[4:], uint32(ts.Nanosecond()/1000))
	return c
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
	return clientPort(t, r)
}

// firstPort is the client port of the first attempt in capture judged
// verdict.
func firstPort(t *testing.T, capture, verdict string) uint16 {
	t.Helper()
	for _, r := range runJSON(t, capture) {
		if r.Verdict == verdict {
			return clientPort(t, r)
		}
	}
	t.Fatalf("%s: no attempt %s", capture, verdict)
	return 0
}

// clientPort is the port of r's client.
func clientPort(t *testing.T, r report.Record) uint16 {
	t.Helper()
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
	without := func(src, name string, flags ...byte) string {
		return keepFrames(t, src, name, func(frame []byte) bool {
			return !slices.ContainsFunc(flags, func(f byte) bool { return segmentOf(frame, port, f) })
		})
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
		return append(recs[:kept:kept], restamped(recs[len(recs)-1], end))
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
		{"server capture without the SYN and the RST", client, without(server, "server-no-syn.pcap", rst, syn), "refused", "unknown", "", []string{"server", "outbound-path"}, "unknown"},
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

// The client's RST to a SYN-ACK (Happy Eyeballs: the client had moved on
// to IPv4) proves that SYN-ACK reached it, whatever the client capture
// lacks. The happy-eyeballs scenario's IPv6 attempts, the client capture
// without the client's RSTs, or without the SYN-ACKs: aborted at the
// client, as the whole pair says, from the server capture's view. Before,
// "the client host ignored them", proven, and "lost on the way back",
// proven.
func TestClientRSTTheClientCaptureMissed(t *testing.T) {
	dir := filepath.Join(scenariosDir(), "happy-eyeballs")
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	var ports []uint16
	for _, r := range runJSON(t, "--client", client, "--server", server) {
		if r.Verdict == "aborted" {
			if r.Where != "client" {
				t.Fatalf("whole captures: %s: aborted at %s, want the client", r.Client, r.Where)
			}
			ports = append(ports, clientPort(t, r))
		}
	}
	if len(ports) == 0 {
		t.Fatal("no attempt aborted in the happy-eyeballs scenario")
	}
	const rst, synack = 0x04, 0x12
	for _, tc := range []struct {
		name  string
		flags byte
	}{{"without the client's RST", rst}, {"without the SYN-ACKs", synack}} {
		t.Run(tc.name, func(t *testing.T) {
			damaged := keepFrames(t, client, "client.pcap", func(frame []byte) bool {
				return !slices.ContainsFunc(ports, func(p uint16) bool { return segmentOf(frame, p, tc.flags) })
			})
			judged := 0
			for _, r := range runJSON(t, "--client", damaged, "--server", server) {
				if !slices.Contains(ports, clientPort(t, r)) {
					continue
				}
				judged++
				if r.Verdict != "aborted" || r.Where != "client" {
					t.Errorf("%s: %s at %s (%s); want aborted at the client\n%s", r.Client, r.Verdict, r.Where, r.WhereConfidence, r.Explanation)
				}
			}
			if judged != len(ports) {
				t.Errorf("%d of the %d attempts judged", judged, len(ports))
			}
		})
	}
}

// SYN-ACKs that reached the client, unanswered, prove the client host
// ignored them only when the client resent its SYN after them: a stack
// that took one sends no SYN again either, and a capture that drops
// packets may have lost its answer. The client-firewall scenario's client
// capture with only the first SYN and SYN-ACK of each attempt: the
// client, likely (was proven);
// joined with the server capture, which shows its SYN-ACKs unanswered
// too, proven again.
func TestSYNACKsUnansweredWithoutResend(t *testing.T) {
	dir := filepath.Join(scenariosDir(), "client-firewall")
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	var ports []uint16
	for _, r := range runJSON(t, client) {
		if r.Verdict == "timeout" && r.Where == "client" && r.WhereConfidence == "proven" {
			ports = append(ports, clientPort(t, r))
		}
	}
	if len(ports) == 0 {
		t.Fatal("no SYN-ACKs ignored in the client-firewall scenario")
	}
	// Each attempt's first SYN and first SYN-ACK only (the server resends
	// its SYN-ACK as each resent SYN comes: left, they would show it).
	type first struct {
		port  uint16
		flags byte
	}
	seen := map[first]bool{}
	firstSYNs := keepFrames(t, client, "client.pcap", func(frame []byte) bool {
		for _, p := range ports {
			if f, ok := tcpFlagsOf(frame, p); ok {
				k := first{p, f & 0x12}
				again := seen[k]
				seen[k] = true
				return !again
			}
		}
		return true
	})
	// An established connection before them (the established scenario's,
	// moved to end a second before): a capture of whole connections, not
	// one of SYN, FIN and RST segments only, whose silences say nothing.
	fb, err := os.ReadFile(firstSYNs)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := os.ReadFile(filepath.Join(scenariosDir(), "established", "client.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	_, est, estTimes, ok := pcapRecords(eb)
	_, _, times, ok2 := pcapRecords(fb)
	if !ok || !ok2 || len(est) == 0 || len(times) == 0 {
		t.Fatal("the established and client-firewall scenarios' client captures are not little-endian pcaps of microseconds")
	}
	est = shiftPcap(est, estTimes[len(estTimes)-1].Sub(times[0])+time.Second)
	withOthers := rewriteRecords(t, firstSYNs, "with-others.pcap", func(recs [][]byte) [][]byte { return append(est, recs...) })
	for _, tc := range []struct {
		name string
		args []string
		sure string
	}{
		{"alone", []string{withOthers}, "likely"},
		{"joined", []string{"--client", withOthers, "--server", server}, "proven"},
	} {
		judged := 0
		for _, r := range runJSON(t, tc.args...) {
			if !slices.Contains(ports, clientPort(t, r)) {
				continue
			}
			judged++
			if r.Verdict != "timeout" || r.Where != "client" || r.WhereConfidence != tc.sure {
				t.Errorf("%s: %s: %s at %s (%s); want timeout at the client (%s)\n%s", tc.name, r.Client, r.Verdict, r.Where, r.WhereConfidence, tc.sure, r.Explanation)
			}
		}
		if judged != len(ports) {
			t.Errorf("%s: %d of the %d attempts judged", tc.name, judged, len(ports))
		}
	}
}

// A server ACK with no SYN-ACK before it is an earlier connection's (the
// server holds it still) only if the client, still connecting, resets it
// or resends its SYN. The stalled scenario's first connection without
// what a capture dropping packets in a burst loses (the SYN-ACK, the
// client's ACK, request and FIN, the server's first ACK), its SYN and the
// server's last ACK kept: the client did neither in the 3 s the capture
// shows after, so it had the SYN-ACK: established, likely; with less
// capture after it, incomplete. Before, "the client host dropped the
// ACKs", proven, in words saying it kept resending its single SYN.
func TestACKAfterAHandshakeTheCaptureLost(t *testing.T) {
	client := filepath.Join(scenariosDir(), "stalled", "client.pcap")
	port := firstPort(t, client, "stalled")
	b, err := os.ReadFile(client)
	if err != nil {
		t.Fatal(err)
	}
	_, recs, times, ok := pcapRecords(b)
	if !ok {
		t.Skip("not a little-endian pcap")
	}
	// The connection's SYN and the last of its segments, the server's
	// ACK of the client's FIN.
	var keep []int
	for i, r := range recs {
		if f, ok := tcpFlagsOf(r[16:], port); ok {
			if f&0x12 == 0x02 {
				keep = append(keep[:0], i)
			} else {
				keep = append(keep[:1], i)
			}
		}
	}
	if len(keep) != 2 {
		t.Fatalf("port %d: no SYN, or nothing after it", port)
	}
	lastACK := times[keep[1]]
	for _, tc := range []struct {
		name           string
		endAfter       time.Duration // the capture's last record this long after the ACK, if not 0
		verdict, where string
	}{
		{"as the capture ends", 0, "incomplete", "unknown"},
		{"the capture ending 4 s after the ACK", 4 * time.Second, "established", "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lost := rewriteRecords(t, client, "lost.pcap", func(recs [][]byte) [][]byte {
				var out [][]byte
				for i, r := range recs {
					if _, ok := tcpFlagsOf(r[16:], port); ok && !slices.Contains(keep, i) {
						continue
					}
					out = append(out, r)
				}
				if tc.endAfter > 0 {
					out[len(out)-1] = restamped(out[len(out)-1], lastACK.Add(tc.endAfter))
				}
				return out
			})
			for _, r := range runJSON(t, lost) {
				if clientPort(t, r) != port {
					continue
				}
				if r.Verdict != tc.verdict || r.Where != tc.where || r.WhereConfidence == "proven" {
					t.Errorf("%s at %s (%s); want %s at %s, not proven\n%s", r.Verdict, r.Where, r.WhereConfidence, tc.verdict, tc.where, r.Explanation)
				}
				return
			}
			t.Fatalf("no attempt from port %d", port)
		})
	}
}

// A server that never took a connection (a full accept queue drops the
// client's ACK and request) sees the request again, resent, within the
// client's retransmission timeout. The established scenario's server
// capture with nothing kept of the connection after the client's request
// (a capture dropping packets in a burst): the client never resent it in
// the seconds the capture goes on, so the server's TCP acknowledged it:
// established, likely. Before, "the server did not take the connection,
// typically because its accept queue was full", proven.
func TestRequestTheServerCaptureLostTheAnswerTo(t *testing.T) {
	server := filepath.Join(scenariosDir(), "established", "server.pcap")
	port := firstPort(t, server, "established")
	requested := false
	cut := keepFrames(t, server, "cut.pcap", func(frame []byte) bool {
		f, ok := tcpFlagsOf(frame, port)
		if !ok {
			return true
		}
		keep := !requested
		// The first segment with the PSH flag is the request.
		requested = requested || f&0x08 != 0
		return keep
	})
	for _, r := range runJSON(t, cut) {
		if clientPort(t, r) != port {
			continue
		}
		if r.Verdict != "established" || r.WhereConfidence != "likely" {
			t.Errorf("%s at %s (%s); want established, likely\n%s", r.Verdict, r.Where, r.WhereConfidence, r.Explanation)
		}
		return
	}
	t.Fatalf("no attempt from port %d", port)
}

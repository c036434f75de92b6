package cmd

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A one-way tap: the mixed scenario's client capture with every
// server-to-client packet removed, as asymmetric routing or a SPAN port
// copying one direction shows it. The client's own ACKs prove the answers
// the capture lacks: the connections that worked stay established (likely),
// none is called a timeout, and the footer names the blind spot.
func TestOneWayTapTrustsTheClient(t *testing.T) {
	client, _ := mixedCapture(t)
	oneWay := keepFrames(t, client, "c2s.pcap", fromClient)
	_, stdout, stderr := runMain("analyze", "--format", "json", oneWay)
	established := 0
	for _, r := range jsonLines(t, stdout) {
		if strings.HasSuffix(r["server"].(string), ":80") {
			if r["verdict"] != "established" || r["where_confidence"] != "likely" {
				t.Errorf("%s → %s: %s (%s): %s", r["client"], r["server"], r["verdict"], r["where_confidence"], r["explanation"])
			}
			established++
		}
	}
	if established != 30 || !strings.Contains(stderr, "no server-to-client packets for") {
		t.Errorf("%d established attempts to port 80 (want 30); stderr: %s", established, stderr)
	}
}

// fromClient says whether an Ethernet frame holds an IPv4 packet (20-byte
// header) from the mixed scenario's client, 198.51.100.10.
func fromClient(frame []byte) bool {
	return len(frame) >= 48 && frame[12] == 8 && frame[13] == 0 && string(frame[26:30]) == string([]byte{198, 51, 100, 10})
}

// keepFrames writes the records of the pcap src whose frames keep accepts
// to a file named name in a temporary directory.
func keepFrames(t *testing.T, src, name string, keep func(frame []byte) bool) string {
	t.Helper()
	return rewriteFrames(t, src, name, keep)
}

// rewriteFrames writes the records of the pcap src, in order, to a file
// named name in a temporary directory: each frame as edit leaves it (a
// copy, edited in place), or none where edit returns false.
func rewriteFrames(t *testing.T, src, name string, edit func(frame []byte) bool) string {
	t.Helper()
	return rewriteRecords(t, src, name, func(recs [][]byte) [][]byte {
		var out [][]byte
		for _, r := range recs {
			r = append([]byte{}, r...)
			if edit(r[16:]) {
				out = append(out, r)
			}
		}
		return out
	})
}

// rewriteRecords writes the pcap src's header, as each header function
// edits it, and the records rewrite makes of its records (each with its
// 16-byte record header) to a file named name in a temporary directory.
func rewriteRecords(t *testing.T, src, name string, rewrite func(recs [][]byte) [][]byte, header ...func(hdr []byte)) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	hdr, recs, _, ok := pcapRecords(b)
	if !ok {
		t.Skip("not a little-endian pcap")
	}
	out := append([]byte{}, hdr...)
	for _, h := range header {
		h(out)
	}
	for _, r := range rewrite(recs) {
		out = append(out, r...)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func oneWayServerCaptures(t *testing.T) (inbound, synOnly string) {
	t.Helper()
	_, server := mixedCapture(t)
	inbound = keepFrames(t, server, "inbound.pcap", fromClient)
	synOnly = keepFrames(t, server, "syn-only.pcap", func(frame []byte) bool {
		return fromClient(frame) && frame[23] == 6 && frame[14+20+13] == 0x02
	})
	return inbound, synOnly
}

// A server capture holding none of the server's packets cannot show its
// silence: no SYN it holds unanswered is a timeout proven at the server,
// and a connection the client's own ACK shows answered is established.
// The mixed scenario's ports: 80 works, 81 is refused, 83's SYN-ACKs are
// dropped on the way back, 86's SYNs in the server's INPUT chain, 87's
// server stalls and 88's resets.
func TestOneWayServerCaptureProvesNoSilence(t *testing.T) {
	inbound, synOnly := oneWayServerCaptures(t)
	for _, tc := range []struct {
		file        string
		established []string // ports whose connections the capture shows established
	}{
		{inbound, []string{"80", "87", "88"}},
		{synOnly, nil},
	} {
		_, stdout, _ := runMain("analyze", "--format", "json", tc.file)
		n := eachAttempt(t, stdout, tc.file, func(r map[string]any, port, desc string) {
			if r["where_confidence"] == "proven" {
				t.Errorf("proven from a capture blind to the server: %s", desc)
			}
			if slices.Contains(tc.established, port) != (r["verdict"] == "established") {
				t.Errorf("want established only for ports %v: %s", tc.established, desc)
			}
			if r["synack_sent"] != nil {
				t.Errorf("synack_sent %v, want null (not known): %s", r["synack_sent"], desc)
			}
		})
		if n != 180 {
			t.Errorf("%s: %d attempts, want 180 (ports 80, 81, 83, 86, 87, 88)", filepath.Base(tc.file), n)
		}
	}
}

// Joined with the client's capture, a server capture blind to the server's
// packets proves what reached the server (port 82's SYNs never did), but
// not what the server never sent: RSTs the client got are not the path's,
// and unanswered SYNs are only likely dropped at the server.
func TestOneWayServerCaptureBlamesNoPath(t *testing.T) {
	client, _ := mixedCapture(t)
	inbound, synOnly := oneWayServerCaptures(t)
	// What the path really did: 82 drops SYNs, 84 and 85 reject them.
	path := map[string]bool{"82": true, "84": true, "85": true}
	for _, server := range []string{inbound, synOnly} {
		_, stdout, _ := runMain("analyze", "--format", "json", "--client", client, "--server", server)
		n := eachAttempt(t, stdout, server, func(r map[string]any, port, desc string) {
			if (r["where"] == "outbound-path" || r["rst_origin"] == "path") != path[port] {
				t.Errorf("the path blamed where it did nothing, or spared where it did: %s", desc)
			}
			if (port == "83" || port == "86") && (r["verdict"] != "timeout" || r["where_confidence"] == "proven" || !slices.Contains(anyStrings(r["candidates"]), "return-path")) {
				t.Errorf("want a timeout not proven, the return path among the candidates: %s", desc)
			}
		})
		if n != 270 {
			t.Errorf("%s: %d attempts, want 270", filepath.Base(server), n)
		}
	}
}

// eachAttempt calls f with each attempt line of JSON output, its server's
// port and words describing it for a failure; it returns how many there were.
func eachAttempt(t *testing.T, stdout, file string, f func(r map[string]any, port, desc string)) int {
	t.Helper()
	n := 0
	for _, r := range jsonLines(t, stdout) {
		if r["type"] != "attempt" {
			continue
		}
		n++
		server := r["server"].(string)
		f(r, server[strings.LastIndex(server, ":")+1:], fmt.Sprintf("%s: %s → %s: %s/%s (%s), rst_origin %q: %s",
			filepath.Base(file), r["client"], server, r["verdict"], r["where"], r["where_confidence"], r["rst_origin"], r["explanation"]))
	}
	return n
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// A client capture holding only what the client sent (a one-way tap,
// tcpdump -Q out), joined with the server's full capture: the server's
// answers missing from it were not lost on the way back. Only port 83's
// SYN-ACKs were (the client resent its SYN after they left), and the
// server's refusals and resets are the server's.
func TestOneWayClientCaptureJoined(t *testing.T) {
	client, server := mixedCapture(t)
	outbound := keepFrames(t, client, "outbound.pcap", fromClient)
	want := map[string]string{"80": "established/none", "81": "refused/server", "82": "timeout/outbound-path", "83": "timeout/return-path",
		"86": "timeout/server", "87": "stalled/server", "88": "reset/server"}
	_, stdout, _ := runMain("analyze", "--format", "json", "--client", outbound, "--server", server)
	n := eachAttempt(t, stdout, outbound, func(r map[string]any, port, desc string) {
		// Ports 84 and 85: the router's RST and ICMP errors are not in the
		// client's capture, and the SYNs never reached the server: only
		// the place is known.
		if w, ok := want[port]; ok && r["verdict"].(string)+"/"+r["where"].(string) != w {
			t.Errorf("want %s: %s", w, desc)
		}
		if r["where"] == "return-path" && port != "83" {
			t.Errorf("the return path blamed for answers the client capture could not show: %s", desc)
		}
	})
	if n != 270 {
		t.Errorf("%d attempts, want 270", n)
	}
}

// A server capture that misses some of the server's answers, its packets
// on half the connections to port 80 routed out another interface (as
// ECMP or a policy route would send them), or only their SYN-ACKs (capture
// drops), shows the server silent where it may have answered: the
// clients' ACKs of SYN-ACKs it lacks say so. No silence of the server is
// then proven from it, alone or joined, and no RST the client got is
// called forged but the router's (port 84): port 86's SYNs, dropped in the
// server's INPUT chain, are a timeout at the server, likely, the return
// path still a candidate. The connections to port 80 stay established.
func TestServerCaptureMissingSomeAnswers(t *testing.T) {
	client, server := mixedCapture(t)
	for _, synACKsOnly := range []bool{false, true} {
		stripped := 0
		partial := keepFrames(t, server, "partial.pcap", func(frame []byte) bool {
			if len(frame) < 48 || frame[12] != 8 || frame[13] != 0 || frame[23] != 6 {
				return true
			}
			tcp := frame[14+20:]
			// Linux gives connect() odd ports: bit 1 splits them.
			if string(tcp[0:2]) == "\x00\x50" && tcp[3]&2 != 0 && (!synACKsOnly || tcp[13] == 0x12) {
				stripped++
				return false
			}
			return true
		})
		if stripped == 0 {
			t.Fatal("no packet from port 80 to half the client ports in the mixed scenario's server capture")
		}
		check := func(args []string, want int) {
			t.Helper()
			_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, args...)...)
			port86 := 0
			n := eachAttempt(t, stdout, partial, func(r map[string]any, port, desc string) {
				if r["where"] == "server" && r["verdict"] == "timeout" && r["where_confidence"] == "proven" {
					t.Errorf("a silence proven from a capture missing some of the server's answers: %s", desc)
				}
				if r["rst_origin"] == "path" && port != "84" && port != "85" {
					t.Errorf("a RST called forged where the path sent none: %s", desc)
				}
				switch port {
				case "80":
					if r["verdict"] != "established" {
						t.Errorf("want established: %s", desc)
					}
				case "86":
					port86++
					if r["verdict"] != "timeout" || r["where"] != "server" || r["where_confidence"] != "likely" ||
						!slices.Contains(anyStrings(r["candidates"]), "return-path") || !strings.Contains(r["explanation"].(string), "misses some of the server's packets") {
						t.Errorf("want a timeout at the server, likely, the return path a candidate, saying why: %s", desc)
					}
				}
			})
			if n != want || port86 == 0 {
				t.Errorf("%v: %d attempts (want %d), %d to port 86", args, n, want, port86)
			}
		}
		check([]string{partial}, 180)
		check([]string{"--client", client, "--server", partial}, 270)
	}
}

// A server capture that holds no packet at all (a filter that matched
// nothing, the wrong interface) covers no time: it confirms nothing, and
// above all proves no loss. Every attempt is judged as the client's
// capture alone judges it, and the footer says why.
func TestEmptyServerCaptureProvesNothing(t *testing.T) {
	client, server := mixedCapture(t)
	empty := keepFrames(t, server, "empty.pcap", func([]byte) bool { return false })
	alone := map[string]string{}
	_, stdout, _ := runMain("analyze", "--format", "json", client)
	eachAttempt(t, stdout, client, func(r map[string]any, port, desc string) {
		alone[r["client"].(string)] = fmt.Sprint(r["verdict"], r["where"], r["where_confidence"], r["rst_origin"])
	})
	_, stdout, stderr := runMain("analyze", "--format", "json", "--client", client, "--server", empty)
	n := eachAttempt(t, stdout, empty, func(r map[string]any, port, desc string) {
		if got := fmt.Sprint(r["verdict"], r["where"], r["where_confidence"], r["rst_origin"]); got != alone[r["client"].(string)] {
			t.Errorf("judged otherwise than from the client capture alone (%s): %s", alone[r["client"].(string)], desc)
		}
	})
	if n != 270 || !strings.Contains(stderr, "the server side's captures hold no packet") {
		t.Errorf("%d attempts (want 270); stderr: %s", n, stderr)
	}
}

// A server capture with no attempt at all is trusted to show that nothing
// reached the server only if it shows the server: taken on the wrong
// interface or host, it holds traffic of others, and no loss is proven
// from it. Two captures of the mixed scenario's server side with its TCP
// left out: its UDP packets as they are, to and from the server, and the
// same between two other hosts.
func TestServerCaptureOfOtherHostsProvesNothing(t *testing.T) {
	client, server := mixedCapture(t)
	udp := func(frame []byte) bool {
		return len(frame) >= 34 && frame[12] == 8 && frame[13] == 0 && frame[23] == 17
	}
	ofServer := keepFrames(t, server, "udp-of-server.pcap", udp)
	ofOthers := keepFrames(t, server, "udp-of-others.pcap", func(frame []byte) bool {
		if !udp(frame) {
			return false
		}
		// Rewritten in place: keepFrames writes the bytes it was given.
		copy(frame[26:34], []byte{192, 0, 2, 7, 192, 0, 2, 8})
		return true
	})
	alone := map[string]string{}
	_, stdout, _ := runMain("analyze", "--format", "json", client)
	eachAttempt(t, stdout, client, func(r map[string]any, port, desc string) {
		alone[r["client"].(string)] = fmt.Sprint(r["verdict"], r["where"], r["where_confidence"], r["rst_origin"])
	})
	_, stdout, _ = runMain("analyze", "--format", "json", "--client", client, "--server", ofOthers)
	n := eachAttempt(t, stdout, ofOthers, func(r map[string]any, port, desc string) {
		if got := fmt.Sprint(r["verdict"], r["where"], r["where_confidence"], r["rst_origin"]); got != alone[r["client"].(string)] {
			t.Errorf("judged otherwise than from the client capture alone (%s): %s", alone[r["client"].(string)], desc)
		}
	})
	if n != 270 {
		t.Errorf("%d attempts, want 270", n)
	}
	// Showing the server, the same capture proves that port 82's SYNs never
	// reached it.
	_, stdout, _ = runMain("analyze", "--format", "json", "--client", client, "--server", ofServer)
	eachAttempt(t, stdout, ofServer, func(r map[string]any, port, desc string) {
		if port == "82" && r["where"] != "outbound-path" {
			t.Errorf("want the outbound path: %s", desc)
		}
	})
}

// A server capture taken with a filter on TCP ports, one ("port 80") or a
// few ("port 80 or port 81"), holds attempts to the server on those only,
// and nothing else: joined with the client's, the absence of the other
// ports' SYNs proves no loss on the way out. Only the router's ICMP errors
// (port 85) still prove the path; the server's own refusals (port 81) stay
// the server's, as their TTLs say. A capture with the server's UDP kept (a
// capture of everything holds the host's DNS, ICMP, NTP …) vouches for
// every port again, as long as it holds every connection the client saw
// answered: with ports 80, 81, 87 and 88, port 82's SYNs never reached
// the server; with 80 and 81 only, the answered connections on 87 and 88
// it lacks show it does not see all (another host answers for the
// address, or a filter), and port 82's absence proves nothing.
func TestPortFilteredServerCaptureProvesNoLoss(t *testing.T) {
	client, server := mixedCapture(t)
	// ports keeps TCP to or from the ports given, and UDP if keepUDP.
	ports := func(keepUDP bool, ports ...string) func(frame []byte) bool {
		return func(frame []byte) bool {
			if len(frame) < 38 || frame[12] != 8 || frame[13] != 0 {
				return false
			}
			if frame[23] == 17 {
				return keepUDP
			}
			l4 := frame[14+20:]
			return frame[23] == 6 && (slices.Contains(ports, string(l4[0:2])) || slices.Contains(ports, string(l4[2:4])))
		}
	}
	for _, filtered := range []string{
		keepFrames(t, server, "port80.pcap", ports(false, "\x00\x50")),
		keepFrames(t, server, "port80-81.pcap", ports(false, "\x00\x50", "\x00\x51")),
	} {
		_, stdout, _ := runMain("analyze", "--format", "json", "--client", client, "--server", filtered)
		n := eachAttempt(t, stdout, filtered, func(r map[string]any, port, desc string) {
			if r["where"] == "outbound-path" && r["where_confidence"] == "proven" && port != "85" {
				t.Errorf("a loss on the way out proven by a capture that filtered the port out: %s", desc)
			}
			if port == "81" && r["rst_origin"] != "server" {
				t.Errorf("the server's refusal not the server's: %s", desc)
			}
			if port == "82" && r["where"] == "outbound-path" && r["synack_sent"] != nil {
				t.Errorf("synack_sent %v from a capture that may have filtered the port out: %s", r["synack_sent"], desc)
			}
		})
		if n != 270 {
			t.Errorf("%s: %d attempts, want 270", filepath.Base(filtered), n)
		}
	}
	withUDP := keepFrames(t, server, "port80-81-87-88-udp.pcap", ports(true, "\x00\x50", "\x00\x51", "\x00\x57", "\x00\x58"))
	_, stdout, _ := runMain("analyze", "--format", "json", "--client", client, "--server", withUDP)
	eachAttempt(t, stdout, withUDP, func(r map[string]any, port, desc string) {
		if port == "82" && (r["where"] != "outbound-path" || r["where_confidence"] != "proven") {
			t.Errorf("want the outbound path, proven: %s", desc)
		}
	})
	lacking := keepFrames(t, server, "port80-81-udp.pcap", ports(true, "\x00\x50", "\x00\x51"))
	_, stdout, _ = runMain("analyze", "--format", "json", "--client", client, "--server", lacking)
	eachAttempt(t, stdout, lacking, func(r map[string]any, port, desc string) {
		if port == "82" && (r["where"] == "outbound-path" || r["verdict"] != "timeout") {
			t.Errorf("want a timeout, the path not blamed: %s", desc)
		}
	})
}

// The half-open scenario's server capture (the router drops the client's
// final ACK: the server resends its SYN-ACK at 1 and 3 s), as it is,
// begun 40 s earlier (its first record copied back in time), and stopped
// just after the first resent SYN-ACK, 1 s in. Begun 40 s before, the
// client's silence over 6 s shows it got the SYN-ACK: its ACK was lost on
// the way out. As it is, begun 7 ms before the SYN, it shows nothing of the
// kind: the SYN may have been the client's last (its earlier ones before
// the capture), after which it resends none whatever came back. Stopped at
// 1 s, nor: a Windows client resends its SYN only after 3 s, so one whose
// SYN-ACKs were all lost on the way back looks the same. No path may be
// blamed from either.
func TestServerCaptureStoppedBeforeTheClientWouldResend(t *testing.T) {
	src := filepath.Join("..", "testdata", "scenarios", "half-open", "server.pcap")
	if _, err := os.Stat(src); err != nil {
		t.Skip(err)
	}
	frames := 0
	stopped := rewriteFrames(t, src, "stopped.pcap", func([]byte) bool { frames++; return frames <= 5 })
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	hdr, recs, _, ok := pcapRecords(b)
	if !ok || len(recs) == 0 {
		t.Fatal("not a microsecond pcap")
	}
	early := append([]byte{}, recs[0]...)
	binary.LittleEndian.PutUint32(early, binary.LittleEndian.Uint32(early)-40)
	begunEarly := filepath.Join(t.TempDir(), "begun-early.pcap")
	if err := os.WriteFile(begunEarly, slices.Concat(hdr, early, slices.Concat(recs...)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file, want string
	}{{begunEarly, "half-open/outbound-path"}, {src, ""}, {stopped, ""}} {
		_, stdout, stderr := runMain("analyze", "--format", "json", c.file)
		recs := jsonLines(t, stdout)
		if len(recs) != 1 {
			t.Fatalf("%s: %d attempts, want 1: %s %s", c.file, len(recs), stdout, stderr)
		}
		r := recs[0]
		got := fmt.Sprintf("%v/%v", r["verdict"], r["where"])
		switch {
		case c.want != "" && got != c.want:
			t.Errorf("%s: %s, want %s: %v", filepath.Base(c.file), got, c.want, r["explanation"])
		case c.want == "" && r["where"] != "unknown":
			t.Errorf("%s: %s (%v), want no place: %v", filepath.Base(c.file), got, r["where_confidence"], r["explanation"])
		}
	}
}

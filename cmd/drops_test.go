package cmd

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pcapToPcapng rewrites a little-endian microsecond pcap as pcapng (one
// interface), and appends an interface statistics block saying drops
// packets were dropped.
func pcapToPcapng(t *testing.T, pcap []byte, drops uint64) []byte {
	t.Helper()
	hdr, recs, _, ok := pcapRecords(pcap)
	if !ok {
		t.Skip("not a little-endian pcap")
	}
	le := binary.LittleEndian
	block := func(out []byte, typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		out = le.AppendUint32(out, typ)
		out = le.AppendUint32(out, n)
		out = append(out, body...)
		return le.AppendUint32(out, n)
	}
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	out := block(nil, 0x0a0d0d0a, shb)
	idb := le.AppendUint16(nil, uint16(le.Uint32(hdr[20:])))
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, le.Uint32(hdr[16:]))
	out = block(out, 1, idb) // microsecond timestamps: the default
	for _, r := range recs {
		us := uint64(le.Uint32(r[0:]))*1e6 + uint64(le.Uint32(r[4:]))
		epb := le.AppendUint32(nil, 0)
		epb = le.AppendUint32(epb, uint32(us>>32))
		epb = le.AppendUint32(epb, uint32(us))
		epb = append(epb, r[8:16]...) // captured and original lengths
		epb = append(epb, r[16:]...)
		out = block(out, 6, epb)
	}
	isb := le.AppendUint32(nil, 0)
	isb = le.AppendUint64(isb, 0)
	isb = le.AppendUint16(isb, 5) // isb_ifdrop
	isb = le.AppendUint16(isb, 8)
	isb = le.AppendUint64(isb, drops)
	isb = le.AppendUint32(isb, 0)
	return block(out, 5, isb)
}

// A capture whose own statistics say it dropped packets proves no loss by
// a packet missing from it: the places concluded from an absence drop to
// likely, those concluded from what was seen stay proven, and the footer
// says why.
func TestDroppingCaptureProvesNoLoss(t *testing.T) {
	client, server := mixedCapture(t)
	b, err := os.ReadFile(server)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	wholeFile, lossyFile := filepath.Join(tmp, "whole.pcapng"), filepath.Join(tmp, "lossy.pcapng")
	os.WriteFile(wholeFile, pcapToPcapng(t, b, 0), 0o644)
	os.WriteFile(lossyFile, pcapToPcapng(t, b, 5), 0o644)
	places := func(server string) (map[string]string, string) {
		code, out, stderr := runMain("analyze", "--format", "json", "--client", client, "--server", server)
		if code == ExitUsage {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		byPort := map[string]string{}
		for _, r := range jsonLines(t, out) {
			s := r["server"].(string)
			byPort[s[strings.LastIndex(s, ":")+1:]] = r["where"].(string) + " " + r["where_confidence"].(string)
		}
		return byPort, stderr
	}
	whole, _ := places(wholeFile)
	lossy, stderr := places(lossyFile)
	if !strings.Contains(stderr, "dropped 5 packets") {
		t.Errorf("no warning of the drops: %s", stderr)
	}
	// The mixed scenario's ports: 82 SYNs lost on the way out, 84 a RST
	// the server never sent, 86 SYNs the server never answered, 87 a
	// request never answered: absences. 81 and 88 the server's RSTs, 83 a
	// SYN resent after the SYN-ACK left, 85 a router's ICMP: seen.
	for port, want := range map[string]string{
		"82": "outbound-path likely", "84": "outbound-path likely", "86": "server likely", "87": "server likely",
		"81": "server proven", "83": "return-path proven", "85": "outbound-path proven", "88": "server proven",
	} {
		if lossy[port] != want {
			t.Errorf("port %s: %q from a capture that dropped packets (%q from the whole one), want %q", port, lossy[port], whole[port], want)
		}
		if strings.HasSuffix(want, "likely") && !strings.HasSuffix(whole[port], "proven") {
			t.Errorf("port %s: %q from the whole capture, want proven", port, whole[port])
		}
	}
}

// dataFrom reports whether an Ethernet frame holds IPv4 TCP payload sent
// from port.
func dataFrom(frame []byte, port uint16) bool {
	if !tcpPort(frame, port) {
		return false
	}
	ihl := int(frame[14]&15) * 4
	tcp := frame[14+ihl:]
	return binary.BigEndian.Uint16(tcp[0:2]) == port && int(binary.BigEndian.Uint16(frame[16:18]))-ihl-int(tcp[12]>>4)*4 > 0
}

// A capture that dropped packets without saying so (pcap has no drop
// counter; tcpdump prints its "packets dropped by kernel" on the
// terminal) shows it by what the endpoints acknowledged: the mixed
// scenario's server capture with the server's first three replies on port
// 80 left out, though the clients acknowledged them. Joined, it proves no
// loss by an absence, as a capture whose statistics admit drops. Made to
// fool the rule, with no gap: the capture of one direction only (tcpdump
// -Q in), which lacks the replies by design, and the whole capture with
// every reply put after the client's ACK of it (a NIC's queues merged by
// time).
func TestSilentlyDroppingCaptureProvesNoLoss(t *testing.T) {
	client, server := mixedCapture(t)
	dropped := 0
	lossy := keepFrames(t, server, "lossy.pcap", func(frame []byte) bool {
		if dropped < 3 && dataFrom(frame, 80) {
			dropped++
			return false
		}
		return true
	})
	inbound := keepFrames(t, server, "inbound.pcap", func(frame []byte) bool {
		return len(frame) < 34 || frame[30] == 203 // to 203.0.113.5, the server
	})
	late := reorderedReplies(t, server)
	type run struct {
		gaps  float64
		where map[string]string
		warn  bool
	}
	judge := func(server string) run {
		_, stdout, stderr := runMain("analyze", "--format", "json", "--with-summary", "--client", client, "--server", server)
		r := run{where: map[string]string{}, warn: strings.Contains(stderr, "acknowledged data this capture never showed")}
		for _, l := range jsonLines(t, stdout) {
			switch l["type"] {
			case "summary":
				for _, f := range l["files"].([]any) {
					if f := f.(map[string]any); f["file"] == server {
						r.gaps = f["capture_gaps"].(float64)
					}
				}
			case "attempt":
				s := l["server"].(string)
				r.where[s[strings.LastIndex(s, ":")+1:]] = l["where"].(string) + " " + l["where_confidence"].(string)
			}
		}
		return r
	}
	if r := judge(lossy); r.gaps != 3 || !r.warn || r.where["82"] != "outbound-path likely" || r.where["86"] != "server likely" || r.where["83"] != "return-path proven" {
		t.Errorf("a capture missing 3 replies the clients acknowledged: %d gaps, warned %v, ports 82 %q, 86 %q, 83 %q; want 3, a warning, the absences likely, what was seen proven",
			int(r.gaps), r.warn, r.where["82"], r.where["86"], r.where["83"])
	}
	for _, f := range []string{inbound, late} {
		if r := judge(f); r.gaps != 0 || r.warn || r.where["82"] != "outbound-path proven" {
			t.Errorf("%s: %d gaps, warned %v, port 82 %q; want none, no warning, the loss on the way out proven", filepath.Base(f), int(r.gaps), r.warn, r.where["82"])
		}
	}
}

// reorderedReplies writes the pcap src with every data segment from port
// 80 moved after the next packet of its connection the other way (the
// client's ACK of it), timestamps kept.
func reorderedReplies(t *testing.T, src string) string {
	t.Helper()
	moved := 0
	path := rewriteRecords(t, src, "late.pcap", func(recs [][]byte) [][]byte {
		var out [][]byte
		held := map[uint16][][]byte{} // replies held back, by the client's port
		for _, r := range recs {
			f := r[16:]
			if dataFrom(f, 80) {
				ihl := int(f[14]&15) * 4
				p := binary.BigEndian.Uint16(f[14+ihl+2:])
				held[p] = append(held[p], r)
				continue
			}
			out = append(out, r)
			if tcpPort(f, 80) {
				ihl := int(f[14]&15) * 4
				if p := binary.BigEndian.Uint16(f[14+ihl:]); held[p] != nil {
					out = append(out, held[p]...)
					delete(held, p)
					moved++
				}
			}
		}
		for _, rs := range held {
			out = append(out, rs...)
		}
		return out
	})
	if moved == 0 {
		t.Fatal("no reply moved")
	}
	return path
}

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

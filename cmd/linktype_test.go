package cmd

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ngCapture writes a little-endian pcapng file with one interface per
// link type, and each record on the interface given.
func ngCapture(t *testing.T, links []uint16, recs []struct {
	iface int
	data  []byte
}) string {
	le := binary.LittleEndian
	var b []byte
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		b = le.AppendUint32(b, typ)
		b = le.AppendUint32(b, uint32(len(body)+12))
		b = append(b, body...)
		b = le.AppendUint32(b, uint32(len(body)+12))
	}
	block(0x0a0d0d0a, le.AppendUint64([]byte{0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0}, ^uint64(0)))
	for _, l := range links {
		block(1, le.AppendUint32(le.AppendUint16(nil, l), 0)[:8])
	}
	for i, r := range recs {
		body := le.AppendUint32(nil, uint32(r.iface))
		body = le.AppendUint32(body, 0)
		body = le.AppendUint32(body, uint32(1_700_000_000_000_000+i*1000))
		body = le.AppendUint32(body, uint32(len(r.data)))
		body = le.AppendUint32(body, uint32(len(r.data)))
		block(6, append(body, r.data...))
	}
	name := filepath.Join(t.TempDir(), "mixed.pcapng")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// rawSYN is an IPv4 TCP SYN without options (checksums are not checked).
func rawSYN() []byte {
	ip := []byte{0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 198, 51, 100, 10, 203, 0, 113, 5}
	tcp := []byte{0x9e, 0x40, 0, 80, 0, 0, 0x10, 0, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0}
	return append(ip, tcp...)
}

func TestUnreadLinkTypes(t *testing.T) {
	type rec = struct {
		iface int
		data  []byte
	}
	mixed := ngCapture(t, []uint16{101, 147}, []rec{{0, rawSYN()}, {1, rawSYN()}, {1, rawSYN()}, {1, rawSYN()}})
	want := "link type 147 (user 0): not read, 3 packets skipped"

	code, out, stderr := runMain("analyze", "--ascii", mixed)
	if flat := strings.Join(strings.Fields(out), " "); code != ExitOK && code != ExitFailed || !strings.Contains(flat, want) || !strings.Contains(flat, "1 attempts") {
		t.Errorf("table: exit %d, footer without %q:\n%s%s", code, want, out, stderr)
	}
	code, out, stderr = runMain("analyze", "--format", "json", mixed)
	if code != ExitOK && code != ExitFailed || strings.Contains(out, want) || !strings.Contains(stderr, "synpath: warning: "+mixed+": "+want) {
		t.Errorf("json: exit %d, stderr without the warning %q:\n%s", code, want, stderr)
	}

	// Nothing read at all: an input error naming the file, in one line.
	unread := ngCapture(t, []uint16{147, 195}, []rec{{0, rawSYN()}, {1, rawSYN()}})
	code, out, stderr = runMain("analyze", unread)
	if code != ExitUsage || out != "" || strings.Count(stderr, "\n") != 1 ||
		!strings.HasPrefix(stderr, "synpath: "+unread+": nothing read: link type 147 (user 0), link type 195 (802.15.4)") {
		t.Errorf("exit %d, stderr %q, stdout %q", code, stderr, out)
	}
}

// asPKTAP writes the pcap src as macOS tcpdump -i pktap writes it: link
// type link, each frame behind a 108-byte PKTAP header (little-endian:
// its length, record type 1, the frame's DLT, the interface name).
func asPKTAP(t *testing.T, src string, link uint32) string {
	t.Helper()
	le := binary.LittleEndian
	return rewriteRecords(t, src, "pktap.pcap", func(recs [][]byte) [][]byte {
		out := make([][]byte, len(recs))
		for i, r := range recs {
			h := make([]byte, 108)
			le.PutUint32(h[0:], 108)
			le.PutUint32(h[4:], 1)
			le.PutUint32(h[8:], 1) // DLT_EN10MB
			copy(h[12:], "en0")
			rec := append([]byte{}, r[:16]...)
			le.PutUint32(rec[8:], le.Uint32(r[8:])+108)
			le.PutUint32(rec[12:], le.Uint32(r[12:])+108)
			out[i] = append(append(rec, h...), r[16:]...)
		}
		return out
	}, func(hdr []byte) { le.PutUint32(hdr[20:], link) })
}

// A client capture taken on a Mac with tcpdump -i pktap (or -i any) is
// judged as the same capture taken on its Ethernet interface: the mixed
// scenario's client capture behind PKTAP headers, with link type 258 and
// with the private type older macOS wrote (user 2).
func TestPKTAPCaptureReadsAsItsFrames(t *testing.T) {
	client, _ := mixedCapture(t)
	verdicts := func(file string) []string {
		code, stdout, stderr := runMain("analyze", "--format", "json", file)
		if code == ExitUsage {
			t.Fatalf("%s: exit %d: %s", file, code, stderr)
		}
		var out []string
		for _, r := range jsonLines(t, stdout) {
			if r["type"] == "attempt" {
				out = append(out, strings.Join([]string{r["client"].(string), r["verdict"].(string), r["where"].(string), r["where_confidence"].(string), r["explanation"].(string)}, " "))
			}
		}
		return out
	}
	want := verdicts(client)
	for _, link := range []uint32{258, 149} {
		got := verdicts(asPKTAP(t, client, link))
		if len(got) != len(want) || len(want) != 270 {
			t.Fatalf("link type %d: %d attempts, the Ethernet capture %d (want 270)", link, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("link type %d, attempt %d:\n got %s\nwant %s", link, i, got[i], want[i])
				break
			}
		}
	}
}

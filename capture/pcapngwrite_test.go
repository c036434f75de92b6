package capture

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPcapngWriter writes frames of two interfaces (Ethernet, and Linux
// cooked v2 as -i any gives), one cut by the snaplen, with nanosecond
// times, and reads them back with our reader and, when installed, tshark.
func TestPcapngWriter(t *testing.T) {
	var frames []Frame
	for i, s := range append(handshake(cli4, srv4), handshake(cli6, srv6)...) {
		link, iface, name := uint32(linkEthernet), 2, "eth0"
		if i%2 == 1 {
			link, iface, name = linkLinuxSLL2, 0, ""
		}
		data := frame(link, s.ip())
		f := Frame{N: uint64(i + 1), TS: t0.Add(time.Duration(i)*time.Second + time.Duration(i)), Link: link, Data: data, Len: len(data), Iface: iface, IfName: name, Snap: 256}
		if len(data) > 256 {
			f.Data = data[:256]
		}
		frames = append(frames, f)
	}
	for _, ids := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := NewPcapngWriter(&buf, ids)
		if err != nil {
			t.Fatal(err)
		}
		for i := range frames {
			if err := w.WriteFrame(&frames[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		r, err := NewReader("w.pcapng", bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var got []Frame
		r.OnFrame(func(f *Frame) {
			c := *f
			c.Data = bytes.Clone(f.Data)
			got = append(got, c)
		})
		var p Packet
		n := 0
		for r.Next(&p) == nil {
			n++
		}
		if n != len(frames) || len(got) != len(frames) {
			t.Fatalf("read %d packets, %d frames back, want %d", n, len(got), len(frames))
		}
		for i, f := range got {
			w := frames[i]
			if f.N != w.N || !f.TS.Equal(w.TS) || f.Link != w.Link || !bytes.Equal(f.Data, w.Data) || f.Len != w.Len {
				t.Errorf("frame %d: got %d %v link %d len %d/%d, want %d %v link %d len %d/%d", i, f.N, f.TS, f.Link, len(f.Data), f.Len, w.N, w.TS, w.Link, len(w.Data), w.Len)
			}
		}
		if ids {
			tshark(t, buf.Bytes(), frames)
		}
	}
}

// tshark checks that tshark reads the file: every frame, its time to the
// nanosecond, its interface and its packet id.
func tshark(t *testing.T, file []byte, frames []Frame) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("no tshark: not checked against it")
		return
	}
	path := filepath.Join(t.TempDir(), "w.pcapng")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.interface_name", "-e", "frame.packet_id", "-e", "frame.cap_len", "-e", "tcp.flags").Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(frames) {
		t.Fatalf("tshark read %d frames, want %d:\n%s", len(lines), len(frames), out)
	}
	for i, l := range lines {
		f := strings.Split(l, "\t")
		w := frames[i]
		if w.IfName == "" {
			w.IfName = "unknown" // what tshark calls an interface without a name
		}
		wantTS := fmt.Sprintf("%d.%09d", w.TS.Unix(), w.TS.Nanosecond())
		if len(f) < 5 || f[0] != wantTS || f[1] != w.IfName || f[2] != itoa(w.N) || f[3] != itoa(uint64(len(w.Data))) || f[4] == "" {
			t.Errorf("tshark frame %d: %q, want time %s, interface %q, id %d, %d bytes, TCP", i+1, l, wantTS, w.IfName, w.N, len(w.Data))
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

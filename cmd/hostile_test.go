package cmd

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gzipped(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// ngWithOffset is a pcapng of one SYN on an interface whose if_tsoffset is
// off seconds.
func ngWithOffset(off int64) []byte {
	le := binary.LittleEndian
	block := func(b []byte, typ uint32, body []byte) []byte {
		b = le.AppendUint32(b, typ)
		b = le.AppendUint32(b, uint32(12+len(body)))
		b = append(b, body...)
		return le.AppendUint32(b, uint32(12+len(body)))
	}
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, math.MaxUint64)
	idb := le.AppendUint16(nil, 101) // raw IP
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, 0)
	idb = le.AppendUint16(idb, 14) // if_tsoffset
	idb = le.AppendUint16(idb, 8)
	idb = le.AppendUint64(idb, uint64(off))
	idb = le.AppendUint32(idb, 0)
	ip := scriptPacket(sp(0, 0, sSYN, 0, 0, 64, 0, 0), nil, 1)
	epb := le.AppendUint32(nil, 0)
	epb = le.AppendUint32(epb, 0)
	epb = le.AppendUint32(epb, 1)
	epb = le.AppendUint32(epb, uint32(len(ip)))
	epb = le.AppendUint32(epb, uint32(len(ip)))
	epb = append(epb, ip...)
	b := block(nil, 0x0a0d0d0a, shb)
	b = block(b, 1, idb)
	return block(b, 6, epb)
}

// TestHostileFiles: odd inputs give a clear word, positioned, and never a
// time JSON cannot hold.
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	established := scriptCapture(fuzzSeeds[0])
	// Records that do not decode: IP version 7, 150 of them, then a handshake.
	garbage := scriptCapture(bytes.Repeat([]byte{0, 0x40, 0, 0, 0, 64, 0, 0}, 150))
	for off := 24; off < len(garbage); off += 16 + int(binary.LittleEndian.Uint32(garbage[off+8:])) {
		garbage[off+16] = 0x75
	}
	garbage = append(garbage, established[24:]...)
	backwards := scriptCapture(bytes.Join([][]byte{fuzzSeeds[1], sp(-100, 0, sSYN, 0, 0, 64, 0, 0), sp(1, 0, sSYN, 0, 0, 64, 0, 0)}, nil))
	tests := []struct {
		name string
		file []byte // nil: the directory
		code int
		want []string // in stdout and stderr together
		not  []string
	}{
		{"gzip cut after its header", gzipped(t, established)[:10], ExitUsage, []string{"synpath: " + filepath.Join(dir, "gzip cut after its header") + ": gzip stream is truncated\n"}, nil},
		{"gzip with trailing data", append(gzipped(t, established), "junk"...), ExitOK, []string{"after packet 7: trailing data after the gzip stream, ignored"}, []string{"packet 8"}},
		{"directory", nil, ExitUsage, []string{"synpath: " + dir + ": read: is a directory\n"}, nil},
		{"if_tsoffset INT64_MAX", ngWithOffset(math.MaxInt64), ExitFailed, []string{`"first_syn":"9999-12-31T23:59:59.999999999Z"`, "1 records had impossible times"}, nil},
		{"mostly garbage", garbage, ExitOK, []string{"150 of its 157 records do not decode"}, nil},
		// Two stretches out of time order, no connection across either
		// seam: read in time order.
		{"time running back", backwards, ExitFailed, []string{"time running back: its records lie in 2 stretches out of time order", "records 3-4 then 1-2"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := dir
			if tt.file != nil {
				path = filepath.Join(dir, tt.name)
				if err := os.WriteFile(path, tt.file, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := runMain("analyze", "--format", "json", path)
			all := stdout + stderr
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("no %q in\n%s", w, all)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(all, w) {
					t.Errorf("%q in\n%s", w, all)
				}
			}
		})
	}
}

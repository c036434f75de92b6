package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// zeros reads as n zero bytes without holding them.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

// gzZeros is a gzip stream of n MiB of zeros, as members of 1 MiB: a few
// hundred bytes each, so a test can inflate far more than it stores.
func gzZeros(t testing.TB, n int) []byte {
	member := gz(t, make([]byte, 1<<20))
	return bytes.Repeat(member, n)
}

// allocated is how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// bombLimit is what reading a bomb may allocate: buffers, gzip state.
const bombLimit = 64 << 20

// readBomb reads a capture to its first error and checks that the error
// is positioned at packet want, says substr, and cost little memory.
func readBomb(t *testing.T, rd io.Reader, want uint64, substr string) {
	t.Helper()
	var err error
	mem := allocated(func() {
		var r *Reader
		if r, err = NewReader("bomb", rd); err != nil {
			return
		}
		var p Packet
		for err = r.Next(&p); err == nil; err = r.Next(&p) {
		}
	})
	var re *ReadError
	if !errors.As(err, &re) || re.Packet != want || re.File != "bomb" || !strings.Contains(err.Error(), substr) {
		t.Errorf("error %v; want a ReadError at packet %d saying %q", err, want, substr)
	}
	if mem > bombLimit {
		t.Errorf("allocated %d MB reading the bomb", mem>>20)
	}
	t.Logf("%v; %.1f MB allocated", err, float64(mem)/(1<<20))
}

// TestRecordBomb: a pcap header and record claiming 4 GiB, followed by
// zeros, is refused at its record without reading it.
func TestRecordBomb(t *testing.T) {
	le := binary.LittleEndian
	file := pcapFile(le, false, linkEthernet, recs(linkEthernet, handshake(cli4, srv4)[:1], false)...)
	le.PutUint32(file[16:], 0xffffffff) // snaplen
	file = le.AppendUint32(file, uint32(t0.Unix()))
	file = le.AppendUint32(file, 0)
	file = le.AppendUint32(file, 0xfffffff0)
	file = le.AppendUint32(file, 0xfffffff0)
	const mib = 256 // of zeros after the record header: what a reader buffering it would take
	t.Run("plain", func(t *testing.T) {
		readBomb(t, io.MultiReader(bytes.NewReader(file), &zeros{mib << 20}), 2, "packet 2: pcap record of 4294967280 bytes: more than any link carries")
	})
	t.Run("gzip", func(t *testing.T) {
		bomb := append(gz(t, file), gzZeros(t, mib)...)
		readBomb(t, bytes.NewReader(bomb), 2, "packet 2: pcap record of 4294967280 bytes")
	})
}

// TestBlockBomb: pcapng blocks claiming 256 MiB, followed by zeros, are
// refused at their position without being allocated.
func TestBlockBomb(t *testing.T) {
	for _, typ := range []uint32{ngEPB, ngSPB, 0xbad} {
		ng := ngFile{order: binary.LittleEndian}
		ng.section()
		ng.iface(linkEthernet, 0)
		ng.epb(0, 1, rec{data: frame(linkEthernet, handshake(cli4, srv4)[0].ip())})
		ng.b = binary.LittleEndian.AppendUint32(ng.b, typ)
		ng.b = binary.LittleEndian.AppendUint32(ng.b, 256<<20)
		bomb := append(gz(t, ng.b), gzZeros(t, 256)...)
		readBomb(t, bytes.NewReader(bomb), 2, "bytes: more than a capture holds")
	}
}

// seqs checks that the packets read are segs, numbered from 1.
func seqs(t *testing.T, ps []Packet, segs []seg) {
	t.Helper()
	if len(ps) != len(segs) {
		t.Fatalf("%d packets, want %d", len(ps), len(segs))
	}
	for i, p := range ps {
		if p.Seq != segs[i].seq || p.Flags != segs[i].flags || p.N != uint64(i+1) {
			t.Errorf("packet %d: %+v", i+1, p)
		}
	}
}

// pcapVersion writes a pcap file of version 2.minor, with the record
// lengths swapped where that version swapped them.
func pcapVersion(minor uint16, swap bool, rs []rec) []byte {
	le := binary.LittleEndian
	b := pcapFile(le, false, linkEthernet, rs...)
	le.PutUint16(b[6:], minor)
	if swap {
		for off, i := 24, 0; off < len(b); off, i = off+16+len(rs[i].data), i+1 {
			incl, orig := le.Uint32(b[off+8:]), le.Uint32(b[off+12:])
			le.PutUint32(b[off+8:], orig)
			le.PutUint32(b[off+12:], incl)
		}
	}
	return b
}

func TestPcapVersions(t *testing.T) {
	segs := handshake(cli4, srv4)
	rs := recs(linkEthernet, segs, false)
	rs[0].orig = len(rs[0].data) + 100 // a cut record tells the two lengths apart
	tests := []struct {
		name  string
		minor uint16
		swap  bool
	}{
		{"2.0", 0, true}, {"2.1", 1, true}, {"2.2", 2, true},
		{"2.3 swapped", 3, true}, {"2.3", 3, false}, {"2.4", 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader("x", bytes.NewReader(pcapVersion(tt.minor, tt.swap, rs)))
			if err != nil {
				t.Fatal(err)
			}
			ps, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			seqs(t, ps, segs)
			if st := r.Stats(); st.BadLength != 0 {
				t.Errorf("%d records counted with a bad length", st.BadLength)
			}
		})
	}
}

// TestPcapLinkTypeBits: the upper bits of the link type field carry FCS
// information, not another link type.
func TestPcapLinkTypeBits(t *testing.T) {
	segs := handshake(cli4, srv4)
	for _, tt := range []struct {
		name string
		bits uint32
		fcs  int
	}{
		{"fcs length without its flag", 0x30000000, 0},
		{"4-byte fcs", 0x24000000, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs := recs(linkEthernet, segs, false)
			for i := range rs {
				rs[i].data = append(rs[i].data, bytes.Repeat([]byte{0xee}, tt.fcs)...)
			}
			r, err := NewReader("x", bytes.NewReader(pcapFile(binary.BigEndian, true, linkEthernet|tt.bits, rs...)))
			if err != nil {
				t.Fatal(err)
			}
			ps, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			seqs(t, ps, segs)
			if s, ok := r.src.(*pcapSource); !ok || s.fcs != tt.fcs {
				t.Errorf("fcs %d, want %d", s.fcs, tt.fcs)
			}
		})
	}
}

// TestBadLength: a record longer than its original length is read whole
// and counted, as tshark shows it.
func TestBadLength(t *testing.T) {
	segs := handshake(cli4, srv4)
	rs := recs(linkEthernet, segs, false)
	file := pcapFile(binary.LittleEndian, false, linkEthernet, rs...)
	binary.LittleEndian.PutUint32(file[24+12:], 10) // the first record's original length
	r, err := NewReader("x", bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	seqs(t, ps, segs)
	if n := r.Stats().BadLength; n != 1 {
		t.Errorf("BadLength %d, want 1", n)
	}
}

// TestGzipMembers: members one after another are one stream; what follows
// the last that is not a member is reported after the last packet.
func TestGzipMembers(t *testing.T) {
	segs := handshake(cli4, srv4)
	file := pcapFile(binary.LittleEndian, false, linkEthernet, recs(linkEthernet, segs, false)...)
	cut := 24 + 16 + 30 // inside the first record
	members := append(gz(t, file[:cut]), gz(t, file[cut:])...)
	tests := []struct {
		name string
		file []byte
		err  string // "" for a clean end
	}{
		{"two members", members, ""},
		{"garbage", append(bytes.Clone(members), "garbage"...), "x: after packet 5: trailing data after the gzip stream"},
		{"one byte", append(gz(t, file), 0), "x: after packet 5: trailing data after the gzip stream"},
		{"member cut", append(gz(t, file), gz(t, file)[:5]...), "x: packet 6: gzip stream is truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader("x", bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ps, err := readAll(r)
			seqs(t, ps, segs)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("error %v, want a clean end", err)
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}

func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir)
	if err == nil || strings.Count(err.Error(), dir) != 1 {
		t.Errorf("error %q: want the path once", err)
	}
	if _, err := Open(dir + "/none"); err == nil || strings.Count(err.Error(), dir) != 1 || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %q: want the path once", err)
	}
}

// TestTimeClamp: timestamps that if_tsoffset or the resolution push past
// year 9999 or before 1970 are clamped and counted.
func TestTimeClamp(t *testing.T) {
	hi, lo := time.Unix(maxSec, 999999999).UTC(), time.Unix(0, 0).UTC()
	tests := []struct {
		name  string
		units uint64
		off   int64
		ts    uint64
		want  time.Time
		bad   bool
	}{
		{"plain", 1e6, 0, uint64(t0.UnixMicro()), t0, false},
		{"offset", 1e6, 3600, uint64(t0.UnixMicro()), t0.Add(time.Hour), false},
		{"offset INT64_MAX", 1e6, math.MaxInt64, 1, hi, true},
		{"offset INT64_MIN", 1e6, math.MinInt64, uint64(t0.UnixMicro()), lo, true},
		{"seconds as units", 1, 0, math.MaxUint64, hi, true},
		{"seconds as units, offset back", 1, math.MinInt64, math.MaxUint64, lo, true},
		{"year 9999", 1, 0, maxSec, time.Unix(maxSec, 0).UTC(), false},
		{"year 10000", 1, 0, maxSec + 1, hi, true},
	}
	for _, tt := range tests {
		in := ngIface{units: tt.units, off: tt.off}
		got, ok := in.time(tt.ts)
		if !got.Equal(tt.want) || ok == tt.bad {
			t.Errorf("%s: %v, %v; want %v, %v", tt.name, got, ok, tt.want, !tt.bad)
		}
	}

	// Through a file: counted in Stats.
	le := binary.LittleEndian
	ng := ngFile{order: le}
	ng.section()
	b := le.AppendUint16(nil, uint16(linkRaw))
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, 14) // if_tsoffset
	b = le.AppendUint16(b, 8)
	b = le.AppendUint64(b, math.MaxInt64)
	b = le.AppendUint32(b, 0)
	ng.block(ngIDB, b)
	ng.epb(0, 1, rec{data: handshake(cli4, srv4)[0].ip()})
	r, err := NewReader("x", bytes.NewReader(ng.b))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := readAll(r)
	if err != nil || len(ps) != 1 || !ps[0].TS.Equal(hi) || r.Stats().BadTime != 1 {
		t.Errorf("%v, %+v, %+v", err, ps, r.Stats())
	}
}

// TestPcapFractionClamp: a fraction field of a second or more stays within
// its second, and is counted.
func TestPcapFractionClamp(t *testing.T) {
	le := binary.LittleEndian
	for _, nano := range []bool{false, true} {
		segs := handshake(cli4, srv4)[:2]
		file := pcapFile(le, nano, linkEthernet, recs(linkEthernet, segs, false)...)
		le.PutUint32(file[24+4:], 2147483648)
		r, err := NewReader("x", bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		ps, err := readAll(r)
		if err != nil || len(ps) != 2 {
			t.Fatal(err)
		}
		want := t0.Truncate(time.Second).Add(time.Second - time.Microsecond)
		if nano {
			want = t0.Truncate(time.Second).Add(time.Second - 1)
		}
		if !ps[0].TS.Equal(want) || r.Stats().BadTime != 1 {
			t.Errorf("nano %v: time %v, want %v; %d bad times", nano, ps[0].TS, want, r.Stats().BadTime)
		}
	}
}

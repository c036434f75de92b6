package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// connections are n handshakes a second apart, from ports 40000 on, as
// records in time order: one connection goes on across any cut between
// two of its records.
func connections(n int) []rec {
	var recs []rec
	for i := range n {
		c := netip.AddrPortFrom(cli4.Addr(), uint16(40000+i))
		for j, s := range handshake(c, srv4) {
			recs = append(recs, rec{data: frame(1, s.ip()), ts: t0.Add(time.Duration(i)*time.Second + time.Duration(j)*10*time.Millisecond)})
		}
	}
	return recs
}

// readInTimeOrder reads a capture with time ordering on, returning the packets'
// numbers in the order read and the error that ended it.
func readInTimeOrder(t *testing.T, b []byte) ([]uint64, []time.Time, *Reader, error) {
	t.Helper()
	r, err := NewReaderOptions("x.pcap", bytes.NewReader(b), ReaderOptions{Again: func(off int64) io.Reader { return bytes.NewReader(b[off:]) }, Size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	var ns []uint64
	var ts []time.Time
	var p Packet
	for {
		if err := r.Next(&p); err != nil {
			if err == io.EOF {
				err = nil
			}
			return ns, ts, r, err
		}
		ns = append(ns, p.N)
		ts = append(ts, p.TS)
	}
}

func TestPiecesOutOfTimeOrderAreReadInTimeOrder(t *testing.T) {
	recs := connections(6) // 30 records, 5 a connection
	// Cut inside connections (at 12 and 22), put back to front.
	a, b, c := recs[:12], recs[12:22], recs[22:]
	file := pcapFile(binary.LittleEndian, false, 1, slices.Concat(c, b, a)...)
	ns, ts, r, err := readInTimeOrder(t, file)
	if err != nil {
		t.Fatal(err)
	}
	// Read a, b, c: their numbers in the file are 19-30, 9-18, 1-8.
	var want []uint64
	for n := uint64(19); n <= 30; n++ {
		want = append(want, n)
	}
	for n := uint64(9); n <= 18; n++ {
		want = append(want, n)
	}
	for n := uint64(1); n <= 8; n++ {
		want = append(want, n)
	}
	if !slices.Equal(ns, want) {
		t.Errorf("read records %v, want %v", ns, want)
	}
	if !slices.IsSortedFunc(ts, func(x, y time.Time) int { return x.Compare(y) }) {
		t.Errorf("not read in time order: %v", ts)
	}
	if runs := r.InTimeOrder(); len(runs) != 3 || runs[0].From != 19 || runs[2].To != 8 {
		t.Errorf("runs %+v", runs)
	}
	st := r.Stats()
	if st.Packets != 30 || st.TCP != 30 || !st.First.Equal(recs[0].ts) || !st.Last.Equal(recs[29].ts) {
		t.Errorf("stats %+v", st)
	}
}

// A file whose last piece in the file breaks off mid-record: the pieces
// before it in time are read, and then the truncation is reported, at the
// record the file breaks in.
func TestPiecesOutOfTimeOrderTruncated(t *testing.T) {
	recs := connections(4)
	file := pcapFile(binary.LittleEndian, false, 1, slices.Concat(recs[10:], recs[:10])...)
	file = file[:len(file)-20]
	ns, _, _, err := readInTimeOrder(t, file)
	var re *ReadError
	if !errors.As(err, &re) || !errors.Is(err, ErrTruncated) || re.Packet != 20 {
		t.Fatalf("error %v, want truncated at packet 20", err)
	}
	// The first piece in time (records 11-19, the 20th cut) and all of
	// the second.
	if len(ns) != 19 || ns[0] != 11 || ns[8] != 19 || ns[9] != 1 || ns[18] != 10 {
		t.Errorf("read %v", ns)
	}
}

// pcapng files appended the wrong way round (cat b.pcapng a.pcapng), each
// its own section, with its own time resolution.
func TestPcapngSectionsOutOfTimeOrder(t *testing.T) {
	recs := connections(4)
	f := ngFile{order: binary.LittleEndian}
	f.section()
	f.iface(1, 9) // nanoseconds
	for _, r := range recs[10:] {
		f.epb(0, uint64(r.ts.UnixNano()), r)
	}
	f.section()
	f.iface(1, 0) // microseconds
	for _, r := range recs[:10] {
		f.epb(0, uint64(r.ts.UnixMicro()), r)
	}
	ns, ts, r, err := readInTimeOrder(t, f.b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 20 || ns[0] != 11 || ns[10] != 1 || len(r.InTimeOrder()) != 2 {
		t.Errorf("read %v, runs %+v", ns, r.InTimeOrder())
	}
	if !slices.IsSortedFunc(ts, func(x, y time.Time) int { return x.Compare(y) }) {
		t.Errorf("not read in time order: %v", ts)
	}
}

// Made to fool the ordering: files a stretch of which is out of time order
// but must be read as they lie.
func TestReadAsItLies(t *testing.T) {
	recs := connections(4)
	step := func(rs []rec, d time.Duration) []rec {
		out := slices.Clone(rs)
		for i := range out {
			out[i].ts = out[i].ts.Add(-d)
		}
		return out
	}
	tests := []struct {
		name string
		recs []rec
	}{
		// The clock stepped back by more than the capture lasts, in the
		// middle of a connection: the file's order is the true one.
		{"clock stepped back", slices.Concat(recs[:12], step(recs[12:], time.Hour))},
		// Two captures appended whose times overlap (both ends of one
		// connection): no order of the pieces puts them in time.
		{"overlapping", slices.Concat(recs[10:], step(recs[:10], -2*time.Second))},
		// Frames a few microseconds out of order, as from tcpdump -i any.
		{"jitter", slices.Concat(recs[:5], []rec{recs[6], recs[5]}, recs[7:])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := pcapFile(binary.LittleEndian, false, 1, tt.recs...)
			ns, _, r, err := readInTimeOrder(t, file)
			if err != nil {
				t.Fatal(err)
			}
			if r.InTimeOrder() != nil {
				t.Errorf("read in pieces %+v", r.InTimeOrder())
			}
			for i, n := range ns {
				if n != uint64(i+1) {
					t.Fatalf("read out of the file's order: %v", ns)
				}
			}
		})
	}
	// gzip'd, a file is read as it lies: inflating it twice costs more
	// than reading it.
	file := gz(t, pcapFile(binary.LittleEndian, false, 1, slices.Concat(recs[10:], recs[:10])...))
	if _, _, r, _ := readInTimeOrder(t, file); r.InTimeOrder() != nil {
		t.Errorf("gzip'd file read in pieces")
	}
}

// The header walk of a large pcap file is split across two cores. Its
// runs must be the one-core walk's, whatever lies at the split: a seam, a
// record whose payload looks like record headers (the second half's start
// is then a guess the first half's walk does not land on).
func TestSplitWalkFindsTheOneCoreRuns(t *testing.T) {
	recs := connections(3000)
	// Payloads of chains of would-be records, four bytes each.
	var fake []byte
	for range 40 {
		fake = binary.LittleEndian.AppendUint32(fake, uint32(t0.Unix()))
		fake = binary.LittleEndian.AppendUint32(fake, 0)
		fake = binary.LittleEndian.AppendUint32(fake, 4)
		fake = binary.LittleEndian.AppendUint32(fake, 4)
		fake = append(fake, 1, 2, 3, 4)
	}
	faked := slices.Clone(recs)
	for i := range faked {
		if len(faked[i].data) > 1000 {
			d := slices.Clone(faked[i].data)
			copy(d[len(d)-len(fake)-8:], fake)
			faked[i].data = d
		}
	}
	n := len(recs)
	swapped := slices.Concat(faked[n/2+3:], faked[:n/2+3])
	// Split at a would-be record in the payload of a record past the
	// middle.
	fakeAt := int64(24)
	for _, r := range swapped[:n/2] {
		fakeAt += 16 + int64(len(r.data))
	}
	for i := n / 2; len(swapped[i].data) <= 1000; i++ {
		fakeAt += 16 + int64(len(swapped[i].data))
		if len(swapped[i+1].data) > 1000 {
			fakeAt += 16 + int64(len(swapped[i+1].data)-len(fake)-8)
		}
	}
	tests := []struct {
		name   string
		recs   []rec
		mid    int64 // 0: the middle
		landed bool
	}{
		{"in order", recs, 0, true},
		{"swapped at a third", slices.Concat(recs[n/3:], recs[:n/3]), 0, true},
		{"swapped mid-way", slices.Concat(recs[n/2:], recs[:n/2]), 0, true},
		{"thirds reversed", slices.Concat(recs[2*n/3:], recs[n/3:2*n/3], recs[:n/3]), 0, true},
		{"split in a payload like records", swapped, fakeAt, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := tt.recs
			file := pcapFile(binary.LittleEndian, false, 1, rs...)
			again := func(off int64) io.Reader { return bytes.NewReader(file[off:]) }
			src, err := openSource(again(0))
			if err != nil {
				t.Fatal(err)
			}
			want := timeRuns(src)
			src, _ = openSource(again(0))
			mid := tt.mid
			if mid == 0 {
				mid = int64(len(file) / 2)
			}
			got, landed := src.(*pcapSource).splitRuns(again, mid)
			if !slices.Equal(got, want) {
				t.Errorf("split walk: %+v\none core: %+v", got, want)
			}
			if landed != tt.landed {
				t.Errorf("landed %v, want %v", landed, tt.landed)
			}
			if want[len(want)-1].To != uint64(len(rs)) {
				t.Errorf("runs %+v end before record %d", want, len(rs))
			}
		})
	}
}

// A record alone out of time, at the end of the file: a corrupt time, not
// a piece of a capture. Read first, its time would be taken for when the
// capture began.
func TestOneRecordOutOfTimeIsReadAsItLies(t *testing.T) {
	recs := connections(3)
	stray := recs[4]
	stray.ts = time.Unix(16781104, 505352000)
	file := pcapFile(binary.LittleEndian, false, 1, append(slices.Clone(recs), stray)...)
	ns, _, r, err := readInTimeOrder(t, file)
	if err != nil {
		t.Fatal(err)
	}
	if r.InTimeOrder() != nil || ns[0] != 1 {
		t.Errorf("read %v in pieces %+v", ns, r.InTimeOrder())
	}
}

// FuzzTimeOrder reads any file as it lies and in time order: the same
// records must come (with the same numbers, times and kinds), ending in
// the same error; read in time order, none may lie more than runBreak
// behind one before it.
func FuzzTimeOrder(f *testing.F) {
	for _, file := range seedFiles(f) {
		f.Add(file)
	}
	segs := handshake(cli4, srv4)
	var rs []rec
	for i, s := range segs {
		s.payload = min(s.payload, 4)
		rs = append(rs, rec{data: frame(linkRaw, s.ip()), ts: t0.Add(time.Duration(i) * time.Second)})
	}
	f.Add(pcapFile(binary.LittleEndian, false, linkRaw, slices.Concat(rs[3:], rs[:3])...))
	f.Add(pcapFile(binary.BigEndian, true, linkRaw, slices.Concat(rs[2:], rs[:2])...))
	f.Fuzz(func(t *testing.T, file []byte) {
		if len(file) > 700 {
			return
		}
		type got struct {
			n    uint64
			ts   time.Time
			kind Kind
		}
		read := func(opt ReaderOptions) ([]got, string, []Run) {
			r, err := NewReaderOptions("fuzz", bytes.NewReader(file), opt)
			if err != nil {
				return nil, err.Error(), nil
			}
			var out []got
			var p Packet
			for range 1 << 16 {
				if err := r.Next(&p); err != nil {
					return out, err.Error(), r.InTimeOrder()
				}
				out = append(out, got{p.N, p.TS, p.Kind})
			}
			t.Fatal("no end")
			return nil, "", nil
		}
		asLies, errAsLies, _ := read(ReaderOptions{})
		inTime, errInTime, runs := read(ReaderOptions{Again: func(off int64) io.Reader { return bytes.NewReader(file[off:]) }, Size: int64(len(file))})
		if errAsLies != errInTime {
			t.Fatalf("ended with %q, in time order with %q", errAsLies, errInTime)
		}
		if runs == nil && !slices.Equal(asLies, inTime) {
			t.Fatalf("read as it lies %v, then %v", asLies, inTime)
		}
		byN := func(a, b got) int { return int(a.n) - int(b.n) }
		sorted := slices.SortedFunc(slices.Values(inTime), byN)
		if !slices.Equal(asLies, sorted) {
			t.Fatalf("read %v in time order, %v as it lies", inTime, asLies)
		}
		if runs == nil {
			return
		}
		var latest time.Time
		for _, g := range inTime {
			if g.ts.Before(latest.Add(-runBreak)) {
				t.Fatalf("read in runs %+v: %v", runs, inTime)
			}
			if g.ts.After(latest) {
				latest = g.ts
			}
		}
	})
}

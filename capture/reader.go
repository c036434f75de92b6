package capture

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"time"

	// A drop-in for compress/gzip (same API; its errors also start with
	// "gzip: ") whose inflate is about 1.8 times as fast: a third of a run
	// on a gzip'd capture of short connections was inflating.
	"github.com/klauspost/compress/gzip"
)

// bufSize is the read buffer: large reads keep syscalls and gzip's
// per-call overhead off the per-packet cost.
const bufSize = 256 << 10

// record is one captured frame as a file format hands it over. data is
// owned by the source and valid until the next read.
type record struct {
	data []byte
	ts   time.Time
	link uint32
	cut  bool // the snaplen shortened the frame
	wire int  // length on the wire; 0: len(data)
	// iface: pcapng's interface id, a live capture's ifindex.
	iface int
	// badLen: the captured length exceeded the original one; badTime: the
	// timestamp was out of range and clamped.
	badLen, badTime bool
	// dir: the direction the record's own metadata gives (pcapng's
	// epb_flags), set after set.
	dir Direction
	// n is the record's number in its file when records are not read in
	// the file's order (runsSource); 0 when they are.
	n uint64
}

// set fills every field of rec. Field by field: for *rec = record{...}
// the compiler builds the literal on the stack and copies it over in
// 16-byte loads of its 8-byte stores, a store-forwarding stall that cost
// 5% of Next.
func (rec *record) set(data []byte, ts time.Time, link uint32, cut bool, wire, iface int, badLen, badTime bool) {
	rec.data = data
	rec.ts = ts
	rec.link = link
	rec.cut = cut
	rec.wire = wire
	rec.dir = DirUnknown
	rec.iface = iface
	rec.badLen = badLen
	rec.badTime = badTime
}

// source reads records from one file format. It returns io.EOF at a clean
// end, an error wrapping ErrTruncated when the file ends inside a record.
type source interface {
	read(*record) error
}

// Reader reads TCP segments, ICMP errors quoting them and DNS messages from
// one capture.
type Reader struct {
	name   string
	src    source
	closer io.Closer // the file Open opened, if any
	gz     *gzStream
	// inflated reads gz for the Reader when ReaderOptions.Inflated wraps
	// it in a closer.
	inflated io.Closer
	rec      record
	dec      decoder
	stats    Stats
	frame    Frame
	// onFrame, if set, sees every record (OnFrame).
	onFrame func(*Frame)
	otherIP bool // return IP packets Next would skip, as KindOtherIP
	// filter, if set, passes over the records it rejects (SetFilter).
	filter *Filter
	// snap and ifNames describe a live capture's interfaces, for Frames.
	snap    uint32
	ifNames map[int]string
	err     error // once set, Next returns it again: the stream cannot resync
	// runs are the stretches of a file out of time order, in the order
	// read (ReaderOptions.Again); nil when it is read as it lies.
	runs []Run
	// walked: the times of the file's records were looked at for runs.
	walked bool
	ctx    context.Context
}

// checkEvery is how many records Next reads between looks at its context:
// rarely enough to cost nothing, often enough that a file of records it
// passes over (20 GB of UDP) stops within milliseconds.
const checkEvery = 4096

// Open opens a capture file; "-" reads standard input, named "stdin".
func Open(path string) (*Reader, error) {
	if path == "-" {
		return NewReader("stdin", os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in ReadError.File
		}
		return nil, &ReadError{File: path, Err: err}
	}
	r, err := NewReader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a capture from rd; name is used in Refs and errors. The
// format (pcap or pcapng, gzip'd or not) is found from magic numbers. The
// caller keeps ownership of rd.
func NewReader(name string, rd io.Reader) (*Reader, error) {
	return NewReaderOptions(name, rd, ReaderOptions{})
}

// ReaderOptions are what a caller may add to reading.
type ReaderOptions struct {
	// Inflated, if set, is handed the inflated stream of a gzip'd capture
	// and returns the reader to read it through: the caller may inflate
	// ahead on a goroutine of its own. If what it returns is an
	// io.Closer, Close closes it before anything under it.
	Inflated func(io.Reader) io.Reader
	// Again, if set, returns the capture anew from byte off, each time it
	// is called (a SectionReader of the open file). A file whose records
	// come in stretches out of time order is then read a stretch at a
	// time, in time order (timeorder.go); finding out costs a pass over
	// its record headers. Not used for a gzip'd capture.
	Again func(off int64) io.Reader
	// Size is the file's size, if known: a large one's record headers are
	// passed over on two cores.
	Size int64
}

// NewReaderOptions is NewReader with options.
func NewReaderOptions(name string, rd io.Reader, opt ReaderOptions) (*Reader, error) {
	r := &Reader{name: name}
	fail := func(err error) (*Reader, error) {
		if r.inflated != nil {
			r.inflated.Close()
		}
		if r.gz != nil {
			r.gz.z.Close()
		}
		return nil, &ReadError{File: name, Err: pathless(err)}
	}
	br := bufio.NewReaderSize(rd, bufSize)
	magic, err := br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		z, zerr := gzip.NewReader(br)
		if zerr != nil {
			return fail(gzipErr(zerr))
		}
		z.Multistream(false) // gzStream reads the members that follow
		r.gz = &gzStream{z: z, r: br}
		var inflated io.Reader = r.gz
		if opt.Inflated != nil {
			inflated = opt.Inflated(r.gz)
			r.inflated, _ = inflated.(io.Closer)
		}
		br = bufio.NewReaderSize(inflated, bufSize)
		magic, err = br.Peek(4)
		if err != nil && err != io.EOF {
			return fail(gzipErr(err))
		}
	}
	switch {
	case len(magic) == 0 && err == io.EOF:
		return fail(errors.New("empty file"))
	case len(magic) < 4 && (err == io.EOF || err == io.ErrUnexpectedEOF):
		return fail(fmt.Errorf("not a pcap or pcapng file (%d bytes)", len(magic)))
	case err != nil:
		return fail(err)
	}
	src, err := newSource(br, magic)
	if err != nil {
		return fail(err)
	}
	r.src = src
	if opt.Again != nil && r.gz == nil {
		r.walked = true
		if runs := timeOrder(opt.Again, opt.Size); runs != nil {
			r.src, r.runs = newRunsSource(opt.Again, runs), runs
		}
	}
	return r, nil
}

// newSource reads the header of an uncompressed capture, whose first
// bytes are magic.
func newSource(br *bufio.Reader, magic []byte) (source, error) {
	switch m := binary.BigEndian.Uint32(magic); m {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return newPcap(input{br: br})
	case ngSHB:
		s := &ngSource{in: input{br: br}}
		if err := s.section(); err != nil {
			return nil, err
		}
		return s, nil
	default:
		return nil, fmt.Errorf("not a pcap or pcapng file (magic 0x%08x)", m)
	}
}

// InTimeOrder returns the stretches of the file, in the order they are
// read, when they are read in time order rather than as they lie in the
// file (ReaderOptions.Again); nil otherwise.
func (r *Reader) InTimeOrder() []Run { return r.runs }

// TimeOrderLooked reports whether the file's record times were looked at
// to read its stretches in time order (ReaderOptions.Again, and not
// gzip'd), whether or not they were.
func (r *Reader) TimeOrderLooked() bool { return r.walked }

// SetContext makes Next stop with ctx's error, as a *ReadError, once ctx
// is done, even while it passes over records without returning.
func (r *Reader) SetContext(ctx context.Context) { r.ctx = ctx }

// Name is the name errors and Refs use for the capture.
func (r *Reader) Name() string { return r.name }

// Stats counts what was read so far.
func (r *Reader) Stats() Stats {
	st := r.stats
	st.Reassembled = r.dec.reassembled
	return st
}

// KernelDrops is how many packets a live capture lost in the kernel
// because it could not keep up; 0 for files.
func (r *Reader) KernelDrops() uint64 {
	if d, ok := r.src.(interface{ Drops() uint64 }); ok {
		return d.Drops()
	}
	return 0
}

// Ran is when the capture ran, as the file itself proves it (pcapng
// interface statistics that account for every packet in it, as dumpcap
// writes them): possibly well before its first packet and after its
// last. ok is false when the file does not say, or not believably.
// Meaningful once the file has been read to its end.
func (r *Reader) Ran() (from, until time.Time, ok bool) {
	if s, is := r.src.(interface {
		Ran() (time.Time, time.Time, bool)
	}); is {
		from, until, ok := s.Ran()
		// A run that does not hold the packets' own times is not this file's.
		st := &r.stats
		if ok && st.Packets > 0 && (from.After(st.First) || until.Before(st.Last)) {
			return time.Time{}, time.Time{}, false
		}
		return from, until, ok
	}
	return time.Time{}, time.Time{}, false
}

// CaptureFilter is the capture filter the file says it was taken with
// (pcapng's if_filter), once its interfaces have been read (after the
// first Next); ok is false when it does not say (pcap files never do).
func (r *Reader) CaptureFilter() (expr string, ok bool) {
	if s, is := r.src.(interface{ CaptureFilter() (string, bool) }); is {
		return s.CaptureFilter()
	}
	return "", false
}

// OnFrame has f called with every record Next reads, before it is decoded
// or filtered, numbered as Refs number packets: what "synpath live -w"
// writes. The Frame and its Data are valid only during the call.
func (r *Reader) OnFrame(f func(*Frame)) { r.onFrame = f }

// ReportOtherIP has Next return the IP packets it would skip (neither TCP,
// an ICMP error quoting TCP, nor DNS) as KindOtherIP packets, still counted
// in Stats.Skipped: a join learns from them which hosts a capture shows.
func (r *Reader) ReportOtherIP(on bool) { r.otherIP = on }

// SetFilter has Next pass over the records f rejects (counted in
// Stats.Filtered); they keep their numbers. A live capture runs its filter
// in the kernel instead.
func (r *Reader) SetFilter(f *Filter) { r.filter = f }

// Close releases the file Open opened. It does not close a reader handed to
// NewReader.
func (r *Reader) Close() error {
	var err error
	if r.inflated != nil {
		r.inflated.Close() // first: it may be reading r.gz
		r.inflated = nil
	}
	if r.gz != nil {
		err = r.gz.z.Close()
	}
	if r.closer != nil {
		err = errors.Join(err, r.closer.Close())
		r.closer = nil
	}
	return err
}

// Next fills p with the next TCP segment, ICMP error quoting one or DNS
// message over UDP, counting
// and passing over every other record. It returns io.EOF at the end of the
// capture, and a *ReadError when the file is broken; one wrapping
// ErrTruncated means the file ends mid-record, and what came before is good.
// A live capture returns ErrNoPacket when nothing arrived within its wait.
func (r *Reader) Next(p *Packet) error {
	if r.err != nil {
		return r.err
	}
	for {
		if r.ctx != nil && r.stats.Packets%checkEvery == 0 && r.ctx.Err() != nil {
			r.err = &ReadError{File: r.name, Packet: r.stats.Packets + 1, Err: r.ctx.Err()}
			return r.err
		}
		if err := r.src.read(&r.rec); err != nil {
			if err == ErrNoPacket {
				return err // live: nothing arrived in time; not an end
			}
			switch {
			case err == io.EOF:
			case errors.Is(err, ErrTrailingData):
				// Not a record: placed after the last one, not at the next.
				err = &ReadError{File: r.name, Err: fmt.Errorf("after packet %d: %w", r.stats.Packets, err)}
			default:
				if errors.Is(err, io.ErrUnexpectedEOF) {
					err = ErrTruncated
				}
				err = &ReadError{File: r.name, Packet: r.stats.Packets + 1, Err: pathless(err)}
			}
			r.err = err
			return err
		}
		r.stats.Packets++
		if r.rec.badLen {
			r.stats.BadLength++
		}
		if r.rec.badTime {
			r.stats.BadTime++
		}
		// Records mostly come in time order: one comparison, with the
		// latest, is enough (First <= Last once a record is in).
		if ts := r.rec.ts; ts.After(r.stats.Last) {
			r.stats.Last = ts
			if r.stats.Packets == 1 {
				r.stats.First = ts
			}
		} else if r.stats.Packets == 1 || ts.Before(r.stats.First) {
			r.stats.First = ts
		}
		num := r.stats.Packets
		if r.rec.n != 0 {
			num = r.rec.n
		}
		if r.onFrame != nil {
			wire := r.rec.wire
			if wire < len(r.rec.data) {
				wire = len(r.rec.data)
			}
			r.frame = Frame{N: num, TS: r.rec.ts, Link: r.rec.link, Data: r.rec.data, Len: wire, Iface: r.rec.iface, Snap: r.snap, IfName: r.ifNames[r.rec.iface]}
			r.onFrame(&r.frame)
		}
		if r.filter != nil && !r.filter.Match(r.rec.link, r.rec.data) {
			r.stats.Filtered++
			continue
		}
		r.dec.ts = r.rec.ts
		switch r.dec.decode(p, r.rec.link, r.rec.data, r.rec.cut) {
		case classTCP:
			r.stats.TCP++
		case classICMP:
			r.stats.ICMP++
		case classDNS:
			r.stats.DNS++
		case classSkipped:
			r.stats.Skipped++
			if !r.otherIP || !p.Src.Addr().IsValid() || !p.Dst.Addr().IsValid() {
				continue
			}
			src, dst := p.Src.Addr(), p.Dst.Addr()
			*p = Packet{Kind: KindOtherIP, Src: netip.AddrPortFrom(src, 0), Dst: netip.AddrPortFrom(dst, 0)}
		case classUnknownLink:
			r.stats.Skipped++
			r.stats.unread(r.rec.link)
			continue
		case classMalformed:
			r.stats.Malformed++
			continue
		case classTruncated:
			r.stats.Truncated++
			continue
		}
		// Field by field, as in record.set: a literal stalls.
		p.File = r.name
		p.N = num
		p.TS = r.rec.ts
		p.Iface = int32(r.rec.iface)
		if p.Dir == DirUnknown {
			p.Dir = r.rec.dir
		}
		return nil
	}
}

// gzStream reads the gzip members of a file one after another, as gzip -d
// does (pigz, bgzip and cat a.gz b.gz write several), and tells data after
// the last member that is not one (ErrTrailingData) from a broken stream.
type gzStream struct {
	z *gzip.Reader
	r *bufio.Reader // under z
}

func (g *gzStream) Read(p []byte) (int, error) {
	for {
		n, err := g.z.Read(p)
		if err != io.EOF || n > 0 {
			if err == io.EOF {
				err = nil // the next Read sees the member's end again
			}
			return n, err
		}
		next, err := g.r.Peek(2)
		switch {
		case len(next) == 0 && err == io.EOF:
			return 0, io.EOF
		case len(next) == 0:
			return 0, err
		case len(next) < 2 || next[0] != 0x1f || next[1] != 0x8b:
			return 0, ErrTrailingData
		}
		if err := g.z.Reset(g.r); err != nil {
			return 0, gzipErr(err)
		}
		g.z.Multistream(false)
	}
}

// gzipErr names gzip in an error from it, and a stream that ends early as
// truncated.
func gzipErr(err error) error {
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return errGzipCut
	case strings.HasPrefix(err.Error(), "gzip: "): // gzip's own errors say so
		return err
	}
	return fmt.Errorf("gzip: %w", err)
}

var errGzipCut = errors.New("gzip stream is truncated")

// pathless drops the path from an error of the os package: ReadError
// names the file already.
func pathless(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// bufSize is the read buffer: large reads keep syscalls and gzip's
// per-call overhead off the per-packet cost.
const bufSize = 256 << 10

// record is one captured frame as a file format hands it over. data is
// owned by the source and valid until the next read.
type record struct {
	data  []byte
	ts    time.Time
	link  uint32
	cut   bool // the snaplen shortened the frame
	wire  int  // length on the wire; 0: len(data)
	iface int  // interface: pcapng's interface id, a live capture's ifindex
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
	gz     *gzip.Reader
	rec    record
	dec    decoder
	stats  Stats
	frame  Frame
	// onFrame, if set, sees every record (OnFrame).
	onFrame func(*Frame)
	// filter, if set, passes over the records it rejects (SetFilter).
	filter *Filter
	// snap and ifNames describe a live capture's interfaces, for Frames.
	snap    uint32
	ifNames map[int]string
	err     error // once set, Next returns it again: the stream cannot resync
}

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
	r := &Reader{name: name}
	fail := func(err error) (*Reader, error) {
		if r.gz != nil {
			r.gz.Close()
		}
		return nil, &ReadError{File: name, Err: err}
	}
	br := bufio.NewReaderSize(rd, bufSize)
	magic, err := br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if r.gz, err = gzip.NewReader(br); err != nil {
			if !strings.HasPrefix(err.Error(), "gzip: ") { // gzip's own errors say so
				err = fmt.Errorf("gzip: %w", err)
			}
			return fail(err)
		}
		br = bufio.NewReaderSize(r.gz, bufSize)
		magic, err = br.Peek(4)
	}
	switch {
	case len(magic) == 0 && err == io.EOF:
		return fail(errors.New("empty file"))
	case len(magic) < 4 && (err == io.EOF || err == io.ErrUnexpectedEOF):
		return fail(fmt.Errorf("not a pcap or pcapng file (%d bytes)", len(magic)))
	case err != nil:
		return fail(err)
	}
	switch m := binary.BigEndian.Uint32(magic); m {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				err = ErrTruncated
			}
			return fail(fmt.Errorf("pcap header: %w", err))
		}
		r.src = &pcapSource{r: pr, link: uint32(pr.LinkType())}
	case ngSHB:
		s := &ngSource{r: br}
		if err := s.section(); err != nil {
			return fail(err)
		}
		r.src = s
	default:
		return fail(fmt.Errorf("not a pcap or pcapng file (magic 0x%08x)", m))
	}
	return r, nil
}

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

// OnFrame has f called with every record Next reads, before it is decoded
// or filtered, numbered as Refs number packets: what "synpath live -w"
// writes. The Frame and its Data are valid only during the call.
func (r *Reader) OnFrame(f func(*Frame)) { r.onFrame = f }

// SetFilter has Next pass over the records f rejects (counted in
// Stats.Filtered); they keep their numbers. A live capture runs its filter
// in the kernel instead.
func (r *Reader) SetFilter(f *Filter) { r.filter = f }

// Close releases the file Open opened. It does not close a reader handed to
// NewReader.
func (r *Reader) Close() error {
	var err error
	if r.gz != nil {
		err = r.gz.Close()
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
		if err := r.src.read(&r.rec); err != nil {
			if err == ErrNoPacket {
				return err // live: nothing arrived in time; not an end
			}
			if err != io.EOF {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					err = ErrTruncated
				}
				err = &ReadError{File: r.name, Packet: r.stats.Packets + 1, Err: err}
			}
			r.err = err
			return err
		}
		r.stats.Packets++
		if ts := r.rec.ts; r.stats.Packets == 1 || ts.Before(r.stats.First) {
			r.stats.First = ts
		}
		if ts := r.rec.ts; ts.After(r.stats.Last) {
			r.stats.Last = ts
		}
		if r.onFrame != nil {
			wire := r.rec.wire
			if wire < len(r.rec.data) {
				wire = len(r.rec.data)
			}
			r.frame = Frame{N: r.stats.Packets, TS: r.rec.ts, Link: r.rec.link, Data: r.rec.data, Len: wire, Iface: r.rec.iface, Snap: r.snap, IfName: r.ifNames[r.rec.iface]}
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
			continue
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
		p.Ref = Ref{File: r.name, N: r.stats.Packets, TS: r.rec.ts, Iface: int32(r.rec.iface)}
		return nil
	}
}

// pcapSource reads classic pcap through pcapgo, which reads into one reused
// buffer.
type pcapSource struct {
	r    *pcapgo.Reader
	link uint32
}

func (s *pcapSource) read(rec *record) error {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		// A header read whole and no data is pcapgo's io.EOF too; only an
		// end before any header byte is clean.
		if err == io.EOF && ci.CaptureLength == 0 {
			return io.EOF
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return ErrTruncated
		}
		return fmt.Errorf("pcap record: %w", err)
	}
	*rec = record{data: data, ts: ci.Timestamp, link: s.link, cut: ci.Length > len(data), wire: ci.Length}
	return nil
}

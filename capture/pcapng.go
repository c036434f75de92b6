package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strings"
	"time"
)

// pcapng is read here rather than with pcapgo.NgReader, which cannot give
// both mixed link types and no allocation per packet: without
// WantMixedLinkType it silently drops the packets of every interface whose
// link type differs from the first one's; with it, it boxes the link type in
// an interface for every packet, which allocates for types above 255 (Linux
// cooked v2 is 276), and an epb_flags option allocates too. The format is
// small: blocks of type, length, body, length.

const (
	ngSHB = 0x0a0d0d0a // section header block, same bytes in either order
	ngIDB = 1          // interface description
	ngPB  = 2          // packet block, obsolete
	ngSPB = 3          // simple packet
	ngEPB = 6          // enhanced packet
	ngISB = 5          // interface statistics
	ngBOM = 0x1a2b3c4d // byte-order magic
	// A packet block holds at most a snaplen (maxRecord) and its options;
	// other blocks (interfaces, name tables, statistics) rarely reach a
	// megabyte. Longer lengths are garbage, or a bomb that a small gzip'd
	// file inflates: refused before anything is allocated for them.
	maxNgPacket = 1 << 20
	maxNgBlock  = 16 << 20
)

type ngIface struct {
	link  uint32
	snap  uint32
	units uint64 // timestamp units per second
	off   int64  // seconds added to every timestamp (if_tsoffset)
	// packets counts its packet blocks read; ran is what its statistics
	// blocks say of when it captured, and how many packets it kept.
	packets uint64
	ran     ngRan
	// filter is the capture filter its description states (if_filter,
	// as libpcap filter text), if hasFilter.
	filter    string
	hasFilter bool
}

// ngRan is what an interface statistics block says of a capture's run:
// isb_starttime, isb_endtime and isb_ifrecv (dumpcap writes them when it
// closes a single-file capture).
type ngRan struct {
	from, until time.Time
	recv        uint64
	set         bool // all three were given, the times in range
}

type ngSource struct {
	// drops are, per interface of the section, the most packets its
	// statistics blocks say were dropped (isb_ifdrop + isb_osdrop).
	drops  map[uint32]uint64
	in     input
	order  binary.ByteOrder
	swap   bool      // order is big-endian (see u32)
	ifaces []ngIface // of the current section
	// sections counts section headers: concatenated captures each have
	// one, and the time between them is covered by none.
	sections int
	hdr      [20]byte
	buf      []byte
}

func (s *ngSource) read(rec *record) error {
	for {
		if n, err := s.in.readFull(s.hdr[:8]); err != nil {
			if n > 0 {
				return eof(err)
			}
			return err // io.EOF at a clean end; trailing gzip data; a read error
		}
		typ := s.u32(s.hdr[0:4])
		if typ == ngSHB {
			if err := s.section(); err != nil {
				return err
			}
			continue
		}
		n := s.u32(s.hdr[4:8])
		if n < 12 || n%4 != 0 {
			return fmt.Errorf("pcapng block type 0x%x: bad length %d", typ, n)
		}
		if limit := ngLimit(typ); n > limit {
			return fmt.Errorf("pcapng block type 0x%x of %d bytes: more than a capture holds (%d)", typ, n, limit)
		}
		body := int(n) - 8 // what follows the header, trailing length included
		var err error
		switch typ {
		case ngIDB:
			err = s.iface(body)
		case ngEPB, ngPB:
			return eof(s.packet(rec, typ, body))
		case ngSPB:
			return eof(s.simple(rec, body))
		case ngISB:
			err = s.stats(body)
		default: // name resolution, secrets, custom
			_, err = s.in.discard(body)
		}
		if err != nil {
			return eof(err)
		}
	}
}

// u32 reads a 32-bit field as order says, without a dynamic call: a
// packet block takes seven.
func (s *ngSource) u32(b []byte) uint32 {
	v := binary.LittleEndian.Uint32(b)
	if s.swap {
		v = bits.ReverseBytes32(v)
	}
	return v
}

// ngLimit is the longest block of a type that a real capture holds.
func ngLimit(typ uint32) uint32 {
	switch typ {
	case ngEPB, ngPB, ngSPB:
		return maxNgPacket
	}
	return maxNgBlock
}

// eof turns an end of input inside a block or record into ErrTruncated.
func eof(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF || err == ErrTrailingData {
		return ErrTruncated
	}
	return err
}

// section reads a section header whose 8 first bytes are in s.hdr (or, when
// opening, still unread) and starts a new list of interfaces.
func (s *ngSource) section() error {
	if s.order == nil {
		if _, err := s.in.readFull(s.hdr[:8]); err != nil {
			return eof(err)
		}
	}
	if _, err := s.in.readFull(s.hdr[8:20]); err != nil {
		return eof(err)
	}
	switch {
	case binary.BigEndian.Uint32(s.hdr[8:12]) == ngBOM:
		s.order, s.swap = binary.BigEndian, true
	case binary.LittleEndian.Uint32(s.hdr[8:12]) == ngBOM:
		s.order, s.swap = binary.LittleEndian, false
	default:
		return fmt.Errorf("bad byte-order magic 0x%x", s.hdr[8:12])
	}
	n := s.order.Uint32(s.hdr[4:8])
	if n < 28 || n%4 != 0 || n > maxNgBlock {
		return fmt.Errorf("pcapng section header: bad length %d", n)
	}
	if major := s.order.Uint16(s.hdr[12:14]); major != 1 {
		return fmt.Errorf("pcapng version %d.%d not supported", major, s.order.Uint16(s.hdr[14:16]))
	}
	s.ifaces = s.ifaces[:0]
	s.sections++
	_, err := s.in.discard(int(n) - 20) // section length, options, trailing length
	return eof(err)
}

// iface reads an interface description: link type, snaplen and the options
// that place its timestamps in time.
func (s *ngSource) iface(body int) error {
	b, err := s.fill(body)
	if err != nil {
		return err
	}
	if len(b) < 12 {
		return errors.New("pcapng interface block too short")
	}
	in := ngIface{link: uint32(s.order.Uint16(b[0:2])), snap: s.order.Uint32(b[4:8]), units: 1e6}
	for o := b[8 : len(b)-4]; len(o) >= 4; {
		code, l := s.order.Uint16(o[0:2]), int(s.order.Uint16(o[2:4]))
		if code == 0 || 4+l > len(o) {
			break
		}
		v := o[4 : 4+l]
		switch {
		case code == 9 && l >= 1: // if_tsresol
			e := uint(v[0] & 0x7f)
			if v[0]&0x80 != 0 {
				if e > 63 {
					return fmt.Errorf("pcapng timestamp resolution 2^-%d not supported", e)
				}
				in.units = 1 << e
			} else {
				if e > 19 {
					return fmt.Errorf("pcapng timestamp resolution 10^-%d not supported", e)
				}
				in.units = 1
				for range e {
					in.units *= 10
				}
			}
		case code == 14 && l >= 8: // if_tsoffset
			in.off = int64(s.order.Uint64(v))
		case code == 11 && l >= 1 && v[0] == 0: // if_filter, libpcap filter text
			in.filter, in.hasFilter = strings.TrimRight(string(v[1:]), "\x00"), true
		}
		o = o[min(4+(l+3)&^3, len(o)):]
	}
	s.ifaces = append(s.ifaces, in)
	return nil
}

// packet reads an enhanced (or obsolete) packet block: interface, 64-bit
// timestamp, captured and original lengths, data, options.
func (s *ngSource) packet(rec *record, typ uint32, body int) error {
	if body < 24 {
		return fmt.Errorf("pcapng packet block too short (%d bytes)", body+8)
	}
	h := s.hdr[:20]
	if _, err := s.in.readFull(h); err != nil {
		return err
	}
	id := int(s.u32(h[0:4]))
	if typ == ngPB {
		id = int(s.order.Uint16(h[0:2]))
	}
	if id >= len(s.ifaces) {
		return fmt.Errorf("packet on interface %d, section has %d", id, len(s.ifaces))
	}
	caplen, origlen := int(s.u32(h[12:16])), int(s.u32(h[16:20]))
	if caplen > body-24 {
		return fmt.Errorf("captured length %d exceeds its block", caplen)
	}
	dir := DirUnknown
	var data []byte
	if b := s.in.take(body - 20); b != nil {
		data = b[:caplen]
		if typ == ngEPB {
			dir = s.epbDirection(b[min(len(b)-4, (caplen+3)&^3) : len(b)-4])
		}
	} else {
		var err error
		if data, err = s.data(caplen, body-20); err != nil {
			return err
		}
	}
	in := &s.ifaces[id]
	in.packets++
	ts, ok := in.time(uint64(s.u32(h[4:8]))<<32 | uint64(s.u32(h[8:12])))
	rec.set(data, ts, in.link, origlen > caplen, origlen, 0, false, !ok)
	rec.dir = dir
	return nil
}

// epbDirection reads the direction an enhanced packet block's options
// record (epb_flags, bits 0-1: 1 inbound, 2 outbound). Options it cannot
// read say nothing.
func (s *ngSource) epbDirection(opts []byte) Direction {
	for len(opts) >= 4 {
		code, n := s.order.Uint16(opts[0:2]), int(s.order.Uint16(opts[2:4]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		if code == 2 && n == 4 {
			switch s.u32(opts[4:8]) & 3 {
			case 1:
				return DirIn
			case 2:
				return DirOut
			}
			break
		}
		opts = opts[min(len(opts), 4+(n+3)&^3):]
	}
	return DirUnknown
}

// simple reads a simple packet block: interface 0, no timestamp.
func (s *ngSource) simple(rec *record, body int) error {
	if body < 8 {
		return fmt.Errorf("pcapng simple packet block too short (%d bytes)", body+8)
	}
	if len(s.ifaces) == 0 {
		return errors.New("simple packet before any interface")
	}
	if _, err := s.in.readFull(s.hdr[:4]); err != nil {
		return err
	}
	in := &s.ifaces[0]
	in.packets++
	origlen := int(s.u32(s.hdr[:4]))
	caplen := min(origlen, body-8)
	if in.snap != 0 {
		caplen = min(caplen, int(in.snap))
	}
	data, err := s.data(caplen, body-4)
	if err != nil {
		return err
	}
	rec.set(data, time.Time{}, in.link, origlen > caplen, origlen, 0, false, false)
	return nil
}

// data reads a packet's n bytes of data and passes over the rest of its
// block, rest bytes in all. When the window holds the block, the data is
// handed on where it lies, not copied.
func (s *ngSource) data(n, rest int) ([]byte, error) {
	if b := s.in.take(rest); b != nil {
		return b[:n], nil
	}
	data, err := s.fill(n)
	if err != nil {
		return nil, err
	}
	_, err = s.in.discard(rest - n)
	return data, err
}

// fill reads n bytes into the reused buffer. n comes from the file, so past
// the current capacity the buffer grows with the bytes that really arrive: a
// short file cannot make it allocate what its lengths claim.
func (s *ngSource) fill(n int) ([]byte, error) {
	b := s.buf[:0]
	for len(b) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(n-len(b), max(len(b), 64<<10)))
		}
		m, err := s.in.readFull(b[len(b):min(n, cap(b))])
		b = b[:len(b)+m]
		if err != nil {
			s.buf = b
			return nil, eof(err)
		}
	}
	s.buf = b
	return b, nil
}

// Times outside these seconds since 1970 come from a broken if_tsoffset or
// resolution; they are clamped (year 9999 is also as far as RFC 3339 and
// JSON go).
const (
	minSec = 0
	maxSec = 253402300799 // 9999-12-31T23:59:59Z
)

// time converts a timestamp in the interface's units; ok is false when it
// was out of range and clamped.
func (in *ngIface) time(ts uint64) (t time.Time, ok bool) {
	sec, frac := ts/in.units, ts%in.units
	hi, lo := bits.Mul64(frac, 1e9)
	ns, _ := bits.Div64(hi, lo, in.units) // frac < units, so no overflow
	// Any second beyond 2^62 is past year 9999 too; capping it keeps the
	// sums below from overflowing.
	sec0 := int64(min(sec, 1<<62))
	switch {
	case in.off > maxSec-sec0:
		return time.Unix(maxSec, 999999999).UTC(), false
	case sec0+in.off < minSec:
		return time.Unix(minSec, 0).UTC(), false
	default:
		return time.Unix(sec0+in.off, int64(ns)).UTC(), true
	}
}

// statsTime converts a statistics block's time, upper then lower 32 bits
// as a packet block's. dumpcap (4.x) writes isb_starttime and isb_endtime
// in microseconds whatever the interface's resolution: read in
// nanoseconds they fall in January 1970, and are read as microseconds.
func (in *ngIface) statsTime(ts uint64) (time.Time, bool) {
	t, ok := in.time(ts)
	if ok && in.units > 1e6 && t.Before(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
		micro := *in
		micro.units = 1e6
		return micro.time(ts)
	}
	return t, ok
}

// stats reads an interface statistics block for the packets the capture
// dropped (a capture that lost packets cannot prove another one was lost)
// and for when it ran.
func (s *ngSource) stats(body int) error {
	b, err := s.fill(body)
	if err != nil {
		return err
	}
	if len(b) < 16 {
		return nil
	}
	id := s.order.Uint32(b[0:4])
	var in *ngIface // nil: a block for no interface described; its drops still count
	if int(id) < len(s.ifaces) {
		in = &s.ifaces[id]
	}
	var drops uint64
	var ran ngRan
	var times, recv int
	for o := b[12 : len(b)-4]; len(o) >= 4; {
		code, l := s.order.Uint16(o[0:2]), int(s.order.Uint16(o[2:4]))
		if code == 0 || 4+l > len(o) {
			break
		}
		v := o[4 : 4+l]
		switch {
		case (code == 5 || code == 7) && l == 8: // isb_ifdrop, isb_osdrop
			drops += s.order.Uint64(v)
		case (code == 2 || code == 3) && l == 8 && in != nil: // isb_starttime, isb_endtime
			t, ok := in.statsTime(uint64(s.u32(v[0:4]))<<32 | uint64(s.u32(v[4:8])))
			if ok {
				times++
				if code == 2 {
					ran.from = t
				} else {
					ran.until = t
				}
			}
		case code == 4 && l == 8: // isb_ifrecv
			ran.recv = s.order.Uint64(v)
			recv++
		}
		o = o[min(4+(l+3)&^3, len(o)):]
	}
	if times == 2 && recv == 1 && !ran.until.Before(ran.from) {
		ran.set = true
		in.ran = ran // times counts only for an interface described
	}
	if s.drops == nil {
		s.drops = map[uint32]uint64{}
	}
	// The counters are cumulative: the latest block has the total.
	s.drops[id] = max(s.drops[id], drops)
	return nil
}

// Ran is when the capture ran, as its own statistics say: from the start
// of the latest of its interfaces to the end of the earliest. ok only
// when the file holds one section whose every interface has statistics
// giving a start, an end and how many packets it kept, and holds exactly
// that many packets of each: dumpcap writes these when it closes a
// single-file capture. A file cut from a longer capture (editcap, a
// filter, one file of several) no longer holds all it counted, and a
// count it does not hold was not kept, so its times are not trusted.
func (s *ngSource) Ran() (from, until time.Time, ok bool) {
	if s.sections != 1 || len(s.ifaces) == 0 {
		return time.Time{}, time.Time{}, false
	}
	for i, in := range s.ifaces {
		if !in.ran.set || in.ran.recv != in.packets {
			return time.Time{}, time.Time{}, false
		}
		if i == 0 || in.ran.from.After(from) {
			from = in.ran.from
		}
		if i == 0 || in.ran.until.Before(until) {
			until = in.ran.until
		}
	}
	return from, until, !until.Before(from)
}

// CaptureFilter is the capture filter the file says it was taken with
// (if_filter, as dumpcap writes it from -f), when every interface of its
// section states the same one.
func (s *ngSource) CaptureFilter() (string, bool) {
	if len(s.ifaces) == 0 {
		return "", false
	}
	for _, in := range s.ifaces {
		if !in.hasFilter || in.filter != s.ifaces[0].filter {
			return "", false
		}
	}
	return s.ifaces[0].filter, true
}

// Drops is how many packets the capture's statistics say were dropped.
func (s *ngSource) Drops() uint64 {
	var n uint64
	for _, d := range s.drops {
		n += d
	}
	return n
}

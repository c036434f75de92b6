package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// Classic pcap is read here rather than with pcapgo, which trusts the
// header's snaplen: a file saying 0xFFFFFFFF there and as a record's length
// makes it buffer the whole record, gigabytes from a small gzip'd file. It
// also refuses versions 2.0 to 2.3, which tshark reads. The format is
// small: a 24-byte header, then records of a 16-byte header and the data.

// maxRecord is libpcap's MAXIMUM_SNAPLEN: no writer puts more in a record,
// and the read buffer holds it whole, so records are read without a copy.
const maxRecord = 262144

type pcapSource struct {
	in    input
	order binary.ByteOrder
	// swap says order is big-endian: record headers are read as
	// little-endian and swapped, not through the interface (four calls a
	// record).
	swap  bool
	scale int64 // nanoseconds per unit of the fraction field
	link  uint32
	fcs   int // bytes of frame check sequence ending each whole frame
	minor uint16
}

// newPcap reads the file header.
func newPcap(in input) (*pcapSource, error) {
	h, err := in.peek(24)
	if err != nil {
		return nil, fmt.Errorf("pcap header: %w", eof(err))
	}
	s := &pcapSource{in: in, order: binary.LittleEndian, scale: 1000}
	switch m := binary.LittleEndian.Uint32(h); m {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		s.scale = 1
	default:
		s.order, s.swap = binary.BigEndian, true
		if m == 0x4d3cb2a1 {
			s.scale = 1
		}
	}
	major, minor := s.order.Uint16(h[4:6]), s.order.Uint16(h[6:8])
	if major != 2 || minor > 4 {
		return nil, fmt.Errorf("pcap version %d.%d not supported", major, minor)
	}
	s.minor = minor
	// The link type is the low 16 bits; the high ones may say how long an
	// FCS ends each frame (libpcap's LT_FCS_LENGTH, in 16-bit words).
	lt := s.order.Uint32(h[20:24])
	s.link = lt & 0xffff
	if lt&0x04000000 != 0 {
		s.fcs = int(lt>>28) * 2
	}
	_, err = s.in.discard(24)
	return s, err
}

// header reads a record header: its time, the length captured and the
// length on the wire.
func (s *pcapSource) header(h []byte) (sec, frac, incl, orig uint32) {
	le := binary.LittleEndian
	sec, frac, incl, orig = le.Uint32(h[0:4]), le.Uint32(h[4:8]), le.Uint32(h[8:12]), le.Uint32(h[12:16])
	if s.swap {
		sec, frac = bits.ReverseBytes32(sec), bits.ReverseBytes32(frac)
		incl, orig = bits.ReverseBytes32(incl), bits.ReverseBytes32(orig)
	}
	// Before 2.3 the two lengths were written the other way round; 2.3
	// files come both ways. tshark swaps them back the same way.
	if s.minor < 3 || (s.minor == 3 && incl > orig) {
		incl, orig = orig, incl
	}
	return sec, frac, incl, orig
}

func (s *pcapSource) read(rec *record) error {
	h := s.in.take(16)
	if h == nil {
		var err error
		if h, err = s.in.takeMore(16); err != nil {
			if len(h) == 0 && err != io.ErrUnexpectedEOF {
				return err // io.EOF at a clean end; trailing gzip data; a read error
			}
			return eof(err)
		}
	}
	sec, frac32, incl, orig := s.header(h)
	if incl > maxRecord {
		return fmt.Errorf("pcap record of %d bytes: more than any link carries (%d)", incl, maxRecord)
	}
	// A fraction field of a second or more is a writer's bug: held
	// to the second, not carried into the next ones, and counted.
	frac := int64(frac32) * s.scale
	badTime := frac >= 1e9
	if badTime {
		frac = 1e9 - s.scale
	}
	ts := time.Unix(int64(sec), frac).UTC()
	// h is not used past here: taking the data may move the window.
	data := s.in.take(int(incl))
	if data == nil {
		var err error
		if data, err = s.in.takeMore(int(incl)); err != nil {
			return eof(err)
		}
	}
	// A captured length above the original one is a writer's bug; tshark
	// shows the bytes, and so do we, counting the record.
	badLen := incl > orig
	cut := incl < orig
	if s.fcs > 0 && !cut && len(data) >= s.fcs {
		data = data[:len(data)-s.fcs]
	}
	rec.set(data, ts, s.link, cut, int(orig), 0, badLen, badTime)
	return nil
}

// times hands each record's time, in nanoseconds, and its offset from
// where s began to f, the records undecoded, until f says to stop or a
// record cannot be read: the header walk that finds a file's
// time-ordered runs (timeorder.go).
func (s *pcapSource) times(f func(ns, off int64) bool) {
	for off := int64(0); ; {
		h := s.in.take(16)
		if h == nil {
			var err error
			if h, err = s.in.takeMore(16); err != nil {
				return
			}
		}
		sec, frac, incl, _ := s.header(h)
		if incl > maxRecord {
			return
		}
		ns := int64(sec)*1e9 + min(int64(frac)*s.scale, 1e9-s.scale)
		if !f(ns, off) {
			return
		}
		off += 16 + int64(incl)
		if s.in.take(int(incl)) == nil {
			if _, err := s.in.discard(int(incl)); err != nil {
				return
			}
		}
	}
}

package capture

import (
	"bufio"
	"encoding/binary"
	"io"
	"time"
)

// Frame is one captured record as it was read, for writing it out.
type Frame struct {
	N    uint64 // its number in the capture, as Ref.N counts
	TS   time.Time
	Link uint32 // LINKTYPE_* of its interface
	Data []byte // what was captured
	Len  int    // its length on the wire (≥ len(Data))
	// Iface is its interface (a live capture's ifindex; the pcapng
	// interface id of a file), IfName the interface's name if known.
	Iface  int
	IfName string
	Snap   uint32 // the snaplen it was captured with; 0: unknown
	// Comment, if set, is written with the packet (opt_comment, shown by
	// Wireshark as frame.comment).
	Comment string
}

// PcapngWriter writes frames as pcapng: a section header, an interface
// description per interface and link type met (written before its first
// packet, with its name and nanosecond timestamps), and an enhanced packet
// block per frame. Frames need not come in time order.
type PcapngWriter struct {
	w      *bufio.Writer
	ifaces map[ngIfaceKey]uint32
	frames []uint64 // written, per interface id
	// first and last are the times of the frames written: the run
	// WriteStats states holds them, as readers require (Reader.Ran).
	first, last time.Time
	packetID    bool
	buf         []byte
}

type ngIfaceKey struct {
	iface int
	link  uint32
}

// NewPcapngWriter writes a section header to w. With packetIDs, each packet
// block carries its frame number in the source capture (epb_packetid,
// shown by Wireshark as frame.packet_id): for a file holding a selection
// of frames, whose own numbering then differs.
func NewPcapngWriter(w io.Writer, packetIDs bool) (*PcapngWriter, error) {
	pw := &PcapngWriter{w: bufio.NewWriterSize(w, 64<<10), ifaces: make(map[ngIfaceKey]uint32), packetID: packetIDs}
	b := pw.buf[:0]
	b = le32(b, ngSHB)
	b = le32(b, 0) // length, set below
	b = le32(b, ngBOM)
	b = le16(b, 1)
	b = le16(b, 0)
	b = le64(b, ^uint64(0))               // section length unknown
	b = ngOption(b, 4, []byte("synpath")) // shb_userappl
	b = le32(b, 0)                        // opt_endofopt
	pw.buf = ngEnd(b)
	_, err := pw.w.Write(pw.buf)
	return pw, err
}

// WriteFrame writes one frame.
func (pw *PcapngWriter) WriteFrame(f *Frame) error {
	k := ngIfaceKey{f.Iface, f.Link}
	id, ok := pw.ifaces[k]
	if !ok {
		id = uint32(len(pw.ifaces))
		pw.ifaces[k] = id
		pw.frames = append(pw.frames, 0)
		b := pw.buf[:0]
		b = le32(b, ngIDB)
		b = le32(b, 0)
		b = le16(b, uint16(f.Link))
		b = le16(b, 0)
		b = le32(b, f.Snap) // 0: no limit
		if f.IfName != "" {
			b = ngOption(b, 2, []byte(f.IfName)) // if_name
		}
		b = ngOption(b, 9, []byte{9}) // if_tsresol: nanoseconds
		b = le32(b, 0)
		pw.buf = ngEnd(b)
		if _, err := pw.w.Write(pw.buf); err != nil {
			return err
		}
	}
	pw.frames[id]++
	if pw.first.IsZero() || f.TS.Before(pw.first) {
		pw.first = f.TS
	}
	if f.TS.After(pw.last) {
		pw.last = f.TS
	}
	ts := uint64(f.TS.UnixNano())
	b := pw.buf[:0]
	b = le32(b, ngEPB)
	b = le32(b, 0)
	b = le32(b, id)
	b = le32(b, uint32(ts>>32))
	b = le32(b, uint32(ts))
	b = le32(b, uint32(len(f.Data)))
	b = le32(b, uint32(max(f.Len, len(f.Data))))
	b = append(b, f.Data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	if pw.packetID || f.Comment != "" {
		if f.Comment != "" {
			b = ngOption(b, 1, []byte(f.Comment)) // opt_comment
		}
		if pw.packetID {
			b = le16(b, 5) // epb_packetid
			b = le16(b, 8)
			b = le64(b, f.N)
		}
		b = le32(b, 0) // opt_endofopt
	}
	pw.buf = ngEnd(b)
	_, err := pw.w.Write(pw.buf)
	return err
}

// WriteStats ends a capture written whole with an interface statistics
// block per interface, as dumpcap ends its own: isb_starttime and
// isb_endtime (from and until: when the capture ran, widened to the
// frames written, which a clock stepped back or a frame queued before the
// file was made may put outside), isb_ifrecv (the frames written on it)
// and isb_ifdrop (drops, counted on the first). A later reader takes them
// as proof of when the capture ran, even before its first packet and
// after its last (Reader.Ran). Only for a file holding every frame
// captured: of a selection, they would lie.
func (pw *PcapngWriter) WriteStats(from, until time.Time, drops uint64) error {
	if !pw.first.IsZero() && pw.first.Before(from) {
		from = pw.first
	}
	if pw.last.After(until) {
		until = pw.last
	}
	// Times as a packet block's: upper then lower 32 bits, nanoseconds.
	stamp := func(b []byte, t time.Time) []byte {
		ns := uint64(t.UnixNano())
		return le32(le32(b, uint32(ns>>32)), uint32(ns))
	}
	var v [8]byte
	for id, n := range pw.frames {
		b := pw.buf[:0]
		b = le32(b, ngISB)
		b = le32(b, 0)
		b = le32(b, uint32(id))
		b = stamp(b, until)
		b = ngOption(b, 2, stamp(v[:0], from))  // isb_starttime
		b = ngOption(b, 3, stamp(v[:0], until)) // isb_endtime
		b = ngOption(b, 4, le64(v[:0], n))      // isb_ifrecv
		if id == 0 {
			b = ngOption(b, 5, le64(v[:0], drops)) // isb_ifdrop
		}
		b = le32(b, 0) // opt_endofopt
		pw.buf = ngEnd(b)
		if _, err := pw.w.Write(pw.buf); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes out what is buffered.
func (pw *PcapngWriter) Flush() error { return pw.w.Flush() }

// ngOption appends one option, padded to 32 bits.
func ngOption(b []byte, code uint16, v []byte) []byte {
	b = le16(b, code)
	b = le16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// ngEnd appends the trailing length of the block b holds and writes it in
// its header too.
func ngEnd(b []byte) []byte {
	n := uint32(len(b) + 4)
	binary.LittleEndian.PutUint32(b[4:8], n)
	return le32(b, n)
}

func le16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func le32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func le64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

package flows

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/synpath/synpath/capture"
)

// An attempt that has gone quiet waits, often for a minute (Idle), for a
// packet that may never come: a timeout's client resending its SYN, a
// stalled request's reply. As a struct it takes 1.4 KB and 72 bytes an
// event, mostly empty counters and 24-byte times; packed (freeze) it takes
// a tenth: every field in a fixed order, as varints, times as seconds
// from the first SYN, files as an index into the tracker's names. Packed
// bytes hold no pointer, so the collector never scans them. A packet for
// it, or its expiry, unpacks it (thaw).
//
// Every field of Attempt is packed, the tracker's own too: a test fills
// each with a value and requires the round trip to give it back, so a
// field added later and forgotten here fails it.

// coldFiles names files by index; the tracker keeps one.
type coldFiles struct {
	names []string
	index map[string]uint64
	last  uint64 // the index asked for last: nearly always the one asked for next
}

func (f *coldFiles) id(name string) uint64 {
	if f.last < uint64(len(f.names)) && f.names[f.last] == name {
		return f.last
	}
	if i, ok := f.index[name]; ok {
		f.last = i
		return i
	}
	if f.index == nil {
		f.index = map[string]uint64{}
	}
	f.index[name] = uint64(len(f.names))
	f.names = append(f.names, name)
	return f.index[name]
}

// packable says whether freeze can keep a exactly: its times are UTC
// without a monotonic reading (capture files', not a clock's), it is not
// waiting out a RST's grace nor handed on, and its addresses carry no zone.
// Its DNS answer is not packed: the caller keeps the pointer.
func packable(a *Attempt) bool {
	return !a.emitted && a.heldUntil.IsZero() && plainTime(a.SYN.First) &&
		a.Key.Client.Addr().Zone() == "" && a.Key.Server.Addr().Zone() == "" && a.ICMPInfo.From.Zone() == ""
}

func plainTime(t time.Time) bool { return t.Location() == time.UTC && t == t.Round(0) }

// maxCold bounds a packed attempt: fewer than 300 varints (10 bytes at
// most) and addresses (17), and two names.
const maxCold = 8 << 10

// freeze packs a into scratch, grown to maxCold if shorter, and returns
// the packed bytes, in scratch. ok is false when a holds something
// packing cannot keep exactly (see packable).
func freeze(scratch []byte, a *Attempt, files *coldFiles) (b []byte, ok bool) {
	if !packable(a) {
		return scratch[:0], false
	}
	if len(scratch) < maxCold {
		scratch = make([]byte, maxCold)
	}
	// Written in place rather than appended: the varints are most of the
	// cost of packing, and nearly all of them are one byte.
	e := coldEnc{b: scratch[:maxCold], base: a.SYN.First.Unix(), files: files, ok: true}
	e.s(e.base)
	e.addrPort(a.Key.Client)
	e.addrPort(a.Key.Server)
	e.u(uint64(a.Key.Tunnel.Kind))
	e.u(uint64(a.Key.Tunnel.ID))
	e.u(uint64(a.ISN))
	e.u(files.id(a.File))
	o := &a.SYNOpts
	e.u(uint64(o.MSS))
	e.s(int64(o.WScale))
	e.bools(o.SACKPerm, o.HasTS, o.Cut, a.ACKInferred, a.RSTInHandshake, a.ServerAckedData, a.Settled, a.ICMPInfo.V6)
	e.u(uint64(o.TSVal))
	e.u(uint64(o.TSEcr))
	e.u(uint64(a.SYNData))
	e.seen(&a.SYN)
	e.seen(&a.SYNACK)
	e.u(uint64(a.ServerISN))
	e.u(uint64(a.AltServerISN))
	e.u(uint64(a.SYNAfterSYNACK))
	e.u(uint64(a.SYNACKAfterACK))
	e.seen(&a.ACK)
	e.u(uint64(a.ServerBytesAcked))
	e.seen(&a.ServerRST)
	e.seen(&a.ClientRST)
	e.seen(&a.ICMP)
	e.addr(a.ICMPInfo.From)
	e.u(uint64(a.ICMPInfo.Type))
	e.u(uint64(a.ICMPInfo.Code))
	e.u(uint64(a.ICMPInfo.QuoteLen))
	e.seen(&a.ClientData)
	e.seen(&a.ServerData)
	e.u(a.ClientBytes)
	e.u(a.ServerBytes)
	for _, v := range [...]uint32{a.ServerSeqLo, a.ServerSeqHi, a.ServerMaxSeg, a.ServerResent, uint32(a.ServerMSS), a.ServerSent,
		a.ClientDupACKs, a.ClientSeqLo, a.ClientSeqHi, a.ClientMaxSeg, a.ClientResent, a.ClientBytesAcked, a.ServerDupACKs,
		a.EventsDropped, a.Duplicates, a.Echoes} {
		e.u(uint64(v))
	}
	e.seen(&a.ClientFIN)
	e.seen(&a.ServerFIN)
	e.app(&a.ClientApp)
	e.ref(&a.ClientAppAt)
	e.app(&a.ServerApp)
	e.ref(&a.ServerAppAt)
	e.u(uint64(a.ServerHops.TTL))
	e.u(uint64(a.ServerHops.IPID))
	e.u(uint64(a.ServerHops.Count))
	e.ref(&a.ServerHops.From)
	e.time(a.End)
	e.u(uint64(a.EndedBy))
	e.u(uint64(len(a.Events)))
	for i := range a.Events {
		ev := &a.Events[i]
		e.ref(&ev.Ref)
		e.u(uint64(ev.Type))
		e.bools(ev.FromClient)
		e.u(uint64(ev.App))
		e.u(uint64(ev.TTL))
		e.u(uint64(ev.IPID))
		e.u(uint64(ev.Len))
	}
	s := &a.lastSig
	e.bools(s.fromClient)
	e.u(uint64(s.seq))
	e.u(uint64(s.ack))
	e.u(uint64(s.ipid))
	e.u(uint64(s.flags))
	e.u(uint64(s.length))
	e.u(uint64(s.ttl))
	e.s(s.ns)
	e.time(a.last)
	e.u(a.touched)
	if !e.ok {
		return scratch[:0], false
	}
	return e.b[:e.n], true
}

// errCold is packed bytes that do not unpack: a bug, never input.
var errCold = errors.New("flows: corrupt frozen attempt")

// thaw unpacks b into a, which must be zero but for its event storage,
// kept for reuse, and its DNS answer, which the caller kept.
func thaw(a *Attempt, b []byte, files *coldFiles) error {
	d := coldDec{b: b, files: files}
	base, n := binary.Varint(d.b)
	if n <= 0 {
		return errCold
	}
	d.b, d.base = d.b[n:], base
	a.Key.Client = d.addrPort()
	a.Key.Server = d.addrPort()
	a.Key.Tunnel.Kind = capture.TunnelKind(d.u())
	a.Key.Tunnel.ID = uint32(d.u())
	a.ISN = uint32(d.u())
	a.File = d.file()
	o := &a.SYNOpts
	o.MSS = uint16(d.u())
	o.WScale = int8(d.s())
	fl := d.u()
	bit := func(i uint) bool { return fl&(1<<i) != 0 }
	o.SACKPerm, o.HasTS, o.Cut, a.ACKInferred, a.RSTInHandshake, a.ServerAckedData, a.Settled, a.ICMPInfo.V6 =
		bit(0), bit(1), bit(2), bit(3), bit(4), bit(5), bit(6), bit(7)
	o.TSVal = uint32(d.u())
	o.TSEcr = uint32(d.u())
	a.SYNData = uint32(d.u())
	d.seen(&a.SYN)
	d.seen(&a.SYNACK)
	a.ServerISN = uint32(d.u())
	a.AltServerISN = uint32(d.u())
	a.SYNAfterSYNACK = uint32(d.u())
	a.SYNACKAfterACK = uint32(d.u())
	d.seen(&a.ACK)
	a.ServerBytesAcked = uint32(d.u())
	d.seen(&a.ServerRST)
	d.seen(&a.ClientRST)
	d.seen(&a.ICMP)
	a.ICMPInfo.From = d.addr()
	a.ICMPInfo.Type = uint8(d.u())
	a.ICMPInfo.Code = uint8(d.u())
	a.ICMPInfo.QuoteLen = uint16(d.u())
	d.seen(&a.ClientData)
	d.seen(&a.ServerData)
	a.ClientBytes = d.u()
	a.ServerBytes = d.u()
	var mss uint32
	for _, p := range [...]*uint32{&a.ServerSeqLo, &a.ServerSeqHi, &a.ServerMaxSeg, &a.ServerResent, &mss, &a.ServerSent,
		&a.ClientDupACKs, &a.ClientSeqLo, &a.ClientSeqHi, &a.ClientMaxSeg, &a.ClientResent, &a.ClientBytesAcked, &a.ServerDupACKs,
		&a.EventsDropped, &a.Duplicates, &a.Echoes} {
		*p = uint32(d.u())
	}
	a.ServerMSS = uint16(mss)
	d.seen(&a.ClientFIN)
	d.seen(&a.ServerFIN)
	d.app(&a.ClientApp)
	d.ref(&a.ClientAppAt)
	d.app(&a.ServerApp)
	d.ref(&a.ServerAppAt)
	a.ServerHops.TTL = uint8(d.u())
	a.ServerHops.IPID = uint16(d.u())
	a.ServerHops.Count = uint32(d.u())
	d.ref(&a.ServerHops.From)
	a.End = d.time()
	a.EndedBy = EndReason(d.u())
	events := int(d.u())
	if events > MaxEvents {
		return errCold
	}
	a.Events = a.Events[:0]
	for range events {
		var ev Event
		d.ref(&ev.Ref)
		ev.Type = EventType(d.u())
		ev.FromClient = d.u()&1 != 0
		ev.App = capture.AppKind(d.u())
		ev.TTL = uint8(d.u())
		ev.IPID = uint16(d.u())
		ev.Len = uint32(d.u())
		a.Events = append(a.Events, ev)
	}
	s := &a.lastSig
	s.fromClient = d.u()&1 != 0
	s.seq = uint32(d.u())
	s.ack = uint32(d.u())
	s.ipid = uint16(d.u())
	s.flags = capture.TCPFlags(d.u())
	s.length = uint32(d.u())
	s.ttl = uint8(d.u())
	s.ns = d.s()
	a.last = d.time()
	a.touched = d.u()
	if d.err != nil || len(d.b) != 0 {
		return errCold
	}
	return nil
}

type coldEnc struct {
	b     []byte // maxCold long
	n     int    // bytes written
	base  int64  // the first SYN's Unix second: times are kept from it
	files *coldFiles
	ok    bool
}

func (e *coldEnc) u(v uint64) {
	if v < 0x80 {
		e.b[e.n] = byte(v)
		e.n++
		return
	}
	e.n += binary.PutUvarint(e.b[e.n:], v)
}

func (e *coldEnc) s(v int64) { e.u(uint64(v<<1) ^ uint64(v>>63)) }

func (e *coldEnc) raw(b []byte) { e.n += copy(e.b[e.n:], b) }

func (e *coldEnc) bools(vs ...bool) {
	var fl uint64
	for i, v := range vs {
		if v {
			fl |= 1 << i
		}
	}
	e.u(fl)
}

// time keeps t to the nanosecond: 0 for the zero time, else the
// nanoseconds plus one and the seconds from the base.
func (e *coldEnc) time(t time.Time) {
	if t.IsZero() {
		e.u(0)
		return
	}
	if !plainTime(t) {
		e.ok = false
	}
	e.u(uint64(t.Nanosecond()) + 1)
	e.s(t.Unix() - e.base)
}

func (e *coldEnc) addr(a netip.Addr) {
	switch {
	case !a.IsValid():
		e.u(0)
	case a.Is4():
		e.u(4)
		v := a.As4()
		e.raw(v[:])
	default:
		if a.Zone() != "" {
			e.ok = false
		}
		e.u(16)
		v := a.As16()
		e.raw(v[:])
	}
}

func (e *coldEnc) addrPort(ap netip.AddrPort) {
	e.addr(ap.Addr())
	e.u(uint64(ap.Port()))
}

// seen keeps the count, and the rest unless it is zero (as it is for
// most kinds of packet, none having come).
func (e *coldEnc) seen(s *Seen) {
	rest := *s
	rest.Count = 0
	if rest == (Seen{}) {
		e.u(uint64(s.Count) << 1)
		return
	}
	e.u(uint64(s.Count)<<1 | 1)
	e.u(uint64(s.TTL))
	e.u(uint64(s.IPID))
	e.time(s.First)
	e.time(s.Last)
}

// ref keeps a packet reference: one byte when it is empty (a packet not
// seen yet), as most are.
func (e *coldEnc) ref(r *capture.Ref) {
	if *r == (capture.Ref{}) {
		e.u(0)
		return
	}
	e.u(e.files.id(r.File) + 1)
	e.u(r.N)
	e.time(r.TS)
	e.s(int64(r.Iface))
}

func (e *coldEnc) app(a *capture.AppInfo) {
	e.u(uint64(a.Kind))
	e.u(uint64(a.Name.Len()))
	e.n = len(a.Name.AppendTo(e.b[:e.n])) // in place: e.b has room to maxCold
	e.bools(a.Name.Cut, a.Partial)
	e.u(uint64(a.Status))
}

type coldDec struct {
	b     []byte
	base  int64
	files *coldFiles
	err   error
}

func (d *coldDec) u() uint64 {
	if len(d.b) > 0 && d.b[0] < 0x80 {
		v := uint64(d.b[0])
		d.b = d.b[1:]
		return v
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = errCold, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *coldDec) s() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = errCold, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *coldDec) bytes(n int) []byte {
	if n > len(d.b) {
		d.err, d.b = errCold, nil
		return make([]byte, n)
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *coldDec) time() time.Time {
	ns := d.u()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(d.base+d.s(), int64(ns-1)).UTC()
}

func (d *coldDec) addr() netip.Addr {
	switch d.u() {
	case 0:
		return netip.Addr{}
	case 4:
		return netip.AddrFrom4([4]byte(d.bytes(4)))
	default:
		return netip.AddrFrom16([16]byte(d.bytes(16)))
	}
}

func (d *coldDec) addrPort() netip.AddrPort {
	a := d.addr()
	return netip.AddrPortFrom(a, uint16(d.u()))
}

func (d *coldDec) seen(s *Seen) {
	v := d.u()
	s.Count = uint32(v >> 1)
	if v&1 == 0 {
		return
	}
	s.TTL = uint8(d.u())
	s.IPID = uint16(d.u())
	s.First = d.time()
	s.Last = d.time()
}

func (d *coldDec) file() string { return d.fileAt(d.u()) }

func (d *coldDec) fileAt(i uint64) string {
	if i >= uint64(len(d.files.names)) {
		d.err = errCold
		return ""
	}
	return d.files.names[i]
}

func (d *coldDec) ref(r *capture.Ref) {
	i := d.u()
	if i == 0 {
		*r = capture.Ref{}
		return
	}
	r.File = d.fileAt(i - 1)
	r.N = d.u()
	r.TS = d.time()
	r.Iface = int32(d.s())
}

func (d *coldDec) app(a *capture.AppInfo) {
	a.Kind = capture.AppKind(d.u())
	a.Name = capture.NameOfBytes(d.bytes(int(d.u())))
	fl := d.u()
	a.Name.Cut, a.Partial = fl&1 != 0, fl&2 != 0
	a.Status = uint16(d.u())
}

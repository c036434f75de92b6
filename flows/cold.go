package flows

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/synpath/synpath/capture"
)

// An attempt that has gone quiet waits, often for a minute (Idle), for a
// packet that may never come: a timeout's client resending its SYN, a
// stalled request's reply. Its state (attemptState) takes 1.1 KB, mostly
// empty counters and event records; packed (freeze) it takes a tenth:
// every field in a fixed order, as varints, times as nanoseconds from the
// first SYN, files as an index into the tracker's names. Packed bytes hold
// no pointer, so the collector never scans them. A packet for it, or its
// expiry, unpacks it (thaw).
//
// Every field of attemptState is packed but its place in the tracker
// (index, lru links, event storage) and its DNS answer: a test fills each
// with a value and requires the round trip to give it back, so a field
// added later and forgotten here fails it.

// fileNames names files by index; the tracker keeps one.
type fileNames struct {
	names []string
	index map[string]uint32
	last  uint32 // the index asked for last: nearly always the one asked for next
}

func (f *fileNames) id(name string) uint32 {
	if f.last < uint32(len(f.names)) && f.names[f.last] == name {
		return f.last
	}
	if i, ok := f.index[name]; ok {
		f.last = i
		return i
	}
	if f.index == nil {
		f.index = map[string]uint32{}
	}
	f.index[name] = uint32(len(f.names))
	f.names = append(f.names, name)
	return f.index[name]
}

// packable says whether freeze can keep a exactly: its times are plain,
// it is not waiting out a RST's grace nor handed on, and its addresses
// carry no zone. Its DNS answer is not packed: the caller keeps the
// pointer.
func (t *Tracker) packable(a *attemptState) bool {
	return !a.emitted && a.held == 0 && !(len(t.oddTimes) > 0 && t.hasOdd(a)) &&
		a.Key.Client.Addr().Zone() == "" && a.Key.Server.Addr().Zone() == "" && a.ICMPInfo.From.Zone() == ""
}

// maxCold bounds a packed attempt: fewer than 300 varints (10 bytes at
// most) and addresses (17), and two names.
const maxCold = 8 << 10

// freeze packs a into scratch, grown to maxCold if shorter, and returns
// the packed bytes, in scratch. ok is false when a holds something
// packing cannot keep exactly (see packable).
func (t *Tracker) freeze(scratch []byte, a *attemptState) (b []byte, ok bool) {
	if !t.packable(a) {
		return scratch[:0], false
	}
	if len(scratch) < maxCold {
		scratch = make([]byte, maxCold)
	}
	// Written in place rather than appended: the varints are most of the
	// cost of packing, and nearly all of them are one byte.
	e := coldEnc{b: scratch[:maxCold], base: a.SYN.First, files: &t.files, ok: true}
	e.u(uint64(e.base))
	e.addrPort(a.Key.Client)
	e.addrPort(a.Key.Server)
	e.u(uint64(a.Key.Tunnel.Kind))
	e.u(uint64(a.Key.Tunnel.ID))
	e.u(uint64(a.ISN))
	e.u(uint64(t.files.id(a.File)))
	o := &a.SYNOpts
	e.u(uint64(o.MSS))
	e.s(int64(o.WScale))
	e.bools(o.SACKPerm, o.HasTS, o.Cut, a.ACKInferred, a.RSTInHandshake, a.ServerAckedData, a.Settled, a.ICMPInfo.V6, a.timed, a.ServerRSTBare)
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
		a.EventsDropped, a.Duplicates, a.Echoes, a.staleAck, a.StaleACKs, a.StaleResets, a.BadSumSYNs, a.BadSumSYNACKs, uint32(a.Earlier), a.ECNSYNs, b2u(a.ECNFallback)} {
		e.u(uint64(v))
	}
	e.u(a.plainTSVal)
	e.seen(&a.ClientFIN)
	e.seen(&a.ServerFIN)
	e.app(&a.ClientApp)
	e.ref(&a.ClientAppAt)
	e.app(&a.ServerApp)
	e.ref(&a.ServerAppAt)
	e.u(uint64(a.nEvents))
	for i := range int(a.nEvents) {
		ev := t.event(a, i)
		e.stamp(ev.ts)
		e.u(ev.n)
		e.u(uint64(ev.file))
		e.s(int64(ev.iface))
		e.u(uint64(ev.typ))
		e.bools(ev.fromClient)
		e.u(uint64(ev.app))
		e.u(uint64(ev.ttl))
		e.u(uint64(ev.ipid))
		e.u(uint64(ev.length))
	}
	s := &a.lastSig
	e.bools(s.fromClient)
	e.u(uint64(s.seq))
	e.u(uint64(s.ack))
	e.u(uint64(s.ipid))
	e.u(uint64(s.flags))
	e.u(uint64(s.length))
	e.u(uint64(s.ttl))
	e.nanos(s.ns)
	e.nanos(a.last)
	e.s(int64(a.lastSec))
	e.u(a.touched)
	f := &a.fallback
	e.addrPort(f.server)
	e.stamp(f.syn)
	e.stamp(f.synack)
	e.addrPort(a.answeredFrom)
	e.u(uint64(a.answeredFromCount))
	if !e.ok {
		return scratch[:0], false
	}
	return e.b[:e.n], true
}

// errCold is packed bytes that do not unpack: a bug, never input.
var errCold = errors.New("flows: corrupt frozen attempt")

// thaw unpacks b into a, which must be zero but for its index, kept, and
// its DNS answer, which the caller kept.
func (t *Tracker) thaw(a *attemptState, b []byte) error {
	d := coldDec{b: b, files: &t.files}
	d.base = stamp(d.u())
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
	o.SACKPerm, o.HasTS, o.Cut, a.ACKInferred, a.RSTInHandshake, a.ServerAckedData, a.Settled, a.ICMPInfo.V6, a.timed, a.ServerRSTBare =
		bit(0), bit(1), bit(2), bit(3), bit(4), bit(5), bit(6), bit(7), bit(8), bit(9)
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
	var mss, earlier, ecnFallback uint32
	for _, p := range [...]*uint32{&a.ServerSeqLo, &a.ServerSeqHi, &a.ServerMaxSeg, &a.ServerResent, &mss, &a.ServerSent,
		&a.ClientDupACKs, &a.ClientSeqLo, &a.ClientSeqHi, &a.ClientMaxSeg, &a.ClientResent, &a.ClientBytesAcked, &a.ServerDupACKs,
		&a.EventsDropped, &a.Duplicates, &a.Echoes, &a.staleAck, &a.StaleACKs, &a.StaleResets, &a.BadSumSYNs, &a.BadSumSYNACKs, &earlier,
		&a.ECNSYNs, &ecnFallback} {
		*p = uint32(d.u())
	}
	a.plainTSVal = d.u()
	a.ServerMSS, a.Earlier, a.ECNFallback = uint16(mss), Earlier(earlier), ecnFallback != 0
	d.seen(&a.ClientFIN)
	d.seen(&a.ServerFIN)
	d.app(&a.ClientApp)
	d.ref(&a.ClientAppAt)
	d.app(&a.ServerApp)
	d.ref(&a.ServerAppAt)
	events := int(d.u())
	if events > MaxEvents {
		return errCold
	}
	for range events {
		ev := t.addEvent(a)
		ev.ts = d.stamp()
		ev.n = d.u()
		ev.file = uint32(d.u())
		ev.iface = int32(d.s())
		ev.typ = EventType(d.u())
		ev.fromClient = d.u()&1 != 0
		ev.app = capture.AppKind(d.u())
		ev.ttl = uint8(d.u())
		ev.ipid = uint16(d.u())
		ev.length = uint32(d.u())
		if ev.file >= uint32(len(t.files.names)) {
			d.err = errCold
		}
	}
	s := &a.lastSig
	s.fromClient = d.u()&1 != 0
	s.seq = uint32(d.u())
	s.ack = uint32(d.u())
	s.ipid = uint16(d.u())
	s.flags = capture.TCPFlags(d.u())
	s.length = uint32(d.u())
	s.ttl = uint8(d.u())
	s.ns = d.nanos()
	a.last = d.nanos()
	a.lastSec = int32(d.s())
	a.touched = d.u()
	f := &a.fallback
	f.server = d.addrPort()
	f.syn = d.stamp()
	f.synack = d.stamp()
	a.answeredFrom = d.addrPort()
	a.answeredFromCount = uint32(d.u())
	if d.err != nil || len(d.b) != 0 {
		return errCold
	}
	return nil
}

type coldEnc struct {
	b     []byte // maxCold long
	n     int    // bytes written
	base  stamp  // the first SYN's: times are kept from it
	files *fileNames
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

// stamp keeps a plain stamp: 0 for none, else its distance from the
// base, zigzagged, plus one.
func (e *coldEnc) stamp(s stamp) {
	if s == 0 {
		e.u(0)
		return
	}
	d := int64(s - e.base)
	e.u((uint64(d<<1) ^ uint64(d>>63)) + 1)
}

// nanos keeps nanos of a time as their distance from the base's
// (wrapping: nanos are clamped, the base may be 0).
func (e *coldEnc) nanos(n int64) { e.s(n - (int64(e.base) - plainOffset)) }

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
func (e *coldEnc) seen(s *seenState) {
	rest := *s
	rest.Count = 0
	if rest == (seenState{}) {
		e.u(uint64(s.Count) << 1)
		return
	}
	e.u(uint64(s.Count)<<1 | 1)
	e.u(uint64(s.TTL))
	e.u(uint64(s.IPID))
	e.stamp(s.First)
	e.stamp(s.Last)
}

// ref keeps a packet reference: one byte when it is empty (a packet not
// seen yet), as most are.
func (e *coldEnc) ref(r *refState) {
	e.u(uint64(r.file))
	if r.file == 0 {
		return
	}
	e.u(r.n)
	e.stamp(r.ts)
	e.s(int64(r.iface))
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
	base  stamp
	files *fileNames
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

func (d *coldDec) stamp() stamp {
	v := d.u()
	if v == 0 {
		return 0
	}
	v--
	return d.base + stamp(int64(v>>1)^-int64(v&1))
}

func (d *coldDec) nanos() int64 { return d.s() + (int64(d.base) - plainOffset) }

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

func (d *coldDec) seen(s *seenState) {
	v := d.u()
	s.Count = uint32(v >> 1)
	if v&1 == 0 {
		return
	}
	s.TTL = uint8(d.u())
	s.IPID = uint16(d.u())
	s.First = d.stamp()
	s.Last = d.stamp()
}

func (d *coldDec) file() string {
	i := d.u()
	if i >= uint64(len(d.files.names)) {
		d.err = errCold
		return ""
	}
	return d.files.names[i]
}

func (d *coldDec) ref(r *refState) {
	r.file = uint32(d.u())
	if r.file == 0 {
		return
	}
	if r.file > uint32(len(d.files.names)) {
		d.err = errCold
	}
	r.n = d.u()
	r.ts = d.stamp()
	r.iface = int32(d.s())
}

func (d *coldDec) app(a *capture.AppInfo) {
	a.Kind = capture.AppKind(d.u())
	a.Name = capture.NameOfBytes(d.bytes(int(d.u())))
	fl := d.u()
	a.Name.Cut, a.Partial = fl&1 != 0, fl&2 != 0
	a.Status = uint16(d.u())
}

// b2u is 1 for true, 0 for false.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

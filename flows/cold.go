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
// stalled request's reply. Its state (attemptState) takes 1.1 KB, mostly
// empty counters and event records; packed (freeze) a timeout's takes
// about 130 bytes: every field in a fixed order, as varints, those most
// attempts leave at zero behind a mask, times as distances (from the first
// SYN, an event's from the event before) in microseconds when they are
// whole ones, each event as what changed since the one before, files as an
// index into the tracker's names. Packed bytes hold no pointer, so the
// collector never scans them. A packet for it, or its expiry, unpacks it
// (thaw).
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
	e.dist(int64(e.base-t.coldOrigin()), 0)
	e.addrPort(a.Key.Client)
	e.addrPort(a.Key.Server)
	e.u(uint64(a.ISN))
	e.u(uint64(t.files.id(a.File)))
	o := &a.SYNOpts
	e.u(uint64(o.MSS))
	e.s(int64(o.WScale))
	e.bools(o.SACKPerm, o.HasTS, o.Cut, a.ACKInferred, a.RSTInHandshake, a.ServerAckedData, a.Settled, a.ICMPInfo.V6, a.timed, a.ServerRSTBare, a.ECNFallback, a.lastSig.fromClient, a.Unpaired, a.PassedOnAs != (Key{}) || a.ReceivedAs != (Key{}), a.AfterStepBack, a.OutOfTimeOrder)
	e.u(uint64(o.TSVal))
	// What most attempts leave at zero, behind a mask of the rest.
	e.sparse(uint64(a.Key.Tunnel.Kind), uint64(a.Key.Tunnel.ID), uint64(o.TSEcr), uint64(a.SYNData),
		uint64(a.ServerISN), uint64(a.AltServerISN), uint64(a.SYNAfterSYNACK), uint64(a.SYNACKAfterACK), uint64(a.ServerBytesAcked),
		uint64(a.ICMPInfo.Type), uint64(a.ICMPInfo.Code), uint64(a.ICMPInfo.QuoteLen), a.ClientBytes, a.ServerBytes,
		uint64(a.ServerSeqLo), uint64(a.ServerSeqHi), uint64(a.ServerMaxSeg), uint64(a.ServerResent), uint64(a.ServerMSS), uint64(a.ServerSent),
		uint64(a.ClientDupACKs), uint64(a.ClientSeqLo), uint64(a.ClientSeqHi), uint64(a.ClientMaxSeg), uint64(a.ClientResent), uint64(a.ClientBytesAcked),
		uint64(a.ServerDupACKs), uint64(a.EventsDropped), uint64(a.Duplicates), uint64(a.Echoes), uint64(a.staleAck), uint64(a.StaleACKs),
		uint64(a.StaleResets), uint64(a.BadSumSYNs), uint64(a.BadSumSYNACKs), uint64(a.Earlier), uint64(a.ECNSYNs), a.plainTSVal,
		uint64(a.answeredFromCount), uint64(a.SYNACKTwins), uint64(a.SYNsIn), uint64(a.SYNsOut), uint64(a.SYNsPassedOn),
		uint64(a.SYNsRelayed), uint64(a.SYNACKsIn), uint64(a.SYNACKsOut), uint64(a.SYNACKsPassedOn), uint64(a.SYNACKsToCopy), uint64(a.RelayedFromTTL),
		uint64(a.ServerRSTsIn), uint64(a.ServerRSTsOut))
	e.seen(&a.SYN)
	e.seen(&a.SYNACK)
	e.seen(&a.ACK)
	e.seen(&a.ServerRST)
	e.seen(&a.ClientRST)
	e.seen(&a.ICMP)
	e.addr(a.ICMPInfo.From)
	e.seen(&a.ClientData)
	e.seen(&a.ServerData)
	e.seen(&a.ClientFIN)
	e.seen(&a.ServerFIN)
	e.app(&a.ClientApp)
	e.ref(&a.ClientAppAt)
	e.app(&a.ServerApp)
	e.ref(&a.ServerAppAt)
	e.u(uint64(a.nEvents))
	// Each event from the one before: a timeout's SYNs differ in little
	// but their times, packet numbers and IP IDs.
	prev := eventState{ts: e.base, file: t.files.id(a.File)}
	for i := range int(a.nEvents) {
		ev := t.event(a, i)
		sameWhere := ev.file == prev.file && ev.iface == prev.iface && ev.app == prev.app
		sameSize := ev.ttl == prev.ttl && ev.length == prev.length
		typ := min(ev.typ, evTypeEscape)
		e.u(uint64(typ)<<3 | uint64(b2u(ev.fromClient))<<2 | uint64(b2u(sameWhere))<<1 | uint64(b2u(sameSize)))
		if typ == evTypeEscape {
			e.u(uint64(ev.typ))
		}
		e.stampFrom(ev.ts, prev.ts)
		e.s(int64(ev.n - prev.n))
		e.u(uint64(ev.ipid))
		if !sameWhere {
			e.u(uint64(ev.file))
			e.s(int64(ev.iface))
			e.u(uint64(ev.app))
		}
		if !sameSize {
			e.u(uint64(ev.ttl))
			e.u(uint64(ev.length))
		}
		if ev.ts != 0 {
			prev.ts = ev.ts
		}
		prev.n, prev.file, prev.iface, prev.app, prev.ttl, prev.length = ev.n, ev.file, ev.iface, ev.app, ev.ttl, ev.length
	}
	s := &a.lastSig
	e.u(uint64(s.seq - a.ISN))
	e.u(uint64(s.ack))
	e.u(uint64(s.ipid))
	e.u(uint64(s.flags))
	e.u(uint64(s.length))
	e.u(uint64(s.ttl))
	e.u(uint64(s.dir))
	e.dist(s.ns-(int64(e.base)-plainOffset), 0)
	e.dist(a.last-s.ns, 0)
	e.s(int64(a.lastSec))
	e.u(a.touched)
	f := &a.fallback
	e.addrPort(f.server)
	e.stampFrom(f.syn, e.base)
	e.stampFrom(f.synack, f.syn)
	e.stampFrom(a.synackToCopyFirst, e.base)
	e.addrPort(a.answeredFrom)
	if a.PassedOnAs != (Key{}) || a.ReceivedAs != (Key{}) {
		for _, k := range [2]*Key{&a.PassedOnAs, &a.ReceivedAs} {
			e.addrPort(k.Client)
			e.addrPort(k.Server)
			e.u(uint64(k.Tunnel.Kind))
			e.u(uint64(k.Tunnel.ID))
		}
	}
	if !e.ok {
		return scratch[:0], false
	}
	return e.b[:e.n], true
}

// coldOrigin is the time packed attempts keep their first SYN's from, so
// that it takes a few bytes, not nine: the tracker's epoch, which is set
// once, at the first packet, before anything can be packed (and stays 0
// when a live clock came first). Only its constancy matters: a corrupt
// epoch wraps, and the distances from it still round-trip.
func (t *Tracker) coldOrigin() stamp { return stamp(plainOffset + t.epoch*int64(time.Second)) }

// evTypeEscape in an event's first byte says its type follows, in a
// varint of its own: every type named so far fits below it.
const evTypeEscape = 15

// errCold is packed bytes that do not unpack: a bug, never input.
var errCold = errors.New("flows: corrupt frozen attempt")

// thaw unpacks b into a, which must be zero but for its index, kept, and
// its DNS answer, which the caller kept.
func (t *Tracker) thaw(a *attemptState, b []byte) error {
	d := coldDec{b: b, files: &t.files}
	d.base = t.coldOrigin() + stamp(d.dist(0))
	a.Key.Client = d.addrPort()
	a.Key.Server = d.addrPort()
	a.ISN = uint32(d.u())
	fileID := d.u()
	a.File = d.name(fileID)
	o := &a.SYNOpts
	o.MSS = uint16(d.u())
	o.WScale = int8(d.s())
	fl := d.u()
	bit := func(i uint) bool { return fl&(1<<i) != 0 }
	o.SACKPerm, o.HasTS, o.Cut, a.ACKInferred, a.RSTInHandshake, a.ServerAckedData, a.Settled, a.ICMPInfo.V6, a.timed, a.ServerRSTBare, a.ECNFallback, a.lastSig.fromClient, a.Unpaired =
		bit(0), bit(1), bit(2), bit(3), bit(4), bit(5), bit(6), bit(7), bit(8), bit(9), bit(10), bit(11), bit(12)
	translated := bit(13)
	a.AfterStepBack, a.OutOfTimeOrder = bit(14), bit(15)
	o.TSVal = uint32(d.u())
	var v [51]uint64
	d.sparse(v[:])
	a.Key.Tunnel.Kind, a.Key.Tunnel.ID, o.TSEcr, a.SYNData = capture.TunnelKind(v[0]), uint32(v[1]), uint32(v[2]), uint32(v[3])
	a.ServerISN, a.AltServerISN, a.SYNAfterSYNACK, a.SYNACKAfterACK, a.ServerBytesAcked = uint32(v[4]), uint32(v[5]), uint32(v[6]), uint32(v[7]), uint32(v[8])
	a.ICMPInfo.Type, a.ICMPInfo.Code, a.ICMPInfo.QuoteLen, a.ClientBytes, a.ServerBytes = uint8(v[9]), uint8(v[10]), uint16(v[11]), v[12], v[13]
	a.ServerSeqLo, a.ServerSeqHi, a.ServerMaxSeg, a.ServerResent, a.ServerMSS, a.ServerSent = uint32(v[14]), uint32(v[15]), uint32(v[16]), uint32(v[17]), uint16(v[18]), uint32(v[19])
	a.ClientDupACKs, a.ClientSeqLo, a.ClientSeqHi, a.ClientMaxSeg, a.ClientResent, a.ClientBytesAcked = uint32(v[20]), uint32(v[21]), uint32(v[22]), uint32(v[23]), uint32(v[24]), uint32(v[25])
	a.ServerDupACKs, a.EventsDropped, a.Duplicates, a.Echoes, a.staleAck, a.StaleACKs = uint32(v[26]), uint32(v[27]), uint32(v[28]), uint32(v[29]), uint32(v[30]), uint32(v[31])
	a.StaleResets, a.BadSumSYNs, a.BadSumSYNACKs, a.Earlier, a.ECNSYNs, a.plainTSVal = uint32(v[32]), uint32(v[33]), uint32(v[34]), Earlier(v[35]), uint32(v[36]), v[37]
	a.answeredFromCount, a.SYNACKTwins = uint32(v[38]), uint32(v[39])
	a.SYNsIn, a.SYNsOut, a.SYNsPassedOn = uint32(v[40]), uint32(v[41]), uint32(v[42])
	a.SYNsRelayed, a.SYNACKsIn, a.SYNACKsOut, a.SYNACKsPassedOn, a.SYNACKsToCopy = uint32(v[43]), uint32(v[44]), uint32(v[45]), uint32(v[46]), uint32(v[47])
	a.RelayedFromTTL = uint8(v[48])
	a.ServerRSTsIn, a.ServerRSTsOut = uint32(v[49]), uint32(v[50])
	d.seen(&a.SYN)
	d.seen(&a.SYNACK)
	d.seen(&a.ACK)
	d.seen(&a.ServerRST)
	d.seen(&a.ClientRST)
	d.seen(&a.ICMP)
	a.ICMPInfo.From = d.addr()
	d.seen(&a.ClientData)
	d.seen(&a.ServerData)
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
	prev := eventState{ts: d.base, file: uint32(fileID)}
	for range events {
		ev := t.addEvent(a)
		h := d.u()
		ev.typ, ev.fromClient = EventType(h>>3), h&4 != 0
		if ev.typ == evTypeEscape {
			ev.typ = EventType(d.u())
		}
		ev.ts = d.stampFrom(prev.ts)
		ev.n = prev.n + uint64(d.s())
		ev.ipid = uint16(d.u())
		ev.file, ev.iface, ev.app = prev.file, prev.iface, prev.app
		if h&2 == 0 {
			ev.file, ev.iface, ev.app = uint32(d.u()), int32(d.s()), capture.AppKind(d.u())
		}
		ev.ttl, ev.length = prev.ttl, prev.length
		if h&1 == 0 {
			ev.ttl, ev.length = uint8(d.u()), uint32(d.u())
		}
		if ev.file >= uint32(len(t.files.names)) {
			d.err = errCold
		}
		if ev.ts != 0 {
			prev.ts = ev.ts
		}
		prev.n, prev.file, prev.iface, prev.app, prev.ttl, prev.length = ev.n, ev.file, ev.iface, ev.app, ev.ttl, ev.length
	}
	s := &a.lastSig
	s.seq = uint32(d.u()) + a.ISN
	s.ack = uint32(d.u())
	s.ipid = uint16(d.u())
	s.flags = capture.TCPFlags(d.u())
	s.length = uint32(d.u())
	s.ttl = uint8(d.u())
	s.dir = capture.Direction(d.u())
	s.ns = d.dist(0) + (int64(d.base) - plainOffset)
	a.last = d.dist(0) + s.ns
	a.lastSec = int32(d.s())
	a.touched = d.u()
	f := &a.fallback
	f.server = d.addrPort()
	f.syn = d.stampFrom(d.base)
	f.synack = d.stampFrom(f.syn)
	a.synackToCopyFirst = d.stampFrom(d.base)
	a.answeredFrom = d.addrPort()
	if translated {
		for _, k := range [2]*Key{&a.PassedOnAs, &a.ReceivedAs} {
			k.Client, k.Server = d.addrPort(), d.addrPort()
			k.Tunnel.Kind, k.Tunnel.ID = capture.TunnelKind(d.u()), uint32(d.u())
		}
	}
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

// dist keeps d, a distance in nanoseconds, in microseconds when it is
// whole ones, as it is in most captures (pcap's resolution): a byte or two
// less. off is added to what is written, keeping the codes below it free.
func (e *coldEnc) dist(d int64, off uint64) {
	switch z := zigzag(d); {
	case d%1000 == 0:
		e.u(zigzag(d/1000)<<1 + off)
	case z < 1<<62:
		e.u(z<<1 | 1 + off)
	default: // 1 is no other distance's code: 0 takes the first case
		e.u(1 + off)
		e.u(z)
	}
}

// stampFrom keeps a plain stamp as its distance from ref, or 0 for none.
func (e *coldEnc) stampFrom(s, ref stamp) {
	if s == 0 {
		e.u(0)
		return
	}
	e.dist(int64(s-ref), 1)
}

// sparse keeps vs, at most 64 and most of them zero: a mask of those that
// are not, then those.
func (e *coldEnc) sparse(vs ...uint64) {
	var mask uint64
	for i, v := range vs {
		if v != 0 {
			mask |= 1 << i
		}
	}
	e.u(mask)
	for _, v := range vs {
		if v != 0 {
			e.u(v)
		}
	}
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }

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
	e.stampFrom(s.First, e.base)
	e.stampFrom(s.Last, s.First)
}

// ref keeps a packet reference: one byte when it is empty (a packet not
// seen yet), as most are.
func (e *coldEnc) ref(r *refState) {
	e.u(uint64(r.file))
	if r.file == 0 {
		return
	}
	e.u(r.n)
	e.stampFrom(r.ts, e.base)
	e.s(int64(r.iface))
}

// app keeps a as its kind plus one and the rest, or 0 for none.
func (e *coldEnc) app(a *capture.AppInfo) {
	if *a == (capture.AppInfo{}) {
		e.u(0)
		return
	}
	e.u(uint64(a.Kind) + 1)
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

func (d *coldDec) s() int64 { return unzigzag(d.u()) }

// dist reads what coldEnc.dist wrote with off.
func (d *coldDec) dist(off uint64) int64 { return d.distCode(d.u() - off) }

func (d *coldDec) distCode(v uint64) int64 {
	switch {
	case v&1 == 0:
		return unzigzag(v>>1) * 1000
	case v == 1:
		return unzigzag(d.u())
	default:
		return unzigzag(v >> 1)
	}
}

// stampFrom reads what coldEnc.stampFrom wrote with ref.
func (d *coldDec) stampFrom(ref stamp) stamp {
	v := d.u()
	if v == 0 {
		return 0
	}
	return ref + stamp(d.distCode(v-1))
}

// sparse reads what coldEnc.sparse wrote of len(vs) values into vs, zero.
func (d *coldDec) sparse(vs []uint64) {
	mask := d.u()
	if len(vs) < 64 && mask>>len(vs) != 0 {
		d.err = errCold
	}
	for i := range vs {
		if mask&(1<<i) != 0 {
			vs[i] = d.u()
		}
	}
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
	s.First = d.stampFrom(d.base)
	s.Last = d.stampFrom(s.First)
}

// name is the name of file index i.
func (d *coldDec) name(i uint64) string {
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
	r.ts = d.stampFrom(d.base)
	r.iface = int32(d.s())
}

func (d *coldDec) app(a *capture.AppInfo) {
	k := d.u()
	if k == 0 {
		return
	}
	a.Kind = capture.AppKind(k - 1)
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

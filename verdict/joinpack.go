package verdict

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
)

// Packer keeps attempts compactly while the streaming join waits for
// their counterparts: a cloned attempt takes 2 KB (1.4 KB of struct, most
// of it times and empty counters, plus 72 bytes an event), its packed form
// about a tenth. Packed bytes hold no pointers, so the collector never
// scans them. Times are kept relative to the first SYN, packet numbers
// relative to the previous event, file names as an index into the names
// given to NewPacker.
//
// A Packer is not changed after NewPacker: packing and unpacking may run
// on different goroutines.
type Packer struct {
	files []string
	index map[string]int
}

// NewPacker returns a Packer that names files by their index in files;
// other names are kept whole.
func NewPacker(files ...string) *Packer {
	p := &Packer{files: files, index: make(map[string]int, len(files))}
	for i, f := range files {
		if _, ok := p.index[f]; !ok {
			p.index[f] = i
		}
	}
	return p
}

// errPacked is a packed attempt that does not decode: a bug, never input.
var errPacked = errors.New("verdict: corrupt packed attempt")

// Bits of the flags word: the booleans of an attempt.
const (
	pkACKInferred = 1 << iota
	pkRSTInHandshake
	pkServerAckedData
	pkSettled
	pkSACKPerm
	pkHasTS
	pkOptsCut
	pkICMPV6
	pkClientPartial
	pkServerPartial
	pkClientNameCut
	pkServerNameCut
	pkDNS
	pkDNSStale
	pkDNSNameCut
	pkServerRSTBare
	pkFallback
	pkAnsweredFrom
	pkSumsUntrusted
	pkFlagsOnly
	pkSYNsOnly
	pkMidPath
	pkUnpaired
	pkPassesOnToServer
	pkServerIsCaptureHost
	pkTranslated
	pkPortHops
	pkRoutesToServer
	pkPassesOnLater
	pkPassesBackLater
	pkAfterStepBack
	pkOutOfTimeOrder
)

// Bits of an event's flags byte.
const (
	evFromClient = 1 << iota
	evOtherFile
	evIface
)

// Pack appends a packed copy of a to dst.
func (p *Packer) Pack(dst []byte, a *flows.Attempt) []byte {
	e := packer{p: p, b: dst, base: a.SYN.First}
	// What the join indexes comes first (arrival).
	e.absTime(a.SYN.First)
	e.time(a.End, a.SYN.First)
	e.b = append(e.b, byte(a.EndedBy))
	e.addrPort(a.Key.Client)
	e.addrPort(a.Key.Server)
	e.b = append(e.b, byte(a.Key.Tunnel.Kind))
	e.u(uint64(a.Key.Tunnel.ID))
	e.b = binary.LittleEndian.AppendUint32(e.b, a.ISN)
	e.file(a.File)
	var fl uint64
	set := func(bit uint64, v bool) {
		if v {
			fl |= bit
		}
	}
	set(pkACKInferred, a.ACKInferred)
	set(pkRSTInHandshake, a.RSTInHandshake)
	set(pkServerRSTBare, a.ServerRSTBare)
	set(pkServerAckedData, a.ServerAckedData)
	set(pkSettled, a.Settled)
	set(pkSACKPerm, a.SYNOpts.SACKPerm)
	set(pkHasTS, a.SYNOpts.HasTS)
	set(pkOptsCut, a.SYNOpts.Cut)
	set(pkICMPV6, a.ICMPInfo.V6)
	set(pkClientPartial, a.ClientApp.Partial)
	set(pkServerPartial, a.ServerApp.Partial)
	set(pkClientNameCut, a.ClientApp.Name.Cut)
	set(pkServerNameCut, a.ServerApp.Name.Cut)
	if d := a.DNS; d != nil {
		fl |= pkDNS
		set(pkDNSStale, d.Stale)
		set(pkDNSNameCut, d.Name.Cut)
	}
	set(pkFallback, a.Fallback != (flows.Fallback{}))
	set(pkAnsweredFrom, a.AnsweredFrom.IsValid() || a.AnsweredFromCount > 0)
	set(pkSumsUntrusted, a.SumsUntrusted)
	set(pkFlagsOnly, a.FlagsOnly)
	set(pkSYNsOnly, a.SYNsOnly)
	set(pkMidPath, a.MidPath)
	set(pkUnpaired, a.Unpaired)
	set(pkPassesOnToServer, a.PassesOnToServer)
	set(pkServerIsCaptureHost, a.ServerIsCaptureHost)
	set(pkTranslated, a.PassedOnAs != (flows.Key{}) || a.ReceivedAs != (flows.Key{}))
	set(pkPortHops, a.PortHops.Count > 0)
	set(pkRoutesToServer, a.RoutesToServer)
	set(pkPassesOnLater, a.PassesOnLater)
	set(pkPassesBackLater, a.PassesBackLater)
	set(pkAfterStepBack, a.AfterStepBack)
	set(pkOutOfTimeOrder, a.OutOfTimeOrder)
	e.u(fl)
	e.u(uint64(a.SYNOpts.MSS))
	e.b = append(e.b, byte(a.SYNOpts.WScale))
	e.u(uint64(a.SYNOpts.TSVal))
	e.u(uint64(a.SYNOpts.TSEcr))
	e.u(uint64(a.SYNData))
	e.seen(&a.SYN)
	// Then the events, and the counters named by them: all that the
	// join's clock needs (unpackClock).
	e.u(uint64(len(a.Events)))
	st := newEvState()
	prevTS := a.SYN.First
	for i := range a.Events {
		ev := &a.Events[i]
		dir := st.dir(ev.FromClient)
		var more byte
		if ev.File != a.File {
			more |= evOtherFile
		}
		if ev.Iface != 0 {
			more |= evIface
		}
		b0 := byte(min(ev.Type, evTypeEsc))
		if ev.FromClient {
			b0 |= evClient
		}
		same := int16(ev.TTL) == st.ttl[dir]
		if same {
			b0 |= evSameTTL
		}
		if ev.App != 0 {
			b0 |= evApp
		}
		if more != 0 {
			b0 |= evMore
		}
		e.b = append(e.b, b0)
		if ev.Type >= evTypeEsc {
			e.b = append(e.b, byte(ev.Type))
		}
		if ev.App != 0 {
			e.b = append(e.b, byte(ev.App))
		}
		if !same {
			e.b = append(e.b, ev.TTL)
		}
		if more != 0 {
			e.b = append(e.b, more)
		}
		if more&evOtherFile != 0 {
			e.file(ev.File)
		}
		if more&evIface != 0 {
			e.i(int64(ev.Iface))
		}
		e.i(int64(ev.N - st.n))
		e.time(ev.TS, prevTS)
		e.u(zigzag(int64(int16(ev.IPID - st.ipid[dir]))))
		e.u(uint64(ev.Len))
		prevTS = ev.TS
		st.took(dir, ev.N, ev.TTL, ev.IPID)
	}
	for _, sn := range seensOf(a) {
		e.seenAfterEvents(sn, a.Events)
	}
	// Then the rest: the counters, only those not zero (most are).
	e.b = binary.LittleEndian.AppendUint32(e.b, a.ServerISN)
	e.addr(a.ICMPInfo.From)
	rest := restOf(a)
	var mask uint64
	for k, v := range rest {
		if v != 0 {
			mask |= 1 << k
		}
	}
	e.u(mask)
	for _, v := range rest {
		if v != 0 {
			e.u(v)
		}
	}
	e.n = st.n // packet numbers of references are from the last event's
	e.app(&a.ClientApp)
	e.ref(&a.ClientAppAt)
	e.app(&a.ServerApp)
	e.ref(&a.ServerAppAt)
	if d := a.DNS; d != nil {
		e.name(&d.Name)
		e.addr(d.Addr)
		e.u(uint64(d.QType))
		e.b = append(e.b, d.RCode)
		e.u(uint64(d.TTL))
		e.addrPort(d.Server)
		e.ref(&d.Answer)
		e.i(int64(d.Before))
		e.i(int64(d.Took))
		e.addr(d.Current)
		e.ref(&d.CurrentAt)
	}
	e.b = append(e.b, a.ServerHops.TTL, a.ServerHops.AltTTL)
	e.u(uint64(a.ServerHops.IPID))
	e.u(uint64(a.ServerHops.Count))
	e.ref(&a.ServerHops.From)
	e.u(uint64(a.ServerHops.Missed))
	if a.ServerHops.Missed > 0 {
		e.ref(&a.ServerHops.MissedAt)
	}
	e.i(int64(a.ServerHops.MinRTT))
	if h := &a.PortHops; fl&pkPortHops != 0 {
		e.b = append(e.b, h.TTL, h.AltTTL)
		e.u(uint64(h.IPID))
		e.u(uint64(h.Count))
		e.ref(&h.From)
	}
	if f := &a.Fallback; fl&pkFallback != 0 {
		e.addrPort(f.Server)
		e.absTime(f.FirstSYN)
		e.absTime(f.SYNACK)
	}
	if fl&pkAnsweredFrom != 0 {
		e.addrPort(a.AnsweredFrom)
		e.u(uint64(a.AnsweredFromCount))
	}
	if fl&pkTranslated != 0 {
		for _, k := range [2]*flows.Key{&a.PassedOnAs, &a.ReceivedAs} {
			e.addrPort(k.Client)
			e.addrPort(k.Server)
			e.u(uint64(k.Tunnel.Kind))
			e.u(uint64(k.Tunnel.ID))
		}
	}
	e.time(a.CaptureFrom, a.SYN.First)
	return e.b
}

// restOf are the counters Pack writes only when not zero, in the order of
// the bits that say which are.
func restOf(a *flows.Attempt) [42]uint64 {
	ecn := uint64(a.ECNSYNs) << 1
	if a.ECNFallback {
		ecn |= 1
	}
	return [42]uint64{uint64(a.AltServerISN), uint64(a.SYNAfterSYNACK), uint64(a.SYNACKAfterACK), uint64(a.ServerBytesAcked),
		uint64(a.ICMPInfo.Type)<<8 | uint64(a.ICMPInfo.Code), uint64(a.ICMPInfo.QuoteLen), a.ClientBytes, a.ServerBytes,
		uint64(a.ServerSeqLo), uint64(a.ServerSeqHi), uint64(a.ServerMaxSeg), uint64(a.ServerResent), uint64(a.ServerMSS), uint64(a.ServerSent),
		uint64(a.ClientDupACKs), uint64(a.ClientSeqLo), uint64(a.ClientSeqHi), uint64(a.ClientMaxSeg), uint64(a.ClientResent), uint64(a.ClientBytesAcked),
		uint64(a.ServerDupACKs), uint64(a.EventsDropped), uint64(a.Duplicates), uint64(a.Echoes), uint64(a.StaleACKs), uint64(a.StaleResets),
		uint64(a.BadSumSYNs), uint64(a.BadSumSYNACKs), uint64(a.Earlier), ecn, uint64(a.SYNACKTwins),
		uint64(a.SYNsIn), uint64(a.SYNsOut), uint64(a.SYNsPassedOn), uint64(a.SYNsRelayed),
		uint64(a.SYNACKsIn), uint64(a.SYNACKsOut), uint64(a.SYNACKsPassedOn), uint64(a.SYNACKsToCopy), uint64(a.RelayedFromTTL),
		uint64(a.ServerRSTsIn), uint64(a.ServerRSTsOut)}
}

// setRest sets the counters restOf reads.
func setRest(a *flows.Attempt, v *[42]uint64) {
	a.AltServerISN, a.SYNAfterSYNACK, a.SYNACKAfterACK, a.ServerBytesAcked = uint32(v[0]), uint32(v[1]), uint32(v[2]), uint32(v[3])
	a.ICMPInfo.Type, a.ICMPInfo.Code, a.ICMPInfo.QuoteLen = uint8(v[4]>>8), uint8(v[4]), uint16(v[5])
	a.ClientBytes, a.ServerBytes = v[6], v[7]
	a.ServerSeqLo, a.ServerSeqHi, a.ServerMaxSeg, a.ServerResent, a.ServerMSS, a.ServerSent = uint32(v[8]), uint32(v[9]), uint32(v[10]), uint32(v[11]), uint16(v[12]), uint32(v[13])
	a.ClientDupACKs, a.ClientSeqLo, a.ClientSeqHi, a.ClientMaxSeg, a.ClientResent, a.ClientBytesAcked = uint32(v[14]), uint32(v[15]), uint32(v[16]), uint32(v[17]), uint32(v[18]), uint32(v[19])
	a.ServerDupACKs, a.EventsDropped, a.Duplicates, a.Echoes = uint32(v[20]), uint32(v[21]), uint32(v[22]), uint32(v[23])
	a.StaleACKs, a.StaleResets = uint32(v[24]), uint32(v[25])
	a.BadSumSYNs, a.BadSumSYNACKs = uint32(v[26]), uint32(v[27])
	a.Earlier = flows.Earlier(v[28])
	a.ECNSYNs, a.ECNFallback = uint32(v[29]>>1), v[29]&1 != 0
	a.SYNACKTwins = uint32(v[30])
	a.SYNsIn, a.SYNsOut, a.SYNsPassedOn, a.SYNsRelayed = uint32(v[31]), uint32(v[32]), uint32(v[33]), uint32(v[34])
	a.SYNACKsIn, a.SYNACKsOut, a.SYNACKsPassedOn, a.SYNACKsToCopy = uint32(v[35]), uint32(v[36]), uint32(v[37]), uint32(v[38])
	a.RelayedFromTTL = uint8(v[39])
	a.ServerRSTsIn, a.ServerRSTsOut = uint32(v[40]), uint32(v[41])
}

// Bits of an event's first byte: its type (a byte of its own follows when
// it is evTypeEsc or more), who sent it, whether its TTL is that of the
// last packet its sender sent, and whether a byte follows for its
// application kind, and one for the bits below.
const (
	evTypeMask = 0x0f
	evTypeEsc  = 0x0f
	evClient   = 1 << 4
	evSameTTL  = 1 << 5
	evApp      = 1 << 6
	evMore     = 1 << 7
)

// evState is what an event is packed against: the packet number of the
// one before, and the TTL and IP-ID of the last from each side.
type evState struct {
	n    uint64
	ttl  [2]int16 // -1: none yet
	ipid [2]uint16
}

func newEvState() evState { return evState{ttl: [2]int16{-1, -1}} }

func (st *evState) dir(fromClient bool) int {
	if fromClient {
		return 1
	}
	return 0
}

func (st *evState) took(dir int, n uint64, ttl uint8, ipid uint16) {
	st.n, st.ttl[dir], st.ipid[dir] = n, int16(ttl), ipid
}

// event reads an event up to its packet number: its type, side,
// application kind, TTL, and the bits evOtherFile and evIface.
func (d *unpacker) event(st *evState) (typ flows.EventType, dir int, app capture.AppKind, ttl uint8, more byte) {
	b0 := d.u8()
	typ = flows.EventType(b0 & evTypeMask)
	if typ == evTypeEsc {
		typ = flows.EventType(d.u8())
	}
	dir = st.dir(b0&evClient != 0)
	if b0&evApp != 0 {
		app = capture.AppKind(d.u8())
	}
	if b0&evSameTTL == 0 {
		ttl = d.u8()
	} else if t := st.ttl[dir]; t >= 0 {
		ttl = uint8(t)
	} else {
		d.bad = true
	}
	if b0&evMore != 0 {
		more = d.u8()
	}
	return typ, dir, app, ttl, more
}

// seensOf are the counters of an attempt that Pack writes after its
// events: the first packet of each kind is mostly one of them.
func seensOf(a *flows.Attempt) [9]*flows.Seen {
	return [9]*flows.Seen{&a.SYNACK, &a.ACK, &a.ServerRST, &a.ClientRST, &a.ICMP, &a.ClientData, &a.ServerData, &a.ClientFIN, &a.ServerFIN}
}

// Unpack makes a the attempt b was packed from, reusing a's event storage.
// What the tracker keeps for itself (unexported) is not packed.
func (p *Packer) Unpack(b []byte, a *flows.Attempt) error {
	d := unpacker{p: p, b: b}
	*a = flows.Attempt{Events: a.Events[:0]}
	fl := d.head(a)
	if !d.events(a) {
		return errPacked
	}
	a.ACKInferred = fl&pkACKInferred != 0
	a.RSTInHandshake = fl&pkRSTInHandshake != 0
	a.ServerRSTBare = fl&pkServerRSTBare != 0
	a.ServerAckedData = fl&pkServerAckedData != 0
	a.SumsUntrusted = fl&pkSumsUntrusted != 0
	a.FlagsOnly = fl&pkFlagsOnly != 0
	a.SYNsOnly = fl&pkSYNsOnly != 0
	a.MidPath = fl&pkMidPath != 0
	a.Unpaired = fl&pkUnpaired != 0
	a.PassesOnToServer = fl&pkPassesOnToServer != 0
	a.RoutesToServer = fl&pkRoutesToServer != 0
	a.PassesOnLater = fl&pkPassesOnLater != 0
	a.PassesBackLater = fl&pkPassesBackLater != 0
	a.AfterStepBack = fl&pkAfterStepBack != 0
	a.OutOfTimeOrder = fl&pkOutOfTimeOrder != 0
	a.ServerIsCaptureHost = fl&pkServerIsCaptureHost != 0
	a.Settled = fl&pkSettled != 0
	a.ICMPInfo.V6 = fl&pkICMPV6 != 0
	a.ServerISN = d.u32()
	a.ICMPInfo.From = d.addr()
	var rest [42]uint64
	mask := d.u()
	for k := range rest {
		if mask&(1<<k) != 0 {
			rest[k] = d.u()
		}
	}
	setRest(a, &rest)
	d.app(&a.ClientApp, fl&pkClientPartial != 0, fl&pkClientNameCut != 0)
	d.ref(&a.ClientAppAt)
	d.app(&a.ServerApp, fl&pkServerPartial != 0, fl&pkServerNameCut != 0)
	d.ref(&a.ServerAppAt)
	if fl&pkDNS != 0 {
		n := &flows.DNSAnswer{Stale: fl&pkDNSStale != 0}
		n.Name = d.name()
		n.Name.Cut = fl&pkDNSNameCut != 0
		n.Addr = d.addr()
		n.QType = uint16(d.u())
		n.RCode = d.u8()
		n.TTL = uint32(d.u())
		n.Server = d.addrPort()
		d.ref(&n.Answer)
		n.Before = time.Duration(d.i())
		n.Took = time.Duration(d.i())
		n.Current = d.addr()
		d.ref(&n.CurrentAt)
		a.DNS = n
	}
	a.ServerHops.TTL = d.u8()
	a.ServerHops.AltTTL = d.u8()
	a.ServerHops.IPID = uint16(d.u())
	a.ServerHops.Count = uint32(d.u())
	d.ref(&a.ServerHops.From)
	a.ServerHops.Missed = uint32(d.u())
	if a.ServerHops.Missed > 0 {
		d.ref(&a.ServerHops.MissedAt)
	}
	a.ServerHops.MinRTT = time.Duration(d.i())
	a.PortHops = flows.HopRef{}
	if h := &a.PortHops; fl&pkPortHops != 0 {
		h.TTL = d.u8()
		h.AltTTL = d.u8()
		h.IPID = uint16(d.u())
		h.Count = uint32(d.u())
		d.ref(&h.From)
	}
	if f := &a.Fallback; fl&pkFallback != 0 {
		f.Server = d.addrPort()
		f.FirstSYN = d.absTime()
		f.SYNACK = d.absTime()
	}
	if fl&pkAnsweredFrom != 0 {
		a.AnsweredFrom = d.addrPort()
		a.AnsweredFromCount = uint32(d.u())
	}
	if fl&pkTranslated != 0 {
		for _, k := range [2]*flows.Key{&a.PassedOnAs, &a.ReceivedAs} {
			k.Client, k.Server = d.addrPort(), d.addrPort()
			k.Tunnel.Kind, k.Tunnel.ID = capture.TunnelKind(d.u()), uint32(d.u())
		}
	}
	a.CaptureFrom = d.time(a.SYN.First)
	if d.bad || d.i0 != len(d.b) {
		return errPacked
	}
	return nil
}

// events reads the events, and the counters named by them.
func (d *unpacker) events(a *flows.Attempt) bool {
	n := d.u()
	if n > uint64(len(d.b)) { // each event takes bytes: a count past them is corrupt
		d.bad = true
		return false
	}
	st := newEvState()
	prevTS := a.SYN.First
	for range n {
		var ev flows.Event
		typ, dir, app, ttl, more := d.event(&st)
		ev.Type, ev.FromClient, ev.App, ev.TTL = typ, dir == 1, app, ttl
		ev.File = a.File
		if more&evOtherFile != 0 {
			ev.File = d.file()
		}
		if more&evIface != 0 {
			ev.Iface = int32(d.i())
		}
		ev.N = st.n + uint64(d.i())
		ev.TS = d.time(prevTS)
		ev.IPID = st.ipid[dir] + uint16(unzigzag(d.u()))
		ev.Len = uint32(d.u())
		prevTS = ev.TS
		st.took(dir, ev.N, ev.TTL, ev.IPID)
		a.Events = append(a.Events, ev)
	}
	d.n = st.n
	for _, sn := range seensOf(a) {
		d.seenAfterEvents(sn, a.Events)
	}
	return !d.bad
}

// unpackClock fills in what the join's clock needs of an attempt: its
// head, its events and the counters they name (the rest of a as it was),
// for one whose clock facts arrival could not read.
func (p *Packer) unpackClock(b []byte, a *flows.Attempt) error {
	d := unpacker{p: p, b: b}
	a.Events = a.Events[:0]
	a.SYN = flows.Seen{}
	for _, sn := range seensOf(a) {
		*sn = flows.Seen{}
	}
	d.head(a)
	if !d.events(a) {
		return errPacked
	}
	return nil
}

// clockEvents is how many SYNs and SYN-ACKs the clock facts of an
// attempt hold; one with more is read the slow way (unpackClock).
const clockEvents = 6

// arrival is what a Stream reads of an attempt as it comes: what it orders
// and matches it by, and its clock facts. Times are in nanoseconds
// (nanos); no pointers.
type arrival struct {
	first, end int64
	idled      bool
	key        streamKey
	opts       capture.TCPOptions
	ipid       uint16 // of its first SYN
	clock      clockFacts
}

// clockFacts is what the clock offset reads of an attempt (firstPair):
// its SYN and SYN-ACK counters and packets, times as nanoseconds after
// its first SYN. ok is false where they could not be read so (more than
// clockEvents of them, times beyond nanos): then the attempt is.
type clockFacts struct {
	ok          bool
	n           uint8
	syn, synack clockSeen
	ev          [clockEvents]clockEvent
}

type clockSeen struct {
	count uint32
	first int64
}

type clockEvent struct {
	ts   int64
	ipid uint16
	typ  flows.EventType
}

// arrival reads what a Stream needs of a packed attempt as it comes, in
// one pass, making neither times nor events of it.
func (p *Packer) arrival(b []byte, h *arrival) error {
	d := unpacker{p: p, b: b}
	f := &h.clock
	*f = clockFacts{ok: true}
	if d.u() != tmAbs {
		return errPacked
	}
	first := d.absAfterTag()
	h.first = nanos(first)
	f.ok = h.first == first.UnixNano() // not held in
	const near = 1 << 61               // sums of two stay as nanos has them
	if end, ok := d.rel(0); ok && h.first > -near && h.first < near && end > -near && end < near {
		h.end = h.first + end
	} else {
		d.i0 = 0 // read it again as a time
		d.u()
		d.absAfterTag()
		h.end = nanos(d.time(first))
	}
	h.idled = flows.EndReason(d.u8()) == flows.EndIdle
	h.key = streamKey{}
	h.key.is4 = d.keyAddr(&h.key.client, 1)
	h.key.cport = uint16(d.u())
	h.key.is4 |= d.keyAddr(&h.key.server, 2)
	h.key.sport = uint16(d.u())
	h.key.tunnelKind = capture.TunnelKind(d.u8())
	h.key.tunnelID = uint32(d.u())
	h.key.isn = d.u32()
	d.skipFile()
	fl := d.u()
	h.opts = capture.TCPOptions{SACKPerm: fl&pkSACKPerm != 0, HasTS: fl&pkHasTS != 0, Cut: fl&pkOptsCut != 0}
	h.opts.MSS = uint16(d.u())
	h.opts.WScale = int8(d.u8())
	h.opts.TSVal = uint32(d.u())
	h.opts.TSEcr = uint32(d.u())
	d.u() // SYN data
	h.ipid = 0
	if n := d.u(); n > 0 {
		f.syn.count = uint32(n - 1)
		d.u8()
		h.ipid = uint16(d.u())
		t, ok := d.rel(0)
		f.syn.first, f.ok = t, f.ok && ok
		d.skipTime()
	}
	// The SYNs and SYN-ACKs among the events, and the index of each
	// event among them, for the SYN-ACK counter that names one.
	n := d.u()
	if n > uint64(len(d.b)) {
		return errPacked
	}
	var at [clockEvents + 1]int64 // times of the events up to the one named
	prev := int64(0)
	st := newEvState()
	for k := range n {
		typ, dir, _, ttl, more := d.event(&st)
		if more&evOtherFile != 0 {
			d.skipFile()
		}
		if more&evIface != 0 {
			d.i()
		}
		num := st.n + uint64(d.i())
		ts, ok := d.rel(prev)
		f.ok = f.ok && ok
		prev = ts
		ipid := st.ipid[dir] + uint16(unzigzag(d.u()))
		d.u() // Len
		st.took(dir, num, ttl, ipid)
		if k < uint64(len(at)) {
			at[k] = ts
		}
		if typ == flows.EvSYN || typ == flows.EvSYNACK {
			if int(f.n) == clockEvents {
				f.ok = false
				continue
			}
			f.ev[f.n] = clockEvent{ts, ipid, typ}
			f.n++
		}
	}
	if k := d.u(); k > 0 { // the SYN-ACK counter, the first of seensOf
		f.synack.count = uint32(k - 1)
		switch i := d.u(); {
		case i == 0:
			d.u8()
			d.u()
			t, ok := d.rel(0)
			f.synack.first, f.ok = t, f.ok && ok
		case i <= uint64(len(at)) && i <= n:
			f.synack.first = at[i-1]
		default:
			f.ok = false // named by an event past those kept
		}
	}
	if d.bad {
		return errPacked
	}
	return nil
}

// keyAddr reads an address into a key's form of it, and returns bit if
// it is IPv4.
func (d *unpacker) keyAddr(b *[16]byte, bit uint8) uint8 {
	switch d.u8() {
	case 0:
		return 0
	case 4:
		if a := d.bytes(4); a != nil {
			*b = netip.AddrFrom4([4]byte(a)).As16()
			return bit
		}
	case 6:
		if a := d.bytes(16); a != nil {
			*b = [16]byte(a)
			d.str() // the zone: a key has none
			return 0
		}
	default:
		d.bad = true
	}
	return 0
}

// rel reads a time written relative to one ref nanoseconds after the
// base; false for the zero time, one written whole, or one too far.
func (d *unpacker) rel(ref int64) (int64, bool) {
	const far = 1 << 62
	var t int64
	switch v := d.u(); {
	case v&3 == 3:
		t = ref + unzigzag(v>>2)*int64(time.Microsecond)
	case v&3 == 1:
		t = ref + unzigzag(v>>2)
	default:
		if v == tmAbs {
			d.absAfterTag()
		}
		return 0, false
	}
	return t, t > -far && t < far
}

func (d *unpacker) skipTime() {
	if d.u() == tmAbs {
		d.absAfterTag()
	}
}

func (d *unpacker) skipFile() {
	if d.u() == 0 {
		d.str()
	}
}

// head reads what Pack writes first, and returns the flags word.
func (d *unpacker) head(a *flows.Attempt) uint64 {
	first := d.absTime()
	d.base = first
	a.End = d.time(first)
	a.EndedBy = flows.EndReason(d.u8())
	a.Key.Client = d.addrPort()
	a.Key.Server = d.addrPort()
	a.Key.Tunnel.Kind = capture.TunnelKind(d.u8())
	a.Key.Tunnel.ID = uint32(d.u())
	a.ISN = d.u32()
	a.File = d.file()
	fl := d.u()
	a.SYNOpts.SACKPerm = fl&pkSACKPerm != 0
	a.SYNOpts.HasTS = fl&pkHasTS != 0
	a.SYNOpts.Cut = fl&pkOptsCut != 0
	a.SYNOpts.MSS = uint16(d.u())
	a.SYNOpts.WScale = int8(d.u8())
	a.SYNOpts.TSVal = uint32(d.u())
	a.SYNOpts.TSEcr = uint32(d.u())
	a.SYNData = uint32(d.u())
	d.seen(&a.SYN)
	return fl
}

// packer appends the parts of an attempt.
type packer struct {
	p    *Packer
	b    []byte
	base time.Time
	n    uint64 // the last event's packet number
}

func (e *packer) u(v uint64) {
	if v < 0x80 {
		e.b = append(e.b, byte(v)) // most are: no call
		return
	}
	e.b = binary.AppendUvarint(e.b, v)
}
func (e *packer) i(v int64) { e.b = binary.AppendVarint(e.b, v) }

func (e *packer) str(s string) {
	e.u(uint64(len(s)))
	e.b = append(e.b, s...)
}

// name is str of a name's bytes, without making a string of them.
func (e *packer) name(n *capture.Name) {
	e.u(uint64(n.Len()))
	e.b = n.AppendTo(e.b)
}

// file is an index into the Packer's names, plus one; 0 and the name
// itself when it is not one of them.
func (e *packer) file(name string) {
	if i, ok := e.p.index[name]; ok {
		e.u(uint64(i) + 1)
		return
	}
	e.u(0)
	e.str(name)
}

func (e *packer) addr(a netip.Addr) {
	switch {
	case !a.IsValid():
		e.b = append(e.b, 0)
	case a.Is4():
		b := a.As4()
		e.b = append(append(e.b, 4), b[:]...)
	default:
		b := a.As16()
		e.b = append(append(e.b, 6), b[:]...)
		e.str(a.Zone())
	}
}

func (e *packer) addrPort(ap netip.AddrPort) {
	e.addr(ap.Addr())
	e.u(uint64(ap.Port()))
}

// Time forms: 0 the zero time; low bits 01 nanoseconds and 11
// microseconds (what pcap keeps) since a reference, zigzagged; 2 seconds
// and nanoseconds since 1970, for times too far from the reference.
const (
	tmZero = 0
	tmAbs  = 2
)

// maxDelta keeps a zigzagged delta, shifted by two, within 64 bits.
const maxDelta = 1 << 60

func (e *packer) time(t, ref time.Time) {
	if t.IsZero() {
		e.u(tmZero)
		return
	}
	if !ref.IsZero() {
		// From the seconds and nanoseconds: Sub, and Add to check it, cost
		// a third of packing.
		if ds := t.Unix() - ref.Unix(); ds > -maxDelta/int64(time.Second) && ds < maxDelta/int64(time.Second) {
			d := ds*int64(time.Second) + int64(t.Nanosecond()-ref.Nanosecond())
			if d%int64(time.Microsecond) == 0 {
				e.u(zigzag(d/int64(time.Microsecond))<<2 | 3)
			} else {
				e.u(zigzag(d)<<2 | 1)
			}
			return
		}
	}
	e.absTime(t)
}

func (e *packer) absTime(t time.Time) {
	if t.IsZero() {
		e.u(tmZero)
		return
	}
	e.u(tmAbs)
	e.i(t.Unix())
	e.u(uint64(t.Nanosecond()))
}

// seen packs a Seen: 0 when it is all zero (most are), else its count
// plus one and the rest.
func (e *packer) seen(s *flows.Seen) {
	if *s == (flows.Seen{}) {
		e.u(0)
		return
	}
	e.u(uint64(s.Count) + 1)
	e.b = append(e.b, s.TTL)
	e.u(uint64(s.IPID))
	e.time(s.First, e.base)
	e.time(s.Last, s.First)
}

// seenAfterEvents packs a Seen whose first packet is mostly among the
// events: then its index plus one stands for its TTL, IP-ID and time.
func (e *packer) seenAfterEvents(s *flows.Seen, events []flows.Event) {
	if *s == (flows.Seen{}) {
		e.u(0)
		return
	}
	e.u(uint64(s.Count) + 1)
	i := -1
	for k := range events {
		if ev := &events[k]; ev.TTL == s.TTL && ev.IPID == s.IPID && ev.TS.Equal(s.First) && ev.TS.Location() == s.First.Location() {
			i = k
			break
		}
	}
	if i < 0 {
		e.u(0)
		e.b = append(e.b, s.TTL)
		e.u(uint64(s.IPID))
		e.time(s.First, e.base)
	} else {
		e.u(uint64(i) + 1)
	}
	e.time(s.Last, s.First)
}

// ref packs a reference to a packet: 0 for none, else its file (one
// of the Packer's: its index plus two; else 1 and its name), its number
// from the last event's, time and interface.
func (e *packer) ref(r *capture.Ref) {
	if *r == (capture.Ref{}) {
		e.u(0)
		return
	}
	if i, ok := e.p.index[r.File]; ok {
		e.u(uint64(i) + 2)
	} else {
		e.u(1)
		e.str(r.File)
	}
	e.i(int64(r.N - e.n))
	e.time(r.TS, e.base)
	e.i(int64(r.Iface))
}

func (e *packer) app(a *capture.AppInfo) {
	e.b = append(e.b, byte(a.Kind))
	e.name(&a.Name)
	e.u(uint64(a.Status))
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// unpacker reads what packer wrote; a read past the end sets bad and
// reads zeros.
type unpacker struct {
	p    *Packer
	b    []byte
	i0   int
	bad  bool
	base time.Time
	n    uint64 // the last event's packet number
}

func (d *unpacker) u() uint64 {
	if d.i0 < len(d.b) && d.b[d.i0] < 0x80 {
		d.i0++ // most are one byte: no call
		return uint64(d.b[d.i0-1])
	}
	v, n := binary.Uvarint(d.b[d.i0:])
	if n <= 0 {
		d.bad, d.i0 = true, len(d.b)
		return 0
	}
	d.i0 += n
	return v
}

func (d *unpacker) i() int64 {
	v, n := binary.Varint(d.b[d.i0:])
	if n <= 0 {
		d.bad, d.i0 = true, len(d.b)
		return 0
	}
	d.i0 += n
	return v
}

func (d *unpacker) u8() byte {
	if d.i0 >= len(d.b) {
		d.bad = true
		return 0
	}
	d.i0++
	return d.b[d.i0-1]
}

func (d *unpacker) bytes(n int) []byte {
	if n < 0 || n > len(d.b)-d.i0 {
		d.bad, d.i0 = true, len(d.b)
		return nil
	}
	d.i0 += n
	return d.b[d.i0-n : d.i0]
}

func (d *unpacker) u32() uint32 {
	if b := d.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *unpacker) str() string {
	n := d.u()
	if n > uint64(len(d.b)) {
		d.bad = true
		return ""
	}
	return string(d.bytes(int(n)))
}

// name reads what (*packer).name wrote, without making a string of it.
func (d *unpacker) name() capture.Name {
	n := d.u()
	if n > uint64(len(d.b)) {
		d.bad = true
		return capture.Name{}
	}
	return capture.NameOfBytes(d.bytes(int(n)))
}

func (d *unpacker) file() string {
	i := d.u()
	if i == 0 {
		return d.str()
	}
	if i > uint64(len(d.p.files)) {
		d.bad = true
		return ""
	}
	return d.p.files[i-1]
}

func (d *unpacker) addr() netip.Addr {
	switch d.u8() {
	case 0:
		return netip.Addr{}
	case 4:
		if b := d.bytes(4); b != nil {
			return netip.AddrFrom4([4]byte(b))
		}
	case 6:
		if b := d.bytes(16); b != nil {
			a := netip.AddrFrom16([16]byte(b))
			if z := d.str(); z != "" {
				a = a.WithZone(z)
			}
			return a
		}
	default:
		d.bad = true
	}
	return netip.Addr{}
}

func (d *unpacker) addrPort() netip.AddrPort {
	a := d.addr()
	return netip.AddrPortFrom(a, uint16(d.u()))
}

func (d *unpacker) time(ref time.Time) time.Time {
	v := d.u()
	switch {
	case v == tmZero:
		return time.Time{}
	case v == tmAbs:
		return d.absAfterTag()
	case v&3 == 3:
		return ref.Add(time.Duration(unzigzag(v>>2)) * time.Microsecond)
	case v&3 == 1:
		return ref.Add(time.Duration(unzigzag(v >> 2)))
	}
	d.bad = true
	return time.Time{}
}

func (d *unpacker) absTime() time.Time {
	switch d.u() {
	case tmZero:
		return time.Time{}
	case tmAbs:
		return d.absAfterTag()
	}
	d.bad = true
	return time.Time{}
}

func (d *unpacker) absAfterTag() time.Time {
	sec := d.i()
	return time.Unix(sec, int64(d.u())).UTC()
}

func (d *unpacker) seen(s *flows.Seen) {
	n := d.u()
	if n == 0 {
		return
	}
	s.Count = uint32(n - 1)
	s.TTL = d.u8()
	s.IPID = uint16(d.u())
	s.First = d.time(d.base)
	s.Last = d.time(s.First)
}

func (d *unpacker) seenAfterEvents(s *flows.Seen, events []flows.Event) {
	n := d.u()
	if n == 0 {
		return
	}
	s.Count = uint32(n - 1)
	if i := d.u(); i == 0 {
		s.TTL = d.u8()
		s.IPID = uint16(d.u())
		s.First = d.time(d.base)
	} else if i <= uint64(len(events)) {
		ev := &events[i-1]
		s.TTL, s.IPID, s.First = ev.TTL, ev.IPID, ev.TS
	} else {
		d.bad = true
	}
	s.Last = d.time(s.First)
}

func (d *unpacker) ref(r *capture.Ref) {
	*r = capture.Ref{}
	switch i := d.u(); {
	case i == 0:
		return
	case i == 1:
		r.File = d.str()
	case i-2 < uint64(len(d.p.files)):
		r.File = d.p.files[i-2]
	default:
		d.bad = true
		return
	}
	r.N = d.n + uint64(d.i())
	r.TS = d.time(d.base)
	r.Iface = int32(d.i())
}

func (d *unpacker) app(a *capture.AppInfo, partial, cut bool) {
	a.Kind = capture.AppKind(d.u8())
	a.Name = d.name()
	a.Name.Cut = cut
	a.Partial = partial
	a.Status = uint16(d.u())
}

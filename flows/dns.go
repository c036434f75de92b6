package flows

import (
	"net/netip"
	"time"

	"github.com/synpath/synpath/capture"
)

// DNS lookups are followed beside the attempts, by the same Tracker, so
// that the pipeline stays one pull loop: an attempt that starts learns at
// once which answer gave its server's address. Both tables are bounded;
// nothing is made until the capture shows DNS.

// Lookup is one DNS question a client asked (its retries included) that
// failed: an error response (NXDOMAIN, SERVFAIL, REFUSED, …), or no
// response at all. Config.OnDNS receives it.
type Lookup struct {
	// Client and Server are the endpoints of the first query (of the
	// response, when no query was captured).
	Client, Server netip.AddrPort
	Tunnel         capture.Tunnel
	ID             uint16 // of the first query
	Name           capture.Name
	QType          uint16
	// Queries counts the query and its retries: queries from the same
	// client address for the same name and type while it was unanswered,
	// to any server, with any ID, over UDP or TCP (a client told TC
	// retries over TCP). 0 when only the response was captured.
	Queries uint32
	First   capture.Ref // the first query (zero when not captured)
	Last    time.Time   // the last query
	// Answered says a response came: RCode is its response code, Answer
	// the packet, Took the time from the last query before it.
	Answered bool
	RCode    uint8
	Answer   capture.Ref
	Took     time.Duration
	// Truncated: a response with TC came first (the client should then
	// have asked again over TCP).
	Truncated bool
	// EndedBy: EndIdle when no success (or no response at all) came for
	// Config.DNSWait after the last query (End: Last + DNSWait); an error
	// response keeps the lookup open for the client's retries. EndCapture
	// when the capture ended first (End: the last packet read; End - Last is
	// how long it went unanswered). EndSettled: an error response whose
	// lookup could not be kept (no question, or the table full).
	EndedBy EndReason
	End     time.Time

	keys  [4]dnsIDKey // the queries' keys, to match responses (more retries match by name)
	nkeys uint8
	gen   uint32 // bumped when recycled, to tell stale queue entries
}

// DNSAnswer tells, for an attempt, the DNS answer its client got for the
// server's address before the SYN.
type DNSAnswer struct {
	Name   capture.Name
	Addr   netip.Addr // the address connected to, as the answer held it
	QType  uint16
	RCode  uint8
	TTL    uint32         // the answer's least A/AAAA TTL, in seconds
	Server netip.AddrPort // the resolver that answered
	Answer capture.Ref    // the response
	// Before is how long before the first SYN the answer came; Took how
	// long the lookup took, from its last query (0: query not captured).
	Before, Took time.Duration
	// Stale says a newer answer for Name no longer held Addr: the client
	// connected to an address it had cached. Current is the first address
	// of the newest such answer, CurrentAt its response.
	Stale     bool
	Current   netip.Addr
	CurrentAt capture.Ref
}

const (
	// DefaultDNSWait is how long a query may go unanswered after its last
	// retry before the lookup has failed: past the 5 s timeout of glibc,
	// Go and systemd-resolved, and the doubled timeout of glibc's second
	// round.
	DefaultDNSWait = 10 * time.Second
	// dnsPending bounds the lookups awaiting a response; queries beyond
	// are counted (Counts.DNSDropped) and not followed.
	dnsPending = 4096
	// dnsPerClient is how many recent answers are kept per client
	// address, newest first; dnsClients how many clients.
	dnsPerClient = 16
	dnsClients   = 1024
	// dnsKeep is how long an answer is kept for attempts that follow it.
	dnsKeep = time.Hour
)

// dnsIDKey matches a response to its query.
type dnsIDKey struct {
	client, server netip.AddrPort
	tunnel         capture.Tunnel
	id             uint16
}

// dnsNameKey finds a pending lookup by what it asks, for retries.
type dnsNameKey struct {
	client netip.Addr
	tunnel capture.Tunnel
	qtype  uint16
	name   capture.Name
}

// dnsHostKey names a client host.
type dnsHostKey struct {
	addr   netip.Addr
	tunnel capture.Tunnel
}

// dnsEntry is one successful answer kept for a client.
type dnsEntry struct {
	name   capture.Name
	qtype  uint16
	n      uint8
	addrs  [capture.MaxDNSAddrs]netip.Addr
	ttl    uint32
	server netip.AddrPort
	at     capture.Ref
	took   time.Duration
}

func (e *dnsEntry) holds(a netip.Addr) bool {
	for _, x := range e.addrs[:e.n] {
		if x == a {
			return true
		}
	}
	return false
}

// dnsHost is a ring of a client's latest answers.
type dnsHost struct {
	ring [dnsPerClient]dnsEntry
	n    int // entries held
	next int // where the next goes
	last time.Time
}

type dnsQueued struct {
	l   *Lookup
	gen uint32
	at  time.Time // the lookup's last query when queued
}

// dnsTable follows lookups and keeps recent answers.
type dnsTable struct {
	byID   map[dnsIDKey]*Lookup
	byName map[dnsNameKey]*Lookup
	queue  []dnsQueued // pending lookups, by last query when queued
	free   []*Lookup
	hosts  map[dnsHostKey]*dnsHost
	spare  []*dnsHost
	// freeAnswers are Attempt.DNS values of attempts handed on and recycled.
	freeAnswers []*DNSAnswer
	// The latest response, to tell a second copy of it.
	lastResp   dnsIDKey
	lastRespAt time.Time
}

func newDNSTable() *dnsTable {
	return &dnsTable{
		byID:   make(map[dnsIDKey]*Lookup),
		byName: make(map[dnsNameKey]*Lookup),
		hosts:  make(map[dnsHostKey]*dnsHost),
	}
}

// observeDNS takes a packet carrying a DNS message.
func (t *Tracker) observeDNS(p *capture.Packet) {
	d := &p.DNS
	if d.Opcode != 0 {
		return // NOTIFY, UPDATE: not lookups
	}
	if t.dns == nil {
		t.dns = newDNSTable()
	}
	client, server := p.DNSEnds()
	idk := dnsIDKey{client: client, server: server, tunnel: p.Tunnel, id: d.ID}
	nk := dnsNameKey{client: client.Addr(), tunnel: p.Tunnel, qtype: d.QType, name: d.Name}
	if !d.Response {
		t.dnsQuery(p, idk, nk)
		return
	}
	dt := t.dns
	if idk == dt.lastResp && p.TS.Sub(dt.lastRespAt) < duplicateWindow && !p.TS.Before(dt.lastRespAt) {
		return // the same response captured twice
	}
	dt.lastResp, dt.lastRespAt = idk, p.TS
	l := dt.byID[idk]
	if l == nil && d.Questions > 0 {
		l = dt.byName[nk]
	}
	if d.RCode == capture.RCodeNoError && d.NAddrs > 0 {
		t.dnsRemember(p, client, server, l)
	}
	switch {
	case d.RCode == capture.RCodeNoError && d.TC && l != nil:
		l.Truncated = true // the client asks again over TCP
	case d.RCode == capture.RCodeNoError:
		if l != nil {
			t.dnsEnd(l)
		}
	default:
		if l == nil {
			l = t.dnsAlloc()
			*l = Lookup{Client: client, Server: server, Tunnel: p.Tunnel, ID: d.ID, Name: d.Name, QType: d.QType, gen: l.gen}
			if _, taken := dt.byName[nk]; !taken && d.Questions > 0 && len(dt.byName) < dnsPending {
				dt.byName[nk] = l
				l.Queries = 0
				dt.queue = append(dt.queue, dnsQueued{l, l.gen, p.TS})
			} else {
				l.Answered, l.RCode, l.Answer = true, d.RCode, p.Ref
				t.dnsFail(l, p.TS, EndSettled)
				return
			}
		}
		l.Answered, l.RCode, l.Answer = true, d.RCode, p.Ref
		if l.Queries > 0 {
			l.Took = p.TS.Sub(l.Last)
		}
		// Clients retry a name after SERVFAIL or REFUSED (another server,
		// or the same once more): the lookup stays open for its retries,
		// and fails when none came for DNSWait, or a success ends it.
		if l.Last.IsZero() {
			l.Last = p.TS
		}
	}
}

// dnsQuery starts a lookup, or counts a retry of a pending one.
func (t *Tracker) dnsQuery(p *capture.Packet, idk dnsIDKey, nk dnsNameKey) {
	dt := t.dns
	l := dt.byName[nk]
	if l == nil {
		if len(dt.byName) >= dnsPending {
			t.counts.DNSDropped++
			return
		}
		l = t.dnsAlloc()
		*l = Lookup{Client: idk.client, Server: idk.server, Tunnel: p.Tunnel, ID: p.DNS.ID, Name: p.DNS.Name, QType: p.DNS.QType, First: p.Ref, gen: l.gen}
		dt.byName[nk] = l
		dt.queue = append(dt.queue, dnsQueued{l, l.gen, p.TS})
	} else if dt.byID[idk] == l && p.TS.Sub(l.Last) < duplicateWindow {
		return // the same query captured twice
	}
	l.Queries++
	l.Last = p.TS
	if dt.byID[idk] == nil && int(l.nkeys) < len(l.keys) {
		l.keys[l.nkeys] = idk
		l.nkeys++
		dt.byID[idk] = l
	}
}

func (t *Tracker) dnsAlloc() *Lookup {
	if l := reuse(&t.dns.free); l != nil {
		return l
	}
	return new(Lookup)
}

// dnsEnd forgets a lookup.
func (t *Tracker) dnsEnd(l *Lookup) {
	dt := t.dns
	for _, k := range l.keys[:l.nkeys] {
		if dt.byID[k] == l {
			delete(dt.byID, k)
		}
	}
	if l.Queries > 0 {
		nk := dnsNameKey{client: l.Client.Addr(), tunnel: l.Tunnel, qtype: l.QType, name: l.Name}
		if dt.byName[nk] == l {
			delete(dt.byName, nk)
		}
	}
	gen := l.gen + 1
	*l = Lookup{gen: gen}
	dt.free = append(dt.free, l)
}

// dnsFail hands a failed lookup on, and forgets it.
func (t *Tracker) dnsFail(l *Lookup, end time.Time, why EndReason) {
	if end.Before(l.Last) {
		// The tracker's clock does not follow one packet that jumped ahead
		// (a query among them); the lookup ended no sooner than it.
		end = l.Last
	}
	l.End, l.EndedBy = end, why
	t.counts.DNSFailed++
	if t.cfg.OnDNS != nil {
		t.cfg.OnDNS(l)
	}
	t.dnsEnd(l)
}

// expireDNS fails lookups unanswered for DNSWait after their last query
// (all of them, at the end).
func (t *Tracker) expireDNS(now time.Time, all bool) {
	dt := t.dns
	if dt == nil {
		return
	}
	n := 0
	for ; n < len(dt.queue); n++ {
		q := dt.queue[n]
		if !all && now.Sub(q.at) < t.cfg.DNSWait {
			break
		}
		l := q.l
		if l.gen != q.gen {
			continue // answered already
		}
		if !all && now.Sub(l.Last) < t.cfg.DNSWait {
			dt.queue = append(dt.queue, dnsQueued{l, l.gen, l.Last}) // retried since
			continue
		}
		if all {
			t.dnsFail(l, now, EndCapture)
		} else {
			t.dnsFail(l, l.Last.Add(t.cfg.DNSWait), EndIdle)
		}
	}
	dt.queue = append(dt.queue[:0], dt.queue[n:]...)
}

// sweepDNSHosts forgets clients without an answer for dnsKeep.
func (t *Tracker) sweepDNSHosts(now time.Time) {
	dt := t.dns
	if dt == nil {
		return
	}
	for k, h := range dt.hosts {
		if now.Sub(h.last) >= dnsKeep {
			delete(dt.hosts, k)
			dt.spare = append(dt.spare, h)
		}
	}
}

// dnsRemember keeps a successful answer for the client's next attempts.
func (t *Tracker) dnsRemember(p *capture.Packet, client, server netip.AddrPort, l *Lookup) {
	dt := t.dns
	k := dnsHostKey{client.Addr(), p.Tunnel}
	h := dt.hosts[k]
	if h == nil {
		if len(dt.hosts) >= dnsClients {
			// Make room: the client whose latest answer is oldest goes.
			var oldest dnsHostKey
			var at time.Time
			for hk, x := range dt.hosts {
				if at.IsZero() || x.last.Before(at) {
					oldest, at = hk, x.last
				}
			}
			t.counts.DNSHostsDropped++
			dt.spare = append(dt.spare, dt.hosts[oldest])
			delete(dt.hosts, oldest)
		}
		if h = reuse(&dt.spare); h != nil {
			*h = dnsHost{}
		} else {
			h = new(dnsHost)
		}
		dt.hosts[k] = h
	}
	d := &p.DNS
	e := &h.ring[h.next]
	*e = dnsEntry{name: d.Name, qtype: d.QType, n: d.NAddrs, addrs: d.Addrs, ttl: d.TTL, server: server, at: p.Ref}
	if l != nil && l.Queries > 0 {
		e.took = p.TS.Sub(l.Last)
	}
	h.next = (h.next + 1) % len(h.ring)
	h.n = min(h.n+1, len(h.ring))
	h.last = p.TS
}

// dnsFor sets a.DNS to the latest answer the client of an attempt
// starting at p got for its server's address, if any.
func (t *Tracker) dnsFor(a *attemptState, p *capture.Packet) {
	dt := t.dns
	h := dt.hosts[dnsHostKey{p.Src.Addr(), p.Tunnel}]
	if h == nil {
		return
	}
	addr := p.Dst.Addr()
	for i := 1; i <= h.n; i++ {
		e := &h.ring[(h.next-i+len(h.ring))%len(h.ring)]
		if p.TS.Sub(e.at.TS) >= dnsKeep || e.at.TS.After(p.TS) {
			continue
		}
		if !e.holds(addr) {
			continue
		}
		d := reuse(&dt.freeAnswers)
		if d == nil {
			d = new(DNSAnswer)
		}
		*d = DNSAnswer{Name: e.name, Addr: addr, QType: e.qtype, TTL: e.ttl, Server: e.server, Answer: e.at,
			Before: p.TS.Sub(e.at.TS), Took: e.took}
		a.DNS = d
		// A newer answer for the same name without this address: the
		// client used a cached one. The newest such comes first.
		for j := 1; j < i; j++ {
			n := &h.ring[(h.next-j+len(h.ring))%len(h.ring)]
			if n.name == e.name && n.qtype == e.qtype && !n.holds(addr) && !n.at.TS.After(p.TS) {
				d.Stale, d.Current, d.CurrentAt = true, n.addrs[0], n.at
				break
			}
		}
		return
	}
}

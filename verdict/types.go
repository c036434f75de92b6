package verdict

import (
	"net/netip"
	"strings"
	"time"

	"github.com/synpath/synpath/capture"
)

// Verdict is what the client's connect() experienced (SPEC.md).
type Verdict string

const (
	Established Verdict = "established"
	Refused     Verdict = "refused"
	Unreachable Verdict = "unreachable"
	Timeout     Verdict = "timeout"
	HalfOpen    Verdict = "half-open"
	Stalled     Verdict = "stalled"
	Reset       Verdict = "reset"
	Aborted     Verdict = "aborted"
	Incomplete  Verdict = "incomplete"
)

// Failed reports whether the verdict is a failure the exit status counts.
// An incomplete attempt has not failed, but it has not succeeded either.
func (v Verdict) Failed() bool { return v != Established }

// Place is where a handshake died (SPEC.md).
type Place string

const (
	None         Place = "none"
	OutboundPath Place = "outbound-path"
	Server       Place = "server"
	ReturnPath   Place = "return-path"
	Client       Place = "client"
	Unknown      Place = "unknown"
)

// Origin is who sent a RST or ICMP error.
type Origin string

const (
	NoOrigin      Origin = ""
	OriginServer  Origin = "server"
	OriginPath    Origin = "path"
	OriginClient  Origin = "client"
	OriginUnknown Origin = "unknown"
)

// Sureness says how firmly the origin is known.
type Sureness string

const (
	Certain Sureness = "certain" // seen leaving its sender, or both captures agree
	Likely  Sureness = "likely"  // inferred from TTL / hop limit
)

// Confidence says how the place a handshake died is known (SPEC
// where_confidence).
type Confidence string

const (
	// Proven: both captures show it, or a packet was seen leaving its
	// sender or reaching its target in that host's own capture.
	Proven Confidence = "proven"
	// Inferred: an inference from one capture (TTLs, what a host's
	// behaviour implies).
	Inferred Confidence = "likely"
)

// sureness turns how sure a RST's origin is into how sure the place is.
func (s Sureness) confidence() Confidence {
	if s == Certain {
		return Proven
	}
	return Inferred
}

// Vantage is where a capture was taken.
type Vantage string

const (
	VantageUnknown Vantage = "unknown"
	VantageClient  Vantage = "client"
	VantageServer  Vantage = "server"
	VantageBoth    Vantage = "both"
)

// Evidence is one packet behind a verdict.
type Evidence struct {
	capture.Ref
	What       string // "SYN", "SYN-ACK", "RST", "ICMP admin-prohibited", …
	FromClient bool   // sent by the client side (ICMP: quoting a client packet)
	TTL        uint8
	Len        uint32 // TCP payload bytes
	// Side is the vantage of the capture the packet is in.
	Side Vantage
	// At is the packet's time on the client capture's clock: TS, less the
	// clock offset for packets of a server capture that was joined.
	At time.Time
	// Pair is the index in Result.Evidence of the same packet as the other
	// capture saw it, or -1.
	Pair int
	// Lost marks a packet one capture shows sent that the other capture,
	// covering that time, never got.
	Lost bool
}

// TowardServer reports which way the packet travelled: an ICMP error goes
// back towards the sender of the packet it quotes.
func (e *Evidence) TowardServer() bool {
	return e.FromClient != strings.HasPrefix(e.What, "ICMP")
}

// Result is the judgement of one attempt.
type Result struct {
	Client, Server netip.AddrPort
	// Tunnel is the overlay the attempt was carried in (VXLAN VNI, GRE
	// key…): two tenants' equal addresses are two attempts.
	Tunnel     capture.Tunnel
	ISN        uint32
	Verdict    Verdict
	Where      Place
	Candidates []Place    // places still possible; [Where] when known
	WhereSure  Confidence // empty when Where is unknown
	Cause      Cause      // why, where the packets show it; empty otherwise
	// FellBackTo is the server of the attempt the client moved on to while
	// this one was unanswered (flows.Fallback), when it did.
	FellBackTo netip.AddrPort
	// AnsweredFrom is the address SYN-ACKs acknowledging the SYN came from
	// when it was not the server's (flows.Attempt.AnsweredFrom).
	AnsweredFrom netip.AddrPort
	// SNI and HTTPHost name what the client asked for in its first payload
	// (TLS ClientHello, plaintext HTTP request); HTTPStatus is the first
	// response's status, 0 if none.
	SNI, HTTPHost string
	HTTPStatus    int
	// DNS is the lookup whose answer held the server's address.
	DNS        *Lookup
	RSTOrigin  Origin
	OriginSure Sureness
	ICMP       string // "admin-prohibited (ICMP 3/13) from 198.51.100.1"
	Vantage    Vantage

	FirstSYN time.Time
	// Counters SPEC names; -1 where this vantage cannot know.
	SYNSent, SYNSeenByServer, SYNACKSent, SYNACKSeenByClient int
	RTT                                                      time.Duration // -1: none
	// ClockOffset is server clock minus client clock, and its error bound,
	// when two captures were joined.
	ClockOffset, ClockError time.Duration
	HasClockOffset          bool
	// ClientSeenByServer / ServerSeenByServer are the endpoints in the
	// server's capture when they differ (NAT), or, in the capture of a host
	// that translated them (a router's tcpdump -i any), as it passed them
	// on. ClientSeenByClient / ServerSeenByClient are, of the translated
	// view of a connection in such a capture, the endpoints it received
	// the client's SYNs under: the same connection is also judged under
	// them.
	ClientSeenByServer, ServerSeenByServer netip.AddrPort
	ClientSeenByClient, ServerSeenByClient netip.AddrPort

	// Partial is set when the other capture covered only part of the
	// attempt's time: its counters then do not add up to path losses.
	Partial bool
	// OneWay: the capture holds none of the server's packets of an attempt
	// the client's own packets show answered (a blind spot worth naming).
	OneWay bool

	// Match says how the client's and the server's view of the attempt
	// were recognised as one ("4-tuple+isn", "isn+options (NAT)", …).
	Match string

	Explanation string
	// Settle names the capture that would settle an unknown place.
	Settle   string
	Evidence []Evidence

	// w is where JudgeInto writes the words, kept for the next use.
	w *words
}

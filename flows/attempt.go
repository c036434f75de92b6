package flows

import (
	"net/netip"
	"time"

	"github.com/synpath/synpath/capture"
)

// Key names a connection, client (the SYN sender) first, within the
// virtual network that carried it (zero for most traffic): two tenants of
// an overlay may use the same addresses. It is comparable, so it serves as
// a map key.
type Key struct {
	Client, Server netip.AddrPort
	Tunnel         capture.Tunnel
}

// mapKey is a Key as the tracker's tables hold it: plain bytes with no
// padding, so a probe hashes and compares it as one block of memory (a
// Key's padding made Go hash and compare it field by field, a tenth of a
// run on a capture of short connections). Addresses decoded from packets
// carry no IPv6 zone; a zone is not part of it.
type mapKey struct {
	client, server [16]byte
	ports          uint32 // the client's port << 16 | the server's
	tunnelID       uint32
	meta           uint32 // the tunnel kind; bit 8: the client's address is IPv4, bit 9: the server's
}

const (
	clientIs4 = 1 << 8
	serverIs4 = 1 << 9
)

// EventType says what one packet of an attempt was.
type EventType uint8

const (
	EvSYN             EventType = iota + 1 // client SYN (or a retransmission of it)
	EvSYNACK                               // server SYN-ACK acknowledging the ISN
	EvACK                                  // the client's handshake-completing ACK
	EvData                                 // a segment carrying payload
	EvFIN                                  // a FIN
	EvRST                                  // a RST that the receiver would accept
	EvICMP                                 // an ICMP error quoting the attempt's SYN
	EvStrayRST                             // a RST the receiver would ignore (ack ≠ ISN+1)
	EvStraySYNACK                          // a SYN-ACK for another ISN
	EvICMPLater                            // an ICMP error quoting a later segment
	EvSYNACKElsewhere                      // a SYN-ACK acknowledging the SYN, from another address (Attempt.AnsweredFrom)
	EvRSTElsewhere                         // the client's RST to that address
	EvStaleACK                             // a server segment answering the SYN for an earlier connection (Attempt.StaleACKs)
	EvStaleRST                             // the client's RST to it (Attempt.StaleResets)
)

var eventNames = [...]string{
	EvSYN: "SYN", EvSYNACK: "SYN-ACK", EvACK: "ACK", EvData: "data", EvFIN: "FIN",
	EvRST: "RST", EvICMP: "ICMP", EvStrayRST: "RST (ignored: does not ack the SYN)",
	EvStraySYNACK: "SYN-ACK (for another SYN)", EvICMPLater: "ICMP (about a later segment)",
	EvSYNACKElsewhere: "SYN-ACK (from another address)", EvRSTElsewhere: "RST (to that address)",
	EvStaleACK: "ACK (of an earlier connection)", EvStaleRST: "RST (to that ACK)",
}

func (e EventType) String() string {
	if int(e) < len(eventNames) && eventNames[e] != "" {
		return eventNames[e]
	}
	return "?"
}

// Event is one packet of an attempt, kept as evidence and for ladder
// diagrams.
type Event struct {
	capture.Ref
	Type       EventType
	FromClient bool // sent by the client side (for ICMP: quoting a client packet)
	// App says what a data segment starts with (a ClientHello, an HTTP
	// request or response), for ladders.
	App  capture.AppKind
	TTL  uint8
	IPID uint16
	Len  uint32 // TCP payload length
}

// Seen summarises one kind of packet in an attempt: how many, when, and
// the TTL and IP-ID of the first (which packet it was, Events tell).
type Seen struct {
	Count       uint32
	TTL         uint8
	IPID        uint16
	First, Last time.Time
}

// HopRef is what a capture showed of the packets one address sent, other
// than RSTs: the reference for judging whether a RST claiming to come from
// that address really did, and whether the capture can be trusted to hold
// what the address sent.
type HopRef struct {
	TTL uint8 // TTL / hop limit of the latest SYN-ACK from the address
	// AltTTL is another TTL the address's SYN-ACKs came with before the
	// latest's, 0 if none: a capture on a host that passes them on (a NAT
	// router's tcpdump -i any) holds them as they came and a hop lower,
	// under other addresses once translated.
	AltTTL uint8
	IPID   uint16 // its IPv4 identification
	Count  uint32 // SYN-ACKs from the address
	From   capture.Ref
	// Missed counts handshakes with the address as server that its
	// clients completed, acknowledging a SYN-ACK this capture does not
	// hold: the capture misses some of what the address sends (answers
	// routed out another interface, a filter, capture drops), so its
	// silence on another connection proves nothing. MissedAt is the
	// latest such client ACK.
	Missed   uint32
	MissedAt capture.Ref
	// MinRTT is the shortest time from a client's only SYN to the
	// address's SYN-ACK answering it, as the capture saw them (0: none
	// seen): how far the address's hosts are from the capture point and
	// back. A RST in the address's name that came back much sooner was
	// sent from much nearer.
	MinRTT time.Duration
}

// sawSYNACK takes a SYN-ACK from the address into its reference.
func (r *HopRef) sawSYNACK(p *capture.Packet) {
	if r.Count > 0 && r.TTL != p.TTL {
		r.AltTTL = r.TTL
	}
	r.TTL, r.IPID, r.Count, r.From = p.TTL, p.IPID, r.Count+1, p.Ref
}

// EndReason says why an attempt was handed on.
type EndReason uint8

const (
	EndSettled  EndReason = iota // a packet settled its outcome
	EndCapture                   // the capture ended
	EndIdle                      // no packet of it for Config.Idle
	EndReplaced                  // a SYN with another ISN took over its 4-tuple
	EndEvicted                   // the table was full (SYN flood)
)

// MaxEvents bounds the evidence kept per attempt; counters keep counting.
const MaxEvents = 32

// Attempt is everything one capture showed of one connection attempt.
type Attempt struct {
	Key Key
	ISN uint32 // client initial sequence number
	// File is the capture file of the first SYN (of several rotated ones).
	File string
	// SYNOpts are the options of the first SYN: with the ISN and TSval they
	// let the two-capture join recognise the same SYN across NAT.
	SYNOpts capture.TCPOptions
	// SYNData is the payload of the first SYN (TCP Fast Open); a SYN-ACK
	// may acknowledge it along with the SYN.
	SYNData uint32

	SYN    Seen // client SYNs with this ISN
	SYNACK Seen // SYN-ACKs acknowledging ISN+1
	// ServerISN is the sequence number of the first SYN-ACK (or of the one
	// the client acknowledged).
	ServerISN uint32
	// AltServerISN is the sequence number of a later SYN-ACK with another
	// ISN answering the same SYN; the client may take either.
	AltServerISN uint32
	// SYNAfterSYNACK counts client SYNs seen after the first SYN-ACK: the
	// client had not received it.
	SYNAfterSYNACK uint32
	// SYNACKAfterACK counts SYN-ACKs seen after the client's final ACK: the
	// server had not taken the ACK.
	SYNACKAfterACK uint32
	ACK            Seen // the client's handshake-completing ACK (or first segment acking the SYN-ACK)
	// ACKInferred is set when the client's ACK is not in the capture but
	// the server's packets show it got it: it acknowledged client data, or
	// sent data of its own on the connection.
	ACKInferred bool
	// ServerBytesAcked is how much server data the client acknowledged:
	// proof the server sent it, even where the capture missed it (a
	// one-way capture, asymmetric routing).
	ServerBytesAcked uint32

	ServerRST, ClientRST Seen // acceptable RSTs from each side
	// RSTInHandshake is set when the first acceptable RST came before the
	// handshake completed.
	RSTInHandshake bool
	// ServerRSTBare is set when the server's first acceptable RST carried
	// no ACK: a TCP answers so a segment with an ACK for a connection it
	// does not hold (RFC 9293 3.10.7.1-2), as netfilter's REJECT does,
	// where Linux, the BSDs and Windows abort one they hold with RST and
	// ACK.
	ServerRSTBare bool
	ICMP          Seen // ICMP errors quoting the SYN
	// ICMPInfo is the first ICMP error quoting the SYN or, with none, the
	// first quoting a segment of the server's (its SYN-ACK, on the way
	// back: an EvICMPLater event that is not the client's).
	ICMPInfo capture.ICMPInfo

	ClientData, ServerData Seen
	ClientBytes            uint64
	ServerBytes            uint64
	// The server's data as sequence offsets after its ISN: the lowest and
	// highest seen (a lowest above 0 is a hole before the first segment that
	// arrived), the largest segment, and how many segments came again.
	// With ServerMSS (announced in its SYN-ACK) and the client's ACKs, they
	// tell a PMTU black hole.
	ServerSeqLo, ServerSeqHi uint32
	ServerMaxSeg             uint32
	ServerResent             uint32
	ServerMSS                uint16
	// ServerSent is how far (past its ISN) the server's packets, data or
	// not, show it had sent: a FIN or ACK far ahead of any data that
	// arrived proves bytes that were lost.
	ServerSent uint32
	// ClientDupACKs counts client ACKs, after server data came, that did
	// not acknowledge more of it.
	ClientDupACKs uint32
	// The same for the client's data (an upload): where it fell, the
	// largest segment, how many came again, how much the server
	// acknowledged, and the server's ACKs that acknowledged no more.
	ClientSeqLo, ClientSeqHi uint32
	ClientMaxSeg             uint32
	ClientResent             uint32
	ClientBytesAcked         uint32
	ServerDupACKs            uint32
	// ServerAckedData is set when the server acknowledged client payload.
	ServerAckedData bool
	ClientFIN       Seen
	ServerFIN       Seen

	// ClientApp is what the client's first payload naming a service said:
	// a TLS ClientHello and its SNI, or an HTTP request and its Host
	// (capture.AppInfo: a name not in that segment is Partial).
	// ClientAppAt is that segment.
	ClientApp   capture.AppInfo
	ClientAppAt capture.Ref
	// ServerApp is the server's first HTTP response (its Status), and
	// ServerAppAt that segment.
	ServerApp   capture.AppInfo
	ServerAppAt capture.Ref
	// DNS is the latest answer the client got, before the first SYN, that
	// held the server's address, from the DNS seen earlier in the capture;
	// nil when none did.
	DNS *DNSAnswer

	// ServerHops is the capture's reference for packets from the server's
	// address, filled when the attempt is handed on.
	ServerHops HopRef
	// PortHops is the same from the server's address and port only (its
	// Missed unused), filled when the attempt is handed on without a
	// SYN-ACK of its own. A host that forwards some of its ports to hosts
	// farther off (port forwarding, a container host, a Kubernetes node, a
	// load balancer) answers for the rest itself, from nearer: only the
	// same port's SYN-ACKs are the server's own packets for sure.
	PortHops HopRef
	// End is how far the capture went while this attempt was tracked: the
	// last packet of the capture, or the time it was expired.
	End time.Time
	// CaptureFrom is when the capture began: its first packet (zero: not
	// known). A capture begun shortly before an attempt's first SYN may
	// have missed earlier SYNs of the client's: the first it shows may be
	// a resent one, even its last.
	CaptureFrom time.Time
	// EndedBy says why the tracker stopped following the attempt at End,
	// so an explanation never calls an idle timer the end of the capture.
	EndedBy EndReason
	// Settled is set once the outcome could not change any more.
	Settled bool

	Events        []Event
	EventsDropped uint32
	// Duplicates counts copies of one packet captured twice (tcpdump -i
	// any on a router sees a forwarded packet on both interfaces).
	Duplicates uint32
	// Echoes counts the client's SYN seen twice, once as it was sent (no
	// hop lost) and once as it arrived (hops lost): the file holds both
	// ends' captures (mergecap of a client and a server capture). Only the
	// SYN: other segments the same but for their TTL may come from two
	// senders (a SYN proxy's ACK and the server's).
	Echoes uint32
	// SYNACKTwins counts the server's SYN-ACKs seen twice, the second copy
	// with hops lost (Duplicates): a capture on a host that forwards them
	// (a router's tcpdump -i any) sees each one it passes on as it came
	// and again as it left. Copies with one TTL are not that: a SPAN of
	// both directions, or two the server sent.
	SYNACKTwins uint32
	// SYNsIn counts the client's SYNs the capture records as received by
	// the host it was taken on (capture.Packet.Dir: a Linux cooked header,
	// pcapng's epb_flags), SYNsOut those it records as sent by that host
	// under these addresses (the client's own, or passed on), and
	// SYNsPassedOn the received ones it also holds as passed on, under
	// these addresses or, translated, under others with the same ISN. A
	// host that received SYNs and passed none on dropped them. SYNsRelayed
	// counts the SYNs sent that were such copies: this host passes the
	// connection on. SYNACKsIn, SYNACKsOut and SYNACKsPassedOn are the
	// same for the server's SYN-ACKs (paired by the server's ISN), and
	// SYNACKsToCopy counts those received for this attempt's translated
	// copy, under the other addresses: the server's answers to the SYNs
	// passed on, which reach the client only if passed back under these.
	// Unpaired says that a packet received was pushed out of the
	// tracker's pairing table before it could be passed on: whether it
	// was cannot be told.
	SYNsIn, SYNsOut, SYNsPassedOn, SYNsRelayed uint32
	// ServerRSTsIn and ServerRSTsOut count the RSTs in the server's name
	// the capture records as received and as sent by its host: sent and
	// never received, it made them itself (a firewall's REJECT, or the
	// host standing for that address).
	ServerRSTsIn, ServerRSTsOut uint32
	// RelayedFromTTL is the TTL the host received the SYNs with that this
	// attempt's SYNs are copies of (SYNsRelayed), under these addresses or
	// others: how far the client is from that host.
	RelayedFromTTL uint8
	// PassedOnAs is the addresses the host passed this attempt's SYNs on
	// under, when it translated them (the copies' attempt, the translated
	// view); ReceivedAs, of that view, the addresses it received them
	// under (the client's). Zero Keys where it did not translate.
	PassedOnAs, ReceivedAs                                Key
	SYNACKsIn, SYNACKsOut, SYNACKsPassedOn, SYNACKsToCopy uint32
	Unpaired                                              bool
	// AfterStepBack says that the capture's times stepped back before the
	// attempt's first SYN, to within Idle after it of times the file held
	// before the step: packets of it may lie in the part read earlier (a
	// file read as it lies, with stretches out of time order: gzip'd,
	// standard input, -c).
	AfterStepBack bool
	// OutOfTimeOrder says that packets of the attempt came out of time
	// order: once the file's times had stepped back, one came from more
	// than a step before its first SYN. Read as it lies, the file holds the
	// attempt in pieces the wrong way round, and its end came before its
	// start: what it ended with is not known.
	OutOfTimeOrder bool
	// PassesOnToServer says that, as far as the capture had been read, its
	// host had passed on a SYN it received for this attempt's server
	// address (paired as for SYNsPassedOn): it routes there, and is not
	// that server.
	PassesOnToServer bool
	// RoutesToServer says the same of SYNs it passed on to the server's
	// address itself (the client's translated at most): the host routes
	// there, and most likely is not that address's (a load balancer's
	// director in direct-routing mode is). Only translated (port
	// forwarding, a Kubernetes node's NodePorts, a load balancer, a
	// proxy's redirect), it may well be.
	RoutesToServer bool
	// PassesOnLater says the host passed on a SYN for this attempt's
	// server address that it received after this attempt's first SYN: its
	// way out toward that server let a later packet through. A router's
	// queue on that way may hold packets for seconds (bufferbloat); SYNs
	// it received and never sent on before the capture ended were dropped
	// only if a later one left.
	PassesOnLater bool
	// PassesBackLater says the same of the way back: the host passed a
	// server's SYN-ACK back to this attempt's client that it received after
	// the first of this attempt's it holds as received (SYNACKsToCopy, or
	// SYNACKsIn).
	PassesBackLater bool
	// ServerIsCaptureHost says that, as far as the capture had been read,
	// it recorded its host sending SYN-ACKs of its own (not copies passed
	// on, their TTL as sent) from this attempt's server address: the
	// capture was taken on that server.
	ServerIsCaptureHost bool
	// Fallback is the attempt the client began while this one was
	// unanswered and that was answered first, if any (see Fallback).
	Fallback Fallback
	// AnsweredFrom is where SYN-ACKs acknowledging this attempt's SYN came
	// from when it was not its server (a reply that went around the NAT
	// that translated the SYN), and AnsweredFromCount how many came: the
	// client's stack takes none of them (EvSYNACKElsewhere).
	AnsweredFrom      netip.AddrPort
	AnsweredFromCount uint32
	// StaleACKs counts the server's segments, before any SYN-ACK, that
	// acknowledge another connection's bytes instead of the SYN: the
	// server still holds an earlier connection on these ports (the client
	// forgot it, or a NAT gave its ports to another host) and answers a
	// SYN for it with that connection's ACK (RFC 9293 3.10.7.4, RFC 5961
	// 4). StaleResets counts the client's RSTs answering them, with that
	// ACK's number as their sequence number, as a stack in SYN-SENT must:
	// each should end the earlier connection and free the ports.
	StaleACKs, StaleResets uint32
	// BadSumSYNs and BadSumSYNACKs count the SYNs and SYN-ACKs that
	// carried a wrong TCP checksum (capture.Packet.BadSum): their receiver
	// discards them. SumsUntrusted says the capture's checksums cannot be
	// taken for the wire's, as far as it had been read: it showed a segment
	// with a wrong one taken by its receiver (answered, acknowledged: an
	// offload the capture point sees before), or none with a right one (a
	// capture whose every checksum is wrong proves nothing by any).
	BadSumSYNs, BadSumSYNACKs uint32
	SumsUntrusted             bool
	// FlagsOnly says that, as far as the capture had been read, it held
	// no TCP segment without SYN, FIN or RST (no ACK, no data), though a
	// handshake was answered unseen (AnsweredUnseen) or several were
	// answered (flagsOnlyAnswered): it was taken with a filter on TCP flags (tcp[tcpflags] & tcp-syn != 0, to keep a busy
	// host's capture small). A client's ACK, and RSTs, missing from it
	// prove nothing.
	FlagsOnly bool
	// SYNsOnly says that, as far as the capture had been read, every TCP
	// segment in it carried SYN: whether it would hold any other (a RST,
	// an ACK) it cannot show, so their absence proves nothing.
	SYNsOnly bool
	// MidPath says that, as far as the capture had been read, it held a
	// handshake whose SYN and SYN-ACK had both crossed routers: it was
	// taken between hosts (a router, a firewall, a SPAN port), not on
	// that handshake's ends. An unanswered SYN that crossed routers is
	// then no sign of a capture on its server.
	MidPath bool
	// Earlier is what the capture showed of the connection that used the
	// attempt's ports before it (port reuse), as the new SYN came.
	Earlier Earlier
	// ECNSYNs counts the client's SYNs that asked for ECN (ECE and CWR
	// set: RFC 3168 6.1.1) before any that did not. ECNFallback says the
	// first SYN-ACK answered the first SYN without them, sent after them,
	// as its timestamp echo proves: the ECN-setup SYNs went unanswered and
	// the plain one was answered at once (a client's ECN fallback, RFC
	// 3168 6.1.1.1, around something that drops ECN-setup SYNs).
	ECNSYNs     uint32
	ECNFallback bool
}

// Earlier says how the connection that used an attempt's ports before it
// ended, as far as the capture showed when the attempt's SYN came: the
// state the server may still hold it in.
type Earlier uint8

const (
	EarlierNone         Earlier = iota // no earlier connection on these ports in the capture
	EarlierOpen                        // one never closed nor reset
	EarlierServerClosed                // one the server closed first: it holds it in TIME_WAIT
	EarlierClientClosed                // one the client closed first
	EarlierReset                       // one reset
)

// Established reports whether the client completed the handshake.
func (a *Attempt) Established() bool { return a.ACK.Count > 0 || a.ACKInferred }

// flagsOnlyAnswered is how many handshakes a SYN-ACK answered, with not
// one ACK captured, make a capture filtered on TCP flags, even before one
// of them shows it (AnsweredUnseen, which takes answeredWait): each was
// lost, or dropped by its client, else.
const flagsOnlyAnswered = 3

// answeredWait is how long a SYN-ACK goes unrepeated, and a SYN, only when
// it was answered: every stack resends either within 3 s.
const answeredWait = 3 * time.Second

// AnsweredUnseen reports a handshake the capture shows answered though it
// holds no answer: the server sent its SYN-ACK once and never again, and
// the client resent no SYN, for answeredWait, with no ACK or RST between
// them. Both stacks had what they waited for; the capture lacks it (a
// filter on TCP flags, a capture that dropped it).
func (a *Attempt) AnsweredUnseen() bool {
	return a.SYNACK.Count == 1 && !a.Established() && a.ClientRST.Count == 0 && a.ServerRST.Count == 0 &&
		a.SYNAfterSYNACK == 0 && a.End.Sub(a.SYNACK.First) >= answeredWait
}

// ServerAnswered reports whether the server's data reached the client: seen
// in the capture, or acknowledged by the client.
func (a *Attempt) ServerAnswered() bool { return a.ServerData.Count > 0 || a.ServerBytesAcked > 0 }

// Clone returns a copy that does not share memory with a, for consumers
// that keep attempts beyond the hand-on call.
func (a *Attempt) Clone() *Attempt {
	c := *a
	c.Events = append([]Event(nil), a.Events...)
	if a.DNS != nil {
		d := *a.DNS
		c.DNS = &d
	}
	return &c
}

// acksSYN reports whether ack acknowledges the SYN: ISN+1, or past the
// SYN's data when a Fast Open server took it.
func (a *attemptState) acksSYN(ack uint32) bool {
	return ack == a.ISN+1 || (a.SYNData > 0 && ack == a.ISN+1+a.SYNData)
}

// Established is Attempt.Established.
func (a *attemptState) Established() bool { return a.ACK.Count > 0 || a.ACKInferred }

// clientApp keeps the first client payload that names the service.
func (t *Tracker) clientApp(a *attemptState, p *capture.Packet) {
	if k := p.App.Kind; a.ClientApp.Kind == 0 && (k == capture.AppTLSClientHello || k == capture.AppHTTPRequest) {
		a.ClientApp = p.App
		t.keepRef(&a.ClientAppAt, p)
	}
}

// noteEcho counts a second copy of a packet whose TTL says it was captured
// at the other end of the path.
func (a *attemptState) noteEcho(ttl1, ttl2 uint8) {
	if (capture.Hops(ttl1) == 0) != (capture.Hops(ttl2) == 0) {
		a.Echoes++
	}
}

// serverSegment notes where a server data segment falls in the stream.
func (a *attemptState) serverSegment(p *capture.Packet) {
	segment(p.Seq-(a.ServerISN+1), p.PayloadLen, a.ServerData.Count == 0, &a.ServerSeqLo, &a.ServerSeqHi, &a.ServerResent, &a.ServerMaxSeg)
}

// clientSegment is serverSegment for the client's data (after the SYN's).
func (a *attemptState) clientSegment(p *capture.Packet) {
	segment(p.Seq-(a.ISN+1+a.SYNData), p.PayloadLen, a.ClientData.Count == 0 || (a.ClientData.Count == 1 && a.SYNData > 0), &a.ClientSeqLo, &a.ClientSeqHi, &a.ClientResent, &a.ClientMaxSeg)
}

// ackedUncaptured reports whether the capture lacks data of the client,
// or of the server, that the other end acknowledged: the highest
// acknowledgment runs past the end of the data captured (and a FIN
// captured, which takes one more).
func (a *attemptState) ackedUncaptured() (client, server bool) {
	past := func(acked, hi uint32, fin bool) bool {
		if fin {
			hi++
		}
		return seqAfter(acked, hi)
	}
	// The server's acknowledgments are followed only once client data was
	// captured; the client's from its handshake ACK on, so that a capture
	// missing all of the server's data shows too, if it holds the server's
	// SYN-ACK: a capture of one direction (tcpdump -Q in, a tap) misses
	// the other by design, and says so otherwise.
	return a.ClientData.Count > 0 && past(a.ClientBytesAcked, a.ClientSeqHi, a.ClientFIN.Count > 0),
		a.SYNACK.Count > 0 && past(a.ServerBytesAcked, a.serverCaptured(), a.ServerFIN.Count > 0)
}

// serverCaptured is how far the server's data captured reaches, as an
// offset from its ISN+1.
func (a *attemptState) serverCaptured() uint32 {
	if a.ServerData.Count > 0 {
		return a.ServerSeqHi
	}
	return 0
}

// holes is where the data ackedUncaptured finds missing starts, as
// sequence numbers: the client's and the server's, past the data
// captured (a FIN missing alone starts there too).
func (a *attemptState) holes() (client, server uint32) {
	return a.ISN + 1 + a.SYNData + a.ClientSeqHi, a.ServerISN + 1 + a.serverCaptured()
}

// segment notes a segment at offset off of n bytes in one direction's
// stream: the lowest and highest offsets seen, segments sent again, the
// largest.
func segment(off, n uint32, first bool, lo, hi, resent, maxSeg *uint32) {
	end := off + n
	switch {
	case first:
		*lo, *hi = off, end
	case !seqAfter(*lo, off) && !seqAfter(end, *hi):
		*resent++ // within what came before: sent again
	default:
		if seqAfter(*lo, off) {
			*lo = off
		}
		if seqAfter(end, *hi) {
			*hi = end
		}
	}
	*maxSeg = max(*maxSeg, n)
}

// packetSig is what tells two captured copies of one packet from a
// retransmission: the same header fields, microseconds apart. It is
// compact (the direction rather than the sender's address, the time in
// nanoseconds): every packet writes one.
type packetSig struct {
	ns       int64 // nanos of its time
	seq, ack uint32
	length   uint32
	ipid     uint16
	flags    capture.TCPFlags
	ttl      uint8
	// fromClient: sent by the client. Within one attempt the direction
	// names the sender's address.
	fromClient bool
	// dir is which way it crossed the capture's host, where recorded.
	dir capture.Direction
}

// duplicateWindow is far below any retransmission timeout (≥ 200 ms) and
// far above the time a router takes to forward a packet.
const duplicateWindow = time.Millisecond

// duplicate reports whether p, sent by the client if fromClient, is a
// second copy of the packet before it, and remembers p otherwise; ns is
// nanos of its time.
//
// The same header fields within a millisecond are not enough: a stack
// sends such twins itself where the fields do not name a packet. A Linux
// server's SYN-ACK timer and its answer to a resent SYN fire together on
// a LAN (IP-ID 0, one timestamp tick), IPv6 (no IP-ID) duplicate ACKs
// leave back to back after a loss, and a SYN proxy and the server behind
// it both acknowledge the client's ACK. A pair is a capture's copy when
// it proves it (copyOfOne), or when the capture has proved it copies
// (copies: an earlier pair did).
func (a *attemptState) duplicate(p *capture.Packet, ns int64, fromClient, copies bool) bool {
	sig := packetSig{ns: ns, seq: p.Seq, ack: p.Ack, length: p.PayloadLen, ipid: p.IPID, flags: p.Flags, ttl: p.TTL, fromClient: fromClient, dir: p.Dir}
	last := a.lastSig
	a.lastSig = sig
	if sig.fromClient == last.fromClient && sig.seq == last.seq && sig.ack == last.ack && sig.ipid == last.ipid &&
		sig.flags == last.flags && sig.length == last.length && sig.ns-last.ns < int64(duplicateWindow) && last.ns-sig.ns < int64(duplicateWindow) &&
		(copies || copyOfOne(&sig)) {
		a.Duplicates++
		if sig.fromClient && sig.flags.BareSYN() {
			a.noteEcho(last.ttl, sig.ttl)
		}
		if !sig.fromClient && sig.flags.Has(capture.FlagSYN|capture.FlagACK) && sig.ttl < last.ttl {
			a.SYNACKTwins++
		}
		return true
	}
	return false
}

// copyOfOne reports whether a packet of the same header fields as the one
// before it, within duplicateWindow, can only be that packet captured
// twice: a stack gives each datagram of its own an IP-ID of its own (0 is
// what Linux gives datagrams that are not to be fragmented and belong to
// no connected socket: SYN-ACKs, resets), and no client resends its SYN
// within a millisecond. TTLs that differ prove nothing: a SYN proxy and
// the server behind it, hops apart, send the same ACK microseconds apart.
func copyOfOne(second *packetSig) bool {
	return second.ipid != 0 || (second.fromClient && second.flags.BareSYN())
}

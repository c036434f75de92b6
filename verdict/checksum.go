package verdict

import (
	"strings"
	"time"

	"github.com/synpath/synpath/flows"
)

// CauseBadChecksum: the handshake's segments reached the capture with a
// wrong TCP checksum, which their receiver's stack discards as damaged: a
// faulty link or NIC, or a middlebox rewriting them without fixing the
// checksum (flows.Attempt.BadSumSYNs, BadSumSYNACKs).
const CauseBadChecksum Cause = "bad-checksum"

// What a capture can prove: a segment it holds with a wrong checksum, on
// its way in, is one its receiver discards (Linux counts it in
// TcpInCsumErrors), so the receiver's silence is no refusal of its own.
// Where it was damaged, it cannot: on the way, or by the sender's NIC
// after the sender's capture point. A capture that shows a segment with a
// wrong checksum taken anyway (answered, acknowledged) does not record the
// wire's checksums (an offload), and none of its checksums counts.

// synACKsDamaged reports, at the client, that every SYN-ACK came with a
// wrong checksum, in a capture whose checksums are the wire's.
func synACKsDamaged(a *flows.Attempt) bool {
	return a.SYNACK.Count > 0 && a.BadSumSYNACKs == a.SYNACK.Count && !a.SumsUntrusted
}

// synsDamaged reports, at the server, that every SYN came with a wrong
// checksum, in a capture whose checksums are the wire's.
func synsDamaged(a *flows.Attempt) bool {
	return a.SYN.Count > 0 && a.BadSumSYNs == a.SYN.Count && !a.SumsUntrusted
}

// judgeDamagedAtClient judges SYN-ACKs that reached the client damaged.
func judgeDamagedAtClient(a *flows.Attempt, r *Result, waited time.Duration) {
	r.Cause = CauseBadChecksum
	t := r.judged(Timeout, Unknown, "").count(a.SYNACK.Count, "SYN-ACK").str(" reached the client, each with a wrong TCP checksum (").frame(a, flows.EvSYNACK).
		str("): the client's stack discards such a segment as damaged")
	if a.SYNAfterSYNACK > 0 {
		t.str(", so it kept resending its SYN (").times(a.SYNAfterSYNACK).str(" after the first SYN-ACK arrived)")
	}
	t.str(" (it waited at least ").dur(waited).
		str(", ETIMEDOUT). They were damaged on the way back (a faulty link or NIC, a middlebox rewriting them without fixing the checksum), or left the server so (its NIC's checksum offload).")
	r.unknownAmong(ReturnPath, Server)
	r.Settle = "a capture on the server would tell whether they left it intact"
}

// judgeDamagedAtServer judges SYNs that reached the server damaged.
func judgeDamagedAtServer(a *flows.Attempt, r *Result) {
	r.Cause = CauseBadChecksum
	r.judged(Timeout, Unknown, "").str("The server received ").synsOver(a).str(", each with a wrong TCP checksum (").frame(a, flows.EvSYN).
		str("): its stack discards such a segment as damaged, so it never answered. They were damaged on the way (a faulty link or NIC, a middlebox rewriting them without fixing the checksum), or left the client so (its NIC's checksum offload).")
	r.unknownAmong(OutboundPath, Client)
	r.Settle = "a capture on the client would tell whether they left it intact"
}

// judgeBothDamaged judges, with both captures, SYNs that reached the server
// damaged: the client capture showed them leaving, the server capture
// arriving with a wrong checksum.
func judgeBothDamaged(s *flows.Attempt, r *Result, waited time.Duration, lost lostSYNs) {
	r.Cause = CauseBadChecksum
	r.judged(Timeout, OutboundPath, Inferred).str("The server received ").synsOver(s).str(", each with a wrong TCP checksum (").frame(s, flows.EvSYN).
		str("): its stack discards such a segment as damaged, so it never answered").waited(waited).lostSYNs(lost).
		str(". They were damaged after they left the client's capture point: on the way (a faulty link or NIC, a middlebox rewriting them without fixing the checksum), or by the client's NIC (checksum offload).")
	r.Candidates = append(r.Candidates[:0], OutboundPath, Client)
}

// damagedNote marks the evidence of a segment that arrived damaged.
const damagedNote = " (wrong checksum)"

// markDamaged labels, in the evidence of side's capture, the handshake
// segments it received damaged, when every one was: the SYN-ACKs at the
// client, the SYNs at the server. Only those it received: its own are as
// its stack or NIC left them.
func markDamaged(ev []Evidence, a *flows.Attempt, side Vantage) {
	what, fromClient := "SYN-ACK", false
	switch {
	case side != VantageServer && synACKsDamaged(a):
	case side == VantageServer && synsDamaged(a):
		what, fromClient = "SYN", true
	default:
		return
	}
	for i := range ev {
		if x := &ev[i]; x.Side == side && x.FromClient == fromClient && x.What == what {
			x.What = what + damagedNote
		}
	}
}

// sameKind reports whether two pieces of evidence are the same kind of
// packet, one of them perhaps marked damaged on arrival.
func sameKind(a, b string) bool {
	return strings.TrimSuffix(a, damagedNote) == strings.TrimSuffix(b, damagedNote)
}

package verdict

import "github.com/synpath/synpath/flows"

// CauseECNSetupDropped: the client's SYNs asking for ECN went unanswered,
// the first without it was answered at once (flows.Attempt.ECNFallback).
// The connection is made, a SYN timeout late, on every attempt.
const CauseECNSetupDropped Cause = "ecn-setup-dropped"

// ecnFallback says, after how the handshake completed, that the client's
// ECN-setup SYNs went unanswered and its plain one was answered.
func (t *text) ecnFallback(a *flows.Attempt) *text {
	t.str(": the first ")
	if a.ECNSYNs == 1 {
		t.str("SYN")
	} else {
		t.count(a.ECNSYNs, "SYN")
	}
	return t.str(" asked for ECN (ECE and CWR set) and went unanswered, and the first without it was answered at once (the SYN-ACK echoes its timestamp). Something on the way, or the server's firewall, drops ECN-setup SYNs: each such connection waits out a SYN timeout before the client falls back")
}

// ecnNeverFellBack names, after unanswered SYNs, a client that asked for
// ECN in every one. Words only: one attempt cannot tell an ECN black hole
// from a dead server, but a client that never falls back is worth naming.
func (t *text) ecnNeverFellBack(a *flows.Attempt) *text {
	if a.SYN.Count > 1 && a.ECNSYNs == a.SYN.Count {
		t.str(" Every SYN asked for ECN (ECE and CWR set) and the client never resent one without: if plain SYNs to this server are answered, something on the way drops ECN-setup SYNs.")
	}
	return t
}

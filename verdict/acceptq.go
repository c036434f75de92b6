package verdict

import (
	"time"

	"github.com/synpath/synpath/flows"
)

// CauseAcceptQueue: the server's kernel completed the handshake, but the
// listening application's accept queue was full, so the connection was
// dropped (or reset, with tcp_abort_on_overflow).
const CauseAcceptQueue Cause = "accept-queue-full"

// acceptQueueCheck is what to look at on the server.
const acceptQueueCheck = " Check on the server: nstat -az TcpExtListenOverflows, and ss -lnt (Recv-Q against the listen backlog)."

// bareRSTWords says what a server's RST without an ACK shows.
const bareRSTWords = " The RST carried no ACK: its sender held no connection, as the server's TCP does not when its accept queue is full (tcp_abort_on_overflow); a firewall on the server host rejecting the connection answers the same way."

// overflowRST: Linux with tcp_abort_on_overflow resets at once when the
// final ACK finds the accept queue full.
const overflowRST = 50 * time.Millisecond

// acceptQueueFull names the cause of a handshake the server's kernel
// finished and its application never took: the server took the final ACK
// and still resent its SYN-ACK or never acknowledged the request
// (half-open at the server), or reset the connection the moment the ACK
// arrived, before acknowledging anything (tcp_abort_on_overflow).
func acceptQueueFull(a *flows.Attempt, r *Result) bool {
	switch {
	case r.Verdict == HalfOpen && r.Where == Server:
		return true
	case r.Verdict == Reset && r.Where == Server && r.RSTOrigin == OriginServer:
		// The server never sent data nor acknowledged the client's, and
		// its TCP showed it never held the connection: its RST carried no
		// ACK, or it left the client's data unacknowledged until the
		// client resent it (one that held it acknowledges data whether the
		// application reads it or not), or resent its SYN-ACK behind the
		// ACK (its queue was full when the ACK came); or it reset the
		// moment the ACK arrived.
		if a.ServerData.Count > 0 || a.ServerAckedData || a.ACK.Count == 0 {
			return false
		}
		return a.ServerRSTBare || a.ClientResent > 0 || a.SYNACKAfterACK > 0 || sub(a.ServerRST.First, a.ACK.First) < resetAtOnce(r.RTT)
	}
	return false
}

// resetAtOnce is how long after the ACK a RST sent the moment the ACK
// arrived shows at this vantage: at the server, at once; at the client, a
// round trip later, which the handshake measured (rtt; a queue on the way
// back, as a full accept queue's server answering many clients fills, holds
// the RST as it held the SYN-ACK).
func resetAtOnce(rtt time.Duration) time.Duration {
	return overflowRST + max(rtt, 0)
}

// causes adds what the first payload bytes and the lookup say, and the
// cause the packets show, if any.
func causes(a *flows.Attempt, r *Result, w *words) {
	appFacts(a, r, w)
	cause(a, r, w)
}

// cause names the cause the packets show, if any: one small function per
// cause, each writing its words in w.
func cause(a *flows.Attempt, r *Result, w *words) {
	if r.Cause != "" {
		return
	}
	if acceptQueueFull(a, r) {
		r.Cause = CauseAcceptQueue
		if r.Verdict == Reset && a.ServerRSTBare {
			w.expl.str(bareRSTWords)
		}
		w.expl.str(acceptQueueCheck)
		return
	}
	// One test per cause, in order; no closures, so that judging an
	// attempt allocates little (this runs for every attempt).
	switch {
	case blockedAfterHello(a, r, w):
		r.Cause = CauseBlockedHello
	case gatewayError(r, w):
		r.Cause = CauseGateway
	case staleAddress(r, w):
		r.Cause = CauseDNS
	}
}

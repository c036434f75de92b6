package verdict

import "github.com/synpath/synpath/flows"

// CauseAcceptQueue: the server's kernel completed the handshake, but the
// listening application's accept queue was full, so the connection was
// dropped (or reset, with tcp_abort_on_overflow).
const CauseAcceptQueue Cause = "accept-queue-full"

// acceptQueueCheck is what to look at on the server.
const acceptQueueCheck = " Check on the server: nstat -az TcpExtListenOverflows, and ss -lnt (Recv-Q against the listen backlog)."

// bareRSTWords says what a server's RST without an ACK shows.
const bareRSTWords = " The RST carried no ACK: its sender held no connection, as the server's TCP does not when its accept queue is full (tcp_abort_on_overflow); a firewall on the server host rejecting the connection answers the same way."

// acceptQueueFull names the cause of a handshake the server's kernel
// finished and its application never took: the server took the final ACK
// and still resent its SYN-ACK or never acknowledged the request
// (half-open at the server), or answered it with a RST as for a
// connection it did not hold (tcp_abort_on_overflow).
func acceptQueueFull(a *flows.Attempt, r *Result) bool {
	switch {
	case r.Verdict == HalfOpen && r.Where == Server:
		return true
	case r.Verdict == Reset && r.Where == Server && r.RSTOrigin == OriginServer:
		// The server never sent data nor acknowledged the client's, and
		// its RST carried no ACK: its TCP held no connection for the
		// handshake it had completed. Not timing: a queue on the way back
		// holds the RST for as long as it likes (360 ms in the lab), and an
		// application that accepts and aborts at once resets as fast, with
		// RST and ACK.
		return a.ServerRSTBare && a.ServerData.Count == 0 && !a.ServerAckedData && a.ACK.Count > 0
	}
	return false
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
		if r.Verdict == Reset {
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

// Package flows is synpath's second stage: it takes decoded packets from
// capture, one at a time, and rebuilds TCP connection attempts from them.
//
// An attempt is one client SYN sequence number (ISN) on one 4-tuple, with its
// retransmissions, the replies to it (SYN-ACK, RST, ICMP errors quoting it)
// and what follows up to the first data exchange. A [Tracker] hands each
// attempt on as soon as its outcome is settled, or when it has been idle long
// enough, so memory follows concurrent attempts, not capture size. Judging
// attempts is the verdict stage's job; flows only records what happened.
//
// The same Tracker follows DNS lookups: failed ones (an error response, or
// none after the retries) go to Config.OnDNS as a [Lookup], and each
// client's recent answers, kept in a bounded table, tell an attempt which
// name its server's address came from ([DNSAnswer]), and whether a newer
// answer had moved the name elsewhere.
//
// A [Splitter] sorts the packets of a file holding both ends' captures
// (mergecap of a client's and a server's) into the two, by TTL. The table
// is bounded by Config.MaxAttempts ([AttemptsFor] turns a memory budget into
// it); each attempt records why its view ended ([EndReason]), so that no
// explanation calls an idle timer the end of the capture.
package flows

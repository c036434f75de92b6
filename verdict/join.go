package verdict

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/synpath/synpath/flows"
)

// Side is one vantage's capture, as the join needs it.
type Side struct {
	Attempts []*flows.Attempt
	// First and Last are the capture's first and last packet times; zero
	// when it holds no packet.
	First, Last time.Time
}

// JoinConfig tunes Join.
type JoinConfig struct {
	Config
	// ViewMargin: an attempt further than this outside the other capture's
	// time span is out of that capture's view, not lost.
	ViewMargin time.Duration
	// MatchWindow: how far apart (after clock correction) two SYNs may be
	// for the weak, timing-based matches.
	MatchWindow time.Duration
}

// DefaultJoinConfig is used where a JoinConfig is zero.
var DefaultJoinConfig = JoinConfig{Config: DefaultConfig, ViewMargin: 30 * time.Second, MatchWindow: 500 * time.Millisecond}

// Match methods, strongest first.
const (
	MatchExact  = "4-tuple+isn"
	MatchNAT    = "isn+syn-options (nat)"
	MatchTSval  = "tsval+syn-options (isn rewritten)"
	MatchIPID   = "ip-id+time (weak)"
	MatchTiming = "time+port (weak)"
)

const (
	// maxOneWay is the longest one-way delay when pairing a packet with
	// its copy in the other capture.
	maxOneWay = 2 * time.Second
	// pairSlack absorbs timestamp jitter beyond the clock error bound.
	pairSlack = time.Millisecond
	// unknownError marks a clock offset bounded on one side only.
	unknownError = -1
)

// ClockOffset is server clock minus client clock, estimated from attempts
// seen in both captures the NTP way: a SYN's arrival at the server bounds
// the offset from above, a SYN-ACK's arrival at the client from below.
type ClockOffset struct {
	Offset time.Duration
	Error  time.Duration // half the width of the bounds; -1 when only one bound exists
	Known  bool
	Pairs  int
}

type pair struct{ c, s *flows.Attempt }

// Join matches the client capture's attempts to the server capture's and
// judges each from both vantages. Attempts seen in one capture only are
// judged from that one, and said to be out of the other's view when it did
// not cover their time or their server.
func Join(client, server Side, cfg JoinConfig) ([]Result, ClockOffset) {
	cfg = joinDefaults(cfg)
	matchOf := map[*flows.Attempt]*flows.Attempt{}
	how := map[*flows.Attempt]string{}
	used := map[*flows.Attempt]bool{}
	link := func(c, s *flows.Attempt, m string) {
		matchOf[c], how[c], used[s] = s, m, true
	}

	// Strong matches first: they fix the clock offset for the weak ones.
	exact := make(map[exactKey]*flows.Attempt, len(server.Attempts))
	byISN := map[uint32][]*flows.Attempt{}
	byTS := map[uint32][]*flows.Attempt{}
	for _, s := range server.Attempts {
		exact[exactKey{s.Key, s.ISN}] = s
		byISN[s.ISN] = append(byISN[s.ISN], s)
		if s.SYNOpts.HasTS && s.SYNOpts.TSVal != 0 {
			byTS[s.SYNOpts.TSVal] = append(byTS[s.SYNOpts.TSVal], s)
		}
	}
	for _, c := range client.Attempts {
		if s := exact[exactKey{c.Key, c.ISN}]; s != nil && !used[s] {
			link(c, s, MatchExact)
		}
	}
	for _, c := range client.Attempts {
		if matchOf[c] != nil {
			continue
		}
		if s := pick(byISN[c.ISN], used, func(s *flows.Attempt) bool { return optionsAgree(c, s, true) }); s != nil {
			link(c, s, MatchNAT)
		} else if c.SYNOpts.HasTS && c.SYNOpts.TSVal != 0 {
			if s := pick(byTS[c.SYNOpts.TSVal], used, func(s *flows.Attempt) bool { return optionsAgree(c, s, false) }); s != nil {
				link(c, s, MatchTSval)
			}
		}
	}
	var strong []pair
	for _, c := range client.Attempts {
		if s := matchOf[c]; s != nil {
			strong = append(strong, pair{c, s})
		}
	}
	off := estimateOffset(strong)

	// Weak matches: same IP-ID, or the same server port at the same
	// (corrected) time, when the SYN was rewritten beyond recognition.
	weakIndex := map[uint16][]*flows.Attempt{}
	byPort := map[uint16][]*flows.Attempt{}
	for _, s := range server.Attempts {
		if used[s] {
			continue
		}
		if s.SYN.IPID != 0 {
			weakIndex[s.SYN.IPID] = append(weakIndex[s.SYN.IPID], s)
		}
		byPort[s.Key.Server.Port()] = append(byPort[s.Key.Server.Port()], s)
	}
	near := func(c, s *flows.Attempt) bool {
		d := s.SYN.First.Sub(c.SYN.First) - off.Offset
		return d > -cfg.MatchWindow && d < cfg.MatchWindow
	}
	for _, c := range client.Attempts {
		if matchOf[c] != nil {
			continue
		}
		if c.SYN.IPID != 0 {
			if s := pick(weakIndex[c.SYN.IPID], used, func(s *flows.Attempt) bool { return near(c, s) }); s != nil {
				link(c, s, MatchIPID)
				continue
			}
		}
		if s := pickUnique(byPort[c.Key.Server.Port()], used, func(s *flows.Attempt) bool { return near(c, s) }); s != nil {
			link(c, s, MatchTiming)
		}
	}

	// What the server capture can see: its time span and its servers, with
	// the destination rewrites (DNAT) learnt from matched attempts.
	servers := map[netip.Addr]bool{}
	for _, s := range server.Attempts {
		servers[s.Key.Server.Addr()] = true
	}
	for c, s := range matchOf {
		servers[c.Key.Server.Addr()] = servers[c.Key.Server.Addr()] || servers[s.Key.Server.Addr()]
	}
	clients := map[netip.Addr]bool{}
	for _, c := range client.Attempts {
		clients[c.Key.Client.Addr()] = true
	}
	for c, s := range matchOf {
		clients[s.Key.Client.Addr()] = clients[s.Key.Client.Addr()] || clients[c.Key.Client.Addr()]
	}

	results := make([]Result, 0, len(client.Attempts)+len(server.Attempts)-len(matchOf))
	for _, c := range client.Attempts {
		s := matchOf[c]
		var r Result
		switch {
		case s != nil:
			r = judgeBoth(c, s, off, cfg.Config)
			r.Match = how[c]
		default:
			r = Judge(c, VantageClient, cfg.Config)
			// Without an attempt seen in both, the clocks cannot be aligned:
			// the captures are then taken to overlap, and the answer says so.
			t := c.SYN.First.Add(off.Offset)
			inTime := !off.Known || server.First.IsZero() || (t.After(server.First.Add(-cfg.ViewMargin)) && t.Before(server.Last.Add(cfg.ViewMargin)))
			inHost := len(server.Attempts) == 0 || servers[c.Key.Server.Addr()]
			if inTime && inHost {
				judgeNeverAtServer(c, &r, cfg.Config)
				if !off.Known && !server.First.IsZero() {
					r.Explanation += " (No attempt is in both captures, so their clocks could not be aligned; this assumes they overlap in time.)"
				}
				r.Vantage = VantageBoth
				r.SYNSeenByServer, r.SYNACKSent = 0, 0
				markLost(r.Evidence, true)
			} else {
				r.Explanation += " " + outOfView("server", inTime, inHost)
			}
		}
		if off.Known {
			r.ClockOffset, r.ClockError, r.HasClockOffset = off.Offset, off.Error, true
		}
		results = append(results, r)
	}
	for _, s := range server.Attempts {
		if used[s] {
			continue
		}
		r := Judge(s, VantageServer, cfg.Config)
		t := s.SYN.First.Add(-off.Offset)
		inTime := client.First.IsZero() || (t.After(client.First.Add(-cfg.ViewMargin)) && t.Before(client.Last.Add(cfg.ViewMargin)))
		r.Explanation += " " + outOfView("client", inTime, clients[s.Key.Client.Addr()])
		shift(r.Evidence, off.Offset)
		r.FirstSYN = r.FirstSYN.Add(-off.Offset)
		results = append(results, r)
	}
	slices.SortStableFunc(results, func(a, b Result) int { return a.FirstSYN.Compare(b.FirstSYN) })
	return results, off
}

type exactKey struct {
	k   flows.Key
	isn uint32
}

func joinDefaults(cfg JoinConfig) JoinConfig {
	cfg.Config = cfg.Config.withDefaults()
	if cfg.ViewMargin <= 0 {
		cfg.ViewMargin = DefaultJoinConfig.ViewMargin
	}
	if cfg.MatchWindow <= 0 {
		cfg.MatchWindow = DefaultJoinConfig.MatchWindow
	}
	return cfg
}

// outOfView says why the other capture cannot confirm an attempt.
func outOfView(other string, inTime, inHost bool) string {
	switch {
	case !inTime:
		return fmt.Sprintf("The %s capture does not cover this time, so it cannot confirm the attempt.", other)
	case !inHost:
		return fmt.Sprintf("The %s capture shows no traffic of this host: it was taken elsewhere, so it cannot confirm the attempt.", other)
	}
	return fmt.Sprintf("The %s capture covers this time and host but holds no matching SYN: it missed the packets, or a middlebox rewrote them beyond recognition.", other)
}

// pick returns the first unused candidate that ok accepts.
func pick(cands []*flows.Attempt, used map[*flows.Attempt]bool, ok func(*flows.Attempt) bool) *flows.Attempt {
	for _, s := range cands {
		if !used[s] && ok(s) {
			return s
		}
	}
	return nil
}

// pickUnique returns the only unused candidate ok accepts: a timing match
// with two candidates is a guess.
func pickUnique(cands []*flows.Attempt, used map[*flows.Attempt]bool, ok func(*flows.Attempt) bool) *flows.Attempt {
	var found *flows.Attempt
	for _, s := range cands {
		if !used[s] && ok(s) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

// optionsAgree compares the SYN options a middlebox leaves alone. MSS may
// be clamped on the way, so the server may see less, never more.
func optionsAgree(c, s *flows.Attempt, compareTS bool) bool {
	co, so := c.SYNOpts, s.SYNOpts
	if co.WScale != so.WScale || co.SACKPerm != so.SACKPerm || co.HasTS != so.HasTS {
		return false
	}
	if so.MSS > co.MSS && co.MSS != 0 {
		return false
	}
	return !compareTS || !co.HasTS || co.TSVal == so.TSVal
}

// estimateOffset bounds server-minus-client clock offset: a SYN reaches the
// server after it left the client (offset ≤ s−c), a SYN-ACK reaches the
// client after it left the server (offset ≥ s−c). Using first SYN and first
// SYN-ACK on each side keeps the bounds safe when retransmissions are lost.
func estimateOffset(pairs []pair) ClockOffset {
	var hi, lo time.Duration
	haveHi, haveLo := false, false
	for _, p := range pairs {
		if p.c.SYN.Count > 0 && p.s.SYN.Count > 0 {
			d := p.s.SYN.First.Sub(p.c.SYN.First)
			if !haveHi || d < hi {
				hi, haveHi = d, true
			}
		}
		if p.c.SYNACK.Count > 0 && p.s.SYNACK.Count > 0 {
			d := p.s.SYNACK.First.Sub(p.c.SYNACK.First)
			if !haveLo || d > lo {
				lo, haveLo = d, true
			}
		}
	}
	switch {
	case haveHi && haveLo:
		mid := lo + (hi-lo)/2
		e := (hi - lo) / 2
		if e < 0 {
			e = -e // drifting clocks or a bad match: say how far apart
		}
		return ClockOffset{Offset: mid, Error: e, Known: true, Pairs: len(pairs)}
	case haveHi:
		return ClockOffset{Offset: hi, Error: unknownError, Known: true, Pairs: len(pairs)}
	case haveLo:
		return ClockOffset{Offset: lo, Error: unknownError, Known: true, Pairs: len(pairs)}
	}
	return ClockOffset{}
}

// judgeNeverAtServer judges an attempt the server capture, covering its
// time and host, never saw.
func judgeNeverAtServer(c *flows.Attempt, r *Result, cfg Config) {
	switch r.Verdict {
	case Refused:
		r.RSTOrigin, r.OriginSure = OriginPath, Certain
		r.set(Refused, OutboundPath, "A RST answered the SYN (ECONNREFUSED), but the server never saw the SYN nor sent the RST: something on the way forged it, most likely a firewall rejecting the connection.")
	case Unreachable:
		r.Where, r.RSTOrigin, r.OriginSure = OutboundPath, OriginPath, Certain
		r.Explanation += " The server capture confirms the SYN never arrived."
	case Timeout:
		r.set(Timeout, OutboundPath, "None of the %s reached the server: they were lost on the way out (ETIMEDOUT).", count(c.SYN.Count, "SYN"))
	case Incomplete:
		r.Explanation += " The server capture has not seen it either."
		return
	default:
		// Answered, yet the server never saw it: something in the path
		// (a SYN proxy, a load balancer) answered in its place.
		r.Explanation += " The server capture never saw this attempt: something on the way answered in the server's place."
		return
	}
	r.Candidates = []Place{r.Where}
}

// judgeBoth judges an attempt seen in both captures: what was sent and
// what arrived settles where it died.
func judgeBoth(c, s *flows.Attempt, off ClockOffset, cfg Config) Result {
	r := Judge(c, VantageClient, cfg)
	r.Vantage = VantageBoth
	r.SYNSeenByServer, r.SYNACKSent = int(s.SYN.Count), int(s.SYNACK.Count)
	if s.Key.Client != c.Key.Client {
		r.ClientSeenByServer = s.Key.Client
	}
	if s.Key.Server != c.Key.Server {
		r.ServerSeenByServer = s.Key.Server
	}
	r.Settle = ""
	lostSYNs := ""
	if s.SYN.Count < c.SYN.Count {
		lostSYNs = fmt.Sprintf(" (%d of the client's %d SYNs were lost on the way out)", c.SYN.Count-s.SYN.Count, c.SYN.Count)
	}
	switch {
	case c.SYNACK.Count > 0:
		judgeBothAnswered(c, s, &r)
	case c.ServerRST.Count > 0 && c.RSTInHandshake:
		if s.ServerRST.Count > 0 {
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.set(Refused, Server, "The server answered the SYN with a RST (ECONNREFUSED): nothing listens on port %d, or its firewall rejects the connection%s.", s.Key.Server.Port(), lostSYNs)
		} else {
			r.RSTOrigin, r.OriginSure = OriginPath, Certain
			r.set(Refused, OutboundPath, "The client got a RST that the server never sent: something on the way forged it (the server %s).", serverDid(s))
		}
	case c.ICMP.Count > 0:
		r.Where = OutboundPath
		if c.ICMPInfo.From == c.Key.Server.Addr() && s.ICMP.Count > 0 {
			r.Where = Server
		}
		r.Explanation += fmt.Sprintf(" The server %s.", serverDid(s))
	case r.Verdict == Incomplete:
	case s.SYNACK.Count > 0:
		r.set(Timeout, ReturnPath, "The server answered with %s, but none reached the client: they were lost on the way back (ETIMEDOUT)%s.", count(s.SYNACK.Count, "SYN-ACK"), lostSYNs)
	case s.ServerRST.Count > 0:
		r.set(Timeout, ReturnPath, "The server answered with a RST, but it never reached the client: lost on the way back%s.", lostSYNs)
	default:
		r.set(Timeout, Server, "The server received %s and never answered: they were dropped on the server host (a firewall after the capture point, a full SYN queue)%s.", count(s.SYN.Count, "SYN"), lostSYNs)
	}
	if r.Where != Unknown {
		r.Candidates = []Place{}
		if r.Where != None {
			r.Candidates = []Place{r.Where}
		}
	}
	r.Evidence = pairEvidence(r.Evidence, evidence(s, VantageServer), off)
	return r
}

// judgeBothAnswered judges an attempt whose SYN-ACK reached the client.
func judgeBothAnswered(c, s *flows.Attempt, r *Result) {
	switch r.Verdict {
	case HalfOpen:
		if s.ACK.Count > 0 {
			r.set(HalfOpen, Server, "The client completed the handshake and the server received its ACK, yet kept resending its SYN-ACK: the server dropped the ACK, typically because its accept queue was full.")
		} else {
			r.set(HalfOpen, OutboundPath, "The client completed the handshake, but its %s never reached the server, which kept resending its SYN-ACK: lost on the way to the server.", count(c.ACK.Count, "ACK"))
		}
	case Stalled:
		switch {
		case s.ClientData.Count == 0:
			r.set(Stalled, OutboundPath, "The connection was established, but the client's request (%d bytes) never reached the server: lost on the way out.", c.ClientBytes)
		case s.ServerData.Count > 0:
			r.set(Stalled, ReturnPath, "The server received the request and sent %d bytes of reply, but none reached the client: lost on the way back.", s.ServerBytes)
		default:
			r.set(Stalled, Server, "The server received the request (%d bytes) and never replied: the server application did not answer.", s.ClientBytes)
		}
	case Reset:
		if r.Where == Client {
			r.RSTOrigin, r.OriginSure = OriginClient, Certain
			break
		}
		if s.ServerRST.Count > 0 {
			r.RSTOrigin, r.OriginSure = OriginServer, Certain
			r.set(Reset, Server, "The handshake completed, then the server reset the connection (ECONNRESET).")
		} else {
			r.RSTOrigin, r.OriginSure = OriginPath, Certain
			r.set(Reset, OutboundPath, "The handshake completed, then the client got a RST the server never sent: something on the way ended the connection.")
		}
	case Aborted:
		r.RSTOrigin, r.OriginSure = OriginClient, Certain
	case Established:
		if !s.Established() && s.SYNACK.Count > 1 {
			r.set(HalfOpen, OutboundPath, "The client completed the handshake, but its ACK never reached the server, which kept resending its SYN-ACK: lost on the way to the server.")
		}
	}
}

// serverDid says in words what the server capture shows of an attempt.
func serverDid(s *flows.Attempt) string {
	switch {
	case s.SYNACK.Count > 0:
		return fmt.Sprintf("received %s and answered with %s", count(s.SYN.Count, "SYN"), count(s.SYNACK.Count, "SYN-ACK"))
	case s.ServerRST.Count > 0:
		return fmt.Sprintf("received %s and answered with a RST", count(s.SYN.Count, "SYN"))
	}
	return fmt.Sprintf("received %s and did not answer", count(s.SYN.Count, "SYN"))
}

// pairEvidence merges the two captures' evidence on the client's clock and
// links each packet to its copy in the other capture: a packet sent and
// never received is lost.
func pairEvidence(cev, sev []Evidence, off ClockOffset) []Evidence {
	shift(sev, off.Offset)
	for i := range cev {
		cev[i].Side = VantageClient
	}
	n := len(cev)
	all := append(slices.Clone(cev), sev...)
	tol := pairSlack
	if off.Error > 0 {
		tol += off.Error
	}
	// For each packet the sender's capture shows, the receiver's copy is
	// the first unpaired one of the same kind arriving after it.
	for i := range all {
		snd := &all[i]
		sentHere := (snd.Side == VantageClient) == snd.FromClient
		if !sentHere || isICMP(snd) {
			continue
		}
		lo, hi := 0, n
		if snd.Side == VantageClient {
			lo, hi = n, len(all)
		}
		for j := lo; j < hi; j++ {
			rcv := &all[j]
			if rcv.Pair >= 0 || rcv.What != snd.What || rcv.FromClient != snd.FromClient {
				continue
			}
			d := rcv.At.Sub(snd.At)
			if d >= -tol && d <= maxOneWay {
				snd.Pair, rcv.Pair = j, i
				break
			}
		}
		if snd.Pair < 0 {
			snd.Lost = true
		}
	}
	// Order by time on the client's clock, remapping the pair indexes.
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return all[a].At.Compare(all[b].At) })
	pos := make([]int, len(all))
	for to, from := range order {
		pos[from] = to
	}
	out := make([]Evidence, len(all))
	for to, from := range order {
		e := all[from]
		if e.Pair >= 0 {
			e.Pair = pos[e.Pair]
		}
		out[to] = e
	}
	return out
}

// isICMP reports whether evidence is an ICMP error: sent by a router, not
// by either end, so never paired or lost.
func isICMP(e *Evidence) bool { return strings.HasPrefix(e.What, "ICMP") }

// shift puts server-capture times on the client's clock.
func shift(ev []Evidence, offset time.Duration) {
	for i := range ev {
		ev[i].At = ev[i].TS.Add(-offset)
		ev[i].Side = VantageServer
	}
}

// markLost marks the packets the client sent as lost (the server capture,
// covering their time, does not have them).
func markLost(ev []Evidence, fromClient bool) {
	for i := range ev {
		if ev[i].FromClient == fromClient && !isICMP(&ev[i]) {
			ev[i].Lost = true
		}
	}
}

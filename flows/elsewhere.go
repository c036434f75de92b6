package flows

import "github.com/synpath/synpath/capture"

// elsewhereSearch is how many of the most recently active attempts a
// SYN-ACK from an unknown address is held against: it answers a SYN sent
// within a round trip, or a resent one, so its attempt was active last.
const elsewhereSearch = 64

// answerElsewhere takes a packet of no attempt: a SYN-ACK that
// acknowledges the SYN of a recent attempt of the same client port to
// another address (a NAT translated the SYN, and the reply went around it,
// or the server answered from its own address), or the client's RST to
// such a SYN-ACK. It records the packet with that attempt, and reports
// whether it did.
func (t *Tracker) answerElsewhere(p *capture.Packet) bool {
	synack := p.Flags.Has(capture.FlagSYN | capture.FlagACK)
	rst := !synack && p.Flags.Has(capture.FlagRST)
	if !synack && !rst {
		return false
	}
	i := t.tail
	for n := 0; n < elsewhereSearch && i != noState; n++ {
		a := t.state(i)
		i = a.prev
		switch {
		case a.emitted || a.Key.Tunnel != p.Tunnel || a.SYNACK.Count > 0:
		case synack && a.Key.Client == p.Dst && a.Key.Server != p.Src && p.Ack == a.ISN+1+a.SYNData &&
			(a.answeredFromCount == 0 || a.answeredFrom == p.Src):
			a.answeredFrom = p.Src
			a.answeredFromCount++
			t.record(a, p, EvSYNACKElsewhere, false)
			return true
		case rst && a.answeredFromCount > 0 && a.Key.Client == p.Src && a.answeredFrom == p.Dst:
			t.record(a, p, EvRSTElsewhere, true)
			return true
		}
	}
	return false
}

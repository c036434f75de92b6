package flows

import "iter"

// PendingAttempts visits the attempts still tracked that have not been
// handed on, least recently active first: what a live reader judges on its
// clock tick to report a failure as soon as the client has lived through
// it, rather than when the attempt is handed on. Each *Attempt is valid
// only during its step and must not be changed; its End is zero (set it on
// a copy to judge how long the client has waited so far). The tracker must
// not be fed while the loop runs. Its server reference (ServerHops) is
// filled as at hand-on, so an early judgement of a RST is the final one.
func (t *Tracker) PendingAttempts() iter.Seq[*Attempt] {
	return func(yield func(*Attempt) bool) {
		for a := t.head; a != nil; a = a.next {
			if a.emitted {
				continue
			}
			a.ServerHops = t.serverTTL[a.Key.Server.Addr()]
			if !yield(a) {
				return
			}
		}
	}
}

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
		// The lru list and the frozen queue, merged by touch order; a
		// frozen attempt is unpacked into scratch space for its step.
		a, q := t.head, 0
		for {
			for q < len(t.cold) && t.thawed(t.cold[q]) {
				q++
			}
			var next *Attempt
			switch {
			case q < len(t.cold) && (a == nil || t.cold[q].touched < a.touched):
				f := &t.frozen[t.cold[q].idx]
				if t.peek == nil {
					t.peek = new(Attempt)
				}
				*t.peek = Attempt{Events: t.peek.Events[:0]}
				if err := thaw(t.peek, f.b, &t.coldFiles); err != nil {
					panic("flows: " + err.Error()) // packed by freeze: a bug
				}
				t.peek.DNS = f.dns
				next = t.peek
				q++
			case a != nil:
				next, a = a, a.next
			default:
				return
			}
			if next.emitted {
				continue
			}
			next.ServerHops = t.serverTTL[next.Key.Server.Addr()]
			if !yield(next) {
				return
			}
		}
	}
}

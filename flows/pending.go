package flows

import (
	"iter"
	"time"
)

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
		if t.peek == nil {
			t.peek = new(Attempt)
		}
		defer t.dropMoreEvents(&t.peekState)
		// The lru list and the frozen queue, merged by touch order; a
		// frozen attempt is unpacked into scratch space for its step.
		i, q := t.head, 0
		for {
			for q < len(t.cold) && t.thawed(t.cold[q]) {
				q++
			}
			var next *attemptState
			switch {
			case q < len(t.cold) && (i == noState || t.cold[q].touched < t.state(i).touched):
				f := &t.frozen[t.cold[q].idx]
				t.dropMoreEvents(&t.peekState)
				t.peekState = attemptState{}
				if err := t.thaw(&t.peekState, f.b); err != nil {
					panic("flows: " + err.Error()) // packed by freeze: a bug
				}
				t.peekState.DNS = f.dns
				next = &t.peekState
				q++
			case i != noState:
				next = t.state(i)
				i = next.next
			default:
				return
			}
			if next.emitted {
				continue
			}
			t.fill(t.peek, next, time.Time{}, 0)
			if !yield(t.peek) {
				return
			}
		}
	}
}

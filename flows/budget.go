package flows

import "unsafe"

// AttemptBytes is what one pending attempt costs: its state and its slot
// in the connection table, at the table's fullest. A SYN flood is as many
// of these as there are SYNs, so a memory budget bounds the table through
// it. (An attempt's public record exists only from its hand-on until the
// taker gives it back.)
const AttemptBytes = int(unsafe.Sizeof(attemptState{})) + tableSlotBytes

// initialEvents is the evidence a public record is allocated with; it
// grows (to MaxEvents) only for attempts that went on.
const initialEvents = 4

// keptEvents is the most room for evidence a record given back keeps for
// the next attempt: what nearly every attempt needs (a handshake, a
// request and its reply, the closes).
const keptEvents = 16

// tableSlotBytes is a slot of the connection table at its highest load
// (3/4).
const tableSlotBytes = int(unsafe.Sizeof(connSlot{})) * 4 / 3

// AttemptsFor is the table bound (Config.MaxAttempts) that keeps pending
// attempts within a third of budget bytes: the rest is for the garbage
// collector's headroom, tombs, buffers and the runtime.
func AttemptsFor(budget int64) int {
	n := budget / 3 / int64(AttemptBytes)
	return int(max(n, 1024))
}

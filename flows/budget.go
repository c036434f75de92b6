package flows

import "unsafe"

// AttemptBytes is what one pending attempt costs: the record, its first
// evidence slots and its map entry (key, pointer and the map's own share).
// A SYN flood is as many of these as there are SYNs, so a memory budget
// bounds the table through it.
const AttemptBytes = int(unsafe.Sizeof(Attempt{})) + initialEvents*int(unsafe.Sizeof(Event{})) + mapEntryBytes

// initialEvents is the evidence an attempt is allocated with; it grows
// (to MaxEvents) only for attempts that go on.
const initialEvents = 4

// mapEntryBytes is a Key and a pointer in a Go map, with its load factor.
const mapEntryBytes = int(unsafe.Sizeof(Key{})+unsafe.Sizeof(uintptr(0))) * 8 / 7

// AttemptsFor is the table bound (Config.MaxAttempts) that keeps pending
// attempts within a third of budget bytes: the rest is for the garbage
// collector's headroom, tombs, buffers and the runtime.
func AttemptsFor(budget int64) int {
	n := budget / 3 / int64(AttemptBytes)
	return int(max(n, 1024))
}

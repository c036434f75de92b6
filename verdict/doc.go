// Package verdict is synpath's third stage: it judges connection attempts
// from flows and says, in SPEC.md's words, what the client's connect()
// experienced and where the handshake died.
//
// Judging is pure: [Judge] looks at one attempt as one capture saw it, from
// the vantage it was taken at, and returns a [Result]; it keeps no state
// between attempts, so verdicts can be streamed as attempts are handed on.
// [JudgeInto] does the same into a Result reused from one attempt to the
// next, and then allocates once per attempt.
// [Join] judges attempts seen by both a client-side and a server-side
// capture; it proves a loss only inside the other capture's coverage, with
// clocks aligned from attempts seen in both. [Stream] does the same as the
// two captures are read, holding only a window of attempts (packed by a
// [Packer]), and hands verdicts on in order of first SYN.
//
// Every rule starts from what that capture can prove, and says how firmly
// in [Result.WhereSure]: proven (both captures, or a packet seen leaving
// its sender or reaching its target in that host's own capture), likely
// (an inference), or empty for an unknown place. A cause, where the packets
// show one, is named by one small pure function per cause (pmtu.go,
// acceptq.go, app.go); failed DNS lookups are judged by [JudgeLookup].
package verdict

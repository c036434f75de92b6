// Package cmd is synpath's command line: it parses flags, wires the stages
// capture → flows → verdict → report together, and owns everything a
// library should not: files, signals, exit status, goroutines and the
// output buffer.
//
// Before reading, it looks at the start of each file to plan which files
// are one capture (rotated files, in time order), which side each is, and
// whether a file holds both ends' captures (then read once per end).
//
// One capture runs on three goroutines, each a batch behind the one before:
// reading and decoding (packetsahead.go), tracking, and judging and writing
// (pipe.go). Attempts cross to the last without a copy (flows.Config.
// HandOver). A join reads both sides at once, each on its own goroutines,
// matches their attempts as they come within a window of capture time
// (verdict.Stream), and judges and writes on a goroutine of its own
// (join.go, joinwrite.go).
package cmd

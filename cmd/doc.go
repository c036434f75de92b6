// Package cmd is synpath's command line: it parses flags, wires the stages
// capture → flows → verdict → report together, and owns everything a
// library should not: files, signals, exit status, goroutines and the
// output buffer.
//
// Before reading, it looks at the start of each file to plan which files
// are one capture (rotated files, in time order), which side each is, and
// whether a file holds both ends' captures (then read once per end). One
// capture is read and tracked on one goroutine and judged and written on
// another (pipe.go); a join reads both sides, then matches them.
package cmd

// Package cmd is synpath's command line: it parses flags, wires the stages
// capture → flows → verdict → report together, and owns everything a
// library should not: files, signals, exit status.
package cmd

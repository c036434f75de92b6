//go:build !linux

package cmd

// LowerTimerSlack does nothing but on Linux (see timerslack_linux.go).
func LowerTimerSlack() {}

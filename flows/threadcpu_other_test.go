//go:build !linux

package flows

// threadCPU is 0 where a thread's CPU time is not read.
func threadCPU() int64 { return 0 }

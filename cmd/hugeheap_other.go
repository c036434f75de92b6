//go:build !linux

package cmd

// hugeHeap does nothing but on Linux (see hugeheap_linux.go).
func hugeHeap(int64) <-chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

package cmd

import (
	"encoding/binary"
	"io"
	"os"
)

// inputSize is how many bytes of capture the files hold, as read: a
// gzip'd file counts what it inflates to (its trailer says, modulo 4 GiB),
// standard input, pipes and what cannot be opened count nothing.
func inputSize(files []string) int64 {
	var n int64
	for _, name := range files {
		if name == "-" {
			continue
		}
		n += fileInputSize(name)
	}
	return n
}

func fileInputSize(name string) int64 {
	// Stat first: opening a FIFO waits for its writer.
	st, err := os.Stat(name)
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	f, err := os.Open(name)
	if err != nil {
		return 0
	}
	defer f.Close()
	size := st.Size()
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || magic != [2]byte{0x1f, 0x8b} || size < 18 {
		return size
	}
	// ISIZE, the last 4 bytes of a gzip member, is the input's length
	// modulo 2^32; a file inflating to more wraps, and is counted at least
	// as large as it is.
	var trailer [4]byte
	if _, err := f.ReadAt(trailer[:], size-4); err != nil {
		return size
	}
	return max(size, int64(binary.LittleEndian.Uint32(trailer[:])))
}

package capture

import (
	"errors"
	"fmt"
)

// ErrTruncated marks a capture file that ends in the middle of a record, as
// files do when tcpdump is killed. What came before it is still usable.
var ErrTruncated = errors.New("capture ends mid-record")

// ErrTrailingData marks bytes after the last gzip member that are not
// another member. The records before them are whole; the error is placed
// after the last packet rather than at a packet that does not exist.
var ErrTrailingData = errors.New("trailing data after the gzip stream")

// ReadError is broken file structure at a position: Packet is the 1-based
// number of the record being read (0: the file header).
type ReadError struct {
	File   string
	Packet uint64
	Err    error
}

func (e *ReadError) Error() string {
	if e.Packet == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: packet %d: %v", e.File, e.Packet, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

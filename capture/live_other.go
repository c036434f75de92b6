//go:build !linux

package capture

import (
	"errors"
	"time"
)

// OpenLive captures on a network interface; only Linux is supported.
func OpenLive(iface string, wait time.Duration) (*Reader, error) {
	return nil, &ReadError{File: "live:" + iface, Err: errors.New("live capture needs Linux (AF_PACKET)")}
}

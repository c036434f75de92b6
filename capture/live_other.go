//go:build !linux && !libpcap

package capture

import (
	"errors"
	"strings"
)

// OpenLive captures on network interfaces; without libpcap (build tag
// libpcap) only Linux is supported.
func OpenLive(cfg LiveConfig) (*Reader, error) {
	return nil, &ReadError{File: "live:" + strings.Join(cfg.Interfaces, ","), Err: errors.New("live capture needs Linux (AF_PACKET), or a build with -tags libpcap")}
}

// ErrPrivilege is what opening a live capture without the right to gives.
var ErrPrivilege = errors.New("capturing needs more privileges")

package capture

import (
	"errors"
	"time"
)

// ErrNoPacket is what Next returns on a live capture when no packet arrived
// within the wait given to OpenLive: time passed, the capture goes on.
var ErrNoPacket = errors.New("no packet within the wait")

// LiveConfig says where and what OpenLive captures.
type LiveConfig struct {
	// Interfaces are interface names; "any" is every interface.
	Interfaces []string
	// Wait is how long Next waits for a packet before ErrNoPacket.
	Wait time.Duration
	// Filter, if set, is applied in the kernel on top of synpath's own.
	Filter *Filter
}

package capture

import "errors"

// ErrNoPacket is what Next returns on a live capture when no packet arrived
// within the wait given to OpenLive: time passed, the capture goes on.
var ErrNoPacket = errors.New("no packet within the wait")

package capture

// initialTTLs are the TTL / hop limit values stacks start packets with.
var initialTTLs = [...]uint8{32, 64, 128, 255}

// Hops is how many routers a packet crossed, assuming it left its sender
// with the nearest common initial TTL at or above what it arrived with. A
// packet captured on the host that sent it has crossed none.
func Hops(ttl uint8) uint8 {
	for _, init := range initialTTLs {
		if ttl <= init {
			return init - ttl
		}
	}
	return 0
}

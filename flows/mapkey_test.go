package flows

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"

	"github.com/synpath/synpath/capture"
)

func TestMapKey(t *testing.T) {
	ap := netip.MustParseAddrPort
	keys := []Key{
		{Client: ap("198.51.100.10:40000"), Server: ap("203.0.113.5:443")},
		{Client: ap("[::ffff:198.51.100.10]:40000"), Server: ap("203.0.113.5:443")},
		{Client: ap("198.51.100.10:40000"), Server: ap("[::ffff:203.0.113.5]:443")},
		{Client: ap("[2001:db8::1]:40000"), Server: ap("[2001:db8::2]:443")},
		{Client: ap("198.51.100.10:40000"), Server: ap("203.0.113.5:443"), Tunnel: capture.Tunnel{Kind: capture.TunnelVXLAN, ID: 100}},
		{Client: ap("198.51.100.10:40000"), Server: ap("203.0.113.5:443"), Tunnel: capture.Tunnel{Kind: capture.TunnelGRE, ID: 100}},
		{Client: ap("203.0.113.5:443"), Server: ap("198.51.100.10:40000")},
	}
	seen := map[mapKey]Key{}
	for _, k := range keys {
		rev := Key{Client: k.Server, Server: k.Client, Tunnel: k.Tunnel}
		if k.mapKey().reverse() != rev.mapKey() || rev.mapKey().reverse() != k.mapKey() {
			t.Errorf("%v: reverse is not the reversed key's", k)
		}
		if other, ok := seen[k.mapKey()]; ok {
			t.Errorf("%v and %v share a map key", k, other)
		}
		seen[k.mapKey()] = k
	}
	// No padding: Go hashes and compares it as one block of memory.
	if n := unsafe.Sizeof(mapKey{}); n != 16+16+4+4+4 {
		t.Errorf("mapKey is %d bytes: padding", n)
	}
}

// keyOf, the tracker's fast path, must give the key order gives, for
// every mix of families, ports and tunnels, either way round.
func TestKeyOfIsOrder(t *testing.T) {
	addrs := []netip.Addr{
		netip.MustParseAddr("198.51.100.10"), netip.MustParseAddr("198.51.100.9"), netip.MustParseAddr("203.0.113.5"),
		netip.MustParseAddr("::ffff:198.51.100.10"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::1:0:0:1"),
	}
	ports := []uint16{0, 80, 443, 40000, 65535}
	tunnels := []capture.Tunnel{{}, {Kind: capture.TunnelVXLAN, ID: 7}, {Kind: capture.TunnelGRE, ID: 1 << 31}}
	var tab connTable
	tab.init()
	n := 0
	for _, sa := range addrs {
		for _, da := range addrs {
			for _, sp := range ports {
				for _, dp := range ports {
					for _, tun := range tunnels {
						src, dst := netip.AddrPortFrom(sa, sp), netip.AddrPortFrom(da, dp)
						want, wantSwapped := order(Key{Client: src, Server: dst, Tunnel: tun}.mapKey())
						var got connKey
						swapped, h := tab.keyOf(&got, src, dst, tun)
						if got != want || swapped != wantSwapped || h != tab.hash(&want) {
							t.Fatalf("keyOf(%v, %v, %v) = %v, %v, hash %#x; order gives %v, %v, hash %#x", src, dst, tun, got, swapped, h, want, wantSwapped, tab.hash(&want))
						}
						n++
					}
				}
			}
		}
	}
	if n != len(addrs)*len(addrs)*len(ports)*len(ports)*len(tunnels) {
		t.Fatalf("%d keys compared", n)
	}
}

// TestAddrWords: addrWords reads what As16 gives, for every kind of
// address.
func TestAddrWords(t *testing.T) {
	for _, s := range []string{"198.51.100.10", "0.0.0.0", "255.255.255.255", "::ffff:198.51.100.10", "2001:db8::1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::", "fe80::1%eth0"} {
		a := netip.MustParseAddr(s)
		b := a.As16()
		hi, lo := addrWords(&a)
		if hi != binary.BigEndian.Uint64(b[:8]) || lo != binary.BigEndian.Uint64(b[8:]) {
			t.Errorf("addrWords(%v) = %#x %#x, As16 %x", a, hi, lo, b)
		}
	}
	var invalid netip.Addr
	if hi, lo := addrWords(&invalid); hi != 0 || lo != 0 {
		t.Errorf("addrWords of the zero Addr = %#x %#x", hi, lo)
	}
}

// The tracker's keys as they were built before keyOf, field by field and
// then put in order: the reference keyOf is held to.

func (k Key) mapKey() mapKey {
	m := mapKey{client: k.Client.Addr().As16(), server: k.Server.Addr().As16(),
		ports: uint32(k.Client.Port())<<16 | uint32(k.Server.Port()), tunnelID: k.Tunnel.ID, meta: uint32(k.Tunnel.Kind)}
	if k.Client.Addr().Is4() {
		m.meta |= clientIs4
	}
	if k.Server.Addr().Is4() {
		m.meta |= serverIs4
	}
	return m
}

// reverse is the mapKey of the reversed Key: client and server swapped.
func (m mapKey) reverse() mapKey {
	m.client, m.server = m.server, m.client
	m.ports = m.ports<<16 | m.ports>>16
	m.meta = m.meta&^(clientIs4|serverIs4) | m.meta&clientIs4<<1 | m.meta&serverIs4>>1
	return m
}

// order returns m's key with its endpoints in order, and whether they
// were swapped (the packet goes from the second endpoint to the first).
func order(m mapKey) (connKey, bool) {
	c0, s0 := binary.BigEndian.Uint64(m.client[:8]), binary.BigEndian.Uint64(m.server[:8])
	c1, s1 := binary.BigEndian.Uint64(m.client[8:]), binary.BigEndian.Uint64(m.server[8:])
	swap := c0 > s0 || (c0 == s0 && (c1 > s1 || (c1 == s1 && m.ports>>16 > m.ports&0xffff)))
	if swap {
		m = m.reverse()
	}
	return connKey(m), swap
}

// find returns the slot of k, or -1.
func (t *connTable) find(k *connKey) int { return t.findHashed(k, t.hash(k)) }

// insert adds k, which must not be in the table, and returns its slot.
func (t *connTable) insert(k *connKey) int { return t.insertHashed(k, t.hash(k)) }

package flows

import (
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
	n := 0
	for _, sa := range addrs {
		for _, da := range addrs {
			for _, sp := range ports {
				for _, dp := range ports {
					for _, tun := range tunnels {
						src, dst := netip.AddrPortFrom(sa, sp), netip.AddrPortFrom(da, dp)
						want, wantSwapped := order(Key{Client: src, Server: dst, Tunnel: tun}.mapKey())
						var got connKey
						if swapped := keyOf(&got, src, dst, tun); got != want || swapped != wantSwapped {
							t.Fatalf("keyOf(%v, %v, %v) = %v, %v; order gives %v, %v", src, dst, tun, got, swapped, want, wantSwapped)
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

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

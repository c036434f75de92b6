//go:build linux && !libpcap

package capture

import (
	"encoding/binary"
	"syscall"
	"testing"
)

// TestRingDirection reads the packet type from a TPACKET_V3 slot laid out
// as the kernel lays it (header, sockaddr_ll, the frame at tp_mac), and
// nothing from a slot that does not say it is one. CI's live run on the
// lab's router reads real rings (TestMidPathCapture, live.json).
func TestRingDirection(t *testing.T) {
	slot := func(mac, family, ifindex int, pkttype byte) []byte {
		b := make([]byte, 48+mac+64)
		s := b[48:] // after a block descriptor
		binary.NativeEndian.PutUint16(s[24:], uint16(mac))
		binary.NativeEndian.PutUint16(s[26:], uint16(mac))
		binary.NativeEndian.PutUint16(s[48:], uint16(family))
		binary.NativeEndian.PutUint32(s[52:], uint32(ifindex))
		s[58] = pkttype
		return s[mac : mac+40]
	}
	for _, tc := range []struct {
		name string
		data []byte
		link uint32
		want Direction
	}{
		{"any, outgoing", slot(96, syscall.AF_PACKET, 3, 4), linkRaw, DirOut},
		{"any, to this host", slot(96, syscall.AF_PACKET, 3, 0), linkRaw, DirIn},
		{"any, another host's", slot(96, syscall.AF_PACKET, 3, 3), linkRaw, DirIn},
		{"Ethernet, outgoing", slot(82, syscall.AF_PACKET, 3, 4), linkEthernet, DirOut},
		{"a packet type unknown", slot(96, syscall.AF_PACKET, 3, 7), linkRaw, DirUnknown},
		{"another interface", slot(96, syscall.AF_PACKET, 4, 4), linkRaw, DirUnknown},
		{"not AF_PACKET", slot(96, 2, 3, 4), linkRaw, DirUnknown},
		{"another tp_mac", slot(82, syscall.AF_PACKET, 3, 4), linkRaw, DirUnknown},
	} {
		if got := ringDirection(tc.data, tc.link, 3); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

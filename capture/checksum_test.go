package capture

import "testing"

// TestCheckSum: a handshake segment's checksum is checked against its IP
// header's addresses; one that offload left unfinished (the pseudo-header's
// sum, or zero) is not called wrong, one damaged on the way is.
func TestCheckSum(t *testing.T) {
	ip4 := []byte{0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 198, 51, 100, 10, 203, 0, 113, 5}
	seg := []byte{0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0}
	pseudo := sum16(ip4[12:20], 0) + 6 + uint32(len(seg))
	good := ^fold(sum16(seg, pseudo))
	ip6 := make([]byte, 40)
	ip6[0], ip6[8], ip6[9], ip6[24], ip6[25] = 0x60, 0x20, 0x01, 0x20, 0x01
	pseudo6 := sum16(ip6[8:40], 0) + 6 + uint32(len(seg))
	for _, tc := range []struct {
		name      string
		ip        []byte
		v4        bool
		field     uint16
		bad, good bool
	}{
		{"correct", ip4, true, good, false, true},
		{"damaged", ip4, true, good ^ 0x0101, true, false},
		{"left to the NIC: the pseudo-header's sum", ip4, true, fold(pseudo), false, false},
		{"left to the NIC: zero", ip4, true, 0, false, false},
		{"IPv6, correct", ip6, false, ^fold(sum16(seg, pseudo6)), false, true},
		{"IPv6, damaged", ip6, false, ^fold(sum16(seg, pseudo6)) ^ 0x8000, true, false},
	} {
		s := append([]byte(nil), seg...)
		s[16], s[17] = byte(tc.field>>8), byte(tc.field)
		if bad, good := checkSum(tc.ip, s, tc.v4); bad != tc.bad || good != tc.good {
			t.Errorf("%s: checkSum = %v, %v; want %v, %v", tc.name, bad, good, tc.bad, tc.good)
		}
	}
}

package capture

import (
	"encoding/binary"
	"testing"
)

// pktapFrame wraps an Ethernet frame in a PKTAP header of hl bytes, record
// type rectype, naming dlt as the frame's link type.
func pktapFrame(hl, rectype, dlt uint32, frame []byte) []byte {
	h := make([]byte, max(hl, 12))
	binary.LittleEndian.PutUint32(h[0:], hl)
	binary.LittleEndian.PutUint32(h[4:], rectype)
	binary.LittleEndian.PutUint32(h[8:], dlt)
	copy(h[12:], "en0")
	return append(h, frame...)
}

func TestPKTAP(t *testing.T) {
	eth := frame(linkEthernet, syn(cli4, srv4).ip())
	for _, tc := range []struct {
		name string
		link uint32
		b    []byte
		cut  bool
		want class
	}{
		{"a SYN", linkPKTAP, pktapFrame(108, 1, linkEthernet, eth), false, classTCP},
		{"a longer header", linkPKTAP, pktapFrame(156, 1, linkEthernet, eth), false, classTCP},
		{"raw IP inside", linkPKTAP, pktapFrame(108, 1, linkRawDLT12, syn(cli4, srv4).ip()), false, classTCP},
		{"user 2", linkUser2, pktapFrame(108, 1, linkEthernet, eth), false, classTCP},
		{"no packet record", linkPKTAP, pktapFrame(108, 0, linkEthernet, eth), false, classSkipped},
		{"header too short", linkPKTAP, pktapFrame(64, 1, linkEthernet, eth), false, classMalformed},
		{"PKTAP in PKTAP", linkPKTAP, pktapFrame(108, 1, linkPKTAP, pktapFrame(108, 1, linkEthernet, eth)), false, classMalformed},
		{"header past the record", linkPKTAP, pktapFrame(108, 1, linkEthernet, nil)[:80], true, classTruncated},
		{"user 2, something else", linkUser2, eth, false, classUnknownLink},
		{"user 2, short", linkUser2, eth[:8], false, classUnknownLink},
	} {
		var p Packet
		var d decoder
		if got := d.decode(&p, tc.link, tc.b, tc.cut); got != tc.want {
			t.Errorf("%s: class %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestIPoIB(t *testing.T) {
	ip := syn(cli4, srv4).ip()
	hdr := make([]byte, 44)
	binary.BigEndian.PutUint16(hdr[40:], etherIPv4)
	for _, tc := range []struct {
		name string
		b    []byte
		cut  bool
		want class
	}{
		{"a SYN", append(hdr, ip...), false, classTCP},
		{"header cut", hdr[:30], true, classTruncated},
		{"header short", hdr[:30], false, classMalformed},
	} {
		var p Packet
		var d decoder
		if got := d.decode(&p, linkIPoIB, tc.b, tc.cut); got != tc.want {
			t.Errorf("%s: class %d, want %d", tc.name, got, tc.want)
		}
	}
}

package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/net/bpf"
)

// TestLiveFilter runs the kernel filter in x/net's BPF interpreter over
// frames the decoder must see, and frames it can do without.
func TestLiveFilter(t *testing.T) {
	vm, err := bpf.NewVM(liveFilter(liveSnap))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bpf.Assemble(liveFilter(liveSnap)); err != nil {
		t.Fatal(err)
	}
	s4, s6 := syn(cli4, srv4), syn(cli6, srv6)
	udp := append(bytes.Clone(s4.ip()[:20]), make([]byte, 8)...)
	udp[9] = 17
	udp6 := bytes.Clone(s6.ip())
	udp6[6] = 17
	arp := append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 6}, make([]byte, 28)...)
	big := s4
	big.payload = 1400
	ext := s6
	ext.ext6, ext.ext6NH = []byte{6, 0, 0, 0, 0, 0, 0, 0}, 60 // destination options, then TCP
	dnsQ := dnsMessage(1, "www.example.org", QTypeA, -1, 0)
	dnsR := dnsMessage(1, "www.example.org", QTypeA, 0, 60, "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6", "192.0.2.7", "192.0.2.8", "192.0.2.9", "192.0.2.10", "192.0.2.11", "192.0.2.12")
	dnsFrag := udpIP(netip.AddrPortFrom(srv4.Addr(), 53), cli4, dnsR)
	binary.BigEndian.PutUint16(dnsFrag[6:8], 100) // a later fragment: its first bytes are no UDP header
	// IPv4 with 4 bytes of options (NOP NOP NOP EOL) before the UDP header.
	opt4 := func(ip []byte) []byte {
		out := append(bytes.Clone(ip[:20]), 1, 1, 1, 0)
		out = append(out, ip[20:]...)
		out[0] = 0x46
		binary.BigEndian.PutUint16(out[2:4], uint16(len(out)))
		return out
	}
	tests := []struct {
		name  string
		frame []byte
		keep  bool
	}{
		{"tcp over ipv4", frame(linkEthernet, s4.ip()), true},
		{"tcp over ipv6", frame(linkEthernet, s6.ip()), true},
		{"tcp after an ipv6 extension header", frame(linkEthernet, ext.ip()), true},
		{"icmp error", frame(linkEthernet, icmpError(netip.MustParseAddr("192.0.2.1"), cli4.Addr(), 3, 13, s4.ip(), 8)), true},
		{"icmpv6 error", frame(linkEthernet, icmpError(netip.MustParseAddr("2001:db8::1"), cli6.Addr(), 1, 1, s6.ip(), 8)), true},
		{"vlan-tagged", frame(linkEthernet, s4.ip(), 0x8100), true},
		{"qinq-tagged", frame(linkEthernet, s6.ip(), 0x88a8, 0x8100), true},
		{"udp", frame(linkEthernet, udp), false},
		{"udp over ipv6", frame(linkEthernet, udp6), false},
		{"dns query", frame(linkEthernet, udpIP(cli4, netip.AddrPortFrom(srv4.Addr(), 53), dnsQ)), true},
		{"dns response over ipv6", frame(linkEthernet, udpIP(netip.AddrPortFrom(srv6.Addr(), 53), cli6, dnsR)), true},
		{"dns response after ipv4 options", frame(linkEthernet, opt4(udpIP(netip.AddrPortFrom(srv4.Addr(), 53), cli4, dnsR))), true},
		{"dns fragment", frame(linkEthernet, dnsFrag), false},
		{"other udp next to port 53", frame(linkEthernet, udpIP(netip.AddrPortFrom(cli4.Addr(), 5353), netip.AddrPortFrom(srv4.Addr(), 54), dnsQ)), false},
		{"arp", arp, false},
		{"a full-size segment is cut", frame(linkEthernet, big.ip()), true},
	}
	for _, tt := range tests {
		n, err := vm.Run(tt.frame)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if kept := n > 0; kept != tt.keep {
			t.Errorf("%s: kept %d bytes, want kept=%v", tt.name, n, tt.keep)
		}
		if n > liveSnap {
			t.Errorf("%s: kept %d bytes, more than %d", tt.name, n, liveSnap)
		}
		// What the filter keeps must still decode as the whole frame does.
		if n > 0 {
			n = min(n, len(tt.frame)) // what the kernel keeps
			var whole, cut Packet
			cw := decode(&whole, linkEthernet, tt.frame, false)
			cc := decode(&cut, linkEthernet, tt.frame[:n], n < len(tt.frame))
			if cw != cc || whole.Seq != cut.Seq || whole.Flags != cut.Flags || whole.PayloadLen != cut.PayloadLen ||
				whole.DNS.ID != cut.DNS.ID || whole.DNS.Name != cut.DNS.Name || whole.DNS.RCode != cut.DNS.RCode {
				t.Errorf("%s: cut to %d bytes it decodes as %v %+v, whole as %v %+v", tt.name, n, cc, cut, cw, whole)
			}
		}
	}
}

// TestLiveFilterRaw runs the filter for frames starting at the IP header.
func TestLiveFilterRaw(t *testing.T) {
	vm, err := bpf.NewVM(liveFilterRaw(liveSnap))
	if err != nil {
		t.Fatal(err)
	}
	s4, s6 := syn(cli4, srv4), syn(cli6, srv6)
	udp := append(bytes.Clone(s4.ip()[:20]), make([]byte, 8)...)
	udp[9] = 17
	udp6 := bytes.Clone(s6.ip())
	udp6[6] = 17
	ext := s6
	ext.ext6, ext.ext6NH = []byte{6, 0, 0, 0, 0, 0, 0, 0}, 60
	big := s4
	big.payload = 1400
	for _, tt := range []struct {
		name string
		ip   []byte
		keep bool
	}{
		{"tcp over ipv4", s4.ip(), true},
		{"tcp over ipv6", s6.ip(), true},
		{"ipv6 extension header", ext.ip(), true},
		{"icmp error", icmpError(netip.MustParseAddr("192.0.2.1"), cli4.Addr(), 3, 13, s4.ip(), 8), true},
		{"icmpv6 error", icmpError(netip.MustParseAddr("2001:db8::1"), cli6.Addr(), 1, 1, s6.ip(), 8), true},
		{"udp", udp, false},
		{"udp over ipv6", udp6, false},
		{"not ip", []byte{0x10, 0, 0, 0, 0, 0, 0, 0, 0, 6}, false},
		{"a full-size segment is cut", big.ip(), true},
	} {
		n, err := vm.Run(tt.ip)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if kept := n > 0; kept != tt.keep || n > liveSnap {
			t.Errorf("%s: kept %d bytes, want kept=%v, at most %d", tt.name, n, tt.keep, liveSnap)
		}
	}
}

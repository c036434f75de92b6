package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRealWorld judges captures published by other projects, each holding
// attempts inside an encapsulation or link type of its own, and checks
// that synpath finds the attempts tshark finds. The reference ISNs come
// from tshark 4 (innermost layer; its reassembly of IP fragments on):
//
//	tshark -r F -Y 'tcp.flags.syn==1 && tcp.flags.ack==0 && !icmp && !icmpv6' -T fields -E occurrence=l \
//	    -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport -e tcp.seq_raw | sort -u
//
// counting distinct 4-tuple and ISN. tshark lists every layer's addresses
// for a tunnelled frame but only one TCP layer: none of these captures
// carries TCP inside TCP, so outer and inner are never both counted. The
// !icmp excludes SYNs quoted by ICMP errors, which synpath does not count
// as attempts either (none of these files has one).
func TestRealWorld(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpus", "real-world")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no corpus at %s", dir)
	}
	tests := []struct {
		file string
		isns []uint32 // sorted
	}{
		{"arkime__tests__pcap__80211http.pcap", []uint32{2524188118}},                                      // radiotap, 802.11 QoS data
		{"arkime__tests__pcap__gre-erspan-vxlan.pcap", []uint32{0}},                                        // GRE, ERSPAN II, VXLAN-GPE
		{"arkime__tests__pcap__gre-sample.pcap", []uint32{813658343}},                                      // GRE
		{"arkime__tests__pcap__gtp-iphone.pcap", []uint32{1122848232, 1375424496, 2889678409, 3627185437}}, // Linux cooked, GTP-U, IPv6; port reuse
		{"arkime__tests__pcap__mpls-basic.pcap", []uint32{2553417723}},                                     // MPLS
		{"arkime__tests__pcap__nflog.pcap", []uint32{4058668159}},                                          // NFLOG
		{"arkime__tests__pcap__pppoe.pcap", []uint32{3913451349}},                                          // PPPoE session
		{"arkime__tests__pcap__tcpdump-geneve.pcap", []uint32{397610159}},                                  // Geneve with options
		{"ndpi__tests__cfgs__default__pcap__4in6tunnel.pcap", []uint32{3756080770}},                        // IPv4 in IPv6
		{"ndpi__tests__cfgs__default__pcap__6in4tunnel.pcap", []uint32{45087326, 662001836, 1271443831}},   // IPv6 in IPv4
		{"ndpi__tests__cfgs__default__pcap__BGP_Cisco_hdlc_slarp.pcap", []uint32{3169482193}},              // Cisco HDLC written as PPP
		{"ndpi__tests__cfgs__default__pcap__vxlan.pcap", []uint32{1181471711, 1911328911}},                 // VLAN, VXLAN
		{"sv__tests__defrag__bug-6887-defrag-ipv4-tcp-syn__frag-ip-tcp-syn.pcap", []uint32{1}},             // a SYN in three IPv4 fragments
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			code, out, stderr := runMain("analyze", "--format", "json", filepath.Join(dir, tt.file))
			if code != ExitOK && code != ExitFailed {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if strings.Contains(stderr, "not read") {
				t.Errorf("stderr: %s", stderr)
			}
			var isns []uint32
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var a struct {
					Type string `json:"type"`
					ISN  uint32 `json:"isn"`
				}
				if err := json.Unmarshal([]byte(line), &a); err != nil {
					t.Fatalf("%v: %s", err, line)
				}
				if a.Type == "attempt" {
					isns = append(isns, a.ISN)
				}
			}
			slices.Sort(isns)
			if !slices.Equal(isns, tt.isns) {
				t.Errorf("attempts with ISNs %v, tshark sees %v", isns, tt.isns)
			}
		})
	}
}

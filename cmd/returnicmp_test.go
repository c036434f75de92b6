package cmd

import (
	"path/filepath"
	"strings"
	"testing"
)

// cmd/testdata/returnicmp holds real captures made in network namespaces
// as the lab makes them: a router rejects the server's SYN-ACKs from port
// 83 with ICMP host unreachable (iptables REJECT on FORWARD, out the
// server's side), after a reference connection to port 80. The client
// (tcp_syn_retries 3, a 20 s connect timeout) resends its SYN 7 times.
//
// The server's capture alone shows the router's ICMP error about the
// SYN-ACK: the return path, proven by the client's resent SYNs. Made to
// fool it: the same capture without the ICMP errors names no place
// (return path or client); without the client's resent SYNs (a client
// that gave up, or a Windows one, resends later) it must not call the
// SYN-ACKs answered and the final ACK lost on the way out; and in
// client-host/, where the client host's own firewall rejects the SYN-ACKs
// with ICMP admin prohibited, the error is the client's: the client.
func TestReturnPathICMPAtTheServer(t *testing.T) {
	dir := filepath.Join("testdata", "returnicmp")
	server := filepath.Join(dir, "server.pcap")
	isICMP := func(frame []byte) bool { return len(frame) > 23 && frame[12] == 8 && frame[13] == 0 && frame[23] == 1 }
	noICMP := keepFrames(t, server, "no-icmp.pcap", func(frame []byte) bool { return !isICMP(frame) })
	synsSeen := 0
	oneSYN := keepFrames(t, server, "one-syn.pcap", func(frame []byte) bool {
		if !tcpPort(frame, 83) || frame[14+20+13] != 0x02 {
			return true
		}
		synsSeen++
		return synsSeen == 1
	})
	judge := func(file string, args ...string) map[string]any {
		_, stdout, _ := runMain(append([]string{"analyze", "--format", "json"}, append(args, file)...)...)
		var got map[string]any
		eachAttempt(t, stdout, file, func(r map[string]any, port, desc string) {
			if port == "83" {
				got = r
			}
		})
		if got == nil {
			t.Fatalf("%s: no attempt to port 83", file)
		}
		return got
	}
	for _, tc := range []struct {
		name, file  string
		args        []string
		where, conf string
		icmpWords   bool
	}{
		{"server capture", server, nil, "return-path", "proven", true},
		{"joined", server, []string{"--client", filepath.Join(dir, "client.pcap"), "--server"}, "return-path", "proven", false},
		{"without the ICMP errors", noICMP, nil, "unknown", "", false},
		{"without the resent SYNs", oneSYN, nil, "return-path", "likely", true},
		{"the client host's own ICMP", filepath.Join(dir, "client-host", "server.pcap"), nil, "client", "proven", true},
		{"the client host's, joined", filepath.Join(dir, "client-host", "server.pcap"), []string{"--client", filepath.Join(dir, "client-host", "client.pcap"), "--server"}, "client", "proven", false},
	} {
		r := judge(tc.file, tc.args...)
		e := r["explanation"].(string)
		if r["verdict"] != "timeout" || r["where"] != tc.where || r["where_confidence"] != tc.conf || strings.Contains(e, "answered with ICMP") != tc.icmpWords {
			t.Errorf("%s: %s/%s (%s): %s; want timeout/%s (%s), the ICMP error named %v", tc.name, r["verdict"], r["where"], r["where_confidence"], e, tc.where, tc.conf, tc.icmpWords)
		}
	}
}

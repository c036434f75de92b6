package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A client that sends one SYN and never resends it, though the capture
// goes on past every stack's first retry (3 s, Windows'), did not wait
// for the capture's length: it gave up within seconds (a connect timeout
// shorter than its SYN retry), or got an answer the capture does not
// show. The outbound-drop scenario's client capture with every resent
// SYN left out, as a client with a 500 ms timeout sends them: a timeout,
// no claim that the client waited 10 s.
func TestLoneSYNClaimsNoLongWait(t *testing.T) {
	src := filepath.Join(scenariosDir(), "outbound-drop", "client.pcap")
	if _, err := os.Stat(src); err != nil {
		t.Skip("no lab scenario")
	}
	sent := map[string]bool{}
	lone := keepFrames(t, src, "lone.pcap", func(frame []byte) bool {
		if !tcpPort(frame, 80) || frame[14+20+13] != 0x02 { // all but SYNs
			return true
		}
		port := string(frame[14+20 : 14+22])
		first := !sent[port]
		sent[port] = true
		return first
	})
	_, stdout, _ := runMain("analyze", "--format", "json", lone)
	n := eachAttempt(t, stdout, lone, func(r map[string]any, port, desc string) {
		if r["verdict"] != "timeout" || r["where"] != "unknown" || r["syn_sent"] != 1.0 {
			t.Errorf("want a timeout of one SYN, the place unknown: %s", desc)
		}
		if e := r["explanation"].(string); strings.Contains(e, "waited at least") || !strings.Contains(e, "never resent it") {
			t.Errorf("the words claim a wait the client never showed: %s", desc)
		}
	})
	if n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

// A capture of the client's outgoing packets only, taken on a Linux host
// over InfiniBand (tcpdump's test capture ipoib.pcap: an SSH session whose
// SYN-ACK and replies the client acknowledges, none of them captured,
// then single SYNs to closed ports, answered by RSTs it does not hold).
// Those SYNs, never resent over the 4 to 26 s the capture went on, were
// most likely answered: incomplete, no timeout.
func TestLoneSYNInAOneWayCaptureIsIncomplete(t *testing.T) {
	src := filepath.Join("..", "..", "shared", "corpus", "tcpdump-tests", "ipoib.pcap")
	if _, err := os.Stat(src); err != nil {
		t.Skip("no corpus")
	}
	_, stdout, _ := runMain("analyze", "--format", "json", src)
	verdicts := map[string]int{}
	eachAttempt(t, stdout, src, func(r map[string]any, port, desc string) {
		verdicts[r["verdict"].(string)]++
		if port != "22" && (r["verdict"] != "incomplete" || r["where"] != "unknown") {
			t.Errorf("want incomplete, the place unknown: %s", desc)
		}
	})
	if verdicts["established"] != 1 || verdicts["incomplete"] != 5 {
		t.Errorf("verdicts %v, want 1 established, 5 incomplete", verdicts)
	}
}

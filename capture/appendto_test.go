package capture

import (
	"fmt"
	"testing"
	"time"
)

// TestAppendToMatchesFmt holds the AppendTo methods, which String now
// uses, to what fmt made of the same values: evidence and explanations
// must not change by a byte.
func TestAppendToMatchesFmt(t *testing.T) {
	for _, r := range []Ref{{}, {File: "client.pcap", N: 17, TS: time.Date(2026, 3, 1, 14, 2, 31, 125001000, time.FixedZone("x", 3600))}} {
		want := fmt.Sprintf("%s:%d@%s", r.File, r.N, r.TS.UTC().Format("15:04:05.000000"))
		if got := r.String(); got != want {
			t.Errorf("Ref.String() = %q, want %q", got, want)
		}
	}
	for _, i := range []ICMPInfo{{Type: 3, Code: 13}, {V6: true, Type: 1, Code: 1}, {Type: 11}, {Type: 3, Code: 200}, {V6: true, Type: 9, Code: 9}} {
		proto := "ICMP"
		if i.V6 {
			proto = "ICMPv6"
		}
		if got, want := i.String(), fmt.Sprintf("%s (%s %d/%d)", i.Name(), proto, i.Type, i.Code); got != want {
			t.Errorf("ICMPInfo.String() = %q, want %q", got, want)
		}
	}
	for _, s := range []string{"", "www.Example.com", string(make([]byte, 100))} {
		n := NameOf(s)
		if got := string(n.AppendTo([]byte("x"))); got != "x"+n.String() {
			t.Errorf("Name.AppendTo = %q, want %q", got, "x"+n.String())
		}
	}
}

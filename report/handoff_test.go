package report

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/verdict"
)

// The Community ID spec's test vectors (community-id-spec baseline, as
// Zeek's tests carry them), both directions of each flow.
func TestCommunityIDVectors(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		seed     uint16
		src, dst string
		proto    uint8
		want     string
	}{
		{0, "1.2.3.4:1122", "5.6.7.8:3344", 6, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
		{1, "1.2.3.4:1122", "5.6.7.8:3344", 6, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
		{0, "1.2.3.4:1122", "5.6.7.8:3344", 17, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
		{1, "1.2.3.4:1122", "5.6.7.8:3344", 17, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
		// ICMP echo and ICMPv6 echo, type and counterpart as the ports.
		{0, "1.2.3.4:8", "5.6.7.8:0", 1, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
		{1, "1.2.3.4:8", "5.6.7.8:0", 1, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
		{0, "[fe80:1:203:405:607:809:a0b:c0d]:128", "[fe80:1011:1213:1415:1617:1819:1a1b:1c1d]:129", 58, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
	}
	for _, tt := range tests {
		if got := communityID(tt.seed, ap(tt.src), ap(tt.dst), tt.proto); got != tt.want {
			t.Errorf("%s → %s proto %d seed %d: %s, want %s", tt.src, tt.dst, tt.proto, tt.seed, got, tt.want)
		}
		if tt.proto == 1 || tt.proto == 58 {
			continue // reversing ICMP swaps type and code, not ports
		}
		if got := communityID(tt.seed, ap(tt.dst), ap(tt.src), tt.proto); got != tt.want {
			t.Errorf("%s → %s reversed, seed %d: %s, want %s", tt.dst, tt.src, tt.seed, got, tt.want)
		}
	}
	// Same address, ports decide the order; an IPv4-mapped address is IPv4.
	a := communityID(0, ap("10.0.0.1:80"), ap("10.0.0.1:5000"), 6)
	if b := communityID(0, ap("10.0.0.1:5000"), ap("[::ffff:10.0.0.1]:80"), 6); a != b {
		t.Errorf("ordering by port: %s != %s", a, b)
	}
}

func TestWiresharkFilter(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 14, 2, 31, 125001500, time.UTC)
	ev := func(d time.Duration) verdict.Evidence {
		return verdict.Evidence{Ref: capture.Ref{File: "c.pcap", N: 1, TS: t0.Add(d)}}
	}
	r := verdict.Result{Client: netip.MustParseAddrPort("198.51.100.10:40512"), Server: netip.MustParseAddrPort("203.0.113.5:443"),
		FirstSYN: t0, Evidence: []verdict.Evidence{ev(0), ev(3 * time.Second)}}
	want := "ip.addr==198.51.100.10 && ip.addr==203.0.113.5 && tcp.port==40512 && tcp.port==443" +
		" && frame.time_epoch >= 1795183350.125001 && frame.time_epoch <= 1795183355.125002"
	if got := WiresharkFilter(&r); got != want {
		t.Errorf("IPv4:\n got %s\nwant %s", got, want)
	}
	r6 := r
	r6.Client, r6.Server = netip.MustParseAddrPort("[2001:db8::10]:40512"), netip.MustParseAddrPort("[2001:db8::5]:443")
	if got := WiresharkFilter(&r6); !strings.HasPrefix(got, "ipv6.addr==2001:db8::10 && ipv6.addr==2001:db8::5 && tcp.port==40512") {
		t.Errorf("IPv6: %s", got)
	}
	nat := r
	nat.ClientSeenByServer = netip.MustParseAddrPort("192.0.2.1:61034")
	nat.Evidence = nil
	want = "((ip.addr==198.51.100.10 && ip.addr==203.0.113.5 && tcp.port==40512 && tcp.port==443) ||" +
		" (ip.addr==192.0.2.1 && ip.addr==203.0.113.5 && tcp.port==61034 && tcp.port==443))" +
		" && frame.time_epoch >= 1795183350.125001 && frame.time_epoch <= 1795183352.125002"
	if got := WiresharkFilter(&nat); got != want {
		t.Errorf("NAT:\n got %s\nwant %s", got, want)
	}
}

// refWindow is the filter's time window as time.Time arithmetic gives
// it, the reference epochMicros is held to.
func refWindow(r *verdict.Result) string {
	first, last := r.FirstSYN, r.FirstSYN
	for i := range r.Evidence {
		ts := r.Evidence[i].TS
		if ts.IsZero() {
			continue
		}
		if first.IsZero() || ts.Before(first) {
			first = ts
		}
		if ts.After(last) {
			last = ts
		}
	}
	if first.IsZero() {
		return ""
	}
	epoch := func(t time.Time) string {
		us := max(t.UnixMicro(), 0)
		return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
	}
	end := last.Add(filterMargin)
	if t := end.Truncate(time.Microsecond); !t.Equal(end) {
		end = t.Add(time.Microsecond)
	}
	return " && frame.time_epoch >= " + epoch(first.Add(-filterMargin).Truncate(time.Microsecond)) +
		" && frame.time_epoch <= " + epoch(end)
}

func TestWiresharkFilterWindow(t *testing.T) {
	mix, joined := mixSet()
	rs := append(append(append(sampleResults(), oddResults()...), mix...), joined...)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		r := sampleResults()[0]
		r.FirstSYN = time.Unix(rng.Int64N(1<<42)-1<<41, rng.Int64N(1e9))
		r.Evidence = r.Evidence[:1]
		r.Evidence[0].TS = r.FirstSYN.Add(time.Duration(rng.Int64N(1e10)))
		rs = append(rs, r)
	}
	for _, sec := range []int64{-1 << 40, 1<<40 - 1, 1 << 40, -62135596801, 1 << 62, -1 << 62} {
		r := sampleResults()[0]
		r.FirstSYN, r.Evidence = time.Unix(sec, 999999999), nil
		rs = append(rs, r)
	}
	for i := range rs {
		r := &rs[i]
		if !r.Client.IsValid() || !r.Server.IsValid() {
			continue
		}
		got, want := WiresharkFilter(r), refWindow(r)
		if !strings.HasSuffix(got, want) || want == "" && strings.Contains(got, "frame.time_epoch") {
			t.Errorf("%v to %v:\n got %s\nwant …%s", r.FirstSYN, r.Evidence, got, want)
		}
	}
}

// Handing over costs one SHA-1 and two strings per attempt.
func TestHandoffAllocs(t *testing.T) {
	r := sampleResults()[0]
	if n := testing.AllocsPerRun(100, func() { CommunityID(&r); WiresharkFilter(&r) }); n > 2 {
		t.Errorf("%v allocations per attempt, want at most 2", n)
	}
}

package flows_test

import (
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
)

const resolver = "203.0.113.53"

// lookups records what OnDNS hands on, one line each.
type lookups struct{ got []string }

func (l *lookups) on(x *flows.Lookup) {
	s := fmt.Sprintf("%s/%d queries=%d", x.Name, x.QType, x.Queries)
	if x.Answered {
		s += fmt.Sprintf(" rcode=%d", x.RCode)
	}
	if x.Truncated {
		s += " tc"
	}
	s += map[flows.EndReason]string{flows.EndSettled: " settled", flows.EndIdle: " idle", flows.EndCapture: " capture"}[x.EndedBy]
	if x.EndedBy == flows.EndIdle && x.End != x.Last.Add(flows.DefaultDNSWait) {
		s += fmt.Sprintf(" end %v after the last query", x.End.Sub(x.Last))
	}
	l.got = append(l.got, s)
}

func dnsTracker() (*flows.Tracker, *recorder, *lookups) {
	var rec recorder
	var lk lookups
	cfg := flows.DefaultConfig
	cfg.OnDNS = lk.on
	return flows.NewTracker(cfg, rec.emit), &rec, &lk
}

func TestFailedLookups(t *testing.T) {
	tests := []struct {
		name string
		pkts func(c *pkttest.Conn) []capture.Packet
		want []string
	}{
		{"answered", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "ok.example", capture.QTypeA)
			return []capture.Packet{q, c.Answer(ms, q, 0, 60, "203.0.113.5")}
		}, nil},
		{"no data is an answer", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "ok.example", capture.QTypeAAAA)
			return []capture.Packet{q, c.Answer(ms, q, 0, 0)}
		}, nil},
		{"nxdomain", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "nx.example", capture.QTypeA)
			return []capture.Packet{q, c.Answer(ms, q, capture.RCodeNXDomain, 0)}
		}, []string{"nx.example/1 queries=1 rcode=3 capture"}},
		{"a retry after servfail is the same lookup", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "sf.example", capture.QTypeA)
			a := c.Answer(ms, q, capture.RCodeServFail, 0)
			r := c.Query(time.Second, resolver, 2, "sf.example", capture.QTypeA)
			return []capture.Packet{q, a, r, c.Answer(ms, r, capture.RCodeServFail, 0), c.Idle(11 * time.Second), c.Idle(time.Second)}
		}, []string{"sf.example/1 queries=2 rcode=2 idle"}},
		{"servfail, then a retry that works", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "sf.example", capture.QTypeA)
			a := c.Answer(ms, q, capture.RCodeServFail, 0)
			r := c.Query(time.Second, "198.51.100.53", 2, "sf.example", capture.QTypeA)
			return []capture.Packet{q, a, r, c.Answer(ms, r, 0, 60, "203.0.113.5")}
		}, nil},
		{"servfail after a retry", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "sf.example", capture.QTypeA)
			r := c.Query(5*time.Second, resolver, 2, "sf.example", capture.QTypeA)
			return []capture.Packet{q, r, c.Answer(ms, r, capture.RCodeServFail, 0)}
		}, []string{"sf.example/1 queries=2 rcode=2 capture"}},
		{"refused, query not captured", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "rf.example", capture.QTypeAAAA)
			return []capture.Packet{c.Answer(ms, q, capture.RCodeRefused, 0)}
		}, []string{"rf.example/28 queries=0 rcode=5 capture"}},
		{"no answer after retries", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{
				c.Query(0, resolver, 1, "quiet.example", capture.QTypeA),
				c.Query(5*time.Second, resolver, 1, "quiet.example", capture.QTypeA),        // same id (dig, glibc)
				c.Query(5*time.Second, "198.51.100.53", 3, "Quiet.Example", capture.QTypeA), // another server, new id
				c.Idle(9 * time.Second),
				c.Idle(2 * time.Second),
			}
		}, []string{"quiet.example/1 queries=3 idle"}},
		{"capture ends unanswered", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.Query(0, resolver, 1, "late.example", capture.QTypeA), c.Idle(time.Second)}
		}, []string{"late.example/1 queries=1 capture"}},
		{"captured twice counts once", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "twice.example", capture.QTypeA)
			q2 := q
			q2.TS = q.TS.Add(10 * time.Microsecond)
			a := c.Answer(ms, q, capture.RCodeNXDomain, 0)
			a2 := a
			a2.TS = a.TS.Add(10 * time.Microsecond)
			return []capture.Packet{q, q2, a, a2}
		}, []string{"twice.example/1 queries=1 rcode=3 capture"}},
		{"truncated, then over tcp", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "big.example", capture.QTypeA)
			tc := c.Answer(ms, q, 0, 0)
			tc.DNS.TC = true
			q2 := c.Query(ms, resolver, 2, "big.example", capture.QTypeA)
			q2.Kind, q2.DNS.TCP = capture.KindTCP, true
			q2.PayloadLen = 2 + 12 + 17 // a TCP segment carrying the query, length first
			a := c.Answer(ms, q2, 0, 60, "203.0.113.7")
			return []capture.Packet{q, tc, q2, a}
		}, nil},
		{"truncated, never retried", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "big.example", capture.QTypeA)
			tc := c.Answer(ms, q, 0, 0)
			tc.DNS.TC = true
			return []capture.Packet{q, tc, c.Idle(11 * time.Second), c.Idle(time.Second)}
		}, []string{"big.example/1 queries=1 tc idle"}},
		{"a and aaaa are two lookups", func(c *pkttest.Conn) []capture.Packet {
			q4 := c.Query(0, resolver, 1, "nx.example", capture.QTypeA)
			q6 := c.Query(0, resolver, 2, "nx.example", capture.QTypeAAAA)
			return []capture.Packet{q4, q6, c.Answer(ms, q6, capture.RCodeNXDomain, 0), c.Answer(ms, q4, capture.RCodeNXDomain, 0)}
		}, []string{"nx.example/1 queries=1 rcode=3 capture", "nx.example/28 queries=1 rcode=3 capture"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, rec, lk := dnsTracker()
			c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 1000)
			feed(tr, tt.pkts(c)...)
			tr.Finish()
			if strings.Join(lk.got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(lk.got, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(rec.got) != 0 {
				t.Errorf("DNS made %d attempts", len(rec.got))
			}
			if got := tr.Counts().DNSFailed; got != uint64(len(tt.want)) {
				t.Errorf("DNSFailed %d", got)
			}
		})
	}
}

func TestAttemptDNS(t *testing.T) {
	at := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	tests := []struct {
		name   string
		server string
		pkts   func(c *pkttest.Conn) []capture.Packet
		want   string // name addr before stale current; "" when none
	}{
		{"just resolved", "203.0.113.6:443", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "Shop.Example", capture.QTypeA)
			return []capture.Packet{q, c.Answer(3*ms, q, 0, 300, "203.0.113.5", "203.0.113.6")}
		}, "shop.example 203.0.113.6 20ms took=3ms ttl=300"},
		{"no answer holds it", "203.0.113.9:443", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "shop.example", capture.QTypeA)
			return []capture.Packet{q, c.Answer(3*ms, q, 0, 300, "203.0.113.5")}
		}, ""},
		{"stale cached address", "203.0.113.5:443", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "shop.example", capture.QTypeA)
			a := c.Answer(3*ms, q, 0, 30, "203.0.113.5")
			q2 := c.Query(time.Minute, resolver, 2, "shop.example", capture.QTypeA)
			return []capture.Packet{q, a, q2, c.Answer(3*ms, q2, 0, 30, "203.0.113.8")}
		}, "shop.example 203.0.113.5 1m0.023s took=3ms ttl=30 stale 203.0.113.8"},
		{"a newer aaaa is not a change", "203.0.113.5:443", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "shop.example", capture.QTypeA)
			a := c.Answer(3*ms, q, 0, 30, "203.0.113.5")
			q2 := c.Query(time.Second, resolver, 2, "shop.example", capture.QTypeAAAA)
			return []capture.Packet{q, a, q2, c.Answer(3*ms, q2, 0, 30, "2001:db8::5")}
		}, "shop.example 203.0.113.5 1.023s took=3ms ttl=30"},
		{"the latest answer holding it wins", "203.0.113.5:443", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "old.example", capture.QTypeA)
			a := c.Answer(3*ms, q, 0, 30, "203.0.113.5")
			q2 := c.Query(time.Second, resolver, 2, "new.example", capture.QTypeA)
			return []capture.Packet{q, a, q2, c.Answer(3*ms, q2, 0, 60, "203.0.113.5")}
		}, "new.example 203.0.113.5 20ms took=3ms ttl=60"},
		{"response only", "203.0.113.5:443", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "shop.example", capture.QTypeA)
			return []capture.Packet{c.Answer(3*ms, q, 0, 300, "203.0.113.5")}
		}, "shop.example 203.0.113.5 20ms took=0s ttl=300"},
		{"another client's answer", "203.0.113.5:443", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "shop.example", capture.QTypeA)
			q.Src = netip.AddrPortFrom(at("198.51.100.11"), 5353)
			return []capture.Packet{q, c.Answer(3*ms, q, 0, 300, "203.0.113.5")}
		}, ""},
		{"too old", "203.0.113.5:443", func(c *pkttest.Conn) []capture.Packet {
			q := c.Query(0, resolver, 1, "shop.example", capture.QTypeA)
			return []capture.Packet{q, c.Answer(3*ms, q, 0, 300, "203.0.113.5"), c.Idle(2 * time.Hour)}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, rec, _ := dnsTracker()
			c := pkttest.NewConn("198.51.100.10:40512", tt.server, 1000)
			feed(tr, tt.pkts(c)...)
			feed(tr, c.SYN(20*ms), c.SYNACK(ms), c.ACK(ms))
			tr.Finish()
			var a *flows.Attempt
			for _, x := range rec.got {
				if x.Key.Server.String() == tt.server {
					a = x
				}
			}
			if a == nil {
				t.Fatal("no attempt")
			}
			got := ""
			if d := a.DNS; d != nil {
				got = fmt.Sprintf("%s %v %v took=%v ttl=%d", d.Name, d.Addr, d.Before, d.Took, d.TTL)
				if d.Stale {
					got += fmt.Sprintf(" stale %v", d.Current)
				}
				if d.Server.Addr() != at(resolver) || d.Answer.N == 0 || d.QType != capture.QTypeA {
					t.Errorf("answer %+v", d)
				}
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestAttemptNamesTheService(t *testing.T) {
	tr, rec, _ := dnsTracker()
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 1000)
	feed(tr, c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.ClientHello(ms, "Blocked.Example"), c.ServerACK(ms), c.ClientHello(time.Second, "other.example"), c.Idle(80*time.Second))
	h := pkttest.NewConn("198.51.100.10:40513", "203.0.113.5:80", 5000)
	feed(tr, h.SYN(0), h.SYNACK(ms), h.ACK(ms), h.HTTPRequest(ms, "shop.example"), h.HTTPResponse(ms, 504), h.ACK(ms))
	tr.Finish()
	if len(rec.got) != 2 {
		t.Fatalf("%d attempts", len(rec.got))
	}
	tls, http := rec.got[0], rec.got[1]
	if tls.ClientApp.Kind != capture.AppTLSClientHello || tls.ClientApp.Name.String() != "blocked.example" || tls.ClientAppAt.N != 4 || tls.ServerApp.Kind != 0 {
		t.Errorf("tls: %+v at %v; server %+v", tls.ClientApp, tls.ClientAppAt, tls.ServerApp)
	}
	if http.ClientApp.Kind != capture.AppHTTPRequest || http.ClientApp.Name.String() != "shop.example" || http.ServerApp.Status != 504 || http.ServerAppAt.N != 5 {
		t.Errorf("http: %+v; server %+v at %v", http.ClientApp, http.ServerApp, http.ServerAppAt)
	}
	var apps []capture.AppKind
	for _, e := range http.Events {
		apps = append(apps, e.App)
	}
	if !slices.Equal(apps, []capture.AppKind{0, 0, 0, capture.AppHTTPRequest, capture.AppHTTPResponse}) {
		t.Errorf("event apps %v", apps)
	}
}

// TestRealDNSCapture reads capture's namespace capture through a Tracker:
// dig's lookups, then TLS and HTTP connections to the address ok.example
// resolved to.
func TestRealDNSCapture(t *testing.T) {
	tr, rec, lk := dnsTracker()
	r, err := capture.Open("../capture/testdata/app-dns.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var p capture.Packet
	for err = r.Next(&p); err == nil; err = r.Next(&p) {
		tr.Observe(&p)
	}
	if err != io.EOF {
		t.Fatal(err)
	}
	tr.Finish()
	want := []string{"nxname.example/1 queries=1 rcode=3 capture", "failname.example/28 queries=1 rcode=2 capture", "quit.example/1 queries=1 capture"}
	if strings.Join(lk.got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lookups:\n%s\nwant\n%s", strings.Join(lk.got, "\n"), strings.Join(want, "\n"))
	}
	if len(rec.got) != 2 {
		t.Fatalf("%d attempts", len(rec.got))
	}
	for _, a := range rec.got {
		d := a.DNS
		if d == nil || d.Name.String() != "ok.example" || d.TTL != 300 || d.Answer.N != 2 || d.Stale || d.Before < 190*ms || d.Before > 230*ms {
			t.Errorf("%v: dns %+v", a.Key, d)
		}
	}
	if a := rec.got[0]; a.ClientApp.Name.String() != "blocked.example" || a.ClientAppAt.N != 12 {
		t.Errorf("tls: %+v", a.ClientApp)
	}
	if a := rec.got[1]; a.ClientApp.Name.String() != "shop.example" || a.ServerApp.Status != 504 {
		t.Errorf("http: %+v %+v", a.ClientApp, a.ServerApp)
	}
}

func TestDNSTablesAreBounded(t *testing.T) {
	tr, _, lk := dnsTracker()
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 1000)
	// More pending lookups than the table holds.
	for i := range 5000 {
		feed(tr, c.Query(time.Microsecond, resolver, uint16(i), fmt.Sprintf("n%d.example", i), capture.QTypeA))
	}
	if tr.Counts().DNSDropped == 0 {
		t.Error("no query dropped")
	}
	// Answers for more clients than the table holds.
	for i := range 3000 {
		q := c.Query(time.Microsecond, resolver, 1, "x.example", capture.QTypeA)
		q.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 40000)
		feed(tr, c.Answer(0, q, 0, 60, "203.0.113.5"))
	}
	if tr.Counts().DNSHostsDropped == 0 {
		t.Error("no client dropped")
	}
	tr.Finish()
	if n := uint64(len(lk.got)); n+tr.Counts().DNSDropped != 5000 {
		t.Errorf("%d lookups failed, %d dropped, of 5000", n, tr.Counts().DNSDropped)
	}
}

// TestObserveAllocatesNothingWithDNS: once DNS was seen, the per-packet
// path of an established flow still allocates nothing, and neither does
// an answered lookup once the tables are warm.
func TestObserveAllocatesNothingWithDNS(t *testing.T) {
	tr, _, _ := dnsTracker()
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	q := c.Query(0, resolver, 1, "ok.example", capture.QTypeA)
	feed(tr, q, c.Answer(ms, q, 0, 60, "203.0.113.5"))
	feed(tr, c.SYN(ms), c.SYNACK(ms), c.ACK(ms))
	data := []capture.Packet{c.Data(ms, true, 100), c.ServerACK(ms), c.HTTPRequest(ms, "ok.example"), c.ServerACK(ms)}
	allocs := testing.AllocsPerRun(1000, func() {
		for i := range data {
			tr.Observe(&data[i])
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per run of %d packets, want 0", allocs, len(data))
	}
	q2 := c.Query(ms, resolver, 2, "ok.example", capture.QTypeA)
	a2 := c.Answer(ms, q2, 0, 60, "203.0.113.5")
	feed(tr, q2, a2) // warms the pool
	allocs = testing.AllocsPerRun(1000, func() {
		q2.TS = q2.TS.Add(time.Second)
		a2.TS = q2.TS.Add(ms)
		tr.Observe(&q2)
		tr.Observe(&a2)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per answered lookup, want 0", allocs)
	}
}

// BenchmarkDNSObserve is the cost of an answered lookup (query and
// response) once the tables are warm, and reports the memory the DNS
// tables reach when full: every client slot with its ring of answers, and
// every pending lookup.
func BenchmarkDNSObserve(b *testing.B) {
	tr, _, _ := dnsTracker()
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	q := c.Query(0, resolver, 1, "ok.example", capture.QTypeA)
	a := c.Answer(ms, q, 0, 60, "203.0.113.5", "203.0.113.6")
	feed(tr, q, a)
	b.ReportAllocs()
	for b.Loop() {
		q.TS = q.TS.Add(time.Millisecond)
		a.TS = q.TS.Add(100 * time.Microsecond)
		tr.Observe(&q)
		tr.Observe(&a)
	}
	b.StopTimer()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	full, _, _ := dnsTracker()
	for i := range 1024 * 16 {
		q := c.Query(time.Microsecond, resolver, uint16(i), fmt.Sprintf("name%d.example", i%16), capture.QTypeA)
		q.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 12), byte(i >> 4)}), 40000)
		full.Observe(&q)
		a := c.Answer(0, q, 0, 60, "203.0.113.5", "203.0.113.6", "203.0.113.7", "203.0.113.8")
		full.Observe(&a)
	}
	for i := range 4096 {
		q := c.Query(time.Microsecond, resolver, uint16(i), fmt.Sprintf("pending%d.example", i), capture.QTypeA)
		full.Observe(&q)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-full-tables")
	runtime.KeepAlive(full)
}

// TestRealSplitClientHello: a ClientHello whose SNI is in its second
// segment leaves the attempt saying so (Partial), not naming another.
func TestRealSplitClientHello(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	r, err := capture.Open("../capture/testdata/tls-split-hello.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var p capture.Packet
	for err = r.Next(&p); err == nil; err = r.Next(&p) {
		tr.Observe(&p)
	}
	tr.Finish()
	if len(rec.got) != 1 {
		t.Fatalf("%d attempts", len(rec.got))
	}
	if a := rec.got[0].ClientApp; a.Kind != capture.AppTLSClientHello || !a.Partial || a.Name.Len() != 0 || rec.got[0].ClientAppAt.N != 4 {
		t.Errorf("client app %+v at %v", a, rec.got[0].ClientAppAt)
	}
}

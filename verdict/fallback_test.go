package verdict_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// TestFallback: a client's IPv6 SYN goes unanswered, and 250 ms later the
// client connects over IPv4 to the same port (Happy Eyeballs). The IPv6
// attempt is told as one the client moved on from, not a timeout it
// waited out; each variant made to fool the pairing keeps the plain words.
func TestFallback(t *testing.T) {
	// lone is the IPv6 attempt (ISN 1000), won is the IPv4 one started
	// after gap.
	conns := func(gap time.Duration) (lone, won *pkttest.Conn) {
		lone = pkttest.NewConn("[2001:db8:1::10]:50000", "[2001:db8:2::5]:443", 1000)
		won = pkttest.NewConn("198.51.100.10:40000", "203.0.113.5:443", 5000)
		won.T = lone.T.Add(gap)
		return lone, won
	}
	established := func(c *pkttest.Conn) []capture.Packet {
		return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(0), c.Data(ms, true, 100), c.ServerACK(ms), c.Data(ms, false, 300), c.ACK(ms)}
	}
	// lonely: lone's one SYN, won's connection, and 5 s more of capture.
	lonely := func(lone, won *pkttest.Conn) []capture.Packet {
		return append(append([]capture.Packet{lone.SYN(0)}, established(won)...), won.Idle(5*s))
	}
	for _, tc := range []struct {
		name     string
		packets  func() []capture.Packet
		want     verdict.Verdict
		fellBack bool
	}{
		{"abandoned and never answered", func() []capture.Packet {
			return lonely(conns(250 * ms))
		}, verdict.Timeout, true},
		{"abandoned, its SYN-ACK late", func() []capture.Packet {
			lone, won := conns(250 * ms)
			p := append([]capture.Packet{lone.SYN(0)}, established(won)...)
			lone.T = won.T
			return append(p, lone.SYNACK(time.Second), lone.AbortRST(0), won.Idle(5*s))
		}, verdict.Aborted, true},
		{"abandoned, the capture ending soon", func() []capture.Packet {
			lone, won := conns(250 * ms)
			return append([]capture.Packet{lone.SYN(0)}, established(won)...)
		}, verdict.Incomplete, true},
		// Made to fool it.
		{"resent after the other was answered: still waiting", func() []capture.Packet {
			lone, won := conns(250 * ms)
			p := append([]capture.Packet{lone.SYN(0)}, established(won)...)
			lone.T = won.T
			return append(p, lone.SYN(time.Second), won.Idle(5*s))
		}, verdict.Timeout, false},
		{"the other began too late to be a race", func() []capture.Packet {
			return lonely(conns(3 * s))
		}, verdict.Timeout, false},
		{"the other began at once: two connections, not a race", func() []capture.Packet {
			return lonely(conns(2 * ms))
		}, verdict.Timeout, false},
		{"answered first itself", func() []capture.Packet {
			lone, won := conns(250 * ms)
			p := []capture.Packet{lone.SYN(0), lone.SYNACK(100 * ms), lone.AbortRST(0)}
			return append(append(p, established(won)...), won.Idle(5*s))
		}, verdict.Aborted, false},
		{"seen at the server: neither SYN was sent by the capturing host", func() []capture.Packet {
			lone, won := conns(250 * ms)
			return lonely(lone.AtServer(), won.AtServer())
		}, verdict.Incomplete, false},
		{"the same server address: a retry", func() []capture.Packet {
			lone, won := conns(250 * ms)
			won.Client, won.Server = netip.MustParseAddrPort("[2001:db8:1::10]:50001"), lone.Server
			return lonely(lone, won)
		}, verdict.Timeout, true},
		{"another address of the same family, nothing tying them", func() []capture.Packet {
			lone, won := conns(250 * ms)
			won.Client, won.Server = netip.MustParseAddrPort("[2001:db8:1::10]:50001"), netip.MustParseAddrPort("[2001:db8:2::6]:443")
			return lonely(lone, won)
		}, verdict.Timeout, false},
		{"another address of the same family, from one lookup", func() []capture.Packet {
			lone, won := conns(250 * ms)
			won.Client, won.Server = netip.MustParseAddrPort("[2001:db8:1::10]:50001"), netip.MustParseAddrPort("[2001:db8:2::6]:443")
			lone.T = lone.T.Add(-20 * ms)
			q := lone.Query(0, "2001:db8:1::53", 7, "www.example", 28)
			return append([]capture.Packet{q, lone.Answer(10*ms, q, 0, 300, "2001:db8:2::5", "2001:db8:2::6")}, lonely(lone, won)...)
		}, verdict.Timeout, true},
		{"another port", func() []capture.Packet {
			lone, won := conns(250 * ms)
			won.Server = netip.AddrPortFrom(won.Server.Addr(), 8443)
			return lonely(lone, won)
		}, verdict.Timeout, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lone *flows.Attempt
			var winner netip.AddrPort
			for _, a := range track(tc.packets()...) {
				if a.ISN == 1000 {
					lone = a
				} else {
					winner = a.Key.Server
				}
			}
			if lone == nil {
				t.Fatal("no attempt with ISN 1000")
			}
			r := verdict.Judge(lone, verdict.InferVantage(lone), verdict.Config{})
			if r.Verdict != tc.want {
				t.Errorf("verdict %s, want %s: %s", r.Verdict, tc.want, r.Explanation)
			}
			said := strings.Contains(r.Explanation, "moved on to that connection")
			if tc.fellBack {
				if r.FellBackTo != winner || !said {
					t.Errorf("fell back to %v, want %v, with words saying so: %s", r.FellBackTo, winner, r.Explanation)
				}
				if strings.Contains(r.Explanation, "ETIMEDOUT") || strings.Contains(r.Explanation, "waited at least") {
					t.Errorf("words say the client waited for an answer it moved on from: %s", r.Explanation)
				}
				if r.Where == verdict.OutboundPath || r.Where == verdict.ReturnPath {
					t.Errorf("one capture blames the path: %s/%s", r.Verdict, r.Where)
				}
			} else if r.FellBackTo.IsValid() || said {
				t.Errorf("paired with another attempt (%v): %s", r.FellBackTo, r.Explanation)
			}
		})
	}
}

// TestProbeWords: a client's RST answering the SYN-ACK within a round trip
// of its one SYN had no socket waiting: the words name a half-open probe
// (a SYN scan, a load balancer's health check) beside an application that
// gave up at once, at either end. A resent SYN, or an answer that took
// half a second, keeps the words of a connect() that gave up.
func TestProbeWords(t *testing.T) {
	for _, tc := range []struct {
		name    string
		packets func(c *pkttest.Conn) []capture.Packet
		probe   bool
	}{
		{"answered at once", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.AbortRST(0)}
		}, true},
		{"SYN resent", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYN(time.Second), c.SYNACK(ms), c.AbortRST(0)}
		}, false},
		{"answer took half a second", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(500 * ms), c.AbortRST(0)}
		}, false},
	} {
		for _, atServer := range []bool{false, true} {
			c := pkttest.NewConn("198.51.100.10:40000", "203.0.113.5:443", 1000)
			if atServer {
				c = c.AtServer()
			}
			as := track(tc.packets(c)...)
			if len(as) != 1 {
				t.Fatalf("%s: %d attempts", tc.name, len(as))
			}
			r := verdict.Judge(as[0], verdict.InferVantage(as[0]), verdict.Config{})
			if r.Verdict != verdict.Aborted || strings.Contains(r.Explanation, "half-open probe") != tc.probe {
				t.Errorf("%s (at the server: %v): %s, want a probe named: %v: %s", tc.name, atServer, r.Verdict, tc.probe, r.Explanation)
			}
		}
	}
}

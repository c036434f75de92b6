package verdict_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

func side(pkts []capture.Packet) verdict.Side {
	as := track(pkts...)
	sd := verdict.Side{Attempts: as}
	if len(pkts) > 0 {
		sd.First, sd.Last = pkts[0].TS, pkts[len(pkts)-1].TS
	}
	return sd
}

func TestJoinVerdicts(t *testing.T) {
	const owd = 5 * ms
	tests := []struct {
		name   string
		client func(c *pkttest.Conn) []capture.Packet
		server func(s *pkttest.Conn) []capture.Packet
		want   want
	}{
		{"established",
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.SYNACK(2 * owd), c.ACK(0), c.Data(0, true, 10), c.Data(2*owd, false, 20)}
			},
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYNACK(0), s.ACK(2 * owd), s.Data(0, true, 10), s.Data(0, false, 20)}
			}, want{verdict.Established, verdict.None, []verdict.Place{}, ""}},
		{"outbound SYN loss",
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.SYN(s), c.Idle(3 * s)}
			},
			func(s *pkttest.Conn) []capture.Packet { return []capture.Packet{s.Idle(0), s.Idle(4 * time.Second)} },
			want{verdict.Timeout, verdict.OutboundPath, []verdict.Place{verdict.OutboundPath}, ""}},
		{"server silent",
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.SYN(s), c.Idle(3 * s)}
			},
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYN(time.Second), s.Idle(3 * time.Second)}
			}, want{verdict.Timeout, verdict.Server, nil, ""}},
		{"return path drop",
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.SYN(s), c.Idle(3 * s)}
			},
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYNACK(0), s.SYN(time.Second), s.SYNACK(0), s.Idle(3 * time.Second)}
			}, want{verdict.Timeout, verdict.ReturnPath, nil, ""}},
		{"RST forged by the path",
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.RefusingRST(owd, 63), c.Idle(3 * s)}
			},
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYNACK(0), s.Idle(3 * time.Second)}
			}, want{verdict.Refused, verdict.OutboundPath, nil, verdict.OriginPath}},
		{"RST from the server",
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.RefusingRST(2*owd, 63)}
			},
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.RefusingRST(0, 64)}
			}, want{verdict.Refused, verdict.Server, nil, verdict.OriginServer}},
		{"final ACK lost",
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.SYNACK(2 * owd), c.ACK(0), c.Data(0, true, 10), c.SYNACK(s), c.ACK(0), c.Idle(3 * s)}
			},
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYNACK(0), s.SYNACK(time.Second), s.Idle(3 * time.Second)}
			}, want{verdict.HalfOpen, verdict.OutboundPath, nil, ""}},
		{"request reached the server, no reply",
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.SYNACK(2 * owd), c.ACK(0), c.Data(0, true, 10), c.ServerACK(2 * owd), c.Idle(3 * s)}
			},
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYNACK(0), s.ACK(2 * owd), s.Data(0, true, 10), s.ServerACK(0), s.Idle(3 * time.Second)}
			}, want{verdict.Stalled, verdict.Server, nil, ""}},
		{"reply lost on the way back",
			func(c *pkttest.Conn) []capture.Packet {
				return []capture.Packet{c.SYN(0), c.SYNACK(2 * owd), c.ACK(0), c.Data(0, true, 10), c.ServerACK(2 * owd), c.Idle(3 * s)}
			},
			func(s *pkttest.Conn) []capture.Packet {
				return []capture.Packet{s.SYN(owd), s.SYNACK(0), s.ACK(2 * owd), s.Data(0, true, 10), s.Data(0, false, 99), s.Idle(3 * time.Second)}
			}, want{verdict.Stalled, verdict.ReturnPath, nil, ""}},
	}
	for _, tt := range tests {
		for _, skew := range []time.Duration{0, 10 * time.Minute, -10 * time.Minute, 37250 * ms} {
			t.Run(tt.name+"/skew "+skew.String(), func(t *testing.T) {
				c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 4000000000)
				sv := c.AtServer()
				sv.T = c.T.Add(skew)
				results, off := verdict.Join(side(tt.client(c)), side(tt.server(sv)), verdict.JoinConfig{})
				if len(results) != 1 {
					t.Fatalf("%d results, want 1: %+v", len(results), results)
				}
				r := results[0]
				if !off.Known && skew != 0 {
					// No attempt in both: the clocks cannot be aligned, and
					// with them this far apart the server capture does not
					// cover the attempt's time. Out of view, not lost.
					check(t, r, want{verdict.Timeout, verdict.Unknown, clientSide, ""})
					return
				}
				check(t, r, tt.want)
				if r.Vantage != verdict.VantageBoth {
					t.Errorf("vantage %s, want both", r.Vantage)
				}
				if off.Known && (off.Offset-skew > 2*owd || skew-off.Offset > 2*owd) {
					t.Errorf("clock offset %s, want %s ± %s", off.Offset, skew, 2*owd)
				}
			})
		}
	}
}

func TestJoinMatching(t *testing.T) {
	const owd = 5 * ms
	established := func(c, s *pkttest.Conn) ([]capture.Packet, []capture.Packet) {
		return []capture.Packet{c.SYN(0), c.SYNACK(2 * owd), c.ACK(0), c.Data(0, true, 10), c.Data(2*owd, false, 20)},
			[]capture.Packet{s.SYN(owd), s.SYNACK(0), s.ACK(2 * owd), s.Data(0, true, 10), s.Data(0, false, 20)}
	}
	tests := []struct {
		name    string
		rewrite func(s *pkttest.Conn)
		match   string
		nat     bool
	}{
		{"same 4-tuple", func(s *pkttest.Conn) {}, verdict.MatchExact, false},
		{"SNAT", func(s *pkttest.Conn) { s.Client = netip.MustParseAddrPort("192.0.2.1:61034") }, verdict.MatchNAT, true},
		{"DNAT", func(s *pkttest.Conn) { s.Server = netip.MustParseAddrPort("203.0.113.5:8080") }, verdict.MatchNAT, true},
		{"ISN rewritten behind NAT", func(s *pkttest.Conn) {
			s.Client = netip.MustParseAddrPort("192.0.2.1:61034")
			s.ISN += 12345
		}, verdict.MatchTSval, true},
		{"ISN and timestamps rewritten", func(s *pkttest.Conn) {
			s.Client = netip.MustParseAddrPort("192.0.2.1:61034")
			s.ISN += 12345
			s.TSVal += 999
		}, verdict.MatchTiming, true},
	}
	for _, tt := range tests {
		for _, skew := range []time.Duration{0, 10 * time.Minute, -10 * time.Minute} {
			t.Run(tt.name+"/skew "+skew.String(), func(t *testing.T) {
				// A second, unrelated attempt to another port pins the
				// clock for the weak matches, as real captures do.
				var cp, sp []capture.Packet
				for i, port := range []string{"203.0.113.5:443", "203.0.113.5:22"} {
					c := pkttest.NewConn("198.51.100.10:4051"+string(rune('0'+i)), port, uint32(3000000000+i*77777))
					c.T = c.T.Add(time.Duration(i) * 3 * time.Second)
					s := c.AtServer()
					s.T = c.T.Add(skew)
					if i == 0 {
						tt.rewrite(s)
					}
					a, b := established(c, s)
					cp, sp = append(cp, a...), append(sp, b...)
				}
				results, _ := verdict.Join(side(cp), side(sp), verdict.JoinConfig{})
				if len(results) != 2 {
					t.Fatalf("%d results, want 2", len(results))
				}
				r := results[0]
				if r.Match != tt.match {
					t.Errorf("matched by %q, want %q", r.Match, tt.match)
				}
				check(t, r, want{verdict.Established, verdict.None, nil, ""})
				if got := r.ClientSeenByServer.IsValid() || r.ServerSeenByServer.IsValid(); got != tt.nat {
					t.Errorf("NAT seen %v, want %v", got, tt.nat)
				}
			})
		}
	}
}

func TestJoinOutOfView(t *testing.T) {
	// The server capture starts a minute after the client's first attempt:
	// that attempt is out of its view, not lost. A later attempt seen in
	// both fixes the clocks (skewed by 10 minutes).
	c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", 1)
	cl := []capture.Packet{c.SYN(0), c.SYN(time.Second), c.Idle(3 * time.Second)}
	b := pkttest.NewConn("198.51.100.10:40999", "203.0.113.5:443", 2)
	b.T, b.N = b.T.Add(time.Minute), c.N
	bs := b.AtServer()
	bs.T, bs.N = b.T.Add(10*time.Minute), 0
	cl = append(cl, b.SYN(0), b.SYNACK(10*ms), b.ACK(0), b.FIN(0, true), b.FIN(10*ms, false))
	sv := []capture.Packet{bs.SYN(5 * ms), bs.SYNACK(0), bs.ACK(10 * ms), bs.FIN(0, true), bs.FIN(0, false)}
	results, off := verdict.Join(side(cl), side(sv), verdict.JoinConfig{})
	if len(results) != 2 {
		t.Fatalf("%d results, want 2", len(results))
	}
	if !off.Known || off.Offset < 10*time.Minute || off.Offset > 10*time.Minute+10*ms {
		t.Errorf("clock offset %+v, want 10m + owd", off)
	}
	r := results[0]
	if r.Where != verdict.Unknown || r.Vantage != verdict.VantageClient {
		t.Errorf("out-of-view attempt judged %s/%s from %s, want unknown from client", r.Verdict, r.Where, r.Vantage)
	}
	if r := results[1]; r.Verdict != verdict.Established || r.Vantage != verdict.VantageBoth {
		t.Errorf("matched attempt judged %s from %s", r.Verdict, r.Vantage)
	}
}

func TestJoinPortReuse(t *testing.T) {
	// Two attempts on one 4-tuple with different ISNs stay two attempts,
	// each matched to its own server view.
	var cp, sp []capture.Packet
	for i, isn := range []uint32{100, 900000} {
		c := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:443", isn)
		c.T = c.T.Add(time.Duration(i) * 5 * time.Second)
		c.N = uint64(len(cp))
		s := c.AtServer()
		s.N = uint64(len(sp))
		cp = append(cp, c.SYN(0), c.RefusingRST(10*ms, 63))
		sp = append(sp, s.SYN(5*ms), s.RefusingRST(0, 64))
	}
	results, _ := verdict.Join(side(cp), side(sp), verdict.JoinConfig{})
	if len(results) != 2 {
		t.Fatalf("%d results, want 2", len(results))
	}
	for _, r := range results {
		if r.Match != verdict.MatchExact || r.Where != verdict.Server {
			t.Errorf("ISN %d: matched %q, where %s", r.ISN, r.Match, r.Where)
		}
	}
}

func slicesSortFunc(p []capture.Packet) {
	slices.SortStableFunc(p, func(a, b capture.Packet) int { return a.TS.Compare(b.TS) })
}

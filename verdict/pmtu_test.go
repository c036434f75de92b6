package verdict_test

import (
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// A PMTU black hole as each end captures it: the handshake and the request
// pass; the server's full-size segments vanish, its small tail arrives.
func TestPMTUBlackHole(t *testing.T) {
	dupACK := func(c *pkttest.Conn) capture.Packet {
		p := c.ACK(200 * time.Millisecond)
		p.Ack = c.ServerISN + 1 // acknowledges none of the reply
		return p
	}
	t.Run("client", func(t *testing.T) {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		pkts := []capture.Packet{c.SYN(0), c.SYNACK(time.Millisecond), c.ACK(0), c.Data(0, true, 100)}
		c.Data(time.Millisecond, false, 1448) // lost
		c.Data(0, false, 1448)                // lost
		pkts = append(pkts, c.Data(0, false, 104), dupACK(c), dupACK(c), c.Idle(3*time.Second))
		r := verdict.Judge(track(pkts...)[0], verdict.VantageClient, verdict.Config{})
		check(t, r, want{verdict.Stalled, verdict.ReturnPath, []verdict.Place{verdict.ReturnPath}, ""})
		if r.Cause != verdict.CausePMTU || !strings.Contains(r.Explanation, "hole of 2896 bytes") {
			t.Errorf("cause %q: %s", r.Cause, r.Explanation)
		}
	})
	t.Run("server", func(t *testing.T) {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10).AtServer()
		pkts := []capture.Packet{c.SYN(0), c.SYNACK(0), c.ACK(time.Millisecond), c.Data(0, true, 100)}
		first := c.Data(time.Millisecond, false, 1448)
		pkts = append(pkts, first, c.Data(0, false, 1448), c.Data(0, false, 104), dupACK(c), dupACK(c))
		again := first
		again.TS, again.N = c.T.Add(300*time.Millisecond), c.N+1
		c.T, c.N = again.TS, again.N
		pkts = append(pkts, again, c.Idle(3*time.Second))
		r := verdict.Judge(track(pkts...)[0], verdict.VantageServer, verdict.Config{})
		check(t, r, want{verdict.Stalled, verdict.ReturnPath, []verdict.Place{verdict.ReturnPath}, ""})
		if r.Cause != verdict.CausePMTU {
			t.Errorf("cause %q: %s", r.Cause, r.Explanation)
		}
	})
	t.Run("upload, client", func(t *testing.T) {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		pkts := []capture.Packet{c.SYN(0), c.SYNACK(time.Millisecond), c.ACK(0)}
		first := c.Data(0, true, 1448)
		pkts = append(pkts, first, c.Data(0, true, 1448), c.Data(0, true, 300))
		stuck := c.ServerACK(time.Millisecond)
		stuck.Ack = c.ISN + 1 // acknowledges none of it
		again := first
		again.TS, again.N = c.T.Add(300*time.Millisecond), c.N+1
		c.T, c.N = again.TS, again.N
		pkts = append(pkts, stuck, again, c.Idle(3*time.Second))
		r := verdict.Judge(track(pkts...)[0], verdict.VantageClient, verdict.Config{})
		check(t, r, want{verdict.Stalled, verdict.OutboundPath, []verdict.Place{verdict.OutboundPath}, ""})
		if r.Cause != verdict.CausePMTU {
			t.Errorf("cause %q: %s", r.Cause, r.Explanation)
		}
	})
	t.Run("upload, server", func(t *testing.T) {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10).AtServer()
		pkts := []capture.Packet{c.SYN(0), c.SYNACK(0), c.ACK(time.Millisecond)}
		c.Data(0, true, 1448) // lost
		c.Data(0, true, 1448) // lost
		tail := c.Data(0, true, 300)
		stuck := c.ServerACK(0)
		stuck.Ack = c.ISN + 1
		pkts = append(pkts, tail, stuck, c.Idle(3*time.Second))
		r := verdict.Judge(track(pkts...)[0], verdict.VantageServer, verdict.Config{})
		check(t, r, want{verdict.Stalled, verdict.OutboundPath, []verdict.Place{verdict.OutboundPath}, ""})
		if r.Cause != verdict.CausePMTU {
			t.Errorf("cause %q: %s", r.Cause, r.Explanation)
		}
	})
	t.Run("an acknowledged upload is not one", func(t *testing.T) {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		pkts := []capture.Packet{c.SYN(0), c.SYNACK(time.Millisecond), c.ACK(0), c.Data(0, true, 1448), c.Data(0, true, 1448),
			c.ServerACK(time.Millisecond), c.Idle(3 * time.Second)}
		r := verdict.Judge(track(pkts...)[0], verdict.VantageClient, verdict.Config{})
		if r.Cause != "" {
			t.Errorf("cause %q on an upload the server acknowledged: %s", r.Cause, r.Explanation)
		}
	})
	t.Run("a healthy reply is not one", func(t *testing.T) {
		c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
		pkts := []capture.Packet{c.SYN(0), c.SYNACK(time.Millisecond), c.ACK(0), c.Data(0, true, 100),
			c.Data(time.Millisecond, false, 1448), c.Data(0, false, 104), c.ACK(time.Millisecond), c.Idle(3 * time.Second)}
		r := verdict.Judge(track(pkts...)[0], verdict.VantageClient, verdict.Config{})
		check(t, r, want{verdict.Established, verdict.None, []verdict.Place{}, ""})
		if r.Cause != "" {
			t.Errorf("cause %q on a healthy connection", r.Cause)
		}
	})
}

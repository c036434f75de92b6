package flows_test

import (
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
)

// A file holding both ends' captures, merged in time order: each packet
// appears as sent (no hop lost) and as received (one hop lost). The
// splitter must hand each copy to its end, and a RST forged near the
// client (undecremented, from the server's address, of a connection the
// server never saw) to the client.
func TestSplitterSeparatesMergedCaptures(t *testing.T) {
	c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	s := c.AtServer()
	forged := pkttest.NewConn("198.51.100.10:40002", "203.0.113.5:81", 20)
	type pkt struct {
		p                  capture.Packet
		atClient, atServer bool
	}
	seq := []pkt{
		{c.SYN(0), true, false},
		{s.SYN(time.Millisecond), false, true},
		{s.SYNACK(0), false, true},
		{c.SYNACK(time.Millisecond), true, false},
		{c.ACK(0), true, false},
		{s.ACK(time.Millisecond), false, true},
		{forged.SYN(0), true, false},
		{forged.RefusingRST(time.Millisecond, 64), true, false},
	}
	sp := flows.NewSplitter()
	for i, k := range seq {
		atC, atS := sp.Sides(&k.p)
		if atC != k.atClient || atS != k.atServer {
			t.Errorf("packet %d (%s, ttl %d): at client %v, at server %v; want %v, %v", i+1, k.p.Flags, k.p.TTL, atC, atS, k.atClient, k.atServer)
		}
	}
}

// Both ends on one link, each host's capture recording which way packets
// crossed it (tcpdump -i any): every TTL is as sent, and the directions
// tell the copies apart: sent, the sender's capture; received, the
// receiver's. The server's own packets, before its capture holds any of
// the client's (it began late), stay the server's.
func TestSplitterSeparatesDirectedCapturesOnOneLink(t *testing.T) {
	c := pkttest.NewConn("198.51.100.10:40001", "198.51.100.20:80", 10)
	c.ServerTTL = 64
	dir := func(p capture.Packet, d capture.Direction) capture.Packet {
		p.Dir = d
		return p
	}
	type pkt struct {
		p                  capture.Packet
		atClient, atServer bool
	}
	syn, synack := c.SYN(0), c.SYNACK(time.Millisecond)
	seq := []pkt{
		{dir(syn, capture.DirOut), true, false},
		{dir(syn, capture.DirIn), false, true},
		{dir(synack, capture.DirOut), false, true},
		{dir(synack, capture.DirIn), true, false},
	}
	late := pkttest.NewConn("198.51.100.10:40002", "198.51.100.20:80", 20)
	late.ServerTTL = 64
	lsyn, lsynack := late.SYN(time.Second), late.SYNACK(time.Millisecond)
	seq = append(seq, pkt{dir(lsyn, capture.DirOut), true, false}, pkt{dir(lsynack, capture.DirOut), false, true})
	sp := flows.NewSplitter()
	for i, k := range seq {
		atC, atS := sp.Sides(&k.p)
		if atC != k.atClient || atS != k.atServer {
			t.Errorf("packet %d (%s, %v): at client %v, at server %v; want %v, %v", i+1, k.p.Flags, k.p.Dir, atC, atS, k.atClient, k.atServer)
		}
	}
}

// The tracker counts the copies it folds as echoes of the other end.
func TestTrackerCountsEchoes(t *testing.T) {
	c := pkttest.NewConn("198.51.100.10:40001", "203.0.113.5:80", 10)
	s := c.AtServer()
	s.T = c.T
	var got []*flows.Attempt
	tr := flows.NewTracker(flows.DefaultConfig, func(a *flows.Attempt) { got = append(got, a.Clone()) })
	for _, p := range []capture.Packet{c.SYN(0), s.SYN(50 * time.Microsecond), c.Idle(3 * time.Second)} {
		tr.Observe(&p)
	}
	tr.Finish()
	if len(got) != 1 || got[0].Echoes != 1 {
		t.Fatalf("attempts %d, echoes %v; want 1 attempt with 1 echo", len(got), got)
	}
}

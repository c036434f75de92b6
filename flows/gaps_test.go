package flows_test

import (
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
)

// A gap is data one end acknowledged that the capture lacks, though it
// holds that side's SYN-ACK. Data that follows its acknowledgment within
// a second of capture time (queues merged by time) fills it; a capture
// holding nothing of the server (one direction) has none.
func TestGapsAreAcknowledgedDataTheCaptureLacks(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name string
		pkts func(c *pkttest.Conn) []capture.Packet
		gaps uint64
	}{
		{"whole", func(c *pkttest.Conn) []capture.Packet {
			return []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 100), c.ServerACK(ms), c.Data(ms, false, 300), c.ACK(ms)}
		}, 0},
		{"reply missing", func(c *pkttest.Conn) []capture.Packet {
			p := []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 100), c.ServerACK(ms)}
			c.Data(ms, false, 300) // not captured
			return append(p, c.ACK(ms), c.Idle(2*time.Second))
		}, 1},
		{"request missing", func(c *pkttest.Conn) []capture.Packet {
			p := []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 100)}
			c.Data(ms, true, 50) // not captured
			return append(p, c.ServerACK(ms), c.Data(ms, false, 300), c.ACK(ms), c.Idle(2*time.Second))
		}, 1},
		{"reply after its acknowledgment", func(c *pkttest.Conn) []capture.Packet {
			p := []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 100), c.ServerACK(ms)}
			reply := c.Data(ms, false, 300)
			return append(p, c.ACK(0), reply, c.Idle(2*time.Second))
		}, 0},
		{"reply too late", func(c *pkttest.Conn) []capture.Packet {
			p := []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 100), c.ServerACK(ms)}
			reply := c.Data(ms, false, 300)
			p = append(p, c.ACK(0), c.Idle(2*time.Second))
			reply.TS = c.T
			return append(p, reply)
		}, 1},
		{"FIN after missing data", func(c *pkttest.Conn) []capture.Packet {
			p := []capture.Packet{c.SYN(0), c.SYNACK(ms), c.ACK(ms), c.Data(ms, true, 100), c.ServerACK(ms)}
			c.Data(ms, false, 300) // not captured
			return append(p, c.ACK(ms), c.FIN(ms, false), c.Idle(2*time.Second))
		}, 1},
		{"one direction", func(c *pkttest.Conn) []capture.Packet {
			p := []capture.Packet{c.SYN(0)}
			c.SYNACK(ms)
			p = append(p, c.ACK(ms), c.Data(ms, true, 100))
			c.Data(ms, false, 300)
			return append(p, c.ACK(ms), c.Idle(2*time.Second))
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
			feed(tr, tc.pkts(pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 0xfffffff0))...)
			tr.Finish()
			if len(rec.got) != 1 {
				t.Fatalf("%d attempts, want 1", len(rec.got))
			}
			if got := tr.Counts().Gaps; got != tc.gaps {
				t.Errorf("%d gaps, want %d", got, tc.gaps)
			}
		})
	}
}

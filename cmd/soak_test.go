package cmd

import (
	"container/heap"
	"io"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// BenchmarkLiveSoak pushes an hour of a busy jump host through the live
// path (tracker, clock ticks, provisional and final verdicts, JSON out)
// from generated packets on a simulated clock: 300 attempts a second of
// every outcome. It reports the process's resident and heap memory at the
// start and the end: they must not grow with the hours.
//
//	go test -run - -bench LiveSoak -benchtime 1x ./cmd
//
// SYNPATH_SOAK_MINUTES shortens (or lengthens) the simulated hour.
func BenchmarkLiveSoak(b *testing.B) {
	minutes := 60
	if m, err := strconv.Atoi(os.Getenv("SYNPATH_SOAK_MINUTES")); err == nil && m > 0 {
		minutes = m
	}
	const perSecond = 300
	for b.Loop() {
		runtime.GC()
		rssStart, heapStart := rssMB(), heapMB()
		g := newSoakGen(perSecond)
		l := newLiveLoop("", verdict.DefaultConfig, flows.DefaultConfig, true, false, true, io.Discard)
		end := pkttest.Base.Add(time.Duration(minutes) * time.Minute)
		nextTick := pkttest.Base.Add(liveTick)
		var packets uint64
		var mid struct{ rss, heap float64 }
		start := time.Now()
		for {
			p, ok := g.next(end)
			if !ok {
				break
			}
			for !p.TS.Before(nextTick) {
				if nextTick.Sub(pkttest.Base)%time.Second == 0 {
					l.drops.sample(nextTick, 0)
				}
				l.tick(nextTick)
				nextTick = nextTick.Add(liveTick)
				if nextTick.Sub(pkttest.Base) == time.Duration(minutes)*time.Minute/2 {
					runtime.GC()
					mid.rss, mid.heap = rssMB(), heapMB()
				}
			}
			l.observe(&p)
			packets++
		}
		l.finish(end)
		elapsed := time.Since(start)
		runtime.GC()
		attempts := l.tracker.Counts().Attempts
		b.ReportMetric(float64(attempts), "attempts")
		b.ReportMetric(float64(packets), "packets")
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(packets), "ns/packet")
		b.ReportMetric(float64(l.provisional), "early-reports")
		b.ReportMetric(rssStart, "rss-start-MB")
		b.ReportMetric(mid.rss, "rss-mid-MB")
		b.ReportMetric(rssMB(), "rss-end-MB")
		b.ReportMetric(heapStart, "heap-start-MB")
		b.ReportMetric(mid.heap, "heap-mid-MB")
		b.ReportMetric(heapMB(), "heap-end-MB")
		if want := uint64(perSecond * 60 * minutes); attempts < want*99/100 {
			b.Errorf("%d attempts judged, want %d", attempts, want)
		}
		if l.failures[verdict.Timeout] == 0 || l.failures[verdict.Refused] == 0 || l.failures[verdict.Stalled] == 0 || l.failures[verdict.Unreachable] == 0 {
			b.Errorf("not every outcome came out: %v", l.failures)
		}
	}
}

func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func heapMB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// soakGen makes the packets of attempts started at a steady rate, each
// with its own outcome, merged in time order.
type soakGen struct {
	gap     time.Duration
	started int
	nextAt  time.Time
	q       pktHeap
}

func newSoakGen(perSecond int) *soakGen {
	return &soakGen{gap: time.Second / time.Duration(perSecond), nextAt: pkttest.Base}
}

// next is the next packet before end, in time order.
func (g *soakGen) next(end time.Time) (capture.Packet, bool) {
	for g.nextAt.Before(end) && (len(g.q) == 0 || !g.q[0].TS.Before(g.nextAt)) {
		g.start(g.nextAt)
		g.nextAt = g.nextAt.Add(g.gap)
	}
	if len(g.q) == 0 {
		return capture.Packet{}, false
	}
	return heap.Pop(&g.q).(capture.Packet), true
}

var soakServer = netip.MustParseAddr("203.0.113.5")

// start schedules the packets of the next attempt, its outcome chosen by
// its number: half established with data, and every kind of failure.
func (g *soakGen) start(at time.Time) {
	i := g.started
	g.started++
	client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i%250)}), uint16(1024+(i/250)%60000))
	kind := i % 20
	c := &pkttest.Conn{Client: client, Server: netip.AddrPortFrom(soakServer, uint16(80+kind)), ISN: uint32(i) * 2654435761,
		ClientTTL: 64, ServerTTL: 63, File: "live:soak", T: at}
	c.ServerISN = c.ISN ^ 0x5a5a5a5a
	ms := time.Millisecond
	var ps []capture.Packet
	add := func(p capture.Packet) { ps = append(ps, p) }
	switch {
	case kind < 10: // established, a request and its reply, closed
		add(c.SYN(0))
		add(c.SYNACK(ms))
		add(c.ACK(ms / 10))
		add(c.Data(ms/10, true, 120))
		add(c.Data(5*ms, false, 900))
		add(c.FIN(ms, true))
		add(c.FIN(ms/10, false))
	case kind < 12: // refused
		add(c.SYN(0))
		add(c.RefusingRST(ms, 63))
	case kind < 14: // timeout: the client tries for 15 s
		for _, d := range []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
			add(c.SYN(d))
		}
	case kind == 14: // stalled, the client gives up after 3 s
		add(c.SYN(0))
		add(c.SYNACK(ms))
		add(c.ACK(ms / 10))
		add(c.Data(ms/10, true, 120))
		add(c.ServerACK(ms))
		add(c.FIN(3*time.Second, true))
		add(c.ServerACK(ms))
	case kind == 15: // answered only after two retransmissions: an update
		add(c.SYN(0))
		add(c.SYN(time.Second))
		add(c.SYN(2 * time.Second))
		add(c.SYNACK(ms))
		add(c.ACK(ms / 10))
		add(c.Data(ms/10, true, 120))
		add(c.Data(5*ms, false, 900))
	case kind == 16: // unreachable
		add(c.SYN(0))
		add(c.ICMP(2*ms, "198.51.100.254", false, 3, 13))
	case kind == 17: // established, then idle (a pooled connection)
		add(c.SYN(0))
		add(c.SYNACK(ms))
		add(c.ACK(ms / 10))
	case kind == 18: // reset after the request
		add(c.SYN(0))
		add(c.SYNACK(ms))
		add(c.ACK(ms / 10))
		add(c.Data(ms/10, true, 120))
		add(c.RST(ms, false))
	default: // the client ignores SYN-ACKs: aborted by its kernel
		add(c.SYN(0))
		add(c.SYNACK(ms))
		add(c.AbortRST(ms / 10))
	}
	for _, p := range ps {
		heap.Push(&g.q, p)
	}
}

type pktHeap []capture.Packet

func (h pktHeap) Len() int           { return len(h) }
func (h pktHeap) Less(i, j int) bool { return h[i].TS.Before(h[j].TS) }
func (h pktHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pktHeap) Push(x any)        { *h = append(*h, x.(capture.Packet)) }
func (h *pktHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}

package verdict_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/internal/pkttest"
	"github.com/synpath/synpath/verdict"
)

// BenchmarkJoin joins n attempts per side (a mix of outcomes, the server
// clock 37 s ahead); ns/attempt staying flat as n grows shows the join is
// linear.
func BenchmarkJoin(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var cp, sp []capture.Packet
			for i := 0; i < n; i++ {
				c := pkttest.NewConn(fmt.Sprintf("198.51.100.%d:%d", 1+i%200, 10000+i%50000), "203.0.113.5:443", uint32(i)*2654435761)
				c.T = c.T.Add(time.Duration(i) * time.Millisecond)
				s := c.AtServer()
				s.T = c.T.Add(37 * time.Second)
				switch i % 4 {
				case 0, 1:
					cp = append(cp, c.SYN(0), c.SYNACK(10*time.Millisecond), c.ACK(0), c.FIN(0, true), c.FIN(10*time.Millisecond, false))
					sp = append(sp, s.SYN(5*time.Millisecond), s.SYNACK(0), s.ACK(10*time.Millisecond), s.FIN(0, true), s.FIN(0, false))
				case 2:
					cp = append(cp, c.SYN(0), c.SYN(time.Second))
					sp = append(sp, s.SYN(5*time.Millisecond), s.SYNACK(0), s.SYN(time.Second), s.SYNACK(0))
				case 3:
					cp = append(cp, c.SYN(0), c.RefusingRST(10*time.Millisecond, 63))
					sp = append(sp, s.SYN(5*time.Millisecond), s.RefusingRST(0, 64))
				}
			}
			sortByTime(cp)
			sortByTime(sp)
			client, server := side(cp), side(sp)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				results, _ := verdict.Join(client, server, verdict.JoinConfig{})
				if len(results) != n {
					b.Fatalf("%d results, want %d", len(results), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/attempt")
		})
	}
}

func sortByTime(p []capture.Packet) {
	slicesSortFunc(p)
}

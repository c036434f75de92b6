package flows_test

import (
	"testing"
	"time"

	"github.com/synpath/synpath/flows"
	"github.com/synpath/synpath/internal/pkttest"
)

func TestPendingAttempts(t *testing.T) {
	var rec recorder
	tr := flows.NewTracker(flows.DefaultConfig, rec.emit)
	open := pkttest.NewConn("198.51.100.10:40512", "203.0.113.5:80", 1000)
	silent := pkttest.NewConn("198.51.100.10:40513", "203.0.113.5:81", 2000)
	silent.T = open.T
	feed(tr, silent.SYN(0), open.SYN(ms), open.SYNACK(ms), open.ACK(ms), open.Data(ms, true, 10), open.Data(ms, false, 10), open.ACK(ms), silent.SYN(time.Second))
	var isns []uint32
	for a := range tr.PendingAttempts() {
		if !a.End.IsZero() {
			t.Errorf("pending attempt with End set: %v", a.End)
		}
		isns = append(isns, a.ISN)
	}
	if len(rec.got) != 1 || len(isns) != 1 || isns[0] != 2000 {
		t.Errorf("handed on %d, pending %v; want the open port handed on and the silent one pending", len(rec.got), isns)
	}
	// Breaking out of the loop stops the visit.
	feed(tr, open.SYN(0))
	n := 0
	for range tr.PendingAttempts() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("visited %d after break", n)
	}
	tr.Finish()
	for range tr.PendingAttempts() {
		t.Error("an attempt is pending after Finish")
	}
}

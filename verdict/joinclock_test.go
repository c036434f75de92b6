package verdict

import (
	"testing"

	"github.com/synpath/synpath/flows"
)

// TestClockFactsBoundAsAttempts: the clock offset the Stream gets from
// clock facts read off packed attempts (clockOf) is the one Join gets
// from the attempts, pair after pair: each client attempt of the mix with
// its own server attempt and with others, and each with itself.
func TestClockFactsBoundAsAttempts(t *testing.T) {
	client, server := mix(t)
	pk := NewPacker("mix.pcap")
	exact := map[exactKey]*flows.Attempt{}
	for _, s := range server {
		exact[exactKey{s.a.Key, s.a.ISN}] = s.a
	}
	var pairs []pair
	for i, c := range client {
		if s := exact[exactKey{c.a.Key, c.a.ISN}]; s != nil {
			pairs = append(pairs, pair{c.a, s})
		}
		pairs = append(pairs, pair{c.a, server[(i*7+3)%len(server)].a}, pair{c.a, c.a})
	}
	// Pair by pair, and all of them in turn.
	var want, got offsetBounds
	var cf, sf clockFacts
	read := 0
	for i, p := range pairs {
		var one, oneWant offsetBounds
		oneWant.add(p.c, p.s)
		want.add(p.c, p.s)
		if pk.clockOf(pk.Pack(nil, p.c), &cf) && pk.clockOf(pk.Pack(nil, p.s), &sf) && one.addFacts(&cf, &sf) {
			got.addFacts(&cf, &sf)
			read++
		} else {
			one.add(p.c, p.s)
			got.add(p.c, p.s)
		}
		if one != oneWant || got != want {
			t.Fatalf("pair %d: bounds %+v (all so far %+v), from the attempts %+v (%+v)", i, one, got, oneWant, want)
		}
		if cf.client != p.c.Key.Client.Addr() || cf.server != p.c.Key.Server.Addr() {
			t.Fatalf("pair %d: endpoints %s, %s, want %s", i, cf.client, cf.server, p.c.Key)
		}
	}
	if read < len(pairs)*9/10 {
		t.Errorf("only %d of %d pairs read as clock facts", read, len(pairs))
	}
}

package verdict

import (
	"testing"

	"github.com/synpath/synpath/flows"
)

func keyOf(a *flows.Attempt) streamKey {
	k := streamKey{client: a.Key.Client.Addr().As16(), server: a.Key.Server.Addr().As16(),
		cport: a.Key.Client.Port(), sport: a.Key.Server.Port(), isn: a.ISN,
		tunnelID: a.Key.Tunnel.ID, tunnelKind: a.Key.Tunnel.Kind}
	if a.Key.Client.Addr().Is4() {
		k.is4 |= 1
	}
	if a.Key.Server.Addr().Is4() {
		k.is4 |= 2
	}
	return k
}

// TestArrivalIsTheAttempt reads what a Stream needs of packed attempts
// (arrival) and holds it to the attempts: their key, options and times,
// and the clock offset their clock facts give, pair after pair (each
// client attempt of the mix with its own server attempt, another's, and
// itself), pair by pair and all in turn, to Join's from the attempts.
func TestArrivalIsTheAttempt(t *testing.T) {
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
	var want, got offsetBounds
	var ac, as arrival
	read := 0
	for i, p := range pairs {
		for _, x := range []struct {
			a   *flows.Attempt
			arr *arrival
		}{{p.c, &ac}, {p.s, &as}} {
			if err := pk.arrival(pk.Pack(nil, x.a), x.arr); err != nil {
				t.Fatal(err)
			}
			h := x.arr
			if h.key != keyOf(x.a) || h.first != nanos(x.a.SYN.First) || h.end != nanos(x.a.End) || h.idled != (x.a.EndedBy == flows.EndIdle) ||
				h.opts != x.a.SYNOpts || h.ipid != x.a.SYN.IPID {
				t.Fatalf("pair %d: arrival %+v of %+v", i, h, x.a)
			}
		}
		var one, oneWant offsetBounds
		oneWant.add(p.c, p.s)
		want.add(p.c, p.s)
		if ac.clock.ok && as.clock.ok {
			one.addFacts(&ac.clock, &as.clock, ac.first, as.first)
			got.addFacts(&ac.clock, &as.clock, ac.first, as.first)
			read++
		} else {
			one.add(p.c, p.s)
			got.add(p.c, p.s)
		}
		if one != oneWant || got != want {
			t.Fatalf("pair %d: bounds %+v (all so far %+v), from the attempts %+v (%+v)", i, one, got, oneWant, want)
		}
	}
	if read < len(pairs)*9/10 {
		t.Errorf("only %d of %d pairs read as clock facts", read, len(pairs))
	}
}

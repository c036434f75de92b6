package cmd

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cmd/testdata/midpath holds real captures taken in the middle of the
// path (make.sh), between two routers. tap.pcap is taken on the link
// between them, where packets both ways have crossed a router, as one on
// a SPAN port; any.pcap is the first router's tcpdump -i any, as one on a
// firewall, holding what it forwards twice. The TTLs cannot tell which
// end either is at. Judged as if taken on the client, tap.pcap had proven
// the client host guilty of ignoring SYN-ACKs that the capture only saw
// pass: port 83's were dropped by the router after the capture point (the
// return path), port 84's by the client's own firewall, and the capture
// cannot tell the two apart. SYNs to an address that never answered,
// dropped past the capture point, were judged as if taken on that server:
// the server host dropped them (likely). any.pcap was taken for a client's
// and a server's capture merged, its far side for the server's, with the
// same blames; it shows port 83's SYN-ACKs reaching the router and never
// leaving it, which tells where they were dropped. nat-*.pcap are the same
// with the router translating the client's address: its -i any holds each
// connection twice, under two address pairs, and the server's answers
// with two TTLs (as they came and passed on), which had made the server's
// RST to port 81 a firewall's on the way. Told it is the client's
// (--client), the user's word settles it. The router's own capture also
// holds the SYNs to port 86 its firewall dropped, as it received them
// (tcpdump -i any writes each packet's direction) and never as sent on,
// though it passed on SYNs to that server: they were dropped there; and,
// translating, port 83's SYN-ACKs received under the translated addresses
// and never passed back; port 84's passed on to the client, on the
// router's own link, and never answered: the client host's doing. Before directions were read, port 86's SYNs were
// a client's unanswered SYNs, unplaced, port 83's end through the
// translating router unplaced, and the client's side of it a client's
// capture, which proved the client host guilty of port 84's and 85's ends.
// dnat-*.pcap are the same with the router translating the server's
// address instead, as a Kubernetes node does for a service (192.0.2.100 to
// 203.0.113.5): the copies are paired across it by sequence numbers, and
// the router's capture places each end as above, under both addresses.
// Port 87's SYNs the router rejects itself with a RST in the server's
// name (REJECT --reject-with tcp-reset): seen leaving it, which routes to
// that server, the path's, likely; translating the server's address, it
// may stand for that address, and the RST be the server's. So too in the
// dnat- round for its own address, 198.51.100.1, as a Kubernetes node's:
// port 30080 it forwards to the server's 88, 30081 its kernel refuses,
// from nearer than 88's SYN-ACKs: from a client's capture, a firewall's
// RST looks the same.
//
// CI remakes the captures on its own kernel and runs this test on them
// too (SYNPATH_REMADE_MIDPATH names the directory make.sh wrote them into),
// and on what synpath live, run on the router beside its tcpdump -i any,
// said (live.json, nat-live.json): the same, the packet type read from
// the AF_PACKET ring as from the file's cooked headers.
func TestMidPathCapture(t *testing.T) {
	dir := filepath.Join("testdata", "midpath")
	remade := os.Getenv("SYNPATH_REMADE_MIDPATH")
	if remade != "" {
		dir = remade
		keepIfFailed(t, remade)
	}
	type want struct {
		vantage, verdict, where, confidence, origin string
		candidates                                  []string
	}
	lostAfterTap := want{"unknown", "timeout", "unknown", "", "", []string{"return-path", "client"}}
	unanswered := want{"unknown", "timeout", "unknown", "", "", []string{"outbound-path", "server", "return-path"}}
	// Keyed by server; for a capture of the translating router, by client
	// address and server: the client's side (198.51.100.10) and the
	// translated one (192.0.2.1).
	unplaced := map[string]want{
		"203.0.113.5:80": {"unknown", "established", "none", "proven", "", []string{}},
		"203.0.113.5:81": {"unknown", "refused", "server", "likely", "server", []string{"server"}},
		"203.0.113.5:83": lostAfterTap,
		"203.0.113.5:84": lostAfterTap,
		// Its TTL matches the client's SYN, but it was not seen leaving
		// the client.
		"203.0.113.5:85": {"unknown", "aborted", "client", "likely", "client", []string{"client"}},
		"203.0.113.7:80": unanswered,
	}
	// The router's own capture shows the SYN-ACKs it dropped coming in and
	// never going out.
	dropsOwn := maps.Clone(unplaced)
	dropsOwn["203.0.113.5:83"] = want{"unknown", "timeout", "return-path", "likely", "", []string{"return-path"}}
	dropsOwn["203.0.113.5:86"] = want{"unknown", "timeout", "outbound-path", "likely", "", []string{"outbound-path"}}
	// Port 87's RST it sent itself, in the server's name, and never
	// received, though it routes to that server: seen leaving its sender,
	// which most likely is not the server.
	dropsOwn["203.0.113.5:87"] = want{"unknown", "refused", "outbound-path", "likely", "path", []string{"outbound-path"}}
	// And port 84's SYN-ACKs passed on to the client, on the router's own
	// link (the client's SYNs arrive undecremented), never answered.
	dropsOwn["203.0.113.5:84"] = want{"unknown", "timeout", "client", "likely", "", []string{"client"}}
	client := map[string]want{
		"203.0.113.5:80": {"client", "established", "none", "proven", "", []string{}},
		"203.0.113.5:81": {"client", "refused", "server", "likely", "server", []string{"server"}},
		"203.0.113.5:83": {"client", "timeout", "client", "proven", "", []string{"client"}},
		"203.0.113.5:84": {"client", "timeout", "client", "proven", "", []string{"client"}},
		"203.0.113.5:85": {"client", "aborted", "client", "proven", "client", []string{"client"}},
		"203.0.113.7:80": {"client", "timeout", "unknown", "", "", []string{"outbound-path", "server", "return-path"}},
	}
	// Told it is the server's (--server), as a capture taken on a host in
	// front of the server would be given: the server's RST to port 81
	// arrives from as far as its SYN-ACKs (a hop), and is its own, not
	// "forged near the server".
	server := map[string]want{
		"203.0.113.5:80": {"server", "established", "none", "proven", "", []string{}},
		"203.0.113.5:81": {"server", "refused", "server", "likely", "server", []string{"server"}},
		"203.0.113.5:83": {"server", "timeout", "unknown", "", "", []string{"return-path", "client"}},
		"203.0.113.5:84": {"server", "timeout", "unknown", "", "", []string{"return-path", "client"}},
		"203.0.113.5:85": {"server", "aborted", "client", "likely", "client", []string{"client"}},
		"203.0.113.7:80": {"server", "timeout", "server", "likely", "", []string{"server", "return-path"}},
	}
	// The translating router's capture holds the client's side of each
	// connection as the router received it: not the client's capture,
	// though the client is adjacent (its SYNs undecremented); the
	// translated side is in the middle.
	translated := map[string]want{}
	for server, w := range unplaced {
		translated["192.0.2.1 "+server] = w
	}
	translated["198.51.100.10 203.0.113.5:80"] = unplaced["203.0.113.5:80"]
	translated["198.51.100.10 203.0.113.5:81"] = unplaced["203.0.113.5:81"]
	// It shows port 83's SYN-ACKs coming back under the translated
	// addresses and never passed back under the client's.
	translated["198.51.100.10 203.0.113.5:83"] = dropsOwn["203.0.113.5:83"]
	translated["192.0.2.1 203.0.113.5:83"] = dropsOwn["203.0.113.5:83"]
	translated["198.51.100.10 203.0.113.5:84"] = dropsOwn["203.0.113.5:84"]
	translated["192.0.2.1 203.0.113.5:84"] = dropsOwn["203.0.113.5:84"]
	translated["198.51.100.10 203.0.113.5:85"] = unplaced["203.0.113.5:85"]
	translated["198.51.100.10 203.0.113.7:80"] = unanswered
	translated["198.51.100.10 203.0.113.5:86"] = dropsOwn["203.0.113.5:86"]
	translated["198.51.100.10 203.0.113.5:87"] = dropsOwn["203.0.113.5:87"]
	// check holds each attempt's last line to wants: live prints a
	// provisional line for an attempt quiet for a while, and an update
	// ("update": true) when its final verdict differs.
	check := func(t *testing.T, stdout, file string, byClient bool, wants map[string]want) {
		t.Helper()
		type line struct {
			r    map[string]any
			desc string
		}
		last := map[string]line{}
		eachAttempt(t, stdout, file, func(r map[string]any, _, desc string) {
			key := r["server"].(string)
			if byClient {
				c := r["client"].(string)
				key = c[:strings.LastIndex(c, ":")] + " " + key
			}
			if _, ok := last[key]; ok && r["update"] != true {
				t.Errorf("a second line for %s, not an update: %s", key, desc)
			}
			last[key] = line{r, desc}
		})
		for key, l := range last {
			r, desc := l.r, l.desc
			w, ok := wants[key]
			if !ok {
				t.Errorf("unexpected attempt: %s", desc)
				continue
			}
			if r["vantage"] != w.vantage || r["verdict"] != w.verdict || r["where"] != w.where || r["where_confidence"] != w.confidence ||
				r["rst_origin"] != w.origin || !slices.Equal(anyStrings(r["candidates"]), w.candidates) {
				t.Errorf("want %s vantage, %s/%s (%s) among %v, rst_origin %q: %s (vantage %v)", w.vantage, w.verdict, w.where, w.confidence, w.candidates, w.origin, desc, r["vantage"])
			}
		}
		for key := range wants {
			if _, ok := last[key]; !ok {
				t.Errorf("no attempt %s", key)
			}
		}
	}
	// Translating the server's address (192.0.2.100, a service's, to
	// 203.0.113.5), the router's capture holds each connection under both
	// servers; the link past it, under the real one.
	dnat := map[string]want{}
	for server, w := range dropsOwn {
		dnat[server] = w
		if strings.HasPrefix(server, "203.0.113.5:") {
			dnat["192.0.2.100:"+strings.TrimPrefix(server, "203.0.113.5:")] = w
		}
	}
	delete(dnat, "203.0.113.5:86") // never sent on: no attempt under the real address
	delete(dnat, "203.0.113.5:87")
	// The router passes 192.0.2.100's connections on only translated: it
	// may stand for that address (a Kubernetes node's NodePort), its drop
	// and its RST the server's, or redirect some ports of a host it routes
	// to, and they be the path's.
	dnat["192.0.2.100:86"] = want{"unknown", "timeout", "unknown", "", "", []string{"outbound-path", "server"}}
	dnat["192.0.2.100:87"] = want{"unknown", "refused", "unknown", "", "unknown", []string{"server", "outbound-path"}}
	// Its own address's port 30080 it forwards to the server's 88 (a
	// NodePort); 30081 it refuses itself, from nearer than those SYN-ACKs.
	dnat["198.51.100.1:30080"] = unplaced["203.0.113.5:80"]
	dnat["203.0.113.5:88"] = unplaced["203.0.113.5:80"]
	dnat["198.51.100.1:30081"] = dnat["192.0.2.100:87"]
	dnatTap := maps.Clone(unplaced)
	dnatTap["203.0.113.5:88"] = unplaced["203.0.113.5:80"]
	for _, tc := range []struct {
		name     string
		args     []string
		byClient bool
		wants    map[string]want
	}{
		{"between the routers", []string{"tap.pcap"}, false, unplaced},
		{"a router's tcpdump -i any", []string{"any.pcap"}, false, dropsOwn},
		// A CI run's: at port 84 the router passed on the client's resent
		// SYN and the server's SYN-ACK at once, recorded in, in, out, out
		// (frames 41-45); each copy was counted as a packet of its own.
		// Committed, not remade: it takes that coincidence.
		{"a router's tcpdump -i any, copies interleaved", []string{"any-interleaved.pcap"}, false, dropsOwn},
		{"--client", []string{"--client", "tap.pcap"}, false, client},
		{"--server", []string{"--server", "tap.pcap"}, false, server},
		{"between the routers, the client translated", []string{"nat-tap.pcap"}, false, unplaced},
		{"a translating router's tcpdump -i any", []string{"nat-any.pcap"}, true, translated},
		{"between the routers, the server translated", []string{"dnat-tap.pcap"}, false, dnatTap},
		{"a router's tcpdump -i any, translating the server", []string{"dnat-any.pcap"}, false, dnat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := slices.Clone(tc.args)
			file := filepath.Join(dir, args[len(args)-1])
			if strings.HasSuffix(file, "-interleaved.pcap") {
				file = filepath.Join("testdata", "midpath", args[len(args)-1])
			}
			args[len(args)-1] = file
			_, stdout, stderr := runMain(append([]string{"analyze", "--format", "json"}, args...)...)
			if strings.Contains(stderr, "holds both ends") {
				t.Errorf("taken for both ends' captures merged:\n%s", stderr)
			}
			check(t, stdout, file, tc.byClient, tc.wants)
		})
	}
	if remade == "" {
		return
	}
	// What synpath live said on the router, beside its tcpdump -i any:
	// this build's output, in the remade directory only.
	for name, byClient := range map[string]bool{"live.json": false, "nat-live.json": true, "dnat-live.json": false} {
		t.Run("synpath live -i any on the router: "+name, func(t *testing.T) {
			live := filepath.Join(dir, name)
			b, err := os.ReadFile(live)
			if err != nil {
				t.Fatal(err)
			}
			wants := dropsOwn
			switch {
			case byClient:
				wants = translated
			case strings.HasPrefix(name, "dnat-"):
				wants = dnat
			}
			check(t, string(b), live, byClient, wants)
		})
	}
}

// TestMidPathTranslatedViews: a translating router's capture holds each
// connection it passed on twice, under the client's addresses and under
// the ones it translated them to. Each view names the other's in "nat"
// (client_seen_by_server / server_seen_by_server in the client's view,
// client_seen_by_client / server_seen_by_client in the translated one),
// so that a store counts each connection once and a filter finds both.
func TestMidPathTranslatedViews(t *testing.T) {
	dir := filepath.Join("testdata", "midpath")
	if remade := os.Getenv("SYNPATH_REMADE_MIDPATH"); remade != "" {
		dir = remade
	}
	for _, tc := range []struct {
		file      string
		translate string // the field naming the translated address in the client's view
		back      string // the field naming the client's in the translated view
	}{
		{"nat-any.pcap", "client_seen_by_server", "client_seen_by_client"},
		{"dnat-any.pcap", "server_seen_by_server", "server_seen_by_client"},
		{"any.pcap", "", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			file := filepath.Join(dir, tc.file)
			_, stdout, _ := runMain("analyze", "--format", "json", file)
			type view struct{ client, server, other string }
			var views []view
			eachAttempt(t, stdout, file, func(r map[string]any, _, desc string) {
				nat := r["nat"].(map[string]any)
				v := view{client: r["client"].(string), server: r["server"].(string)}
				for k, x := range nat {
					if k != tc.translate && k != tc.back {
						t.Errorf("nat %s: %s", k, desc)
					}
					v.other = k + " " + x.(string)
				}
				views = append(views, v)
			})
			pairs := 0
			for _, v := range views {
				if v.other == "" || !strings.HasPrefix(v.other, tc.translate+" ") {
					continue
				}
				// The translated view: the same connection under the
				// other address, naming this one back.
				addr := strings.TrimPrefix(v.other, tc.translate+" ")
				want := view{client: v.client, server: addr, other: tc.back + " " + v.server}
				if strings.HasPrefix(tc.translate, "client") {
					want = view{client: addr, server: v.server, other: tc.back + " " + v.client}
				}
				if !slices.Contains(views, want) {
					t.Errorf("%v: no translated view %v", v, want)
				}
				pairs++
			}
			// 80, 81, 83, 84, 85 and .7 passed on translated (SNAT), or
			// all but .7's, and 30080's to 88 (DNAT); 86 and 87 never
			// passed on; none untranslated.
			if want := map[string]int{"nat-any.pcap": 6, "dnat-any.pcap": 6}[tc.file]; pairs != want {
				t.Errorf("%d connections seen under two address pairs, want %d", pairs, want)
			}
			// The table lists and counts each connection once, under its
			// client's addresses, and says so.
			_, table, _ := runMain("analyze", "--rows", "0", file)
			translatedAs := map[string]string{"nat-any.pcap": "192.0.2.1:", "dnat-any.pcap": "→ 203.0.113.5:"}[tc.file]
			said := fmt.Sprintf("%d of these connections are also in the capture", pairs)
			switch {
			case pairs > 0 && !strings.Contains(table, said):
				t.Errorf("the table does not say %q:\n%s", said, table)
			case pairs == 0 && strings.Contains(table, "of these connections are also"):
				t.Errorf("the table speaks of translated views:\n%s", table)
			case translatedAs != "" && strings.Contains(table, translatedAs):
				t.Errorf("the table lists translated views (%s):\n%s", translatedAs, table)
			}
		})
	}
}

// keepIfFailed copies captures remade for a test (CI deletes them when it
// ends) to a directory of their own if the test fails, and names it: a
// real capture that fails a rule is the evidence to judge the rule by.
func keepIfFailed(t *testing.T, dir string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		kept, err := os.MkdirTemp("", "synpath-failed-"+filepath.Base(t.Name())+"-")
		if err == nil {
			err = os.CopyFS(kept, os.DirFS(dir))
		}
		if err != nil {
			t.Logf("keeping the captures of %s: %v", dir, err)
			return
		}
		t.Logf("the captures it failed on are kept in %s", kept)
	})
}

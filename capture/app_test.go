package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// appFile is a real capture, taken on the client (198.51.100.10) in a
// network namespace: dig against a small DNS server (203.0.113.53) that
// answers ok.example with two addresses, nx* with NXDOMAIN and fail* with
// SERVFAIL, and leaves the last query (quit.example) unanswered; then
// openssl s_client -servername blocked.example against openssl s_server,
// and curl http://shop.example/ against a server answering 504.
const appFile = "testdata/app-dns.pcap"

// Frames of appFile, 1-based as Wireshark numbers them.
const (
	appDNSOK          = 2  // response: ok.example A 203.0.113.5, 203.0.113.6 (compressed names)
	appDNSNX          = 4  // response: nxname.example NXDOMAIN
	appTLSClientHello = 12 // ClientHello, SNI blocked.example
	appHTTPRequest    = 29 // GET / HTTP/1.1, Host: shop.example
	appHTTPResponse   = 31 // HTTP/1.1 504 Gateway Timeout
)

// realFrames returns the Ethernet frames of appFile.
func realFrames() [][]byte {
	f, err := os.Open(appFile)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		panic(err)
	}
	var frames [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			panic(err)
		}
		frames = append(frames, data)
	}
}

// tcpPayload is the payload of an Ethernet frame holding IPv4 and TCP.
func tcpPayload(fr []byte) []byte {
	ip := fr[14:]
	l4 := ip[int(ip[0]&0xf)*4 : binary.BigEndian.Uint16(ip[2:4])]
	return l4[int(l4[12]>>4)*4:]
}

// summary is a line per packet of what decode made of it beyond TCP.
func summary(p *Packet) string {
	var b strings.Builder
	if p.HasDNS() {
		d := &p.DNS
		fmt.Fprintf(&b, "dns id=%d qr=%v rcode=%d %s/%d", d.ID, d.Response, d.RCode, d.Name, d.QType)
		if d.NAddrs > 0 {
			fmt.Fprintf(&b, " %v ttl=%d", d.Addrs[:d.NAddrs], d.TTL)
		}
		if d.MoreAddrs {
			b.WriteString(" more")
		}
		if d.Cut {
			b.WriteString(" cut")
		}
		if d.TCP {
			b.WriteString(" tcp")
		}
	}
	if a := p.App; a.Kind != 0 {
		fmt.Fprintf(&b, "%v %q", a.Kind, a.Name.String())
		if a.Status != 0 {
			fmt.Fprintf(&b, " %d", a.Status)
		}
		if a.Partial {
			b.WriteString(" partial")
		}
		if a.Name.Cut {
			b.WriteString(" name-cut")
		}
	}
	return b.String()
}

func TestRealCapture(t *testing.T) {
	r, err := Open(appFile)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[uint64]string{}
	var p Packet
	for err = r.Next(&p); err == nil; err = r.Next(&p) {
		if s := summary(&p); s != "" {
			got[p.N] = s
		}
		if p.Kind == KindDNS && (p.Src.Port() != 53 && p.Dst.Port() != 53) {
			t.Errorf("%d: DNS between %v and %v", p.N, p.Src, p.Dst)
		}
	}
	want := map[uint64]string{
		1:  "dns id=18996 qr=false rcode=0 ok.example/1",
		2:  "dns id=18996 qr=true rcode=0 ok.example/1 [203.0.113.5 203.0.113.6] ttl=300",
		3:  "dns id=42674 qr=false rcode=0 nxname.example/1",
		4:  "dns id=42674 qr=true rcode=3 nxname.example/1",
		5:  "dns id=60872 qr=false rcode=0 failname.example/28",
		6:  "dns id=60872 qr=true rcode=2 failname.example/28",
		7:  "dns id=21249 qr=false rcode=0 ok.example/28", // asked as Ok.Example
		8:  "dns id=21249 qr=true rcode=0 ok.example/28",
		12: `tls-client-hello "blocked.example"`,
		29: `http-request "shop.example"`,
		31: `http-response "" 504`,
		36: "dns id=43268 qr=false rcode=0 quit.example/1",
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("frame %d: got %q, want %q", n, got[n], w)
		}
	}
	for n, g := range got {
		if want[n] == "" {
			t.Errorf("frame %d: unexpected %q", n, g)
		}
	}
	if st := r.Stats(); st.DNS != 9 || st.TCP != 27 {
		t.Errorf("stats %+v", st)
	}
}

// TestClientHelloSplit reads a real ClientHello cut into segments of 108
// bytes (openssl s_client over a route with MTU 160, in a namespace): the
// SNI is in the second segment, so the first says it was not seen.
func TestClientHelloSplit(t *testing.T) {
	r, err := Open("testdata/tls-split-hello.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	var p Packet
	for err = r.Next(&p); err == nil; err = r.Next(&p) {
		got = append(got, summary(&p))
	}
	want := []string{"", "", "", `tls-client-hello "" partial`, "", ""}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestClientHello(t *testing.T) {
	real := tcpPayload(realFrames()[appTLSClientHello-1])
	split := clientHelloRecord("split.example")
	// The same handshake in two records, the first ending before the SNI.
	split = append(append(append([]byte{}, split[:3]...), 0, 60), split[5:65]...)
	split = append(split, 0x16, 3, 3, 0, byte(len(clientHelloRecord("split.example"))-65))
	split = append(split, clientHelloRecord("split.example")[65:]...)
	long := strings.Repeat("a", 70) + ".example"
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"real", real, `tls-client-hello "blocked.example"`},
		{"built", clientHelloRecord("Shop.Example"), `tls-client-hello "shop.example"`},
		{"no sni", clientHelloRecord(""), `tls-client-hello ""`},
		{"long sni", clientHelloRecord(long), fmt.Sprintf("tls-client-hello %q name-cut", long[:NameLen])},
		{"cut before sni", real[:120], `tls-client-hello "" partial`},
		{"cut in sni", clientHelloRecord("blocked.example")[:len(clientHelloRecord("blocked.example"))-3], `tls-client-hello "blocked.exam" name-cut`},
		{"split over records", split, `tls-client-hello "" partial`},
		{"server hello", append([]byte{0x16, 3, 3, 0, 40, 2}, make([]byte, 39)...), ""},
		{"application data", append([]byte{0x17, 3, 3, 0, 40}, make([]byte, 40)...), ""},
		{"record header only", real[:5], ""},
		{"no extensions", func() []byte {
			h := clientHelloRecord("")
			h = h[:len(h)-10] // drop the extensions and their length
			binary.BigEndian.PutUint16(h[3:5], uint16(len(h)-5))
			h[6], h[7], h[8] = 0, byte((len(h)-9)>>8), byte(len(h)-9)
			return h
		}(), `tls-client-hello ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			app(&p.App, tt.in)
			if got := summary(&p); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	// Any cut of the real hello is read without a panic, and says either
	// the name or that it was not seen.
	for n := 1; n <= len(real); n++ {
		var a AppInfo
		app(&a, real[:n])
		if n >= 6 && (a.Kind != AppTLSClientHello || (a.Name.Len() == 0) != a.Partial) {
			t.Fatalf("cut at %d: %+v", n, a)
		}
		if a.Name.Len() > 0 && !strings.HasPrefix("blocked.example", a.Name.String()) {
			t.Fatalf("cut at %d: name %q", n, a.Name.String())
		}
	}
}

func TestHTTP(t *testing.T) {
	frames := realFrames()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"real request", string(tcpPayload(frames[appHTTPRequest-1])), `http-request "shop.example"`},
		{"real response", string(tcpPayload(frames[appHTTPResponse-1])), `http-response "" 504`},
		{"host case and spaces", "POST /x HTTP/1.0\r\nUser-Agent: y\r\nHOST:  Api.Example:8080 \r\n\r\n", `http-request "api.example:8080"`},
		{"bare LF", "HEAD / HTTP/1.1\nHost: a.example\n\n", `http-request "a.example"`},
		{"no host", "GET / HTTP/1.0\r\nAccept: */*\r\n\r\n", `http-request ""`},
		{"header cut", "GET / HTTP/1.1\r\nUser-Agent: curl/8\r\nAcc", `http-request "" partial`},
		{"request line cut", "GET /very/long/pa", `http-request "" partial`},
		{"connect", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", `http-request "a.example:443"`},
		{"not http", "GET / FTP/1.1\r\nHost: x\r\n\r\n", ""},
		{"http2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ""},
		{"lowercase method", "get / HTTP/1.1\r\nHost: x\r\n\r\n", ""},
		{"response 200", "HTTP/1.0 200 OK\r\n\r\n", `http-response "" 200`},
		{"response cut", "HTTP/1.1 502", `http-response "" 502`},
		{"response no reason", "HTTP/1.1 503\r\n", `http-response "" 503`},
		{"response bad code", "HTTP/1.1 5x4 Oops\r\n", ""},
		{"response too short", "HTTP/1.1 50", ""},
		{"binary", "\x00\x01GET", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			app(&p.App, []byte(tt.in))
			if got := summary(&p); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDNS(t *testing.T) {
	frames := realFrames()
	cli := netip.MustParseAddrPort("198.51.100.10:53124")
	res := netip.MustParseAddrPort("203.0.113.53:53")
	cli6 := netip.MustParseAddrPort("[2001:db8::10]:53124")
	res6 := netip.MustParseAddrPort("[2001:db8::53]:53")
	eth := func(ip []byte) []byte { return frame(linkEthernet, ip) }
	resp := func(rcode int, addrs ...string) []byte {
		return eth(udpIP(res, cli, dnsMessage(7, "www.Example.org", QTypeA, rcode, 60, addrs...)))
	}
	realOK := frames[appDNSOK-1]
	// Name at 12 pointing at itself, then at an earlier pointer loop, and forwards.
	loop := func(ptr uint16) []byte {
		m := []byte{0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0 | byte(ptr>>8), byte(ptr), 0, 1, 0, 1}
		return eth(udpIP(cli, res, m))
	}
	tcpDNS := func(msg []byte, n int) []byte {
		s := seg{src: res, dst: cli, flags: FlagACK | FlagPSH, seq: 1, ack: 1, win: 500, ttl: 64}
		s.data = append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)[:n]
		return eth(s.ip())
	}
	full := dnsMessage(7, "www.example.org", QTypeAAAA, 0, 30, "2001:db8::5")
	tests := []struct {
		name  string
		frame []byte
		cut   bool
		class class
		want  string
	}{
		{"real compressed", realOK, false, classDNS, "dns id=18996 qr=true rcode=0 ok.example/1 [203.0.113.5 203.0.113.6] ttl=300"},
		{"real nxdomain", frames[appDNSNX-1], false, classDNS, "dns id=42674 qr=true rcode=3 nxname.example/1"},
		{"query", eth(udpIP(cli, res, dnsMessage(7, "www.example.org", QTypeA, -1, 0))), false, classDNS, "dns id=7 qr=false rcode=0 www.example.org/1"},
		{"five addresses", resp(0, "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"), false, classDNS,
			"dns id=7 qr=true rcode=0 www.example.org/1 [192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4] ttl=60 more"},
		{"servfail", resp(2), false, classDNS, "dns id=7 qr=true rcode=2 www.example.org/1"},
		{"refused v6", eth(udpIP(res6, cli6, dnsMessage(8, "a.example", QTypeAAAA, 5, 0))), false, classDNS, "dns id=8 qr=true rcode=5 a.example/28"},
		{"aaaa", eth(udpIP(res6, cli6, full)), false, classDNS, "dns id=7 qr=true rcode=0 www.example.org/28 [2001:db8::5] ttl=30"},
		{"cut in answers", realOK[:len(realOK)-6], true, classDNS, "dns id=18996 qr=true rcode=0 ok.example/1 [203.0.113.5] ttl=300 cut"},
		{"cut in question", realOK[:14+20+8+12+5], true, classDNS, "dns id=18996 qr=true rcode=0 ok/0 cut"},
		{"cut in header", realOK[:14+20+8+6], true, classSkipped, ""},
		{"short without cut", realOK[:len(realOK)-6], false, classMalformed, ""},
		{"header only", eth(udpIP(cli, res, make([]byte, 11))), false, classMalformed, ""},
		{"pointer to itself", loop(14), false, classMalformed, ""},
		{"pointer forwards", loop(16), false, classMalformed, ""},
		{"pointer past the end", loop(0x3fff), false, classMalformed, ""},
		{"tcp", tcpDNS(full, len(full)+2), false, classTCP, "dns id=7 qr=true rcode=0 www.example.org/28 [2001:db8::5] ttl=30 tcp"},
		{"tcp message continues", tcpDNS(full, len(full)-4), false, classTCP, "dns id=7 qr=true rcode=0 www.example.org/28 cut tcp"},
		{"tcp not a message start", tcpDNS(full, 10), false, classTCP, ""},
		{"other udp", eth(udpIP(netip.MustParseAddrPort("198.51.100.10:5353"), netip.MustParseAddrPort("203.0.113.53:5353"), full)), false, classSkipped, ""},
	}
	for _, e := range encaps {
		if e.link == linkEthernet && len(e.wrap(udpIP(cli, res, full))) == 1 {
			tests = append(tests, struct {
				name  string
				frame []byte
				cut   bool
				class class
				want  string
			}{"in " + e.name, e.wrap(udpIP(res, cli, full))[0], false, classDNS, "dns id=7 qr=true rcode=0 www.example.org/28 [2001:db8::5] ttl=30"})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			c := decode(&p, linkEthernet, tt.frame, tt.cut)
			if c != tt.class {
				t.Fatalf("class %d, want %d", c, tt.class)
			}
			if got := summary(&p); got != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
			if c == classDNS {
				if client, server := p.DNSEnds(); server.Port() != 53 || client.Port() == 53 {
					t.Errorf("ends %v %v", client, server)
				}
			}
		})
	}
}

// appPcap is a classic pcap of the DNS, TLS and HTTP frames of appFile,
// over and over: n records.
func appPcap(n int) []byte {
	frames := realFrames()
	pick := [][]byte{frames[0], frames[appDNSOK-1], frames[appDNSNX-1], frames[appTLSClientHello-1], frames[appHTTPRequest-1], frames[appHTTPResponse-1]}
	var rs []rec
	for i := range n {
		rs = append(rs, rec{data: pick[i%len(pick)]})
	}
	return pcapFile(binary.LittleEndian, false, linkEthernet, rs...)
}

func TestAppNoPayloadCost(t *testing.T) {
	// A bulk segment whose payload starts like nothing recognised leaves
	// App zero; one starting with 0x16 but no hello too.
	for _, pl := range [][]byte{bytes.Repeat([]byte{'G'}, 1400), {0x16}, {0x16, 3, 1, 0}, []byte("H")} {
		var a AppInfo
		app(&a, pl)
		if a != (AppInfo{}) {
			t.Errorf("%q: %+v", pl[:min(len(pl), 8)], a)
		}
	}
}

func TestName(t *testing.T) {
	n := NameOf("WWW.Example.ORG")
	if n.String() != "www.example.org" || n.Len() != 15 || n.Cut {
		t.Errorf("%q %d %v", n.String(), n.Len(), n.Cut)
	}
	long := strings.Repeat("x", NameLen+1)
	if n := NameOf(long); n.String() != long[:NameLen] || !n.Cut {
		t.Errorf("%q %v", n.String(), n.Cut)
	}
	if NameOf("a.example") != NameOf("A.EXAMPLE") {
		t.Error("names differing in case compare unequal")
	}
}

// TestNameAddBytes: appending a slice at once is appending it byte by
// byte, from any start, short or past NameLen.
func TestNameAddBytes(t *testing.T) {
	for _, start := range []string{"", "Ab.", strings.Repeat("y", NameLen-2), strings.Repeat("y", NameLen)} {
		for _, b := range []string{"", "Host.EXAMPLE:8080", "a-Z@[`{", strings.Repeat("Q", NameLen+3)} {
			want, got := NameOf(start), NameOf(start)
			for i := 0; i < len(b); i++ {
				want.add(b[i])
			}
			got.addBytes([]byte(b))
			if got != want {
				t.Errorf("%q + %q: %q cut %v, want %q cut %v", start, b, got.String(), got.Cut, want.String(), want.Cut)
			}
		}
	}
}

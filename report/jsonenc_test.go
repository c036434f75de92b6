package report

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/synpath/synpath/capture"
	"github.com/synpath/synpath/verdict"
)

// stdJSON is what encoding/json makes of a record: the contract.
func stdJSON(t testing.TB, rec *Record) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sampleResults() []verdict.Result {
	t0 := time.Date(2026, 11, 20, 14, 2, 31, 125001000, time.UTC)
	full := verdict.Result{
		Client: netip.MustParseAddrPort("198.51.100.10:40512"), Server: netip.MustParseAddrPort("[2001:db8::5]:443"),
		ISN: 4294967295, Verdict: verdict.Refused, Where: verdict.OutboundPath, Candidates: []verdict.Place{verdict.OutboundPath},
		RSTOrigin: verdict.OriginPath, OriginSure: verdict.Certain, ICMP: "admin-prohibited (ICMP 3/13) from 198.51.100.1",
		Vantage: verdict.VantageBoth, FirstSYN: t0, SYNSent: 4, SYNSeenByServer: 0, SYNACKSent: 0, SYNACKSeenByClient: 0,
		RTT: 1234567 * time.Nanosecond, ClockOffset: 37250*time.Millisecond + 7*time.Microsecond, ClockError: 13 * time.Microsecond, HasClockOffset: true,
		ClientSeenByServer: netip.MustParseAddrPort("192.0.2.1:61034"), ServerSeenByServer: netip.MustParseAddrPort("203.0.113.5:8080"),
		Match: "isn+syn-options (nat)", Settle: "a capture on the server would tell which",
		Cause: verdict.CauseDNS, FellBackTo: netip.MustParseAddrPort("203.0.113.9:443"), AnsweredFrom: netip.MustParseAddrPort("203.0.113.10:80"), SNI: "blocked.example", HTTPHost: "gw.\"example", HTTPStatus: 504,
		DNS: &verdict.Lookup{Name: "api.example", Answer: netip.MustParseAddr("203.0.113.7"), RCode: "NOERROR", Before: 12 * time.Millisecond,
			Stale: true, Current: netip.MustParseAddr("203.0.113.5")},
		Explanation: "Quotes \" and \\ backslashes, a tab\t, a newline\n, a bell\a, µs, → arrows, \u2028, <html> & \xff bad UTF-8.",
		Evidence: []verdict.Evidence{
			{Ref: capture.Ref{File: "c\"lient.pcap", N: 17, TS: t0}, What: "SYN", FromClient: true, TTL: 64},
			{Ref: capture.Ref{File: "client.pcap", N: 18, TS: t0.Add(time.Millisecond)}, What: "data", TTL: 63, Len: 1400},
			{Ref: capture.Ref{File: "client.pcap", N: 19, TS: t0.Add(2 * time.Millisecond)}, What: "ICMP admin-prohibited", FromClient: true, TTL: 254},
			{Ref: capture.Ref{File: "server.pcap", N: 20, TS: t0.Add(3 * time.Millisecond)}, What: "ICMP host-unreachable", TTL: 61},
		},
	}
	empty := verdict.Result{Verdict: verdict.Timeout, Where: verdict.Unknown, SYNSent: -1, SYNSeenByServer: -1, SYNACKSent: -1, SYNACKSeenByClient: -1, RTT: -1}
	oneSided := full
	oneSided.ClockError = -1
	oneSided.ClientSeenByServer = netip.AddrPort{}
	oneSided.Candidates = []verdict.Place{}
	oneSided.RTT = 0
	oneSided.ClockOffset = -10 * time.Minute
	oneSided.DNS = &verdict.Lookup{Name: "x", Answer: netip.MustParseAddr("2001:db8::5"), RCode: "NOERROR"}
	return []verdict.Result{full, empty, oneSided}
}

// oddResults are verdicts whose fields push the encoder to its edges:
// escapes in every string, file names changing from one packet to the
// next, times before 1970, past 9999, at whole seconds or in a zone,
// mapped and zoned addresses, durations that floats cannot hold exactly.
func oddResults() []verdict.Result {
	base := sampleResults()[0]
	t0 := base.FirstSYN
	var out []verdict.Result
	add := func(f func(r *verdict.Result)) {
		r := base
		r.Candidates = slices.Clone(base.Candidates)
		r.Evidence = slices.Clone(base.Evidence)
		dns := *base.DNS
		r.DNS = &dns
		f(&r)
		out = append(out, r)
	}
	add(func(r *verdict.Result) { r.Tunnel = capture.Tunnel{Kind: capture.TunnelVXLAN, ID: 100} })
	add(func(r *verdict.Result) { r.Tunnel = capture.Tunnel{Kind: capture.TunnelGRE, ID: 7} })
	add(func(r *verdict.Result) { r.Tunnel = capture.Tunnel{Kind: 200, ID: 1} })
	add(func(r *verdict.Result) {
		r.Verdict, r.Where, r.Cause = "we\"ird", "\x00", "\u2029"
		r.Candidates = []verdict.Place{"a\nb", "", "µ"}
		r.SNI, r.ICMP, r.Match, r.Settle, r.Explanation = "\x7f\x1f", "\xc3", "\xe2\x80", "\\", ""
	})
	files := []string{"client.pcap", "server.pcap", "dir/ta\tb\\x.pcap", "\xff.pcap", "µ→.pcap", "\u2028.pcap", "", "server.pcap"}
	times := []time.Time{
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC),
		t0.Truncate(time.Second),
		t0.In(time.FixedZone("x", 5*3600+1800)),
		t0.Add(time.Nanosecond),
		t0.Add(time.Second),
		t0,
		{},
		time.Date(12000, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(-3, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 20, 14, 2, 31, 999999500, time.UTC),
	}
	add(func(r *verdict.Result) {
		r.Evidence = nil
		for i, ts := range times {
			r.Evidence = append(r.Evidence, verdict.Evidence{Ref: capture.Ref{File: files[i%len(files)], N: uint64(i) << (4 * (i % 16)), TS: ts},
				What: files[(i+3)%len(files)], FromClient: i%3 == 0, TTL: uint8(i * 37), Len: uint32(i * i * 1000)})
		}
	})
	for _, ts := range times {
		add(func(r *verdict.Result) { r.FirstSYN = ts })
		add(func(r *verdict.Result) { r.FirstSYN, r.Evidence = ts, r.Evidence[:1] })
		add(func(r *verdict.Result) {
			r.FirstSYN, r.Evidence = time.Time{}, []verdict.Evidence{{Ref: capture.Ref{TS: ts}}}
		})
	}
	for _, a := range []string{"[::ffff:192.0.2.1]:80", "[fe80::1%eth0]:443", "[fe80::1%e\"t\\h]:1", "[2001:db8::1]:0", "0.0.0.0:0"} {
		ap := netip.MustParseAddrPort(a)
		add(func(r *verdict.Result) { r.Client = ap })
		add(func(r *verdict.Result) { r.Server = ap })
		add(func(r *verdict.Result) { r.ClientSeenByServer = ap })
		add(func(r *verdict.Result) { r.ServerSeenByClient = ap })
		add(func(r *verdict.Result) {
			r.DNS = &verdict.Lookup{Name: "n", Answer: ap.Addr(), Stale: true, Current: ap.Addr()}
		})
	}
	add(func(r *verdict.Result) { r.Client = netip.AddrPort{} })
	add(func(r *verdict.Result) { r.DNS = &verdict.Lookup{} })
	add(func(r *verdict.Result) { r.ServerSeenByServer, r.ClientSeenByServer = r.Server, r.Client })
	add(func(r *verdict.Result) { r.ClientSeenByClient, r.ServerSeenByClient = r.Server, r.Client })
	add(func(r *verdict.Result) { r.ServerSeenByServer, r.ClientSeenByClient = r.Server, r.Client })
	for _, d := range []time.Duration{0, 1, 499, 500, -500, 1500, 999999, 1000500, -1000500, 37250007000, 1 << 53, 1<<53 + 1000,
		1<<62 + 12345, -1 << 62, 1<<63 - 1, -1 << 63, 104 * 24 * time.Hour, 1e15, 123456789012345} {
		add(func(r *verdict.Result) {
			r.RTT, r.ClockOffset, r.ClockError = d, -d, d/3
			r.DNS.Before = d
		})
	}
	add(func(r *verdict.Result) { r.HasClockOffset, r.ClockError = false, 5 })
	add(func(r *verdict.Result) {
		r.SYNSent, r.SYNSeenByServer, r.SYNACKSent, r.SYNACKSeenByClient = 1<<40, -2, 0, 1
		r.HTTPStatus, r.ISN = -1, 0
	})
	return out
}

// checkWriter writes every result through one JSONWriter (what it keeps
// from line to line is exercised) and compares each line with what
// encoding/json makes of NewRecord.
func checkWriter(t *testing.T, rs []verdict.Result, l Live) {
	t.Helper()
	var out bytes.Buffer
	jw := NewJSONWriter(&out)
	bad := 0
	for i := range rs {
		out.Reset()
		if err := jw.WriteLive(&rs[i], l); err != nil {
			t.Fatal(err)
		}
		rec := NewRecord(&rs[i])
		rec.Update, rec.CaptureDrops = l.Update, l.CaptureDrops
		if want := stdJSON(t, &rec); !bytes.Equal(out.Bytes(), want) {
			t.Errorf("result %d %+v:\n got %s\nwant %s", i, l, out.Bytes(), want)
			if bad++; bad > 5 {
				t.FailNow()
			}
		}
	}
}

func TestJSONWriterMatchesEncodingJSON(t *testing.T) {
	for i, r := range sampleResults() {
		if rec := NewRecord(&r); (rec.WiresharkFilter == "" || rec.CommunityID == "") && r.Client.IsValid() {
			t.Errorf("result %d: no wireshark_filter or community_id", i)
		}
	}
	rs := append(sampleResults(), oddResults()...)
	rs = append(rs, rs...) // each again on a writer that has seen them
	for _, l := range []Live{{}, {Update: true, CaptureDrops: 12}} {
		checkWriter(t, rs, l)
	}
}

// TestJSONWriterMatchesEncodingJSONMix holds the writer to encoding/json
// over every verdict of a realistic mix, judged from the client capture
// and joined with the server's.
func TestJSONWriterMatchesEncodingJSONMix(t *testing.T) {
	mix, joined := mixSet()
	kinds := map[verdict.Verdict]bool{}
	for _, r := range mix {
		kinds[r.Verdict] = true
	}
	if len(kinds) < 7 {
		t.Errorf("the mix has %d verdicts: %v", len(kinds), kinds)
	}
	checkWriter(t, mix, Live{})
	checkWriter(t, joined, Live{})
}

// lineWriter records each Write: cmd's output buffer flushes between
// writes, so each must be one whole line.
type lineWriter struct{ writes [][]byte }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, slices.Clone(p))
	return len(p), nil
}

func TestJSONWriterOneWriteALine(t *testing.T) {
	mix, _ := mixSet()
	var w lineWriter
	jw := NewJSONWriter(&w)
	for i := range mix[:100] {
		jw.Write(&mix[i])
	}
	if len(w.writes) != 100 {
		t.Fatalf("%d writes for 100 lines", len(w.writes))
	}
	for i, p := range w.writes {
		if bytes.IndexByte(p, '\n') != len(p)-1 {
			t.Errorf("write %d is not one line: %q", i, p)
		}
	}
}

// TestJSONWriterAllocs: once warmed up, writing a line allocates nothing,
// whatever the verdict: lookups, NAT, tunnels and live fields included.
func TestJSONWriterAllocs(t *testing.T) {
	mix, joined := mixSet()
	samples := sampleResults()
	for i := range samples {
		samples[i].Tunnel = capture.Tunnel{Kind: capture.TunnelGeneve, ID: 5000}
	}
	for _, rs := range [][]verdict.Result{mix, joined, samples} {
		jw := NewJSONWriter(io.Discard)
		n := testing.AllocsPerRun(3, func() {
			for i := range rs {
				jw.Write(&rs[i])
			}
		})
		if n != 0 {
			t.Errorf("%v allocations over %d lines", n, len(rs))
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\n\r\t\b\f\x00\x1f", "µ→✗", "\u2028\u2029", "\xff\xfe", "<>&",
		"long enough to be read eight bytes at a time, µ\"\x01\xff\u2028 and then some"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 256 { // longer ones teach nothing and take long to minimize
			return
		}
		r := verdict.Result{Verdict: verdict.Verdict(s), Explanation: s, ICMP: s, SNI: s, Candidates: []verdict.Place{verdict.Place(s)},
			Evidence: []verdict.Evidence{{Ref: capture.Ref{File: s}, What: s}, {Ref: capture.Ref{File: s}, What: s}}}
		checkWriter(t, []verdict.Result{r}, Live{})
	})
}

func TestFloatsMatchEncodingJSON(t *testing.T) {
	for _, v := range []float64{0, 0.001, 1, 1.5, 37250.007, -600000, 1e-7, 123456789012.345, 1e21, 5e-324} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendFloat(nil, v); !bytes.Equal(got, want) {
			t.Errorf("%v: got %s, want %s", v, got, want)
		}
	}
}

func TestFormatTimeMatchesLayout(t *testing.T) {
	tms := []time.Time{
		time.Date(2026, 11, 20, 14, 2, 31, 125001000, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2038, 1, 19, 3, 14, 7, 999999999, time.FixedZone("x", 3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	}
	for _, r := range oddResults() {
		tms = append(tms, r.FirstSYN)
		for _, e := range r.Evidence {
			tms = append(tms, e.TS)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		tms = append(tms, time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)))
	}
	for _, tm := range tms {
		if got, want := formatTime(tm), tm.UTC().Format(TimeFormat); got != want {
			t.Errorf("formatTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

// TestSafeLen puts every byte at every place of a word read whole and of
// the tail read byte by byte.
func TestSafeLen(t *testing.T) {
	for c := range 256 {
		for at := range 20 {
			s := []byte(strings.Repeat("a~ ", 7))[:20]
			s[at] = byte(c)
			want := len(s)
			if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				want = at
			}
			if got := safeLen(string(s)); got != want {
				t.Errorf("byte %#x at %d: %d, want %d", c, at, got, want)
			}
			if got := safeLen(s); got != want {
				t.Errorf("byte %#x at %d, []byte: %d, want %d", c, at, got, want)
			}
		}
	}
}

func TestAppendUint(t *testing.T) {
	ns := []uint64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65535, 1<<32 - 1, 1<<64 - 1, 1e19, 1e19 - 1}
	for k := range 64 {
		ns = append(ns, 1<<k, 1<<k-1, 1<<k+1)
	}
	for p := uint64(1); p < 1e19; p *= 10 {
		ns = append(ns, p, p-1, p+1, p*10-1)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 10000 {
		ns = append(ns, rng.Uint64()>>rng.IntN(64))
	}
	for _, n := range ns {
		if got, want := string(appendUint(nil, n)), strconv.FormatUint(n, 10); got != want {
			t.Errorf("%d: %s", n, got)
		}
	}
}

// TestAppendMs holds the integer path to the float one.
func TestAppendMs(t *testing.T) {
	ds := []time.Duration{0, 1, 499, 500, 501, 1499, 1500, -500, -501, 999_999, 1_000_000, 1 << 43 * 1000, 1<<43*1000 - 501, -1<<43*1000 + 499}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		d := time.Duration(rng.Int64() >> rng.IntN(64))
		ds = append(ds, d, -d, d/1000*1000, d/1e6*1e6)
	}
	for _, d := range ds {
		if got, want := appendMs(nil, d), appendFloat(nil, msFloat(d)); !bytes.Equal(got, want) {
			t.Errorf("%d ns: %s, want %s", d, got, want)
		}
	}
}

// TestEvidenceDirIsTheWayAPacketTravelled: dir is c2s for a packet on its
// way to the server, s2c towards the client. An ICMP error quoting the
// client's SYN comes back towards the client (it was c2s, the quoted
// packet's way, as though the client had sent it); one quoting the
// server's SYN-ACK goes towards the server.
func TestEvidenceDirIsTheWayAPacketTravelled(t *testing.T) {
	var buf bytes.Buffer
	w := NewJSONWriter(&buf)
	r := sampleResults()[0]
	if err := w.Write(&r); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Evidence []struct{ What, Dir string }
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	want := []string{"SYN c2s", "data s2c", "ICMP admin-prohibited s2c", "ICMP host-unreachable c2s"}
	var got []string
	for _, e := range rec.Evidence {
		got = append(got, e.What+" "+e.Dir)
	}
	if !slices.Equal(got, want) {
		t.Errorf("evidence %q, want %q", got, want)
	}
}

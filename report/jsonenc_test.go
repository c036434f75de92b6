package report

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
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
		Cause: verdict.CauseDNS, SNI: "blocked.example", HTTPHost: "gw.\"example", HTTPStatus: 504,
		DNS: &verdict.Lookup{Name: "api.example", Answer: netip.MustParseAddr("203.0.113.7"), RCode: "NOERROR", Before: 12 * time.Millisecond,
			Stale: true, Current: netip.MustParseAddr("203.0.113.5")},
		Explanation: "Quotes \" and \\ backslashes, a tab\t, a newline\n, a bell\a, µs, → arrows, \u2028, <html> & \xff bad UTF-8.",
		Evidence: []verdict.Evidence{
			{Ref: capture.Ref{File: "c\"lient.pcap", N: 17, TS: t0}, What: "SYN", FromClient: true, TTL: 64},
			{Ref: capture.Ref{File: "client.pcap", N: 18, TS: t0.Add(time.Millisecond)}, What: "data", TTL: 63, Len: 1400},
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

func TestAppendRecordMatchesEncodingJSON(t *testing.T) {
	for i, r := range sampleResults() {
		if rec := NewRecord(&r); (rec.WiresharkFilter == "" || rec.CommunityID == "") && r.Client.IsValid() {
			t.Errorf("result %d: no wireshark_filter or community_id", i)
		}
		for _, l := range []Live{{}, {Update: true, CaptureDrops: 12}} {
			rec := NewRecord(&r)
			rec.Update, rec.CaptureDrops = l.Update, l.CaptureDrops
			got := appendRecord(nil, &rec, nil)
			if want := stdJSON(t, &rec); !bytes.Equal(got, want) {
				t.Errorf("result %d %+v:\n got %s\nwant %s", i, l, got, want)
			}
			// The writer's own path, which reuses one record and writes
			// addresses, times, filter and Community ID from the verdict.
			var out bytes.Buffer
			jw := NewJSONWriter(&out)
			for range 2 { // the second line on a reused record
				out.Reset()
				if err := jw.WriteLive(&r, l); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out.Bytes(), got) {
					t.Errorf("result %d %+v, JSONWriter:\n got %s\nwant %s", i, l, out.Bytes(), got)
				}
			}
		}
	}
}

func TestJSONWriterAllocs(t *testing.T) {
	r := sampleResults()[0]
	// A one-capture verdict: no lookup, tunnel or NAT, whose strings are made.
	r.DNS, r.Tunnel = nil, capture.Tunnel{}
	r.ClientSeenByServer, r.ServerSeenByServer = netip.AddrPort{}, netip.AddrPort{}
	jw := NewJSONWriter(io.Discard)
	if n := testing.AllocsPerRun(100, func() { jw.Write(&r) }); n != 0 {
		t.Errorf("%v allocations a line", n)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\n\r\t\b\f\x00\x1f", "µ→✗", "\u2028\u2029", "\xff\xfe", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 256 { // longer ones teach nothing and take long to minimize
			return
		}
		rec := Record{Client: s, Explanation: s, Evidence: []EvidenceJSON{{What: s}}, WiresharkFilter: s, CommunityID: s}
		if got, want := appendRecord(nil, &rec, nil), stdJSON(t, &rec); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

func TestFloatsMatchEncodingJSON(t *testing.T) {
	for _, v := range []float64{0, 0.001, 1, 1.5, 37250.007, -600000, 1e-7, 123456789012.345, 1e21, 5e-324} {
		rec := Record{RTTms: &v}
		if got, want := appendRecord(nil, &rec, nil), stdJSON(t, &rec); !bytes.Equal(got, want) {
			t.Errorf("%v:\n got %s\nwant %s", v, got, want)
		}
	}
}

func TestFormatTimeMatchesLayout(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 20, 14, 2, 31, 125001000, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2038, 1, 19, 3, 14, 7, 999999999, time.FixedZone("x", 3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	} {
		if got, want := formatTime(tm), tm.UTC().Format(TimeFormat); got != want {
			t.Errorf("formatTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

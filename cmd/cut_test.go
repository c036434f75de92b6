package cmd

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pcapRecords splits a little-endian microsecond pcap into its header and
// records, with their times; ok is false for other formats.
func pcapRecords(b []byte) (hdr []byte, recs [][]byte, times []time.Time, ok bool) {
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		return nil, nil, nil, false
	}
	hdr, b = b[:24], b[24:]
	for len(b) >= 16 {
		n := int(binary.LittleEndian.Uint32(b[8:]))
		if len(b) < 16+n {
			break
		}
		recs = append(recs, b[:16+n])
		times = append(times, time.Unix(int64(binary.LittleEndian.Uint32(b)), int64(binary.LittleEndian.Uint32(b[4:]))*1000))
		b = b[16+n:]
	}
	return hdr, recs, times, true
}

// TestCutServerCaptureBlamesNoPath cuts each lab scenario's server capture
// to start late, or to stop early, at several points, as engineers' captures
// do. No attempt the cut capture does not cover may be blamed on a path or
// the server: its joined verdict must be the client capture's own.
func TestCutServerCaptureBlamesNoPath(t *testing.T) {
	checked := 0
	defer func() {
		// The cuts must leave attempts outside, or the test proves nothing.
		if !t.Failed() && checked < 100 {
			t.Errorf("only %d attempts fell outside a cut server capture", checked)
		}
	}()
	for dir, tr := range loadTruths(t) {
		if tr.ClientFile == "" || tr.ServerFile == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, tr.ServerFile))
		if err != nil {
			t.Fatal(err)
		}
		hdr, recs, times, ok := pcapRecords(b)
		if !ok || len(recs) < 8 {
			continue
		}
		client := filepath.Join(dir, tr.ClientFile)
		alone := map[string]string{}
		for _, r := range runJSON(t, client) {
			alone[fmt.Sprint(r.Client, r.Server, r.ISN)] = r.Verdict + "/" + r.Where
		}
		for _, frac := range []int{25, 50, 75} {
			for _, late := range []bool{true, false} {
				cut := len(recs) * frac / 100
				keep := recs[cut:]
				from, to := times[cut], times[len(times)-1]
				if !late {
					keep, from, to = recs[:cut], times[0], times[cut-1]
				}
				name := fmt.Sprintf("%s/%s-%d%%", filepath.Base(dir), map[bool]string{true: "late", false: "early"}[late], frac)
				t.Run(name, func(t *testing.T) {
					server := filepath.Join(t.TempDir(), "server.pcap")
					out := append([]byte{}, hdr...)
					for _, r := range keep {
						out = append(out, r...)
					}
					if err := os.WriteFile(server, out, 0o644); err != nil {
						t.Fatal(err)
					}
					for _, r := range runJSON(t, "--client", client, "--server", server) {
						first, err := time.Parse(time.RFC3339Nano, r.FirstSYN)
						if err != nil {
							t.Fatal(err)
						}
						// Attempts wholly outside the kept span (with room for
						// the clock offset, 0 in the lab but for clock-skew).
						var last time.Time
						for _, e := range r.Evidence {
							if ts, err := time.Parse(time.RFC3339Nano, e.Time); err == nil && ts.After(last) {
								last = ts
							}
						}
						skew := time.Duration(0)
						if tr.Scenario == "clock-skew" {
							skew = 37250 * time.Millisecond
						}
						outside := last.Add(skew).Before(from.Add(-time.Second)) || first.Add(skew).After(to.Add(time.Second))
						if !outside {
							continue
						}
						checked++
						if got, want := r.Verdict+"/"+r.Where, alone[fmt.Sprint(r.Client, r.Server, r.ISN)]; got != want {
							t.Errorf("%s → %s: outside the server capture (%s to %s), judged %s; the client capture alone says %s\n%s",
								r.Client, r.Server, from.Format("15:04:05.000"), to.Format("15:04:05.000"), got, want, r.Explanation)
						}
					}
				})
			}
		}
	}
}

// TestCutCapturesBlameNoPathFalsely cuts either capture of each lab
// scenario, to start late or to stop early, at several points, and joins
// it with the other whole, and judges it alone. The cut may leave less to
// say, never a path to blame that the whole does not: every outbound-path
// or return-path named must be the scenario's own (truth.json, by ISN; of
// the capture's own view, alone).
// Two classes failed it: a server capture that started after the first
// SYN, across a NAT, left the attempt unmatched (its first SYN at the
// server was a resent one, with another timestamp) and its SYNs blamed on
// the way out; a client capture that stopped before a slow answer arrived
// had the answer blamed on the way back, though the server capture shows
// the client acknowledging it. A third, alone: a server capture begun
// while a client was resending its SYN took the client's silence after
// its last SYN for a client that got the SYN-ACK, and its final ACK for
// lost on the way out.
func TestCutCapturesBlameNoPathFalsely(t *testing.T) {
	claims, told := 0, 0
	defer func() {
		if !t.Failed() && claims < 50 {
			t.Errorf("only %d path claims checked: the cuts prove nothing", claims)
		}
		if !t.Failed() && told < 10 {
			t.Errorf("only %d attempts told by the server capture past the client's end", told)
		}
		t.Logf("%d path claims checked, %d attempts told by the server capture past the client's end", claims, told)
	}()
	for dir, tr := range loadTruths(t) {
		if tr.ClientFile == "" || tr.ServerFile == "" {
			continue
		}
		want, wantVerdict := map[uint32]string{}, map[uint32]string{}
		wantAlone := map[string]map[uint32]string{"client": {}, "server": {}}
		for _, a := range tr.Attempts {
			if a.Both != nil {
				want[a.ISN], wantVerdict[a.ISN] = a.Both.Where, a.Both.Verdict
				if a.ISNSeenByServer != 0 {
					want[a.ISNSeenByServer], wantVerdict[a.ISNSeenByServer] = a.Both.Where, a.Both.Verdict
				}
			}
			if a.ClientView != nil {
				wantAlone["client"][a.ISN] = a.ClientView.Where
			}
			if a.ServerView != nil {
				wantAlone["server"][a.ISN] = a.ServerView.Where
				if a.ISNSeenByServer != 0 {
					wantAlone["server"][a.ISNSeenByServer] = a.ServerView.Where
				}
			}
		}
		files := map[string]string{"client": filepath.Join(dir, tr.ClientFile), "server": filepath.Join(dir, tr.ServerFile)}
		for side, path := range files {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			hdr, recs, _, ok := pcapRecords(b)
			if !ok || len(recs) < 10 {
				continue
			}
			for _, frac := range []int{20, 40, 60, 80} {
				for _, late := range []bool{true, false} {
					cut := len(recs) * frac / 100
					keep := recs[:cut]
					if late {
						keep = recs[cut:]
					}
					out := append([]byte{}, hdr...)
					for _, r := range keep {
						out = append(out, r...)
					}
					cutPath := filepath.Join(t.TempDir(), side+".pcap")
					if err := os.WriteFile(cutPath, out, 0o644); err != nil {
						t.Fatal(err)
					}
					args := map[string][]string{
						"client": {"--client", cutPath, "--server", files["server"]},
						"server": {"--client", files["client"], "--server", cutPath},
					}[side]
					how := fmt.Sprintf("%s, its %s capture %s at %d%%", tr.Scenario, side, map[bool]string{true: "starting late", false: "stopping early"}[late], frac)
					for _, r := range runJSON(t, args...) {
						// Where the client capture ends first, the server's
						// tells how the connection went on: as the whole pair.
						if strings.Contains(r.Explanation, "The client capture ends before") {
							told++
							if w, ok := wantVerdict[r.ISN]; ok && (w != r.Verdict || want[r.ISN] != r.Where) {
								t.Errorf("%s: %s → %s (ISN %d) judged %s/%s from the server capture, the whole pair %s/%s: %s",
									how, r.Client, r.Server, r.ISN, r.Verdict, r.Where, w, want[r.ISN], r.Explanation)
							}
						}
						if r.Where != "outbound-path" && r.Where != "return-path" {
							continue
						}
						claims++
						if w, ok := want[r.ISN]; ok && w != r.Where {
							t.Errorf("%s: %s → %s (ISN %d) blamed on the %s (%s), the whole pair on %s: %s",
								how, r.Client, r.Server, r.ISN, r.Where, r.WhereConfidence, w, r.Explanation)
						}
					}
					// The cut capture alone, held to what the whole one
					// alone says (a path it names, the cut may not blame
					// another).
					for _, r := range runJSON(t, "--"+side, cutPath) {
						if r.Where != "outbound-path" && r.Where != "return-path" {
							continue
						}
						claims++
						if w, ok := wantAlone[side][r.ISN]; ok && w != r.Where {
							t.Errorf("%s, alone: %s → %s (ISN %d) blamed on the %s (%s), the whole capture alone on %s: %s",
								how, r.Client, r.Server, r.ISN, r.Where, r.WhereConfidence, w, r.Explanation)
						}
					}
				}
			}
		}
	}
}

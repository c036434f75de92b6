package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ---- the truth.json schema (the golden tests parse it) ----

type truthFile struct {
	Scenario     string         `json:"scenario"`
	Description  string         `json:"description"`
	Fault        string         `json:"fault"`
	ClientFile   string         `json:"client_file"`
	ServerFile   string         `json:"server_file"`
	ClockOffsetS float64        `json:"clock_offset_s"`
	Attempts     []truthAttempt `json:"attempts"`
}

type truthAttempt struct {
	Client             string   `json:"client"`
	Server             string   `json:"server"`
	ISN                uint32   `json:"isn"`
	ClientSeenByServer string   `json:"client_seen_by_server"`
	ServerSeenByServer string   `json:"server_seen_by_server"`
	ISNSeenByServer    uint32   `json:"isn_seen_by_server"`
	Wire               wireBoth `json:"wire"`
	Both               view     `json:"both"`
	ClientView         view     `json:"client_view"`
	ServerView         *view    `json:"server_view"`
}

type wireBoth struct {
	Client wireCounts `json:"client"`
	Server wireCounts `json:"server"`
}

type wireCounts struct {
	SYN    int `json:"syn"`
	SYNACK int `json:"synack"`
	RST    int `json:"rst"`
	ICMP   int `json:"icmp"`
}

type view struct {
	Verdict    string   `json:"verdict"`
	Where      string   `json:"where"`
	Candidates []string `json:"candidates"`
	RSTOrigin  string   `json:"rst_origin"`
}

// ---- packets as tshark shows them ----

const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fACK = 0x10
)

type pkt struct {
	N        int
	T        float64
	Src, Dst netip.AddrPort // for ICMP errors: the outer addresses, port 0
	TTL      int
	Flags    uint16
	Seq, Ack uint32
	Len      int
	ICMP     bool // an ICMP/ICMPv6 error quoting a TCP segment
	ICMPDesc string
	InSrc    netip.AddrPort // the quoted segment
	InDst    netip.AddrPort
	InSeq    uint32
	HasInSeq bool
}

var tsharkFields = []string{"frame.number", "frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
	"ip.ttl", "ipv6.hlim", "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw", "tcp.len",
	"icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code"}

type capture struct {
	file  string
	pkts  []pkt
	last  float64 // time of the last frame of any kind
	count int
}

func readCapture(path string) (*capture, error) {
	args := []string{"-n", "-r", path, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("tshark", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark %s: %v: %s", path, err, stderr.String())
	}
	c := &capture{file: filepath.Base(path)}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		for len(col) < len(tsharkFields) {
			col = append(col, "")
		}
		get := func(name string) []string {
			for i, f := range tsharkFields {
				if f == name {
					if col[i] == "" {
						return nil
					}
					return strings.Split(col[i], ",")
				}
			}
			panic(name)
		}
		c.count++
		n, _ := strconv.Atoi(col[0])
		t, _ := strconv.ParseFloat(col[1], 64)
		c.last = math.Max(c.last, t)
		src, dst, ttl := get("ip.src"), get("ip.dst"), get("ip.ttl")
		if src == nil {
			src, dst, ttl = get("ipv6.src"), get("ipv6.dst"), get("ipv6.hlim")
		}
		sport, dport := get("tcp.srcport"), get("tcp.dstport")
		if src == nil || sport == nil {
			continue // not TCP (the UDP marker, neighbour traffic...)
		}
		p := pkt{N: n, T: t}
		p.TTL, _ = strconv.Atoi(ttl[0])
		sp, _ := strconv.Atoi(sport[0])
		dp, _ := strconv.Atoi(dport[0])
		ia, _ := netip.ParseAddr(src[0])
		ib, _ := netip.ParseAddr(dst[0])
		icmpType := get("icmp.type")
		if icmpType == nil {
			icmpType = get("icmpv6.type")
		}
		if icmpType != nil {
			if len(src) < 2 {
				continue
			}
			p.ICMP = true
			code := get("icmp.code")
			if code == nil {
				code = get("icmpv6.code")
			}
			p.ICMPDesc = icmpType[0] + "/" + strings.Join(code, "")
			p.Src, p.Dst = netip.AddrPortFrom(ia, 0), netip.AddrPortFrom(ib, 0)
			qa, _ := netip.ParseAddr(src[1])
			qb, _ := netip.ParseAddr(dst[1])
			p.InSrc, p.InDst = netip.AddrPortFrom(qa, uint16(sp)), netip.AddrPortFrom(qb, uint16(dp))
			if s := get("tcp.seq_raw"); s != nil {
				v, _ := strconv.ParseUint(s[0], 10, 32)
				p.InSeq, p.HasInSeq = uint32(v), true
			}
			c.pkts = append(c.pkts, p)
			continue
		}
		p.Src, p.Dst = netip.AddrPortFrom(ia, uint16(sp)), netip.AddrPortFrom(ib, uint16(dp))
		fl, _ := strconv.ParseUint(strings.TrimPrefix(get("tcp.flags")[0], "0x"), 16, 16)
		p.Flags = uint16(fl)
		sq, _ := strconv.ParseUint(get("tcp.seq_raw")[0], 10, 32)
		ak, _ := strconv.ParseUint(get("tcp.ack_raw")[0], 10, 32)
		p.Seq, p.Ack = uint32(sq), uint32(ak)
		if l := get("tcp.len"); l != nil {
			p.Len, _ = strconv.Atoi(l[0])
		}
		c.pkts = append(c.pkts, p)
	}
	return c, nil
}

// ---- attempts within one capture ----

type attempt struct {
	Client, Server netip.AddrPort
	ISN            uint32
	First, End     float64 // End: the next attempt's first SYN on the same 4-tuple, or +Inf
	// what this capture shows of it
	SYN, SYNACK, RST, ICMP int
	LastSYN                float64
	ServerISN              uint32
	ClientACK              bool // client sent a non-SYN, non-RST segment with ACK
	ClientData             bool
	ClientRST, ServerRST   int
	ServerRSTBeforeFIN     int // server RSTs before any client FIN
	ClientFIN              bool
	ServerRSTToSYN         bool // a server→client RST acking the SYN (ack == isn+1, no SYN-ACK before it)
	ServerEstablished      bool // the server sent a non-SYN, non-RST segment (ACK of data, data, FIN)
	ServerData             bool
	SYNACKTTL, RSTTTL      int
	ClientRSTBeforeACK     bool
	ICMPDesc               string
}

func (c *capture) attempts() []*attempt {
	type key struct{ c, s netip.AddrPort }
	var list []*attempt
	seen := map[key][]*attempt{}
	for _, p := range c.pkts {
		if p.ICMP || p.Flags&(fSYN|fACK) != fSYN {
			continue
		}
		k := key{p.Src, p.Dst}
		as := seen[k]
		if len(as) > 0 && as[len(as)-1].ISN == p.Seq {
			continue
		}
		a := &attempt{Client: p.Src, Server: p.Dst, ISN: p.Seq, First: p.T, End: math.Inf(1)}
		if len(as) > 0 {
			as[len(as)-1].End = p.T
		}
		seen[k] = append(as, a)
		list = append(list, a)
	}
	for _, a := range list {
		gotSYNACK := false
		for _, p := range c.pkts {
			if p.T < a.First || p.T >= a.End {
				continue
			}
			if p.ICMP {
				if p.InSrc == a.Client && p.InDst == a.Server && (!p.HasInSeq || p.InSeq == a.ISN) {
					a.ICMP++
					a.ICMPDesc = p.ICMPDesc
				}
				continue
			}
			fromClient := p.Src == a.Client && p.Dst == a.Server
			fromServer := p.Src == a.Server && p.Dst == a.Client
			switch {
			case fromClient:
				switch {
				case p.Flags&fSYN != 0:
					if p.Seq == a.ISN {
						a.SYN++
						a.LastSYN = p.T
					}
				case p.Flags&fRST != 0:
					a.RST++
					a.ClientRST++
					if !a.ClientACK {
						a.ClientRSTBeforeACK = true
					}
				case p.Flags&fACK != 0:
					a.ClientACK = true
					if p.Len > 0 {
						a.ClientData = true
					}
					if p.Flags&fFIN != 0 {
						a.ClientFIN = true
					}
				}
			case fromServer:
				switch {
				case p.Flags&(fSYN|fACK) == fSYN|fACK:
					if p.Ack == a.ISN+1 {
						a.SYNACK++
						a.ServerISN = p.Seq
						a.SYNACKTTL = p.TTL
						gotSYNACK = true
					}
				case p.Flags&fRST != 0:
					a.RST++
					a.ServerRST++
					if !a.ClientFIN {
						a.ServerRSTBeforeFIN++
					}
					a.RSTTTL = p.TTL
					if !gotSYNACK && p.Flags&fACK != 0 && p.Ack == a.ISN+1 {
						a.ServerRSTToSYN = true
					}
				case p.Flags&fACK != 0:
					a.ServerEstablished = true
					if p.Len > 0 {
						a.ServerData = true
					}
				}
			}
		}
	}
	return list
}

// ---- expected outcomes ----

// kinds: what each destination port of a scenario is meant to show (both captures).
var kinds = map[string][2]string{
	"ok":        {"established", "none"},
	"transient": {"established", "none"},
	"refused":   {"refused", "server"},
	"path-rst":  {"refused", "outbound-path"},
	"icmp":      {"unreachable", "outbound-path"},
	"out-drop":  {"timeout", "outbound-path"},
	"srv-drop":  {"timeout", "server"},
	"ret-drop":  {"timeout", "return-path"},
	"half-open": {"half-open", "outbound-path"},
	"stalled":   {"stalled", "server"},
	"reset":     {"reset", "server"},
	"abort":     {"aborted", "client"},
	"derive":    {"", ""}, // whatever the kernel did (backlog overflow)
}

func v(verdict, where string, cands []string, origin string) view {
	if cands == nil {
		switch where {
		case "none":
			cands = []string{}
		case "unknown":
			panic("unknown needs candidates")
		default:
			cands = []string{where}
		}
	}
	return view{verdict, where, cands, origin}
}

var threePlaces = []string{"outbound-path", "server", "return-path"}

// judge derives what really happened from both captures: ca from the client's,
// sa (nil: never reached the server) from the server's.
func judge(ca, sa *attempt) (view, error) {
	switch {
	case ca.SYNACK > 0 && ca.ClientRSTBeforeACK && !ca.ClientACK:
		return v("aborted", "client", nil, "client"), nil
	case ca.SYNACK > 0:
		if sa == nil {
			return view{}, fmt.Errorf("client got a SYN-ACK the server capture never shows")
		}
		// A server RST is a reset unless it only answers the client's FIN on a
		// connection the server never had (a dropped final ACK, then the client's
		// close): that one stays half-open, decided below.
		if sa.ServerRSTBeforeFIN > 0 || (sa.ServerRST > 0 && sa.ServerEstablished) {
			if ca.ServerRST == 0 {
				return view{}, fmt.Errorf("server sent RST after the handshake, client never got it")
			}
			return v("reset", "server", nil, "server"), nil
		}
		if sa.ServerEstablished {
			if ca.ServerData {
				return v("established", "none", nil, ""), nil
			}
			if ca.ClientData {
				return v("stalled", "server", nil, ""), nil
			}
			return v("established", "none", nil, ""), nil
		}
		if !ca.ClientACK {
			return view{}, fmt.Errorf("client got a SYN-ACK but never answered it")
		}
		if sa.ClientACK {
			return v("half-open", "server", nil, ""), nil
		}
		return v("half-open", "outbound-path", nil, ""), nil
	case ca.ServerRSTToSYN:
		if sa != nil && sa.ServerRSTToSYN {
			return v("refused", "server", nil, "server"), nil
		}
		return v("refused", "outbound-path", nil, "path"), nil
	case ca.ICMP > 0:
		if sa != nil && sa.SYNACK > 0 {
			return view{}, fmt.Errorf("ICMP error at the client, yet the server answered")
		}
		return v("unreachable", "outbound-path", nil, "path"), nil
	case ca.ServerRST > 0:
		return view{}, fmt.Errorf("RST that does not acknowledge the SYN")
	default:
		switch {
		case sa == nil:
			return v("timeout", "outbound-path", nil, ""), nil
		case sa.SYNACK == 0:
			return v("timeout", "server", nil, ""), nil
		default:
			return v("timeout", "return-path", nil, ""), nil
		}
	}
}

// views: what the analyzer must say from each capture alone, given what happened
// (the table in the lab brief). ref: TTL of a SYN-ACK from the RST's source seen in
// the client capture (the reference connection), 0 if none.
func views(both view, ca *attempt, sa *attempt, refTTL int) (view, *view, error) {
	var cv view
	var sv *view
	sview := func(x view) *view { return &x }
	switch both.Verdict + "/" + both.Where {
	case "established/none", "reset/server", "aborted/client":
		cv, sv = both, sview(both)
	case "refused/server", "refused/outbound-path":
		switch {
		case refTTL == 0:
			cv = v("refused", "unknown", []string{"server", "outbound-path"}, "unknown")
		case (refTTL == ca.RSTTTL) != (both.Where == "server"):
			return cv, nil, fmt.Errorf("RST TTL %d vs reference SYN-ACK TTL %d does not tell %s", ca.RSTTTL, refTTL, both.Where)
		default:
			cv = both
		}
		if both.Where == "server" {
			sv = sview(both)
		}
	case "unreachable/outbound-path":
		cv = both
	case "timeout/outbound-path", "timeout/server", "timeout/return-path":
		cv = v("timeout", "unknown", threePlaces, "")
		switch both.Where {
		case "server":
			sv = sview(both)
		case "return-path":
			sv = sview(v("timeout", "unknown", []string{"return-path", "client"}, ""))
		}
	case "half-open/outbound-path", "half-open/server":
		cv = v("half-open", "unknown", []string{"outbound-path", "server"}, "")
		sv = sview(both)
	case "stalled/server":
		cv = v("stalled", "unknown", []string{"server", "return-path"}, "")
		sv = sview(both)
	default:
		return cv, nil, fmt.Errorf("no view rule for %s/%s", both.Verdict, both.Where)
	}
	if (sa == nil) != (sv == nil) {
		if sa == nil {
			return cv, nil, fmt.Errorf("%s/%s but the server capture does not hold the attempt", both.Verdict, both.Where)
		}
		return cv, nil, fmt.Errorf("%s/%s but the server capture holds the attempt", both.Verdict, both.Where)
	}
	return cv, sv, nil
}

// ---- the command ----

type clientLog struct {
	Local   string `json:"local"`
	Remote  string `json:"remote"`
	Outcome string `json:"outcome"`
	Errno   string `json:"errno"`
}

func truth(args []string) error {
	fs := flag.NewFlagSet("truth", flag.ExitOnError)
	dir := fs.String("dir", ".", "scenario directory")
	name := fs.String("scenario", "", "scenario name")
	desc := fs.String("desc", "", "description")
	fault := fs.String("fault", "", "fault, as commands")
	cfile := fs.String("client-file", "client.pcap", "")
	sfile := fs.String("server-file", "server.pcap", "")
	offset := fs.Float64("clock-offset", 0, "seconds the server capture was shifted")
	kindSpec := fs.String("kinds", "", "PORT=KIND,... by the server port the client connects to; *=KIND for any")
	logPath := fs.String("client-log", "", "labnet connect JSON lines, cross-checked against the wire")
	fs.Parse(args)

	kindOf := map[string]string{}
	for _, kv := range strings.Split(*kindSpec, ",") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("bad -kinds %q", kv)
		}
		if _, ok := kinds[val]; !ok {
			return fmt.Errorf("unknown kind %q", val)
		}
		kindOf[k] = val
	}
	cc, err := readCapture(filepath.Join(*dir, *cfile))
	if err != nil {
		return err
	}
	scap, err := readCapture(filepath.Join(*dir, *sfile))
	if err != nil {
		return err
	}
	logs := map[string]clientLog{}
	if *logPath != "" {
		if b, err := os.ReadFile(*logPath); err == nil {
			for _, line := range bytes.Split(b, []byte("\n")) {
				var l clientLog
				if json.Unmarshal(line, &l) == nil && l.Local != "" {
					k := l.Local + " " + l.Remote
					if _, dup := logs[k]; dup {
						l.Outcome = "" // the same 4-tuple twice: ambiguous, not checked
					}
					logs[k] = l
				}
			}
		}
	}
	cas := cc.attempts()
	sas := scap.attempts()
	byISN := map[uint32][]*attempt{}
	for _, a := range sas {
		byISN[a.ISN] = append(byISN[a.ISN], a)
	}
	matched := map[*attempt]bool{}
	// Reference TTLs: SYN-ACKs by source address in the client capture.
	refTTL := map[netip.Addr]int{}
	for _, a := range cas {
		if a.SYNACK > 0 {
			refTTL[a.Server.Addr()] = a.SYNACKTTL
		}
	}
	var problems []string
	tf := truthFile{Scenario: *name, Description: *desc, Fault: *fault, ClientFile: *cfile, ServerFile: *sfile, ClockOffsetS: *offset}
	summary := map[string]int{}
	for _, ca := range cas {
		fail := func(format string, a ...any) {
			problems = append(problems, fmt.Sprintf("%s→%s isn %d: ", ca.Client, ca.Server, ca.ISN)+fmt.Sprintf(format, a...))
		}
		var sa *attempt
		if cands := byISN[ca.ISN]; len(cands) == 1 {
			sa = cands[0]
		} else if len(cands) > 1 {
			fail("ISN seen on %d server-side attempts", len(cands))
			continue
		}
		if sa != nil {
			if sa.Server.Port() != ca.Server.Port() && sa.Client.Port() != ca.Client.Port() {
				fail("server-side match %s→%s shares neither port", sa.Client, sa.Server)
			}
			matched[sa] = true
		}
		kind, ok := kindOf[strconv.Itoa(int(ca.Server.Port()))]
		if !ok {
			kind, ok = kindOf["*"]
		}
		if !ok {
			fail("no kind for port %d", ca.Server.Port())
			continue
		}
		both, err := judge(ca, sa)
		if err != nil {
			fail("%v", err)
			continue
		}
		if want := kinds[kind]; want[0] != "" && (want[0] != both.Verdict || want[1] != both.Where) {
			fail("meant %s (%s/%s), the wire shows %s/%s", kind, want[0], want[1], both.Verdict, both.Where)
		}
		// Shape checks beyond the verdict.
		if both.Verdict == "timeout" && cc.last-ca.LastSYN < 2 {
			fail("client capture ends %.2fs after the last SYN (< 2s)", cc.last-ca.LastSYN)
		}
		if both.Verdict == "timeout" && sa != nil && scap.last-sa.LastSYN < 2 {
			fail("server capture ends %.2fs after the last SYN (< 2s)", scap.last-sa.LastSYN)
		}
		switch kind {
		case "transient":
			ssyn := 0
			if sa != nil {
				ssyn = sa.SYN
			}
			if ca.SYN < 2 || ssyn != ca.SYN-1 {
				fail("transient loss: client sent %d SYNs, server saw %d (want exactly the first lost)", ca.SYN, ssyn)
			}
		case "ok":
			if !ca.ServerData {
				fail("no response data reached the client")
			}
		case "out-drop", "ret-drop", "srv-drop":
			if ca.SYN < 2 {
				fail("timeout without SYN retransmissions (%d SYN)", ca.SYN)
			}
		case "half-open":
			if sa == nil || sa.SYNACK < 2 {
				fail("half-open: server did not resend its SYN-ACK")
			}
		}
		cv, sv, err := views(both, ca, sa, refTTL[ca.Server.Addr()])
		if err != nil {
			fail("%v", err)
			continue
		}
		if l, ok := logs[ca.Client.String()+" "+ca.Server.String()]; ok && l.Outcome != "" {
			want := map[string][]string{
				"established": {"ok"}, "refused": {"refused"}, "unreachable": {"unreachable", "refused"}, "timeout": {"timeout"},
				"half-open": {"read-timeout", "read-error"}, "stalled": {"read-timeout"}, "reset": {"reset", "read-error"},
			}[both.Verdict]
			if want != nil && !contains(want, l.Outcome) {
				fail("client program says %s (%s), wire says %s", l.Outcome, l.Errno, both.Verdict)
			}
		}
		t := truthAttempt{Client: ca.Client.String(), Server: ca.Server.String(), ISN: ca.ISN,
			Wire: wireBoth{Client: counts(ca)}, Both: both, ClientView: cv, ServerView: sv}
		if sa != nil {
			t.ClientSeenByServer, t.ServerSeenByServer, t.ISNSeenByServer = sa.Client.String(), sa.Server.String(), sa.ISN
			t.Wire.Server = counts(sa)
		}
		summary[both.Verdict+"/"+both.Where]++
		tf.Attempts = append(tf.Attempts, t)
	}
	for _, sa := range sas {
		if !matched[sa] {
			problems = append(problems, fmt.Sprintf("server capture has an attempt %s→%s isn %d the client capture lacks", sa.Client, sa.Server, sa.ISN))
		}
	}
	if len(cas) == 0 {
		problems = append(problems, "no attempts in the client capture")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: the wire does not show the scenario:\n  %s", *name, strings.Join(problems, "\n  "))
	}
	var keys []string
	for k := range summary {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", summary[k], k))
	}
	fmt.Fprintf(os.Stderr, "%s: %d attempts: %s\n", *name, len(tf.Attempts), strings.Join(parts, ", "))
	if strings.Contains(tf.Description, "{observed}") {
		tf.Description = strings.ReplaceAll(tf.Description, "{observed}", strings.Join(parts, ", "))
	}
	b, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*dir, "truth.json"), append(b, '\n'), 0o644)
}

func counts(a *attempt) wireCounts {
	return wireCounts{SYN: a.SYN, SYNACK: a.SYNACK, RST: a.RST, ICMP: a.ICMP}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

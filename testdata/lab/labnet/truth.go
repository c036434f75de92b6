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
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ---- the truth.json schema (the golden tests parse it) ----

type truthFile struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description"`
	Fault       string `json:"fault"`
	ClientFile  string `json:"client_file"`
	// ClientFiles: the client capture as tcpdump -C rotates it, in lexical order
	// (ClientFile is then empty); the views are those of the files read as one.
	ClientFiles []string `json:"client_files,omitempty"`
	ServerFile  string   `json:"server_file"`
	// MergedFile: one file holding both vantages (mergecap of the two captures);
	// given alone, the analyzer must split it and produce the both view.
	MergedFile string `json:"merged_file,omitempty"`
	// The vantage the analyzer must report for each capture alone: "client" and
	// "server", or "unknown" where TTLs cannot tell (client and server on one link).
	ClientVantage string  `json:"client_vantage"`
	ServerVantage string  `json:"server_vantage"`
	ClockOffsetS  float64 `json:"clock_offset_s"`
	// The server capture's time span on the client's clock (first and last frame,
	// clock offset taken off): client SYNs outside it are out of its view.
	ServerSpan [2]float64     `json:"server_span"`
	Attempts   []truthAttempt `json:"attempts"`
	// DNSFailed: the lookups in the client capture that got no address: no
	// answer at all (answered false, rcode ""), an error rcode, or an empty
	// NOERROR (rcode ""). Queries: how many the client sent for it (retries).
	DNSFailed []dnsFailure `json:"dns_failed,omitempty"`
}

type dnsFailure struct {
	Client   string `json:"client"`
	Name     string `json:"name"`
	Rcode    string `json:"rcode"` // NXDOMAIN, SERVFAIL, REFUSED, other names as tshark's; "" when unanswered or empty
	Answered bool   `json:"answered"`
	Queries  int    `json:"queries"`
}

type truthAttempt struct {
	Client             string `json:"client"`
	Server             string `json:"server"`
	ISN                uint32 `json:"isn"`
	ClientSeenByServer string `json:"client_seen_by_server"`
	ServerSeenByServer string `json:"server_seen_by_server"`
	ISNSeenByServer    uint32 `json:"isn_seen_by_server"`
	// Coverage: "both" (every client SYN lies in the server capture's span),
	// "partial" (some do), "client-only" (none do: the both view is the client view).
	Coverage   string   `json:"coverage"`
	Wire       wireBoth `json:"wire"`
	Both       view     `json:"both"`
	ClientView view     `json:"client_view"`
	ServerView *view    `json:"server_view"`
	// What the client capture shows of the application on the attempt: the TLS
	// ClientHello's server name, the HTTP request's Host and the response's
	// status code; DNSName: the name whose DNS answer (in the client capture,
	// before the first SYN) held the server address.
	SNI        string `json:"sni,omitempty"`
	HTTPHost   string `json:"http_host,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	DNSName    string `json:"dns_name,omitempty"`
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
	// WhereConfidence: "proven" (both captures, or a packet seen leaving or
	// arriving at an endpoint's own capture), "likely" (an inference from one
	// capture), "" for where=unknown.
	WhereConfidence string `json:"where_confidence"`
	// Cause: what this view's packets show behind the failure
	// (pmtu-black-hole, blocked-after-client-hello, accept-queue-full,
	// gateway-error, dns); absent when none.
	Cause string `json:"cause,omitempty"`
	// FellBackTo: the server of the connection the client program moved
	// on to when it abandoned this one (labnet connect -fallback), in the
	// views that hold the client capture; absent otherwise.
	FellBackTo string `json:"fell_back_to,omitempty"`
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
	IPLen    int  // the IPv4 total length (0 for IPv6)
	ICMP     bool // an ICMP/ICMPv6 error quoting a TCP segment
	ICMPDesc string
	InSrc    netip.AddrPort // the quoted segment
	InDst    netip.AddrPort
	InSeq    uint32
	HasInSeq bool
}

var tsharkFields = []string{"frame.number", "frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
	"ip.ttl", "ipv6.hlim", "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw", "tcp.len",
	"icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code", "ip.len"}

type capture struct {
	file  string
	pkts  []pkt
	first float64 // time of the first frame of any kind
	last  float64 // time of the last frame of any kind
	count int
	addrs map[netip.Addr]bool // every IP address in the capture, any protocol
}

// tsharkRun runs tshark over path with the options opts and prints the
// fields, tab-separated, every occurrence, one frame a line.
func tsharkRun(path string, opts, fields []string) ([]byte, error) {
	args := append([]string{"-n", "-r", path}, opts...)
	args = append(args, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,")
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("tshark", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark %s: %v: %s", path, err, stderr.String())
	}
	return out, nil
}

func readCapture(path string) (*capture, error) {
	out, err := tsharkRun(path, nil, tsharkFields)
	if err != nil {
		return nil, err
	}
	c := &capture{file: filepath.Base(path), addrs: map[netip.Addr]bool{}}
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
		if c.count == 1 || t < c.first {
			c.first = t
		}
		c.last = math.Max(c.last, t)
		src, dst, ttl := get("ip.src"), get("ip.dst"), get("ip.ttl")
		if src == nil {
			src, dst, ttl = get("ipv6.src"), get("ipv6.dst"), get("ipv6.hlim")
		}
		for _, a := range append(append([]string(nil), src...), dst...) {
			if ip, err := netip.ParseAddr(a); err == nil {
				c.addrs[ip] = true
			}
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
		if l := get("ip.len"); l != nil {
			p.IPLen, _ = strconv.Atoi(l[0])
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
	SYNTimes               []float64
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
	LastSYNACK             float64 // time of the last SYN-ACK acknowledging the SYN
	FirstSYNACK            float64 // and of the first (0: none)
	ClientRSTBeforeACK     bool
	ICMPDesc               string
	ICMPSrc                netip.Addr // the ICMP error's sender
	// ReturnICMP counts ICMP errors quoting a server→client segment (a
	// router on the way back, or the client host, refusing the SYN-ACK);
	// ReturnICMPSrc is the last one's sender.
	ReturnICMP      int
	ReturnICMPSrc   netip.Addr
	ServerDataFirst bool    // a server data segment starting at its first byte (ISN+1)
	FirstServerRST  float64 // time of the first server→client RST (0: none)
	ServerRSTNoACK  bool    // a server→client RST without the ACK flag (a listener's answer)
	// ElsewhereSYNACK counts SYN-ACKs to the client's address and port,
	// acknowledging the SYN, from another address than its server (a reply
	// that went around the NAT that translated the SYN).
	ElsewhereSYNACK int
	Pkts            []pkt // the attempt's TCP segments, both directions
	// Hello is when the client's TLS ClientHello came (0: none), set
	// before the views are derived.
	Hello float64
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
					a.ICMPSrc = p.Src.Addr()
				} else if p.InSrc == a.Server && p.InDst == a.Client {
					a.ReturnICMP++
					a.ReturnICMPSrc = p.Src.Addr()
				}
				continue
			}
			fromClient := p.Src == a.Client && p.Dst == a.Server
			fromServer := p.Src == a.Server && p.Dst == a.Client
			if !fromServer && p.Dst == a.Client && p.Flags&(fSYN|fACK) == fSYN|fACK && p.Ack == a.ISN+1 {
				a.ElsewhereSYNACK++
			}
			if fromClient || fromServer {
				a.Pkts = append(a.Pkts, p)
			}
			switch {
			case fromClient:
				switch {
				case p.Flags&fSYN != 0:
					if p.Seq == a.ISN {
						a.SYN++
						a.LastSYN = p.T
						a.SYNTimes = append(a.SYNTimes, p.T)
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
						a.LastSYNACK = p.T
						if a.FirstSYNACK == 0 {
							a.FirstSYNACK = p.T
						}
						gotSYNACK = true
					}
				case p.Flags&fRST != 0:
					a.RST++
					a.ServerRST++
					if !a.ClientFIN {
						a.ServerRSTBeforeFIN++
					}
					a.RSTTTL = p.TTL
					if a.FirstServerRST == 0 {
						a.FirstServerRST = p.T
					}
					if p.Flags&fACK == 0 {
						a.ServerRSTNoACK = true
					}
					if !gotSYNACK && p.Flags&fACK != 0 && p.Ack == a.ISN+1 {
						a.ServerRSTToSYN = true
					}
				case p.Flags&fACK != 0:
					a.ServerEstablished = true
					if p.Len > 0 {
						a.ServerData = true
						if gotSYNACK && p.Seq == a.ServerISN+1 {
							a.ServerDataFirst = true
						}
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
	"ret-icmp":  {"timeout", "return-path"}, // the router rejects the SYN-ACKs with an ICMP error to the server
	"client-fw": {"timeout", "client"},      // the client host's INPUT chain drops the SYN-ACKs
	"half-open": {"half-open", "outbound-path"},
	"stalled":   {"stalled", "server"},
	"reset":     {"reset", "server"},
	"abort":     {"aborted", "client"},
	"derive":    {"", ""}, // whatever the kernel did (backlog overflow)
	// the server's full-size segments vanish at a router whose "fragmentation
	// needed" never leaves it; its small ones pass
	"pmtu": {"stalled", "return-path"},
	// the router resets the client after its TLS ClientHello (SNI filter)
	"sni-blocked": {"reset", "outbound-path"},
	// something between the captures resets a connection whose request
	// waits for its answer: a firewall, or the host in front of the server
	// having lost the connection's state
	"path-reset": {"reset", "outbound-path"},
	// a SYN proxy completes the handshake, the server then refuses the
	// proxy's SYN and the proxy relays its RST
	"syn-proxy": {"reset", "server"},
	// the router DNATs the SYN to the server, and the server's replies
	// skip its connection tracking: they reach the client untranslated
	"nat-bypass": {"timeout", "return-path"},
}

// v builds a view; conf is its where_confidence (forced to "" for where=unknown).
func v(verdict, where string, cands []string, origin, conf string) view {
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
	if where == "unknown" {
		conf = ""
	}
	return view{Verdict: verdict, Where: where, Candidates: cands, RSTOrigin: origin, WhereConfidence: conf}
}

var threePlaces = []string{"outbound-path", "server", "return-path"}

// judge derives what really happened from both captures: ca from the client's,
// sa (nil: never reached the server) from the server's. Every place it names is
// proven: both captures cover the attempt.
func judge(ca, sa *attempt) (view, error) {
	const p = "proven"
	switch {
	case ca.SYNACK > 0 && ca.ClientRSTBeforeACK && !ca.ClientACK:
		return v("aborted", "client", nil, "client", p), nil
	case ca.SYNACK > 0:
		if sa == nil {
			return view{}, fmt.Errorf("client got a SYN-ACK the server capture never shows")
		}
		// A RST the client got after the handshake that the server never sent:
		// the path reset the connection (e.g. a filter matching the ClientHello).
		if ca.ServerRST > 0 && sa.ServerRST == 0 && ca.ClientACK {
			if got, sent := clientDataSeqs(sa, math.Inf(1)), clientDataSeqs(ca, ca.FirstServerRST); len(sent) > 0 && !slices.ContainsFunc(sent, func(q uint32) bool { return !slices.Contains(got, q) }) {
				return view{}, fmt.Errorf("path RST, yet the server got every segment the client sent before it")
			}
			return v("reset", "outbound-path", nil, "path", p), nil
		}
		// A server RST is a reset unless it only answers the client's FIN on a
		// connection the server never had (a dropped final ACK, then the client's
		// close): that one stays half-open, decided below.
		if sa.ServerRSTBeforeFIN > 0 || (sa.ServerRST > 0 && sa.ServerEstablished) {
			if ca.ServerRST == 0 {
				return view{}, fmt.Errorf("server sent RST after the handshake, client never got it")
			}
			return v("reset", "server", nil, "server", p), nil
		}
		if sa.ServerEstablished {
			// The server sent reply data and the client never got its first
			// byte: the reply was lost on the way back.
			if sa.ServerData && !ca.ServerDataFirst && ca.ClientData {
				return v("stalled", "return-path", nil, "", p), nil
			}
			if ca.ServerData {
				return v("established", "none", nil, "", p), nil
			}
			if ca.ClientData {
				return v("stalled", "server", nil, "", p), nil
			}
			return v("established", "none", nil, "", p), nil
		}
		if !ca.ClientACK {
			// SYN-ACKs reached the client's capture and the client never answered
			// them (it retransmitted its SYN instead): its own firewall dropped them.
			if ca.ClientRST > 0 {
				return view{}, fmt.Errorf("client got a SYN-ACK and sent a RST after answering nothing")
			}
			return v("timeout", "client", nil, "", p), nil
		}
		if sa.ClientACK {
			return v("half-open", "server", nil, "", p), nil
		}
		return v("half-open", "outbound-path", nil, "", p), nil
	case ca.ServerRSTToSYN:
		if sa != nil && sa.ServerRSTToSYN {
			return v("refused", "server", nil, "server", p), nil
		}
		return v("refused", "outbound-path", nil, "path", p), nil
	case ca.ICMP > 0:
		if sa != nil && sa.SYNACK > 0 {
			return view{}, fmt.Errorf("ICMP error at the client, yet the server answered")
		}
		if ca.ICMPSrc == ca.Server.Addr() {
			return v("unreachable", "server", nil, "server", p), nil
		}
		return v("unreachable", "outbound-path", nil, "path", p), nil
	case ca.ServerRST > 0:
		return view{}, fmt.Errorf("RST that does not acknowledge the SYN")
	default:
		switch {
		case sa == nil:
			return v("timeout", "outbound-path", nil, "", p), nil
		case sa.SYNACK == 0:
			return v("timeout", "server", nil, "", p), nil
		default:
			return v("timeout", "return-path", nil, "", p), nil
		}
	}
}

// clientView: what the analyzer must say from the client capture alone (or from a
// capture of unknown vantage, judged the same way), given what happened. ref: TTL
// of a SYN-ACK from the RST's source seen in the capture (the reference
// connection), 0 if none.
func clientView(both view, ca *attempt, ref refs) (view, error) {
	switch both.Verdict + "/" + both.Where {
	case "established/none":
		return v("established", "none", nil, "", "proven"), nil
	case "aborted/client":
		return v("aborted", "client", nil, "client", "proven"), nil
	case "reset/server":
		if hops(ca.RSTTTL) > hops(ca.SYNACKTTL) {
			// A forger in the path is no farther than the server: from
			// farther than the SYN-ACK, the RST leaves the SYN-ACK the odd
			// one (a SYN proxy's), and its own origin open.
			return v("reset", "unknown", []string{"server", "outbound-path"}, "unknown", ""), nil
		}
		return v("reset", "server", nil, "server", "likely"), nil
	case "refused/server", "refused/outbound-path":
		refTTL, samePort := ref.port[ca.Server], true
		if refTTL == 0 {
			refTTL, samePort = ref.addr[ca.Server.Addr()], false
		}
		// The port's SYN-ACKs all before the RST (or after the 1.5 s a
		// refusal waits for what follows): it may have stopped being
		// forwarded (a container gone), refused by the host in front of it.
		after := slices.ContainsFunc(ref.portTimes[ca.Server], func(t float64) bool {
			return t > ca.FirstServerRST && t <= graceEnd(ca)
		})
		switch {
		case refTTL == 0, hops(ca.RSTTTL) > hops(refTTL):
			// No reference, or a RST from farther than the reference:
			// no forger is farther than the server, and a SYN proxy sends
			// SYN-ACKs nearer (syn-proxy).
			return v("refused", "unknown", []string{"server", "outbound-path"}, "unknown", ""), nil
		case (!samePort || !after) && hops(ca.RSTTTL) < hops(refTTL):
			// Nearer than the SYN-ACKs of the address's other ports only:
			// a firewall's, or the host at the address refusing a port it
			// does not forward farther off as it does those (a container
			// host, a Kubernetes node); unless it came back in a quarter of
			// the server's quickest handshake, and 5 ms less.
			rtt, ok := ref.minRTT[ca.Server.Addr()]
			if d := ca.FirstServerRST - ca.LastSYN; ok && ca.SYN == 1 && d >= 0 && d <= rtt/4 && rtt-d >= 0.005 {
				if both.Where != "outbound-path" {
					return view{}, fmt.Errorf("RST back %.6f s after the SYN, the server's quickest SYN-ACK %.6f s: sooner than the server could, yet %s", d, rtt, both.Where)
				}
				return v("refused", "outbound-path", nil, "path", "likely"), nil
			}
			return v("refused", "unknown", []string{"server", "outbound-path"}, "unknown", ""), nil
		case (refTTL == ca.RSTTTL) != (both.Where == "server"):
			return view{}, fmt.Errorf("RST TTL %d vs reference SYN-ACK TTL %d does not tell %s", ca.RSTTTL, refTTL, both.Where)
		}
		return v("refused", both.Where, nil, both.RSTOrigin, "likely"), nil
	case "unreachable/outbound-path":
		return v("unreachable", "outbound-path", nil, "path", "proven"), nil
	case "unreachable/server":
		return v("unreachable", "server", nil, "server", "likely"), nil
	case "timeout/outbound-path", "timeout/server", "timeout/return-path":
		if ca.ElsewhereSYNACK > 0 {
			// Answers acknowledging the SYN came from another address:
			// the SYN got there; the reply was not translated back.
			return v("timeout", "unknown", []string{"return-path", "server"}, "", ""), nil
		}
		return v("timeout", "unknown", threePlaces, "", ""), nil
	case "timeout/client":
		return v("timeout", "client", nil, "", "proven"), nil
	case "half-open/outbound-path", "half-open/server":
		return v("half-open", "unknown", []string{"outbound-path", "server"}, "", ""), nil
	case "stalled/server":
		// The server's TCP acknowledged the request and no reply came.
		return v("stalled", "server", []string{"server", "return-path"}, "", "likely"), nil
	case "stalled/return-path":
		// Server segments arrived whose sequence numbers lie beyond a hole at
		// the reply's first byte: the server sent data the client never got.
		if !serverHole(ca) {
			return view{}, fmt.Errorf("stalled/return-path, but the client capture shows no hole in the server's data")
		}
		return v("stalled", "return-path", nil, "", "likely"), nil
	case "reset/outbound-path":
		// A RST that does not look like the server's own packets (TTL).
		if ca.RSTTTL == ca.SYNACKTTL {
			return view{}, fmt.Errorf("path RST with the TTL of the server's SYN-ACK (%d)", ca.RSTTTL)
		}
		// From nearer than the SYN-ACK: a firewall's, or the host's in front
		// of the server that lost the connection's state, unless it answers
		// the client's ClientHello (a name filter), or came back in a quarter
		// of the server's round trip, and 5 ms less, after the client's last
		// segment, a bare RST, nothing having crossed for 1 s and four round
		// trips before that segment.
		if hops(ca.RSTTTL) < hops(ca.SYNACKTTL) && !answersHello(ca) && !soonerThanServer(ca, ref) {
			return v("reset", "unknown", []string{"server", "outbound-path"}, "unknown", ""), nil
		}
		return v("reset", "outbound-path", nil, "path", "likely"), nil
	}
	return view{}, fmt.Errorf("no client view rule for %s/%s", both.Verdict, both.Where)
}

// clientDataSeqs lists the sequence numbers of the client's data segments
// in a capture's view of an attempt, sent before until.
func clientDataSeqs(a *attempt, until float64) []uint32 {
	var seqs []uint32
	for _, p := range a.Pkts {
		if p.Src == a.Client && p.Len > 0 && p.T < until {
			seqs = append(seqs, p.Seq)
		}
	}
	return seqs
}

// answersHello: the RST came after the client's ClientHello, the client
// sending nothing after it (its segments go out within 5 ms), and before
// any server data.
func answersHello(ca *attempt) bool {
	if ca.Hello == 0 || ca.FirstServerRST < ca.Hello {
		return false
	}
	for _, p := range ca.Pkts {
		if p.T >= ca.FirstServerRST {
			break
		}
		if p.Len > 0 && (p.Src != ca.Client || p.T > ca.Hello+0.005) {
			return false
		}
	}
	return true
}

// soonerThanServer: a bare RST, back in a quarter of the server's quickest
// round trip (this handshake's, or the address's others), and 5 ms less,
// after the client's last segment before it, nothing having crossed the
// capture for 1 s and four round trips before that segment.
func soonerThanServer(ca *attempt, ref refs) bool {
	if !ca.ServerRSTNoACK || ca.SYN != 1 || ca.FirstSYNACK <= ca.LastSYN {
		return false
	}
	rtt := ca.FirstSYNACK - ca.LastSYN
	if m, ok := ref.minRTT[ca.Server.Addr()]; ok && m < rtt {
		rtt = m
	}
	var trigger, before float64
	for _, p := range ca.Pkts {
		if p.T < ca.FirstServerRST && p.Src == ca.Client {
			trigger = math.Max(trigger, p.T)
		}
	}
	for _, p := range ca.Pkts {
		if p.T < trigger {
			before = math.Max(before, p.T)
		}
	}
	d := ca.FirstServerRST - trigger
	return trigger > 0 && before > 0 && d <= rtt/4 && rtt-d >= 0.005 && trigger-before >= math.Max(1, 4*rtt)
}

// graceEnd mirrors the analyzer's wait after a RST that seemed to end a
// handshake: 1.5 s past the RST or, after a resent SYN, twice the last wait
// between the SYNs before it and half a second more past the last of them,
// whichever is later.
func graceEnd(ca *attempt) float64 {
	end := ca.FirstServerRST + 1.5
	var syns []float64
	for _, t := range ca.SYNTimes {
		if t <= ca.FirstServerRST && (len(syns) == 0 || t != syns[len(syns)-1]) {
			syns = append(syns, t)
		}
	}
	if n := len(syns); n >= 2 {
		if gap := syns[n-1] - syns[n-2]; gap > 0 {
			end = math.Max(end, syns[n-1]+2*gap+0.5)
		}
	}
	return end
}

// serverView: what the analyzer must say from the server capture alone; nil when
// the server capture does not hold the attempt. answersSeen: the server capture
// holds SYN-ACKs from the server (to any client), so it records the server's own
// packets, and SYNs it shows unanswered were not answered. A capture that holds
// none may record one direction only (a filter such as "dst port", a tap): from it,
// unanswered SYNs are only likely dropped at the server, and may have been answered
// and the answers lost on the way back.
//
// lead is how long the server capture ran before the attempt's first SYN
// there: under 32 s (Linux's last wait between SYNs), the first SYN it shows
// may be the client's last, and its silence after a SYN-ACK proves nothing.
func serverView(both view, answersSeen bool, lead float64) (*view, error) {
	var sv view
	switch both.Verdict + "/" + both.Where {
	case "timeout/server":
		sv = v("timeout", "server", []string{"server"}, "", "proven")
		if !answersSeen {
			sv = v("timeout", "server", []string{"server", "return-path"}, "", "likely")
		}
	case "established/none", "refused/server", "half-open/server", "stalled/server", "reset/server":
		sv = both
		sv.WhereConfidence = "proven"
	case "half-open/outbound-path", "aborted/client":
		sv = both
		sv.WhereConfidence = "likely"
		if both.Verdict == "half-open" && lead < 32 {
			sv = v("timeout", "unknown", []string{"return-path", "client", "outbound-path"}, "", "")
		}
	case "stalled/return-path":
		// The server's own data retransmitted, never acknowledged, while the
		// client's packets keep arriving.
		sv = v("stalled", "return-path", nil, "", "likely")
	case "reset/outbound-path":
		// The path reset the client; the server saw a completed handshake and
		// then nothing: no data, no FIN, no RST.
		sv = v("established", "none", nil, "", "proven")
	case "timeout/return-path", "timeout/client":
		sv = v("timeout", "unknown", []string{"return-path", "client"}, "", "")
	case "refused/outbound-path", "unreachable/outbound-path", "unreachable/server", "timeout/outbound-path":
		return nil, nil
	default:
		return nil, fmt.Errorf("no server view rule for %s/%s", both.Verdict, both.Where)
	}
	return &sv, nil
}

// ---- the command ----

type clientLog struct {
	I       int    `json:"i"`
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
	kindSpec := fs.String("kinds", "", "KEY=KIND,...: KEY is @NAME (the attempt's SNI, HTTP Host or DNS name), ADDR:PORT or PORT of the server the client connects to, or * for any; the first that matches, in that order")
	logPath := fs.String("client-log", "", "labnet connect JSON lines, cross-checked against the wire")
	cfiles := fs.String("client-files", "", "the client capture split in rotated files, FILE,... in rotation order (-client-file is then ignored)")
	merged := fs.String("merged-file", "", "a file holding both captures merged (checked to hold every packet of both)")
	vantage := fs.String("vantage", "", "unknown: client and server share one link, each capture alone is judged as of unknown vantage")
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
	var rotated []string
	if *cfiles != "" {
		rotated = strings.Split(*cfiles, ",")
		*cfile = ""
	}
	var cc *capture
	var err error
	if rotated != nil {
		cc, err = readRotated(*dir, rotated)
	} else {
		cc, err = readCapture(filepath.Join(*dir, *cfile))
	}
	if err != nil {
		return err
	}
	scap, err := readCapture(filepath.Join(*dir, *sfile))
	if err != nil {
		return err
	}
	if *merged != "" {
		m, err := readCapture(filepath.Join(*dir, *merged))
		if err != nil {
			return err
		}
		if m.count != cc.count+scap.count {
			return fmt.Errorf("%s holds %d frames, the two captures %d + %d", *merged, m.count, cc.count, scap.count)
		}
	}
	logs := map[string]clientLog{}
	// fellBack: a raced attempt the program abandoned (its 4-tuple) and the
	// server of the one that won: the two lines a race writes, one after
	// the other, with the same attempt number.
	fellBack := map[string]string{}
	if *logPath != "" {
		if b, err := os.ReadFile(*logPath); err == nil {
			var prev *clientLog
			for _, line := range bytes.Split(b, []byte("\n")) {
				var l clientLog
				if json.Unmarshal(line, &l) == nil && l.Local != "" {
					k := l.Local + " " + l.Remote
					if _, dup := logs[k]; dup {
						l.Outcome = "" // the same 4-tuple twice: ambiguous, not checked
					}
					logs[k] = l
					if prev != nil && prev.I == l.I {
						switch {
						case prev.Outcome == "abandoned" && l.Outcome == "ok":
							fellBack[prev.Local+" "+prev.Remote] = l.Remote
						case l.Outcome == "abandoned" && prev.Outcome == "ok":
							fellBack[k] = prev.Remote
						}
					}
					prev = &l
				}
			}
		}
	}
	cpaths := []string{filepath.Join(*dir, *cfile)}
	if rotated != nil {
		cpaths = nil
		for _, f := range rotated {
			cpaths = append(cpaths, filepath.Join(*dir, f))
		}
	}
	capp, err := readApp(cpaths...)
	if err != nil {
		return err
	}
	sapp, err := readApp(filepath.Join(*dir, *sfile))
	if err != nil {
		return err
	}
	clookups := lookups(capp)
	cas := cc.attempts()
	sas := scap.attempts()
	byISN := map[uint32][]*attempt{}
	for _, a := range sas {
		byISN[a.ISN] = append(byISN[a.ISN], a)
	}
	matched := map[*attempt]bool{}
	// Reference TTLs: SYN-ACKs by source address in each capture.
	refTTL, srvRefTTL := refTTLs(cas), refTTLs(sas)
	srvRefAddr := srvRefTTL.addr
	var problems []string
	tf := truthFile{Scenario: *name, Description: *desc, Fault: *fault, ClientFile: *cfile, ServerFile: *sfile,
		MergedFile: *merged, ClientVantage: "client", ServerVantage: "server", ClockOffsetS: *offset}
	if rotated != nil {
		tf.ClientFiles = append([]string(nil), rotated...)
		sort.Strings(tf.ClientFiles) // lexical, as a shell glob lists them
	}
	if *vantage == "unknown" {
		tf.ClientVantage, tf.ServerVantage = "unknown", "unknown"
	}
	for _, l := range clookups {
		if !l.ok() {
			tf.DNSFailed = append(tf.DNSFailed, dnsFailure{Client: l.Client.String(), Name: l.Name,
				Rcode: rcodeNames[l.Rcode], Answered: l.Answered, Queries: l.Queries})
		}
	}

	// The server capture's span on the client's clock (the lab's captures begin
	// and end with a UDP marker, so the span shows how long each one ran).
	span := [2]float64{scap.first - *offset, scap.last - *offset}
	tf.ServerSpan = span
	covered := func(t float64) bool { return t >= span[0] && t <= span[1] }
	summary := map[string]int{}
	// The ports of each server host the server capture holds attempts to.
	srvPorts := map[netip.Addr]map[uint16]bool{}
	for _, a := range sas {
		if srvPorts[a.Server.Addr()] == nil {
			srvPorts[a.Server.Addr()] = map[uint16]bool{}
		}
		srvPorts[a.Server.Addr()][a.Server.Port()] = true
	}
	anyShared := false
	for _, ca := range cas {
		anyShared = anyShared || len(byISN[ca.ISN]) == 1
	}
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
		sni, httpHost, httpStatus := appOf(capp, ca)
		dnsName, staleDNS := dnsNameOf(clookups, ca)
		// The kind: by the attempt's name (SNI, HTTP Host, DNS name), by
		// server ADDR:PORT, by server port, or *.
		var kind string
		ok := false
		for _, k := range []string{"@" + sni, "@" + httpHost, "@" + dnsName, ca.Server.String(), strconv.Itoa(int(ca.Server.Port())), "*"} {
			if k == "@" {
				continue
			}
			if kind, ok = kindOf[k]; ok {
				break
			}
		}
		if !ok {
			fail("no kind for port %d", ca.Server.Port())
			continue
		}
		nCovered := 0
		for _, t := range ca.SYNTimes {
			if covered(t) {
				nCovered++
			}
		}
		coverage := map[bool]string{true: "both", false: "partial"}[nCovered == ca.SYN]
		if sa == nil && !scap.addrs[ca.Server.Addr()] {
			// The server capture never shows the attempt's server address: it
			// was taken at another host (the dns scenario's stale answer), so
			// the attempt is out of its view, whatever the time.
			nCovered = 0
		}
		var both view
		if nCovered == 0 {
			// Out of the server capture's view: what happened is what the recipe
			// meant, as far as the client capture can confirm it; the joined view
			// is the client capture's own.
			coverage = "client-only"
			if sa != nil {
				fail("no SYN within the server capture's span, yet the server capture holds the attempt")
				continue
			}
			want := kinds[kind]
			if want[0] == "" {
				fail("kind %s cannot be derived out of the server capture's view", kind)
				continue
			}
			if got := clientVerdicts(ca); !contains(got, want[0]) {
				fail("meant %s (%s), the client capture shows %v", kind, want[0], got)
			}
			origin := map[string]string{"refused/server": "server", "refused/outbound-path": "path",
				"unreachable/outbound-path": "path", "reset/server": "server", "aborted/client": "client"}[want[0]+"/"+want[1]]
			both = v(want[0], want[1], nil, origin, "proven")
		} else {
			both, err = judge(ca, sa)
			if err != nil {
				fail("%v", err)
				continue
			}
			if want := kinds[kind]; want[0] != "" && (want[0] != both.Verdict || want[1] != both.Where) {
				fail("meant %s (%s/%s), the wire shows %s/%s", kind, want[0], want[1], both.Verdict, both.Where)
			}
			// With no attempt in both captures the analyzer cannot align
			// their clocks; a loss it proves by comparing them (a SYN the
			// server capture never shows, a RST it never sent) is likely.
			if sa == nil && !anyShared && both.Where == "outbound-path" && (both.Verdict == "timeout" || both.Verdict == "refused") {
				both.WhereConfidence = "likely"
			}
			// A server capture holding attempts to the server on one other port
			// only may have been taken with a filter leaving this port out: its
			// lack of the SYNs is then no proof of their loss.
			if ports := srvPorts[ca.Server.Addr()]; sa == nil && len(ports) == 1 && !ports[ca.Server.Port()] && both.Where == "outbound-path" {
				switch both.Verdict {
				case "timeout":
					both = v("timeout", "outbound-path", []string{"outbound-path", "server", "return-path"}, "", "likely")
				case "refused":
					both.WhereConfidence = "likely"
				}
			}
			// A server capture holding no SYN-ACK from the server, to any
			// client, may record one direction only: SYNs it shows
			// unanswered are then only likely dropped at the server, their
			// answers possibly lost on the way back, unseen.
			if sa != nil && both.Verdict == "timeout" && both.Where == "server" {
				if _, answersSeen := srvRefAddr[sa.Server.Addr()]; !answersSeen {
					both = v("timeout", "server", []string{"server", "return-path"}, "", "likely")
				}
			}
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
		case "out-drop", "ret-drop", "ret-icmp", "srv-drop", "client-fw":
			if ca.SYN < 2 {
				fail("timeout without SYN retransmissions (%d SYN)", ca.SYN)
			}
			if kind == "ret-icmp" && (sa == nil || sa.ReturnICMP == 0 || sa.ReturnICMPSrc == ca.Client.Addr()) {
				fail("no ICMP error from the path about the SYN-ACKs reached the server")
			}
		case "half-open":
			if sa == nil || sa.SYNACK < 2 {
				fail("half-open: server did not resend its SYN-ACK")
			}
		}
		ca.Hello = sniTime(capp, ca)
		cv, err := clientView(both, ca, refTTL)
		if err != nil {
			fail("%v", err)
			continue
		}
		var sv *view
		switch {
		case sa == nil:
		case tf.ServerVantage == "unknown":
			// One link, no router: the server capture shows what the client's
			// would, and is judged the same way. Behind a SYN proxy it shows
			// the server refusing the proxy's SYN.
			seen := both
			if sa.SYNACK == 0 && sa.ServerRST > 0 && both.Verdict == "reset" {
				seen = v("refused", "server", nil, "server", "proven")
			}
			x, err := clientView(seen, sa, srvRefTTL)
			if err != nil {
				fail("server capture: %v", err)
				continue
			}
			sv = &x
		default:
			_, answersSeen := srvRefAddr[sa.Server.Addr()]
			if sv, err = serverView(both, answersSeen, sa.First-scap.first); err != nil {
				fail("%v", err)
				continue
			}
			if both.Verdict == "timeout" && both.Where == "return-path" && sa.ReturnICMP > 0 && sa.ReturnICMPSrc != ca.Client.Addr() && ca.SYN >= 2 {
				// Something on the way back said so to the server, and the
				// client's resent SYNs show no SYN-ACK got through.
				x := v("timeout", "return-path", nil, "", "proven")
				sv = &x
			}
			if sv != nil && sv.Verdict == "timeout" && ca.ElsewhereSYNACK > 0 && sa.ClientRST > 0 && sa.ClientRSTBeforeACK {
				// The client reset the SYN-ACKs it got from an address it did
				// not connect to, and resent its SYN: the RSTs are its. (Only
				// then: a client RST a server sees for other reasons, as a
				// ret-drop run may show, is judged otherwise.)
				sv.RSTOrigin = "client"
			}
		}
		if coverage != "client-only" && (sa == nil) != (sv == nil) {
			if sa == nil {
				fail("%s/%s but the server capture does not hold the attempt", both.Verdict, both.Where)
			} else {
				fail("%s/%s but the server capture holds the attempt", both.Verdict, both.Where)
			}
			continue
		}
		if coverage == "client-only" {
			both = cv
		}
		// Timeout or incomplete: a timeout needs a capture showing the client
		// waiting at least 2 s since its first SYN.
		if cv.Verdict == "timeout" && cc.last-ca.First < 2 {
			fail("client capture ends %.2fs after the first SYN (< 2s)", cc.last-ca.First)
		}
		if sv != nil && sv.Verdict == "timeout" && scap.last-sa.First < 2 {
			fail("server capture ends %.2fs after the first SYN (< 2s)", scap.last-sa.First)
		}
		if l, ok := logs[ca.Client.String()+" "+ca.Server.String()]; ok && l.Outcome != "" {
			want := map[string][]string{
				"established": {"ok"}, "refused": {"refused"}, "unreachable": {"unreachable", "refused"}, "timeout": {"timeout", "connect-deadline"},
				"half-open": {"read-timeout", "read-error"}, "stalled": {"read-timeout"}, "reset": {"reset", "read-error"},
			}[both.Verdict]
			if want != nil && !contains(want, l.Outcome) {
				fail("client program says %s (%s), wire says %s", l.Outcome, l.Errno, both.Verdict)
			}
		}
		if to, ok := fellBack[ca.Client.String()+" "+ca.Server.String()]; ok {
			both.FellBackTo, cv.FellBackTo = to, to
		}
		// Causes, where the packets show one.
		setCause := func(cause string, verdicts ...string) {
			for _, x := range []*view{&both, &cv, sv} {
				if x != nil && slices.Contains(verdicts, x.Verdict) {
					x.Cause = cause
				}
			}
		}
		switch {
		case both.Verdict == "stalled" && both.Where == "return-path":
			if err := pmtuBlackHole(ca, sa); err == nil {
				setCause("pmtu-black-hole", "stalled")
			} else if kind == "pmtu" {
				fail("PMTU black hole: %v", err)
			}
		case both.Verdict == "reset" && both.Where == "outbound-path":
			// The path's RST came after the client's ClientHello (it carried
			// the SNI the path filters on); the server capture shows neither.
			if answersHello(ca) {
				both.Cause, cv.Cause = "blocked-after-client-hello", "blocked-after-client-hello"
			}
		case both.Verdict == "half-open" && both.Where == "server":
			// The server took the final ACK and dropped the connection: the
			// accept queue was full. The client alone cannot tell this from a
			// lost final ACK.
			both.Cause = "accept-queue-full"
			if sv != nil && sv.Verdict == "half-open" && sv.Where == "server" {
				sv.Cause = "accept-queue-full"
			}
		case both.Verdict == "reset" && both.Where == "server" && sa != nil && !sa.ServerEstablished && sa.ServerRSTNoACK:
			// tcp_abort_on_overflow: the server answered the final ACK with a
			// listener's RST (no ACK flag) and never sent anything else; the
			// client capture shows the same (the RST has the server's TTL).
			both.Cause = "accept-queue-full"
			if sv != nil && sv.Verdict == "reset" {
				sv.Cause = "accept-queue-full"
			}
			if cv.Verdict == "reset" && !ca.ServerEstablished && ca.ServerRSTNoACK {
				cv.Cause = "accept-queue-full"
			}
		}
		if httpStatus >= 502 && httpStatus <= 504 {
			setCause("gateway-error", "established")
		}
		if staleDNS && both.Verdict != "established" {
			// A newer answer for the name, before the connect, gave another
			// address: the connect went to a stale cached answer.
			setCause("dns", both.Verdict)
		}
		if sa != nil {
			if _, _, st := appOf(sapp, sa); st != httpStatus {
				fail("HTTP status %d in the client capture, %d in the server's", httpStatus, st)
			}
		}
		switch kind {
		case "pmtu":
			if both.Cause != "pmtu-black-hole" {
				fail("no PMTU black hole on the wire")
			}
		case "sni-blocked":
			if both.Cause != "blocked-after-client-hello" {
				fail("no RST after the ClientHello")
			}
		}
		t := truthAttempt{Client: ca.Client.String(), Server: ca.Server.String(), ISN: ca.ISN, Coverage: coverage,
			Wire: wireBoth{Client: counts(ca)}, Both: both, ClientView: cv, ServerView: sv,
			SNI: sni, HTTPHost: httpHost, HTTPStatus: httpStatus, DNSName: dnsName}
		if sa != nil {
			t.ClientSeenByServer, t.ServerSeenByServer, t.ISNSeenByServer = sa.Client.String(), sa.Server.String(), sa.ISN
			t.Wire.Server = counts(sa)
		}
		key := both.Verdict + "/" + both.Where
		if both.Cause != "" {
			key += " (" + both.Cause + ")"
		}
		summary[key+map[bool]string{true: " (client only)"}[coverage == "client-only"]]++
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

// clientVerdicts: the verdicts the client capture alone allows.
func clientVerdicts(ca *attempt) []string {
	switch {
	case ca.SYNACK > 0 && ca.ClientRSTBeforeACK && !ca.ClientACK:
		return []string{"aborted"}
	case ca.SYNACK > 0 && !ca.ClientACK:
		return []string{"timeout"}
	case ca.SYNACK > 0 && ca.ServerRST > 0:
		return []string{"reset", "half-open"}
	case ca.SYNACK > 0 && ca.ServerData:
		return []string{"established"}
	case ca.SYNACK > 0 && ca.ClientData:
		return []string{"stalled", "half-open"}
	case ca.SYNACK > 0:
		return []string{"established", "half-open"}
	case ca.ServerRSTToSYN:
		return []string{"refused"}
	case ca.ICMP > 0:
		return []string{"unreachable"}
	case ca.RST > 0:
		return nil
	}
	return []string{"timeout"}
}

// refs are the TTLs of the latest SYN-ACKs a capture holds from each
// server address, and from each address and port.
type refs struct {
	addr      map[netip.Addr]int
	port      map[netip.AddrPort]int
	portTimes map[netip.AddrPort][]float64 // each attempt's last SYN-ACK's time
	// minRTT is each address's quickest handshake of one SYN: from the
	// SYN to the SYN-ACK, as the capture saw them.
	minRTT map[netip.Addr]float64
}

func refTTLs(as []*attempt) refs {
	r := refs{addr: map[netip.Addr]int{}, port: map[netip.AddrPort]int{}, portTimes: map[netip.AddrPort][]float64{}, minRTT: map[netip.Addr]float64{}}
	for _, a := range as {
		if a.SYNACK > 0 {
			r.addr[a.Server.Addr()] = a.SYNACKTTL
			r.port[a.Server] = a.SYNACKTTL
			r.portTimes[a.Server] = append(r.portTimes[a.Server], a.LastSYNACK)
			if rtt, ok := r.minRTT[a.Server.Addr()]; a.SYN == 1 && (!ok || a.FirstSYNACK-a.First < rtt) {
				r.minRTT[a.Server.Addr()] = a.FirstSYNACK - a.First
			}
		}
	}
	return r
}

// readRotated reads a capture tcpdump -C split into files, in rotation order,
// as one capture.
func readRotated(dir string, files []string) (*capture, error) {
	all := &capture{file: strings.Join(files, ","), addrs: map[netip.Addr]bool{}}
	for i, f := range files {
		c, err := readCapture(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		if c.count == 0 {
			return nil, fmt.Errorf("%s is empty", f)
		}
		if i > 0 && c.first < all.last {
			return nil, fmt.Errorf("%s starts before %s ends", f, files[i-1])
		}
		if i == 0 {
			all.first = c.first
		}
		all.last = c.last
		all.count += c.count
		for ip := range c.addrs {
			all.addrs[ip] = true
		}
		all.pkts = append(all.pkts, c.pkts...)
	}
	return all, nil
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

// serverHole: the capture holds server segments after the handshake whose
// sequence numbers lie beyond the reply's first byte, which it never shows.
func serverHole(a *attempt) bool {
	if a.ServerDataFirst || a.SYNACK == 0 {
		return false
	}
	for _, p := range a.Pkts {
		if p.Src == a.Server && p.Flags&fSYN == 0 && int32(p.Seq-(a.ServerISN+1)) > 0 {
			return true
		}
	}
	return false
}

// pmtuBlackHole checks the signature of a PMTU black hole on the way back: the
// server capture holds data segments larger than any server packet the client
// capture shows, sent more than once (retransmitted), none of which reached the
// client; the client capture shows only small server segments, beyond a hole
// at the reply's first byte.
func pmtuBlackHole(ca, sa *attempt) error {
	if sa == nil {
		return fmt.Errorf("the server capture does not hold the attempt")
	}
	maxC := 0
	got := map[uint32]bool{}
	for _, p := range ca.Pkts {
		if p.Src == ca.Server && p.Flags&fSYN == 0 {
			maxC = max(maxC, p.IPLen)
			if p.Len > 0 {
				got[p.Seq] = true
			}
		}
	}
	if !serverHole(ca) {
		return fmt.Errorf("the client capture shows no hole before the server's segments")
	}
	sent := map[uint32]int{}
	big := 0
	for _, p := range sa.Pkts {
		if p.Src == sa.Server && p.Flags&fSYN == 0 && p.Len > 0 && p.IPLen > maxC {
			sent[p.Seq]++
			big++
			if got[p.Seq] {
				return fmt.Errorf("full-size segment seq %d reached the client", p.Seq)
			}
		}
	}
	retrans := 0
	for _, n := range sent {
		if n > 1 {
			retrans++
		}
	}
	if big == 0 || retrans == 0 {
		return fmt.Errorf("the server capture shows %d segments larger than the client's largest (%d bytes), %d retransmitted", big, maxC, retrans)
	}
	return nil
}

// ---- what the application layer shows (tshark's TLS, HTTP and DNS dissectors) ----

type appMsg struct {
	T          float64
	Src, Dst   netip.AddrPort
	SNI        string
	HTTPHost   string
	HTTPStatus int
	// DNS
	DNS      bool
	DNSID    string
	Response bool
	Name     string
	Rcode    int
	Answers  []netip.Addr
}

var appFields = []string{"frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
	"udp.srcport", "udp.dstport", "tls.handshake.extensions_server_name", "http.host", "http.response.code",
	"dns.id", "dns.flags.response", "dns.qry.name", "dns.flags.rcode", "dns.a"}

// readApp lists the TLS ClientHellos, HTTP requests and responses and DNS
// messages of the capture files (HTTP on ports 80-83, where the lab serves it).
func readApp(paths ...string) ([]appMsg, error) {
	var msgs []appMsg
	for _, path := range paths {
		out, err := tsharkRun(path, []string{"-d", "tcp.port==80-83,http", "-Y", "tls.handshake.type == 1 || http.request || http.response || (dns && !icmp && !icmpv6)"}, appFields)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			if line == "" {
				continue
			}
			col := strings.Split(line, "\t")
			for len(col) < len(appFields) {
				col = append(col, "")
			}
			get := func(name string) string {
				for i, f := range appFields {
					if f == name {
						v, _, _ := strings.Cut(col[i], ",")
						return v
					}
				}
				panic(name)
			}
			var m appMsg
			m.T, _ = strconv.ParseFloat(get("frame.time_epoch"), 64)
			src, dst := get("ip.src"), get("ip.dst")
			if src == "" {
				src, dst = get("ipv6.src"), get("ipv6.dst")
			}
			sp, dp := get("tcp.srcport"), get("tcp.dstport")
			if sp == "" {
				sp, dp = get("udp.srcport"), get("udp.dstport")
			}
			a, _ := netip.ParseAddr(src)
			b, _ := netip.ParseAddr(dst)
			spn, _ := strconv.Atoi(sp)
			dpn, _ := strconv.Atoi(dp)
			m.Src, m.Dst = netip.AddrPortFrom(a, uint16(spn)), netip.AddrPortFrom(b, uint16(dpn))
			m.SNI, m.HTTPHost = get("tls.handshake.extensions_server_name"), get("http.host")
			m.HTTPStatus, _ = strconv.Atoi(get("http.response.code"))
			if id := get("dns.id"); id != "" {
				m.DNS, m.DNSID = true, id
				m.Response = get("dns.flags.response") == "1" || get("dns.flags.response") == "True"
				m.Name = strings.ToLower(get("dns.qry.name"))
				m.Rcode, _ = strconv.Atoi(get("dns.flags.rcode"))
				for _, s := range strings.Split(col[len(appFields)-1], ",") {
					if ip, err := netip.ParseAddr(s); err == nil {
						m.Answers = append(m.Answers, ip)
					}
				}
			}
			msgs = append(msgs, m)
		}
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].T < msgs[j].T })
	return msgs, nil
}

// appOf: what the capture shows of the application on an attempt's 4-tuple
// between its first SYN and the next attempt on the same 4-tuple.
func appOf(msgs []appMsg, a *attempt) (sni, host string, status int) {
	for _, m := range msgs {
		if m.T < a.First || m.T >= a.End || m.DNS {
			continue
		}
		switch {
		case m.Src == a.Client && m.Dst == a.Server:
			if sni == "" {
				sni = m.SNI
			}
			if host == "" {
				host = m.HTTPHost
			}
		case m.Src == a.Server && m.Dst == a.Client:
			if status == 0 {
				status = m.HTTPStatus
			}
		}
	}
	return
}

// sniTime: when the client capture shows the attempt's ClientHello (0: never).
func sniTime(msgs []appMsg, a *attempt) float64 {
	for _, m := range msgs {
		if m.T >= a.First && m.T < a.End && m.SNI != "" && m.Src == a.Client && m.Dst == a.Server {
			return m.T
		}
	}
	return 0
}

type lookup struct {
	Client   netip.Addr
	Name     string
	Queries  int
	Answered bool
	Rcode    int
	Answers  []netip.Addr
	First    float64 // first query
	Answer   float64 // last response
}

func (l *lookup) ok() bool { return l.Answered && l.Rcode == 0 && len(l.Answers) > 0 }

// lookups groups the capture's DNS queries by client and name: a query starts a
// new lookup unless the previous one for that name got no address (a retry).
// Responses match queries by ID and client port.
func lookups(msgs []appMsg) []*lookup {
	var list []*lookup
	last := map[string]*lookup{}
	byQuery := map[string]*lookup{}
	for _, m := range msgs {
		if !m.DNS {
			continue
		}
		if !m.Response {
			k := m.Src.Addr().String() + " " + m.Name
			l := last[k]
			if l == nil || l.ok() || m.T-l.First > 10 {
				l = &lookup{Client: m.Src.Addr(), Name: m.Name, First: m.T}
				last[k] = l
				list = append(list, l)
			}
			l.Queries++
			byQuery[m.Src.String()+" "+m.DNSID] = l
			continue
		}
		l := byQuery[m.Dst.String()+" "+m.DNSID]
		if l == nil {
			continue
		}
		l.Answered, l.Rcode, l.Answer = true, m.Rcode, m.T
		l.Answers = append(l.Answers[:0], m.Answers...)
	}
	return list
}

var rcodeNames = map[int]string{1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

// dnsNameOf: the name of the last successful lookup answered before the
// attempt's first SYN whose addresses hold its server address; and whether a
// later lookup of that name answered without it (the first answer was stale).
func dnsNameOf(ls []*lookup, a *attempt) (name string, stale bool) {
	var hit *lookup
	for _, l := range ls {
		if l.ok() && l.Answer <= a.First && l.Client == a.Client.Addr() && slices.Contains(l.Answers, a.Server.Addr()) {
			hit = l
		}
	}
	if hit == nil {
		return "", false
	}
	for _, l := range ls {
		// Stale: a newer answer, before the connect, no longer held the
		// address (what the client could have known; later answers are not).
		if l.Name == hit.Name && l.Client == hit.Client && l.First > hit.First && l.Answer <= a.First && l.ok() && !slices.Contains(l.Answers, a.Server.Addr()) {
			stale = true
		}
	}
	return hit.Name, stale
}

// hops is how many routers a packet of ttl crossed, from the nearest
// initial TTL at or above it (64, 128 or 255).
func hops(ttl int) int {
	for _, initial := range []int{64, 128, 255} {
		if ttl <= initial {
			return initial - ttl
		}
	}
	return 0
}

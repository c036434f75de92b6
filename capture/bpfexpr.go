package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// Filter is a capture filter expression as tcpdump users type it, compiled
// in pure Go to classic BPF for each link type met: the kernel runs it in
// live capture, x/net's BPF interpreter in analyze. The subset (FilterHelp)
// means what tcpdump means by it, checked against tcpdump in the tests;
// anything else is refused with the word that is not supported.
type Filter struct {
	expr string
	root *fnode
	vms  map[uint32]*bpf.VM // per link type; nil entry: link type not supported
}

// FilterHelp describes the subset of tcpdump's filter language accepted.
const FilterHelp = `host ADDR, net CIDR, port N, portrange N-M, each optionally after src or dst
(and port/portrange after tcp or udp); tcp, udp, icmp, icmp6, ip, ip6; proto N;
and (&&), or (||), not (!), parentheses. "port 80 or 443" repeats the qualifiers.
Addresses are IPv4 or IPv6 literals (no names); packets with VLAN tags do not match,
as in tcpdump without the vlan keyword.`

// ParseFilter parses a filter expression; an empty one gives a nil Filter,
// which passes everything.
func ParseFilter(expr string) (*Filter, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	p := &fparser{}
	if err := p.lex(expr); err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	n, err := p.parseOr()
	if err == nil && p.i < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return &Filter{expr: expr, root: n, vms: map[uint32]*bpf.VM{}}, nil
}

// String is the expression as given.
func (f *Filter) String() string { return f.expr }

// Program compiles the filter for frames of a link type. Frames it passes
// go on to the instructions of accept (which must end in returns), frames
// it rejects return 0.
func (f *Filter) Program(link uint32, accept []bpf.Instruction) ([]bpf.Instruction, error) {
	off, ok := linkOffsets(link)
	if !ok {
		return nil, fmt.Errorf("filter %q: link type %d not supported", f.expr, link)
	}
	g := &fgen{off: off}
	tl, fl := g.label(), g.label()
	g.node(f.root, tl, fl)
	g.place(fl)
	g.emit(bpf.RetConstant{Val: 0})
	g.place(tl)
	for _, in := range accept {
		g.emit(in)
	}
	return g.resolve()
}

// Match reports whether the filter passes a frame of the given link type,
// running it in x/net's BPF interpreter. Frames of link types the filter
// cannot be compiled for do not match. It allocates only the first time it
// meets a link type.
func (f *Filter) Match(link uint32, data []byte) bool {
	vm, ok := f.vms[link]
	if !ok {
		prog, err := f.Program(link, []bpf.Instruction{bpf.RetConstant{Val: 1}})
		if err == nil {
			vm, err = bpf.NewVM(prog)
		}
		if err != nil {
			vm = nil
		}
		f.vms[link] = vm
	}
	if vm == nil {
		return false
	}
	n, err := vm.Run(data)
	return err == nil && n > 0
}

// linkInfo is where a link type puts the network layer.
type linkInfo struct {
	proto int  // offset of the EtherType, -1 when the IP version nibble tells
	net   int  // offset of the IP header
	only  byte // 4 or 6 when the link type carries one version only
}

func linkOffsets(link uint32) (linkInfo, bool) {
	switch link {
	case linkEthernet:
		return linkInfo{proto: 12, net: 14}, true
	case linkLinuxSLL:
		return linkInfo{proto: 14, net: 16}, true
	case linkLinuxSLL2:
		return linkInfo{proto: 0, net: 20}, true
	case linkRaw, linkRawDLT12, linkRawDLT14:
		return linkInfo{proto: -1, net: 0}, true
	case linkIPv4:
		return linkInfo{proto: -1, net: 0, only: 4}, true
	case linkIPv6:
		return linkInfo{proto: -1, net: 0, only: 6}, true
	}
	return linkInfo{}, false
}

// Parsing.

type fkind uint8

const (
	fAnd fkind = iota + 1
	fOr
	fNot
	fHost   // addr, dir
	fNet    // prefix, dir
	fPort   // lo..hi, dir, proto (0: tcp, udp or sctp)
	fProto  // proto over ip and ip6 (tcp, udp, proto N)
	fIP     // ip
	fIP6    // ip6
	fICMP   // icmp (IPv4 only)
	fICMP6  // icmp6
	fTrue   // nothing to test
	fIPNext // proto over one IP version: v
)

type fdir uint8

const (
	dirEither fdir = iota
	dirSrc
	dirDst
)

type fnode struct {
	kind   fkind
	l, r   *fnode
	dir    fdir
	pfx    netip.Prefix
	lo, hi uint16
	proto  uint8
	v      byte
}

type fparser struct {
	toks []string
	i    int
	// last is the qualifiers of the last primitive: "port 80 or 443".
	last []string
}

func (p *fparser) lex(s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')':
			p.toks = append(p.toks, string(c))
			i++
		case c == '!':
			if strings.HasPrefix(s[i:], "!=") {
				return errors.New(`"!=" is not supported (no byte comparisons)`)
			}
			p.toks = append(p.toks, "not")
			i++
		case strings.HasPrefix(s[i:], "&&"):
			p.toks = append(p.toks, "and")
			i += 2
		case strings.HasPrefix(s[i:], "||"):
			p.toks = append(p.toks, "or")
			i += 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()!&|", rune(s[j])) {
				j++
			}
			if j == i {
				return fmt.Errorf("%q is not supported", string(c))
			}
			w := s[i:j]
			if k := strings.IndexAny(w, "[]=<>"); k >= 0 {
				return fmt.Errorf("%q is not supported (no byte offsets or comparisons; see --help)", w)
			}
			p.toks = append(p.toks, w)
			i = j
		}
	}
	if len(p.toks) == 0 {
		return errors.New("empty")
	}
	return nil
}

func (p *fparser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *fparser) next() string {
	t := p.peek()
	if t != "" {
		p.i++
	}
	return t
}

func (p *fparser) parseOr() (*fnode, error) {
	l, err := p.parseAnd()
	for err == nil && p.peek() == "or" {
		p.next()
		var r *fnode
		if r, err = p.parseAnd(); err == nil {
			l = &fnode{kind: fOr, l: l, r: r}
		}
	}
	return l, err
}

func (p *fparser) parseAnd() (*fnode, error) {
	l, err := p.parseNot()
	for err == nil && p.peek() == "and" {
		p.next()
		var r *fnode
		if r, err = p.parseNot(); err == nil {
			l = &fnode{kind: fAnd, l: l, r: r}
		}
	}
	return l, err
}

func (p *fparser) parseNot() (*fnode, error) {
	switch p.peek() {
	case "not":
		p.next()
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &fnode{kind: fNot, l: n}, nil
	case "(":
		p.next()
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("missing )")
		}
		return n, nil
	case "":
		return nil, errors.New("expression ends too soon")
	}
	return p.primitive()
}

// qualifier words, in the order tcpdump takes them: protocol, direction,
// type.
var (
	fProtos = map[string]bool{"ip": true, "ip6": true, "tcp": true, "udp": true, "icmp": true, "icmp6": true}
	fDirs   = map[string]bool{"src": true, "dst": true}
	fTypes  = map[string]bool{"host": true, "net": true, "port": true, "portrange": true}
)

func (p *fparser) primitive() (*fnode, error) {
	var quals []string
	for {
		w := p.peek()
		if fProtos[w] || fDirs[w] || fTypes[w] || w == "proto" {
			quals = append(quals, p.next())
			if fTypes[w] || w == "proto" {
				break
			}
			continue
		}
		break
	}
	id := ""
	if len(quals) == 0 || !(fTypes[quals[len(quals)-1]] || quals[len(quals)-1] == "proto") {
		// A bare protocol ("tcp"), or an ID repeating the last qualifiers.
		w := p.peek()
		switch {
		case len(quals) > 0 && (w == "" || w == "and" || w == "or" || w == ")"):
			return p.protoOnly(quals)
		case len(quals) > 0 && fDirs[quals[len(quals)-1]]:
			quals = append(quals, "host") // "src 192.0.2.1"
		case len(quals) == 0 && p.last != nil && w != "" && w != "not" && w != "(":
			quals = p.last
		case len(quals) == 0:
			return nil, fmt.Errorf("%q is not supported (see --help for the words known)", w)
		default:
			return nil, fmt.Errorf("%q is not supported after %q", w, strings.Join(quals, " "))
		}
	}
	id = p.next()
	if id == "" || id == "and" || id == "or" || id == ")" {
		return nil, fmt.Errorf("%q needs a value", strings.Join(quals, " "))
	}
	p.last = quals
	return buildPrimitive(quals, id)
}

func (p *fparser) protoOnly(quals []string) (*fnode, error) {
	if len(quals) != 1 || !fProtos[quals[0]] {
		return nil, fmt.Errorf("%q needs a value", strings.Join(quals, " "))
	}
	switch quals[0] {
	case "ip":
		return &fnode{kind: fIP}, nil
	case "ip6":
		return &fnode{kind: fIP6}, nil
	case "tcp":
		return &fnode{kind: fProto, proto: 6}, nil
	case "udp":
		return &fnode{kind: fProto, proto: 17}, nil
	case "icmp":
		return &fnode{kind: fICMP}, nil
	}
	return &fnode{kind: fICMP6}, nil
}

func buildPrimitive(quals []string, id string) (*fnode, error) {
	typ := quals[len(quals)-1]
	dir, proto := dirEither, ""
	for _, q := range quals[:len(quals)-1] {
		switch {
		case q == "src":
			dir = dirSrc
		case q == "dst":
			dir = dirDst
		case fProtos[q] && proto == "":
			proto = q
		default:
			return nil, fmt.Errorf("%q is not supported in %q", q, strings.Join(quals, " "))
		}
	}
	switch typ {
	case "host", "net":
		if proto != "" {
			return nil, fmt.Errorf("%q is not supported before %s (write \"%s and %s %s\")", proto, typ, proto, typ, id)
		}
		var pfx netip.Prefix
		if typ == "host" {
			a, err := netip.ParseAddr(id)
			if err != nil {
				return nil, fmt.Errorf("host %q: not an IP address (names are not resolved)", id)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		} else {
			var err error
			if pfx, err = netip.ParsePrefix(id); err != nil {
				a, err2 := netip.ParseAddr(id)
				if err2 != nil {
					return nil, fmt.Errorf("net %q: not an address/prefix", id)
				}
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			if pfx.Masked() != pfx {
				return nil, fmt.Errorf("net %q: non-network bits set", id)
			}
		}
		return &fnode{kind: fHost, dir: dir, pfx: pfx}, nil
	case "port", "portrange":
		n := &fnode{kind: fPort, dir: dir}
		switch proto {
		case "":
		case "tcp":
			n.proto = 6
		case "udp":
			n.proto = 17
		default:
			return nil, fmt.Errorf("%q is not supported before %s", proto, typ)
		}
		lo, hi, ok := strings.Cut(id, "-")
		if typ == "port" && ok {
			return nil, fmt.Errorf("port %q: a range is written portrange", id)
		}
		if !ok {
			hi = lo
		}
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s %q: not a port number (service names are not resolved)", typ, id)
		}
		n.lo, n.hi = uint16(min(a, b)), uint16(max(a, b))
		return n, nil
	case "proto":
		if dir != dirEither {
			return nil, errors.New("src/dst do not apply to proto")
		}
		v, err := strconv.ParseUint(id, 10, 8)
		if err != nil {
			if p, ok := map[string]uint8{"tcp": 6, "udp": 17, "icmp": 1}[id]; ok {
				v = uint64(p)
			} else {
				return nil, fmt.Errorf("proto %q: not a protocol number", id)
			}
		}
		switch proto {
		case "":
			return &fnode{kind: fProto, proto: uint8(v)}, nil
		case "ip":
			return &fnode{kind: fIPNext, proto: uint8(v), v: 4}, nil
		case "ip6":
			return &fnode{kind: fIPNext, proto: uint8(v), v: 6}, nil
		}
		return nil, fmt.Errorf("%q is not supported before proto", proto)
	}
	return nil, fmt.Errorf("%q is not supported", typ)
}

// PassesSYN says whether the filter passes the SYN a client sends to a
// server, whatever a translation on the way did to its addresses and the
// client's port: known is false when the answer depends on them (a host
// or source port the capture's side may see rewritten). It builds the
// frames (Ethernet) and runs the filter: a few microseconds.
func (f *Filter) PassesSYN(client, server netip.AddrPort) (passes, known bool) {
	other := netip.AddrFrom4([4]byte{192, 0, 2, 77})
	if client.Addr().Is6() {
		other = netip.MustParseAddr("2001:db8::77")
	}
	if other == client.Addr() || other == server.Addr() {
		other = other.Next()
	}
	otherClient := netip.AddrPortFrom(other, client.Port()^0x5a5a)
	otherServer := netip.AddrPortFrom(other.Next(), server.Port())
	n := 0
	for _, c := range [...]netip.AddrPort{client, otherClient} {
		for _, s := range [...]netip.AddrPort{server, otherServer} {
			if f.Match(linkEthernet, synFrame(c, s)) {
				n++
			}
		}
	}
	return n == 4, n == 0 || n == 4
}

// synFrame is the Ethernet frame of a bare SYN from c to s.
func synFrame(c, s netip.AddrPort) []byte {
	b := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00}
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], c.Port())
	binary.BigEndian.PutUint16(tcp[2:], s.Port())
	binary.BigEndian.PutUint32(tcp[4:], 1)
	tcp[12] = 5 << 4
	tcp[13] = byte(FlagSYN)
	binary.BigEndian.PutUint16(tcp[14:], 64240)
	if c.Addr().Is4() {
		ip := make([]byte, 20)
		ip[0], ip[8], ip[9] = 0x45, 64, 6
		binary.BigEndian.PutUint16(ip[2:], 40)
		binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
		c4, s4 := c.Addr().As4(), s.Addr().As4()
		copy(ip[12:], c4[:])
		copy(ip[16:], s4[:])
		return append(append(b, ip...), tcp...)
	}
	b[12], b[13] = 0x86, 0xdd
	ip := make([]byte, 40)
	ip[0], ip[6], ip[7] = 0x60, 6, 64
	binary.BigEndian.PutUint16(ip[4:], 20)
	c16, s16 := c.Addr().As16(), s.Addr().As16()
	copy(ip[8:], c16[:])
	copy(ip[24:], s16[:])
	return append(append(b, ip...), tcp...)
}

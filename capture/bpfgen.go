package capture

import (
	"encoding/binary"
	"errors"

	"golang.org/x/net/bpf"
)

// fgen turns a parsed filter into classic BPF: each node is compiled with
// a label to jump to when it holds and one when it does not, and the
// labels, all forward, are resolved into relative skips at the end.
type fgen struct {
	off    linkInfo
	ins    []fins
	labels []int // label → instruction index; -1 until placed
}

// fins is one instruction; a JumpIf's branches go to labels (next: the
// instruction after).
type fins struct {
	in     bpf.Instruction
	jt, jf int // label, or next
	jmp    int // for an unconditional jump: its label
	asIs   bool
}

const next = -1

func (g *fgen) label() int {
	g.labels = append(g.labels, -1)
	return len(g.labels) - 1
}

func (g *fgen) place(l int) { g.labels[l] = len(g.ins) }

func (g *fgen) emit(in bpf.Instruction) {
	g.ins = append(g.ins, fins{in: in, jt: next, jf: next, jmp: next, asIs: true})
}

// test loads nothing: it compares A with v, going to t or f.
func (g *fgen) test(cond bpf.JumpTest, v uint32, t, f int) {
	g.ins = append(g.ins, fins{in: bpf.JumpIf{Cond: cond, Val: v}, jt: t, jf: f, jmp: next})
}

func (g *fgen) jump(l int) { g.ins = append(g.ins, fins{in: bpf.Jump{}, jt: next, jf: next, jmp: l}) }

func (g *fgen) resolve() ([]bpf.Instruction, error) {
	out := make([]bpf.Instruction, len(g.ins))
	skip := func(i, l int) (int, error) {
		if l == next {
			return 0, nil
		}
		d := g.labels[l] - i - 1
		if g.labels[l] < 0 || d < 0 {
			return 0, errors.New("filter: internal error: unresolved label")
		}
		return d, nil
	}
	for i, f := range g.ins {
		if f.asIs {
			out[i] = f.in
			continue
		}
		switch in := f.in.(type) {
		case bpf.JumpIf:
			t, err := skip(i, f.jt)
			if err != nil {
				return nil, err
			}
			e, err := skip(i, f.jf)
			if err != nil {
				return nil, err
			}
			if t > 255 || e > 255 {
				return nil, errors.New("filter: expression too long for classic BPF")
			}
			in.SkipTrue, in.SkipFalse = uint8(t), uint8(e)
			out[i] = in
		case bpf.Jump:
			d, err := skip(i, f.jmp)
			if err != nil {
				return nil, err
			}
			in.Skip = uint32(d)
			out[i] = in
		default:
			out[i] = f.in
		}
	}
	if len(out) > 4096 {
		return nil, errors.New("filter: expression too long for classic BPF")
	}
	return out, nil
}

func (g *fgen) ld(off, size int) { g.emit(bpf.LoadAbsolute{Off: uint32(off), Size: size}) }

func (g *fgen) node(n *fnode, t, f int) {
	switch n.kind {
	case fAnd:
		m := g.label()
		g.node(n.l, m, f)
		g.place(m)
		g.node(n.r, t, f)
	case fOr:
		m := g.label()
		g.node(n.l, t, m)
		g.place(m)
		g.node(n.r, t, f)
	case fNot:
		g.node(n.l, f, t)
	case fIP:
		g.version(4, t, f)
	case fIP6:
		g.version(6, t, f)
	case fICMP:
		g.ipNext(4, 1, t, f)
	case fICMP6:
		g.ipNext(6, 58, t, f)
	case fIPNext:
		g.ipNext(n.v, n.proto, t, f)
	case fProto:
		m := g.label()
		g.ipNext(4, n.proto, t, m)
		g.place(m)
		g.ipNext(6, n.proto, t, f)
	case fHost:
		g.host(n, t, f)
	case fPort:
		g.port(n, t, f)
	default:
		g.jump(t)
	}
}

// version tests whether the frame carries IP version v: the EtherType,
// or the version nibble on links without one.
func (g *fgen) version(v byte, t, f int) {
	switch {
	case g.off.only != 0 && g.off.only == v:
		g.jump(t)
	case g.off.only != 0:
		g.jump(f)
	case g.off.proto < 0:
		g.ld(g.off.net, 1)
		g.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0})
		g.test(bpf.JumpEqual, uint32(v)<<4, t, f)
	default:
		g.ld(g.off.proto, 2)
		et := uint32(0x0800)
		if v == 6 {
			et = 0x86dd
		}
		g.test(bpf.JumpEqual, et, t, f)
	}
}

// ipNext tests the protocol after the IP header as tcpdump does: IPv4's
// protocol field; IPv6's next header, or the one after a fragment header.
func (g *fgen) ipNext(v byte, proto uint8, t, f int) {
	m := g.label()
	g.version(v, m, f)
	g.place(m)
	if v == 4 {
		g.ld(g.off.net+9, 1)
		g.test(bpf.JumpEqual, uint32(proto), t, f)
		return
	}
	frag := g.label()
	g.ld(g.off.net+6, 1)
	g.test(bpf.JumpEqual, uint32(proto), t, frag)
	g.place(frag)
	g.test(bpf.JumpEqual, 44, next, f)
	g.ld(g.off.net+40, 1)
	g.test(bpf.JumpEqual, uint32(proto), t, f)
}

// host tests an address or prefix against the source and/or destination
// of IPv4 (and, as tcpdump does, ARP and RARP) or IPv6.
func (g *fgen) host(n *fnode, t, f int) {
	a := n.pfx.Addr()
	if a.Is4() {
		ip := g.label()
		g.version(4, ip, next)
		arp := g.label()
		if g.off.proto >= 0 {
			// ARP and RARP: sender and target protocol addresses.
			g.ld(g.off.proto, 2)
			g.test(bpf.JumpEqual, 0x0806, arp, next)
			g.test(bpf.JumpEqual, 0x8035, arp, f)
		} else {
			g.jump(f)
		}
		g.place(ip)
		g.addrs(n, g.off.net+12, g.off.net+16, t, f)
		if g.off.proto >= 0 {
			g.place(arp)
			g.addrs(n, g.off.net+14, g.off.net+24, t, f)
		}
		return
	}
	m := g.label()
	g.version(6, m, f)
	g.place(m)
	g.addrs(n, g.off.net+8, g.off.net+24, t, f)
}

// addrs compares the prefix with the address at src and/or dst.
func (g *fgen) addrs(n *fnode, src, dst int, t, f int) {
	switch n.dir {
	case dirSrc:
		g.prefix(n, src, t, f)
	case dirDst:
		g.prefix(n, dst, t, f)
	default:
		m := g.label()
		g.prefix(n, src, t, m)
		g.place(m)
		g.prefix(n, dst, t, f)
	}
}

// prefix compares the address at off with the prefix, a word at a time.
func (g *fgen) prefix(n *fnode, off int, t, f int) {
	b := n.pfx.Addr().AsSlice()
	bits := n.pfx.Bits()
	for w := 0; w*32 < bits; w++ {
		val := binary.BigEndian.Uint32(b[w*4:])
		mask := uint32(0xffffffff)
		if rest := bits - w*32; rest < 32 {
			mask <<= 32 - rest
		}
		g.ld(off+w*4, 4)
		if mask != 0xffffffff {
			g.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
		}
		last := (w+1)*32 >= bits
		if last {
			g.test(bpf.JumpEqual, val&mask, t, f)
		} else {
			g.test(bpf.JumpEqual, val&mask, next, f)
		}
	}
	if bits == 0 {
		g.jump(t)
	}
}

// port tests TCP, UDP and SCTP ports (or one protocol's) as tcpdump does:
// IPv4 not a later fragment, the port after the IPv4 header's length; IPv6
// with the transport header right after the fixed header.
func (g *fgen) port(n *fnode, t, f int) {
	protos := []uint32{132, 6, 17}
	if n.proto != 0 {
		protos = []uint32{uint32(n.proto)}
	}
	v6, ports6 := g.label(), g.label()
	g.version(4, next, v6)
	g.ld(g.off.net+9, 1)
	ports4 := g.label()
	g.anyProto(protos, ports4, f)
	g.place(ports4)
	g.ld(g.off.net+6, 2)
	g.ins = append(g.ins, fins{in: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff}, jt: f, jf: next, jmp: next})
	g.emit(bpf.LoadMemShift{Off: uint32(g.off.net)})
	g.portsAt(n, true, t, f)
	g.place(v6)
	g.version(6, next, f)
	g.ld(g.off.net+6, 1)
	g.anyProto(protos, ports6, f)
	g.place(ports6)
	g.portsAt(n, false, t, f)
}

// anyProto jumps to t if the loaded protocol is one of protos, else to f.
func (g *fgen) anyProto(protos []uint32, t, f int) {
	for i, p := range protos {
		miss := next
		if i == len(protos)-1 {
			miss = f
		}
		g.test(bpf.JumpEqual, p, t, miss)
	}
}

// portsAt compares the source and/or destination port, found after the
// IPv4 header (X holds its length) or the fixed IPv6 header.
func (g *fgen) portsAt(n *fnode, v4 bool, t, f int) {
	load := func(o int) {
		if v4 {
			g.emit(bpf.LoadIndirect{Off: uint32(g.off.net + o), Size: 2})
		} else {
			g.ld(g.off.net+40+o, 2)
		}
	}
	one := func(o int, t, f int) {
		load(o)
		if n.lo == n.hi {
			g.test(bpf.JumpEqual, uint32(n.lo), t, f)
			return
		}
		g.test(bpf.JumpGreaterOrEqual, uint32(n.lo), next, f)
		g.test(bpf.JumpGreaterThan, uint32(n.hi), f, t)
	}
	switch n.dir {
	case dirSrc:
		one(0, t, f)
	case dirDst:
		one(2, t, f)
	default:
		m := g.label()
		one(0, t, m)
		g.place(m)
		one(2, t, f)
	}
}

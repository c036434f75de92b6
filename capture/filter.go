package capture

import "golang.org/x/net/bpf"

// liveSnap is how much of each frame a live capture copies up: every
// header synpath reads (Ethernet, IPv6 with extension headers, TCP with
// options, an ICMP error quoting all of that) fits, payload need not. The
// payload readers take what is left: an HTTP request line and Host, the
// SNI of a ClientHello that puts it early (a name past the cut is not
// seen: AppInfo.Partial), a DNS message's question and first answers
// (DNSInfo.Cut beyond).
const liveSnap = 256

// liveFilter is the classic BPF program a live capture runs in the kernel
// on Ethernet frames: it keeps TCP, ICMP and ICMPv6, and DNS over UDP
// (port 53 either way, unfragmented; IPv6 with extension headers, and
// frames still VLAN-tagged, go to the decoder to sort out), drops the rest
// (other UDP, ARP, …), and cuts what it keeps to snap bytes, so a busy
// link costs little more than its handshakes and lookups.
func liveFilter(snap uint32) []bpf.Instruction {
	const vlan, port4, reject, accept = 18, 20, 24, 25 // indexes of the jump targets
	return []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2}, // EtherType
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 10 - 2},
		/* 2 */ bpf.LoadAbsolute{Off: 14 + 9, Size: 1}, // IPv4 protocol
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6, SkipTrue: accept - 4},
		/* 4 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipTrue: accept - 5},
		/* 5 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: reject - 6},
		/* 6 */ bpf.LoadAbsolute{Off: 14 + 6, Size: 2}, // fragment offset
		/* 7 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: reject - 8},
		/* 8 */ bpf.LoadMemShift{Off: 14}, // X: the IPv4 header length
		/* 9 */ bpf.Jump{Skip: port4 - 10},
		/* 10 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x86dd, SkipFalse: vlan - 11},
		/* 11 */ bpf.LoadAbsolute{Off: 14 + 6, Size: 1}, // IPv6 next header
		/* 12 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 58, SkipTrue: accept - 13},
		/* 13 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: accept - 14},
		/* 14 */ bpf.LoadAbsolute{Off: 14 + 40, Size: 2}, // UDP source port
		/* 15 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: portDNS, SkipTrue: accept - 16},
		/* 16 */ bpf.LoadAbsolute{Off: 14 + 42, Size: 2}, // UDP destination port
		/* 17 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: portDNS, SkipTrue: accept - 18, SkipFalse: reject - 18},
		/* 18 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8100, SkipTrue: accept - 19},
		/* 19 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x88a8, SkipTrue: accept - 20, SkipFalse: reject - 20},
		/* 20 */ bpf.LoadIndirect{Off: 14, Size: 2}, // UDP source port, after the IPv4 header
		/* 21 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: portDNS, SkipTrue: accept - 22},
		/* 22 */ bpf.LoadIndirect{Off: 14 + 2, Size: 2}, // UDP destination port
		/* 23 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: portDNS, SkipTrue: accept - 24, SkipFalse: reject - 24},
		/* 24 */ bpf.RetConstant{Val: 0},
		/* 25 */ bpf.RetConstant{Val: snap},
	}
}

// liveFilterRaw is liveFilter for frames that start at the IP header (a
// device without a link layer, or one ring over several interfaces).
func liveFilterRaw(snap uint32) []bpf.Instruction {
	const reject, accept = 10, 11
	return []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 0, Size: 1},
		/* 1 */ bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0},
		/* 2 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x40, SkipFalse: 6 - 3},
		/* 3 */ bpf.LoadAbsolute{Off: 9, Size: 1}, // IPv4 protocol
		/* 4 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6, SkipTrue: accept - 5},
		/* 5 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipTrue: accept - 6, SkipFalse: reject - 6},
		/* 6 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x60, SkipFalse: reject - 7},
		/* 7 */ bpf.LoadAbsolute{Off: 6, Size: 1}, // IPv6 next header
		/* 8 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 58, SkipTrue: accept - 9},
		/* 9 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipTrue: reject - 10, SkipFalse: accept - 10},
		/* 10 */ bpf.RetConstant{Val: 0},
		/* 11 */ bpf.RetConstant{Val: snap},
	}
}

package capture

import "golang.org/x/net/bpf"

// liveSnap is how much of each frame a live capture copies up: every
// header synpath reads (Ethernet, IPv6 with extension headers, TCP with
// options, an ICMP error quoting all of that) fits, payload need not.
const liveSnap = 256

// liveFilter is the classic BPF program a live capture runs in the kernel
// on Ethernet frames: it keeps TCP, ICMP and ICMPv6 (and IPv6 with
// extension headers, and frames still VLAN-tagged, for the decoder to sort
// out), drops the rest (UDP, ARP, …), and cuts what it keeps to snap
// bytes, so a busy link costs little more than its handshakes.
func liveFilter(snap uint32) []bpf.Instruction {
	const reject, accept = 11, 12 // indexes of the two returns
	return []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2}, // EtherType
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 5 - 2},
		/* 2 */ bpf.LoadAbsolute{Off: 14 + 9, Size: 1}, // IPv4 protocol
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6, SkipTrue: accept - 4},
		/* 4 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipTrue: accept - 5, SkipFalse: reject - 5},
		/* 5 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x86dd, SkipFalse: 9 - 6},
		/* 6 */ bpf.LoadAbsolute{Off: 14 + 6, Size: 1}, // IPv6 next header
		/* 7 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 58, SkipTrue: accept - 8},
		/* 8 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipTrue: reject - 9, SkipFalse: accept - 9},
		/* 9 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8100, SkipTrue: accept - 10},
		/* 10 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x88a8, SkipTrue: accept - 11, SkipFalse: reject - 11},
		/* 11 */ bpf.RetConstant{Val: 0},
		/* 12 */ bpf.RetConstant{Val: snap},
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

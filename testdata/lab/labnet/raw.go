package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// rawsyn sends -n bare SYNs (IPv4, MSS option only) from ports no socket owns, so
// the client kernel answers each SYN-ACK with a RST: a client-side abort made by a
// real kernel. One JSON line per SYN.
func rawsyn(args []string) error {
	fs := flag.NewFlagSet("rawsyn", flag.ExitOnError)
	to := fs.String("to", "", "server ADDR:PORT (IPv4)")
	n := fs.Int("n", 1, "SYNs, each from its own port")
	gap := fs.Duration("gap", 500*time.Millisecond, "pause after each SYN")
	fs.Parse(args)
	remote, err := netip.ParseAddrPort(*to)
	if err != nil || !remote.Addr().Is4() {
		return fmt.Errorf("-to must be an IPv4 ADDR:PORT")
	}
	src, err := sourceFor(remote)
	if err != nil {
		return err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_TCP)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	enc := json.NewEncoder(os.Stdout)
	for i := 0; i < *n; i++ {
		sport := uint16(42000 + rand.IntN(8000))
		isn := rand.Uint32()
		seg := make([]byte, 24)
		binary.BigEndian.PutUint16(seg[0:], sport)
		binary.BigEndian.PutUint16(seg[2:], remote.Port())
		binary.BigEndian.PutUint32(seg[4:], isn)
		seg[12] = 6 << 4 // data offset: 24 bytes
		seg[13] = 0x02   // SYN
		binary.BigEndian.PutUint16(seg[14:], 64240)
		copy(seg[20:], []byte{2, 4, 0x05, 0xb4}) // MSS 1460
		binary.BigEndian.PutUint16(seg[16:], tcpChecksum(src.As4(), remote.Addr().As4(), seg))
		if err := syscall.Sendto(fd, seg, 0, &syscall.SockaddrInet4{Addr: remote.Addr().As4()}); err != nil {
			return err
		}
		enc.Encode(map[string]any{"i": i, "local": netip.AddrPortFrom(src, sport).String(), "remote": remote.String(), "isn": isn, "outcome": "raw-syn-sent"})
		time.Sleep(*gap)
	}
	return nil
}

func tcpChecksum(src, dst [4]byte, seg []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(src[:])
	add(dst[:])
	sum += syscall.IPPROTO_TCP + uint32(len(seg))
	add(seg)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// vlan loads a three-instruction tc (SCHED_CLS, direct-action) eBPF program that
// pushes an 802.1Q tag (-push ID) or pops it (-pop), and pins it at -pin (on a bpf
// file system), for `tc filter add ... bpf object-pinned PATH direct-action`.
// The kernel here has neither the 8021q module nor act_vlan; cls_bpf is built in.
func vlan(args []string) error {
	fs := flag.NewFlagSet("vlan", flag.ExitOnError)
	push := fs.Int("push", 0, "VLAN ID to push (0: pop instead)")
	pin := fs.String("pin", "", "path to pin the program at")
	fs.Parse(args)
	const (
		movK  = 0xb7 // BPF_ALU64|BPF_MOV|BPF_K
		call  = 0x85
		exit  = 0x95
		push_ = 18 // BPF_FUNC_skb_vlan_push
		pop_  = 19 // BPF_FUNC_skb_vlan_pop
	)
	var prog []insn
	if *push > 0 {
		// r1 = skb (already); r2 = htons(ETH_P_8021Q) as the kernel reads a __be16; r3 = tci
		prog = []insn{{movK, 2, 0, 0x0081}, {movK, 3, 0, int32(*push)}, {call, 0, 0, push_}}
	} else {
		prog = []insn{{call, 0, 0, pop_}}
	}
	prog = append(prog, insn{movK, 0, 0, 0}, insn{exit, 0, 0, 0}) // TC_ACT_OK
	return loadAndPin(prog, *pin)
}

// corrupt loads (and pins) a tc program that damages, on an Ethernet
// link, IPv4 TCP segments from -port (to it, with -dst) whose SYN and ACK
// flags are -flags
// (0x12: SYN-ACKs, 0x02: SYNs): it overwrites their urgent pointer, which
// no stack reads without URG, and leaves the checksum as it was, so the
// receiver's stack discards them, as it would a segment a faulty link or a
// middlebox damaged. The sender's and the router's counters see nothing.
func corrupt(args []string) error {
	fs := flag.NewFlagSet("corrupt", flag.ExitOnError)
	port := fs.Int("port", 80, "TCP source port of the segments to damage")
	dst := fs.Bool("dst", false, "-port is their destination port")
	flags := fs.Int("flags", 0x12, "their SYN and ACK flags (0x12: SYN-ACK, 0x02: SYN)")
	pin := fs.String("pin", "", "path to pin the program at")
	fs.Parse(args)
	// Ethernet (14) + IPv4 without options (20): the protocol at 23, the
	// ports at 34 and 36, the flags at 47, the urgent pointer at 52. An
	// absolute load (the context in r6) reads the packet in network order
	// and gives the value in host order; out of bounds, it ends the program
	// returning 0 (TC_ACT_OK).
	portAt := int32(34)
	if *dst {
		portAt = 36
	}
	prog := []insn{
		{0xbf, 6 | 1<<4, 0, 0},       // r6 = r1 (skb)
		{0x30, 0, 0, 23},             // r0 = protocol
		{0x55, 0, 13, 6},             // if r0 != TCP goto out
		{0x30, 0, 0, 47},             // r0 = flags
		{0x57, 0, 0, 0x12},           // r0 &= SYN|ACK
		{0x55, 0, 10, int32(*flags)}, // if r0 != flags goto out
		{0x28, 0, 0, portAt},         // r0 = the port
		{0x55, 0, 8, int32(*port)},   // if r0 != port goto out
		{0x6a, 10, -8, 0x5a5a},       // *(u16 *)(r10-8) = 0x5a5a
		{0xbf, 1 | 6<<4, 0, 0},       // r1 = skb
		{0xb7, 2, 0, 52},             // r2 = offset of the urgent pointer
		{0xbf, 3 | 10<<4, 0, 0},      // r3 = r10
		{0x07, 3, 0, -8},             // r3 -= 8
		{0xb7, 4, 0, 2},              // r4 = 2 bytes
		{0xb7, 5, 0, 0},              // r5 = 0: no checksum update
		{0x85, 0, 0, 9},              // bpf_skb_store_bytes
		{0xb7, 0, 0, 0},              // out: r0 = TC_ACT_OK
		{0x95, 0, 0, 0},              // exit
	}
	return loadAndPin(prog, *pin)
}

// insn is one eBPF instruction.
type insn struct {
	code uint8
	regs uint8 // dst | src<<4
	off  int16
	imm  int32
}

// loadAndPin loads prog as a tc (SCHED_CLS) program and pins it at pin,
// for tc to attach with "bpf object-pinned".
func loadAndPin(prog []insn, pin string) error {
	license := []byte("GPL\x00")
	logBuf := make([]byte, 4096)
	var attr [128]byte
	le := binary.LittleEndian
	le.PutUint32(attr[0:], 3) // BPF_PROG_TYPE_SCHED_CLS
	le.PutUint32(attr[4:], uint32(len(prog)))
	le.PutUint64(attr[8:], uint64(uintptr(unsafe.Pointer(&prog[0]))))
	le.PutUint64(attr[16:], uint64(uintptr(unsafe.Pointer(&license[0]))))
	le.PutUint32(attr[24:], 1) // log_level
	le.PutUint32(attr[28:], uint32(len(logBuf)))
	le.PutUint64(attr[32:], uint64(uintptr(unsafe.Pointer(&logBuf[0]))))
	fd, _, errno := syscall.Syscall(321 /* SYS_BPF */, 5 /* BPF_PROG_LOAD */, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
	if errno != 0 {
		return fmt.Errorf("BPF_PROG_LOAD: %v: %s", errno, cstr(logBuf))
	}
	path := append([]byte(pin), 0)
	var pattr [16]byte
	le.PutUint64(pattr[0:], uint64(uintptr(unsafe.Pointer(&path[0]))))
	le.PutUint32(pattr[8:], uint32(fd))
	if _, _, errno := syscall.Syscall(321, 6 /* BPF_OBJ_PIN */, uintptr(unsafe.Pointer(&pattr[0])), uintptr(len(pattr))); errno != 0 {
		return fmt.Errorf("BPF_OBJ_PIN %s: %v", pin, errno)
	}
	return nil
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

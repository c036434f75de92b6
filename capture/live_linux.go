//go:build linux && !libpcap

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/net/bpf"
)

// OpenLive captures through an AF_PACKET ring (no cgo, no libpcap). On one
// interface the ring is bound to it and frames keep its link layer; on
// "any", or several interfaces, one ring takes every interface's packets
// (the kernel keeps them in time order) from the IP header on, as link
// type raw IP, each with its interface's index in Ref.Iface and Frame. A
// kernel filter passes only what synpath decodes, cut to its headers, and
// only what cfg.Filter passes. Next waits at most cfg.Wait for a packet,
// then returns ErrNoPacket, so the caller can let time pass for attempts
// in progress. It needs CAP_NET_RAW.
func OpenLive(cfg LiveConfig) (*Reader, error) {
	name := "live:" + strings.Join(cfg.Interfaces, ",")
	fail := func(err error) (*Reader, error) { return nil, &ReadError{File: name, Err: err} }
	all, err := net.Interfaces()
	if err != nil {
		return fail(err)
	}
	names := make(map[int]string, len(all))
	for _, ifi := range all {
		names[ifi.Index] = ifi.Name
	}
	var want []net.Interface
	anyIf := false
	for _, n := range cfg.Interfaces {
		if n == "any" {
			anyIf = true
			continue
		}
		i := slices.IndexFunc(all, func(ifi net.Interface) bool { return ifi.Name == n })
		if i < 0 {
			var known []string
			for _, ifi := range all {
				known = append(known, ifi.Name)
			}
			return nil, fmt.Errorf("no interface %s (interfaces: %s)", n, strings.Join(known, ", "))
		}
		want = append(want, all[i])
	}
	if len(want) == 0 && !anyIf {
		return fail(errors.New("no interface given"))
	}

	opts := []any{
		afpacket.OptPollTimeout(cfg.Wait),
		// Blocks are handed over when full or after this: verdicts stay
		// prompt on a quiet link.
		afpacket.OptBlockTimeout(20 * time.Millisecond),
		afpacket.OptNumBlocks(32), // 16 MiB of ring
	}
	var prog []bpf.Instruction
	link := uint32(linkRaw)
	if len(want) == 1 && !anyIf {
		ifi := want[0]
		opts = append(opts, afpacket.OptInterface(ifi.Name))
		// Devices without a link layer (tun, WireGuard) hand over bare IP.
		if len(ifi.HardwareAddr) > 0 || ifi.Flags&net.FlagLoopback != 0 {
			link = linkEthernet
		}
	} else {
		opts = append(opts, afpacket.SocketDgram)
		if !anyIf {
			// One ring, the chosen interfaces only.
			for i, ifi := range want {
				prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ifi.Index), SkipTrue: uint8(len(want) - i)})
			}
			prog = append(append([]bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtInterfaceIndex}}, prog...), bpf.RetConstant{Val: 0})
		}
	}
	ours := liveFilter(liveSnap)
	if link == linkRaw {
		ours = liveFilterRaw(liveSnap)
	}
	if cfg.Filter != nil {
		if ours, err = cfg.Filter.Program(link, ours); err != nil {
			return fail(err)
		}
	}
	prog = append(prog, ours...)

	tp, err := afpacket.NewTPacket(opts...)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("%w: run as root, or setcap cap_net_raw,cap_net_admin+ep %s", ErrPrivilege, exe())
		}
		return fail(fmt.Errorf("AF_PACKET: %w", err))
	}
	raw, err := bpf.Assemble(prog)
	if err == nil {
		err = tp.SetBPF(raw)
	}
	if err != nil {
		tp.Close()
		return fail(fmt.Errorf("kernel filter: %w", err))
	}
	src := &liveSource{tp: tp, link: link, since: time.Now()}
	return &Reader{name: name, src: src, closer: src, snap: liveSnap, ifNames: names}, nil
}

// ErrPrivilege is what opening a live capture without CAP_NET_RAW gives.
var ErrPrivilege = errors.New("capturing needs CAP_NET_RAW")

// exe is how the user runs this program, for the setcap hint.
func exe() string {
	if p, err := os.Executable(); err == nil && !strings.Contains(p, "go-build") {
		return p
	}
	return "$(which synpath)"
}

// liveSource reads frames from an AF_PACKET ring.
type liveSource struct {
	tp   *afpacket.TPacket
	link uint32
	// since is when the kernel filter was set: frames the ring took before
	// it did not pass it, and are passed over.
	since time.Time
}

func (s *liveSource) read(rec *record) error {
	for {
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			return ErrNoPacket
		}
		if err != nil {
			return err
		}
		if !s.since.IsZero() {
			if ci.Timestamp.Before(s.since) {
				continue
			}
			s.since = time.Time{}
		}
		*rec = record{data: data, ts: ci.Timestamp, link: s.link, cut: ci.Length > len(data), wire: ci.Length, iface: ci.InterfaceIndex,
			dir: ringDirection(data, s.link, ci.InterfaceIndex)}
		return nil
	}
}

// ringDirection reads which way a frame crossed the host from the ring
// slot it lies in: gopacket hands over the frame where the kernel wrote
// it (ZeroCopyReadPacketData) but not the packet type of the sockaddr_ll
// before it. A TPACKET_V3 slot is its header (48 bytes), then the
// sockaddr_ll (20), then, at tp_mac, the frame: tp_mac is 96 for a
// datagram socket or a device without a link layer, 82 for Ethernet
// (tpacket_rcv: the network header at TPACKET_ALIGN(68+16)). The slot is
// taken for one only if it says so itself: its tp_mac field that offset,
// its address family AF_PACKET, its interface the one gopacket reported;
// anything else (another layout, an older kernel's offsets) gives
// DirUnknown. The bytes read lie in the slot, before the frame: the frame
// always lies in the ring, since OpenLive never asks gopacket to insert
// VLAN tags (OptAddVLANHeader), the one case where it copies a frame out.
func ringDirection(data []byte, link uint32, ifindex int) Direction {
	if len(data) == 0 {
		return DirUnknown
	}
	mac := 96
	if link == linkEthernet {
		mac = 82
	}
	slot := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(data)), -mac)), 60)
	if int(binary.NativeEndian.Uint16(slot[24:26])) != mac || binary.NativeEndian.Uint16(slot[48:50]) != syscall.AF_PACKET ||
		int(int32(binary.NativeEndian.Uint32(slot[52:56]))) != ifindex {
		return DirUnknown
	}
	switch typ := slot[58]; {
	case typ == 4:
		return DirOut
	case typ <= 3:
		return DirIn
	}
	return DirUnknown
}

// Drops is how many packets the kernel dropped because the ring was full.
func (s *liveSource) Drops() uint64 {
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return 0
	}
	return uint64(v3.Drops())
}

func (s *liveSource) Close() error {
	s.tp.Close()
	return nil
}

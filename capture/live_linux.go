package capture

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/net/bpf"
)

// OpenLive captures on a network interface through an AF_PACKET ring (no
// cgo, no libpcap); on Ethernet a kernel filter passes only what synpath
// decodes, cut to its headers. Next waits at most wait for a packet, then
// returns ErrNoPacket, so the caller can let time pass for attempts in
// progress. It needs CAP_NET_RAW.
func OpenLive(iface string, wait time.Duration) (*Reader, error) {
	name := "live:" + iface
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, &ReadError{File: name, Err: err}
	}
	// Devices without a link layer (tun, WireGuard) hand over bare IP.
	link := uint32(linkEthernet)
	if len(ifi.HardwareAddr) == 0 {
		link = linkRaw
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(iface),
		afpacket.OptPollTimeout(wait),
		// Blocks are handed over when full or after this: verdicts stay
		// prompt on a quiet link.
		afpacket.OptBlockTimeout(20*time.Millisecond),
		afpacket.OptNumBlocks(32), // 16 MiB of ring
	)
	if err != nil {
		return nil, &ReadError{File: name, Err: fmt.Errorf("AF_PACKET on %s: %w", iface, err)}
	}
	if link == linkEthernet {
		prog, err := bpf.Assemble(liveFilter(liveSnap))
		if err == nil {
			err = tp.SetBPF(prog)
		}
		if err != nil {
			tp.Close()
			return nil, &ReadError{File: name, Err: fmt.Errorf("filter on %s: %w", iface, err)}
		}
	}
	src := &liveSource{tp: tp, link: link}
	return &Reader{name: name, src: src, closer: src}, nil
}

// liveSource reads frames from an AF_PACKET ring.
type liveSource struct {
	tp   *afpacket.TPacket
	link uint32
}

func (s *liveSource) read(rec *record) error {
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if errors.Is(err, afpacket.ErrTimeout) {
		return ErrNoPacket
	}
	if err != nil {
		return err
	}
	*rec = record{data: data, ts: ci.Timestamp, link: s.link, cut: ci.Length > len(data)}
	return nil
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

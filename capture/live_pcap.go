//go:build libpcap

package capture

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/gopacket/gopacket/pcap"
)

// OpenLive, in a build with -tags libpcap, captures through libpcap (cgo):
// for jump hosts without AF_PACKET (macOS, the BSDs). One interface (or
// "any" where libpcap has it); libpcap compiles the filter, synpath's own
// (TCP, ICMP, ICMPv6) and cfg.Filter's, and cuts frames to their headers.
func OpenLive(cfg LiveConfig) (*Reader, error) {
	name := "live:" + strings.Join(cfg.Interfaces, ",")
	fail := func(err error) (*Reader, error) { return nil, &ReadError{File: name, Err: err} }
	if len(cfg.Interfaces) != 1 {
		return fail(errors.New("with libpcap, give one interface (-i any where libpcap has it)"))
	}
	iface := cfg.Interfaces[0]
	if iface != "any" {
		devs, err := pcap.FindAllDevs()
		if err == nil {
			var known []string
			found := false
			for _, d := range devs {
				known = append(known, d.Name)
				found = found || d.Name == iface
			}
			if !found {
				return nil, fmt.Errorf("no interface %s (interfaces: %s)", iface, strings.Join(known, ", "))
			}
		}
	}
	in, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return fail(err)
	}
	defer in.CleanUp()
	for _, err := range []error{in.SetSnapLen(liveSnap), in.SetTimeout(cfg.Wait), in.SetImmediateMode(true), in.SetPromisc(false)} {
		if err != nil {
			return fail(err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		if strings.Contains(err.Error(), "ermission") {
			if runtime.GOOS == "linux" {
				return nil, fmt.Errorf("%w: run as root, or setcap cap_net_raw,cap_net_admin+ep $(which synpath)", ErrPrivilege)
			}
			return nil, fmt.Errorf("%w: run as root, or give your user read access to /dev/bpf*", ErrPrivilege)
		}
		return fail(err)
	}
	expr := "tcp or icmp or icmp6"
	if cfg.Filter != nil {
		expr = "(" + expr + ") and (" + cfg.Filter.String() + ")"
	}
	if err := h.SetBPFFilter(expr); err != nil {
		h.Close()
		return fail(fmt.Errorf("filter: %w", err))
	}
	src := &pcapLiveSource{h: h, link: uint32(h.LinkType())}
	return &Reader{name: name, src: src, closer: src, snap: liveSnap, ifNames: map[int]string{0: iface}}, nil
}

// ErrPrivilege is what opening a live capture without the right to gives.
var ErrPrivilege = errors.New(map[bool]string{true: "capturing needs CAP_NET_RAW", false: "capturing needs access to /dev/bpf*"}[runtime.GOOS == "linux"])

type pcapLiveSource struct {
	h    *pcap.Handle
	link uint32
}

func (s *pcapLiveSource) read(rec *record) error {
	data, ci, err := s.h.ZeroCopyReadPacketData()
	if errors.Is(err, pcap.NextErrorTimeoutExpired) {
		return ErrNoPacket
	}
	if err != nil {
		return err
	}
	*rec = record{data: data, ts: ci.Timestamp, link: s.link, cut: ci.Length > len(data), wire: ci.Length}
	return nil
}

// Drops is how many packets the kernel (or the interface) dropped.
func (s *pcapLiveSource) Drops() uint64 {
	st, err := s.h.Stats()
	if err != nil {
		return 0
	}
	return uint64(st.PacketsDropped + st.PacketsIfDropped)
}

func (s *pcapLiveSource) Close() error {
	s.h.Close()
	return nil
}

package main

import (
	"flag"
	"fmt"
	"net"
	"syscall"
	"time"
)

// delay bridges two interfaces of one namespace at layer 2, each frame passed
// on a fixed time after it arrived, in order: a long link (a server far off)
// made without sch_netem, which this kernel lacks, and without tc's fq, which
// an eBPF departure time would need. Frames keep their bytes (no hop, no TTL
// change); each direction keeps its order. Runs until killed.
func delay(args []string) error {
	fs := flag.NewFlagSet("delay", flag.ExitOnError)
	a := fs.String("a", "", "one interface")
	b := fs.String("b", "", "the other")
	d := fs.Duration("d", 40*time.Millisecond, "one-way delay")
	fs.Parse(args)
	fa, ia, err := rawSocket(*a)
	if err != nil {
		return err
	}
	fb, ib, err := rawSocket(*b)
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	go func() { errs <- passOn(fa, fb, ib, *d) }()
	go func() { errs <- passOn(fb, fa, ia, *d) }()
	fmt.Printf("ready: %s <-> %s, %v each way\n", *a, *b, *d)
	return <-errs
}

// rawSocket opens a packet socket on the interface named that does not see
// the frames sent on it (those are the other side's, passed on). A veth
// filters no address: its socket gets the frames for the hosts beyond it
// without promiscuous mode.
func rawSocket(name string) (fd, index int, err error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return -1, 0, err
	}
	const ethPAll = 0x0300 // htons(ETH_P_ALL)
	fd, err = syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, ethPAll)
	if err != nil {
		return -1, 0, fmt.Errorf("packet socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: ethPAll, Ifindex: ifi.Index}); err != nil {
		return -1, 0, fmt.Errorf("bind %s: %w", name, err)
	}
	const packetIgnoreOutgoing = 23 // PACKET_IGNORE_OUTGOING, Linux 4.20
	if err := syscall.SetsockoptInt(fd, syscall.SOL_PACKET, packetIgnoreOutgoing, 1); err != nil {
		return -1, 0, fmt.Errorf("%s: PACKET_IGNORE_OUTGOING: %w", name, err)
	}
	return fd, ifi.Index, nil
}

type delayedFrame struct {
	due   time.Time
	bytes []byte
}

// passOn reads frames from one socket and sends each on the other's
// interface d after it arrived. The queue holds a second of a lab's
// traffic; a fuller one stops reading, as a link's full buffer would.
func passOn(from, to, toIndex int, d time.Duration) error {
	queue := make(chan delayedFrame, 4096)
	errs := make(chan error, 1)
	go func() {
		for f := range queue {
			time.Sleep(time.Until(f.due))
			if err := syscall.Sendto(to, f.bytes, 0, &syscall.SockaddrLinklayer{Ifindex: toIndex}); err != nil {
				errs <- fmt.Errorf("send: %w", err)
				return
			}
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, _, err := syscall.Recvfrom(from, buf, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		select {
		case err := <-errs:
			return err
		default:
		}
		queue <- delayedFrame{due: time.Now().Add(d), bytes: append([]byte(nil), buf[:n]...)}
	}
}

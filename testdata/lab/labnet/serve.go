package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// serve listens on every -l ADDR,MODE[,BACKLOG] and on every -udp ADDR (echo, the
// end-of-capture marker), prints "ready" once all sockets listen, and runs until killed.
//
// Modes: echo (read the request, answer "OK <n>\n", close after the client's FIN),
// silent (accept, read, never answer, never close), noaccept (listen, never accept),
// rst (accept, read the request, close with SO_LINGER 0: the kernel sends RST).
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var tcps, udps listFlag
	fs.Var(&tcps, "l", "ADDR,MODE[,BACKLOG] (repeatable)")
	fs.Var(&udps, "udp", "ADDR of a UDP echo socket (repeatable)")
	fs.Parse(args)
	var held sync.Mutex
	var keep []net.Conn // silent mode: never closed
	for _, spec := range tcps {
		parts := strings.Split(spec, ",")
		if len(parts) < 2 {
			return fmt.Errorf("bad -l %q", spec)
		}
		ap, err := netip.ParseAddrPort(parts[0])
		if err != nil {
			return err
		}
		backlog := 128
		if len(parts) > 2 {
			if backlog, err = strconv.Atoi(parts[2]); err != nil {
				return err
			}
		}
		mode := parts[1]
		ln, err := listenBacklog(ap, backlog)
		if err != nil {
			return fmt.Errorf("listen %s: %w", ap, err)
		}
		switch mode {
		case "noaccept":
			continue // the listener stays open; nothing is ever accepted
		case "echo", "silent", "rst":
		default:
			return fmt.Errorf("unknown mode %q", mode)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					buf := make([]byte, 4096)
					c.SetReadDeadline(time.Now().Add(30 * time.Second))
					n, _ := c.Read(buf)
					switch mode {
					case "echo":
						fmt.Fprintf(c, "OK %d\n", n)
						io.Copy(io.Discard, c) // until the client's FIN
						c.Close()
					case "silent":
						held.Lock()
						keep = append(keep, c)
						held.Unlock()
						io.Copy(io.Discard, c)
					case "rst":
						c.(*net.TCPConn).SetLinger(0)
						c.Close()
					}
				}()
			}
		}()
	}
	for _, a := range udps {
		pc, err := net.ListenPacket("udp", a)
		if err != nil {
			return err
		}
		go func() {
			buf := make([]byte, 1500)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo(buf[:n], from)
			}
		}()
	}
	fmt.Println("ready")
	os.Stdout.Sync()
	select {}
}

// listenBacklog opens a TCP listener with an exact listen(2) backlog (net.Listen
// always uses somaxconn).
func listenBacklog(ap netip.AddrPort, backlog int) (net.Listener, error) {
	family := syscall.AF_INET
	if ap.Addr().Is6() {
		family = syscall.AF_INET6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if family == syscall.AF_INET6 {
		syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1)
	}
	if err := syscall.Bind(fd, sockaddr(ap)); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close()
	return net.FileListener(f)
}

func sockaddr(ap netip.AddrPort) syscall.Sockaddr {
	if ap.Addr().Is4() {
		return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func fromSockaddr(sa syscall.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

var errnoNames = map[syscall.Errno]string{
	syscall.ECONNREFUSED: "ECONNREFUSED", syscall.ETIMEDOUT: "ETIMEDOUT",
	syscall.EHOSTUNREACH: "EHOSTUNREACH", syscall.ENETUNREACH: "ENETUNREACH",
	syscall.EACCES: "EACCES", syscall.EPERM: "EPERM", syscall.ECONNRESET: "ECONNRESET",
	syscall.EPIPE: "EPIPE", syscall.ECONNABORTED: "ECONNABORTED",
}

func errnoName(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		if s, ok := errnoNames[en]; ok {
			return s
		}
		return fmt.Sprintf("errno %d", int(en))
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "deadline"
	}
	if errors.Is(err, io.EOF) {
		return "EOF"
	}
	return ""
}

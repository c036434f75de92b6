package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
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
// rst (accept, read the request, close with SO_LINGER 0: the kernel sends RST),
// big (read the request, answer bigReply bytes in one write, close after the
// client's FIN), tls (TLS handshake with a throwaway self-signed certificate, read
// the request, answer "OK <n>\n", close after the client's close; a connection
// whose ClientHello never comes is held open), http-CODE (read an HTTP request,
// answer status CODE with a short body and Connection: close, then close).
//
// -dns ADDR serves DNS on UDP by the -rr rules (see dnsServe).
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var tcps, udps, rrs listFlag
	fs.Var(&tcps, "l", "ADDR,MODE[,BACKLOG] (repeatable)")
	fs.Var(&udps, "udp", "ADDR of a UDP echo socket (repeatable)")
	dnsAddr := fs.String("dns", "", "ADDR of a UDP DNS server answering by the -rr rules")
	fs.Var(&rrs, "rr", "NAME=ANSWER[/ANSWER...] DNS rule (repeatable): ANSWER is an IPv4 address, NXDOMAIN, SERVFAIL, REFUSED or DROP (no answer); the n-th query for NAME gets the n-th ANSWER, the last one repeats")
	fs.Parse(args)
	if *dnsAddr != "" {
		if err := dnsServe(*dnsAddr, rrs); err != nil {
			return err
		}
	}
	var tlsConf *tls.Config
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
		httpCode := 0
		switch {
		case mode == "noaccept":
			continue // the listener stays open; nothing is ever accepted
		case mode == "echo", mode == "silent", mode == "rst", mode == "big":
		case mode == "tls":
			if tlsConf == nil {
				if tlsConf, err = selfSigned(); err != nil {
					return err
				}
			}
		case strings.HasPrefix(mode, "http-"):
			if httpCode, err = strconv.Atoi(strings.TrimPrefix(mode, "http-")); err != nil {
				return fmt.Errorf("bad mode %q", mode)
			}
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
					raw := c
					if mode == "tls" {
						// No deadline: a connection whose ClientHello was blocked
						// stays open and silent until the lab kills the server.
						tc := tls.Server(c, tlsConf)
						if err := tc.Handshake(); err != nil {
							held.Lock()
							keep = append(keep, c)
							held.Unlock()
							return
						}
						c = tc
					}
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
					case "big":
						c.Write(bytes.Repeat([]byte("x"), bigReply))
						io.Copy(io.Discard, c)
						c.Close()
					case "tls":
						// Closed without close_notify: the client has closed its
						// socket by then, and an alert would only draw its RST.
						fmt.Fprintf(c, "OK %d\n", n)
						io.Copy(io.Discard, c)
						raw.Close()
					default: // http-CODE
						body := fmt.Sprintf("%d from synpath-lab\n", httpCode)
						fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
							httpCode, httpStatusText[httpCode], len(body), body)
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

// bigReply: the big mode's answer, far more than fits in one segment (and more
// than the initial congestion window of ten).
const bigReply = 20000

var httpStatusText = map[int]string{200: "OK", 500: "Internal Server Error", 502: "Bad Gateway",
	503: "Service Unavailable", 504: "Gateway Timeout"}

// selfSigned makes a throwaway certificate for lab.example (the clients do not
// verify it; its names must not contain the SNI the router filters on).
func selfSigned() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab.example"},
		DNSNames: []string{"lab.example"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, nil
}

// dnsServe answers A queries on UDP ADDR by rules NAME=ANSWER[/ANSWER...]: an
// IPv4 address (NOERROR with that A record, TTL 1), NXDOMAIN, SERVFAIL, REFUSED,
// or DROP (no answer at all). The n-th query for NAME gets the n-th answer (the
// last one repeats), so NAME=203.0.113.7/203.0.113.5 changes its answer after
// the first lookup. Other names, and other query types for known names, get
// NXDOMAIN and an empty NOERROR.
func dnsServe(addr string, rules []string) error {
	answers := map[string][]string{}
	for _, r := range rules {
		name, as, ok := strings.Cut(r, "=")
		if !ok {
			return fmt.Errorf("bad -rr %q", r)
		}
		answers[strings.ToLower(strings.TrimSuffix(name, "."))] = strings.Split(as, "/")
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	asked := map[string]int{}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			if n < 12 || q[2]&0x80 != 0 || binary.BigEndian.Uint16(q[4:]) != 1 {
				continue
			}
			// The question: labels up to the root, then type and class.
			i, labels := 12, []string{}
			for i < n && q[i] != 0 && q[i] < 64 && i+1+int(q[i]) <= n {
				labels = append(labels, string(q[i+1:i+1+int(q[i])]))
				i += 1 + int(q[i])
			}
			if i+5 > n {
				continue
			}
			qend := i + 5
			qtype := binary.BigEndian.Uint16(q[i+1:])
			name := strings.ToLower(strings.Join(labels, "."))
			as, known := answers[name]
			rcode, ans := byte(3), "" // NXDOMAIN
			if known {
				k := asked[name]
				asked[name] = k + 1
				a := as[min(k, len(as)-1)]
				switch a {
				case "DROP":
					continue
				case "NXDOMAIN":
				case "SERVFAIL":
					rcode = 2
				case "REFUSED":
					rcode = 5
				default:
					rcode = 0
					if qtype == 1 {
						ans = a
					}
				}
			}
			resp := make([]byte, 0, 64)
			resp = append(resp, q[0], q[1], 0x84|q[2]&0x79, 0x80|rcode, 0, 1, 0, 0, 0, 0, 0, 0)
			resp = append(resp, q[12:qend]...)
			if ip, err := netip.ParseAddr(ans); err == nil && ip.Is4() {
				resp[7] = 1
				a4 := ip.As4()
				resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4)
				resp = append(resp, a4[:]...)
			}
			if rcode == 5 { // REFUSED: a server that refuses does not say authoritative
				resp[2] &^= 0x04
			}
			pc.WriteTo(resp, from)
		}
	}()
	return nil
}

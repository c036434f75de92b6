package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

type attemptLog struct {
	I         int     `json:"i"`
	Local     string  `json:"local"`
	Remote    string  `json:"remote"`
	Outcome   string  `json:"outcome"`
	Errno     string  `json:"errno,omitempty"`
	ConnectMS float64 `json:"connect_ms"`
	Reply     string  `json:"reply,omitempty"`
	Name      string  `json:"name,omitempty"` // -to by name: the name looked up
	Lookup    string  `json:"lookup,omitempty"`
}

// connect makes -n attempts to -to, -c at a time, -stagger apart. Each attempt:
// connect (give up after -timeout), send -req, read one reply (give up after
// -read-timeout), close. One JSON line per attempt on stdout. -then STR sends
// STR -then-after the reply and reads once more: a connection that is reset
// later in its life.
//
// -to NAME:PORT looks NAME up first (Go's own resolver, A records, reading the
// namespace's /etc/resolv.conf); a failed lookup is logged (outcome dns-error)
// and makes no attempt. -tls SNI runs a TLS handshake (server name SNI, the
// certificate not verified) before the request; -http-host HOST sends
// "GET / HTTP/1.1" with that Host header instead of -req.
func connect(args []string) error {
	fs := flag.NewFlagSet("connect", flag.ExitOnError)
	to := fs.String("to", "", "server ADDR:PORT")
	n := fs.Int("n", 1, "attempts")
	conc := fs.Int("c", 1, "concurrent attempts")
	timeout := fs.Duration("timeout", 30*time.Second, "connect timeout (the kernel's SYN retries usually end first)")
	readTimeout := fs.Duration("read-timeout", 2*time.Second, "read timeout")
	stagger := fs.Duration("stagger", 0, "delay between attempt starts")
	req := fs.String("req", "GET / synpath-lab\n", "request sent after connect (empty: none)")
	hold := fs.Duration("hold", 0, "keep the connection open this long after the reply (or read timeout) before closing")
	sni := fs.String("tls", "", "TLS server name: run a TLS handshake before the request")
	httpHost := fs.String("http-host", "", "send GET / HTTP/1.1 with this Host header instead of -req")
	cached := fs.Bool("cached", false, "with -to NAME:PORT: look the name up twice and connect to the first answer, as a client whose cache outlived the record")
	fallback := fs.String("fallback", "", "ADDR:PORT to race against -to (Happy Eyeballs): dialled -fallback-after the first if that has not connected; the first connected wins, the other's connect is abandoned")
	fallbackAfter := fs.Duration("fallback-after", 250*time.Millisecond, "with -fallback: how long the first dial goes alone")
	then := fs.String("then", "", "after the reply (or read timeout), send this too and read again (the outcome is the second read's)")
	thenAfter := fs.Duration("then-after", time.Second, "with -then: how long the connection sits idle before it")
	fs.Parse(args)
	if *httpHost != "" {
		*req = "GET / HTTP/1.1\r\nHost: " + *httpHost + "\r\nUser-Agent: synpath-lab\r\nConnection: close\r\n\r\n"
	}
	name := ""
	remote, err := netip.ParseAddrPort(*to)
	if err != nil {
		host, port, err := net.SplitHostPort(*to)
		if err != nil {
			return err
		}
		name = host
		r := net.Resolver{PreferGo: true}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		ips, err := r.LookupNetIP(ctx, "ip4", host)
		cancel()
		if err != nil || len(ips) == 0 {
			return json.NewEncoder(os.Stdout).Encode(attemptLog{Remote: *to, Outcome: "dns-error", Errno: fmt.Sprint(err), Name: name})
		}
		if remote, err = netip.ParseAddrPort(net.JoinHostPort(ips[0].Unmap().String(), port)); err != nil {
			return err
		}
		if *cached {
			// The newer answer is looked up and ignored: the cache wins.
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			_, _ = r.LookupNetIP(ctx, "ip4", host)
			cancel()
		}
	}
	src, err := sourceFor(remote)
	if err != nil {
		return err
	}
	var alt netip.AddrPort
	var altSrc netip.Addr
	if *fallback != "" {
		if alt, err = netip.ParseAddrPort(*fallback); err != nil {
			return err
		}
		if altSrc, err = sourceFor(alt); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	sem := make(chan struct{}, *conc)
	var wg sync.WaitGroup
	for i := 0; i < *n; i++ {
		if i > 0 && *stagger > 0 {
			time.Sleep(*stagger)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if alt.IsValid() {
				ls := race(i, src, remote, altSrc, alt, *fallbackAfter, *timeout, *readTimeout, exchange{*req, *then, *thenAfter}, *hold, *sni)
				mu.Lock()
				for _, l := range ls {
					enc.Encode(l)
				}
				mu.Unlock()
				return
			}
			l := one(context.Background(), i, src, remote, *timeout, *readTimeout, exchange{*req, *then, *thenAfter}, *hold, *sni, nil)
			if name != "" {
				l.Name, l.Lookup = name, remote.Addr().String()
			}
			mu.Lock()
			enc.Encode(l)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	return nil
}

// sourceFor finds the source address the kernel routes from, without sending a
// packet (a UDP connect only looks the route up).
func sourceFor(remote netip.AddrPort) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(remote))
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr(), nil
}

// race dials remote, and alt too once `after` passed without a connection
// (or at once, if the first dial failed), as a client racing addresses
// does (Happy Eyeballs, RFC 8305): the first to connect goes on with the
// request, the other's connect is abandoned (its socket closed while its
// SYN is unanswered: outcome "abandoned").
func race(i int, src netip.Addr, remote netip.AddrPort, altSrc netip.Addr, alt netip.AddrPort, after, timeout, readTimeout time.Duration, req exchange, hold time.Duration, sni string) []attemptLog {
	var ctx [2]context.Context
	var cancel [2]context.CancelFunc
	var done [2]chan struct{}
	for k := range ctx {
		ctx[k], cancel[k] = context.WithCancel(context.Background())
		defer cancel[k]()
		done[k] = make(chan struct{})
	}
	won := make(chan int, 2)
	logs := make([]attemptLog, 2)
	dial := func(k int, src netip.Addr, to netip.AddrPort) {
		defer close(done[k])
		logs[k] = one(ctx[k], i, src, to, timeout, readTimeout, req, hold, sni, func() { won <- k })
	}
	go dial(0, src, remote)
	select {
	case <-won:
		<-done[0]
		return logs[:1]
	case <-done[0]:
		select {
		case <-won:
			return logs[:1]
		default: // failed: the other at once
		}
	case <-time.After(after):
	}
	go dial(1, altSrc, alt)
	bothDone := make(chan struct{})
	go func() { <-done[0]; <-done[1]; close(bothDone) }()
	select {
	case k := <-won:
		cancel[1-k]()
	case <-bothDone:
	}
	<-bothDone
	return logs
}

// exchange is what a connection sends: req, then (if then is set) then
// after thenAfter idle.
type exchange struct {
	req, then string
	thenAfter time.Duration
}

func one(ctx context.Context, i int, src netip.Addr, remote netip.AddrPort, timeout, readTimeout time.Duration, ex exchange, hold time.Duration, sni string, connected func()) attemptLog {
	l := attemptLog{I: i, Remote: remote.String()}
	var local netip.AddrPort
	d := net.Dialer{Timeout: timeout, Control: func(network, address string, rc syscall.RawConn) error {
		// Bind to the source address with port 0 so the local port is known even
		// when the connect fails.
		var berr error
		rc.Control(func(fd uintptr) {
			if berr = syscall.Bind(int(fd), sockaddr(netip.AddrPortFrom(src, 0))); berr != nil {
				return
			}
			sa, err := syscall.Getsockname(int(fd))
			if err != nil {
				berr = err
				return
			}
			local = fromSockaddr(sa)
		})
		return berr
	}}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", remote.String())
	l.ConnectMS = float64(time.Since(start).Microseconds()) / 1000
	l.Local = local.String()
	if err == nil && connected != nil {
		connected()
	}
	if err != nil {
		l.Errno = errnoName(err)
		switch {
		case errors.Is(err, context.Canceled):
			// Given up for the other address of a race.
			l.Outcome = "abandoned"
		case errors.Is(err, syscall.ECONNREFUSED):
			l.Outcome = "refused"
		case errors.Is(err, syscall.ETIMEDOUT):
			l.Outcome = "timeout"
		case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			l.Outcome = "unreachable"
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
			l.Outcome = "connect-deadline"
		case errors.Is(err, syscall.ECONNRESET):
			// Reset before the dialer looked: a RST right after the
			// handshake (a SYN proxy relaying the server's refusal).
			l.Outcome = "reset"
		default:
			l.Outcome = "error"
			l.Errno = err.Error()
		}
		return l
	}
	defer c.Close()
	if sni != "" {
		// X25519 alone keeps the ClientHello in one segment (Go's default
		// post-quantum key share makes it about 1.5 kB, two segments).
		tc := tls.Client(c, &tls.Config{ServerName: sni, InsecureSkipVerify: true, CurvePreferences: []tls.CurveID{tls.X25519}})
		tc.SetDeadline(time.Now().Add(readTimeout))
		err := tc.Handshake()
		tc.SetDeadline(time.Time{})
		switch {
		case errors.Is(err, syscall.ECONNRESET):
			l.Outcome, l.Errno = "reset", "ECONNRESET"
			return l
		case errors.Is(err, os.ErrDeadlineExceeded):
			l.Outcome = "read-timeout"
			return l
		case err != nil:
			l.Outcome, l.Errno = "tls-error", err.Error()
			return l
		}
		c = tc
	}
	send(c, &l, ex.req, readTimeout)
	if ex.then != "" && (l.Outcome == "ok" || l.Outcome == "read-timeout") {
		time.Sleep(ex.thenAfter)
		send(c, &l, ex.then, readTimeout)
	}
	if hold > 0 {
		time.Sleep(hold)
	}
	return l
}

// send writes req (if any) and reads one reply, noting the outcome in l.
func send(c net.Conn, l *attemptLog, req string, readTimeout time.Duration) {
	if req != "" {
		if _, err := c.Write([]byte(req)); err != nil {
			l.Outcome, l.Errno = "write-error", errnoName(err)
			return
		}
	}
	c.SetReadDeadline(time.Now().Add(readTimeout))
	buf := make([]byte, 512)
	nr, err := c.Read(buf)
	switch {
	case nr > 0:
		l.Outcome, l.Reply = "ok", string(buf[:nr])
	case errors.Is(err, syscall.ECONNRESET):
		l.Outcome, l.Errno = "reset", "ECONNRESET"
	case errors.Is(err, os.ErrDeadlineExceeded):
		l.Outcome = "read-timeout"
	case err != nil:
		l.Outcome, l.Errno = "read-error", errnoName(err)
		if l.Errno == "" {
			l.Errno = err.Error()
		}
	}
}

// mark sends one UDP datagram to -to and waits up to 3 s for the echo: a
// non-TCP packet pair at the very end of both captures, so that each file shows
// how long the capture went on after the last SYN.
func mark(args []string) error {
	fs := flag.NewFlagSet("mark", flag.ExitOnError)
	to := fs.String("to", "", "ADDR:PORT of the UDP echo")
	fs.Parse(args)
	c, err := net.Dial("udp", *to)
	if err != nil {
		return err
	}
	defer c.Close()
	c.Write([]byte("synpath-lab end of capture"))
	// Up to 3 s: on a slowed link (the backlog scenarios' tbf) the echo can
	// wait behind a queue of segments.
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 64)
	if _, err := c.Read(buf); err != nil {
		return fmt.Errorf("no echo: %w", err)
	}
	return nil
}

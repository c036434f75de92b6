//go:build linux

package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/synpath/synpath/report"
)

// inNetns runs f on a thread moved into the named network namespace. The
// thread is never returned to the pool: it dies with the goroutine, so no
// other goroutine runs in that namespace by accident.
func inNetns(t *testing.T, ns string, f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Errorf("open netns %s: %v", ns, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			t.Errorf("setns %s: %v", ns, err)
			return
		}
		f()
	}()
	<-done
}

// TestLiveCapture captures on a veth in namespaces of its own (documentation
// addresses only) while a client connects to an open, a closed and a
// filtered port, and checks the verdicts streamed out.
func TestLiveCapture(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces and AF_PACKET")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2")
	}
	c, s := fmt.Sprintf("synpath-livetest-c-%d", os.Getpid()), fmt.Sprintf("synpath-livetest-s-%d", os.Getpid())
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", c).Run()
		exec.Command("ip", "netns", "del", s).Run()
	})
	run("ip", "netns", "add", c)
	run("ip", "netns", "add", s)
	run("ip", "link", "add", "lt-c", "netns", c, "type", "veth", "peer", "name", "lt-s", "netns", s)
	run("ip", "-n", c, "addr", "add", "192.0.2.1/24", "dev", "lt-c")
	run("ip", "-n", s, "addr", "add", "192.0.2.2/24", "dev", "lt-s")
	run("ip", "-n", c, "link", "set", "lt-c", "up")
	run("ip", "-n", s, "link", "set", "lt-s", "up")
	// The filtered port: SYNs reach the server host and die in its INPUT chain.
	if exec.Command("ip", "netns", "exec", s, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "82", "-j", "DROP").Run() != nil {
		t.Log("no iptables: the filtered port is left out")
	}

	var ln net.Listener
	inNetns(t, s, func() {
		var err error
		if ln, err = net.Listen("tcp", "192.0.2.2:80"); err != nil {
			t.Errorf("listen: %v", err)
		}
	})
	if ln == nil {
		t.FailNow()
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 64)
			n, _ := conn.Read(buf)
			conn.Write(buf[:n])
			conn.Close()
		}
	}()

	var out, errb bytes.Buffer
	code := make(chan int, 1)
	go inNetns(t, c, func() {
		code <- Main(context.Background(), []string{"live", "-i", "lt-c", "--format", "json", "--duration", "6s", "--syn-timeout", "1s"}, nil, &out, &errb)
	})
	time.Sleep(time.Second) // the ring is set up

	inNetns(t, c, func() {
		d := net.Dialer{Timeout: 2500 * time.Millisecond}
		if conn, err := d.Dial("tcp", "192.0.2.2:80"); err != nil {
			t.Errorf("dial open port: %v", err)
		} else {
			conn.Write([]byte("hello"))
			conn.Read(make([]byte, 16))
			conn.Close()
		}
		if _, err := d.Dial("tcp", "192.0.2.2:81"); err == nil {
			t.Error("dial to a closed port worked")
		}
		d.Dial("tcp", "192.0.2.2:82")
	})

	if got := <-code; got != ExitFailed {
		t.Errorf("exit %d, want %d; stderr: %s", got, ExitFailed, errb.String())
	}
	verdicts := map[string]string{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r report.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		verdicts[r.Server] = r.Verdict + "/" + r.Where
	}
	want := map[string]string{
		"192.0.2.2:80": "established/none",
		"192.0.2.2:81": "refused/server",
		"192.0.2.2:82": "timeout/unknown",
	}
	for server, w := range want {
		if verdicts[server] != w {
			t.Errorf("%s: got %q, want %q (all: %v)", server, verdicts[server], w, verdicts)
		}
	}
}

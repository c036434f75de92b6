//go:build linux

package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/synpath/synpath/capture"
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

// lineLog is an io.Writer that keeps each line written and when it came.
type lineLog struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []string
	at    []time.Time
}

func (l *lineLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(b)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line)
			return len(b), nil
		}
		l.lines = append(l.lines, strings.TrimSuffix(line, "\n"))
		l.at = append(l.at, time.Now())
	}
}

// liveLab is a client and a server namespace joined by a veth pair, on
// documentation addresses: the client is 192.0.2.1 on lt-c, the server
// 192.0.2.2 on lt-s. Ports on the server:
//
//	80 open (echoes a request), 81 closed, 82 filtered (the server host
//	drops SYNs), 83 return path cut (the server's SYN-ACKs are dropped on
//	their way out), 84 stalling (accepts, reads, never replies), 85 late
//	(SYN-ACKs dropped for the first 2.5 s of the test, then let through).
type liveLab struct {
	t    *testing.T
	c, s string
	lns  []net.Listener
}

func newLiveLab(t *testing.T) *liveLab {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces and AF_PACKET")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	lab := &liveLab{t: t, c: fmt.Sprintf("synpath-live-c-%d", os.Getpid()), s: fmt.Sprintf("synpath-live-s-%d", os.Getpid())}
	if err := exec.Command("ip", "netns", "add", lab.c).Run(); err != nil {
		t.Skipf("no network namespaces: %v", err)
	}
	t.Cleanup(func() {
		for _, ln := range lab.lns {
			ln.Close()
		}
		exec.Command("ip", "netns", "del", lab.c).Run()
		exec.Command("ip", "netns", "del", lab.s).Run()
	})
	lab.run("ip", "netns", "add", lab.s)
	lab.run("ip", "link", "add", "lt-c", "netns", lab.c, "type", "veth", "peer", "name", "lt-s", "netns", lab.s)
	lab.run("ip", "-n", lab.c, "addr", "add", "192.0.2.1/24", "dev", "lt-c")
	lab.run("ip", "-n", lab.s, "addr", "add", "192.0.2.2/24", "dev", "lt-s")
	lab.run("ip", "-n", lab.c, "link", "set", "lt-c", "up")
	lab.run("ip", "-n", lab.s, "link", "set", "lt-s", "up")
	lab.run("ip", "-n", lab.c, "link", "set", "lo", "up")
	lab.run("ip", "netns", "exec", lab.s, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "82", "-j", "DROP")
	lab.run("ip", "netns", "exec", lab.s, "iptables", "-A", "OUTPUT", "-p", "tcp", "--sport", "83", "--tcp-flags", "SYN,ACK", "SYN,ACK", "-j", "DROP")
	lab.run("ip", "netns", "exec", lab.s, "iptables", "-A", "OUTPUT", "-p", "tcp", "--sport", "85", "--tcp-flags", "SYN,ACK", "SYN,ACK", "-j", "DROP")
	for _, port := range []int{80, 82, 83, 84, 85} {
		inNetns(t, lab.s, func() {
			ln, err := net.Listen("tcp", fmt.Sprintf("192.0.2.2:%d", port))
			if err != nil {
				t.Fatalf("listen: %v", err)
			}
			lab.lns = append(lab.lns, ln)
			go serve(ln, port != 84)
		})
	}
	return lab
}

func (lab *liveLab) run(args ...string) {
	lab.t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		lab.t.Fatalf("%v: %v: %s", args, err, out)
	}
}

// serve answers each connection's request with its echo, or never.
func serve(ln net.Listener, reply bool) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			buf := make([]byte, 64)
			n, _ := conn.Read(buf)
			if !reply {
				conn.SetReadDeadline(time.Now().Add(20 * time.Second))
				conn.Read(buf)
				return
			}
			conn.Write(buf[:n])
		}()
	}
}

// clientResult is what the client lived through on one port.
type clientResult struct {
	port   int
	err    error
	gaveUp time.Time
}

// connectAll connects from the client to every port at once, each with a
// 3 s connect timeout and a request given 3 s for its reply, as a client
// application would; it lets SYN-ACKs of port 85 through after 2.5 s.
func (lab *liveLab) connectAll(ports ...int) map[int]clientResult {
	var mu sync.Mutex
	res := map[int]clientResult{}
	var wg sync.WaitGroup
	start := time.Now()
	for _, port := range ports {
		wg.Go(func() {
			inNetns(lab.t, lab.c, func() {
				d := net.Dialer{Timeout: 3 * time.Second}
				if port == 85 {
					d.Timeout = 10 * time.Second
				}
				conn, err := d.Dial("tcp", fmt.Sprintf("192.0.2.2:%d", port))
				if err == nil {
					conn.Write([]byte("hello"))
					conn.SetReadDeadline(time.Now().Add(3 * time.Second))
					_, err = conn.Read(make([]byte, 16))
					conn.Close()
				}
				mu.Lock()
				res[port] = clientResult{port, err, time.Now()}
				mu.Unlock()
			})
		})
	}
	for _, port := range ports {
		if port == 85 {
			time.Sleep(time.Until(start.Add(2500 * time.Millisecond)))
			lab.run("ip", "netns", "exec", lab.s, "iptables", "-D", "OUTPUT", "-p", "tcp", "--sport", "85", "--tcp-flags", "SYN,ACK", "SYN,ACK", "-j", "DROP")
		}
	}
	wg.Wait()
	return res
}

// liveRecord is a JSON line and when it was written.
type liveRecord struct {
	report.Record
	at time.Time
}

func records(t *testing.T, log *lineLog) []liveRecord {
	t.Helper()
	log.mu.Lock()
	defer log.mu.Unlock()
	var recs []liveRecord
	for i, line := range log.lines {
		var r report.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		recs = append(recs, liveRecord{r, log.at[i]})
	}
	return recs
}

// TestLiveCapture captures on the client's veth while the client connects
// to every kind of port, and checks each verdict streamed out, how soon
// after the client gave up it came, and the update of the attempt that
// succeeded after retransmissions.
func TestLiveCapture(t *testing.T) {
	lab := newLiveLab(t)
	var out lineLog
	var errb bytes.Buffer
	code := make(chan int, 1)
	dir := t.TempDir()
	all, failed := filepath.Join(dir, "all.pcapng"), filepath.Join(dir, "failed.pcapng")
	go inNetns(t, lab.c, func() {
		code <- Main(context.Background(), []string{"live", "-i", "lt-c", "--format", "json", "--duration", "8s", "--syn-timeout", "800ms", "--stall-after", "1s",
			"-w", all, "-W", failed}, nil, &out, &errb)
	})
	time.Sleep(time.Second) // the ring is set up
	clients := lab.connectAll(80, 81, 82, 83, 84, 85)
	if got := <-code; got != ExitFailed {
		t.Errorf("exit %d, want %d; stderr: %s", got, ExitFailed, errb.String())
	}
	recs := records(t, &out)
	type line struct {
		verdict, where string
		update         bool
		at             time.Time
	}
	byPort := map[string][]line{}
	for _, r := range recs {
		byPort[r.Server] = append(byPort[r.Server], line{r.Verdict, r.Where, r.Update, r.at})
	}
	want := map[int][]string{
		80: {"established/none"},
		81: {"refused/server"},
		82: {"timeout/unknown"},
		83: {"timeout/unknown"},
		84: {"stalled/server"},
		85: {"timeout/unknown", "established/none update"},
	}
	for port, w := range want {
		server := fmt.Sprintf("192.0.2.2:%d", port)
		var got []string
		for _, l := range byPort[server] {
			s := l.verdict + "/" + l.where
			if l.update {
				s += " update"
			}
			got = append(got, s)
		}
		// The RST of port 81 may come before any SYN-ACK from the server
		// to compare its TTL with: refused at once, placed when one comes.
		placedLater := port == 81 && strings.Join(got, ", ") == "refused/unknown, refused/server update"
		if strings.Join(got, ", ") != strings.Join(w, ", ") && !placedLater {
			t.Errorf("port %d: lines %q, want %q", port, got, w)
			continue
		}
		if port == 80 || port == 85 {
			continue
		}
		// A failure is streamed within --syn-timeout + 1 s of the client
		// giving up (the stalled one before it, for its client waits 3 s).
		c := clients[port]
		lat := byPort[server][0].at.Sub(c.gaveUp)
		t.Logf("port %d: %s streamed %v after the client gave up (%v)", port, got[0], lat.Round(time.Millisecond), c.err)
		if lat > 2*time.Second {
			t.Errorf("port %d: verdict %v after the client gave up, want ≤ 2 s", port, lat)
		}
	}
	if c := clients[85]; c.err != nil {
		t.Errorf("port 85: the client failed (%v): the late SYN-ACK should have got through", c.err)
	}
	checkWritten(t, recs, all, failed)
}

// checkWritten checks the -w file against the verdicts streamed: every
// evidence frame is in it under its number and time, and synpath analyze
// judges it to the same final verdicts; and the -W file holds exactly the
// frames behind the failures.
func checkWritten(t *testing.T, recs []liveRecord, all, failed string) {
	t.Helper()
	frames := map[uint64]string{}
	rd, err := capture.Open(all)
	if err != nil {
		t.Fatalf("-w file: %v", err)
	}
	rd.OnFrame(func(f *capture.Frame) { frames[f.N] = f.TS.UTC().Format(report.TimeFormat) })
	var p capture.Packet
	for rd.Next(&p) == nil {
	}
	// The -w file proves when the capture ran, --duration long, past its
	// last packet; the -W file, a selection, claims nothing.
	if from, until, ok := rd.Ran(); !ok || until.Sub(from) < 7*time.Second || !until.After(rd.Stats().Last) {
		t.Errorf("-w file ran %v to %v (%v), last packet %v: want the capture's 8 s", from, until, ok, rd.Stats().Last)
	}
	rd.Close()
	if rd, err := capture.Open(failed); err == nil {
		for rd.Next(&p) == nil {
		}
		if _, _, ok := rd.Ran(); ok {
			t.Errorf("-W file claims when the capture ran")
		}
		rd.Close()
	}
	final := map[string]string{}
	failedFrames := map[uint64]bool{}
	hadFailure := map[string]bool{}
	for _, r := range recs {
		final[fmt.Sprint(r.Server, r.ISN)] = r.Verdict + "/" + r.Where
		if r.Verdict != "established" {
			hadFailure[fmt.Sprint(r.Server, r.ISN)] = true
		}
		for _, e := range r.Evidence {
			if frames[e.Packet] != e.Time {
				t.Errorf("%s: evidence frame %d at %s; the -w file has it at %q", r.Server, e.Packet, e.Time, frames[e.Packet])
			}
			if r.Verdict != "established" {
				failedFrames[e.Packet] = true
			}
		}
	}
	var out, errb bytes.Buffer
	Main(context.Background(), []string{"analyze", "--format", "json", "--syn-timeout", "800ms", "--stall-after", "1s", all}, nil, &out, &errb)
	again := map[string]string{}
	allowed := map[uint64]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r report.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("analyze -w file: %v in %q (%s)", err, line, errb.String())
		}
		again[fmt.Sprint(r.Server, r.ISN)] = r.Verdict + "/" + r.Where
		if hadFailure[fmt.Sprint(r.Server, r.ISN)] {
			for _, e := range r.Evidence {
				allowed[e.Packet] = true
			}
		}
	}
	if fmt.Sprint(again) != fmt.Sprint(final) {
		t.Errorf("analyze of the -w file:\n %v\nlive said\n %v", again, final)
	}
	// The -W file: the failures' frames, numbered as in the -w file.
	out.Reset()
	if _, err := exec.LookPath("tshark"); err != nil {
		return
	}
	ids, err := exec.Command("tshark", "-r", failed, "-T", "fields", "-e", "frame.packet_id").Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", failed, err)
	}
	got := map[uint64]bool{}
	for _, f := range strings.Fields(string(ids)) {
		n, _ := strconv.ParseUint(f, 10, 64)
		got[n] = true
	}
	// Every frame a failure line names, and only frames of failed
	// attempts (those that came after the line too).
	for n := range failedFrames {
		if !got[n] {
			t.Errorf("-W file misses frame %d of a failure (holds %v)", n, got)
		}
	}
	for n := range got {
		if !allowed[n] {
			t.Errorf("-W file holds frame %d, of no failed attempt", n)
		}
	}
	t.Logf("-W file: %d frames of %d failed attempts", len(got), len(hadFailure))
}

// TestMain lets the live tests run this test binary as synpath, in
// another network namespace and as another user.
func TestMain(m *testing.M) {
	if os.Getenv("SYNPATH_TEST_MAIN") == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestLiveAnyFilterUser runs synpath as its own process in the client's
// namespace twice at once: on -i any with a filter expression, dropping
// root for nobody; and on two interfaces named with -i.
func TestLiveAnyFilterUser(t *testing.T) {
	lab := newLiveLab(t)
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("no user nobody")
	}
	type run struct {
		args []string
		cmd  *exec.Cmd
		out  bytes.Buffer
		errb bytes.Buffer
	}
	runs := []*run{
		{args: []string{"-i", "any", "--user", "nobody", "tcp port 81 or port 82"}},
		{args: []string{"-i", "lo", "-i", "lt-c", "-w", filepath.Join(t.TempDir(), "two.pcapng")}},
	}
	want := []string{"192.0.2.2:81 refused/unknown, 192.0.2.2:82 timeout/unknown", "192.0.2.2:80 established/none, 192.0.2.2:81 refused/server, 192.0.2.2:82 timeout/unknown"}
	if withLibpcap {
		runs, want = runs[:1], want[:1] // libpcap takes one interface
	}
	for _, r := range runs {
		args := append([]string{"netns", "exec", lab.c, os.Args[0], "live", "--format", "json", "--duration", "6s", "--syn-timeout", "1s"}, r.args...)
		r.cmd = exec.Command("ip", args...)
		r.cmd.Env = append(os.Environ(), "SYNPATH_TEST_MAIN=1")
		r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.errb
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	// The process dropped root once its capture was open.
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", runs[0].cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	nobody, _ := user.Lookup("nobody")
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[0] == "Uid:" && (f[1] != nobody.Uid || f[2] != nobody.Uid || f[3] != nobody.Uid) {
			t.Errorf("--user nobody: running as %q, want uid %s", l, nobody.Uid)
		}
	}
	lab.connectAll(80, 81, 82)
	// Without port 80's SYN-ACKs (filtered out), nothing tells the
	// refusing RST's TTL from the server's own: where is unknown.
	for i, r := range runs {
		r.cmd.Wait()
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(r.out.String()), "\n") {
			var rec report.Record
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%v: bad line %q: %v (stderr %s)", r.args, line, err, r.errb.String())
			}
			got = append(got, rec.Server+" "+rec.Verdict+"/"+rec.Where)
		}
		slices.Sort(got)
		if strings.Join(got, ", ") != want[i] {
			t.Errorf("%v: got %q, want %q (stderr %s)", r.args, got, want[i], r.errb.String())
		}
	}
	// Two interfaces in one ring: frames from the IP header on, in a
	// pcapng interface block named after their interface.
	if len(runs) > 1 {
		if _, err := exec.LookPath("tshark"); err == nil {
			out, err := exec.Command("tshark", "-r", runs[1].args[len(runs[1].args)-1], "-T", "fields", "-e", "frame.interface_name", "-e", "frame.protocols").Output()
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			for _, l := range lines {
				if !strings.HasPrefix(l, "lt-c\traw:ip") {
					t.Errorf("-w of -i lo -i lt-c: tshark reads %q, want interface lt-c, raw IP", l)
					break
				}
			}
			if len(lines) < 10 {
				t.Errorf("-w of -i lo -i lt-c: %d frames", len(lines))
			}
		}
	}
}

// TestLiveWithoutPrivileges runs synpath as root without CAP_NET_RAW: one
// line says what to do.
func TestLiveWithoutPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to take the capability away")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv")
	}
	cmd := exec.Command("setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", os.Args[0], "live", "-i", "lo", "--duration", "1s")
	cmd.Env = append(os.Environ(), "SYNPATH_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	want := "synpath: capturing needs CAP_NET_RAW: run as root, or setcap cap_net_raw,cap_net_admin+ep $(which synpath)\n"
	if err == nil || string(out) != want {
		t.Errorf("without CAP_NET_RAW: %v, output %q, want %q", err, out, want)
	}
}

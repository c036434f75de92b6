package cmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/synpath/synpath/internal/capgen"
)

// syncBuffer is a bytes.Buffer safe to read while Main writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mainAsync runs Main on a goroutine; the channel gets its exit status.
func mainAsync(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) <-chan int {
	done := make(chan int, 1)
	go func() { done <- Main(ctx, args, stdin, stdout, stderr) }()
	return done
}

func waitExit(t *testing.T, done <-chan int, within time.Duration) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(within):
		t.Fatalf("still running %v after the interrupt", within)
		return 0
	}
}

// TestInterruptFIFOWithoutWriter: open(2) of a FIFO waits for a writer;
// an interrupt must still stop synpath at once.
func TestInterruptFIFOWithoutWriter(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	defer unblockFIFO(fifo)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := mainAsync(ctx, nil, &out, &errb, "analyze", "--ascii", fifo)
	time.Sleep(100 * time.Millisecond)
	cancel()
	if code := waitExit(t, done, 2*time.Second); code != ExitOK {
		t.Errorf("exit %d, want %d (nothing judged); stderr %q", code, ExitOK, errb.String())
	}
	if !strings.Contains(out.String(), "interrupted before") {
		t.Errorf("no interrupted mark in the footer:\n%s", out.String())
	}
}

// TestInterruptStalledInput: input that stops coming, with the writer
// still there, gives way to an interrupt; what was read is judged.
func TestInterruptStalledInput(t *testing.T) {
	capt, err := os.ReadFile(filepath.Join(scenariosDir(), "refused", "client.pcap"))
	if err != nil {
		t.Skip(err)
	}
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			defer pw.Close()
			go pw.Write(capt) // and then nothing, without an end
			ctx, cancel := context.WithCancel(context.Background())
			var out, errb syncBuffer
			done := mainAsync(ctx, pr, &out, &errb, "analyze", "--ascii", "--format", format, "-")
			time.Sleep(200 * time.Millisecond)
			select {
			case code := <-done:
				t.Fatalf("exit %d before the interrupt: %s", code, errb.String())
			default:
			}
			cancel()
			if code := waitExit(t, done, 2*time.Second); code != ExitFailed {
				t.Errorf("exit %d, want %d for the refused attempts read; stderr %q", code, ExitFailed, errb.String())
			}
			mark := out.String()
			if format == "json" {
				mark = errb.String()
				if !strings.Contains(out.String(), `"verdict":"refused"`) {
					t.Errorf("no verdict in %q", out.String())
				}
			} else if !strings.Contains(out.String(), "refused") {
				t.Errorf("no verdict in %q", out.String())
			}
			if !strings.Contains(mark, "interrupted after packet ") {
				t.Errorf("no interrupted mark in %q", mark)
			}
		})
	}
}

// TestInterruptSkippedRecords: a long run of records that are not TCP is
// interrupted too, not only at TCP packets.
func TestInterruptSkippedRecords(t *testing.T) {
	// A pcap header, then UDP-less garbage records for ever: Ethernet frames
	// of an unknown EtherType, which the reader passes over.
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0}
	rec := append([]byte{0, 0, 0, 0x6a, 0, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0}, make([]byte, 60)...)
	rec[16+12], rec[16+13] = 0x88, 0xb5 // local experimental EtherType
	in := io.MultiReader(bytes.NewReader(hdr), &repeater{b: rec})
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := mainAsync(ctx, in, &out, &errb, "analyze", "--ascii", "-")
	time.Sleep(200 * time.Millisecond)
	cancel()
	waitExit(t, done, 2*time.Second)
	if !strings.Contains(out.String(), "interrupted after packet ") {
		t.Errorf("no interrupted mark in %q", out.String())
	}
}

// repeater reads as b over and over, for ever.
type repeater struct {
	b   []byte
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.b[r.off:])
		n += k
		r.off = (r.off + k) % len(r.b)
	}
	return n, nil
}

// buildSynpath builds the command once for the tests that signal it.
var buildSynpath = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "synpath-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "synpath")
	out, err := exec.Command("go", "build", "-o", bin, "./synpath").CombinedOutput()
	if err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

func synpathBinary(t *testing.T) string {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("builds and signals the command")
	}
	bin, err := buildSynpath()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestSignalFIFO: the built command, blocked opening a FIFO that has no
// writer, stops at the first Ctrl-C and prints its (empty) report.
func TestSignalFIFO(t *testing.T) {
	bin := synpathBinary(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	var out, errb syncBuffer
	c := exec.Command(bin, "analyze", "--ascii", fifo)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	time.Sleep(300 * time.Millisecond)
	c.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v; stderr %q", err, errb.String())
		}
	case <-time.After(3 * time.Second):
		c.Process.Kill()
		t.Fatal("still running 3 s after Ctrl-C")
	}
	if !strings.Contains(out.String(), "interrupted before") {
		t.Errorf("no interrupted mark:\n%s", out.String())
	}
}

// TestSignalTwice: when the first Ctrl-C cannot get through (here the
// output is blocked on a pipe nobody reads), the second exits at once with
// status 130.
func TestSignalTwice(t *testing.T) {
	bin := synpathBinary(t)
	capFile := filepath.Join(t.TempDir(), "many.pcap")
	f, err := os.Create(capFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := capgen.Write(f, 5000, capgen.DefaultMix); err != nil {
		t.Fatal(err)
	}
	f.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close() // never read until the end: JSON lines fill the pipe
	c := exec.Command(bin, "analyze", "--format", "json", capFile)
	c.Stdout = pw
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	time.Sleep(500 * time.Millisecond)
	c.Process.Signal(os.Interrupt)
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("exited (%v) at the first Ctrl-C with its output blocked", err)
	default:
	}
	c.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("exit %v, want status 130", err)
		}
	case <-time.After(3 * time.Second):
		c.Process.Kill()
		t.Fatal("still running 3 s after the second Ctrl-C")
	}
}

package cmd

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLowerTimerSlack(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	LowerTimerSlack()
	if s, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); err != nil || s != 1 {
		t.Errorf("this thread's timer slack is %d ns (%v), want 1", s, err)
	}
	if os.Geteuid() != 0 {
		return // another thread's slack takes CAP_SYS_NICE to set
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/" + task.Name() + "/timerslack_ns")
		if err != nil {
			t.Skipf("no timer slack to read: %v", err)
		}
		if s := strings.TrimSpace(string(b)); s != "1" {
			t.Errorf("thread %s: timer slack %s ns, want 1", task.Name(), s)
		}
	}
}

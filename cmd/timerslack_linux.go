package cmd

import (
	"os"
	"runtime"
	"sync"
	"syscall"
)

// prSetTimerSlack is PR_SET_TIMERSLACK (linux/prctl.h); the syscall
// package has SYS_PRCTL but not its options.
const prSetTimerSlack = 29

// setOwnTimerSlack sets the calling thread's timer slack to 1 ns.
func setOwnTimerSlack() {
	_, _, _ = syscall.RawSyscall6(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0, 0, 0, 0)
}

// LowerTimerSlack asks the kernel to wake the process's threads on time:
// a timer slack of 1 ns rather than the default 50 µs. When a core goes
// idle while a goroutine waits in the other core's run queue, Go's
// scheduler sleeps 3 µs before it takes that goroutine; with the default
// slack the sleep lasts about 70 µs. A run hands batches between three
// goroutines on two cores and meets it hundreds of times: 6% of a 100 MB
// capture's wall time on two cores (medians of 21 interleaved runs).
//
// A new thread inherits its creator's slack, so the threads there are now
// are the ones to set. Another thread's slack takes CAP_SYS_NICE; without
// it, each idle thread is made to set its own. Best effort: nothing here
// changes what a run computes.
func LowerTimerSlack() {
	setOwnTimerSlack()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	all := true
	for _, t := range tasks {
		if os.WriteFile("/proc/"+t.Name()+"/timerslack_ns", []byte("1"), 0) != nil {
			all = false
		}
	}
	if all {
		return
	}
	// Goroutines locked to threads and waiting together hold one thread
	// each: the idle ones first, then new ones.
	var set sync.WaitGroup
	release := make(chan struct{})
	for range len(tasks) {
		set.Add(1)
		go func() {
			runtime.LockOSThread()
			setOwnTimerSlack()
			set.Done()
			<-release
			runtime.UnlockOSThread()
		}()
	}
	set.Wait()
	close(release)
}

package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// hugeHeapRoom is how much heap a run's memory is advised for: what a
// capture's run (30 MB) or a join (64 MB with 100 MB a side, 120 MB with
// 300 MB) holds at its peak. Beyond it the heap grows in small pages, as it
// would without advice. Mapped, never touched, it costs no memory.
const hugeHeapRoom = 128 << 20

// hugePage is the size of a transparent huge page on the platforms that
// have them (x86-64, arm64 with 4 KB pages).
const hugePage = 2 << 20

// hugeHeapMinInput is the least capture, in bytes, worth the room: mapping
// it costs a collection (4 ms), and a huge page a whole 2 MB of zeroing at
// its first touch, which makes a small run slower (a 1 KB capture: 19 ->
// 27 ms); both pay back from about 20 MB of capture on.
const hugeHeapMinInput = 32 << 20

var hugeHeapOnce sync.Once

// hugeHeap maps the heap a run is about to fill in one piece, and asks the
// kernel to back it with transparent huge pages where that pays. A run
// touches its 30 MB once (attempt states, the connection table, packed
// attempts, verdict words). Grown as it fills, the heap took 8,200 page
// faults on the 100 MB mix; mapped ahead, 6,800, and the run is 10%
// faster. In 2 MB pages, a few dozen faults, where the system leaves huge
// pages to each program (THP "madvise", as Ubuntu ships it), and where the
// memory they come from is the kernel's own (thpPaysOff).
//
// The runtime maps heap memory as the heap grows, with mmap, which drops
// advice given to the range before; advice holds only on memory already
// mapped. So the heap is made to map the room first: a block of that size
// is allocated (fresh memory, never touched: it costs no RSS), its range
// advised, and a collection gives it back to the allocator, which keeps
// it mapped, advice included, and fills the lowest addresses first.
//
// The collector is off while the block is allocated, or the allocation
// would start a collection of its own before the one that frees it: two
// cycles, 6 to 9 ms on the bench machine, against 4 for one. Even so it
// runs on a goroutine of its own, beside the peek at the captures
// (planGroups), and done is closed when it has: the caller waits for it
// before it paces the collector (gcPace reads GOGC, which is off until
// then). Once per process; best effort: nothing here changes what a run
// computes.
//
// input is the size of the captures the run reads (inputSize). Not in
// live capture: a process that runs for days gives memory back to the
// kernel in small pieces, which would split the huge pages for the kernel
// to merge again.
func hugeHeap(input int64) (done <-chan struct{}) {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		adviseHeap(input)
	}()
	return ch
}

func adviseHeap(input int64) {
	hugeHeapOnce.Do(func() {
		if input < hugeHeapMinInput || strconv.IntSize != 64 || strictOvercommit() {
			return
		}
		room := hugeHeapRoom
		if limit := debug.SetMemoryLimit(-1); limit/4 < int64(room) {
			room = int(limit / 4) // a small --max-memory: keep far below it
		}
		if room < 4*hugePage {
			return
		}
		gogc := debug.SetGCPercent(-1)
		_, _, _ = mapFresh(room, thpPaysOff())
		runtime.GC()
		debug.SetGCPercent(gogc)
	})
}

// mapFresh maps size bytes of fresh heap and, if huge, advises huge pages
// for the whole huge pages in it, [from, to); it leaves the memory
// unreferenced, for the next collection to free.
func mapFresh(size int, huge bool) (from, to uintptr, err error) {
	block := make([]byte, size)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(block)))
	from = (base + hugePage - 1) &^ (hugePage - 1)
	to = (base + uintptr(size)) &^ (hugePage - 1)
	if huge && to > from {
		err = syscall.Madvise(block[from-base:to-base], syscall.MADV_HUGEPAGE)
	}
	return from, to, err
}

// strictOvercommit reports whether the kernel counts every private
// writable mapping against a commit limit (vm.overcommit_memory 2): there
// the room mapped ahead would count as 128 MB used, and could make a run
// fail that fits without it.
func strictOvercommit() bool {
	b, err := os.ReadFile("/proc/sys/vm/overcommit_memory")
	return err == nil && strings.TrimSpace(string(b)) == "2"
}

// thpPaysOff reports whether huge pages advised would make a run faster:
// THP is in madvise mode, not turned off for this process, and free
// memory is not handed back to a hypervisor (freePagesReported).
func thpPaysOff() bool {
	return thpAdvised() && !strings.Contains(os.Getenv("GODEBUG"), "disablethp=1") && !freePagesReported()
}

// freePagesReported reports whether the kernel hands free blocks of a
// huge page's size back to the hypervisor it runs under: a virtio balloon
// with free page reporting (feature bit 5, VIRTIO_BALLOON_F_REPORTING), as
// Firecracker and QEMU offer, reporting from order 9 (2 MB: the default,
// the pageblock) up. The host unmaps what is reported; a huge page is
// allocated from exactly such a block, and its zeroing faults the host's
// memory back in page by page. On the bench VM (order 9) that made a
// 100 MB run after another program had freed its memory 1.8x slower (sys
// time 0.05 -> 0.25 s), where 4 KB pages, taken from what was freed last,
// cost nothing more. A VM reporting 8 MB blocks only (order 11) ran
// faster with huge pages (README).
func freePagesReported() bool {
	return reportsFreePages("/sys/bus/virtio/drivers/virtio_balloon/virtio*/features") &&
		reportingOrder("/sys/module/page_reporting/parameters/page_reporting_order") <= hugePageOrder
}

// hugePageOrder is a huge page's order: 2 MB in 4 KB pages.
const hugePageOrder = 9

// reportingOrder reads the least order of the free blocks reported, from
// the file at path; the pageblock's, a huge page's, when it cannot.
func reportingOrder(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return hugePageOrder
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return hugePageOrder
	}
	return n
}

// reportsFreePages reports whether a virtio device whose features file
// matches pattern (one '0' or '1' a feature bit, bit 0 first) offers free
// page reporting.
func reportsFreePages(pattern string) bool {
	devs, _ := filepath.Glob(pattern)
	for _, d := range devs {
		if b, err := os.ReadFile(d); err == nil && len(b) > 5 && b[5] == '1' {
			return true
		}
	}
	return false
}

// thpAdvised reports whether the kernel gives huge pages to memory a
// program advises (THP "madvise"). With "always" it does so unasked; with
// "never", not at all.
func thpAdvised() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && bytes.Contains(b, []byte("[madvise]"))
}

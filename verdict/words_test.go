package verdict

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestWordsMatchFmt holds dur, count and times, written with strconv, to
// what fmt made of them: explanations must not change by a byte.
func TestWordsMatchFmt(t *testing.T) {
	oldDur := func(d time.Duration) string {
		switch {
		case d >= 10*time.Second:
			return fmt.Sprintf("%.0f s", d.Seconds())
		case d >= time.Second:
			return fmt.Sprintf("%.1f s", d.Seconds())
		case d >= 10*time.Millisecond:
			return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
		case d >= time.Millisecond:
			return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
		}
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	for _, d := range []time.Duration{-time.Second, -1, 0, 1, 999, 1000, 45 * time.Microsecond, 999999, time.Millisecond, 1049999, 1050000, 1950001,
		9999999, 10 * time.Millisecond, 10499999, 10500000, 320 * time.Millisecond, 999999999, time.Second, 1049999999, 1050000000, 1950000000,
		9949999999, 9950000000, 10 * time.Second, 10500000000, 37250001000, time.Hour, 1<<63 - 1} {
		if got, want := dur(d), oldDur(d); got != want {
			t.Errorf("dur(%d) = %q, fmt gave %q", d, got, want)
		}
	}
	for _, n := range []uint32{0, 1, 2, 3, 10, 4294967295} {
		if got, want := count(n, "SYN"), map[bool]string{true: "1 SYN", false: fmt.Sprintf("%d SYNs", n)}[n == 1]; got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
		if n > 2 {
			if got, want := times(n), fmt.Sprintf("%d times", n); got != want {
				t.Errorf("times(%d) = %q, want %q", n, got, want)
			}
		}
	}
}

// TestDurIntegers holds dur's integer rounding to the float formatting it
// stands for, around every boundary and half, and at random.
func TestDurIntegers(t *testing.T) {
	check := func(d time.Duration) {
		if got, want := string(appendDur(nil, d)), string(appendDurFloat(nil, d)); got != want {
			t.Fatalf("appendDur(%d) = %q, strconv gave %q", d, got, want)
		}
	}
	for _, step := range []time.Duration{100 * time.Microsecond, time.Millisecond, 100 * time.Millisecond, time.Second} {
		for _, q := range []time.Duration{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10000, 123456, 999999} {
			for _, off := range []time.Duration{-2, -1, 0, 1, 2, step / 2} {
				for _, half := range []time.Duration{-1, 0, 1} {
					check(q*step + off + half + step/2)
					check(q*step + off)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		check(time.Duration(rng.Int64N(int64(2e6 * time.Second))))
		check(time.Duration(rng.Int64N(int64(20 * time.Second))))
		check(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
	}
	for d := 999 * time.Microsecond; d < 1001*time.Microsecond; d++ {
		check(d)
	}
}

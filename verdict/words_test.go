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

// TestSubIsSub holds sub to time's Sub: near and far apart, either way,
// across second boundaries, beyond the range Sub saturates at, and with a
// monotonic reading on one side (a live capture's end is time.Now()).
func TestSubIsSub(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := []time.Time{time.Unix(0, 0), time.Unix(1700000000, 999999999), time.Unix(-1<<40, 5), time.Unix(1<<40, 7), time.Now(), {}}
	for range 200_000 {
		u := base[rng.IntN(len(base))].Add(time.Duration(rng.Int64()))
		for _, d := range []int64{0, 1, -1, rng.Int64N(1e9), rng.Int64N(1e12), rng.Int64(), -rng.Int64()} {
			tt := time.Unix(u.Unix()+d/1e9, int64(u.Nanosecond())+d%1e9)
			if rng.IntN(2) == 0 {
				tt = u.Add(time.Duration(d))
			}
			if got, want := sub(tt, u), tt.Sub(u); got != want {
				t.Fatalf("sub(%v, %v) = %d, Sub gave %d", tt, u, got, want)
			}
			if got, want := sub(u, tt), u.Sub(tt); got != want {
				t.Fatalf("sub(%v, %v) = %d, Sub gave %d", u, tt, got, want)
			}
		}
	}
	far := []time.Time{time.Unix(-1<<62, 0), time.Unix(1<<62, 0), time.Unix(1<<33, 0), time.Unix(-(1 << 33), 0), time.Unix(1<<33-1, 999999999)}
	for _, a := range append(far, base...) {
		for _, b := range append(far, base...) {
			if got, want := sub(a, b), a.Sub(b); got != want {
				t.Fatalf("sub(%v, %v) = %d, Sub gave %d", a, b, got, want)
			}
		}
	}
}

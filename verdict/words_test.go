package verdict

import (
	"fmt"
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

package verdict

import (
	"strconv"
	"time"
)

// dur formats a duration for people: 1.5 s, 320 ms, 45 µs.
func dur(d time.Duration) string {
	// strconv, as fmt's %.0f, %.1f and %d use it, without fmt's boxing:
	// this runs for nearly every attempt.
	var b [32]byte
	switch {
	case d >= 10*time.Second:
		return string(append(strconv.AppendFloat(b[:0], d.Seconds(), 'f', 0, 64), " s"...))
	case d >= time.Second:
		return string(append(strconv.AppendFloat(b[:0], d.Seconds(), 'f', 1, 64), " s"...))
	case d >= 10*time.Millisecond:
		return string(append(strconv.AppendFloat(b[:0], float64(d)/float64(time.Millisecond), 'f', 0, 64), " ms"...))
	case d >= time.Millisecond:
		return string(append(strconv.AppendFloat(b[:0], float64(d)/float64(time.Millisecond), 'f', 1, 64), " ms"...))
	}
	return string(append(strconv.AppendInt(b[:0], d.Microseconds(), 10), " µs"...))
}

// count writes "1 SYN" or "4 SYNs".
func count(n uint32, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatUint(uint64(n), 10) + " " + noun + "s"
}

// times writes "once", "twice" or "5 times".
func times(n uint32) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return strconv.FormatUint(uint64(n), 10) + " times"
}

package cmd

import (
	"fmt"
	"time"
)

// timeWindow keeps the attempts whose first SYN falls from since until
// until (--since, --until). Each bound is RFC 3339, or a time of day
// (HH:MM:SS, fractions allowed) on the UTC day of the first packet read:
// the table prints times in UTC, so a time read off it can be pasted back.
type timeWindow struct {
	since, until time.Time
	// clocks hold time-of-day bounds until the capture's day is known.
	sinceClock, untilClock time.Duration
	hasSinceClock          bool
	hasUntilClock          bool
	resolved               bool
}

func (w *timeWindow) set() bool {
	return !w.since.IsZero() || !w.until.IsZero() || w.hasSinceClock || w.hasUntilClock
}

// parseBound reads one bound: RFC 3339 (an absolute time), or HH:MM:SS
// (a clock time, returned as a duration since midnight).
func parseBound(flag, s string) (t time.Time, clock time.Duration, isClock bool, err error) {
	if s == "" {
		return time.Time{}, 0, false, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, 0, false, nil
	}
	for _, layout := range []string{"15:04:05.999999999", "15:04:05", "15:04"} {
		if c, err := time.Parse(layout, s); err == nil {
			return time.Time{}, time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute +
				time.Duration(c.Second())*time.Second + time.Duration(c.Nanosecond()), true, nil
		}
	}
	return time.Time{}, 0, false, fmt.Errorf("--%s %q: want RFC 3339 (2026-11-20T14:02:31Z) or a UTC time of day of the capture (14:02:31)", flag, s)
}

func newTimeWindow(since, until string) (*timeWindow, error) {
	w := &timeWindow{}
	var err error
	if w.since, w.sinceClock, w.hasSinceClock, err = parseBound("since", since); err != nil {
		return nil, err
	}
	if w.until, w.untilClock, w.hasUntilClock, err = parseBound("until", until); err != nil {
		return nil, err
	}
	if !w.since.IsZero() && !w.until.IsZero() && w.until.Before(w.since) {
		return nil, fmt.Errorf("--until %s is before --since %s", until, since)
	}
	return w, nil
}

// resolve places time-of-day bounds on the UTC day of first, the time of
// the first packet read. A window whose end is before its start ends the
// next day (22:00 to 02:00).
func (w *timeWindow) resolve(first time.Time) {
	if w.resolved || first.IsZero() {
		return
	}
	w.resolved = true
	y, m, d := first.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if w.hasSinceClock {
		w.since = day.Add(w.sinceClock)
	}
	if w.hasUntilClock {
		w.until = day.Add(w.untilClock)
		if !w.since.IsZero() && w.until.Before(w.since) {
			w.until = w.until.Add(24 * time.Hour)
		}
	}
}

// contains reports whether an attempt that began at t is in the window.
func (w *timeWindow) contains(t time.Time) bool {
	if w == nil {
		return true
	}
	return (w.since.IsZero() || !t.Before(w.since)) && (w.until.IsZero() || t.Before(w.until))
}

func (w *timeWindow) String() string {
	f := func(t time.Time) string {
		if t.IsZero() {
			return "…"
		}
		return t.UTC().Format("2006-01-02 15:04:05.999999999")
	}
	return f(w.since) + " to " + f(w.until) + " UTC"
}

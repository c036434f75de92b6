package cmd

import "testing"

func TestGCPercent(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		base                   int
		live, budget, headroom uint64
		want                   int
	}{
		// A headroom past what is live (the join).
		{100, 0, 0, 24 * mb, 700},       // nothing live yet: the first goal is the runtime's 4 MB and the headroom
		{100, 2 * mb, 0, 24 * mb, 700},  // little live: the runtime's minimum, scaled, is 28 MB
		{100, 3 * mb, 0, 24 * mb, 700},  // the same
		{100, 5 * mb, 0, 24 * mb, 480},  // by the headroom
		{100, 12 * mb, 0, 24 * mb, 200}, // by the headroom
		{100, 24 * mb, 0, 24 * mb, 100}, // as much as is live: GOGC's own pace
		{100, 48 * mb, 0, 24 * mb, 50},  // grows by the headroom
		{100, 96 * mb, 0, 24 * mb, 25},  // by a quarter of it
		{100, 1 << 30, 0, 24 * mb, 25},  // never less
		{200, 96 * mb, 0, 24 * mb, 50},  // twice the headroom for twice GOGC
		{50, 24 * mb, 0, 24 * mb, 50},   // half the headroom for half GOGC
		{400, 2 << 30, 0, 24 * mb, 100},
		// A budget (analyze).
		{100, 0, 24 * mb, 0, 600},       // the first collection at the budget
		{100, mb / 4, 24 * mb, 0, 600},  // little live (a collection forced early): the minimum, scaled, at the budget
		{100, 6 * mb, 24 * mb, 0, 300},  // up to the budget
		{100, 16 * mb, 24 * mb, 0, 50},  // a window of attempts: still up to it
		{100, 22 * mb, 24 * mb, 0, 12},  // near it: an eighth more than live at least
		{100, 44 * mb, 24 * mb, 0, 12},  // up to twice it
		{100, 49 * mb, 24 * mb, 0, 25},  // beyond: a quarter
		{100, 64 * mb, 24 * mb, 0, 25},  // a SYN flood beyond it: as with a large headroom
		{200, 16 * mb, 24 * mb, 0, 100}, // twice the room for twice GOGC
		{100, 16 * mb, 24 * mb, 16 * mb, 100},
	} {
		if got := gcPercent(tc.base, tc.live, tc.budget, tc.headroom); got != tc.want {
			t.Errorf("gcPercent(%d, live %d MiB, budget %d MiB, headroom %d MiB) = %d, want %d", tc.base, tc.live/mb, tc.budget/mb, tc.headroom/mb, got, tc.want)
		}
	}
}

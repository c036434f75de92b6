package cmd

import "testing"

func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		base int
		live uint64
		want int
	}{
		{100, 0, 800},        // nothing live yet: the most headroom
		{100, 2 << 20, 800},  // grows by 8 times what is live at most
		{100, 12 << 20, 200}, // by the headroom
		{100, 24 << 20, 100}, // as much as is live: GOGC's own pace
		{100, 48 << 20, 50},  // grows by the headroom
		{100, 96 << 20, 25},  // by a quarter of it
		{100, 1 << 30, 25},   // never less
		{200, 96 << 20, 50},  // twice the headroom for twice GOGC
		{50, 24 << 20, 50},   // half the headroom for half GOGC
		{400, 2 << 30, 100},
	} {
		if got := gcPercent(tc.base, tc.live); got != tc.want {
			t.Errorf("gcPercent(%d, %d MiB) = %d, want %d", tc.base, tc.live>>20, got, tc.want)
		}
	}
}

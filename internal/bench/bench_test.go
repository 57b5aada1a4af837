package bench

import (
	"context"
	"testing"
	"time"
)

// TestRunWindow_accountsEveryInput is the benchmark's smoke test: a small
// job through faults and a tight window is reported exactly.
func TestRunWindow_accountsEveryInput(t *testing.T) {
	t.Parallel()
	for _, plain := range []bool{false, true} {
		r, err := RunWindow(context.Background(), 500, 3, 200*time.Millisecond, true, plain, 3)
		if err != nil {
			t.Fatal(err)
		}
		if r.Misreported != 0 || r.Accepted < 5 {
			t.Errorf("plain %v: %+v", plain, r)
		}
	}
}

func TestTighterBound_values(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r, max int
		want   time.Duration
	}{{200, 50, 3 * time.Second}, {200, 190, time.Second}, {50, 50, 0}, {51, 50, time.Second}} {
		if got := TighterBound(tc.r, tc.max, time.Second); got != tc.want {
			t.Errorf("TighterBound(%d, %d) = %s, want %s", tc.r, tc.max, got, tc.want)
		}
	}
}

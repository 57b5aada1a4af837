package hubspot

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestSharedLimiter_sameTokenSameLimiter(t *testing.T) {
	t.Parallel()
	a := SharedLimiter("token-shared-a", 100, 10*time.Second)
	if b := SharedLimiter("token-shared-a", 5, time.Second); a != b {
		t.Fatal("same token gave different limiters")
	}
	if c := SharedLimiter("token-shared-b", 100, 10*time.Second); a == c {
		t.Fatal("different tokens share a limiter")
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for k := range sharedLimiters {
		if string(k[:]) == "token-shared-a" {
			t.Fatal("registry keyed by the token itself")
		}
	}
}

// TestAdaptiveLimiter_Wait_rollingWindow simulates a long run on the fake
// clock and checks that no rolling window ever holds more than the limit
// while throughput stays close to it.
func TestAdaptiveLimiter_Wait_rollingWindow(t *testing.T) {
	t.Parallel()
	for _, max := range []int{DefaultRateLimit, DefaultRateLimitHigh, 7} {
		clock := newFakeClock()
		l := NewAdaptiveLimiter(max, DefaultRateLimitInterval, clock)
		r, b := limiterShape(max, DefaultRateLimitInterval)
		if float64(r)*DefaultRateLimitInterval.Seconds()+float64(b) > float64(max)+1e-9 {
			t.Fatalf("max %d: rate %v * interval + burst %d exceeds the limit", max, r, b)
		}
		var times []time.Time
		for range 20 * max {
			if err := l.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			times = append(times, clock.Now())
		}
		lo := 0
		best := 0
		for hi := range times {
			for times[hi].Sub(times[lo]) >= DefaultRateLimitInterval {
				lo++
			}
			best = max1(best, hi-lo+1)
		}
		if best > max {
			t.Fatalf("max %d: a rolling window held %d requests", max, best)
		}
		if best < max*85/100 {
			t.Fatalf("max %d: throughput too low, best window %d", max, best)
		}
	}
}

func max1(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestAdaptiveLimiter_Observe_headers(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := NewAdaptiveLimiter(100, 10*time.Second, clock)
	h := http.Header{}
	h.Set(HeaderRateLimitMax, "190")
	h.Set(HeaderRateLimitInterval, "10000")
	h.Set(HeaderRateLimitRemain, "150")
	l.Observe(h)
	if m, iv := l.Limit(); m != 190 || iv != 10*time.Second {
		t.Fatalf("limit %d/%s", m, iv)
	}
	// Low remaining empties the burst: the next call waits for the rate.
	h.Set(HeaderRateLimitRemain, "2")
	l.Observe(h)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := clock.Sleeps(); len(s) != 1 || s[0] <= 0 || s[0] > time.Second {
		t.Fatalf("sleeps after low remaining = %v", s)
	}
	// Remaining 0 holds back a whole interval.
	h.Set(HeaderRateLimitRemain, "0")
	l.Observe(h)
	before := clock.Now()
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := clock.Now().Sub(before); waited < 10*time.Second {
		t.Fatalf("waited %s after Remaining 0, want >= 10s", waited)
	}
	// Garbage is ignored.
	h.Set(HeaderRateLimitMax, "many")
	l.Observe(h)
	l.Observe(nil)
	if m, _ := l.Limit(); m != 190 {
		t.Fatalf("limit changed to %d", m)
	}
	// Cancelled contexts return at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("Wait on a cancelled context succeeded")
	}
}

package hubspot

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// HubSpot's per-app burst limits: 100 requests per 10 s (190 on
// Professional/Enterprise or with the API add-on).
const (
	DefaultRateLimit         = 100
	DefaultRateLimitHigh     = 190
	DefaultRateLimitInterval = 10 * time.Second
)

// Rate-limit headers HubSpot sends on every response.
const (
	HeaderRateLimitMax      = "X-HubSpot-RateLimit-Max"
	HeaderRateLimitRemain   = "X-HubSpot-RateLimit-Remaining"
	HeaderRateLimitInterval = "X-HubSpot-RateLimit-Interval-Milliseconds"
)

// AdaptiveLimiter is a token bucket (golang.org/x/time/rate) sized so that
// no rolling window of the interval holds more than the limit, and adapted
// to HubSpot's X-HubSpot-RateLimit-* response headers.
//
// With limit max per interval it uses a small burst b (max/20, at least 1)
// and rate (max-b)/interval, so rate*interval + burst <= max: a long run
// settles just under the limit without provoking 429s on a rolling window.
// When a response reports that few or no requests remain it holds every
// caller back until the window can have freed.
type AdaptiveLimiter struct {
	lim   *rate.Limiter
	clock Clock

	mu        sync.Mutex
	max       int
	interval  time.Duration
	holdUntil time.Time
}

// NewAdaptiveLimiter returns a limiter for perInterval requests per interval.
// A nil clock is the real clock. Non-positive arguments select HubSpot's
// defaults (DefaultRateLimit per DefaultRateLimitInterval).
func NewAdaptiveLimiter(perInterval int, interval time.Duration, clock Clock) *AdaptiveLimiter {
	if perInterval <= 0 {
		perInterval = DefaultRateLimit
	}
	if interval <= 0 {
		interval = DefaultRateLimitInterval
	}
	if clock == nil {
		clock = SystemClock{}
	}
	l := &AdaptiveLimiter{clock: clock}
	r, b := limiterShape(perInterval, interval)
	l.lim = rate.NewLimiter(r, b)
	l.max, l.interval = perInterval, interval
	return l
}

func limiterShape(max int, interval time.Duration) (rate.Limit, int) {
	b := max / 20
	if b < 1 {
		b = 1
	}
	n := max - b
	if n < 1 {
		n = 1
	}
	return rate.Limit(float64(n) / interval.Seconds()), b
}

var (
	sharedMu       sync.Mutex
	sharedLimiters = map[[sha256.Size]byte]*AdaptiveLimiter{}
)

// SharedLimiter returns the process-wide limiter for token, creating it with
// perInterval requests per interval on first use; later calls with the same
// token return the same limiter (their limits are ignored), so every client
// and Batcher using one token shares one budget. The registry is keyed by a
// SHA-256 of the token, never the token itself. Shared limiters use the real
// clock.
func SharedLimiter(token string, perInterval int, interval time.Duration) *AdaptiveLimiter {
	key := sha256.Sum256([]byte(token))
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if l, ok := sharedLimiters[key]; ok {
		return l
	}
	l := NewAdaptiveLimiter(perInterval, interval, nil)
	sharedLimiters[key] = l
	return l
}

// Wait blocks until a request may be sent or ctx is done.
func (l *AdaptiveLimiter) Wait(ctx context.Context) error {
	_, err := l.wait(ctx)
	return err
}

// wait is Wait that also reports how long it waited.
func (l *AdaptiveLimiter) wait(ctx context.Context) (time.Duration, error) {
	var waited time.Duration
	for {
		if err := ctx.Err(); err != nil {
			return waited, err
		}
		now := l.clock.Now()
		l.mu.Lock()
		hold := l.holdUntil.Sub(now)
		l.mu.Unlock()
		if hold > 0 {
			if err := l.clock.Sleep(ctx, hold); err != nil {
				return waited, err
			}
			waited += hold
			continue
		}
		r := l.lim.ReserveN(now, 1)
		if !r.OK() {
			return waited, fmt.Errorf("hubspot: rate limiter cannot grant a request")
		}
		d := r.DelayFrom(now)
		if d <= 0 {
			return waited, nil
		}
		if err := l.clock.Sleep(ctx, d); err != nil {
			r.CancelAt(l.clock.Now())
			return waited, err
		}
		waited += d
		// A hold may have been set while we slept; honour it too.
		l.mu.Lock()
		hold = l.holdUntil.Sub(l.clock.Now())
		l.mu.Unlock()
		if hold <= 0 {
			return waited, nil
		}
		if err := l.clock.Sleep(ctx, hold); err != nil {
			return waited, err
		}
		return waited + hold, nil
	}
}

// Pause holds every caller back for d (for example after a 429 with a
// Retry-After), unless a longer hold is already in place.
func (l *AdaptiveLimiter) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	until := l.clock.Now().Add(d)
	l.mu.Lock()
	if until.After(l.holdUntil) {
		l.holdUntil = until
	}
	l.mu.Unlock()
}

// Limit returns the current limit: requests per interval.
func (l *AdaptiveLimiter) Limit() (max int, interval time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.max, l.interval
}

// Observe adapts the limiter to HubSpot's rate-limit headers:
//   - X-HubSpot-RateLimit-Max and -Interval-Milliseconds reshape the bucket
//     when they differ from the current limit;
//   - X-HubSpot-RateLimit-Remaining of 0 holds all callers back for one
//     interval (the longest a rolling window needs to free a slot);
//   - a Remaining no larger than the burst empties the bucket, so the next
//     requests are paced at the sustained rate instead of bursting.
//
// Missing or malformed headers are ignored.
func (l *AdaptiveLimiter) Observe(h http.Header) {
	if h == nil {
		return
	}
	maxV, errMax := strconv.Atoi(h.Get(HeaderRateLimitMax))
	ivV, errIv := strconv.Atoi(h.Get(HeaderRateLimitInterval))
	remV, errRem := strconv.Atoi(h.Get(HeaderRateLimitRemain))
	now := l.clock.Now()

	l.mu.Lock()
	defer l.mu.Unlock()
	if errMax == nil && maxV > 0 {
		interval := l.interval
		if errIv == nil && ivV > 0 {
			interval = time.Duration(ivV) * time.Millisecond
		}
		if maxV != l.max || interval != l.interval {
			r, b := limiterShape(maxV, interval)
			l.lim.SetLimitAt(now, r)
			l.lim.SetBurstAt(now, b)
			l.max, l.interval = maxV, interval
		}
	}
	if errRem != nil || remV < 0 {
		return
	}
	if remV == 0 {
		if until := now.Add(l.interval); until.After(l.holdUntil) {
			l.holdUntil = until
		}
		return
	}
	if remV <= l.lim.Burst() {
		if tokens := int(l.lim.TokensAt(now)); tokens > 0 {
			l.lim.ReserveN(now, tokens)
		}
	}
}

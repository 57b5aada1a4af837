package hubspottest

import (
	"math"
	"time"
)

// bucket is one token's rate-limit state. Callers hold Server.mu.
type bucket struct {
	// window holds the times of accepted requests inside the rolling
	// window, oldest first; it never grows beyond the configured max.
	window   []time.Time
	day      time.Time
	dayCount int
}

type rateDecision struct {
	limited    bool
	policy     string // "TEN_SECONDLY_ROLLING" or "DAILY"
	retryAfter time.Duration
	remaining  int
	dailyLeft  int
}

func (b *bucket) prune(now time.Time, interval time.Duration) {
	cut := 0
	for cut < len(b.window) && !b.window[cut].After(now.Add(-interval)) {
		cut++
	}
	if cut > 0 {
		b.window = append(b.window[:0], b.window[cut:]...)
	}
	day := now.UTC().Truncate(24 * time.Hour)
	if !day.Equal(b.day) {
		b.day, b.dayCount = day, 0
	}
}

// take decides a request at now and records it when it is accepted.
func (b *bucket) take(now time.Time, max int, interval time.Duration, daily int, rolling bool) rateDecision {
	b.prune(now, interval)
	d := rateDecision{}
	if daily > 0 && b.dayCount >= daily {
		d.limited, d.policy = true, "DAILY"
		d.retryAfter = b.day.Add(24 * time.Hour).Sub(now)
	} else if rolling && len(b.window) >= max {
		d.limited, d.policy = true, "TEN_SECONDLY_ROLLING"
		d.retryAfter = b.window[0].Add(interval).Sub(now)
	} else {
		if rolling {
			b.window = append(b.window, now)
		}
		b.dayCount++
	}
	d.remaining = max - len(b.window)
	if d.remaining < 0 {
		d.remaining = 0
	}
	if daily > 0 {
		d.dailyLeft = daily - b.dayCount
		if d.dailyLeft < 0 {
			d.dailyLeft = 0
		}
	}
	return d
}

func retryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

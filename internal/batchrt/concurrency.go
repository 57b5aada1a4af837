package batchrt

import (
	"math"
	"time"
)

// gate says how many chunks may be in flight. With a fixed limit
// (WithConcurrency) that is it; otherwise the limit follows the rate
// limiter of the Transport the requests go through (handed over by the
// Runtime's link): enough requests in flight to reach the allowed rate at
// the observed round trip (rate x RTT, with 50% headroom for jitter and
// retries, plus 2), at least defaultConcurrency and at most
// maxAutoConcurrency. The dispatcher counts what is in flight.
type gate struct {
	fixed int
	pace  func() (float64, time.Duration) // nil: no limiter known
}

// newGate returns a gate; fixed <= 0 means adaptive.
func newGate(fixed int, pace func() (float64, time.Duration)) *gate {
	return &gate{fixed: fixed, pace: pace}
}

// limit returns the current number of chunks allowed in flight.
func (g *gate) limit() int {
	if g.fixed > 0 {
		return g.fixed
	}
	if g.pace == nil {
		return defaultConcurrency
	}
	return autoConcurrency(g.pace())
}

// autoConcurrency sizes concurrency for rate requests per second at an
// average round trip rtt (zero: not yet known).
func autoConcurrency(rate float64, rtt time.Duration) int {
	need := rate * rtt.Seconds() * 1.5
	if math.IsNaN(need) || need <= 0 {
		return defaultConcurrency
	}
	if need > maxAutoConcurrency {
		return maxAutoConcurrency
	}
	return min(max(int(math.Ceil(need))+2, defaultConcurrency), maxAutoConcurrency)
}

package batchrt

import (
	"math"

	"github.com/crmkit/hubspot-associations/internal/wire"
)

// gate says how many chunks may be in flight. With a fixed limit
// (WithConcurrency) that is it; otherwise the limit follows the rate
// limiter of the Transport the requests go through (handed over by the
// Runtime's link): enough requests in flight for the window's burst (a
// rolling window admits Max at once when fresh, and frees its slots in the
// bursts they were spent in, so a window's admitted sends go out together,
// not a few per round trip) and for the allowed rate at the observed round
// trip (rate x RTT, with 50% headroom for jitter and retries, plus 2); at
// least defaultConcurrency and at most maxAutoConcurrency. The dispatcher
// counts what is in flight; chunks beyond what the window admits wait in
// the limiter. A Transport without a limiter gives as Burst the number in
// flight the server takes (grown per answer, halved on 429s).
type gate struct {
	fixed int
	pace  func() wire.Pace // nil: no limiter known
}

// newGate returns a gate; fixed <= 0 means adaptive.
func newGate(fixed int, pace func() wire.Pace) *gate {
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

// autoConcurrency sizes concurrency for a limiter's pace: its burst, and
// its rate at the average round trip (zero: not yet known).
func autoConcurrency(p wire.Pace) int {
	n := max(p.Burst, defaultConcurrency)
	if need := p.Rate * p.RTT.Seconds() * 1.5; !math.IsNaN(need) && need > 0 {
		if need > maxAutoConcurrency {
			return maxAutoConcurrency
		}
		n = max(n, int(math.Ceil(need))+2)
	}
	return min(n, maxAutoConcurrency)
}

package hubspot

import (
	"context"
	"math"
	"time"
)

// MaxAutoConcurrency bounds the concurrency the batch engine picks by
// itself (an explicit WithConcurrency is not bounded by it).
const MaxAutoConcurrency = 64

// gate says how many chunks may be in flight. With a fixed limit
// (WithConcurrency) that is it; otherwise the limit follows the rate
// limiter the requests go through: enough requests in flight to reach the
// allowed rate at the observed round trip (rate x RTT, with 50% headroom
// for jitter and retries, plus 2), at least DefaultConcurrency and at most
// MaxAutoConcurrency. The dispatcher counts what is in flight.
type gate struct {
	fixed int
	hint  *concurrencyHint
	// woken is signalled when the limit may have grown (the limiter the
	// requests use became known), so the dispatcher can start more tasks
	// before the first one ends.
	woken chan struct{}
}

// newGate returns a gate and a context whose requests tell the gate which
// limiter they use. fixed <= 0 means adaptive.
func newGate(ctx context.Context, fixed int) (context.Context, *gate) {
	g := &gate{fixed: fixed, woken: make(chan struct{}, 1)}
	g.hint = &concurrencyHint{wake: g.signal}
	if fixed <= 0 {
		ctx = context.WithValue(ctx, concurrencyKey{}, g.hint)
	}
	return ctx, g
}

// limit returns the current number of chunks allowed in flight.
func (g *gate) limit() int {
	if g.fixed > 0 {
		return g.fixed
	}
	l := g.hint.lim.Load()
	if l == nil {
		return DefaultConcurrency
	}
	return autoConcurrency(l.pace())
}

// autoConcurrency sizes concurrency for rate requests per second at an
// average round trip rtt (zero: not yet known).
func autoConcurrency(rate float64, rtt time.Duration) int {
	need := rate * rtt.Seconds() * 1.5
	if math.IsNaN(need) || need <= 0 {
		return DefaultConcurrency
	}
	if need > MaxAutoConcurrency {
		return MaxAutoConcurrency
	}
	return min(max(int(math.Ceil(need))+2, DefaultConcurrency), MaxAutoConcurrency)
}

// signal wakes the dispatcher to look at the limit again.
func (g *gate) signal() {
	select {
	case g.woken <- struct{}{}:
	default:
	}
}

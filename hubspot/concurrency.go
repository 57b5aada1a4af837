package hubspot

import (
	"context"
	"math"
	"sync"
	"time"
)

// MaxAutoConcurrency bounds the concurrency the batch engine picks by
// itself (an explicit WithConcurrency is not bounded by it).
const MaxAutoConcurrency = 64

// gate bounds the chunks in flight. With a fixed limit (WithConcurrency) it
// is a plain semaphore; otherwise the limit follows the rate limiter the
// requests go through: enough requests in flight to reach the allowed rate
// at the observed round trip (rate x RTT, with 50% headroom for jitter and
// retries, plus 2), at least DefaultConcurrency and at most
// MaxAutoConcurrency.
type gate struct {
	fixed int
	hint  *concurrencyHint

	mu       sync.Mutex
	inFlight int
	freed    chan struct{} // signalled on every release, and when the limit may have grown
}

// newGate returns a gate and a context whose requests tell the gate which
// limiter they use. fixed <= 0 means adaptive.
func newGate(ctx context.Context, fixed int) (context.Context, *gate) {
	g := &gate{fixed: fixed, freed: make(chan struct{}, 1)}
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

// acquire waits for room for one more chunk; false when ctx or stop ended
// first.
func (g *gate) acquire(ctx context.Context, stop <-chan struct{}) bool {
	for {
		g.mu.Lock()
		if g.inFlight < g.limit() {
			g.inFlight++
			g.mu.Unlock()
			return true
		}
		g.mu.Unlock()
		select {
		case <-g.freed:
		case <-ctx.Done():
			return false
		case <-stop:
			return false
		}
	}
}

// release returns a chunk's room.
func (g *gate) release() {
	g.mu.Lock()
	g.inFlight--
	g.mu.Unlock()
	g.signal()
}

// signal wakes a waiting acquire to look at the limit again.
func (g *gate) signal() {
	select {
	case g.freed <- struct{}{}:
	default:
	}
}

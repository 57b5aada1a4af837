package hubspot

import (
	"net/http"
	"sync"

	"github.com/crmkit/hubspot-associations/internal/wire"
)

// Bounds of the concurrency an unpaced Transport (no limiter) asks of the
// batch runtime: it starts at unpacedStart and never exceeds unpacedMax.
const (
	unpacedStart = 8
	unpacedMax   = 64
)

// unpaced sizes the batch runtime's concurrency when no limiter paces the
// Transport: there is no window to respect, so it grows to what the server
// takes. Each answer that is not a refusal lets one more request in flight
// (so the number in flight doubles every round trip, whatever the round
// trip), up to unpacedMax; a 429 or a 503 halves it, down to unpacedStart.
type unpaced struct {
	mu sync.Mutex
	n  int
}

func newUnpaced() *unpaced { return &unpaced{n: unpacedStart} }

// observe takes in one attempt's status (0: no response).
func (u *unpaced) observe(status int) {
	if status == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		u.n = max(u.n/2, unpacedStart)
	case status < 500:
		u.n = min(u.n+1, unpacedMax)
	}
}

// pace returns the concurrency as a burst (no rate, no window).
func (u *unpaced) pace() wire.Pace {
	u.mu.Lock()
	defer u.mu.Unlock()
	return wire.Pace{Burst: u.n}
}

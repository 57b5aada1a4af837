package hubspot

import (
	"net/http"
	"testing"
)

// TestUnpaced: without a limiter the concurrency asked of the batch runtime
// grows by one per answer the server took, up to unpacedMax, and halves on
// a 429 or a 503, never below unpacedStart; no response changes nothing.
func TestUnpaced(t *testing.T) {
	t.Parallel()
	u := newUnpaced()
	if got := u.pace().Burst; got != unpacedStart {
		t.Fatalf("start: %d, want %d", got, unpacedStart)
	}
	for range 100 {
		u.observe(http.StatusOK)
	}
	if got := u.pace().Burst; got != unpacedMax {
		t.Fatalf("after 100 answers: %d, want the cap %d", got, unpacedMax)
	}
	u.observe(0)
	u.observe(http.StatusInternalServerError)
	if got := u.pace().Burst; got != unpacedMax {
		t.Fatalf("after no response and a 500: %d, want %d unchanged", got, unpacedMax)
	}
	u.observe(http.StatusTooManyRequests)
	if got := u.pace().Burst; got != unpacedMax/2 {
		t.Fatalf("after a 429: %d, want %d", got, unpacedMax/2)
	}
	for range 10 {
		u.observe(http.StatusServiceUnavailable)
	}
	if got := u.pace().Burst; got != unpacedStart {
		t.Fatalf("after 503s: %d, want the floor %d", got, unpacedStart)
	}
}

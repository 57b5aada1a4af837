package batchrt

import (
	"testing"

	"github.com/crmkit/hubspot-associations/hubspot"
)

// mustLimiter returns hubspot.NewAdaptiveLimiter(opts...) or fails t.
func mustLimiter(t testing.TB, opts ...hubspot.Option) *hubspot.AdaptiveLimiter {
	t.Helper()
	l, err := hubspot.NewAdaptiveLimiter(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

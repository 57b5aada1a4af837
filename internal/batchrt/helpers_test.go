package batchrt

import (
	"testing"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/wire"
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

// withClock and withRand are the test seams of a client: options only this
// module can write (wire.Options is internal).
func withClock(c wire.Clock) hubspot.Option {
	return func(o *wire.Options) error { o.Clock = c; return nil }
}

func withRand(r wire.Rand) hubspot.Option {
	return func(o *wire.Options) error { o.Rand = r; return nil }
}

package hubspot

import (
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// withClock and withRand are the test seams of a client: options only this
// module can write (wire.Options is internal).
func withClock(c wire.Clock) Option {
	return func(o *wire.Options) error { o.Clock = c; return nil }
}

func withRand(r wire.Rand) Option {
	return func(o *wire.Options) error { o.Rand = r; return nil }
}

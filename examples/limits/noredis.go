//go:build !redis

package main

import (
	"io"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
)

// redisBuilt says whether -redis works in this build: not without -tags
// redis (parseFlags refuses -redis, naming the command that builds it).
const redisBuilt = false

// sharedLimiter is the in-process limiter only: this build has no Redis.
func sharedLimiter(config, string, int, time.Duration, io.Writer) (hubspot.Option, func()) {
	return nil, func() {}
}

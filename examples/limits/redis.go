//go:build redis

// The Redis-shared rate limit (-redis) is built only with -tags redis:
// go-redis is a third of the example's first build and most runs do not
// use it (see the package doc).

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspot/redislimit"
)

// redisBuilt says whether -redis works in this build.
const redisBuilt = true

// sharedLimiter returns the option that keeps the token's rate-limit window,
// of perInterval requests per interval until HubSpot's headers say otherwise
// (0: HubSpot's default), in the Redis at cfg.redis (nil without -redis) and
// a function closing the connection. When Redis is unreachable, redislimit
// paces this process alone and says so on stderr.
func sharedLimiter(cfg config, token string, perInterval int, interval time.Duration, stderr io.Writer) (hubspot.Option, func()) {
	if cfg.redis == "" {
		return nil, func() {}
	}
	rdb := redis.NewClient(redislimit.ClientOptions(cfg.redis))
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// go-redis logs every failed dial to os.Stderr with its own format;
	// redislimit's one warning per outage says what matters, so go-redis's
	// lines go to the same logger at debug level (not shown).
	redis.SetLogger(redisLogger{logger})
	opts := []redislimit.Option{redislimit.WithLogger(logger)}
	if perInterval > 0 {
		opts = append(opts, redislimit.WithLimit(perInterval, interval))
	}
	return hubspot.WithLimiter(redislimit.NewLimiter(rdb, token, opts...)), func() { rdb.Close() }
}

// redisLogger passes go-redis's internal log lines to a slog.Logger at
// debug level.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.Log(ctx, slog.LevelDebug, "go-redis: "+fmt.Sprintf(format, v...))
}

// Package redislimit keeps HubSpot's rate-limit window in Redis, so that
// several processes using one app token (pods of a sync service, cron
// workers, a queue consumer pool) share one budget instead of each sending
// at the full rate.
//
// It is a hubspot.WindowStore: the same scheduler as the in-process limiter
// (a log of sends checked against X-HubSpot-RateLimit-Max per -Interval,
// corrected by -Remaining), with the log in a Redis sorted set and the check
// plus the reservation done atomically by a Lua script. A Retry-After pause
// and a DAILY stop are kept in Redis too, so they hold every process.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	client, err := associations.NewDefaultClient("", hubspot.WithToken(token),
//		hubspot.WithLimiter(redislimit.NewLimiter(rdb, token)))
//
// Keys are named after the SHA-256 of the token (never the token), under a
// prefix (default "hubspot-ratelimit"), and expire: the log two windows
// after the last send, a hold when it ends.
//
// Times are Redis's own (the TIME command inside the scripts), in
// microseconds, so processes on machines with skewed clocks still agree.
// The scripts format every time they pass to Redis with %.0f: Lua's default
// number format keeps 14 digits, 100 µs short of a time in microseconds.
//
// When Redis cannot be reached, the store falls back to an in-process
// window for a while (FallbackRetry, then it tries Redis again) and logs a
// warning once per outage: work goes on, paced per process, with HubSpot's
// 429s as the backstop. WithoutFallback makes such failures errors instead:
// the request is not sent and its error names Redis. How soon an outage is
// noticed is go-redis's to say: with its defaults (3 retries, 5 s dial
// timeout) the first request after Redis goes away can wait a second or
// more before the fallback; lower redis.Options MaxRetries and DialTimeout
// for a quicker one.
package redislimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmkit/hubspot-associations/hubspot"
)

// DefaultPrefix starts every key the store writes.
const DefaultPrefix = "hubspot-ratelimit"

// FallbackRetry is how long the store uses its in-process window after Redis
// failed before trying Redis again.
const FallbackRetry = 5 * time.Second

// Option configures New.
type Option func(*Store)

// WithPrefix sets the key prefix (default DefaultPrefix), e.g. to separate
// environments sharing one Redis.
func WithPrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// WithLogger logs Redis outages (a warning) and recoveries to l.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.logger = l } }

// WithoutFallback makes Redis failures errors instead of falling back to an
// in-process window.
func WithoutFallback() Option { return func(s *Store) { s.noFallback = true } }

// Store is a hubspot.WindowStore in Redis for one token.
type Store struct {
	rdb        redis.Scripter
	prefix     string
	logKey     string
	holdKey    string
	logger     *slog.Logger
	noFallback bool
	id         string // member prefix unique to this store
	seq        atomic.Uint64

	mu       sync.Mutex
	fallback *hubspot.MemoryStore
	downTill time.Time // use the fallback until then
	down     bool
}

// New returns the store for token's window in rdb (a *redis.Client,
// *redis.ClusterClient or *redis.Ring). The token is only hashed: it just
// names the budget, so a client authenticating with an OAuth token source
// (hubspot.WithTokenSource) passes any stable name of its app instead.
func New(rdb redis.Scripter, token string, opts ...Option) *Store {
	s := &Store{rdb: rdb, prefix: DefaultPrefix, fallback: hubspot.NewMemoryStore()}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	// The hash tag keeps both keys in one cluster slot.
	base := s.prefix + ":{" + hubspot.TokenKey(token) + "}"
	s.logKey, s.holdKey = base+":log", base+":hold"
	var b [8]byte
	rand.Read(b[:])
	s.id = hex.EncodeToString(b[:])
	return s
}

// NewLimiter returns a hubspot.AdaptiveLimiter whose window is token's
// Store in rdb; pass it with hubspot.WithLimiter.
func NewLimiter(rdb redis.Scripter, token string, opts ...Option) *hubspot.AdaptiveLimiter {
	return hubspot.NewAdaptiveLimiter(0, 0, nil, hubspot.WithWindowStore(New(rdb, token, opts...)))
}

// Keys returns the keys the store writes (for inspection and tests).
func (s *Store) Keys() []string { return []string{s.logKey, s.holdKey} }

// reserveScript: KEYS = log, hold; ARGV = max, window (µs), member, ttl (ms).
// Returns {1, now} when a send was recorded at now (µs), or {0, wait (µs),
// daily}.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local hold = redis.call('HMGET', KEYS[2], 'until', 'daily')
if hold[1] and tonumber(hold[1]) > now then
  local daily = 0
  if hold[2] == '1' then daily = 1 end
  return {0, tonumber(hold[1]) - now, daily}
end
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - 2 * window))
local from = '(' .. string.format('%.0f', now - window)
local n = redis.call('ZCOUNT', KEYS[1], from, '+inf')
if n >= max then
  local e = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', n - max, 1)
  local wait = tonumber(e[2]) + window - now
  if wait < 1 then wait = 1 end
  return {0, wait, 0}
end
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, now, 0}
`)

// correctScript: KEYS = log; ARGV = member, arrival (µs), used, interval
// (µs), member prefix for added sends, ttl (ms), sent (µs). Moves the member
// to the arrival if that is later, then adds used minus the sends in
// (sent-interval, +inf) at the arrival; returns how many it added. (The count starts from the send, the earliest the arrival can be,
// so that a late estimate of the arrival does not invent sends.)
var correctScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local arrived = tonumber(ARGV[2])
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if cur and tonumber(cur) < arrived then
  redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', arrived), ARGV[1])
end
local used = tonumber(ARGV[3])
local n = redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.0f', tonumber(ARGV[7]) - tonumber(ARGV[4])), '+inf')
local missing = used - n
if missing > 0 then
  for i = 1, missing do
    redis.call('ZADD', KEYS[1], string.format('%.0f', arrived), ARGV[5] .. i)
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return math.max(missing, 0)
`)

// holdScript: KEYS = hold; ARGV = duration (µs), daily (0/1). Extends the
// hold to now+duration unless it already lasts longer.
var holdScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untilT = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if untilT > cur then
  redis.call('HSET', KEYS[1], 'until', string.format('%.0f', untilT), 'daily', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.floor(tonumber(ARGV[1]) / 1000) + 1000))
elseif ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'daily', '1')
end
return 1
`)

// Reserve implements hubspot.WindowStore, in Redis's clock.
func (s *Store) Reserve(ctx context.Context, now time.Time, limit int, window time.Duration) (hubspot.Reservation, error) {
	if s.useFallback(now) {
		return s.fallback.Reserve(ctx, now, limit, window)
	}
	member := s.id + ":" + strconv.FormatUint(s.seq.Add(1), 36)
	v, err := reserveScript.Run(ctx, s.rdb, []string{s.logKey, s.holdKey},
		limit, window.Microseconds(), member, ttl(window)).Int64Slice()
	if err == nil && len(v) != 3 {
		err = fmt.Errorf("unexpected reply %v", v)
	}
	if err != nil {
		if ferr := s.failed(ctx, now, err); ferr != nil {
			return hubspot.Reservation{}, ferr
		}
		return s.fallback.Reserve(ctx, now, limit, window)
	}
	s.recovered(ctx)
	if v[0] == 1 {
		return hubspot.Reservation{At: time.UnixMicro(v[1]), ID: member}, nil
	}
	return hubspot.Reservation{Wait: max(time.Duration(v[1])*time.Microsecond, time.Microsecond), Daily: v[2] == 1}, nil
}

// Correct implements hubspot.WindowStore; r is a Reservation of this store.
func (s *Store) Correct(ctx context.Context, now time.Time, r hubspot.Reservation, lag time.Duration, used int, interval time.Duration) error {
	if s.useFallback(now) {
		return s.fallback.Correct(ctx, now, r, lag, used, interval)
	}
	prefix := s.id + ":c" + strconv.FormatUint(s.seq.Add(1), 36) + ":"
	err := correctScript.Run(ctx, s.rdb, []string{s.logKey},
		r.ID, r.At.Add(max(lag, 0)).UnixMicro(), used, interval.Microseconds(), prefix, ttl(interval+hubspot.WindowMargin(interval)), r.At.UnixMicro()).Err()
	if err != nil {
		return s.failed(ctx, now, err)
	}
	return nil
}

// Hold implements hubspot.WindowStore. The hold is written to the in-process
// window too, so it holds during an outage.
func (s *Store) Hold(ctx context.Context, now time.Time, d time.Duration, daily bool) error {
	s.fallback.Hold(ctx, now, d, daily)
	if s.useFallback(now) {
		return nil
	}
	flag := "0"
	if daily {
		flag = "1"
	}
	if err := holdScript.Run(ctx, s.rdb, []string{s.holdKey}, d.Microseconds(), flag).Err(); err != nil {
		return s.failed(ctx, now, err)
	}
	return nil
}

// ttl keeps two windows of history, plus a second.
func ttl(window time.Duration) int64 { return 2*window.Milliseconds() + 1000 }

func (s *Store) useFallback(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down && now.Before(s.downTill)
}

// failed records a Redis failure: with a fallback it returns nil (and logs
// the start of an outage), without one the error.
func (s *Store) failed(ctx context.Context, now time.Time, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	err = fmt.Errorf("redislimit: redis: %w", err)
	if s.noFallback {
		return err
	}
	s.mu.Lock()
	first := !s.down
	s.down, s.downTill = true, now.Add(FallbackRetry)
	s.mu.Unlock()
	if first && s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "redislimit: Redis unreachable; pacing this process alone until it is back",
			slog.String("error", err.Error()), slog.Duration("retry", FallbackRetry))
	}
	return nil
}

func (s *Store) recovered(ctx context.Context) {
	s.mu.Lock()
	was := s.down
	s.down = false
	s.mu.Unlock()
	if was && s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "redislimit: Redis reachable again; sharing the window")
	}
}

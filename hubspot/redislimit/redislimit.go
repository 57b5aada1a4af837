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
// The window's shape (X-HubSpot-RateLimit-Max per -Interval-Milliseconds)
// is kept in Redis as well, once any process has had an answer: every
// process schedules against it, and one that joins a running fleet starts
// from it instead of assuming HubSpot's default (WithLimit tells NewLimiter
// the limit to use before anything is learned). Fairness between processes
// is a queue in Redis ordered by each process's sends in the last two
// windows: when the window is full, the slots that free go first to the
// waiting process that has had the fewest, so a process joining a saturated fleet gets its
// part of the window from the next slots that free, however many requests
// the others have queued; a process that stops asking for 2.5 s loses its
// place.
//
//	rdb := redis.NewClient(redislimit.ClientOptions("redis:6379"))
//	schema, err := associations.New(token, hubspot.WithLimiter(redislimit.NewLimiter(rdb, token)))
//
// When Redis loses the window (a restart without persistence, a flush),
// the processes rebuild it instead of starting from an empty log: an epoch
// key names each life of the window; a process that finds it gone puts its
// own sends of the last two windows back at their times, the first one also
// placeholders for the other processes' sends that HubSpot counted in its
// last answer (each send another process puts back replaces one); after a
// grace of 50 ms for the others to do the same, a single probe goes until
// its answer's -Remaining has corrected the log. A process that falls back
// to its in-process window starts it from HubSpot's count in its last
// answer, not from an empty window.
//
// Keys are named after the SHA-256 of the token (never the token), under a
// prefix (default "hubspot-ratelimit"), and expire: the log and the queue
// two windows after the last send, a hold when it ends, the shape a day
// after it was last learned.
//
// It needs Redis 6.0 or later (the scripts use SET ... KEEPTTL).
//
// Times are Redis's own (the TIME command inside the scripts), in
// microseconds, so processes on machines with skewed clocks still agree.
// The scripts format every time they pass to Redis with %.0f: Lua's default
// number format keeps 14 digits, 100 µs short of a time in microseconds. A
// time of this process's clock is never written to Redis: sends reserved in
// the in-process fallback stay there.
//
// Every Redis call is bounded by the caller's context and by the call
// timeout (DefaultCallTimeout, WithCallTimeout), whatever the client's
// options: the store does not wait for go-redis beyond them. (Set
// redis.Options ContextTimeoutEnabled as above so that go-redis itself
// gives up too instead of finishing an abandoned call in the background.)
// When Redis cannot be reached, does not answer within the call timeout or
// refuses a script, the store falls back to an in-process window (one
// warning per outage): work goes on, paced per process, with HubSpot's 429s
// as the backstop. While it is away one call at a time tries Redis again,
// every FallbackRetry, the others keep to the fallback; a caller that finds
// Redis frozen thus waits at most the call timeout, and the calls already
// waiting on Redis move to the fallback as soon as one of them gives up.
// WithoutFallback makes such failures errors instead: the request is not
// sent and its error names Redis.
//
// What the store reads back from Redis is checked: a key of the wrong type
// where the log or the hold should be is replaced, with a warning naming the
// key; a hold longer than 24 hours plus a minute, one
// that is not a number, and sends logged in Redis's future are dropped the
// same way; waits are bounded.
package redislimit

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// DefaultPrefix starts every key the store writes.
const DefaultPrefix = "hubspot-ratelimit"

// FallbackRetry is how long the store uses its in-process window after Redis
// failed before one call tries Redis again.
const FallbackRetry = time.Second

// DefaultCallTimeout bounds one Redis call (a script) unless WithCallTimeout
// says otherwise; the caller's context may end it sooner.
const DefaultCallTimeout = 500 * time.Millisecond

// maxHold is the longest hold the store accepts from Redis, as the limiter
// bounds its own.
const maxHold = wire.MaxRateLimitInterval + time.Minute

// localPrefix marks the ID of a reservation made in the in-process fallback:
// its times are this process's clock and never go to Redis.
const localPrefix = "local:"

// Option configures New.
type Option func(*Store)

// WithPrefix sets the key prefix (default DefaultPrefix), e.g. to separate
// environments sharing one Redis.
func WithPrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// WithLogger logs Redis outages (a warning), recoveries and repaired keys to
// l.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.logger = l } }

// WithoutFallback makes Redis failures errors instead of falling back to an
// in-process window.
func WithoutFallback() Option { return func(s *Store) { s.noFallback = true } }

// WithCallTimeout bounds each Redis call to d (default DefaultCallTimeout);
// a call that takes longer counts as Redis being away. d <= 0 keeps the
// default.
func WithCallTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.callTimeout = d
		}
	}
}

// Store is a hubspot.WindowStore in Redis for one token.
type Store struct {
	rdb         redis.Scripter
	prefix      string
	logKey      string
	holdKey     string
	shapeKey    string        // the learned shape
	queueKey    string        // waiting processes by ticket
	seenKey     string        // waiting processes by when they last asked
	epochKey    string        // the life of the window in Redis
	rebuildKey  string        // set while a lost window is rebuilt
	mineKey     string        // this store's sends of the last two windows (its place in the queue)
	limit       hubspot.Shape // NewLimiter's configured limit (WithLimit)
	logger      *slog.Logger
	noFallback  bool
	callTimeout time.Duration
	id          string // member prefix unique to this store
	seq         atomic.Uint64

	mu    sync.Mutex
	epoch int64            // the window's life in Redis this store knows (0: none yet)
	mine  map[string]int64 // this store's sends in Redis (member: time in µs), to put back after a loss
	// HubSpot's count in this store's last answer: used sends in the
	// interval before lastAt (µs, Redis's clock).
	lastUsed     int
	lastAt       int64
	lastLocal    time.Time // when that answer came, in the limiter's clock
	lastInterval time.Duration
	fallback     *hubspot.MemoryStore
	downTill     time.Time     // use the fallback until then
	down         bool          // Redis failed and has not answered since
	probing      bool          // one call is trying Redis again
	outage       chan struct{} // closed when Redis is found away
}

// New returns the store for token's window in rdb (a *redis.Client,
// *redis.ClusterClient or *redis.Ring). The token is only hashed: it just
// names the budget, so a client authenticating with an OAuth token source
// (hubspot.WithTokenSource) passes any stable name of its app instead.
func New(rdb redis.Scripter, token string, opts ...Option) *Store {
	s := &Store{rdb: rdb, prefix: DefaultPrefix, fallback: hubspot.NewMemoryStore(),
		callTimeout: DefaultCallTimeout, outage: make(chan struct{}), mine: map[string]int64{}}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	// The hash tag keeps both keys in one cluster slot.
	base := s.prefix + ":{" + wire.TokenKey(token) + "}"
	s.logKey, s.holdKey, s.shapeKey = base+":log", base+":hold", base+":shape"
	s.queueKey, s.seenKey = base+":queue", base+":seen"
	s.epochKey, s.rebuildKey = base+":epoch", base+":rebuild"
	var b [8]byte
	rand.Read(b[:])
	s.id = hex.EncodeToString(b[:])
	s.mineKey = base + ":proc:" + s.id
	return s
}

// ClientOptions returns the go-redis options this package recommends for a
// client of the Redis at addr: go-redis honours the caller's deadline
// (ContextTimeoutEnabled), dials, reads and writes give up after 250 ms and
// a failed command is tried once more, so that an outage is found within
// the call timeout and pacing goes on in-process. Change fields of the
// result for TLS, a password or a database.
func ClientOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           250 * time.Millisecond,
		ReadTimeout:           250 * time.Millisecond,
		WriteTimeout:          250 * time.Millisecond,
		MaxRetries:            1,
	}
}

// NewLimiter returns a hubspot.AdaptiveLimiter whose window is token's
// Store in rdb; pass it with hubspot.WithLimiter. It starts from the shape
// the fleet learned from HubSpot (kept in Redis) when there is one, else
// from WithLimit's, else from HubSpot's default (hubspot.DefaultRateLimit
// per hubspot.DefaultRateLimitInterval).
func NewLimiter(rdb redis.Scripter, token string, opts ...Option) *hubspot.AdaptiveLimiter {
	s := New(rdb, token, opts...)
	lopts := []hubspot.Option{hubspot.WithWindowStore(s)}
	if s.limit.Max > 0 {
		lopts = append(lopts, hubspot.WithRateLimit(s.limit.Max, s.limit.Interval))
	}
	l, err := hubspot.NewAdaptiveLimiter(lopts...)
	if err != nil {
		// Unreachable: WithLimit keeps only limits WithRateLimit accepts.
		panic("redislimit: NewLimiter: " + err.Error())
	}
	return l
}

// WithLimit tells NewLimiter the app's limit, max requests per interval
// (hubspot.DefaultRateLimitHigh per 10 s on Professional and Enterprise),
// used until HubSpot's answers, or the fleet's learned shape in Redis, say
// otherwise. Values out of range are ignored.
func WithLimit(max int, interval time.Duration) Option {
	return func(s *Store) {
		if max >= 1 && max <= wire.MaxRateLimitMax && interval > 0 && interval <= wire.MaxRateLimitInterval {
			s.limit = hubspot.Shape{Max: max, Interval: interval}
		}
	}
}

// Keys returns the keys the store writes (for inspection and tests), in
// the order reserveScript takes them: the log, the hold, the learned shape,
// the queue of waiting processes (by their sends) and when each process
// last asked, the epoch (the window's life), the rebuild marker and this
// store's own sends.
func (s *Store) Keys() []string {
	return []string{s.logKey, s.holdKey, s.shapeKey, s.queueKey, s.seenKey, s.epochKey, s.rebuildKey, s.mineKey}
}

// scriptHead starts every script: Redis's time in µs, and own(key, type,
// bit), which replaces a value of another type at key (a key someone else
// wrote) and notes bit in repaired.
const scriptHead = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local repaired = 0
local function own(key, want, bit)
  local ty = redis.call('TYPE', key)
  if type(ty) == 'table' then ty = ty.ok end
  if ty ~= want and ty ~= 'none' then
    redis.call('DEL', key)
    repaired = repaired + bit
  end
end
`

// Bits of a script's repaired count: what it found and dropped.
const (
	repairedLogType   = 1  // the log key held another type
	repairedHoldType  = 2  // the hold key held another type
	repairedHoldValue = 4  // the hold was not a number or longer than maxHold
	repairedFuture    = 8  // the log held sends in Redis's future
	repairedShape     = 16 // the shape key held another type or values out of range
	repairedQueue     = 32 // a queue key held another type
	repairedEpoch     = 64 // the epoch or rebuild key held another type
)

// reserveScript: KEYS = log, hold, shape, queue, seen, epoch, rebuild, this
// store's sends;
// ARGV = max, interval (µs), window (µs), member, ttl (ms), longest hold
// (µs), this store's id, staleness of a waiting process (µs), longest
// interval (µs), largest max, the epoch the store knows (0: none), a new
// epoch, the epoch's ttl (ms), the rebuild's ttl (ms), its grace (µs). Returns {1, now, 0,
// repaired, max, interval, learned, epoch} when a send was recorded at now
// (µs), {0, wait (µs), daily, repaired, max, interval, learned, epoch}, or
// {2, 0, 0, repaired, max, interval, learned, epoch} when the store knew
// another epoch: Redis lost the window (a restart, a flush) and the store
// must put back its own sends before asking again. max, interval (µs) and
// learned (µs, 0: not learned) are the shape it checked against.
//
// The epoch names one life of the window in Redis. When it is missing
// while a store knew one, the window was lost: a new epoch starts with a
// rebuild (KEYS[7], for the rebuild's ttl): after a grace in which the
// processes put their sends back, one send, the probe, may go (if the log
// has room) and every other waits until
// the probe's answer has corrected the log from HubSpot's -Remaining (which
// counts every process's sends), so that the fleet neither bursts into a
// window HubSpot still counts nor waits a whole window to be safe.
//
// The shape is the learned one in KEYS[3] when there is one (its window
// field is the interval plus its margin, hubspot.Shape.Window), else the caller's.
//
// Processes that must wait queue for slots (KEYS[4]), ordered by their
// sends in the last two windows (KEYS[8] holds each store's own), fewest
// first;
// KEYS[5] says when each last asked. A process with p waiting processes
// ahead of it (fewer sends than its own) gets a send when more than p slots
// are free, and is told to come back when the (p+1)-th slot frees: the
// slots a full window frees go to the processes that have had the least of
// it, so one that joins a saturated fleet gets its part within about a
// window however many requests the others keep waiting. A process that
// has not asked for longer than the staleness leaves the queue.
var reserveScript = redis.NewScript(scriptHead + `
own(KEYS[1], 'zset', 1)
own(KEYS[2], 'hash', 2)
own(KEYS[3], 'hash', 16)
own(KEYS[4], 'zset', 32)
own(KEYS[5], 'zset', 32)
own(KEYS[6], 'string', 64)
own(KEYS[7], 'string', 64)
own(KEYS[8], 'zset', 32)
local known = tonumber(ARGV[11])
local ep = tonumber(redis.call('GET', KEYS[6]) or 'x')
if ep == nil or ep < 1 or ep ~= math.floor(ep) then
  ep = tonumber(ARGV[12])
  redis.call('SET', KEYS[6], string.format('%.0f', ep), 'PX', ARGV[13])
  if known > 0 then
    redis.call('SET', KEYS[7], '-' .. string.format('%.0f', now), 'PX', ARGV[14])
  end
else
  redis.call('PEXPIRE', KEYS[6], ARGV[13])
end
local hold = redis.call('HMGET', KEYS[2], 'until', 'daily')
local max = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local learned = 0
local sh = redis.call('HMGET', KEYS[3], 'max', 'interval', 'window', 'learned')
if sh[1] then
  local m, iv, w, l = tonumber(sh[1]), tonumber(sh[2]), tonumber(sh[3]), tonumber(sh[4])
  if m and iv and w and l and m >= 1 and m <= tonumber(ARGV[10]) and m == math.floor(m)
     and iv > 0 and iv <= tonumber(ARGV[9]) and w >= iv and w <= iv + 1000000 and l > 0 and l <= now + 1000000 then
    max, interval, window, learned = m, iv, w, l
  else
    redis.call('DEL', KEYS[3])
    repaired = repaired + 16
  end
end
if known > 0 and ep ~= known then
  return {2, 0, 0, repaired, max, interval, learned, ep}
end
if hold[1] then
  local u = tonumber(hold[1])
  if u == nil or u ~= u or u - now > tonumber(ARGV[6]) then
    redis.call('DEL', KEYS[2])
    repaired = repaired + 4
  elseif u > now then
    local daily = 0
    if hold[2] == '1' then daily = 1 end
    return {0, math.floor(u - now), daily, repaired, max, interval, learned, ep}
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - 2 * window))
-- Scores are Redis's time of a send or of its arrival, never later than
-- now: a send more than a second ahead was not written by this package.
if redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. string.format('%.0f', now + 1000000), '+inf') > 0 then
  repaired = repaired + 8
end
local from = '(' .. string.format('%.0f', now - window)
local n = redis.call('ZCOUNT', KEYS[1], from, '+inf')
-- A rebuild: first a grace for the other processes to put their sends
-- back, then one probe; while it is out, wait for its answer (ask again
-- soon).
local rb = redis.call('GET', KEYS[7])
if rb then
  local state = string.sub(rb, 1, 1)
  if state == '-' or state == '+' then
    local left = (tonumber(string.sub(rb, 2)) or 0) + tonumber(ARGV[15]) - now
    if left > 0 then
      return {0, math.floor(left), 0, repaired, max, interval, learned, ep}
    end
  else
    local left = redis.call('PTTL', KEYS[7]) * 1000
    if left < 1 then left = 1 end
    return {0, math.min(left, 20000), 0, repaired, max, interval, learned, ep}
  end
end
-- The processes asking (KEYS[5]: when each last asked) and the queue of
-- those waiting for a slot, without those that stopped asking.
local staleBefore = '(' .. string.format('%.0f', now - tonumber(ARGV[8]))
local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', staleBefore)
for _, m in ipairs(gone) do redis.call('ZREM', KEYS[4], m) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', staleBefore) end
redis.call('ZADD', KEYS[5], string.format('%.0f', now), ARGV[7])
redis.call('PEXPIRE', KEYS[5], ARGV[5])
-- This process's sends in the last two windows (KEYS[8]): the queue is
-- ordered by them, fewest first, so the slots a full window frees go to
-- the processes that have had the fewest of it lately (a process that
-- joins a saturated fleet first), whatever number of requests each keeps
-- waiting. (Two windows, not one: as a window opens, the sends of the last
-- one leave it together, and a process of the fleet would count none.)
redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', '(' .. string.format('%.0f', now - 2 * window))
local mine = redis.call('ZCARD', KEYS[8])
if redis.call('ZSCORE', KEYS[4], ARGV[7]) then
  redis.call('ZADD', KEYS[4], mine, ARGV[7])
end
local pos = redis.call('ZCOUNT', KEYS[4], '-inf', '(' .. mine)
if pos >= max - n then
  redis.call('ZADD', KEYS[4], mine, ARGV[7])
  redis.call('PEXPIRE', KEYS[4], ARGV[5])
  -- Come back when the (pos+1)-th slot frees: when the (n-max+pos+1)-th
  -- oldest send leaves the window.
  local wait = window
  local k = n - max + pos
  if k < n then
    local e = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', k, 1)
    wait = tonumber(e[2]) + window - now
  end
  if wait < 1 then wait = 1 end
  return {0, math.floor(wait), 0, repaired, max, interval, learned, ep}
end
redis.call('ZREM', KEYS[4], ARGV[7])
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[8], string.format('%.0f', now), ARGV[4])
redis.call('PEXPIRE', KEYS[8], ARGV[5])
if rb then
  redis.call('SET', KEYS[7], ARGV[4], 'KEEPTTL')
end
return {1, now, 0, repaired, max, interval, learned, ep}
`)

// seedScript: KEYS = log, rebuild; ARGV = ttl (ms), others, their time
// (µs), window (µs), then member and time (µs) pairs. Puts back sends of this store
// that Redis lost (never later than Redis's now, never twice). The first
// store to seed in a rebuild also adds others placeholders at their time:
// the sends of other processes that HubSpot counted in this store's last
// answer, so the log is not short of them until those processes put theirs
// back; each send within the window put back by a store then replaces one
// placeholder (which lies later, so the log only grows more exact).
// Returns {added, repaired}.
var seedScript = redis.NewScript(scriptHead + `
own(KEYS[1], 'zset', 1)
own(KEYS[2], 'string', 64)
local added, recent = 0, 0
local from = now - tonumber(ARGV[4])
for i = 5, #ARGV - 1, 2 do
  local at = math.min(tonumber(ARGV[i + 1]), now)
  local n = redis.call('ZADD', KEYS[1], 'NX', string.format('%.0f', at), ARGV[i])
  added = added + n
  if at > from then recent = recent + n end
end
if recent > 0 then
  local dropped = 0
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if dropped >= recent then break end
    if string.sub(m, 1, 3) == 'ph:' then
      redis.call('ZREM', KEYS[1], m)
      dropped = dropped + 1
    end
  end
end
local rb = redis.call('GET', KEYS[2])
if rb and string.sub(rb, 1, 1) == '-' then
  local at = string.format('%.0f', math.min(tonumber(ARGV[3]), now))
  for i = 1, tonumber(ARGV[2]) do
    redis.call('ZADD', KEYS[1], 'NX', at, 'ph:' .. i)
  end
  redis.call('SET', KEYS[2], '+' .. string.sub(rb, 2), 'KEEPTTL')
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {added, repaired}
`)

// learnScript: KEYS = shape; ARGV = max, interval (µs), window (µs), ttl
// (ms). Records the shape HubSpot gave, learned now; returns {1, repaired}.
var learnScript = redis.NewScript(scriptHead + `
own(KEYS[1], 'hash', 16)
redis.call('HSET', KEYS[1], 'max', ARGV[1], 'interval', ARGV[2], 'window', ARGV[3], 'learned', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, repaired}
`)

// correctScript: KEYS = log, rebuild; ARGV = member, arrival (µs), used, window
// (µs: the interval and its margin), member prefix for added sends, ttl
// (ms), sent (µs). Moves the member to the arrival if that is later, then
// adds used minus the sends in (sent-window, +inf) at the arrival; returns
// {added, repaired}. (The count starts from the send, the earliest the
// arrival can be, and reaches back the margin too, so that neither a late
// estimate of the arrival nor a send at the window's edge, counted by
// HubSpot but placed by the log just before the window, invents a send: an
// invented send holds a slot for a whole window.) Neither time is taken
// later than Redis's now.
var correctScript = redis.NewScript(scriptHead + `
own(KEYS[1], 'zset', 1)
local arrived = math.min(tonumber(ARGV[2]), now)
local sent = math.min(tonumber(ARGV[7]), now)
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if cur and tonumber(cur) < arrived then
  redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', arrived), ARGV[1])
end
local used = tonumber(ARGV[3])
local n = redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.0f', sent - tonumber(ARGV[4])), '+inf')
local missing = used - n
if missing > 0 then
  for i = 1, missing do
    redis.call('ZADD', KEYS[1], string.format('%.0f', arrived), ARGV[5] .. i)
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
-- The probe of a rebuild is answered: the log counts what HubSpot counts.
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return {math.max(missing, 0), repaired}
`)

// holdScript: KEYS = hold; ARGV = duration (µs), daily (0/1), longest hold
// (µs). Extends the hold to now+duration unless it already lasts longer;
// returns {1, repaired}.
var holdScript = redis.NewScript(scriptHead + `
own(KEYS[1], 'hash', 2)
local untilT = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if cur == nil or cur ~= cur or cur - now > tonumber(ARGV[3]) then
  cur = 0
  repaired = repaired + 4
end
if untilT > cur then
  redis.call('HSET', KEYS[1], 'until', string.format('%.0f', untilT), 'daily', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.floor(tonumber(ARGV[1]) / 1000) + 1000))
elseif ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'daily', '1')
end
return {1, repaired}
`)

// Reserve implements hubspot.WindowStore, in Redis's clock (in this
// process's clock while it uses the fallback).
func (s *Store) Reserve(ctx context.Context, now time.Time, shape hubspot.Shape) (hubspot.Reservation, error) {
	if !s.useRedis(now) {
		return s.localReserve(ctx, now, shape)
	}
	member := s.id + ":" + strconv.FormatUint(s.seq.Add(1), 36)
	start := time.Now()
	var v []int64
	var err error
	for try := 0; ; try++ {
		v, err = s.reserve(ctx, member, shape)
		if err != nil || v[0] != 2 || try == 1 {
			break
		}
		// Redis lost the window: put this store's sends back, then ask
		// again in the new epoch.
		s.mu.Lock()
		s.epoch = v[7]
		s.mu.Unlock()
		if err = s.seed(ctx, shape.Window()); err != nil {
			break
		}
	}
	if err == nil && v[0] == 2 {
		v[0], v[1] = 0, time.Millisecond.Microseconds() // another loss at once: ask again soon
	}
	if err != nil {
		// The outage starts when the call gave up, not when it began.
		now = now.Add(time.Since(start))
		if ferr := s.failed(ctx, now, err); ferr != nil {
			return hubspot.Reservation{}, ferr
		}
		return s.localReserve(ctx, now, shape)
	}
	s.recovered(ctx)
	s.repaired(ctx, v[3])
	// The script checks the stored shape; check it again against a reply
	// that is not the script's.
	used := hubspot.Shape{Max: int(v[4]), Interval: time.Duration(v[5]) * time.Microsecond}
	if v[6] > 0 {
		used.Learned = time.UnixMicro(v[6])
	}
	if used.Max < 1 || used.Max > wire.MaxRateLimitMax || used.Interval <= 0 || used.Interval > wire.MaxRateLimitInterval {
		used = shape
	}
	s.mu.Lock()
	s.epoch = v[7]
	if v[0] == 1 {
		s.remember(member, v[1], used.Interval+wire.WindowMargin(used.Interval))
	}
	s.mu.Unlock()
	if v[0] == 1 {
		return hubspot.Reservation{Shape: used, At: time.UnixMicro(v[1]), ID: member}, nil
	}
	wait := min(max(time.Duration(v[1])*time.Microsecond, time.Microsecond), maxHold)
	return hubspot.Reservation{Shape: used, Wait: wait, Daily: v[2] == 1}, nil
}

// reserve runs reserveScript once.
func (s *Store) reserve(ctx context.Context, member string, shape hubspot.Shape) ([]int64, error) {
	s.mu.Lock()
	known := s.epoch
	s.mu.Unlock()
	var b [8]byte
	rand.Read(b[:])
	fresh := int64(binary.BigEndian.Uint64(b[:])>>12) + 1 // below 2^52: exact in Lua's numbers
	v, err := s.call(ctx, reserveScript, s.Keys(),
		shape.Max, shape.Interval.Microseconds(), shape.Window().Microseconds(), member, ttl(shape.Window()),
		maxHold.Microseconds(), s.id, queueStale.Microseconds(), wire.MaxRateLimitInterval.Microseconds(), wire.MaxRateLimitMax,
		known, fresh, shapeTTL.Milliseconds(), rebuildTTL.Milliseconds(), rebuildGrace.Microseconds())
	if err == nil && (len(v) != 8 || v[0] < 0 || v[0] > 2 || v[7] < 1) {
		err = fmt.Errorf("unexpected reply %v", v)
	}
	return v, err
}

// rebuildTTL bounds a rebuild: how long the fleet waits for the probe's
// answer before going on without it.
const rebuildTTL = 2 * time.Second

// rebuildGrace is how long a rebuild lets the processes put their sends
// back before its probe may go: every process asking Redis meanwhile does.
const rebuildGrace = 50 * time.Millisecond

// remember notes one of this store's sends in Redis, and forgets those
// older than two windows; s.mu is held.
func (s *Store) remember(member string, at int64, window time.Duration) {
	s.mine[member] = at
	old := at - 2*window.Microseconds()
	for m, t := range s.mine {
		if t < old {
			delete(s.mine, m)
		}
	}
}

// seed puts this store's remembered sends back into Redis's log.
func (s *Store) seed(ctx context.Context, window time.Duration) error {
	s.mu.Lock()
	// Others' sends in the last answer: HubSpot's count less this store's
	// own sends in that interval.
	others := s.lastUsed
	for _, t := range s.mine {
		if t > s.lastAt-s.lastInterval.Microseconds() && t <= s.lastAt {
			others--
		}
	}
	if s.lastAt < time.Now().Add(-2*window).UnixMicro() {
		others = 0 // too old to matter (the clocks differ by less than a window)
	}
	args := []any{ttl(window), max(others, 0), s.lastAt, window.Microseconds()}
	for m, t := range s.mine {
		args = append(args, m, t)
	}
	s.mu.Unlock()
	v, err := s.call(ctx, seedScript, []string{s.logKey, s.rebuildKey}, args...)
	if err == nil && len(v) != 2 {
		err = fmt.Errorf("unexpected reply %v", v)
	}
	if err != nil {
		return err
	}
	s.repaired(ctx, v[1])
	if s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "redislimit: Redis lost the window (restart or flush); put this process's sends back",
			slog.Int64("sends", v[0]))
	}
	return nil
}

// queueStale is how long a waiting process keeps its place in the queue
// without asking again (a waiting limiter asks at least every second).
const queueStale = 2500 * time.Millisecond

// Learn implements hubspot.WindowStore: the shape goes to Redis (every
// process then schedules against it) and to the fallback.
func (s *Store) Learn(ctx context.Context, now time.Time, shape hubspot.Shape) error {
	if err := s.fallback.Learn(ctx, now, shape); err != nil {
		return err
	}
	if !s.useRedis(now) {
		return nil
	}
	return s.write(ctx, now, learnScript, []string{s.shapeKey},
		shape.Max, shape.Interval.Microseconds(), shape.Window().Microseconds(), shapeTTL.Milliseconds())
}

// shapeTTL is how long Redis keeps a learned shape without a new answer
// teaching it.
const shapeTTL = 24 * time.Hour

// localReserve reserves in the in-process fallback; the reservation's ID
// marks it as local, so that its correction never reaches Redis.
func (s *Store) localReserve(ctx context.Context, now time.Time, shape hubspot.Shape) (hubspot.Reservation, error) {
	r, err := s.fallback.Reserve(ctx, now, shape)
	if r.ID != "" {
		r.ID = localPrefix + r.ID
	}
	return r, err
}

// Correct implements hubspot.WindowStore; r is a Reservation of this store.
// A reservation made in the fallback is corrected there (its times are this
// process's clock); one made in Redis is corrected in Redis, or dropped
// while Redis is away.
func (s *Store) Correct(ctx context.Context, now time.Time, r hubspot.Reservation, lag time.Duration, used int, interval time.Duration) error {
	if id, ok := strings.CutPrefix(r.ID, localPrefix); ok {
		r.ID = id
		return s.fallback.Correct(ctx, now, r, lag, used, interval)
	}
	if !s.useRedis(now) {
		return nil
	}
	prefix := s.id + ":c" + strconv.FormatUint(s.seq.Add(1), 36) + ":"
	if err := s.write(ctx, now, correctScript, []string{s.logKey, s.rebuildKey},
		r.ID, r.At.Add(max(lag, 0)).UnixMicro(), used, (interval + wire.WindowMargin(interval)).Microseconds(), prefix, ttl(interval+wire.WindowMargin(interval)), r.At.UnixMicro()); err != nil {
		return err
	}
	arrived := r.At.Add(max(lag, 0)).UnixMicro()
	s.mu.Lock()
	if t, ok := s.mine[r.ID]; ok {
		s.mine[r.ID] = max(t, arrived)
	}
	if arrived >= s.lastAt {
		s.lastUsed, s.lastAt, s.lastLocal, s.lastInterval = used, arrived, now, interval
	}
	s.mu.Unlock()
	return nil
}

// Hold implements hubspot.WindowStore. The hold is written to the in-process
// window too, so it holds during an outage.
func (s *Store) Hold(ctx context.Context, now time.Time, d time.Duration, daily bool) error {
	d = min(d, maxHold)
	s.fallback.Hold(ctx, now, d, daily)
	if d <= 0 || !s.useRedis(now) {
		return nil
	}
	flag := "0"
	if daily {
		flag = "1"
	}
	return s.write(ctx, now, holdScript, []string{s.holdKey}, d.Microseconds(), flag, maxHold.Microseconds())
}

// errAway is the error of a call abandoned because another call found Redis
// away.
var errAway = errors.New("redis found away by another call")

// write runs a script that changes the shared state and answers two
// numbers (what it did, and whether it replaced a foreign key). A failure
// is an outage dated after the call, however long the call took; a success
// ends one and reports a repaired key.
func (s *Store) write(ctx context.Context, now time.Time, script *redis.Script, keys []string, args ...any) error {
	start := time.Now()
	v, err := s.call(ctx, script, keys, args...)
	if err == nil && len(v) != 2 {
		err = fmt.Errorf("unexpected reply %v", v)
	}
	if err != nil {
		return s.failed(ctx, now.Add(time.Since(start)), err)
	}
	s.recovered(ctx)
	s.repaired(ctx, v[1])
	return nil
}

// call runs script within the call timeout and ctx, and returns its array
// of integers. It returns when either ends, or when another call finds Redis
// away, even if go-redis goes on waiting (a client without
// ContextTimeoutEnabled): the abandoned call finishes in the background.
func (s *Store) call(ctx context.Context, script *redis.Script, keys []string, args ...any) ([]int64, error) {
	cctx, cancel := context.WithTimeout(ctx, s.callTimeout)
	defer cancel()
	var outage chan struct{} // nil (never ready) for the call that tries Redis again
	s.mu.Lock()
	if !s.down {
		outage = s.outage
	}
	s.mu.Unlock()
	type reply struct {
		v   []int64
		err error
	}
	done := make(chan reply, 1)
	go func() {
		v, err := script.Run(cctx, s.rdb, keys, args...).Int64Slice()
		done <- reply{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-cctx.Done():
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("no answer within %s", s.callTimeout)
	case <-outage:
		return nil, errAway
	}
}

// ttl keeps two windows of history, plus a second.
func ttl(window time.Duration) int64 { return 2*window.Milliseconds() + 1000 }

// useRedis says whether a call goes to Redis: always while Redis answers;
// during an outage, once FallbackRetry has passed, only for one call at a
// time (the others keep to the fallback until it succeeds).
func (s *Store) useRedis(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down {
		return true
	}
	if s.probing || now.Before(s.downTill) {
		return false
	}
	s.probing = true
	return true
}

// failed records a Redis failure: with a fallback it returns nil (and logs
// the start of an outage), without one the error. now is when the call gave
// up. The caller's own deadline or cancellation is returned as it is.
func (s *Store) failed(ctx context.Context, now time.Time, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil {
			s.mu.Lock()
			s.probing = false
			s.mu.Unlock()
			return ctx.Err()
		}
	}
	err = fmt.Errorf("redislimit: redis: %w", err)
	if s.noFallback {
		s.mu.Lock()
		s.probing = false
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	first := !s.down
	if first {
		close(s.outage) // calls still waiting on Redis move to the fallback
	}
	s.down, s.probing = true, false
	if t := now.Add(FallbackRetry); t.After(s.downTill) {
		s.downTill = t
	}
	used, at, interval := s.lastUsed, s.lastLocal, s.lastInterval
	s.mu.Unlock()
	if first && used > 0 && now.Sub(at) < interval {
		// The fallback starts from HubSpot's count in the last answer (all
		// placed at that answer, to be safe), not from an empty window.
		s.fallback.Correct(ctx, now, hubspot.Reservation{At: at}, 0, used, interval)
	}
	if first && s.logger != nil {
		msg := "redislimit: Redis unreachable; pacing this process alone until it is back"
		var rerr redis.Error
		if errors.As(err, &rerr) {
			msg = "redislimit: Redis refused the store's script; pacing this process alone until it accepts it"
		}
		s.logger.LogAttrs(ctx, slog.LevelWarn, msg,
			slog.String("error", err.Error()), slog.Duration("retry", FallbackRetry))
	}
	return nil
}

func (s *Store) recovered(ctx context.Context) {
	s.mu.Lock()
	was := s.down
	s.down, s.probing = false, false
	if was {
		s.outage = make(chan struct{})
	}
	s.mu.Unlock()
	if was && s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "redislimit: Redis reachable again; sharing the window")
	}
}

// repaired logs what a script found and dropped, naming the key.
func (s *Store) repaired(ctx context.Context, bits int64) {
	if bits == 0 || s.logger == nil {
		return
	}
	for _, r := range []struct {
		bit      int64
		key, why string
	}{
		{repairedLogType, s.logKey, "held a value of another type where the log of sends belongs; replaced it"},
		{repairedHoldType, s.holdKey, "held a value of another type where the hold belongs; replaced it"},
		{repairedHoldValue, s.holdKey, "held a hold that is not a number or longer than the longest accepted; dropped it"},
		{repairedFuture, s.logKey, "held sends more than a second in Redis's future; dropped them"},
		{repairedShape, s.shapeKey, "held a value of another type or a shape out of range; dropped it"},
		{repairedQueue, s.queueKey, "held a value of another type where the queue of waiting processes belongs; replaced it"},
		{repairedEpoch, s.epochKey, "(or its rebuild key) held a value of another type; replaced it"},
	} {
		if bits&r.bit != 0 {
			s.logger.LogAttrs(ctx, slog.LevelWarn, "redislimit: key "+r.key+" "+r.why, slog.String("key", r.key))
		}
	}
}

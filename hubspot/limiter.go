package hubspot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"
)

// HubSpot's per-app burst limits: 100 requests per 10 s (190 on
// Professional/Enterprise or with the API add-on).
const (
	DefaultRateLimit         = 100
	DefaultRateLimitHigh     = 190
	DefaultRateLimitInterval = 10 * time.Second
)

// Rate-limit headers HubSpot sends on every response.
const (
	HeaderRateLimitMax      = "X-HubSpot-RateLimit-Max"
	HeaderRateLimitRemain   = "X-HubSpot-RateLimit-Remaining"
	HeaderRateLimitInterval = "X-HubSpot-RateLimit-Interval-Milliseconds"
)

// Bounds on what the limiter accepts from X-HubSpot-RateLimit-* headers and
// callers; values outside them are ignored (headers, with a log line) or
// clamped (waits).
const (
	// MaxRateLimitInterval is the longest rolling window accepted.
	MaxRateLimitInterval = 24 * time.Hour
	// MaxRateLimitMax is the largest per-window limit accepted.
	MaxRateLimitMax = 1_000_000
	// maxHold bounds any single hold or wait the limiter imposes.
	maxHold = MaxRateLimitInterval + time.Minute
)

// WindowMargin is how much longer than HubSpot's interval the limiter keeps a
// send in its window before reusing the slot: room for clock and network
// jitter between this process's send time and HubSpot's arrival time. It is
// 2% of the interval, between 10 ms and 250 ms.
func WindowMargin(interval time.Duration) time.Duration {
	return min(max(interval/50, 10*time.Millisecond), 250*time.Millisecond)
}

// WindowStore keeps the rolling window of sends of one token: the log the
// AdaptiveLimiter schedules against, with a hold (after a 429) and a daily
// stop. MemoryStore serves one process; a store shared by several processes
// (package hubspot/redislimit) makes them share one budget. Methods must be
// safe for concurrent use and atomic with respect to each other.
//
// Times passed in are the limiter's clock. A store may use its own clock
// instead (a shared store uses one clock for every process); it then says so,
// and the times it returns are in its clock. Durations are the same in both.
type WindowStore interface {
	// Reserve records one send if the window allows it: no hold is in force
	// and fewer than max sends (this process's, other processes' and those
	// added by Correct) fall within window before now. It then returns a
	// Reservation with At, the send's time in the store's clock, and ID, the
	// entry's handle for Correct. Otherwise it records nothing and returns
	// Wait > 0: how long until a slot may free (or the hold ends), with Daily
	// set when the hold is a daily stop.
	Reserve(ctx context.Context, now time.Time, max int, window time.Duration) (Reservation, error)
	// Correct takes in HubSpot's answer to the send r. HubSpot counted the
	// request about lag after r.At (half the round trip): the entry moves
	// there (not earlier than it is), so the slot is reused one window after
	// HubSpot saw it, whatever the delay on the way. HubSpot then counted
	// used requests in its window of length interval; if the log holds fewer
	// in (r.At-interval, now], other clients of the app spent the
	// difference, and it is added as sends at the arrival.
	Correct(ctx context.Context, now time.Time, r Reservation, lag time.Duration, used int, interval time.Duration) error
	// Hold stops every reservation for d from now (a Retry-After, a daily
	// stop), unless a longer hold is in force.
	Hold(ctx context.Context, now time.Time, d time.Duration, daily bool) error
}

// Reservation is the answer of WindowStore.Reserve.
type Reservation struct {
	// At is the recorded send's time in the store's clock (zero with Wait).
	At time.Time
	// ID identifies the recorded send to the store (for Correct).
	ID string
	// Wait > 0 means no send was recorded: try again after Wait.
	Wait time.Duration
	// Daily is set with Wait when HubSpot's daily limit stops every send.
	Daily bool
}

// MemoryStore is the in-process WindowStore: a sorted log of send times.
type MemoryStore struct {
	mu        sync.Mutex
	log       []entry // sorted by time, oldest first
	seq       uint64
	holdUntil time.Time
	daily     bool
}

type entry struct {
	t  time.Time
	id uint64 // 0 for sends added by Correct
}

// NewMemoryStore returns an empty in-process window store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Reserve implements WindowStore.
func (s *MemoryStore) Reserve(_ context.Context, now time.Time, max int, window time.Duration) (Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.holdUntil) {
		return Reservation{Wait: s.holdUntil.Sub(now), Daily: s.daily}, nil
	}
	s.daily = false
	// Keep two windows of history for Correct, drop the rest.
	s.prune(now.Add(-2 * window))
	// Count every entry after now-window, even one after now: the caller's
	// now may be stale (read before the lock) while another caller already
	// placed a send at the time HubSpot counted it.
	first := s.firstAfter(now.Add(-window))
	if n := len(s.log) - first; n >= max {
		// The slot frees when the (n-max+1)-th newest send leaves the window.
		wait := s.log[first+n-max].t.Add(window).Sub(now)
		return Reservation{Wait: max1ns(wait)}, nil
	}
	s.seq++
	s.insert(entry{t: now, id: s.seq}, 1)
	return Reservation{At: now, ID: strconv.FormatUint(s.seq, 10)}, nil
}

// Correct implements WindowStore.
func (s *MemoryStore) Correct(_ context.Context, now time.Time, r Reservation, lag time.Duration, used int, interval time.Duration) error {
	arrived := r.At.Add(max(lag, 0))
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, err := strconv.ParseUint(r.ID, 10, 64); err == nil && id != 0 {
		for i := s.firstAfter(r.At.Add(-time.Nanosecond)); i < len(s.log) && !s.log[i].t.After(r.At); i++ {
			if s.log[i].id == id {
				if arrived.After(s.log[i].t) {
					e := s.log[i]
					s.log = append(s.log[:i], s.log[i+1:]...)
					e.t = arrived
					s.insert(e, 1)
				}
				break
			}
		}
	}
	// Count from the send, the earliest the arrival can be, so that a late
	// estimate of the arrival does not invent sends by others.
	first := s.firstAfter(r.At.Add(-interval))
	if missing := used - (len(s.log) - first); missing > 0 {
		s.insert(entry{t: arrived}, missing)
	}
	return nil
}

// Hold implements WindowStore.
func (s *MemoryStore) Hold(_ context.Context, now time.Time, d time.Duration, daily bool) error {
	if d <= 0 {
		return nil
	}
	until := now.Add(min(d, maxHold))
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.holdUntil) {
		s.holdUntil = until
		s.daily = daily
	} else if daily {
		s.daily = true
	}
	return nil
}

// firstAfter returns the index of the first entry after t.
func (s *MemoryStore) firstAfter(t time.Time) int {
	return sort.Search(len(s.log), func(i int) bool { return s.log[i].t.After(t) })
}

func (s *MemoryStore) prune(before time.Time) {
	if cut := s.firstAfter(before); cut > 0 {
		s.log = append(s.log[:0], s.log[cut:]...)
	}
}

// insert adds n copies of e, keeping the log sorted.
func (s *MemoryStore) insert(e entry, n int) {
	i := s.firstAfter(e.t)
	for range n {
		s.log = append(s.log, entry{})
	}
	copy(s.log[i+n:], s.log[i:])
	for j := i; j < i+n; j++ {
		s.log[j] = e
	}
}

func max1ns(d time.Duration) time.Duration { return max(d, time.Nanosecond) }

// AdaptiveLimiter schedules requests against HubSpot's rolling window.
//
// It keeps a log of sends (a WindowStore: in-process by default, shared
// between processes with package hubspot/redislimit) and lets a request go
// while fewer than Max sends fall within the last Interval (plus
// WindowMargin): a fresh limiter sends a burst of Max at once. When the
// window is full a request waits only until the oldest send in it leaves.
// When its answer arrives, a send is placed where HubSpot counted it (at
// the latest the round trip less half the fastest round trip seen), so a
// request held up on its way out does not free its slot early. Responses
// also correct the model: X-HubSpot-RateLimit-Max and
// -Interval-Milliseconds reshape the window, and -Remaining tells how many
// sends HubSpot counted, so sends by other clients of the same app are added
// to the log. A 429's Retry-After holds every caller (Pause); a DAILY 429
// stops every caller until the daily limit resets.
//
// Header values are range-checked: an interval outside (0, 24h], a Max
// outside [1, MaxRateLimitMax] or a Remaining that is negative or not an
// integer is ignored with a log line; no wait exceeds MaxRateLimitInterval
// and none outlives the caller's context.
type AdaptiveLimiter struct {
	store WindowStore
	clock Clock
	// turn lets one waiter at a time poll the store, in arrival order.
	turn chan struct{}

	mu       sync.Mutex
	max      int
	interval time.Duration
	rtt      time.Duration // moving average of attempt round trips
	fastest  time.Duration // the fastest round trip seen
	badSeen  map[string]string
	logger   *slog.Logger
}

// LimiterOption configures NewAdaptiveLimiter beyond the limit and clock.
type LimiterOption func(*AdaptiveLimiter)

// WithWindowStore makes the limiter schedule against store instead of an
// in-process log (see package hubspot/redislimit).
func WithWindowStore(store WindowStore) LimiterOption {
	return func(l *AdaptiveLimiter) {
		if store != nil {
			l.store = store
		}
	}
}

// WithLimiterLogger logs ignored header values and store problems to lg
// (the transport's WithLogger is used when this is not set).
func WithLimiterLogger(lg *slog.Logger) LimiterOption {
	return func(l *AdaptiveLimiter) { l.logger = lg }
}

// NewAdaptiveLimiter returns a limiter for perInterval requests per interval.
// A nil clock is the real clock. Non-positive or out-of-range arguments
// select HubSpot's defaults (DefaultRateLimit per DefaultRateLimitInterval).
func NewAdaptiveLimiter(perInterval int, interval time.Duration, clock Clock, opts ...LimiterOption) *AdaptiveLimiter {
	if perInterval <= 0 || perInterval > MaxRateLimitMax {
		perInterval = DefaultRateLimit
	}
	if interval <= 0 || interval > MaxRateLimitInterval {
		interval = DefaultRateLimitInterval
	}
	if clock == nil {
		clock = SystemClock{}
	}
	l := &AdaptiveLimiter{clock: clock, turn: make(chan struct{}, 1), max: perInterval, interval: interval}
	for _, o := range opts {
		if o != nil {
			o(l)
		}
	}
	if l.store == nil {
		l.store = NewMemoryStore()
	}
	return l
}

var (
	sharedMu       sync.Mutex
	sharedLimiters = map[[sha256.Size]byte]*sharedEntry{}
	sharedSwept    time.Time
)

// sharedIdle is how long the registry keeps a limiter no client holds
// after the last SharedLimiter call for its token; sharedSweep is how often
// it looks for such entries (variables for tests).
var (
	sharedIdle  = 10 * time.Minute
	sharedSweep = time.Minute
)

// sharedEntry is one token's limiter in the registry: held strongly while
// recently asked for, weakly after, so it lives exactly as long as some
// client uses it (two clients of one token never get two budgets) and the
// registry does not grow with tokens nobody uses.
type sharedEntry struct {
	strong *AdaptiveLimiter // nil once idle
	weak   weak.Pointer[AdaptiveLimiter]
	used   time.Time
}

// SharedLimiter returns the process-wide limiter for token, creating it with
// perInterval requests per interval on first use; later calls with the same
// token return the same limiter, so every client and Schema using one token
// shares one budget. The limits of the call that created it win: later
// calls' limits are ignored until HubSpot's X-HubSpot-RateLimit-* headers
// reshape it (give a client its own limits with WithLimiter). The registry
// is keyed by a SHA-256 of the token, never the token itself; it drops a
// limiter once no client holds it and no call asked for it for 10 minutes,
// so an application serving many tokens does not keep one per token
// forever. Shared limiters use the real clock.
func SharedLimiter(token string, perInterval int, interval time.Duration) *AdaptiveLimiter {
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if now.Sub(sharedSwept) >= sharedSweep {
		sharedSwept = now
		for k, e := range sharedLimiters {
			if e.strong != nil && now.Sub(e.used) >= sharedIdle {
				e.strong = nil // kept only while a client holds it
			}
			if e.strong == nil && e.weak.Value() == nil {
				delete(sharedLimiters, k)
			}
		}
	}
	if e, ok := sharedLimiters[key]; ok {
		if l := e.weak.Value(); l != nil {
			e.strong, e.used = l, now
			return l
		}
	}
	l := NewAdaptiveLimiter(perInterval, interval, nil)
	sharedLimiters[key] = &sharedEntry{strong: l, weak: weak.Make(l), used: now}
	return l
}

// sharedCount returns the number of tokens in the registry (for tests).
func sharedCount() int {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	return len(sharedLimiters)
}

// TokenKey returns the hex SHA-256 of token: the name under which shared
// stores keep a token's window, so the token itself is never stored.
func TokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Wait blocks until a request may be sent (and records it as sent) or ctx is
// done.
func (l *AdaptiveLimiter) Wait(ctx context.Context) error {
	_, _, err := l.acquire(ctx, nil)
	return err
}

// slot is one granted send: the store's reservation and when it was made in
// the limiter's clock.
type slot struct {
	res   Reservation
	local time.Time
}

// acquire waits for a send slot and records it; it reports how long it
// waited. A daily stop returns a *RateLimitError with Policy DAILY at once.
func (l *AdaptiveLimiter) acquire(ctx context.Context, lg *slog.Logger) (slot, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return slot{}, 0, err
	}
	start := l.clock.Now()
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return slot{}, 0, ctx.Err()
	}
	defer func() { <-l.turn }()
	for {
		if err := ctx.Err(); err != nil {
			return slot{}, l.clock.Now().Sub(start), err
		}
		now := l.clock.Now()
		max, window := l.shape()
		r, err := l.store.Reserve(ctx, now, max, window)
		if err != nil {
			return slot{}, now.Sub(start), fmt.Errorf("hubspot: rate limiter: %w", err)
		}
		if r.Wait <= 0 {
			return slot{res: r, local: now}, now.Sub(start), nil
		}
		if r.Daily {
			return slot{}, now.Sub(start), &RateLimitError{Policy: PolicyDaily, Wait: min(r.Wait, maxHold),
				APIError: &APIError{StatusCode: http.StatusTooManyRequests,
					Message: "daily rate limit reached (seen on an earlier response); not sending"}}
		}
		if err := l.clock.Sleep(ctx, min(r.Wait, maxHold)); err != nil {
			return slot{}, l.clock.Now().Sub(start), err
		}
	}
}

// shape returns the limit and the window the store checks (interval plus
// margin).
func (l *AdaptiveLimiter) shape() (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.max, l.interval + WindowMargin(l.interval)
}

// Pause holds every caller back for d (for example after a 429 with a
// Retry-After), unless a longer hold is already in place. d is capped at
// MaxRateLimitInterval.
func (l *AdaptiveLimiter) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	_ = l.store.Hold(context.Background(), l.clock.Now(), min(d, maxHold), false)
}

// Limit returns the current limit: requests per interval.
func (l *AdaptiveLimiter) Limit() (max int, interval time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.max, l.interval
}

// Observe adapts the limiter to HubSpot's rate-limit headers of a response
// to a request sent just now (the transport uses the send time it recorded).
// Missing headers are ignored; out-of-range ones too, with a log line.
func (l *AdaptiveLimiter) Observe(h http.Header) {
	now := l.clock.Now()
	l.observe(context.Background(), slot{res: Reservation{At: now}, local: now}, &http.Response{StatusCode: http.StatusOK, Header: h}, nil, nil)
}

// observe takes in the answer to the send s: the round trip, the
// X-HubSpot-RateLimit-* headers and a DAILY 429 (err from ParseError).
func (l *AdaptiveLimiter) observe(ctx context.Context, s slot, resp *http.Response, err error, lg *slog.Logger) {
	now := l.clock.Now()
	if resp == nil {
		return
	}
	rtt := now.Sub(s.local)
	if !s.local.IsZero() {
		l.recordRTT(rtt)
	}
	var rl *RateLimitError
	if errors.As(err, &rl) && rl.Daily() {
		d := rl.Wait
		if d <= 0 || d > MaxRateLimitInterval {
			// HubSpot resets daily limits at midnight; without a usable
			// Retry-After, stop until the next UTC midnight and look again.
			d = now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now.UTC())
		}
		l.storeErr(ctx, lg, l.store.Hold(ctx, now, d, true))
		return
	}
	if resp.Header == nil {
		return
	}
	limit, interval := l.reshape(ctx, resp.Header, lg)
	rem, ok := l.header(ctx, resp.Header, HeaderRateLimitRemain, 0, int64(limit), lg)
	if !ok || s.res.At.IsZero() {
		return
	}
	used := limit - int(rem)
	if resp.StatusCode == http.StatusTooManyRequests {
		used++ // the rejected send is in our log but not in HubSpot's
	}
	// HubSpot counted the request before it answered: at the latest the
	// round trip less the way back, taken as half the fastest round trip
	// seen. A request held up on its way out (a busy machine) is then
	// placed late enough; never later than the answer, nor an interval.
	lag := min(max(rtt-l.minRTT()/2, 0), interval)
	l.storeErr(ctx, lg, l.store.Correct(ctx, now, s.res, lag, used, interval))
}

// reshape applies -Max and -Interval-Milliseconds and returns the limit.
func (l *AdaptiveLimiter) reshape(ctx context.Context, h http.Header, lg *slog.Logger) (int, time.Duration) {
	maxV, okMax := l.header(ctx, h, HeaderRateLimitMax, 1, MaxRateLimitMax, lg)
	ivV, okIv := l.header(ctx, h, HeaderRateLimitInterval, 1, MaxRateLimitInterval.Milliseconds(), lg)
	l.mu.Lock()
	defer l.mu.Unlock()
	if okMax {
		l.max = int(maxV)
	}
	if okIv {
		l.interval = time.Duration(ivV) * time.Millisecond
	}
	return l.max, l.interval
}

// header parses an integer header within [lo, hi]. A missing header is not
// ok; a present one that is malformed or out of range is logged (once per
// distinct value) and not ok.
func (l *AdaptiveLimiter) header(ctx context.Context, h http.Header, name string, lo, hi int64, lg *slog.Logger) (int64, bool) {
	raw := h.Get(name)
	if raw == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err == nil && v >= lo && v <= hi {
		return v, true
	}
	if len(raw) > 40 {
		raw = raw[:40] + "..."
	}
	l.mu.Lock()
	if l.badSeen == nil {
		l.badSeen = map[string]string{}
	}
	seen := l.badSeen[name] == raw
	l.badSeen[name] = raw
	l.mu.Unlock()
	if !seen {
		l.log(ctx, lg, slog.LevelWarn, "hubspot: ignoring out-of-range rate-limit header",
			slog.String("header", name), slog.String("value", strconv.Quote(raw)),
			slog.String("range", fmt.Sprintf("[%d, %d]", lo, hi)))
	}
	return 0, false
}

func (l *AdaptiveLimiter) storeErr(ctx context.Context, lg *slog.Logger, err error) {
	if err != nil {
		l.log(ctx, lg, slog.LevelWarn, "hubspot: rate limiter store", slog.String("error", err.Error()))
	}
}

func (l *AdaptiveLimiter) log(ctx context.Context, lg *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	if l.logger != nil {
		lg = l.logger
	}
	if lg != nil {
		lg.LogAttrs(ctx, level, msg, attrs...)
	}
}

// recordRTT folds one attempt's round trip into the moving average.
func (l *AdaptiveLimiter) recordRTT(d time.Duration) {
	if d <= 0 || d > time.Minute {
		return
	}
	l.mu.Lock()
	if l.rtt == 0 {
		l.rtt = d
	} else {
		l.rtt += (d - l.rtt) / 8
	}
	if l.fastest == 0 || d < l.fastest {
		l.fastest = d
	}
	l.mu.Unlock()
}

// minRTT returns the fastest round trip seen (zero before any).
func (l *AdaptiveLimiter) minRTT() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fastest
}

// pace returns the allowed rate (requests per second) and the average round
// trip seen so far (zero before the first answer).
func (l *AdaptiveLimiter) pace() (float64, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return float64(l.max) / l.interval.Seconds(), l.rtt
}

package hubspot

import (
	"context"
	"crypto/sha256"
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

	"github.com/crmkit/hubspot-associations/internal/wire"
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
	headerRateLimitMax      = "X-HubSpot-RateLimit-Max"
	headerRateLimitRemain   = "X-HubSpot-RateLimit-Remaining"
	headerRateLimitInterval = "X-HubSpot-RateLimit-Interval-Milliseconds"
)

// Bounds on what the limiter accepts from X-HubSpot-RateLimit-* headers and
// callers; values outside them are ignored (headers, with a log line) or
// clamped (waits).
const (
	// maxRateLimitInterval is the longest rolling window accepted (24 h).
	maxRateLimitInterval = wire.MaxRateLimitInterval
	// maxRateLimitMax is the largest per-window limit accepted (1,000,000).
	maxRateLimitMax = wire.MaxRateLimitMax
	// maxHold bounds any single hold or wait the limiter imposes.
	maxHold = maxRateLimitInterval + time.Minute
)

// windowMargin is how much longer than HubSpot's interval the limiter keeps
// a send in its window (see wire.WindowMargin: 2% of the interval, 10 to
// 250 ms).
func windowMargin(interval time.Duration) time.Duration { return wire.WindowMargin(interval) }

// WindowStore keeps the rolling window of sends of one token: the log the
// AdaptiveLimiter schedules against, with a hold (after a 429) and a daily
// stop. MemoryStore serves one process; a store shared by several processes
// (package hubspot/redislimit) makes them share one budget. Methods must be
// safe for concurrent use and atomic with respect to each other.
//
// The store also keeps the window's shape (Max per Interval) once HubSpot
// has told it (Learn): every limiter on the store schedules against that
// shape, so one process's answer reshapes every process's limiter and a
// process that joins starts from it.
//
// Times passed in are the limiter's clock. A store may use its own clock
// instead (a shared store uses one clock for every process); it then says so,
// and the times it returns are in its clock. Durations are the same in both.
type WindowStore interface {
	// Reserve records one send if the window allows it: no hold is in force
	// and fewer than Max sends (this process's, other processes' and those
	// added by Correct) fall within the window (shape.Window()) before
	// now. The shape is the store's learned
	// one when it has one, else shape (the caller's configured or default
	// limit). It then returns a Reservation with At, the send's time in the
	// store's clock, and ID, the entry's handle for Correct. Otherwise it
	// records nothing and returns Wait > 0: how long until a slot may free
	// (or the hold ends), with Daily set when the hold is a daily stop.
	// Either way Shape is the shape it checked against.
	Reserve(ctx context.Context, now time.Time, shape Shape) (Reservation, error)
	// Learn records the shape HubSpot's answer gave (X-HubSpot-RateLimit-Max
	// and -Interval-Milliseconds); later reservations, by every limiter on
	// the store, check against it. The last learned shape wins.
	Learn(ctx context.Context, now time.Time, shape Shape) error
	// Correct takes in HubSpot's answer to the send r. The entry moves to
	// lag after r.At (not earlier than it is): where HubSpot counted the
	// request less the way there of the send that will reuse the slot, so
	// that send reaches HubSpot one window after it, whatever the delay on
	// the way. HubSpot then counted used requests in its window of length
	// interval; if the log holds fewer in (r.At-interval-margin, now] (the
	// margin of Shape.Window: a send at the window's edge that HubSpot
	// counted is not taken for another's), other clients of the app spent
	// the difference, and it is added as sends at the arrival.
	Correct(ctx context.Context, now time.Time, r Reservation, lag time.Duration, used int, interval time.Duration) error
	// Hold stops every reservation for d from now (a Retry-After, a daily
	// stop), unless a longer hold is in force.
	Hold(ctx context.Context, now time.Time, d time.Duration, daily bool) error
}

// Shape is the shape of the rolling window: Max sends per Interval.
type Shape struct {
	Max      int
	Interval time.Duration
	// Learned is when a store learned the shape from HubSpot's answer, in
	// the store's clock; zero for a configured or default shape.
	Learned time.Time
}

// valid says whether the shape is within the bounds the limiter accepts.
func (sh Shape) valid() bool {
	return sh.Max >= 1 && sh.Max <= maxRateLimitMax && sh.Interval > 0 && sh.Interval <= maxRateLimitInterval
}

// Window is the span a send is kept in the log: Interval plus a margin for
// clock and network jitter between a send and HubSpot's count of it (2% of
// Interval, between 10 ms and 250 ms).
func (sh Shape) Window() time.Duration { return sh.Interval + windowMargin(sh.Interval) }

// Reservation is the answer of WindowStore.Reserve.
type Reservation struct {
	// Shape is the window's shape the store checked against.
	Shape Shape
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
	shape     Shape // learned; zero until Learn
}

// count is what one answer said HubSpot counted within the interval: this
// limiter's sends and all sends.
type count struct{ own, used int }

type entry struct {
	t  time.Time
	id uint64 // 0 for sends added by Correct
}

// NewMemoryStore returns an empty in-process window store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Reserve implements WindowStore.
func (s *MemoryStore) Reserve(_ context.Context, now time.Time, shape Shape) (Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.shape.Learned.IsZero() {
		shape = s.shape
	}
	if !shape.valid() {
		shape = Shape{Max: DefaultRateLimit, Interval: DefaultRateLimitInterval}
	}
	max, window := shape.Max, shape.Window()
	if now.Before(s.holdUntil) {
		return Reservation{Shape: shape, Wait: s.holdUntil.Sub(now), Daily: s.daily}, nil
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
		return Reservation{Shape: shape, Wait: max1ns(wait)}, nil
	}
	s.seq++
	s.insert(entry{t: now, id: s.seq}, 1)
	return Reservation{Shape: shape, At: now, ID: strconv.FormatUint(s.seq, 10)}, nil
}

// Learn implements WindowStore.
func (s *MemoryStore) Learn(_ context.Context, now time.Time, shape Shape) error {
	if !shape.valid() {
		return fmt.Errorf("hubspot: rate-limit shape %d per %s out of range", shape.Max, shape.Interval)
	}
	shape.Learned = now
	s.mu.Lock()
	s.shape = shape
	s.mu.Unlock()
	return nil
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
	// Count from the send, the earliest the arrival can be, and the
	// window's margin before it, so that neither a late estimate of the
	// arrival nor a send at the window's edge (counted by HubSpot, placed by
	// the log just before the window) invents a send by others: an invented
	// send holds a slot for a whole window.
	first := s.firstAfter(r.At.Add(-(interval + windowMargin(interval))))
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
// Shape.Window's margin): a fresh limiter sends a burst of Max at once. When the
// window is full a request waits only until the oldest send in it leaves.
// When its answer arrives, a send is placed where HubSpot counted it (at
// the latest the round trip less half the fastest round trip seen) less
// the way there of the send that will reuse its slot (half the fastest
// round trip), so a request held up on its way out does not free its slot
// early and the next window's sends arrive as it opens. Responses
// also correct the model: X-HubSpot-RateLimit-Max and
// -Interval-Milliseconds reshape the window (and are taught to the store,
// so with a shared store every process's limiter takes the shape from one
// answer, and a process that joins starts from it), and -Remaining tells how many
// sends HubSpot counted, so sends by other clients of the same app are added
// to the log. A 429's Retry-After holds every caller (Pause); a DAILY 429
// stops every caller until the daily limit resets.
//
// Header values are range-checked: an interval outside (0, 24h], a Max
// outside [1, 1,000,000] or a Remaining that is negative or not an
// integer is ignored with a log line, and with it the other rate-limit
// headers of the same answer (one answer is one observation: its headers
// are taken together or not at all); no wait exceeds 24 hours
// and none outlives the caller's context.
type AdaptiveLimiter struct {
	store WindowStore
	clock wire.Clock
	// turn lets one waiter at a time poll the store, in arrival order.
	turn chan struct{}

	mu       sync.Mutex
	max      int
	interval time.Duration
	// stored says the store reported a learned shape on the last
	// reservation; until it does, the limiter teaches it the shape it
	// learns (again after the store lost it).
	stored bool
	// known says the limit is not a guess: the caller gave it, or HubSpot
	// (an answer, the store's learned shape) did.
	known bool
	// mine holds the times of this limiter's own sends within the last
	// window (its clock, oldest first): its share of the window.
	mine []time.Time
	// remain is the last answer's X-HubSpot-RateLimit-Remaining.
	remain int
	// unshared is when an answer last counted sends this limiter's
	// in-process store did not know of (other clients of the app, not
	// sharing the window): they would draw 429s from a burst. An answer
	// that shows none two intervals later clears it.
	unshared time.Time
	// quota is how many of this limiter's sends may fall within a window
	// while answers show unshared clients: its part of the window, Max
	// times its own sends over all HubSpot counted, rounded down, so that
	// clients that each see the whole window free as it opens take
	// together no more than it holds. It is set from the answer that first
	// shows others (or a probe's). Once a window (the epoch from quotaAt)
	// it may rise, to the lesser part shown by the fullest answers (epoch)
	// of this window and the last (lastPart), and only when they showed a
	// quarter of the window or more left: an answer does not count the
	// others' sends that arrive after it, and room seen in one window only
	// may be a client paused after a 429, which comes back. It falls only
	// on a 429 (the window overfull), to the part that answer shows: a
	// limiter whose sends come late in each window would otherwise see a
	// smaller part each window and starve.
	quota    int
	quotaAt  time.Time
	epoch    count
	lastPart int
	// leftover is what the fullest answer of the last window said was
	// left (-1 until a window has passed): more left now is room others
	// gave up (a client done), which the limiter takes one send at a time
	// beyond its quota, each answered before the next.
	leftover int
	// placed holds where this limiter's accepted sends of the last two
	// windows were counted (in-process store only; the store's placement:
	// the arrival less the way there), oldest first.
	placed []time.Time
	// probing is set on a fresh limiter on an in-process store whose limit
	// is a guess. From its first answer (firstAnswer) until the sends made
	// before it are answered, it keeps no more in flight than then
	// (probeCap), and sends nothing once an answer counted a send that may
	// not be its own (probeSaw). If those answers show others spending the
	// window, it then sends one (at probeAt) and waits for its answer,
	// which counts what the others sent meanwhile, before it takes its
	// quota. aloneAt is when a probe that held sends (probeWaited: others
	// of its sends were in flight at the first answer) found the limiter
	// alone: the answers it waited for did not each grow the burst (see
	// pace).
	probing, probeWaited, probeSaw bool
	probeCap                       int
	firstAnswer, probeAt, aloneAt  time.Time
	// flying holds the send times of this limiter's sends not yet
	// answered (in-process store only), oldest first; pending counts
	// sends held let go and being reserved; wake is closed (and replaced)
	// by each answer, waking a caller held for its quota.
	flying  []time.Time
	pending int
	wake    chan struct{}
	rtt     time.Duration // moving average of attempt round trips
	fastest time.Duration // the fastest round trip seen
	badSeen map[string]string
	logger  *slog.Logger
}

// NewAdaptiveLimiter returns a limiter to share between clients with
// WithLimiter. It takes WithRateLimit (default DefaultRateLimit per
// DefaultRateLimitInterval, until HubSpot's answers say otherwise),
// WithWindowStore (default an in-process MemoryStore) and WithLogger (for
// ignored header values and store problems; without it, the logger of the
// Transport that observed the answer); any other option is an error.
func NewAdaptiveLimiter(opts ...Option) (*AdaptiveLimiter, error) {
	var o wire.Options
	if err := applyOptions(&o, opts); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for n := range o.Client {
		names[n] = true
	}
	for n := range o.Batch {
		names[n] = true
	}
	delete(names, "WithRateLimit")
	delete(names, "WithWindowStore")
	if len(names) > 0 {
		return nil, fmt.Errorf("hubspot: NewAdaptiveLimiter: %s configure(s) a client, not a limiter; it takes WithRateLimit, WithWindowStore and WithLogger", wire.Names(names))
	}
	return newLimiter(&o), nil
}

// newLimiter returns a limiter for o's rate limit (PerInterval per
// Interval: HubSpot's defaults when zero or out of range), store, logger
// and clock (the real clock when nil).
func newLimiter(o *wire.Options) *AdaptiveLimiter {
	perInterval, interval, clock := o.PerInterval, o.Interval, o.Clock
	told := perInterval > 0 && perInterval <= maxRateLimitMax
	if !told {
		perInterval = DefaultRateLimit
	}
	if interval <= 0 || interval > maxRateLimitInterval {
		interval = DefaultRateLimitInterval
	}
	if clock == nil {
		clock = wire.SystemClock{}
	}
	l := &AdaptiveLimiter{clock: clock, turn: make(chan struct{}, 1), max: perInterval, interval: interval, known: told, logger: o.Logger, leftover: -1}
	l.store, _ = o.Store.(WindowStore)
	if l.store == nil {
		l.store = NewMemoryStore()
	}
	_, local := l.store.(*MemoryStore)
	l.probing = local && !told
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
	l := newLimiter(&wire.Options{PerInterval: perInterval, Interval: interval})
	sharedLimiters[key] = &sharedEntry{strong: l, weak: weak.Make(l), used: now}
	return l
}

// sharedCount returns the number of tokens in the registry (for tests).
func sharedCount() int {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	return len(sharedLimiters)
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
	// Callers wait for a slot in line: one at a time sleeps until the
	// window frees, the others wait behind it. The store is asked outside
	// the line, so a slow store (Redis not answering) holds up only the call
	// that asks it: the others reach the store too, and its fallback.
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return slot{}, 0, ctx.Err()
	}
	for {
		<-l.turn
		if err := ctx.Err(); err != nil {
			return slot{}, l.clock.Now().Sub(start), err
		}
		now := l.clock.Now()
		if hold, wake := l.held(now); hold > 0 {
			// Probing, or its quota spent while unshared clients spend
			// the window: wait for an answer or the hold's end, less
			// the time spent waiting in line (a hold computed before
			// is stale by then).
			until := now.Add(min(hold, storeRecheck))
			select {
			case l.turn <- struct{}{}:
			case <-ctx.Done():
				return slot{}, l.clock.Now().Sub(start), ctx.Err()
			}
			if d := until.Sub(l.clock.Now()); d > 0 {
				if err := l.sleepOrWake(ctx, d, wake); err != nil {
					<-l.turn
					return slot{}, l.clock.Now().Sub(start), err
				}
			}
			continue
		}
		r, err := l.store.Reserve(ctx, now, l.shape())
		if err != nil {
			l.unpend()
			return slot{}, now.Sub(start), fmt.Errorf("hubspot: rate limiter: %w", err)
		}
		l.adopt(r.Shape)
		if r.Wait <= 0 {
			// The send leaves now: after the store answered.
			sent := l.clock.Now()
			l.noteSend(sent)
			return slot{res: r, local: sent}, sent.Sub(start), nil
		}
		l.unpend()
		if r.Daily {
			return slot{}, now.Sub(start), &RateLimitError{Policy: PolicyDaily, Wait: min(r.Wait, maxHold),
				APIError: &APIError{StatusCode: http.StatusTooManyRequests,
					Message: "daily rate limit reached (seen on an earlier response); not sending"}}
		}
		// A long wait asks the store again every storeRecheck: the window
		// may have been reshaped, a shared store may have recovered or been
		// corrected meanwhile.
		until := now.Add(min(r.Wait, maxHold, storeRecheck))
		select {
		case l.turn <- struct{}{}:
		case <-ctx.Done():
			return slot{}, l.clock.Now().Sub(start), ctx.Err()
		}
		// Waiting in line took some of the wait already.
		if d := until.Sub(l.clock.Now()); d > 0 {
			if err := l.clock.Sleep(ctx, d); err != nil {
				<-l.turn
				return slot{}, l.clock.Now().Sub(start), err
			}
		}
	}
}

// held says how long a send must wait (zero: it may go, and is counted
// pending until noteSend or unpend), and the channel an answer closes. It
// holds sends only on an in-process store (a shared store sees every
// process's sends): on a fresh limiter whose limit is a guess, from its
// first answer until the sends made before it are answered (the answers
// then say whether others spend the window); and while answers show sends
// the store did not know of (other clients pacing alone), beyond the
// limiter's quota of the window: its sends counted within the last window
// and those in flight. Each client's log frees as the window frees, so
// every client sees the whole window free at once; each taking only its
// part, together they take no more than the window holds.
func (l *AdaptiveLimiter) held(now time.Time) (time.Duration, chan struct{}) {
	if _, local := l.store.(*MemoryStore); !local {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// An answer not taken in (Wait without Observe) is given up after an
	// interval.
	if i := sort.Search(len(l.flying), func(i int) bool { return l.flying[i].After(now.Add(-l.interval)) }); i > 0 {
		l.flying = append(l.flying[:0], l.flying[i:]...)
	}
	window := l.interval + windowMargin(l.interval)
	inWindow := 0
	probe := l.probe(now)
	switch {
	case probe && len(l.flying) > 0 && l.flying[0].Before(l.firstAnswer):
		// Until the first sends are answered, no more in flight than
		// were at the first answer, and none once an answer counted
		// a send that may not be its own.
		if !l.probeSaw && len(l.flying)+l.pending < l.probeCap {
			l.pending++
			return 0, nil
		}
	case probe && len(l.flying)+l.pending == 0:
		// Others spend the window: one send, whose answer counts what
		// they sent meanwhile.
		l.probeAt = now
		l.pending++
		return 0, nil
	case probe:
		// Wait for that send's answer.
	case !l.sharedNow() || l.quota <= 0:
		l.pending++
		return 0, nil
	default:
		inWindow = len(l.flying) + l.pending + l.placedSince(now.Add(-window))
		// Beyond it, one send at a time while the last answer shows
		// more left than the last window's fullest answer did: room
		// others gave up (a client done).
		if inWindow < l.quota || (l.leftover >= 0 && len(l.flying)+l.pending == 0 && l.remain > l.leftover) {
			l.pending++
			return 0, nil
		}
	}
	if l.wake == nil {
		l.wake = make(chan struct{})
	}
	// Until an answer, the oldest own send counted in the window leaves
	// it, or the oldest send in flight is given up.
	wait := l.interval
	if i := l.placedAfter(now.Add(-window)); i < len(l.placed) && inWindow > 0 {
		wait = max(l.placed[i].Add(window).Sub(now), time.Millisecond)
	}
	if len(l.flying) > 0 {
		wait = min(wait, max(l.flying[0].Add(l.interval).Sub(now), time.Millisecond))
	}
	return wait, l.wake
}

// probe says whether the limiter is probing (see AdaptiveLimiter.probing):
// it has its first answer and waits for those of the sends made before it,
// or, others spending the window, for that of its one probe send. It stops
// once the first sends are answered and no answer showed others; l.mu is
// held.
func (l *AdaptiveLimiter) probe(now time.Time) bool {
	if !l.probing || l.firstAnswer.IsZero() {
		return false
	}
	if (len(l.flying) == 0 || !l.flying[0].Before(l.firstAnswer)) && !l.sharedNow() {
		l.probing = false // alone
		if l.probeWaited {
			l.aloneAt = now
		}
	}
	return l.probing
}

// sharedNow says whether answers counted sends an in-process store did not
// know of, and none since has shown the limiter alone (see takeCount); l.mu
// is held. A pause without answers (a Retry-After longer than the window)
// does not end it: the others are still there when it ends.
func (l *AdaptiveLimiter) sharedNow() bool {
	return !l.unshared.IsZero()
}

// placedSince counts this limiter's accepted sends placed after from;
// l.mu is held.
func (l *AdaptiveLimiter) placedSince(from time.Time) int {
	return len(l.placed) - l.placedAfter(from)
}

// placedAfter returns the index of the first send placed after t; l.mu is
// held.
func (l *AdaptiveLimiter) placedAfter(t time.Time) int {
	return sort.Search(len(l.placed), func(i int) bool { return l.placed[i].After(t) })
}

// unpend undoes held's count of a send the store did not admit.
func (l *AdaptiveLimiter) unpend() {
	if _, local := l.store.(*MemoryStore); !local {
		return
	}
	l.mu.Lock()
	l.pending = max(0, l.pending-1)
	l.mu.Unlock()
}

// sleepOrWake sleeps d or until wake is closed; it fails only with ctx.
func (l *AdaptiveLimiter) sleepOrWake(ctx context.Context, d time.Duration, wake chan struct{}) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-wake:
			cancel()
		case <-sctx.Done():
		}
	}()
	if err := l.clock.Sleep(sctx, d); err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// storeRecheck is the longest a waiting caller sleeps before asking the
// store again.
const storeRecheck = time.Second

// shape returns the limiter's current shape.
func (l *AdaptiveLimiter) shape() Shape {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Shape{Max: l.max, Interval: l.interval}
}

// adopt takes the shape a store checked against: a shape the store learned
// (from any limiter's answer) becomes this limiter's.
func (l *AdaptiveLimiter) adopt(sh Shape) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stored = !sh.Learned.IsZero()
	if l.stored && sh.valid() {
		l.max, l.interval, l.known = sh.Max, sh.Interval, true
	}
}

// Pause holds every caller back for d (for example after a 429 with a
// Retry-After), unless a longer hold is already in place. d is capped at
// 24 hours.
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
	if _, local := l.store.(*MemoryStore); local {
		defer l.landed(s.local)
	}
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
		if d <= 0 || d > maxRateLimitInterval {
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
	rh, ok := l.readHeaders(ctx, resp.Header, lg)
	if !ok {
		return // one refused header voids the whole answer's
	}
	limit, interval, changed := l.reshape(rh)
	if changed {
		// Teach the store (every limiter on it) the shape HubSpot gave.
		l.storeErr(ctx, lg, l.store.Learn(ctx, now, Shape{Max: limit, Interval: interval}))
	}
	if !rh.hasRemain || s.res.At.IsZero() {
		return
	}
	rem := rh.remain
	used := limit - int(rem)
	l.mu.Lock()
	l.remain = int(rem)
	if _, local := l.store.(*MemoryStore); local {
		l.takeCount(now, s.local, rtt, used, limit, interval, resp.StatusCode == http.StatusTooManyRequests)
	}
	l.mu.Unlock()
	if resp.StatusCode == http.StatusTooManyRequests {
		used++ // the rejected send is in our log but not in HubSpot's
	}
	// HubSpot counted the request before it answered: at the latest the
	// round trip less the way back, taken as half the fastest round trip
	// seen. The entry goes half the fastest round trip before that: the
	// send that reuses its slot takes at least that long to reach HubSpot,
	// so it leaves early enough to arrive as the slot frees there (a window
	// then opens windowMargin late, not the margin plus a way out). A
	// request held up on its way out (a busy machine) is still placed late
	// enough; never later than the answer, nor an interval.
	lag := min(max(rtt-l.minRTT(), 0), interval)
	l.storeErr(ctx, lg, l.store.Correct(ctx, now, s.res, lag, used, interval))
}

// takeCount takes in what HubSpot counted when the send made at sent (on
// an in-process store) reached it: used sends of limit within interval,
// the send refused or not. The send was counted where the store places
// it (at): the round trip less the fastest after it left. Of this
// limiter's sends HubSpot counted those placed within the interval before
// it and those in flight that left before then (this one, unless
// refused). Beyond timing slack (a tenth of the window) the rest are
// others': the window is shared with clients this limiter cannot see, and
// its quota follows (see AdaptiveLimiter.quota). A probe's answer ends the
// probe and sets the quota. l.mu is held.
func (l *AdaptiveLimiter) takeCount(now, sent time.Time, rtt time.Duration, used, limit int, interval time.Duration, refused bool) {
	if l.firstAnswer.IsZero() {
		l.firstAnswer, l.probeWaited, l.probeCap = now, len(l.flying) > 1, len(l.flying)
	}
	at := sent.Add(min(max(rtt-l.fastest, 0), interval))
	window := interval + windowMargin(interval)
	if i := l.placedAfter(now.Add(-2 * window)); i > 0 {
		l.placed = append(l.placed[:0], l.placed[i:]...)
	}
	counted := l.placedSince(at.Add(-interval)) - l.placedSince(at)
	counted += sort.Search(len(l.flying), func(i int) bool { return l.flying[i].After(at) })
	if refused {
		counted--
	}
	counted = min(max(counted, 0), used)
	// Others are seen only beyond what this limiter may have had counted:
	// its sends placed within the interval before this one or after it
	// (placements are estimates), and those in flight that left before it
	// or soon enough after to overtake it.
	mayHave := l.placedSince(at.Add(-interval))
	mayHave += sort.Search(len(l.flying), func(i int) bool { return l.flying[i].After(at.Add(at.Sub(sent))) })
	if used > mayHave {
		l.probeSaw = true
	}
	wasShared := l.sharedNow()
	if used > max(counted, mayHave)+limit/10+1 {
		l.unshared = now
	} else if now.Sub(l.unshared) > 2*interval {
		// No answer in two intervals showed others: alone again.
		l.unshared = time.Time{}
	}
	c := count{own: counted, used: used}
	part := max(1, limit*counted/max(used, 1))
	switch {
	case !wasShared && l.sharedNow():
		// Others appeared: its part is what this answer shows.
		l.quota, l.quotaAt, l.epoch, l.lastPart = part, now, c, part
	case l.quotaAt.IsZero() || now.Sub(l.quotaAt) >= window:
		if used >= l.epoch.used || l.quotaAt.IsZero() {
			l.epoch = c
		}
		// It rises to the least part shown by the fullest answers of
		// this window and the one before, when they showed room beyond
		// timing slack: room seen in one window only is a client paused
		// (after a 429), and an answer does not count the others' sends
		// that arrive after it.
		p := l.quota
		if l.epoch.used+max(limit/4, 1) <= limit {
			p = limit * l.epoch.own / max(l.epoch.used, 1)
		}
		l.quota = max(l.quota, min(p, l.lastPart))
		l.leftover = limit - l.epoch.used
		l.quotaAt, l.epoch, l.lastPart = now, c, p
	default:
		if used >= l.epoch.used {
			l.epoch = c
		}
		if refused {
			// The window is overfull: take the part this answer shows.
			l.quota = min(l.quota, part)
		}
	}
	if l.probing && !l.probeAt.IsZero() && !sent.Before(l.probeAt) {
		l.probing = false
		l.quota, l.quotaAt, l.epoch, l.lastPart = part, now, c, part
	}
	if !refused && len(l.placed) < maxRateLimitMax {
		i := l.placedAfter(at)
		l.placed = append(l.placed, time.Time{})
		copy(l.placed[i+1:], l.placed[i:])
		l.placed[i] = at
	}
}

// rateHeaders are the X-HubSpot-RateLimit-* values of one answer, each
// present or not.
type rateHeaders struct {
	max, remain                    int64
	interval                       time.Duration
	hasMax, hasRemain, hasInterval bool
}

// readHeaders reads one answer's rate-limit headers as one observation:
// when any present header is refused (malformed or out of range), none of
// them is taken (ok false). -Remaining is checked against the same answer's
// -Max when it has one, else against the current limit.
func (l *AdaptiveLimiter) readHeaders(ctx context.Context, h http.Header, lg *slog.Logger) (rateHeaders, bool) {
	var rh rateHeaders
	ok := true
	var bad bool
	if rh.max, rh.hasMax, bad = l.header(ctx, h, headerRateLimitMax, 1, maxRateLimitMax, lg); bad {
		ok = false
	}
	var iv int64
	if iv, rh.hasInterval, bad = l.header(ctx, h, headerRateLimitInterval, 1, maxRateLimitInterval.Milliseconds(), lg); bad {
		ok = false
	}
	rh.interval = time.Duration(iv) * time.Millisecond
	if !ok {
		return rateHeaders{}, false
	}
	limit := rh.max
	if !rh.hasMax {
		m, _ := l.Limit()
		limit = int64(m)
	}
	if rh.remain, rh.hasRemain, bad = l.header(ctx, h, headerRateLimitRemain, 0, limit, lg); bad {
		return rateHeaders{}, false
	}
	return rh, true
}

// reshape applies an answer's -Max and -Interval-Milliseconds and returns
// the limit, and whether the store should learn it: the shape changed, or
// the store has not reported a learned one.
func (l *AdaptiveLimiter) reshape(rh rateHeaders) (int, time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := Shape{Max: l.max, Interval: l.interval}
	if rh.hasMax {
		l.max = int(rh.max)
	}
	if rh.hasInterval {
		l.interval = rh.interval
	}
	l.known = l.known || rh.hasMax
	changed := l.max != old.Max || l.interval != old.Interval || (!l.stored && (rh.hasMax || rh.hasInterval))
	if changed {
		l.stored = true // one teaching per change; the next reservation says whether it took
	}
	return l.max, l.interval, changed
}

// header parses an integer header within [lo, hi]: present reports that
// the header is there, bad that it is there but malformed or out of range
// (logged once per distinct value).
func (l *AdaptiveLimiter) header(ctx context.Context, h http.Header, name string, lo, hi int64, lg *slog.Logger) (v int64, present, bad bool) {
	raw := h.Get(name)
	if raw == "" {
		return 0, false, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err == nil && v >= lo && v <= hi {
		return v, true, false
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
	return 0, true, true
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

// pace returns what the batch runtime sizes its concurrency by: the allowed
// rate (requests per second), the average round trip seen so far (zero
// before the first answer) and the burst this limiter may send at once:
// once the limit is known rather than HubSpot's default guessed (a burst
// sized by a wrong guess would overrun a smaller window before the first
// answer), the window's Max when this limiter sent nothing in the last
// window (a fresh window), else its own sends in it (its share of the
// window, which frees in the bursts it was spent in: several processes
// sharing a token, or not, each burst their share, not the whole window),
// grown up to twice that while the last answer's Remaining (what HubSpot
// said is left) allows, so a fresh window fills in a few round trips. On
// an in-process store, no burst while a fresh limiter probes (see held),
// and while answers count sends the store did not know of (other clients
// of the app, each pacing alone) its quota, its part of the window.
func (l *AdaptiveLimiter) pace() wire.Pace {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := wire.Pace{Rate: float64(l.max) / l.interval.Seconds(), RTT: l.rtt}
	now := l.clock.Now()
	_, local := l.store.(*MemoryStore)
	switch {
	case local && l.probe(now):
	case local && l.sharedNow():
		p.Burst = l.quota
	case l.known:
		p.Burst = l.max
		if n := l.mineSince(now.Add(-(l.interval + windowMargin(l.interval)))); n > 0 {
			p.Burst = max(n, min(l.remain, 2*n))
			if local && now.Sub(l.aloneAt) < l.interval {
				// A probe just found it alone: what is left is its own.
				p.Burst = min(n+l.remain, l.max)
			}
		}
	}
	return p
}

// noteSend records one of this limiter's sends at t.
func (l *AdaptiveLimiter) noteSend(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Keep two windows: enough for mineSince's questions.
	from := t.Add(-2 * (l.interval + windowMargin(l.interval)))
	if i := sort.Search(len(l.mine), func(i int) bool { return l.mine[i].After(from) }); i > 0 {
		l.mine = append(l.mine[:0], l.mine[i:]...)
	}
	if len(l.mine) < maxRateLimitMax {
		l.mine = append(l.mine, t)
	}
	if _, local := l.store.(*MemoryStore); local {
		l.pending = max(0, l.pending-1)
		if len(l.flying) < maxRateLimitMax {
			l.flying = append(l.flying, t)
		}
	}
}

// landed takes the send made at t out of flight (the oldest when t is not
// one), and wakes a caller held for its share.
func (l *AdaptiveLimiter) landed(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.flying) > 0 {
		i := sort.Search(len(l.flying), func(i int) bool { return !l.flying[i].Before(t) })
		if i == len(l.flying) || !l.flying[i].Equal(t) {
			i = 0
		}
		l.flying = append(l.flying[:i], l.flying[i+1:]...)
	}
	if l.wake != nil {
		close(l.wake)
		l.wake = nil
	}
}

// mineSince counts own sends after from; l.mu is held.
func (l *AdaptiveLimiter) mineSince(from time.Time) int {
	return len(l.mine) - sort.Search(len(l.mine), func(i int) bool { return l.mine[i].After(from) })
}

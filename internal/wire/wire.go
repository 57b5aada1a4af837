// Package wire is what package hubspot and the batch runtime
// (internal/batchrt) share without showing it to users: the options every
// hubspot.Option sets, the clock and random source tests replace, and the
// Exchange through which a request sent by the Transport reports what
// happened on the wire. Everything here is handed over as a value; nothing
// travels in a context.
package wire

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// Options is what the options of package hubspot set: the client's (its
// Transport and server) and the batch calls'. The zero value means the
// defaults.
type Options struct {
	// The client (associations.New).
	BaseURL string

	// The Transport.
	Token       string
	Source      oauth2.TokenSource
	PerInterval int
	Interval    time.Duration
	Limiter     any // *hubspot.AdaptiveLimiter; any to avoid an import cycle
	NoLimiter   bool
	Policy      any // hubspot.RetryPolicy
	PolicySet   bool
	Logger      *slog.Logger
	Timeout     time.Duration
	TimeoutSet  bool
	UserAgent   string
	Base        http.RoundTripper
	MaxBody     int64 // response body cap; 0: the default
	Store       any   // hubspot.WindowStore of the limiter (WithWindowStore)

	// The batch calls.
	ChunkSize     int
	Concurrency   int
	Progress      any // func(hubspot.Progress)
	NoBaseline    bool
	ResendUnknown bool

	// Test seams, set only by tests of this module.
	Clock Clock
	Rand  Rand

	// Client and Batch record which options were given, by name: those of
	// a client and those of the batch calls, so a constructor can refuse
	// the options that do not apply to it. (WithLogger is both.)
	Client, Batch map[string]bool
}

// MarkClient records that the client option name was given.
func (o *Options) MarkClient(name string) { o.Client = mark(o.Client, name) }

// MarkBatch records that the batch option name was given.
func (o *Options) MarkBatch(name string) { o.Batch = mark(o.Batch, name) }

func mark(m map[string]bool, name string) map[string]bool {
	if m == nil {
		m = map[string]bool{}
	}
	m[name] = true
	return m
}

// Names returns the names in m, sorted, joined with ", ".
func Names(m map[string]bool) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Bounds on what a rate limiter accepts from X-HubSpot-RateLimit-* headers
// and callers (package hubspot's limiter and hubspot/redislimit's store).
const (
	// MaxRateLimitInterval is the longest rolling window accepted.
	MaxRateLimitInterval = 24 * time.Hour
	// MaxRateLimitMax is the largest per-window limit accepted.
	MaxRateLimitMax = 1_000_000
)

// WindowMargin is how much longer than HubSpot's interval a limiter keeps a
// send in its window before reusing the slot: room for clock and network
// jitter between this process's send time and HubSpot's arrival time (the
// send's placement already allows for its own round trip). It is 2% of the
// interval, between 10 ms and 250 ms: docs/BENCHMARKS.md measures smaller
// margins, which draw late 429s on a loaded machine.
func WindowMargin(interval time.Duration) time.Duration {
	return min(max(time.Duration(int64(interval)*marginPerMille.Load()/1000), time.Duration(marginFloor.Load())), 250*time.Millisecond)
}

// marginPerMille and marginFloor are WindowMargin's share of the interval
// (thousandths) and its floor.
var marginPerMille, marginFloor atomic.Int64

// The default margin: 2% of the interval, at least 10 ms.
const (
	DefaultMarginPerMille = 20
	DefaultMarginFloor    = 10 * time.Millisecond
)

func init() { SetWindowMargin(DefaultMarginPerMille, DefaultMarginFloor) }

// SetWindowMargin sets WindowMargin's share of the interval (thousandths)
// and its floor, process-wide: for the benchmark that measures the margin
// (internal/cmd/bench), nothing else.
func SetWindowMargin(perMille int64, floor time.Duration) {
	marginPerMille.Store(perMille)
	marginFloor.Store(int64(floor))
}

// TokenKey returns the hex SHA-256 of token: the name under which the
// limiter registry and shared stores keep a token's window, so the token
// itself is never stored.
func TokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Clock is the time source. Sleep returns ctx.Err() as soon as the context
// is done.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// TimerClock is a Clock that can also run f once d has passed on it (a
// test fires the timer itself).
type TimerClock interface {
	Clock
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// Rand is the random source for jitter.
type Rand interface {
	Int64N(n int64) int64
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep implements Clock with a context-aware timer.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Exchange is one call through a Transport: what the caller allows, and
// what happened on the wire.
type Exchange struct {
	// In: the most attempts this call may make (0: the RetryPolicy's), and
	// whether its first attempt is itself a retry (a resend, a page asked
	// for again), which the client's retry budget must allow.
	Limit      int
	FirstRetry bool
	// In: whether the request may be repeated after it may have been
	// applied; nil: decided by its method.
	Idempotent *bool

	// Out: attempts made (requests that went to the base transport),
	// retries among them, 429 answers, time waited for the limiter and
	// between attempts.
	Attempts, Retries, RateLimited int
	Waited                         time.Duration
	// Out: MaybeApplied is set when an attempt reached the server and no
	// answer says what became of it (a transport error after sending, a
	// 5xx).
	MaybeApplied bool
	// Out: Final is the error parsed from the returned 429 or 5xx answer
	// (with the Transport's clock), nil otherwise.
	Final error
}

// Add adds the counts of b to e (for sums over many exchanges).
func (e *Exchange) Add(b *Exchange) {
	e.Attempts += b.Attempts
	e.Retries += b.Retries
	e.RateLimited += b.RateLimited
	e.Waited += b.Waited
}

// Pace is what a rate limiter tells the batch runtime to size its
// concurrency by.
type Pace struct {
	// Rate is the allowed rate in requests per second (Max / Interval).
	Rate float64
	// RTT is the average round trip seen (zero before the first answer).
	RTT time.Duration
	// Burst is how many sends the window admits at once: its Max. A
	// rolling window admits Max at once when fresh, and later frees its
	// slots in the bursts they were spent in.
	Burst int
}

// Link is what the batch runtime reaches of a Transport: its send, which
// fills an Exchange, and the pace of its rate limiter (without one, the
// concurrency the server takes, as a Burst).
type Link struct {
	Send func(req *http.Request, ex *Exchange) (*http.Response, error)
	// Pace returns what the limiter knows to size concurrency by.
	Pace func() Pace
	// MaxBody is the Transport's response body cap.
	MaxBody int64
	// MaxAttempts is the RetryPolicy's count of requests per input.
	MaxAttempts int
}

// LinkOf returns the Link of rt when rt is a hubspot.Transport. Package
// hubspot sets it when it is initialised; it is the one place the batch
// runtime learns about a Transport.
var LinkOf = func(rt http.RoundTripper) (Link, bool) { return Link{}, false }

// limitedBody fails with err once more than n bytes are read.
type limitedBody struct {
	io.ReadCloser
	n   int64 // bytes still allowed; -1 once exceeded
	err error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.n < 0 {
		return 0, b.err
	}
	if int64(len(p)) > b.n+1 {
		p = p[:b.n+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.n {
		n, b.n = int(b.n), -1
		return n, b.err
	}
	b.n -= int64(n)
	return n, err
}

// LimitBody caps resp.Body at limit bytes: reading more returns tooLarge,
// and a declared Content-Length over the limit fails the first Read. A body
// capped before keeps its first cap.
func LimitBody(resp *http.Response, limit int64, tooLarge error) {
	if resp.Body == nil || resp.Body == http.NoBody {
		return
	}
	if _, ok := resp.Body.(*limitedBody); ok {
		return
	}
	lb := &limitedBody{ReadCloser: resp.Body, n: limit, err: tooLarge}
	if resp.ContentLength > limit {
		lb.n = -1
	}
	resp.Body = lb
}

// DrainAndClose reads what is left of body, up to 64 KiB (so the
// connection can be reused), and closes it.
func DrainAndClose(body io.ReadCloser) {
	if body == nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

// RetryableStatus reports the server errors that are usually temporary,
// after which a request may be repeated.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

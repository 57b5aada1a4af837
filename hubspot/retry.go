package hubspot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Retry defaults, in the style of aws-sdk-go-v2's aws/retry.
const (
	// DefaultMaxAttempts is the number of attempts (first try included).
	DefaultMaxAttempts = 5
	// DefaultBaseDelay is the backoff unit: attempt n waits a random time in
	// [0, min(DefaultMaxBackoff, DefaultBaseDelay*2^(n-1))).
	DefaultBaseDelay = 250 * time.Millisecond
	// DefaultMaxBackoff caps the exponential backoff.
	DefaultMaxBackoff = 20 * time.Second
	// DefaultMaxRetryAfter is the longest Retry-After the standard retryer
	// honours; a longer one ends the retries.
	DefaultMaxRetryAfter = 2 * time.Minute
	// DefaultRetryCost is what a retry of a server or connection error takes
	// from a RetryBudget; DefaultNoRetryIncrement is what a success returns.
	DefaultRetryCost        = 5
	DefaultNoRetryIncrement = 1
)

// Ternary is a yes / no / don't know answer.
type Ternary int

// Ternary values.
const (
	Unknown Ternary = iota
	No
	Yes
)

// String implements fmt.Stringer.
func (t Ternary) String() string {
	switch t {
	case No:
		return "no"
	case Yes:
		return "yes"
	}
	return "unknown"
}

// Attempt describes the outcome of one attempt, as seen by a Retryer.
type Attempt struct {
	// Number is the 1-based attempt number.
	Number int
	// Request is the request that was sent (its body already consumed).
	Request *http.Request
	// Response is the response, nil when Err is a transport error.
	Response *http.Response
	// Err is the transport error, or the *APIError / *RateLimitError parsed
	// from a 429 or 5xx response. Nil for other responses.
	Err error
	// Idempotent reports whether the request may safely be repeated.
	Idempotent bool
	// Sent is false when the request surely never reached the server (dial
	// failure, connection refused, DNS error).
	Sent bool
}

// IsRetryable decides whether an attempt may be retried.
type IsRetryable interface {
	IsRetryable(a Attempt) Ternary
}

// IsRetryableFunc adapts a function to IsRetryable.
type IsRetryableFunc func(a Attempt) Ternary

// IsRetryable implements IsRetryable.
func (f IsRetryableFunc) IsRetryable(a Attempt) Ternary { return f(a) }

// IsRetryables is a chain: the first answer other than Unknown wins.
type IsRetryables []IsRetryable

// IsRetryable implements IsRetryable.
func (rs IsRetryables) IsRetryable(a Attempt) Ternary {
	for _, r := range rs {
		if t := r.IsRetryable(a); t != Unknown {
			return t
		}
	}
	return Unknown
}

// BackoffDelayer computes the wait before the next attempt.
type BackoffDelayer interface {
	BackoffDelay(attempt int, err error) (time.Duration, error)
}

// BackoffDelayerFunc adapts a function to BackoffDelayer.
type BackoffDelayerFunc func(attempt int, err error) (time.Duration, error)

// BackoffDelay implements BackoffDelayer.
func (f BackoffDelayerFunc) BackoffDelay(attempt int, err error) (time.Duration, error) {
	return f(attempt, err)
}

// Retryer is the retry policy the Transport consults after each attempt.
type Retryer interface {
	// IsRetryable reports whether the attempt may be retried.
	IsRetryable(a Attempt) bool
	// MaxAttempts is the most attempts per request, first try included.
	MaxAttempts() int
	// RetryDelay is how long to wait before the next attempt.
	RetryDelay(a Attempt) (time.Duration, error)
}

// SuccessRecorder is implemented by Retryers that want to hear about
// successful attempts, for example to refill a RetryBudget.
type SuccessRecorder interface {
	RecordSuccess()
}

// Clock is the time source. Sleep must return ctx.Err() as soon as the
// context is done.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// TimerClock is a Clock that can also run f once d has passed on it; stop
// cancels that and reports whether it did. When the Transport's Clock is a
// TimerClock, AttemptTimeout runs on it (a test fires the timer itself);
// otherwise a real timer bounds each attempt.
type TimerClock interface {
	Clock
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// SystemClock is the real clock.
type SystemClock struct{}

// AfterFunc implements TimerClock with time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	return time.AfterFunc(d, f).Stop
}

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

// Rand is the random source for jitter; *math/rand/v2.Rand satisfies it.
// Implementations need not be safe for concurrent use: the retryer
// serialises calls.
type Rand interface {
	Int64N(n int64) int64
}

type globalRand struct{}

func (globalRand) Int64N(n int64) int64 { return rand.Int64N(n) }

type lockedRand struct {
	mu sync.Mutex
	r  Rand
}

func (l *lockedRand) Int64N(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int64N(n)
}

// ExponentialJitterBackoff is full-jitter exponential backoff: attempt n
// waits a uniformly random duration in [0, min(Max, Base*2^(n-1))].
type ExponentialJitterBackoff struct {
	Base, Max time.Duration
	Rand      Rand
}

// NewExponentialJitterBackoff returns a backoff with the given cap and base
// delay; a nil r uses math/rand/v2.
func NewExponentialJitterBackoff(base, max time.Duration, r Rand) *ExponentialJitterBackoff {
	if r == nil {
		r = globalRand{}
	} else {
		r = &lockedRand{r: r}
	}
	return &ExponentialJitterBackoff{Base: base, Max: max, Rand: r}
}

// BackoffDelay implements BackoffDelayer.
func (b *ExponentialJitterBackoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	if attempt < 1 {
		attempt = 1
	}
	ceil := b.Max
	if shift := attempt - 1; shift < 62 {
		if d := b.Base << shift; d > 0 && d < b.Max && d>>shift == b.Base {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0, nil
	}
	return time.Duration(b.Rand.Int64N(int64(ceil) + 1)), nil
}

// RetryableRateLimit retries a 429 unless its policy is DAILY (or another
// policy that is not per-second). A 429 is retried whether or not the request
// is idempotent: the server rejected it.
var RetryableRateLimit = IsRetryableFunc(func(a Attempt) Ternary {
	var rl *RateLimitError
	if !errors.As(a.Err, &rl) {
		return Unknown
	}
	p := strings.ToUpper(rl.Policy)
	if p == "" || strings.Contains(p, "SECONDLY") {
		return Yes
	}
	return No
})

// RetryableNotSent retries errors that surely happened before the request
// was sent (dial errors, connection refused, DNS failures).
var RetryableNotSent = IsRetryableFunc(func(a Attempt) Ternary {
	if a.Err != nil && a.Response == nil && !a.Sent {
		return Yes
	}
	return Unknown
})

// RetryableIdempotency stops every other retry of a request that is not
// idempotent: a 5xx or a reset may come after the server acted on it.
var RetryableIdempotency = IsRetryableFunc(func(a Attempt) Ternary {
	if !a.Idempotent {
		return No
	}
	return Unknown
})

// RetryableHTTPStatusCode retries the listed status codes.
type RetryableHTTPStatusCode map[int]struct{}

// DefaultRetryableHTTPStatusCodes are 500, 502, 503 and 504.
var DefaultRetryableHTTPStatusCodes = RetryableHTTPStatusCode{
	http.StatusInternalServerError: {}, http.StatusBadGateway: {},
	http.StatusServiceUnavailable: {}, http.StatusGatewayTimeout: {},
}

// IsRetryable implements IsRetryable.
func (c RetryableHTTPStatusCode) IsRetryable(a Attempt) Ternary {
	if a.Response == nil {
		return Unknown
	}
	if _, ok := c[a.Response.StatusCode]; ok {
		return Yes
	}
	return Unknown
}

// RetryableConnectionError retries connection resets, unexpected EOFs and
// timeouts.
var RetryableConnectionError = IsRetryableFunc(func(a Attempt) Ternary {
	if a.Err == nil || a.Response != nil {
		return Unknown
	}
	var ne net.Error
	switch {
	case errors.Is(a.Err, context.Canceled):
		return No
	case errors.Is(a.Err, io.EOF), errors.Is(a.Err, io.ErrUnexpectedEOF),
		errors.Is(a.Err, syscall.ECONNRESET), errors.Is(a.Err, syscall.EPIPE),
		errors.Is(a.Err, syscall.ECONNABORTED):
		return Yes
	case errors.As(a.Err, &ne) && ne.Timeout():
		return Yes
	case errors.As(a.Err, new(*net.OpError)):
		return Yes
	}
	return Unknown
})

// DefaultRetryables is the standard chain: rate limits, errors before
// sending, then (only for idempotent requests) 5xx and connection errors.
var DefaultRetryables = IsRetryables{
	RetryableRateLimit,
	RetryableNotSent,
	RetryableIdempotency,
	DefaultRetryableHTTPStatusCodes,
	RetryableConnectionError,
}

// StandardOptions configures a StandardRetryer.
type StandardOptions struct {
	MaxAttempts   int
	MaxBackoff    time.Duration
	BaseDelay     time.Duration
	MaxRetryAfter time.Duration
	Retryables    IsRetryables
	Backoff       BackoffDelayer
	Rand          Rand
	Clock         Clock
	// Budget, when set, is charged DefaultRetryCost for each retry of a
	// server or connection error (not for 429s), and refilled on success, so
	// an outage does not multiply traffic.
	Budget *RetryBudget
}

// StandardRetryer is the default Retryer.
type StandardRetryer struct {
	opts StandardOptions
}

// NewStandardRetryer returns a retryer with the defaults, changed by fns.
func NewStandardRetryer(fns ...func(*StandardOptions)) *StandardRetryer {
	o := StandardOptions{
		MaxAttempts:   DefaultMaxAttempts,
		MaxBackoff:    DefaultMaxBackoff,
		BaseDelay:     DefaultBaseDelay,
		MaxRetryAfter: DefaultMaxRetryAfter,
		Retryables:    append(IsRetryables(nil), DefaultRetryables...),
	}
	for _, fn := range fns {
		fn(&o)
	}
	if o.Backoff == nil {
		o.Backoff = NewExponentialJitterBackoff(o.BaseDelay, o.MaxBackoff, o.Rand)
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.MaxAttempts < 1 {
		o.MaxAttempts = 1
	}
	return &StandardRetryer{opts: o}
}

// IsRetryable implements Retryer.
func (r *StandardRetryer) IsRetryable(a Attempt) bool {
	if r.opts.Retryables.IsRetryable(a) != Yes {
		return false
	}
	if r.opts.Budget != nil && !errors.As(a.Err, new(*RateLimitError)) {
		return r.opts.Budget.take(DefaultRetryCost)
	}
	return true
}

// MaxAttempts implements Retryer.
func (r *StandardRetryer) MaxAttempts() int { return r.opts.MaxAttempts }

// RetryDelay implements Retryer: Retry-After when the response has a valid
// one (delay seconds or an HTTP date; NaN, negative and garbage are
// ignored, huge values saturate), otherwise full-jitter exponential backoff. A
// Retry-After over MaxRetryAfter is an error (no retry); a backoff is never
// negative nor longer than MaxRetryAfter.
func (r *StandardRetryer) RetryDelay(a Attempt) (time.Duration, error) {
	if a.Response != nil {
		raw := a.Response.Header.Get("Retry-After")
		if d, ok := parseRetryAfter(raw, r.opts.Clock.Now()); ok {
			if r.opts.MaxRetryAfter > 0 && d > r.opts.MaxRetryAfter {
				return 0, fmt.Errorf("hubspot: Retry-After %q exceeds the %s limit", oneLine(raw), r.opts.MaxRetryAfter)
			}
			return d, nil
		}
	}
	d, err := r.opts.Backoff.BackoffDelay(a.Number, a.Err)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		d = 0
	}
	if r.opts.MaxRetryAfter > 0 && d > r.opts.MaxRetryAfter {
		d = r.opts.MaxRetryAfter
	}
	return d, nil
}

// RecordSuccess implements SuccessRecorder.
func (r *StandardRetryer) RecordSuccess() {
	if r.opts.Budget != nil {
		r.opts.Budget.refund(DefaultNoRetryIncrement)
	}
}

// RetryBudget is a token bucket of retries shared by the requests of one or
// more transports.
type RetryBudget struct {
	mu          sync.Mutex
	tokens, max int
}

// NewRetryBudget returns a full budget of the given size (500 in the AWS
// SDK, that is 100 retries at DefaultRetryCost).
func NewRetryBudget(size int) *RetryBudget { return &RetryBudget{tokens: size, max: size} }

// Available returns the tokens left.
func (b *RetryBudget) Available() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}

func (b *RetryBudget) take(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

func (b *RetryBudget) refund(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.max, b.tokens+n)
}

type idempotentKey struct{}

// WithIdempotent marks requests made with ctx as idempotent (or not),
// overriding the method-based default (GET, HEAD, PUT, DELETE, OPTIONS are
// idempotent; POST and PATCH are not).
func WithIdempotent(ctx context.Context, idempotent bool) context.Context {
	return context.WithValue(ctx, idempotentKey{}, idempotent)
}

// IsIdempotent reports whether req may be safely repeated.
func IsIdempotent(req *http.Request) bool {
	if v, ok := req.Context().Value(idempotentKey{}).(bool); ok {
		return v
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// notSent reports whether err surely happened before the request reached
// the server.
func notSent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return false
}

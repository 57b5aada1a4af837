package hubspot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/crmkit/hubspot-associations/internal/wire"
)

// Retry defaults (see RetryPolicy): only DefaultMaxAttempts, the count of
// requests per input, is exported; the others are in RetryPolicy's docs.
const (
	// DefaultMaxAttempts is the number of attempts (first try included).
	DefaultMaxAttempts = 5
	// defaultBaseDelay is the backoff unit: attempt n waits a random time in
	// [0, min(defaultMaxDelay, defaultBaseDelay*2^(n-1))].
	defaultBaseDelay = 250 * time.Millisecond
	// defaultMaxDelay caps the exponential backoff.
	defaultMaxDelay = 20 * time.Second
	// defaultMaxRetryAfter is the longest Retry-After honoured; a longer one
	// ends the retries.
	defaultMaxRetryAfter = 2 * time.Minute
	// defaultRetryBudget is the capacity of a client's retry budget, in
	// tokens (see RetryPolicy).
	defaultRetryBudget = 500
)

// ErrRetryBudgetExhausted marks a call that was not retried because the
// client's retry budget is spent: HubSpot has been failing many requests of
// this client, and retrying them would only add to its load (see
// RetryPolicy). The error wraps the failure of the last attempt.
var ErrRetryBudgetExhausted = errors.New("hubspot: retry budget exhausted, HubSpot is failing many requests of this client; not retrying")

// Costs of the retry budget, in tokens (aws-sdk-go-v2's defaults).
const (
	retryCost        = 5
	retryTimeoutCost = 10
	successRefund    = 1
)

// retryBudget is the client-wide token bucket of RetryPolicy.
type retryBudget struct {
	mu       sync.Mutex
	capacity int
	tokens   int
}

// newRetryBudget returns a full bucket of capacity tokens; nil (no budget)
// for a negative capacity.
func newRetryBudget(capacity int) *retryBudget {
	if capacity < 0 {
		return nil
	}
	return &retryBudget{capacity: capacity, tokens: capacity}
}

// take takes the cost of one retry; false when the bucket holds too few.
func (b *retryBudget) take(timeout bool) (cost int, ok bool) {
	if b == nil {
		return 0, true
	}
	cost = retryCost
	if timeout {
		cost = retryTimeoutCost
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < cost {
		return 0, false
	}
	b.tokens -= cost
	return cost, true
}

// refund returns n tokens (a success), up to the capacity.
func (b *retryBudget) refund(n int) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.tokens+n, b.capacity)
	b.mu.Unlock()
}

// RetryPolicy says when and how long the Transport waits before trying a
// request again, and how many retries the client may make while HubSpot
// fails. The zero value means the defaults; set it with WithRetryPolicy.
//
// MaxAttempts is the one count of requests per input, end to end: the
// Transport's retries of a request, a batch call's resends of a chunk (each
// input of the chunk carries the attempts it has used) and the requests for
// one page of a list all draw from it, so an input or a page never causes
// more than MaxAttempts requests.
//
// Retries, resends and pages asked for again also draw from the client's
// retry budget, shared by every request of the client (a token bucket, as
// in aws-sdk-go-v2's retry/standard.go): a retry costs 5 tokens (10 after a
// timeout), an answer that needed no retry refunds 1, and the bucket holds
// RetryBudget tokens. While HubSpot keeps failing the bucket empties, and a
// call that would retry fails at once with an error wrapping
// ErrRetryBudgetExhausted instead; under occasional faults it never
// empties.
//
// After an attempt that failed (a transport error, a 429 or a 5xx) the
// Transport retries when fewer than MaxAttempts were made, the request's
// context is live and the decision (CheckRetry, or the built-in one) says
// so. It waits the response's Retry-After when valid (seconds or an HTTP
// date; a value over MaxRetryAfter ends the retries), otherwise a full-jitter
// exponential backoff: a random time in [0, min(MaxDelay, BaseDelay*2^(n-1))]
// after attempt n. A wait that would outlive the context's deadline is not
// started.
type RetryPolicy struct {
	// MaxAttempts is the most attempts per request, the first included
	// (DefaultMaxAttempts when 0; 1 disables retries).
	MaxAttempts int
	// BaseDelay is the backoff unit (250 ms when 0).
	BaseDelay time.Duration
	// MaxDelay caps one backoff (20 s when 0).
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After honoured (2 minutes when 0);
	// it also caps a backoff.
	MaxRetryAfter time.Duration
	// RetryBudget is the capacity, in tokens, of the client's retry budget
	// (500 when 0, that is 100 retries in a row; negative:
	// no budget).
	RetryBudget int
	// CheckRetry, when set, replaces the built-in decision for attempts that
	// failed. It returns whether to retry and a short reason for the log.
	// The bounds above still apply.
	//
	// The built-in decision retries: a 429 unless its policy is DAILY (or
	// not per-second), whatever the method; an error that surely happened
	// before the request was sent (connection refused, DNS); and, for
	// idempotent requests only (see WithIdempotent), 500, 502, 503, 504,
	// connection resets, unexpected EOFs and timeouts.
	CheckRetry func(a Attempt) (retry bool, reason string)
}

// Attempt describes one attempt that failed, as seen by
// RetryPolicy.CheckRetry.
type Attempt struct {
	// Number is the 1-based attempt number.
	Number int
	// Request is the request that was sent (its body already consumed).
	Request *http.Request
	// Response is the response, nil when Err is a transport error. Its body
	// must not be read.
	Response *http.Response
	// Err is the transport error, or the *APIError / *RateLimitError parsed
	// from a 429 or 5xx response.
	Err error
	// Idempotent reports whether the request may safely be repeated.
	Idempotent bool
	// Sent is false when the request surely never reached the server (dial
	// failure, connection refused, DNS error).
	Sent bool
}

// withDefaults returns p with zero fields set to the defaults.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = defaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = defaultMaxDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = defaultMaxRetryAfter
	}
	if p.RetryBudget == 0 {
		p.RetryBudget = defaultRetryBudget
	}
	return p
}

// shouldRetry is the built-in retry decision for an attempt that failed: it
// reports whether the attempt may be repeated, and why (for the log).
func shouldRetry(a Attempt) (retry bool, reason string) {
	var rl *RateLimitError
	var ne net.Error
	switch {
	// HubSpot rejected the request before acting on it: repeating it is
	// safe whatever the method. The per-second windows reopen soon; the
	// daily one (or a policy we do not know) does not.
	case errors.As(a.Err, &rl):
		if p := strings.ToUpper(rl.Policy); p == "" || strings.Contains(p, "SECONDLY") {
			return true, "rate limited"
		}
		return false, "rate limit policy " + rl.Policy + " is not per-second"

	// The request never left: dial failure, connection refused, DNS.
	case a.Response == nil && !a.Sent:
		return true, "not sent"

	// From here on the server may have acted on the request: only a
	// request that may be repeated is.
	case !a.Idempotent:
		return false, "not idempotent, and it may have been applied"

	// Server errors that are usually temporary.
	case a.Response != nil:
		if wire.RetryableStatus(a.Response.StatusCode) {
			return true, "server error"
		}
		return false, "status " + a.Response.Status

	// The caller gave up.
	case errors.Is(a.Err, context.Canceled):
		return false, "canceled"

	// The connection broke or timed out.
	case errors.Is(a.Err, io.EOF), errors.Is(a.Err, io.ErrUnexpectedEOF),
		errors.Is(a.Err, syscall.ECONNRESET), errors.Is(a.Err, syscall.EPIPE),
		errors.Is(a.Err, syscall.ECONNABORTED):
		return true, "connection lost"
	case errors.As(a.Err, &ne) && ne.Timeout():
		return true, "timeout"
	case errors.As(a.Err, new(*net.OpError)):
		return true, "network error"
	}
	return false, "not a temporary error"
}

// delay is the wait before the attempt after a: Retry-After when the
// response has a valid one, else full-jitter backoff. An error means no
// retry (a Retry-After over MaxRetryAfter).
func (p RetryPolicy) delay(a Attempt, now time.Time, r wire.Rand) (time.Duration, error) {
	if a.Response != nil {
		raw := a.Response.Header.Get("Retry-After")
		if d, ok := parseRetryAfter(raw, now); ok {
			if d > p.MaxRetryAfter {
				return 0, fmt.Errorf("hubspot: Retry-After %q exceeds the %s limit", oneLine(raw), p.MaxRetryAfter)
			}
			return d, nil
		}
	}
	ceil := min(p.MaxDelay, p.MaxRetryAfter)
	if shift := max(a.Number, 1) - 1; shift < 62 {
		if d := p.BaseDelay << shift; d > 0 && d < ceil && d>>shift == p.BaseDelay {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0, nil
	}
	return time.Duration(r.Int64N(int64(ceil) + 1)), nil
}

type idempotentKey struct{}

// WithIdempotent marks requests made with ctx as idempotent (or not),
// overriding the method-based default (GET, HEAD, PUT, DELETE, OPTIONS are
// idempotent; POST and PATCH are not).
func WithIdempotent(ctx context.Context, idempotent bool) context.Context {
	return context.WithValue(ctx, idempotentKey{}, idempotent)
}

// isIdempotent reports whether req may be safely repeated.
func isIdempotent(req *http.Request) bool {
	if v, ok := req.Context().Value(idempotentKey{}).(bool); ok {
		return v
	}
	return isIdempotentMethod(req.Method)
}

// isIdempotentMethod reports whether requests with method m are idempotent
// by default.
func isIdempotentMethod(m string) bool {
	switch m {
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

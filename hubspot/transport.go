package hubspot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/crmkit/hubspot-associations/internal/wire"
	"golang.org/x/oauth2"
)

// defaultUserAgent is sent when no other User-Agent is configured.
const defaultUserAgent = "crmkit-hubspot-associations/1"

func init() {
	wire.LinkOf = func(rt http.RoundTripper) (wire.Link, bool) {
		t, ok := rt.(*Transport)
		if !ok {
			return wire.Link{}, false
		}
		l := wire.Link{Send: t.send, MaxBody: t.maxBody, MaxAttempts: t.policy.MaxAttempts}
		if t.limiter != nil {
			l.Pace = t.limiter.pace
		} else if t.unpaced != nil {
			l.Pace = t.unpaced.pace
		}
		return l, true
	}
}

// Transport is an http.RoundTripper that authenticates, rate-limits and
// retries requests to HubSpot. It holds the one retry loop of the package.
// NewHTTPClient builds it; it is configured through options only.
//
// Per attempt it takes a limiter slot (waiting on the context), sets
// "Authorization: Bearer <token>" and User-Agent on a clone of the request
// with a fresh copy of the body, sends it, caps the response body at
// MaxResponseBodyBytes, removes the token from the response (status line,
// headers, body) and lets the limiter observe the X-HubSpot-RateLimit-*
// headers; then the RetryPolicy decides whether to try again. A redirect hop
// to another origin than the first request's is refused (see RedirectError).
// When it gives up it returns the last response (429, 5xx) so callers can
// parse it with ParseError, or a *RequestError wrapping the last cause.
type Transport struct {
	base      http.RoundTripper
	source    oauth2.TokenSource
	limiter   *AdaptiveLimiter
	policy    RetryPolicy  // with defaults applied
	budget    *retryBudget // nil: none
	clock     wire.Clock
	rand      wire.Rand
	userAgent string
	logger    *slog.Logger
	timeout   time.Duration // per attempt; 0: none
	maxBody   int64         // response body cap
	unpaced   *unpaced      // concurrency without a limiter (nil with one)
}

// RequestError is returned by Transport.RoundTrip when no response can be
// returned: the transport error of the last attempt, a cancelled context or a
// token-source failure.
type RequestError struct {
	Method string
	Path   string
	// Attempts is the number of attempts made.
	Attempts int
	// MaybeSent is false when no attempt can have reached the server, so the
	// request surely had no effect.
	MaybeSent bool
	// Err is the last cause.
	Err error
}

// Error implements error.
func (e *RequestError) Error() string {
	sent := "request may have been sent"
	if !e.MaybeSent {
		sent = "request not sent"
	}
	return fmt.Sprintf("hubspot: %s %s: %d attempt(s), %s: %v", e.Method, e.Path, e.Attempts, sent, e.Err)
}

// Unwrap returns the last cause.
func (e *RequestError) Unwrap() error { return e.Err }

// AttemptTimeoutError is the cause when one attempt exceeded the
// per-attempt timeout (WithTimeout). It is a net.Error with Timeout() true.
type AttemptTimeoutError struct{ After time.Duration }

// Error implements error.
func (e *AttemptTimeoutError) Error() string {
	return fmt.Sprintf("hubspot: attempt timed out after %s", e.After)
}

// Timeout implements net.Error.
func (e *AttemptTimeoutError) Timeout() bool { return true }

// Temporary implements net.Error.
func (e *AttemptTimeoutError) Temporary() bool { return true }

// AttemptEvent reports one attempt.
type AttemptEvent struct {
	Method, Path string
	Attempt      int
	StatusCode   int   // 0 on a transport error
	Err          error // transport error, or the parsed 429/5xx error
	Duration     time.Duration
}

// RetryEvent reports a retry about to happen.
type RetryEvent struct {
	Method, Path string
	Attempt      int    // the attempt that failed (1-based)
	StatusCode   int    // 0 on a transport error
	Policy       string // rate-limit policy of a 429
	Err          error
	Wait         time.Duration
}

// WaitEvent reports a wait for the rate limiter.
type WaitEvent struct {
	Method, Path string
	Attempt      int
	Wait         time.Duration
}

// Observer receives the transport's events for requests made with a context
// from WithObserver. Nil fields are skipped. Callbacks may run concurrently
// for concurrent requests.
type Observer struct {
	OnAttempt func(AttemptEvent)
	OnRetry   func(RetryEvent)
	OnWait    func(WaitEvent)
}

type observerKey struct{}

// WithObserver returns a context whose requests report to o, in addition to
// any observer already in ctx.
func WithObserver(ctx context.Context, o Observer) context.Context {
	prev, ok := ctx.Value(observerKey{}).(Observer)
	if ok {
		o = chainObservers(prev, o)
	}
	return context.WithValue(ctx, observerKey{}, o)
}

func chainObservers(a, b Observer) Observer {
	return Observer{
		OnAttempt: func(e AttemptEvent) { callF(a.OnAttempt, e); callF(b.OnAttempt, e) },
		OnRetry:   func(e RetryEvent) { callF(a.OnRetry, e); callF(b.OnRetry, e) },
		OnWait:    func(e WaitEvent) { callF(a.OnWait, e); callF(b.OnWait, e) },
	}
}

func callF[E any](f func(E), e E) {
	if f != nil {
		f(e)
	}
}

func observerFrom(ctx context.Context) Observer {
	o, _ := ctx.Value(observerKey{}).(Observer)
	return o
}

// call is one request through the Transport, across its attempts.
type call struct {
	ex            *wire.Exchange // what the caller allows, what happened
	limit         int            // attempts allowed
	taken         int            // retry budget tokens taken
	req           *http.Request
	ctx           context.Context
	obs           Observer
	path          string
	idempotent    bool
	getBody       func() (io.ReadCloser, error)
	contentLength int64
	secret        string // the token of the latest attempt, for redaction
	maybeSent     bool   // some attempt may have reached the server
	lastErr       error  // the failure of the previous attempt
}

// fail builds the error returned when no response can be: the cause, the
// previous attempt's failure, the token removed.
func (c *call) fail(attempts int, cause error) error {
	if c.lastErr != nil && cause != c.lastErr {
		cause = fmt.Errorf("%w (last error: %w)", cause, c.lastErr)
	}
	return redactError(&RequestError{Method: c.req.Method, Path: c.path, Attempts: attempts, MaybeSent: c.maybeSent, Err: cause}, c.secret)
}

// RoundTrip implements http.RoundTripper: attempt, then decide what next,
// until a response is final or the policy gives up.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.send(req, &wire.Exchange{})
}

// send is RoundTrip reporting into ex: at most ex.Limit attempts (when
// lower than the policy's), each retry (and a first attempt that is itself
// a retry) paid from the retry budget, and what happened on the wire.
func (t *Transport) send(req *http.Request, ex *wire.Exchange) (*http.Response, error) {
	c := &call{ex: ex, req: req, ctx: req.Context(), obs: observerFrom(req.Context()), path: req.URL.Path, limit: t.policy.MaxAttempts}
	if ex.Limit > 0 && ex.Limit < c.limit {
		c.limit = ex.Limit
	}
	if ex.Idempotent != nil {
		c.idempotent = *ex.Idempotent
	} else {
		c.idempotent = isIdempotent(req)
	}
	var err error
	if c.getBody, c.contentLength, err = rewindableBody(req); err != nil {
		return nil, &RequestError{Method: req.Method, Path: c.path, Err: err}
	}
	// A redirect hop made by an http.Client without our CheckRedirect: the
	// token goes to the first request's origin only.
	if via := redirectChain(req); len(via) > 0 {
		if err := checkRedirect(req, via); err != nil {
			return nil, &RequestError{Method: req.Method, Path: c.path, Err: err}
		}
	}
	if ex.FirstRetry {
		cost, ok := t.budget.take(false)
		if !ok {
			return nil, c.fail(0, ErrRetryBudgetExhausted)
		}
		c.taken += cost
		ex.Retries++
	}
	for n := 1; ; n++ {
		a, cancel, err := t.attempt(c, n)
		if err != nil {
			return nil, c.fail(n-1, err)
		}
		if a.Err == nil {
			t.succeeded(c, n)
			return withCancel(a.Response, cancel), nil
		}
		wait, retry, why := t.next(c, a)
		if !retry {
			if a.Response != nil && !errors.Is(why, ErrRetryBudgetExhausted) {
				ex.Final = a.Err
				return withCancel(a.Response, cancel), nil
			}
			if a.Response != nil {
				wire.DrainAndClose(a.Response.Body)
			}
			cancel()
			c.lastErr = nil
			if c.ctx.Err() != nil {
				return nil, c.fail(n, fmt.Errorf("%w (last error: %w)", c.ctx.Err(), a.Err))
			}
			if errors.Is(why, ErrRetryBudgetExhausted) {
				return nil, c.fail(n, fmt.Errorf("%w (last error: %w)", why, a.Err))
			}
			if why != nil {
				return nil, c.fail(n, fmt.Errorf("%w (%w)", a.Err, why))
			}
			return nil, c.fail(n, a.Err)
		}
		c.lastErr = a.Err
		if a.Response != nil {
			wire.DrainAndClose(a.Response.Body)
		}
		cancel()
		ex.Waited += wait
		if err := t.clock.Sleep(c.ctx, wait); err != nil {
			return nil, c.fail(n, err)
		}
	}
}

// succeeded refunds the retry budget for a call whose attempt n was
// answered: what its retries took, and one token when it needed none.
func (t *Transport) succeeded(c *call, n int) {
	refund := c.taken
	if n == 1 && !c.ex.FirstRetry {
		refund += successRefund
	}
	t.budget.refund(refund)
}

// attempt makes attempt n of c: a limiter slot, a token, the request sent
// and its response guarded (body cap, redaction) and observed. a.Err is
// the transport error or the parsed 429/5xx; a nil a.Err is a final
// response. err is a failure before sending (limiter wait ended, token
// source), which ends the call. cancel ends the attempt's context.
func (t *Transport) attempt(c *call, n int) (a Attempt, cancel context.CancelFunc, err error) {
	ctx := c.ctx
	var sent slot // the limiter's record of this attempt
	if t.limiter != nil {
		s, waited, err := t.limiter.acquire(ctx, t.logger)
		sent = s
		c.ex.Waited += waited
		if waited > 0 {
			callF(c.obs.OnWait, WaitEvent{Method: c.req.Method, Path: c.path, Attempt: n, Wait: waited})
			if t.logger != nil {
				t.logger.LogAttrs(ctx, slog.LevelDebug, "hubspot: rate limit wait",
					slog.String("method", c.req.Method), slog.String("path", c.path),
					slog.Int("attempt", n), slog.Duration("wait", waited))
			}
		}
		if err != nil {
			return Attempt{}, nil, err
		}
	}
	tok, err := t.source.Token()
	if err != nil {
		return Attempt{}, nil, fmt.Errorf("hubspot: token source: %w", err)
	}
	if tok == nil || tok.AccessToken == "" {
		return Attempt{}, nil, errors.New("hubspot: token source returned an empty token")
	}
	c.secret = tok.AccessToken
	body, err := c.getBody()
	if err != nil {
		return Attempt{}, nil, fmt.Errorf("hubspot: rewinding request body: %w", err)
	}

	actx, cancel := ctx, context.CancelFunc(func() {})
	if t.timeout > 0 {
		actx, cancel = attemptContext(ctx, t.clock, t.timeout)
	}
	r2 := c.req.Clone(actx)
	r2.Body = body
	if body != nil && body != http.NoBody {
		r2.ContentLength = c.contentLength
	}
	r2.GetBody = c.getBody
	r2.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if r2.Header.Get("User-Agent") == "" {
		r2.Header.Set("User-Agent", t.userAgent)
	}
	// A context that ended before sending: nothing reaches the server.
	if err := ctx.Err(); err != nil {
		cancel()
		return Attempt{}, nil, err
	}
	c.ex.Attempts++

	start := t.clock.Now()
	resp, err := t.base.RoundTrip(r2)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		err = &AttemptTimeoutError{After: t.timeout}
	}
	a = Attempt{Number: n, Request: r2, Response: resp, Err: err, Idempotent: c.idempotent,
		Sent: err == nil || !notSent(err)}
	status := 0
	if resp != nil {
		status = resp.StatusCode
		limitBody(resp, c.req.Method, c.path, t.maxBody)
		redactResponse(resp, c.secret)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			a.Err = parseError(resp, t.clock.Now())
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			c.ex.RateLimited++
		}
	}
	if t.limiter != nil {
		t.limiter.observe(ctx, sent, resp, a.Err, t.logger)
	} else if t.unpaced != nil {
		t.unpaced.observe(status)
	}
	callF(c.obs.OnAttempt, AttemptEvent{Method: c.req.Method, Path: c.path, Attempt: n,
		StatusCode: status, Err: a.Err, Duration: t.clock.Now().Sub(start)})
	if a.Sent {
		c.maybeSent = true
		// Sent, and no answer says what became of it.
		if resp == nil || resp.StatusCode >= 500 {
			c.ex.MaybeApplied = true
		}
	}
	return a, cancel, nil
}

// next decides what follows the failed attempt a: retry after wait, or
// stop (why, when set, says what stopped a retry the decision allowed).
// A retry is reported to the observer and the log, and a 429's wait pauses
// every caller of the limiter.
func (t *Transport) next(c *call, a Attempt) (wait time.Duration, retry bool, why error) {
	if c.ctx.Err() != nil || a.Number >= c.limit {
		return 0, false, nil
	}
	var reason string
	if t.policy.CheckRetry != nil {
		retry, reason = t.policy.CheckRetry(a)
	} else {
		retry, reason = shouldRetry(a)
	}
	if !retry {
		return 0, false, nil
	}
	wait, err := t.policy.delay(a, t.clock.Now(), t.rand)
	if err != nil {
		return 0, false, err
	}
	if deadline, ok := c.ctx.Deadline(); ok && time.Until(deadline) < wait {
		return 0, false, fmt.Errorf("a %s wait would outlive the context deadline", wait)
	}
	var ne net.Error
	cost, ok := t.budget.take(errors.As(a.Err, &ne) && ne.Timeout())
	if !ok {
		return 0, false, ErrRetryBudgetExhausted
	}
	c.taken += cost
	c.ex.Retries++
	status := 0
	if a.Response != nil {
		status = a.Response.StatusCode
	}
	var rl *RateLimitError
	policy := ""
	if errors.As(a.Err, &rl) {
		policy = rl.Policy
		if t.limiter != nil {
			t.limiter.Pause(wait)
		}
	}
	callF(c.obs.OnRetry, RetryEvent{Method: c.req.Method, Path: c.path, Attempt: a.Number,
		StatusCode: status, Policy: policy, Err: a.Err, Wait: wait})
	if t.logger != nil {
		attrs := []slog.Attr{slog.String("method", c.req.Method), slog.String("path", c.path),
			slog.Int("attempt", a.Number), slog.Duration("wait", wait), slog.String("reason", reason)}
		if status != 0 {
			attrs = append(attrs, slog.Int("status", status))
		}
		if policy != "" {
			attrs = append(attrs, slog.String("policy", policy))
		}
		attrs = append(attrs, slog.String("error", redact(a.Err.Error(), c.secret)))
		t.logger.LogAttrs(c.ctx, slog.LevelWarn, "hubspot: retrying request", attrs...)
	}
	return wait, true, nil
}

// rewindableBody returns a function giving a fresh copy of the request body
// for each attempt, and closes req.Body as RoundTrip must.
func rewindableBody(req *http.Request) (func() (io.ReadCloser, error), int64, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return func() (io.ReadCloser, error) { return http.NoBody, nil }, 0, nil
	}
	if req.GetBody != nil {
		req.Body.Close()
		return req.GetBody, req.ContentLength, nil
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("hubspot: reading request body: %w", err)
	}
	return func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, int64(len(data)), nil
}

// cancelBody cancels the attempt context once the body is closed or read to
// the end.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.cancel()
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// attemptContext bounds one attempt by d on the clock: with a test's
// TimerClock the timer is the clock's (the test fires it), otherwise a real
// deadline.
func attemptContext(ctx context.Context, clock wire.Clock, d time.Duration) (context.Context, context.CancelFunc) {
	tc, ok := clock.(wire.TimerClock)
	if !ok {
		return context.WithTimeout(ctx, d)
	}
	actx, cancel := context.WithCancel(ctx)
	stop := tc.AfterFunc(d, cancel)
	return actx, func() { stop(); cancel() }
}

func withCancel(resp *http.Response, cancel context.CancelFunc) *http.Response {
	if resp.Body == nil {
		cancel()
		return resp
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp
}

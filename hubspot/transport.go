package hubspot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultUserAgent is sent when no other User-Agent is configured.
const DefaultUserAgent = "crmkit-hubspot-associations/1"

// redactedText replaces secrets in error strings, logs and error bodies.
const redactedText = "[REDACTED]"

// Transport is an http.RoundTripper that authenticates, rate-limits and
// retries requests to HubSpot. It holds the one retry loop of the package.
//
// Per attempt it takes a limiter token (waiting on the context), sets
// "Authorization: Bearer <token>" and User-Agent on a clone of the request
// with a fresh copy of the body, sends it with Base, caps the response body
// at MaxResponseBodyBytes, removes the token from the response (status line,
// headers, body), lets the limiter observe the X-HubSpot-RateLimit-* headers
// and asks the Retryer whether to go on. A redirect hop to another origin
// than the first request's is refused (see RedirectError).
// When it gives up it returns the last response (429, 5xx) so callers can
// parse it with ParseError, or a *RequestError wrapping the last cause.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Source supplies the bearer token for every attempt. Required.
	Source oauth2.TokenSource
	// Limiter paces the attempts; nil means no client-side limit.
	Limiter *AdaptiveLimiter
	// Retryer is the retry policy; nil means NewStandardRetryer().
	Retryer Retryer
	// Clock is used for retry waits; nil means the real clock.
	Clock Clock
	// UserAgent is set on requests that have none; "" means DefaultUserAgent.
	UserAgent string
	// Logger, when set, receives retries (Warn) and rate-limit waits (Debug).
	Logger *slog.Logger
	// AttemptTimeout bounds each attempt, reading the response body included;
	// zero means no per-attempt limit (the request context still applies).
	AttemptTimeout time.Duration

	defaultRetryer sync.Once
	retryer        Retryer
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

// AttemptTimeoutError is the cause when one attempt exceeded
// Transport.AttemptTimeout. It is a net.Error with Timeout() true.
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

func (t *Transport) getRetryer() Retryer {
	if t.Retryer != nil {
		return t.Retryer
	}
	t.defaultRetryer.Do(func() { t.retryer = NewStandardRetryer() })
	return t.retryer
}

func (t *Transport) clock() Clock {
	if t.Clock != nil {
		return t.Clock
	}
	return SystemClock{}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	obs := observerFrom(ctx)
	clock := t.clock()
	retryer := t.getRetryer()
	maxAttempts := max(retryer.MaxAttempts(), 1)
	idempotent := IsIdempotent(req)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	path := req.URL.Path

	getBody, contentLength, err := rewindableBody(req)
	if err != nil {
		return nil, &RequestError{Method: req.Method, Path: path, Err: err}
	}
	if t.Source == nil {
		return nil, &RequestError{Method: req.Method, Path: path, Err: errors.New("hubspot: Transport has no token source")}
	}
	// A redirect hop made by an http.Client without our CheckRedirect: the
	// token goes to the first request's origin only.
	if via := redirectChain(req); len(via) > 0 {
		if err := checkRedirect(req, via); err != nil {
			return nil, &RequestError{Method: req.Method, Path: path, Err: err}
		}
	}

	var (
		lastErr   error
		maybeSent bool
		secret    string
	)
	fail := func(attempts int, cause error) error {
		if lastErr != nil && cause != lastErr {
			cause = fmt.Errorf("%w (last error: %w)", cause, lastErr)
		}
		return redactError(&RequestError{Method: req.Method, Path: path, Attempts: attempts, MaybeSent: maybeSent, Err: cause}, secret)
	}

	for attempt := 1; ; attempt++ {
		var sent slot // the limiter's record of this attempt
		if t.Limiter != nil {
			s, waited, err := t.Limiter.acquire(ctx, t.Logger)
			sent = s
			if waited > 0 {
				callF(obs.OnWait, WaitEvent{Method: req.Method, Path: path, Attempt: attempt, Wait: waited})
				if t.Logger != nil {
					t.Logger.LogAttrs(ctx, slog.LevelDebug, "hubspot: rate limit wait",
						slog.String("method", req.Method), slog.String("path", path),
						slog.Int("attempt", attempt), slog.Duration("wait", waited))
				}
			}
			if err != nil {
				return nil, fail(attempt-1, err)
			}
		}
		tok, err := t.Source.Token()
		if err != nil {
			return nil, fail(attempt-1, fmt.Errorf("hubspot: token source: %w", err))
		}
		if tok == nil || tok.AccessToken == "" {
			return nil, fail(attempt-1, errors.New("hubspot: token source returned an empty token"))
		}
		secret = tok.AccessToken
		body, err := getBody()
		if err != nil {
			return nil, fail(attempt-1, fmt.Errorf("hubspot: rewinding request body: %w", err))
		}

		actx, cancel := ctx, context.CancelFunc(func() {})
		if t.AttemptTimeout > 0 {
			actx, cancel = attemptContext(ctx, clock, t.AttemptTimeout)
		}
		r2 := req.Clone(actx)
		r2.Body = body
		if body != nil && body != http.NoBody {
			r2.ContentLength = contentLength
		}
		r2.GetBody = getBody
		r2.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if r2.Header.Get("User-Agent") == "" {
			ua := t.UserAgent
			if ua == "" {
				ua = DefaultUserAgent
			}
			r2.Header.Set("User-Agent", ua)
		}

		start := clock.Now()
		resp, err := base.RoundTrip(r2)
		if err != nil && actx.Err() != nil && ctx.Err() == nil {
			err = &AttemptTimeoutError{After: t.AttemptTimeout}
		}
		a := Attempt{Number: attempt, Request: r2, Response: resp, Err: err, Idempotent: idempotent,
			Sent: err == nil || !notSent(err)}
		status := 0
		if resp != nil {
			status = resp.StatusCode
			limitBody(resp, req.Method, path, MaxResponseBodyBytes)
			redactResponse(resp, secret)
			if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
				a.Err = ParseError(resp)
			}
		}
		if t.Limiter != nil {
			t.Limiter.observe(ctx, sent, resp, a.Err, t.Logger)
		}
		callF(obs.OnAttempt, AttemptEvent{Method: req.Method, Path: path, Attempt: attempt,
			StatusCode: status, Err: a.Err, Duration: clock.Now().Sub(start)})
		if a.Sent {
			maybeSent = true
		}

		if a.Err == nil {
			if sr, ok := retryer.(SuccessRecorder); ok {
				sr.RecordSuccess()
			}
			return withCancel(resp, cancel), nil
		}
		retry := ctx.Err() == nil && attempt < maxAttempts && retryer.IsRetryable(a)
		var wait time.Duration
		if retry {
			wait, err = retryer.RetryDelay(a)
			switch {
			case err != nil:
				retry = false
				a.Err = fmt.Errorf("%w (%v)", a.Err, err)
			case wait < 0:
				wait = 0
			}
			if deadline, ok := ctx.Deadline(); retry && ok && time.Until(deadline) < wait {
				// Waiting would outlive the caller's context: give up now.
				retry = false
				a.Err = fmt.Errorf("%w (a %s wait would outlive the context deadline)", a.Err, wait)
			}
		}
		if !retry {
			if resp != nil {
				return withCancel(resp, cancel), nil
			}
			cancel()
			lastErr = nil
			if ctx.Err() != nil {
				return nil, fail(attempt, fmt.Errorf("%w (last error: %w)", ctx.Err(), a.Err))
			}
			return nil, fail(attempt, a.Err)
		}

		lastErr = a.Err
		var rl *RateLimitError
		policy := ""
		if errors.As(a.Err, &rl) {
			policy = rl.Policy
			if t.Limiter != nil {
				t.Limiter.Pause(wait)
			}
		}
		callF(obs.OnRetry, RetryEvent{Method: req.Method, Path: path, Attempt: attempt,
			StatusCode: status, Policy: policy, Err: a.Err, Wait: wait})
		if t.Logger != nil {
			attrs := []slog.Attr{slog.String("method", req.Method), slog.String("path", path),
				slog.Int("attempt", attempt), slog.Duration("wait", wait)}
			if status != 0 {
				attrs = append(attrs, slog.Int("status", status))
			}
			if policy != "" {
				attrs = append(attrs, slog.String("policy", policy))
			}
			attrs = append(attrs, slog.String("error", redact(a.Err.Error(), secret)))
			t.Logger.LogAttrs(ctx, slog.LevelWarn, "hubspot: retrying request", attrs...)
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		cancel()
		if err := clock.Sleep(ctx, wait); err != nil {
			return nil, fail(attempt, err)
		}
	}
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

// attemptContext bounds one attempt by d on the clock: with a TimerClock
// other than SystemClock the timer is the clock's (tests fire it), otherwise
// a real deadline.
func attemptContext(ctx context.Context, clock Clock, d time.Duration) (context.Context, context.CancelFunc) {
	tc, ok := clock.(TimerClock)
	if _, system := clock.(SystemClock); !ok || system {
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

func redact(s, secret string) string {
	if secret == "" || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, redactedText)
}

// redactedError hides a secret in an error's text while keeping the chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactError(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	if msg := err.Error(); strings.Contains(msg, secret) {
		return &redactedError{msg: redact(msg, secret), err: err}
	}
	return err
}

package hubspot

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// DefaultTimeout bounds each attempt (see WithTimeout).
const DefaultTimeout = 30 * time.Second

// Option configures NewHTTPClient and NewTransport. Options validate their
// input and return an error naming the option; they never echo a token.
type Option func(*options) error

type options struct {
	token       string // from WithToken, which rejects an empty one
	source      oauth2.TokenSource
	perInterval int
	interval    time.Duration
	limiter     *AdaptiveLimiter
	noLimiter   bool
	policy      RetryPolicy
	clock       Clock
	rand        Rand
	logger      *slog.Logger
	timeout     time.Duration
	userAgent   string
	base        http.RoundTripper
}

// WithToken authenticates with a private-app access token. Requests made
// with the same token share one rate limiter (see SharedLimiter) unless
// WithLimiter is given.
func WithToken(token string) Option {
	return func(o *options) error {
		if strings.TrimSpace(token) == "" {
			return errors.New("hubspot: WithToken: token is empty")
		}
		if strings.IndexFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return errors.New("hubspot: WithToken: token contains whitespace or control characters")
		}
		o.token = token
		return nil
	}
}

// WithTokenSource authenticates with an OAuth2 token source (wrap it in
// oauth2.ReuseTokenSource to cache tokens). Such a client gets its own rate
// limiter; share one between clients with WithLimiter.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(o *options) error {
		if ts == nil {
			return errors.New("hubspot: WithTokenSource: token source is nil")
		}
		o.source = ts
		return nil
	}
}

// WithRateLimit sets the client-side limit to n requests per interval
// (default DefaultRateLimit per DefaultRateLimitInterval) of the limiter the
// client creates. It does not reshape a limiter given with WithLimiter, nor
// the token's shared limiter when another client created it (see
// SharedLimiter); HubSpot's X-HubSpot-RateLimit-* headers reshape every
// limiter after the first answer.
func WithRateLimit(n int, per time.Duration) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("hubspot: WithRateLimit: n must be positive, got %d", n)
		}
		if per <= 0 {
			return fmt.Errorf("hubspot: WithRateLimit: interval must be positive, got %s", per)
		}
		o.perInterval, o.interval = n, per
		return nil
	}
}

// WithLimiter uses l for client-side rate limiting; nil disables it.
func WithLimiter(l *AdaptiveLimiter) Option {
	return func(o *options) error {
		o.limiter, o.noLimiter = l, l == nil
		return nil
	}
}

// WithRetryPolicy sets when and how long requests are retried (default:
// the zero RetryPolicy, that is DefaultMaxAttempts attempts with
// DefaultBaseDelay backoff up to DefaultMaxDelay).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(o *options) error {
		switch {
		case p.MaxAttempts < 0:
			return fmt.Errorf("hubspot: WithRetryPolicy: MaxAttempts %d is negative", p.MaxAttempts)
		case p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0:
			return fmt.Errorf("hubspot: WithRetryPolicy: negative delay (BaseDelay %s, MaxDelay %s, MaxRetryAfter %s)",
				p.BaseDelay, p.MaxDelay, p.MaxRetryAfter)
		}
		o.policy = p
		return nil
	}
}

// WithClock sets the clock for retry waits, Retry-After dates and the
// per-attempt timeout (tests inject a fake one).
func WithClock(c Clock) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("hubspot: WithClock: clock is nil")
		}
		o.clock = c
		return nil
	}
}

// WithRand sets the random source for backoff jitter.
func WithRand(r Rand) Option {
	return func(o *options) error {
		if r == nil {
			return errors.New("hubspot: WithRand: random source is nil")
		}
		o.rand = r
		return nil
	}
}

// WithLogger logs retries and rate-limit waits to l (never the token).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("hubspot: WithLogger: logger is nil")
		}
		o.logger = l
		return nil
	}
}

// WithTimeout bounds each attempt, reading the body included (default
// DefaultTimeout). The whole call, retries and waits included, is bounded by
// the request context only. Zero disables the per-attempt limit.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("hubspot: WithTimeout: negative timeout %s", d)
		}
		o.timeout = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("hubspot: WithUserAgent: user agent is empty or has line breaks")
		}
		o.userAgent = ua
		return nil
	}
}

// WithBaseTransport sets the RoundTripper that sends each attempt (default
// http.DefaultTransport).
func WithBaseTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return errors.New("hubspot: WithBaseTransport: transport is nil")
		}
		o.base = rt
		return nil
	}
}

// NewTransport builds the retrying, rate-limited Transport from opts. Exactly
// one of WithToken and WithTokenSource is required.
func NewTransport(opts ...Option) (*Transport, error) {
	o := options{timeout: DefaultTimeout, userAgent: DefaultUserAgent}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	switch {
	case o.token != "" && o.source != nil:
		return nil, errors.New("hubspot: WithToken and WithTokenSource are mutually exclusive")
	case o.token == "" && o.source == nil:
		return nil, errors.New("hubspot: no credentials: use WithToken or WithTokenSource")
	}
	t := &Transport{
		base:      o.base,
		clock:     o.clock,
		rand:      o.rand,
		userAgent: o.userAgent,
		logger:    o.logger,
		timeout:   o.timeout,
		policy:    o.policy.withDefaults(),
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.clock == nil {
		t.clock = SystemClock{}
	}
	if t.rand == nil {
		t.rand = globalRand{}
	} else {
		t.rand = &lockedRand{r: t.rand}
	}
	if o.token != "" {
		t.source = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: o.token, TokenType: "Bearer"})
	} else {
		t.source = o.source
	}
	switch {
	case o.limiter != nil:
		t.limiter = o.limiter
	case o.noLimiter:
	case o.token != "":
		t.limiter = SharedLimiter(o.token, o.perInterval, o.interval)
	default:
		t.limiter = NewAdaptiveLimiter(o.perInterval, o.interval, nil)
	}
	return t, nil
}

// NewHTTPClient returns an *http.Client whose Transport authenticates,
// rate-limits and retries (see Transport). Pass it to the generated client,
// with DefaultBaseURL as the server.
//
// The client follows a redirect only to the scheme, host and port of the
// request it started with, at most MaxRedirects times and never in a loop;
// any other redirect (another host or port, https to http) is refused with a
// *RedirectError, so the token never leaves the configured origin.
func NewHTTPClient(opts ...Option) (*http.Client, error) {
	t, err := NewTransport(opts...)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t, CheckRedirect: checkRedirect}, nil
}

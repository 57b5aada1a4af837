package hubspot

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/crmkit/hubspot-associations/internal/wire"
	"golang.org/x/oauth2"
)

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// defaultTimeout bounds each attempt (see WithTimeout).
const defaultTimeout = 30 * time.Second

// Option configures a client: its Transport (NewHTTPClient and the
// generated associations.New) and its batch calls (associations.New and
// associations.NewSchema); and a rate limiter (NewAdaptiveLimiter:
// WithRateLimit, WithWindowStore, WithLogger). Options validate their
// input and return an error naming the option; they never echo a token.
// NewSchema refuses the options of a client (it is given one built),
// NewHTTPClient those of the batch calls, NewAdaptiveLimiter all but its
// three; WithLogger is for all.
type Option func(*wire.Options) error

// Batch engine defaults.
const (
	// DefaultChunkSize is HubSpot's usual batch limit.
	DefaultChunkSize = 100
)

// WithBaseURL sends the requests of associations.New to base instead of
// DefaultBaseURL (a sandbox, a proxy, a fake such as package hubspottest).
// It must be an absolute http or https URL without query or fragment.
func WithBaseURL(base string) Option {
	return func(o *wire.Options) error {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("hubspot: WithBaseURL(%q): need an absolute http or https URL without query or fragment", oneLine(base))
		}
		o.BaseURL = base
		o.MarkClient("WithBaseURL")
		return nil
	}
}

// WithToken authenticates with a private-app access token. Requests made
// with the same token share one rate limiter (see SharedLimiter) unless
// WithLimiter or WithWindowStore is given.
func WithToken(token string) Option {
	return func(o *wire.Options) error {
		if strings.TrimSpace(token) == "" {
			return errors.New("hubspot: WithToken: token is empty")
		}
		if strings.IndexFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return errors.New("hubspot: WithToken: token contains whitespace or control characters")
		}
		o.Token = token
		o.MarkClient("WithToken")
		return nil
	}
}

// WithTokenSource authenticates with an OAuth2 token source (wrap it in
// oauth2.ReuseTokenSource to cache tokens). Such a client gets its own rate
// limiter; share one between clients with WithLimiter.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(o *wire.Options) error {
		if ts == nil {
			return errors.New("hubspot: WithTokenSource: token source is nil")
		}
		o.Source = ts
		o.MarkClient("WithTokenSource")
		return nil
	}
}

// WithRateLimit sets the client-side limit to n requests per interval
// (default DefaultRateLimit per DefaultRateLimitInterval) of the limiter the
// client, or NewAdaptiveLimiter, creates: n at most 1,000,000, the interval
// at most 24 hours. It does not reshape a limiter given with WithLimiter,
// nor the token's shared limiter when another client created it (see
// SharedLimiter); HubSpot's X-HubSpot-RateLimit-* headers reshape every
// limiter after the first answer.
func WithRateLimit(n int, per time.Duration) Option {
	return func(o *wire.Options) error {
		if n <= 0 || n > wire.MaxRateLimitMax {
			return fmt.Errorf("hubspot: WithRateLimit: n must be between 1 and %d, got %d", wire.MaxRateLimitMax, n)
		}
		if per <= 0 || per > wire.MaxRateLimitInterval {
			return fmt.Errorf("hubspot: WithRateLimit: interval must be positive and at most %s, got %s", wire.MaxRateLimitInterval, per)
		}
		o.PerInterval, o.Interval = n, per
		o.MarkClient("WithRateLimit")
		return nil
	}
}

// WithLimiter uses l for client-side rate limiting; nil disables it.
// Several clients given one limiter (NewAdaptiveLimiter) share one budget.
func WithLimiter(l *AdaptiveLimiter) Option {
	return func(o *wire.Options) error {
		o.Limiter, o.NoLimiter = l, l == nil
		o.MarkClient("WithLimiter")
		return nil
	}
}

// WithWindowStore makes the limiter schedule against store, a rolling
// window that several limiters (and processes) may share, instead of an
// in-process log (see package hubspot/redislimit). Given to
// NewAdaptiveLimiter, it is that limiter's store; given to a client
// (associations.New, NewHTTPClient), the client creates its own limiter on
// store (WithLimiter is then refused: a given limiter has its own store).
func WithWindowStore(store WindowStore) Option {
	return func(o *wire.Options) error {
		if store == nil {
			return errors.New("hubspot: WithWindowStore: store is nil")
		}
		o.Store = store
		o.MarkClient("WithWindowStore")
		return nil
	}
}

// WithRetryPolicy sets when and how long requests are retried, and the
// client's retry budget (default: the zero RetryPolicy, see there).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(o *wire.Options) error {
		switch {
		case p.MaxAttempts < 0:
			return fmt.Errorf("hubspot: WithRetryPolicy: MaxAttempts %d is negative", p.MaxAttempts)
		case p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0:
			return fmt.Errorf("hubspot: WithRetryPolicy: negative delay (BaseDelay %s, MaxDelay %s, MaxRetryAfter %s)",
				p.BaseDelay, p.MaxDelay, p.MaxRetryAfter)
		}
		o.Policy, o.PolicySet = p, true
		o.MarkClient("WithRetryPolicy")
		return nil
	}
}

// WithLogger logs to l (never the token): the Transport's retries and
// rate-limit waits, the limiter's ignored headers and store problems, and
// the batch calls' chunk failures, splits and read-backs.
func WithLogger(l *slog.Logger) Option {
	return func(o *wire.Options) error {
		if l == nil {
			return errors.New("hubspot: WithLogger: logger is nil")
		}
		o.Logger = l
		return nil
	}
}

// WithTimeout bounds each attempt, reading the body included (default 30
// s). The whole call, retries and waits included, is bounded by the request
// context only. Zero disables the per-attempt limit.
func WithTimeout(d time.Duration) Option {
	return func(o *wire.Options) error {
		if d < 0 {
			return fmt.Errorf("hubspot: WithTimeout: negative timeout %s", d)
		}
		o.Timeout, o.TimeoutSet = d, true
		o.MarkClient("WithTimeout")
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *wire.Options) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("hubspot: WithUserAgent: user agent is empty or has line breaks")
		}
		o.UserAgent = ua
		o.MarkClient("WithUserAgent")
		return nil
	}
}

// WithBaseTransport sets the RoundTripper that sends each attempt (default
// http.DefaultTransport).
func WithBaseTransport(rt http.RoundTripper) Option {
	return func(o *wire.Options) error {
		if rt == nil {
			return errors.New("hubspot: WithBaseTransport: transport is nil")
		}
		o.Base = rt
		o.MarkClient("WithBaseTransport")
		return nil
	}
}

// WithMaxResponseBytes caps every response body the client reads at n
// bytes (default MaxResponseBodyBytes); reading past it is a
// *ResponseTooLargeError, never a partial decode. n must be between 64 KiB
// and 1 GiB.
func WithMaxResponseBytes(n int64) Option {
	return func(o *wire.Options) error {
		if n < 64<<10 || n > 1<<30 {
			return fmt.Errorf("hubspot: WithMaxResponseBytes(%d): must be between 65536 and 1073741824", n)
		}
		o.MaxBody = n
		o.MarkClient("WithMaxResponseBytes")
		return nil
	}
}

// WithChunkSize sets the number of inputs per batch request (default
// DefaultChunkSize). HubSpot rejects chunks that are too large; the engine
// then splits them.
func WithChunkSize(n int) Option {
	return func(o *wire.Options) error {
		if n < 1 {
			return fmt.Errorf("hubspot: WithChunkSize(%d): must be at least 1", n)
		}
		o.ChunkSize = n
		o.MarkBatch("WithChunkSize")
		return nil
	}
}

// WithConcurrency fixes the number of batch requests in flight at once.
// Without it a batch call starts with 8 and then sizes it from the rate
// limiter's allowed rate and the observed round trip (at most 64).
func WithConcurrency(n int) Option {
	return func(o *wire.Options) error {
		if n < 1 {
			return fmt.Errorf("hubspot: WithConcurrency(%d): must be at least 1", n)
		}
		o.Concurrency = n
		o.MarkBatch("WithConcurrency")
		return nil
	}
}

// WithResendUnknown makes a batch call send again the inputs of a chunk
// that failed without HubSpot rejecting them: a 5xx or a transport error
// after the Transport's retries, a 429 that is not DAILY, an input the
// answer says nothing about. Resends draw from the same count as the
// Transport's retries (RetryPolicy.MaxAttempts per input) and from the
// client's retry budget. Update and purge are resent as they are; a create
// is first read back, and only what is missing is sent again. Without it
// such inputs fail (with ErrOutcomeUnknown when they may have been
// applied).
func WithResendUnknown() Option {
	return func(o *wire.Options) error {
		o.ResendUnknown = true
		o.MarkBatch("WithResendUnknown")
		return nil
	}
}

// WithoutBaseline skips the baseline read-back that a create batch makes
// before its first request. Without a baseline a read-back cannot tell an
// input this run created from one that existed before, so an ambiguous
// failure whose key is found fails with ErrOutcomeUnknown, never succeeds.
func WithoutBaseline() Option {
	return func(o *wire.Options) error {
		o.NoBaseline = true
		o.MarkBatch("WithoutBaseline")
		return nil
	}
}

// WithProgress sets a callback called after every chunk of a batch call,
// for progress bars. Calls are serialized per Schema: fn never runs
// concurrently with itself, even when batch calls of one Schema run at the
// same time.
func WithProgress(fn func(Progress)) Option {
	return func(o *wire.Options) error {
		if fn == nil {
			return errors.New("hubspot: WithProgress(nil): need a function")
		}
		o.Progress = fn
		o.MarkBatch("WithProgress")
		return nil
	}
}

// applyOptions applies opts over o.
func applyOptions(o *wire.Options, opts []Option) error {
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return err
		}
	}
	return nil
}

// newTransport builds the retrying, rate-limited Transport from opts. Exactly
// one of WithToken and WithTokenSource is required; batch options
// (WithChunkSize and the like) are refused.
func newTransport(opts ...Option) (*Transport, error) {
	var o wire.Options
	if err := applyOptions(&o, opts); err != nil {
		return nil, err
	}
	switch {
	case len(o.Batch) > 0:
		return nil, fmt.Errorf("hubspot: NewHTTPClient: %s configure(s) the batch calls of a Schema; pass them to associations.New or associations.NewSchema", wire.Names(o.Batch))
	case o.Token != "" && o.Source != nil:
		return nil, errors.New("hubspot: WithToken and WithTokenSource are mutually exclusive")
	case o.Token == "" && o.Source == nil:
		return nil, errors.New("hubspot: no credentials: use WithToken or WithTokenSource")
	case o.Store != nil && (o.Limiter != nil || o.NoLimiter):
		return nil, errors.New("hubspot: WithWindowStore and WithLimiter are mutually exclusive: give the store to NewAdaptiveLimiter")
	}
	t := &Transport{
		base:      o.Base,
		clock:     o.Clock,
		userAgent: o.UserAgent,
		logger:    o.Logger,
		timeout:   defaultTimeout,
		maxBody:   o.MaxBody,
	}
	if o.TimeoutSet {
		t.timeout = o.Timeout
	}
	if t.userAgent == "" {
		t.userAgent = defaultUserAgent
	}
	if t.maxBody <= 0 {
		t.maxBody = MaxResponseBodyBytes
	}
	var p RetryPolicy
	if o.PolicySet {
		p = o.Policy.(RetryPolicy)
	}
	t.policy = p.withDefaults()
	t.budget = newRetryBudget(t.policy.RetryBudget)
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.clock == nil {
		t.clock = wire.SystemClock{}
	}
	if o.Rand == nil {
		t.rand = globalRand{}
	} else {
		t.rand = &lockedRand{r: o.Rand}
	}
	if o.Token != "" {
		t.source = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: o.Token, TokenType: "Bearer"})
	} else {
		t.source = o.Source
	}
	lim, _ := o.Limiter.(*AdaptiveLimiter)
	switch {
	case lim != nil:
		t.limiter = lim
	case o.NoLimiter:
		t.unpaced = newUnpaced()
	case o.Store != nil:
		t.limiter = newLimiter(&wire.Options{PerInterval: o.PerInterval, Interval: o.Interval, Store: o.Store})
	case o.Token != "":
		t.limiter = SharedLimiter(o.Token, o.PerInterval, o.Interval)
	default:
		t.limiter = newLimiter(&wire.Options{PerInterval: o.PerInterval, Interval: o.Interval})
	}
	return t, nil
}

// NewHTTPClient returns an *http.Client whose Transport authenticates,
// rate-limits and retries (see Transport). Pass it to the generated client,
// with DefaultBaseURL as the server (associations.New does both). Exactly
// one of WithToken and WithTokenSource is required; batch options
// (WithChunkSize and the like) are for the Schema, and an error here.
//
// The client follows a redirect only to the scheme, host and port of the
// request it started with, at most 5 times and never in a loop; any other
// redirect (another host or port, https to http) is refused with a
// *RedirectError, so the token never leaves the configured origin.
func NewHTTPClient(opts ...Option) (*http.Client, error) {
	t, err := newTransport(opts...)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t, CheckRedirect: checkRedirect}, nil
}

type globalRand struct{}

func (globalRand) Int64N(n int64) int64 { return rand.Int64N(n) }

// lockedRand serialises a test's random source, which need not be safe for
// concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  wire.Rand
}

func (l *lockedRand) Int64N(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int64N(n)
}

package hubspottest

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// DefaultToken is the bearer token a Server accepts when no WithToken option
// is given.
const DefaultToken = "pat-na1-00000000-0000-0000-0000-000000000000"

// Default limits, matching HubSpot's published limits for private apps.
const (
	// DefaultRateLimitMax is the number of requests allowed per token in one
	// rolling window.
	DefaultRateLimitMax = 100
	// DefaultRateLimitInterval is the length of the rolling window.
	DefaultRateLimitInterval = 10 * time.Second
	// DefaultDailyLimit is the number of requests allowed per token per UTC
	// day (0 disables the daily limit).
	DefaultDailyLimit = 250000
	// DefaultMaxBatchInputs is the largest number of inputs a batch request
	// may carry.
	DefaultMaxBatchInputs = 100
	// DefaultMaxBodyBytes is the largest request body accepted.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultRequestLogSize is how many requests the request log keeps.
	DefaultRequestLogSize = 1000
)

// Option configures a Server. Options validate their argument and make New
// fail with a descriptive error when it is out of range.
type Option func(*config) error

type config struct {
	spec            *openapi3.T
	tokens          []string
	rateMax         int
	rateInterval    time.Duration
	dailyLimit      int
	retryAfter      bool
	honorExemptions bool
	maxBatch        int
	maxBody         int64
	logSize         int
	now             func() time.Time
	random          *FaultPolicy
	types           []AssociationType
	limits          []Limit
	noDefaultTypes  bool
	logf            func(format string, args ...any)
	basePath        string
	timeouts        Timeouts
	maxConns        int
	maxInFlight     int64
}

func defaultConfig() *config {
	return &config{
		rateMax:      DefaultRateLimitMax,
		rateInterval: DefaultRateLimitInterval,
		dailyLimit:   DefaultDailyLimit,
		retryAfter:   true,
		maxBatch:     DefaultMaxBatchInputs,
		maxBody:      DefaultMaxBodyBytes,
		logSize:      DefaultRequestLogSize,
		now:          time.Now,
		maxConns:     DefaultMaxConnections,
	}
}

// WithSpec sets the OpenAPI document requests are validated against and
// operations are recognised from. The default is the project's normalized
// document, openapispec.GetSpec(). The document is not modified.
func WithSpec(doc *openapi3.T) Option {
	return func(c *config) error {
		if doc == nil {
			return errors.New("WithSpec: nil document")
		}
		if doc.Paths == nil || doc.Paths.Len() == 0 {
			return errors.New("WithSpec: document has no paths")
		}
		c.spec = doc
		return nil
	}
}

// WithSpecFile loads the OpenAPI document at path (JSON or YAML) and uses it
// as WithSpec does.
func WithSpecFile(path string) Option {
	return func(c *config) error {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(path)
		if err != nil {
			return fmt.Errorf("WithSpecFile: %w", err)
		}
		return WithSpec(doc)(c)
	}
}

// WithToken adds a bearer token the server accepts. It may be given several
// times; every token has its own rate-limit buckets.
func WithToken(token string) Option {
	return func(c *config) error {
		if strings.TrimSpace(token) == "" || strings.ContainsAny(token, " \t\r\n") {
			return errors.New("WithToken: token must be non-empty and contain no whitespace")
		}
		c.tokens = append(c.tokens, token)
		return nil
	}
}

// WithRateLimit sets the rolling-window limit: at most max requests per
// token within any interval. The default is 100 per 10 seconds.
func WithRateLimit(max int, interval time.Duration) Option {
	return func(c *config) error {
		if max < 1 {
			return fmt.Errorf("WithRateLimit: max must be at least 1, got %d", max)
		}
		if interval < time.Millisecond {
			return fmt.Errorf("WithRateLimit: interval must be at least 1ms, got %v", interval)
		}
		c.rateMax, c.rateInterval = max, interval
		return nil
	}
}

// WithDailyLimit sets the number of requests per token per UTC day
// (measured on the server's clock). 0 disables the daily limit and its
// headers.
func WithDailyLimit(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("WithDailyLimit: must not be negative, got %d", n)
		}
		c.dailyLimit = n
		return nil
	}
}

// WithRetryAfter turns the Retry-After header on 429 responses on or off
// (default on).
func WithRetryAfter(on bool) Option {
	return func(c *config) error {
		c.retryAfter = on
		return nil
	}
}

// WithRateLimitExemptions makes the server honour the document's
// x-hubspot-rate-limit-exemptions extension: operations exempt from
// "ten-secondly" are then not subject to the rolling-window limit (they still
// count against the daily limit). Off by default, so tests can exercise 429s
// on every operation.
func WithRateLimitExemptions(on bool) Option {
	return func(c *config) error {
		c.honorExemptions = on
		return nil
	}
}

// WithMaxBatchInputs sets the largest number of inputs a batch accepts
// (default 100).
func WithMaxBatchInputs(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithMaxBatchInputs: must be at least 1, got %d", n)
		}
		c.maxBatch = n
		return nil
	}
}

// WithMaxBodyBytes sets the largest request body accepted (default 1 MiB);
// larger bodies are answered with 413.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithMaxBodyBytes: must be at least 1, got %d", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithRequestLogSize sets how many of the most recent requests the request
// log keeps (default 1000).
func WithRequestLogSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithRequestLogSize: must be at least 1, got %d", n)
		}
		c.logSize = n
		return nil
	}
}

// WithClock sets the function the server reads the time from, for rate
// limiting and timestamps. ManualClock.Now fits.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("WithClock: nil function")
		}
		c.now = now
		return nil
	}
}

// WithRandomFaults injects faults at random, drawn from a rand.Rand seeded
// with p.Seed so a run is reproducible for a given request order.
func WithRandomFaults(p FaultPolicy) Option {
	return func(c *config) error {
		if err := p.validate(); err != nil {
			return fmt.Errorf("WithRandomFaults: %w", err)
		}
		cp := p
		cp.Choices = append([]Fault(nil), p.Choices...)
		c.random = &cp
		return nil
	}
}

// WithAssociationType seeds an association type (for instance between custom
// object types, or an INTEGRATOR_DEFINED one). Object types may be given by
// name or id.
func WithAssociationType(t AssociationType) Option {
	return func(c *config) error {
		c.types = append(c.types, t)
		return nil
	}
}

// WithoutDefaultTypes leaves out the seeded HubSpot-defined association types
// between standard objects.
func WithoutDefaultTypes() Option {
	return func(c *config) error {
		c.noDefaultTypes = true
		return nil
	}
}

// WithLimit seeds an association limit. Its association type must exist.
func WithLimit(l Limit) Option {
	return func(c *config) error {
		c.limits = append(c.limits, l)
		return nil
	}
}

// WithLogf sets a function that receives one line per request (method, path,
// status, operation and correlation id; never a token or a body).
func WithLogf(logf func(format string, args ...any)) Option {
	return func(c *config) error {
		c.logf = logf
		return nil
	}
}

// ManualClock is a clock for tests: it starts at a fixed time and moves only
// when Advance or Set is called. It is safe for concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a ManualClock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func newSeededRand(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }

// WithBasePath mounts the API under a path prefix ("/hubspot"): requests
// outside it get 404 and Server.URL includes it, so a client that builds
// absolute paths instead of resolving against its base URL fails loudly.
func WithBasePath(prefix string) Option {
	return func(c *config) error {
		prefix = strings.TrimSuffix(prefix, "/")
		if prefix != "" && (!strings.HasPrefix(prefix, "/") || strings.ContainsAny(prefix, "?#")) {
			return fmt.Errorf("WithBasePath: %q must start with / and hold no query", prefix)
		}
		c.basePath = prefix
		return nil
	}
}

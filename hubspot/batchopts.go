package hubspot

import (
	"errors"
	"fmt"
	"log/slog"
)

// Config is how RunBatch runs: build it with NewConfig. The zero value uses
// the defaults.
type Config struct {
	chunkSize     int            // inputs per request; 0: DefaultChunkSize
	concurrency   int            // requests in flight; 0: adaptive
	progress      func(Progress) // called after every chunk, never concurrently
	logger        *slog.Logger   // chunk failures, splits, read-backs
	maxAttempts   int            // sends of one input; 0: DefaultBatchAttempts
	noBaseline    bool           // skip the baseline read-back of creates
	resendUnknown bool           // resend inputs whose outcome is unknown
}

// BatchOption configures a batch run (see NewConfig). Options validate their
// input and return an error naming what is wrong.
type BatchOption func(*Config) error

// NewConfig returns a Config with opts applied over the defaults.
func NewConfig(opts ...BatchOption) (Config, error) {
	var c Config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// WithChunkSize sets the number of inputs per request (default
// DefaultChunkSize). HubSpot rejects chunks that are too large; the engine
// then splits them.
func WithChunkSize(n int) BatchOption {
	return func(c *Config) error {
		if n < 1 {
			return fmt.Errorf("hubspot: WithChunkSize(%d): must be at least 1", n)
		}
		c.chunkSize = n
		return nil
	}
}

// WithConcurrency fixes the number of requests in flight at once. Without
// it the engine starts with DefaultConcurrency and then sizes it from the
// rate limiter's allowed rate and the observed round trip (at most
// MaxAutoConcurrency).
func WithConcurrency(n int) BatchOption {
	return func(c *Config) error {
		if n < 1 {
			return fmt.Errorf("hubspot: WithConcurrency(%d): must be at least 1", n)
		}
		c.concurrency = n
		return nil
	}
}

// WithMaxAttempts bounds how often the engine sends one input (default
// DefaultBatchAttempts): resends after a read-back, after an unreadable
// answer and with WithResendUnknown all count. The Transport's own retries
// of one request are separate (RetryPolicy).
func WithMaxAttempts(n int) BatchOption {
	return func(c *Config) error {
		if n < 1 {
			return fmt.Errorf("hubspot: WithMaxAttempts(%d): must be at least 1", n)
		}
		c.maxAttempts = n
		return nil
	}
}

// WithResendUnknown makes the engine send again, within WithMaxAttempts,
// the inputs of a chunk that failed without HubSpot rejecting them: a 5xx
// or a transport error after the Transport's retries, a 429 that is not
// DAILY, an input the answer says nothing about. Update and purge are
// resent as they are; a create is first read back, and only what is
// missing is sent again. Without it such inputs fail (with
// ErrOutcomeUnknown when they may have been applied).
func WithResendUnknown() BatchOption {
	return func(c *Config) error {
		c.resendUnknown = true
		return nil
	}
}

// WithoutBaseline skips the baseline read-back that a create run makes
// before its first request. Without a baseline a read-back cannot tell an
// input this run created from one that existed before, so an ambiguous
// failure whose key is found fails with ErrOutcomeUnknown, never succeeds.
func WithoutBaseline() BatchOption {
	return func(c *Config) error {
		c.noBaseline = true
		return nil
	}
}

// WithProgress sets a callback called after every chunk, never
// concurrently, for progress bars.
func WithProgress(fn func(Progress)) BatchOption {
	return func(c *Config) error {
		if fn == nil {
			return errors.New("hubspot: WithProgress(nil): need a function")
		}
		c.progress = fn
		return nil
	}
}

// WithBatchLogger sets a logger for chunk failures, splits and read-backs.
func WithBatchLogger(l *slog.Logger) BatchOption {
	return func(c *Config) error {
		if l == nil {
			return errors.New("hubspot: WithBatchLogger(nil): need a logger")
		}
		c.logger = l
		return nil
	}
}

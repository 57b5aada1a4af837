package hubspot

import (
	"errors"
	"fmt"
	"log/slog"
)

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
		c.ChunkSize = n
		return nil
	}
}

// WithConcurrency sets the number of requests in flight at once (default
// DefaultConcurrency).
func WithConcurrency(n int) BatchOption {
	return func(c *Config) error {
		if n < 1 {
			return fmt.Errorf("hubspot: WithConcurrency(%d): must be at least 1", n)
		}
		c.Concurrency = n
		return nil
	}
}

// WithMaxAttempts bounds the sends of one input of a non-idempotent
// operation across read-backs (default DefaultBatchAttempts).
func WithMaxAttempts(n int) BatchOption {
	return func(c *Config) error {
		if n < 1 {
			return fmt.Errorf("hubspot: WithMaxAttempts(%d): must be at least 1", n)
		}
		c.MaxAttempts = n
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
		c.Progress = fn
		return nil
	}
}

// WithBatchLogger sets a logger for chunk failures, splits and read-backs.
func WithBatchLogger(l *slog.Logger) BatchOption {
	return func(c *Config) error {
		if l == nil {
			return errors.New("hubspot: WithBatchLogger(nil): need a logger")
		}
		c.Logger = l
		return nil
	}
}

package hubspot

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var (
	// ErrOutcomeUnknown marks a failure after which a call, or an input of
	// a batch call, may or may not have been applied by HubSpot. An error
	// wraps it exactly when a request that may change something (any
	// method but GET, HEAD and OPTIONS) reached HubSpot and no answer says
	// what became of it: a reset or timeout after sending, a 5xx, an
	// unreadable or incomplete answer, with no read-back or later answer
	// settling it. A 429, an error before sending and a context that ended
	// before sending never do. A DELETE retried after such an attempt that
	// finds the object gone (404) succeeds: the earlier attempt deleted it.
	// The error wraps the last cause.
	ErrOutcomeUnknown = errors.New("hubspot: outcome unknown, the request may have been applied")
	// ErrNoResult marks an input for which a batch response had neither a
	// result nor an error.
	ErrNoResult = errors.New("hubspot: the batch response has neither a result nor an error for this input")
	// ErrNotAttempted is the reason of inputs that were never sent.
	ErrNotAttempted = errors.New("hubspot: not attempted")
)

// Progress is a snapshot of a running batch.
type Progress struct {
	Done, Total       int
	Succeeded, Failed int
	NotAttempted      int
	// Requests, Retries, Resends, RateLimited and Waited: see Result.
	Requests, Retries, Resends, RateLimited int
	Waited                                  time.Duration
	Operation                               string
}

// Succeeded is an input that HubSpot applied.
type Succeeded[In, Out any] struct {
	Index  int
	Input  In
	Result Out // zero when the operation has no per-input results
}

// Failed is an input that HubSpot rejected or that could not be sent.
type Failed[In any] struct {
	Index int
	Input In
	// Err is an *APIError (from a StandardError of a 207 or the error of the
	// whole chunk), a *RateLimitError, or the transport error.
	Err error
}

// NotAttempted is an input that was never sent.
type NotAttempted[In any] struct {
	Index  int
	Input  In
	Reason error // the context error, or the fatal error that stopped the run
}

// Result is the outcome of a batch call of the generated Schema: every
// input appears exactly once in Succeeded, Failed or NotAttempted, each
// sorted by Index.
type Result[In, Out any] struct {
	Succeeded    []Succeeded[In, Out]
	Failed       []Failed[In]
	NotAttempted []NotAttempted[In]
	// Requests counts the HTTP requests of the call (chunks, resends and
	// read-backs, each attempt of the Transport), Retries the requests
	// among them that repeated an earlier one (the Transport's retries,
	// resends, pages asked for again: what the retry budget paid for),
	// RateLimited the 429 answers. Resends counts the chunks sent again
	// (after a read-back, an unreadable answer or WithResendUnknown). Over a client whose http.Client has a Transport
	// of this package the counts are the Transport's own; over any other
	// client each request handed to it counts once (retries it makes by
	// itself are not seen, so Retries and Waited stay 0).
	Requests, Retries, Resends, RateLimited int
	// Waited is the total time spent in rate-limit and retry waits.
	Waited time.Duration
}

// ValidationError lists the invalid inputs found before any request.
type ValidationError struct {
	Operation string
	Problems  []InputProblem
}

// InputProblem is what is wrong with one input.
type InputProblem struct {
	Index    int
	Key      string
	Problems []string
}

// Error implements error; the result is one line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hubspot: %s: %d invalid input(s):", e.Operation, len(e.Problems))
	const show = 10
	for i, p := range e.Problems {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-show)
			break
		}
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " #%d", p.Index)
		if p.Key != "" {
			fmt.Fprintf(&b, " (%s)", oneLine(p.Key))
		}
		b.WriteString(": ")
		for j, s := range p.Problems {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(oneLine(s))
		}
	}
	return b.String()
}

// BatchError summarises a run in which not every input succeeded.
type BatchError struct {
	Operation                              string
	Total, Succeeded, Failed, NotAttempted int
	// Err is the first fatal error, else the context error, else the first
	// failure.
	Err error
}

// Error implements error.
func (e *BatchError) Error() string {
	return fmt.Sprintf("hubspot: %s: %d of %d input(s) succeeded, %d failed, %d not attempted: %v",
		e.Operation, e.Succeeded, e.Total, e.Failed, e.NotAttempted, e.Err)
}

// Unwrap returns the cause, so errors.As finds *RateLimitError or *APIError.
func (e *BatchError) Unwrap() error { return e.Err }

// IsFatal reports whether err means that no further request can succeed:
// HubSpot rejected the token or its scopes (401, 403), the daily rate limit
// is used up, or a redirect was refused. A batch call stops on such an
// error.
func IsFatal(err error) bool {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl.Daily()
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden
	}
	return errors.As(err, new(*RedirectError))
}

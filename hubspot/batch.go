package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Batch engine defaults.
const (
	// DefaultChunkSize is HubSpot's usual batch limit.
	DefaultChunkSize = 100
	// DefaultConcurrency is the number of chunks in flight at first; unless
	// WithConcurrency fixes it, the engine then sizes it from the rate
	// limiter's allowed rate and the observed round trip (at most
	// MaxAutoConcurrency).
	DefaultConcurrency = 8
	// DefaultBatchAttempts bounds how often the engine sends one input
	// (see WithMaxAttempts).
	DefaultBatchAttempts = 3
)

var (
	// ErrOutcomeUnknown marks a failure after which the input may or may not
	// have been applied by HubSpot: every failed input whose request may have
	// reached HubSpot (a reset or timeout after sending, a 5xx, an
	// unreadable or incomplete answer) and whose state no read-back
	// confirmed. The error wraps the last cause.
	ErrOutcomeUnknown = errors.New("hubspot: outcome unknown, the request may have been applied")
	// ErrNoResult marks an input for which a batch response had neither a
	// result nor an error.
	ErrNoResult = errors.New("hubspot: the batch response has neither a result nor an error for this input")
	// ErrNotAttempted is the reason of inputs that were never sent.
	ErrNotAttempted = errors.New("hubspot: not attempted")
)

// outcomeUnknown wraps err in ErrOutcomeUnknown, unless it already is.
func outcomeUnknown(err error) error {
	if errors.Is(err, ErrOutcomeUnknown) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
}

// BatchSpec describes one HubSpot batch operation to RunBatch. The generated
// Schema fills it in; the engine is independent of the generated types.
type BatchSpec[In, Out any] struct {
	// Operation is HubSpot's operation name, e.g. "BatchUpdateConfigurations".
	Operation string
	// Idempotent is true for update and purge, false for create.
	Idempotent bool
	// Validate returns the problems of one input, nil when it is fine.
	// Optional; the engine adds duplicate-key detection.
	Validate func(in In) []string
	// InputKey renders the key fields of an input (e.g. category+typeId) as a
	// string. Required.
	InputKey func(in In) string
	// AppendInputKey and AppendResultKey, when set, append what InputKey and
	// ResultKey return to dst; the engine then builds keys without an
	// allocation per input. Optional.
	AppendInputKey  func(dst []byte, in In) []byte
	AppendResultKey func(dst []byte, out Out) []byte
	// KeyFields returns the key fields of an input by JSON name, e.g.
	// {"category": "USER_DEFINED", "typeId": "5"}. Optional; it lets the
	// engine match errors whose context names the fields (see RunBatch).
	KeyFields func(in In) map[string]string
	// ResultKey renders the key of a result so it can be matched with
	// InputKey; nil when the operation has no per-input results (purge).
	ResultKey func(out Out) string
	// Send makes one HTTP call for chunk. The engine reads and closes the
	// body. Required.
	Send func(ctx context.Context, chunk []In) (*http.Response, error)
	// ReadBack lists what exists. Used for non-idempotent operations after an
	// ambiguous failure. Optional (without it such failures are reported with
	// ErrOutcomeUnknown). Build it on Pages, which asks again for a page
	// whose answer was cut off; the engine calls it once per resolution.
	ReadBack func(ctx context.Context) ([]Out, error)
	// Matches reports whether out, read back from HubSpot, holds what in
	// asked for (beyond the key). A read-back resolves an ambiguous create
	// as succeeded only when Matches says so; nil means it never does (such
	// inputs fail with ErrOutcomeUnknown).
	Matches func(in In, out Out) bool
}

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

// Result is the outcome of RunBatch: every input appears exactly once in
// Succeeded, Failed or NotAttempted, each sorted by Index.
type Result[In, Out any] struct {
	Succeeded    []Succeeded[In, Out]
	Failed       []Failed[In]
	NotAttempted []NotAttempted[In]
	// Requests counts the HTTP attempts of the run (chunks and read-backs),
	// Retries the Transport's retries among them, RateLimited the 429
	// answers, all as reported by the Transport (zero when BatchSpec.Send
	// does not go through one). Resends counts the chunks the engine sent
	// again (after a read-back, an unreadable answer or WithResendUnknown).
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

// RunBatch sends inputs to HubSpot in chunks and accounts for every input.
//
// Before any request, every input is validated (spec.Validate and duplicate
// InputKey); problems yield a *ValidationError and no request is sent.
// Inputs are then sent in chunks (WithChunkSize) with a bounded number of
// requests in flight (WithConcurrency), the context marked with WithIdempotent
// and observed (WithObserver) for the counters. Responses:
//
//   - 200/201/207: the body {"results": [...], "errors": [...]} is decoded;
//     results are matched to inputs by ResultKey == InputKey. An error is
//     matched to the inputs whose every KeyFields entry appears in the error
//     context (by name, the value among its values; names compare
//     case-insensitively; the error's own context and its detail errors'
//     contexts are merged); failing that, to the inputs whose InputKey (or
//     all of whose KeyFields values) appears among the context values.
//     A result wins over an error for the same input. Inputs left with
//     neither are Failed with ErrNoResult (wrapping the unmatched errors)
//     and ErrOutcomeUnknown (a non-idempotent operation reads them back
//     first), except that for operations without results (ResultKey nil)
//     they succeed when every error was matched.
//   - 204: the whole chunk succeeded.
//   - 400 saying the batch is too large ("too many", "exceed", "maximum",
//     "at most", "batch size"): a chunk of more than one input is split in
//     half and both halves are sent.
//   - 401, 403 and a DAILY 429 are fatal: the chunk fails and the run stops;
//     inputs not yet sent are NotAttempted.
//   - An unreadable 2xx body of an idempotent operation resends the chunk
//     (at most WithMaxAttempts sends; a body over MaxResponseBodyBytes is not
//     resent).
//   - With WithResendUnknown, a chunk that failed without HubSpot rejecting
//     its inputs (a 5xx or a transport error once the Transport's retries
//     are spent, a 429 that is not DAILY, an input left without result) is
//     sent again, at most WithMaxAttempts sends in all; for a
//     non-idempotent operation after the read-back described next.
//   - For a non-idempotent operation an ambiguous failure (a transport error
//     after the request may have been sent, 500/502/503/504, an unreadable
//     body, an input left without result) is resolved with spec.ReadBack:
//     an input whose key now exists succeeds only when spec.Matches says the
//     read-back value is what it asked for and the baseline read-back (made
//     before the first request, unless WithoutBaseline) did not hold the
//     key. A key the baseline held fails: this run did not create it.
//     Without a usable baseline, or when the value differs, the input fails
//     with ErrOutcomeUnknown. Missing inputs are resent, at most
//     WithMaxAttempts sends in all.
//   - A refused redirect (*RedirectError) is fatal, like 401.
//   - Anything else fails the chunk with the *APIError.
//
// Every failed input whose request may have reached HubSpot with no
// read-back since (an attempt that ended in a 5xx or a transport error after
// sending, an unreadable 2xx) has an error satisfying
// errors.Is(err, ErrOutcomeUnknown) that wraps the last error; so does an
// input sent before whose resend the context ended.
//
// On context cancellation RunBatch returns promptly; inputs not sent are
// NotAttempted. The Result is returned in every case; the error is nil only
// when every input succeeded, else a *ValidationError or a *BatchError.
func RunBatch[In, Out any](ctx context.Context, cfg Config, spec BatchSpec[In, Out], inputs []In) (*Result[In, Out], error) {
	e := &engine[In, Out]{cfg: cfg, spec: spec, inputs: inputs}
	return e.run(ctx)
}

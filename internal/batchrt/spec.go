// Package batchrt is the runtime the generated Schema calls and nothing
// else does: the batch engine (Run), list paging (Pages, Collect), single
// calls (Call, Exec), and the Runtime they send through. Users never import
// it; what they write and read (options, errors, Result) is package
// hubspot's.
//
// A Runtime sends every request of a call through a Doer made for that
// call. Over a client whose http.Client has a hubspot.Transport the Doer
// hands the request to the Transport's send (see wire.Link) with a
// wire.Exchange: the attempts the call may still make, and, back, what
// happened on the wire (attempts, retries, 429s, waits, whether the request
// may have been applied). Over any other client each request counts once.
// Nothing travels in a context.
package batchrt

import (
	"context"
	"net/http"

	"github.com/crmkit/hubspot-associations/hubspot"
)

// Engine defaults.
const (
	// defaultConcurrency is the number of chunks in flight at first; unless
	// WithConcurrency fixes it, the engine then sizes it from the rate
	// limiter's allowed rate and the observed round trip (at most
	// maxAutoConcurrency).
	defaultConcurrency = 8
	// maxAutoConcurrency bounds the concurrency the engine picks by itself.
	maxAutoConcurrency = 64
)

// BatchSpec describes one HubSpot batch operation to Run. The generated
// Schema fills it in; the engine is independent of the generated types.
type BatchSpec[In, Out any] struct {
	// Operation is HubSpot's operation name, e.g. "BatchUpdateConfigurations".
	Operation string
	// Idempotent is true for update and purge, false for create.
	Idempotent bool
	// Validate returns the problems of one input, nil when it is fine.
	// Optional; the engine adds duplicate-key detection.
	Validate func(in In) []string
	// AppendInputKey appends the key of an input (e.g. category+typeId) to
	// dst. Required.
	AppendInputKey func(dst []byte, in In) []byte
	// AppendResultKey appends the key of a result, rendered as
	// AppendInputKey renders an input's, to dst; nil when the operation has
	// no per-input results (purge).
	AppendResultKey func(dst []byte, out Out) []byte
	// KeyFields returns the key fields of an input by JSON name, e.g.
	// {"category": "USER_DEFINED", "typeId": "5"}. Optional; it lets the
	// engine match errors whose context names the fields (see Run).
	KeyFields func(in In) map[string]string
	// Send makes one HTTP call for chunk with d. The engine reads and
	// closes the body. Required.
	Send func(ctx context.Context, d Doer, chunk []In) (*http.Response, error)
	// ReadBack lists what exists, with r (whose requests the engine
	// counts). Used for non-idempotent operations after an ambiguous
	// failure. Optional (without it such failures are reported with
	// ErrOutcomeUnknown). Build it on Pages.
	ReadBack func(ctx context.Context, r *Runtime) ([]Out, error)
	// Matches reports whether out, read back from HubSpot, holds what in
	// asked for (beyond the key). A read-back resolves an ambiguous create
	// as succeeded only when Matches says so; nil means it never does (such
	// inputs fail with ErrOutcomeUnknown).
	Matches func(in In, out Out) bool
}

// resultKey renders the key of a result.
func (s *BatchSpec[In, Out]) resultKey(out Out) string {
	var buf [64]byte
	return string(s.AppendResultKey(buf[:0], out))
}

// Run sends inputs to HubSpot in chunks and accounts for every input.
//
// Before any request, every input is validated (spec.Validate and duplicate
// keys); problems yield a *hubspot.ValidationError and no request is sent.
// Inputs are then sent in chunks (WithChunkSize) with a bounded number of
// requests in flight (WithConcurrency). Responses:
//
//   - 200/201/207: the body {"results": [...], "errors": [...]} is decoded;
//     results are matched to inputs by key. An error is matched to the
//     inputs whose every KeyFields entry appears in the error context (by
//     name, the value among its values; names compare case-insensitively;
//     the error's own context and its detail errors' contexts are merged);
//     failing that, to the inputs whose key (or all of whose KeyFields
//     values) appears among the context values. A result wins over an error
//     for the same input. Inputs left with neither are Failed with
//     ErrNoResult (wrapping the unmatched errors) and ErrOutcomeUnknown (a
//     non-idempotent operation reads them back first), except that for
//     operations without results (AppendResultKey nil) they succeed when
//     every error was matched.
//   - 204: the whole chunk succeeded.
//   - 400 saying the batch is too large ("too many", "exceed", "maximum",
//     "at most", "batch size"): a chunk of more than one input is split in
//     half and both halves are sent.
//   - 401, 403 and a DAILY 429 are fatal: the chunk fails and the run stops;
//     inputs not yet sent are NotAttempted.
//   - An unreadable 2xx body of an idempotent operation resends the chunk (a
//     body over the cap is not resent).
//   - With WithResendUnknown, a chunk that failed without HubSpot rejecting
//     its inputs (a 5xx or a transport error once the Transport's retries
//     are spent, a 429 that is not DAILY, an input left without result) is
//     sent again; for a non-idempotent operation after the read-back
//     described next.
//   - For a non-idempotent operation an ambiguous failure (a transport error
//     after the request may have been sent, 500/502/503/504, an unreadable
//     body, an input left without result) is resolved with spec.ReadBack:
//     an input whose key now exists succeeds only when spec.Matches says the
//     read-back value is what it asked for and the baseline read-back (made
//     before the first request, unless WithoutBaseline) did not hold the
//     key. A key the baseline held fails: this run did not create it.
//     Without a usable baseline, or when the value differs, the input fails
//     with ErrOutcomeUnknown. Missing inputs are sent again.
//   - A refused redirect (*RedirectError) is fatal, like 401.
//   - Anything else fails the chunk with the *APIError.
//
// Every send of an input, and every attempt the Transport makes of it,
// draws from one count: RetryPolicy.MaxAttempts requests per input in all.
// A resend also draws from the client's retry budget; when that is spent
// the input fails with an error wrapping hubspot.ErrRetryBudgetExhausted.
//
// Every failed input whose request may have reached HubSpot with no
// read-back since has an error satisfying errors.Is(err, ErrOutcomeUnknown)
// that wraps the last error; so does an input sent before whose resend the
// context ended.
//
// On context cancellation Run returns promptly; inputs not sent are
// NotAttempted. The Result is returned in every case; the error is nil only
// when every input succeeded, else a *ValidationError or a *BatchError.
func Run[In, Out any](ctx context.Context, r *Runtime, spec BatchSpec[In, Out], inputs []In) (*hubspot.Result[In, Out], error) {
	e := &engine[In, Out]{rt: r, cfg: r.cfg, spec: spec, inputs: inputs}
	return e.run(ctx)
}

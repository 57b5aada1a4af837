package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// DefaultBatchAttempts bounds how often an input of a non-idempotent
	// operation is sent after ambiguous failures (read back in between).
	DefaultBatchAttempts = 3
	// MaxBatchBodyBytes is the largest batch response body the engine reads
	// (MaxResponseBodyBytes); a larger one fails its inputs with a
	// *ResponseTooLargeError wrapped in ErrOutcomeUnknown.
	MaxBatchBodyBytes = MaxResponseBodyBytes
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

// BatchSpec describes one HubSpot batch operation to RunBatch. The generated
// Batcher fills it in; the engine is independent of the generated types.
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
	// ErrOutcomeUnknown).
	ReadBack func(ctx context.Context) ([]Out, error)
	// Matches reports whether out, read back from HubSpot, holds what in
	// asked for (beyond the key). A read-back resolves an ambiguous create
	// as succeeded only when Matches says so; nil means it never does (such
	// inputs fail with ErrOutcomeUnknown).
	Matches func(in In, out Out) bool
}

// Config tunes RunBatch. The zero value uses the defaults.
type Config struct {
	// ChunkSize is the number of inputs per request (DefaultChunkSize).
	ChunkSize int
	// Concurrency is the number of requests in flight; zero adapts it to the
	// rate limit and round trip (see DefaultConcurrency).
	Concurrency int
	// Progress, when set, is called after every chunk, never concurrently.
	Progress func(Progress)
	// Logger, when set, receives chunk failures, splits and read-backs.
	Logger *slog.Logger
	// MaxAttempts bounds the sends of one input of a non-idempotent
	// operation across read-backs (DefaultBatchAttempts). The transport's
	// own retries are separate.
	MaxAttempts int
	// NoBaseline skips the baseline read-back that a non-idempotent run with
	// a ReadBack makes before its first request. Without a baseline (skipped,
	// or unreadable after MaxAttempts tries) a read-back cannot tell an input
	// this run created from one that existed before, so an ambiguous failure
	// whose key is found fails with ErrOutcomeUnknown, never succeeds.
	NoBaseline bool
}

// Progress is a snapshot of a running batch.
type Progress struct {
	Done, Total          int
	Succeeded, Failed    int
	NotAttempted         int
	Requests             int
	Retries, RateLimited int
	Waited               time.Duration
	Operation            string
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
	// Requests counts HTTP attempts (reported by the Transport), Retries the
	// transport's retries plus the engine's resends after read-backs, and
	// RateLimited the 429 responses.
	Requests, Retries, RateLimited int
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
// Inputs are then sent in chunks of cfg.ChunkSize with at most
// cfg.Concurrency requests in flight, the context marked with WithIdempotent
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
//     (at most cfg.MaxAttempts sends; a body over MaxBatchBodyBytes is not
//     resent).
//   - For a non-idempotent operation an ambiguous failure (a transport error
//     after the request may have been sent, 500/502/503/504, an unreadable
//     body, an input left without result) is resolved with spec.ReadBack
//     (tried up to cfg.MaxAttempts times): an input whose key now exists
//     succeeds only when spec.Matches says the read-back value is what it
//     asked for and the baseline read-back (made before the first request,
//     tried up to cfg.MaxAttempts times, unless cfg.NoBaseline) did not hold
//     the key. A key the baseline held fails: this run did not create it.
//     Without a usable baseline, or when the value differs, the input fails
//     with ErrOutcomeUnknown. Missing inputs are resent, at most
//     cfg.MaxAttempts sends in all.
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
	e := &engine[In, Out]{cfg: cfg, spec: spec, inputs: inputs, stop: make(chan struct{})}
	return e.run(ctx)
}

type outcomeKind uint8

const (
	pending outcomeKind = iota
	succeeded
	failed
	notAttempted
)

type outcome[Out any] struct {
	kind outcomeKind
	out  Out
	err  error
}

type engine[In, Out any] struct {
	cfg    Config
	spec   BatchSpec[In, Out]
	inputs []In
	keys   []string

	mu                       sync.Mutex
	state                    []outcome[Out]
	nSucc, nFail, nNot       int
	fatal                    error
	firstFailure             error
	stopOnce                 sync.Once
	stop                     chan struct{}
	progressMu               sync.Mutex
	requests, sends, retries atomic.Int64
	rateLimited, waitedNanos atomic.Int64
	engineResends            atomic.Int64
	baseline                 map[string]bool // keys that existed before the run; nil when unknown
	// maybeApplied marks inputs whose last send may have reached HubSpot
	// with no read-back since; their failures wrap ErrOutcomeUnknown.
	maybeApplied []atomic.Bool
}

func (e *engine[In, Out]) run(ctx context.Context) (*Result[In, Out], error) {
	n := len(e.inputs)
	e.state = make([]outcome[Out], n)
	e.maybeApplied = make([]atomic.Bool, n)
	if n == 0 {
		return &Result[In, Out]{}, nil
	}
	if err := e.checkSpec(); err != nil {
		return e.finish(err)
	}
	if verr := e.validate(); verr != nil {
		for i := range e.state {
			e.state[i] = outcome[Out]{kind: notAttempted, err: verr}
		}
		e.nNot = n
		res, _ := e.finish(nil)
		return res, verr
	}
	if e.cfg.ChunkSize <= 0 {
		e.cfg.ChunkSize = DefaultChunkSize
	}
	if e.cfg.MaxAttempts <= 0 {
		e.cfg.MaxAttempts = DefaultBatchAttempts
	}

	ctx = WithObserver(ctx, Observer{
		OnAttempt: func(ev AttemptEvent) {
			e.requests.Add(1)
			if ev.StatusCode == http.StatusTooManyRequests {
				e.rateLimited.Add(1)
			}
		},
		OnRetry: func(ev RetryEvent) {
			e.retries.Add(1)
			e.waitedNanos.Add(int64(ev.Wait))
		},
		OnWait: func(ev WaitEvent) { e.waitedNanos.Add(int64(ev.Wait)) },
	})
	ctx = WithIdempotent(ctx, e.spec.Idempotent)
	ctx, gate := newGate(ctx, e.cfg.Concurrency)
	if !e.spec.Idempotent && e.spec.ReadBack != nil && e.spec.ResultKey != nil && !e.cfg.NoBaseline && ctx.Err() == nil {
		if existing, err := e.readBack(ctx); err != nil {
			e.log(ctx, slog.LevelWarn, "hubspot: baseline read-back failed; ambiguous failures will be reported as unknown",
				slog.String("error", err.Error()))
		} else {
			e.baseline = make(map[string]bool, len(existing))
			for _, o := range existing {
				e.baseline[e.spec.ResultKey(o)] = true
			}
		}
	}

	var chunks [][]int
	for start := 0; start < n; start += e.cfg.ChunkSize {
		end := min(start+e.cfg.ChunkSize, n)
		idxs := make([]int, 0, end-start)
		for i := start; i < end; i++ {
			idxs = append(idxs, i)
		}
		chunks = append(chunks, idxs)
	}
	var wg sync.WaitGroup
	for _, c := range chunks {
		if e.stopped(ctx) || !gate.acquire(ctx, e.stop) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer gate.release()
			e.process(ctx, c, 1)
			e.report()
		}()
	}
	wg.Wait()

	var reason error
	switch {
	case e.fatal != nil:
		reason = fmt.Errorf("%w: the run stopped: %w", ErrNotAttempted, e.fatal)
	case ctx.Err() != nil:
		reason = fmt.Errorf("%w: %w", ErrNotAttempted, ctx.Err())
	default:
		reason = ErrNotAttempted
	}
	e.mu.Lock()
	for i := range e.state {
		if e.state[i].kind == pending {
			if e.maybeApplied[i].Load() {
				// Sent before, and its outcome was never settled.
				e.state[i] = outcome[Out]{kind: failed, err: fmt.Errorf("%w: %w", ErrOutcomeUnknown, reason)}
				e.nFail++
				continue
			}
			e.state[i] = outcome[Out]{kind: notAttempted, err: reason}
			e.nNot++
		}
	}
	e.mu.Unlock()
	e.report()
	var cause error
	switch {
	case e.fatal != nil:
		cause = e.fatal
	case ctx.Err() != nil && e.nSucc != n:
		cause = ctx.Err()
	default:
		cause = e.firstFailure
	}
	return e.finish(cause)
}

func (e *engine[In, Out]) checkSpec() error {
	switch {
	case e.spec.Send == nil:
		return fmt.Errorf("hubspot: %s: BatchSpec.Send is nil", e.spec.Operation)
	case e.spec.InputKey == nil:
		return fmt.Errorf("hubspot: %s: BatchSpec.InputKey is nil", e.spec.Operation)
	}
	return nil
}

func (e *engine[In, Out]) validate() *ValidationError {
	e.keys = e.inputKeys()
	seen := make(map[string]int, len(e.inputs))
	var probs []InputProblem
	for i, in := range e.inputs {
		var p []string
		if e.spec.Validate != nil {
			p = append(p, e.spec.Validate(in)...)
		}
		k := e.keys[i]
		if first, ok := seen[k]; ok {
			p = append(p, fmt.Sprintf("duplicate key %q (same as #%d)", k, first))
		} else {
			seen[k] = i
		}
		if len(p) > 0 {
			probs = append(probs, InputProblem{Index: i, Key: k, Problems: p})
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &ValidationError{Operation: e.spec.Operation, Problems: probs}
}

func (e *engine[In, Out]) finish(cause error) (*Result[In, Out], error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	res := &Result[In, Out]{
		Requests:    int(max(e.requests.Load(), e.sends.Load())),
		Retries:     int(e.retries.Load() + e.engineResends.Load()),
		RateLimited: int(e.rateLimited.Load()),
		Waited:      time.Duration(e.waitedNanos.Load()),
	}
	res.Succeeded = make([]Succeeded[In, Out], 0, e.nSucc)
	for i, st := range e.state {
		switch st.kind {
		case succeeded:
			res.Succeeded = append(res.Succeeded, Succeeded[In, Out]{Index: i, Input: e.inputs[i], Result: st.out})
		case failed:
			res.Failed = append(res.Failed, Failed[In]{Index: i, Input: e.inputs[i], Err: st.err})
		default:
			r := st.err
			if r == nil {
				r = cause
			}
			res.NotAttempted = append(res.NotAttempted, NotAttempted[In]{Index: i, Input: e.inputs[i], Reason: r})
		}
	}
	if len(res.Succeeded) == len(e.inputs) {
		return res, nil
	}
	if cause == nil {
		cause = ErrNotAttempted
	}
	return res, &BatchError{Operation: e.spec.Operation, Total: len(e.inputs),
		Succeeded: len(res.Succeeded), Failed: len(res.Failed), NotAttempted: len(res.NotAttempted), Err: cause}
}

func (e *engine[In, Out]) stopped(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	select {
	case <-e.stop:
		return true
	default:
		return false
	}
}

func (e *engine[In, Out]) setFatal(err error) {
	e.mu.Lock()
	if e.fatal == nil {
		e.fatal = err
	}
	e.mu.Unlock()
	e.stopOnce.Do(func() { close(e.stop) })
}

func (e *engine[In, Out]) succeed(idx int, out Out) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state[idx].kind != pending {
		return
	}
	e.state[idx] = outcome[Out]{kind: succeeded, out: out}
	e.nSucc++
}

// fail records the failure of input idx; when its request may have been
// applied, err is wrapped in ErrOutcomeUnknown.
func (e *engine[In, Out]) fail(idx int, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state[idx].kind != pending {
		return
	}
	if e.maybeApplied[idx].Load() && !errors.Is(err, ErrOutcomeUnknown) {
		err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	e.state[idx] = outcome[Out]{kind: failed, err: err}
	e.nFail++
	if e.firstFailure == nil {
		e.firstFailure = err
	}
}

func (e *engine[In, Out]) failAll(idxs []int, err error) {
	for _, i := range idxs {
		e.fail(i, err)
	}
}

// markMaybeApplied records that the inputs idxs may have been applied.
func (e *engine[In, Out]) markMaybeApplied(idxs []int) {
	for _, i := range idxs {
		e.maybeApplied[i].Store(true)
	}
}

// mayHaveApplied reports whether an attempt may have reached HubSpot and
// changed something: a 5xx, or a transport error after sending.
func mayHaveApplied(ev AttemptEvent) bool {
	if ev.StatusCode >= 500 {
		return true
	}
	return ev.StatusCode == 0 && ev.Err != nil && !notSent(ev.Err) && !errors.As(ev.Err, new(*RedirectError))
}

func (e *engine[In, Out]) report() {
	if e.cfg.Progress == nil {
		return
	}
	e.progressMu.Lock()
	defer e.progressMu.Unlock()
	e.mu.Lock()
	p := Progress{
		Operation: e.spec.Operation,
		Total:     len(e.inputs), Succeeded: e.nSucc, Failed: e.nFail, NotAttempted: e.nNot,
		Done:        e.nSucc + e.nFail + e.nNot,
		Requests:    int(max(e.requests.Load(), e.sends.Load())),
		Retries:     int(e.retries.Load() + e.engineResends.Load()),
		RateLimited: int(e.rateLimited.Load()),
		Waited:      time.Duration(e.waitedNanos.Load()),
	}
	e.mu.Unlock()
	e.cfg.Progress(p)
}

func (e *engine[In, Out]) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if e.cfg.Logger == nil {
		return
	}
	attrs = append([]slog.Attr{slog.String("operation", e.spec.Operation)}, attrs...)
	e.cfg.Logger.LogAttrs(ctx, level, msg, attrs...)
}

// process sends the inputs idxs as one chunk; sends counts how often these
// inputs have been sent (for non-idempotent resends).
func (e *engine[In, Out]) process(ctx context.Context, idxs []int, sends int) {
	if len(idxs) == 0 || e.stopped(ctx) {
		return
	}
	chunk := make([]In, len(idxs))
	for i, idx := range idxs {
		chunk[i] = e.inputs[idx]
	}
	e.sends.Add(1)
	var applied atomic.Bool
	sctx := WithObserver(ctx, Observer{OnAttempt: func(ev AttemptEvent) {
		if mayHaveApplied(ev) {
			applied.Store(true)
		}
	}})
	resp, err := e.spec.Send(sctx, chunk)
	if applied.Load() {
		e.markMaybeApplied(idxs)
	}
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		e.handleSendError(ctx, idxs, err, sends)
		return
	}
	if resp == nil {
		e.failAll(idxs, fmt.Errorf("hubspot: %s: Send returned neither a response nor an error", e.spec.Operation))
		return
	}
	defer func() {
		if resp.Body != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
	}()
	switch code := resp.StatusCode; {
	case code == http.StatusNoContent:
		var zero Out
		for _, i := range idxs {
			e.succeed(i, zero)
		}
	case code >= 200 && code < 300:
		e.handleBody(ctx, idxs, resp, sends)
	case code >= 400:
		apiErr := ParseError(resp)
		e.handleErrorStatus(ctx, idxs, code, apiErr, sends)
	default:
		e.failAll(idxs, &APIError{StatusCode: code, Status: resp.Status,
			Message: "unexpected status " + strconv.Itoa(code)})
	}
}

func (e *engine[In, Out]) handleSendError(ctx context.Context, idxs []int, err error, sends int) {
	var re *RequestError
	surelyNotSent := errors.As(err, &re) && !re.MaybeSent
	if isFatal(err) {
		e.setFatal(err)
		e.failAll(idxs, err)
		return
	}
	switch {
	case surelyNotSent && ctx.Err() != nil:
		// Leave pending: reported as NotAttempted with the context error.
	case surelyNotSent:
		e.failAll(idxs, err)
	case e.spec.Idempotent:
		e.markMaybeApplied(idxs)
		e.failAll(idxs, err)
	default:
		e.readBackAndResend(ctx, idxs, err, sends)
	}
}

func isFatal(err error) bool {
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

func (e *engine[In, Out]) handleErrorStatus(ctx context.Context, idxs []int, code int, apiErr error, sends int) {
	if code >= 500 {
		e.markMaybeApplied(idxs)
	}
	switch {
	case isFatal(apiErr):
		e.log(ctx, slog.LevelError, "hubspot: batch stopped", slog.String("error", apiErr.Error()))
		e.setFatal(apiErr)
		e.failAll(idxs, apiErr)
	case code == http.StatusBadRequest && len(idxs) > 1 && tooLarge(apiErr):
		half := len(idxs) / 2
		e.log(ctx, slog.LevelInfo, "hubspot: batch too large, splitting",
			slog.Int("size", len(idxs)), slog.Int("half", half))
		e.process(ctx, idxs[:half], sends)
		e.process(ctx, idxs[half:], sends)
	case !e.spec.Idempotent && (code == http.StatusInternalServerError ||
		code == http.StatusBadGateway || code == http.StatusServiceUnavailable ||
		code == http.StatusGatewayTimeout):
		e.readBackAndResend(ctx, idxs, apiErr, sends)
	default:
		e.log(ctx, slog.LevelWarn, "hubspot: batch chunk failed",
			slog.Int("size", len(idxs)), slog.String("error", apiErr.Error()))
		e.failAll(idxs, apiErr)
	}
}

var tooLargePhrases = []string{"too many", "exceed", "maximum", "at most", "batch size"}

func tooLarge(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	texts := []string{ae.Message}
	for _, d := range ae.Errors {
		texts = append(texts, d.Message)
	}
	for _, t := range texts {
		t = strings.ToLower(t)
		for _, p := range tooLargePhrases {
			if strings.Contains(t, p) {
				return true
			}
		}
	}
	return false
}

// readBack lists what exists, trying again on failures the transport could
// not retry (a cut-off body), at most cfg.MaxAttempts times.
func (e *engine[In, Out]) readBack(ctx context.Context) ([]Out, error) {
	var existing []Out
	var err error
	for try := 0; try < max(e.cfg.MaxAttempts, 1); try++ {
		e.sends.Add(1)
		if existing, err = e.spec.ReadBack(WithIdempotent(ctx, true)); err == nil || ctx.Err() != nil || isFatal(err) {
			break
		}
	}
	return existing, err
}

// readBackAndResend resolves an ambiguous failure of a non-idempotent chunk:
// an input succeeds only when the read-back shows what it asked for
// (spec.Matches) and the baseline shows it did not exist before the run.
func (e *engine[In, Out]) readBackAndResend(ctx context.Context, idxs []int, cause error, sends int) {
	unknown := fmt.Errorf("%w: %w", ErrOutcomeUnknown, cause)
	if e.spec.ReadBack == nil || e.spec.ResultKey == nil || ctx.Err() != nil {
		e.failAll(idxs, unknown)
		return
	}
	e.log(ctx, slog.LevelInfo, "hubspot: ambiguous failure, reading back",
		slog.Int("size", len(idxs)), slog.String("error", cause.Error()))
	existing, err := e.readBack(ctx)
	if err != nil {
		e.failAll(idxs, fmt.Errorf("%w (read-back failed: %w)", unknown, err))
		return
	}
	found := make(map[string]Out, len(existing))
	for _, o := range existing {
		found[e.spec.ResultKey(o)] = o
	}
	var missing []int
	for _, i := range idxs {
		o, ok := found[e.keys[i]]
		if !ok {
			// Not there: this run's sends were not applied, a resend is safe.
			e.maybeApplied[i].Store(false)
			missing = append(missing, i)
			continue
		}
		switch {
		case e.baseline == nil:
			e.fail(i, fmt.Errorf("%w: %q exists, but without a baseline read it is unknown whether this run created it (%w)",
				ErrOutcomeUnknown, e.keys[i], cause))
		case e.baseline[e.keys[i]]:
			e.maybeApplied[i].Store(false)
			e.fail(i, fmt.Errorf("hubspot: %s: %q already existed before this run, so it was not created by it (%w)",
				e.spec.Operation, e.keys[i], cause))
		case e.spec.Matches == nil || !e.spec.Matches(e.inputs[i], o):
			e.fail(i, fmt.Errorf("%w: %q exists but does not hold what was asked for (%w)",
				ErrOutcomeUnknown, e.keys[i], cause))
		default:
			e.succeed(i, o)
		}
	}
	if len(missing) == 0 {
		return
	}
	if sends >= e.cfg.MaxAttempts {
		e.failAll(missing, fmt.Errorf("hubspot: %s: not applied after %d send(s) (confirmed by read-back): %w",
			e.spec.Operation, sends, cause))
		return
	}
	e.engineResends.Add(1)
	e.process(ctx, missing, sends+1)
}

type batchBody[Out any] struct {
	Status    string            `json:"status"`
	Results   []Out             `json:"results"`
	Errors    []json.RawMessage `json:"errors"`
	NumErrors int               `json:"numErrors"`
}

func (e *engine[In, Out]) handleBody(ctx context.Context, idxs []int, resp *http.Response, sends int) {
	var body batchBody[Out]
	limitBody(resp, http.MethodPost, e.spec.Operation, MaxBatchBodyBytes)
	dec := json.NewDecoder(resp.Body)
	if err := dec.Decode(&body); err != nil {
		if err == io.EOF && resp.StatusCode != http.StatusMultiStatus && e.spec.ResultKey == nil {
			var zero Out
			for _, i := range idxs {
				e.succeed(i, zero)
			}
			return
		}
		derr := fmt.Errorf("hubspot: %s: decoding %d response: %w", e.spec.Operation, resp.StatusCode, err)
		// HubSpot answered 2xx: the chunk was most likely applied.
		e.markMaybeApplied(idxs)
		if e.spec.Idempotent {
			// Safe to repeat: resend the chunk, within the attempt bound. A
			// body over the limit would be as large again.
			if sends >= e.cfg.MaxAttempts || ctx.Err() != nil || errors.As(err, new(*ResponseTooLargeError)) {
				e.failAll(idxs, fmt.Errorf("%w: %w", ErrOutcomeUnknown, derr))
				return
			}
			e.engineResends.Add(1)
			e.process(ctx, idxs, sends+1)
		} else {
			e.readBackAndResend(ctx, idxs, derr, sends)
		}
		return
	}

	pendingByKey := make(map[string]int, len(idxs))
	for _, i := range idxs {
		pendingByKey[e.keys[i]] = i
	}
	resolved := make(map[int]bool, len(idxs))
	if e.spec.ResultKey != nil {
		var buf []byte
		for _, r := range body.Results {
			var i int
			var ok bool
			if e.spec.AppendResultKey != nil {
				buf = e.spec.AppendResultKey(buf[:0], r)
				i, ok = pendingByKey[string(buf)]
			} else {
				i, ok = pendingByKey[e.spec.ResultKey(r)]
			}
			if ok && !resolved[i] {
				e.succeed(i, r)
				resolved[i] = true
			}
		}
	}
	var unmatched []error
	for _, raw := range body.Errors {
		apiErr := decodeStandardError(raw, resp.StatusCode)
		targets := e.matchError(apiErr, idxs, resolved)
		if len(targets) == 0 {
			unmatched = append(unmatched, apiErr)
			continue
		}
		for _, i := range targets {
			e.fail(i, apiErr)
			resolved[i] = true
		}
	}
	if len(unmatched) > 0 {
		e.log(ctx, slog.LevelWarn, "hubspot: batch errors matched no input",
			slog.Int("count", len(unmatched)), slog.String("first", unmatched[0].Error()))
	}
	var rest []int
	for _, i := range idxs {
		if !resolved[i] {
			rest = append(rest, i)
		}
	}
	if len(rest) == 0 {
		return
	}
	if e.spec.ResultKey == nil && len(unmatched) == 0 {
		var zero Out
		for _, i := range rest {
			e.succeed(i, zero)
		}
		return
	}
	var err error
	if len(unmatched) > 0 {
		err = fmt.Errorf("%w (status %d; unmatched errors: %w)", ErrNoResult, resp.StatusCode, errors.Join(unmatched...))
	} else {
		err = fmt.Errorf("%w (status %d)", ErrNoResult, resp.StatusCode)
	}
	// HubSpot processed the chunk but says nothing about these inputs.
	e.markMaybeApplied(rest)
	if !e.spec.Idempotent {
		e.readBackAndResend(ctx, rest, err, sends)
		return
	}
	e.failAll(rest, err)
}

func decodeStandardError(raw json.RawMessage, httpStatus int) *APIError {
	var b errorBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return &APIError{StatusCode: httpStatus, Message: oneLine(string(raw))}
	}
	code := httpStatus
	if n, err := strconv.Atoi(string(b.Status)); err == nil && n >= 100 && n < 600 {
		code = n
	}
	e := b.apiError(code, string(b.Status))
	if e.Message == "" {
		e.Message = "batch input error"
	}
	return e
}

// matchError returns the unresolved inputs of idxs that apiErr is about.
func (e *engine[In, Out]) matchError(apiErr *APIError, idxs []int, resolved map[int]bool) []int {
	ctxVals := map[string]map[string]bool{} // lower-cased name -> values
	allVals := map[string]bool{}
	add := func(c ErrorContext) {
		for k, vs := range c {
			lk := strings.ToLower(k)
			if ctxVals[lk] == nil {
				ctxVals[lk] = map[string]bool{}
			}
			for _, v := range vs {
				v = strings.TrimSpace(v)
				ctxVals[lk][v] = true
				allVals[v] = true
			}
		}
	}
	add(apiErr.Context)
	for _, d := range apiErr.Errors {
		add(d.Context)
	}
	if len(allVals) == 0 {
		return nil
	}
	var out []int
	if e.spec.KeyFields != nil {
		for _, i := range idxs {
			if resolved[i] {
				continue
			}
			fields := e.spec.KeyFields(e.inputs[i])
			if len(fields) == 0 {
				continue
			}
			ok := true
			for name, val := range fields {
				if !ctxVals[strings.ToLower(name)][val] {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, i)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, i := range idxs {
		if resolved[i] {
			continue
		}
		if allVals[e.keys[i]] {
			out = append(out, i)
			continue
		}
		if e.spec.KeyFields != nil {
			fields := e.spec.KeyFields(e.inputs[i])
			ok := len(fields) > 0
			for _, val := range fields {
				if !allVals[val] {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, i)
			}
		}
	}
	return out
}

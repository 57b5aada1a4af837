package batchrt

// The per-chunk state machine: send a chunk once, settle what the answer
// settles, and return what must be sent next (split halves, resends). It
// never calls itself: follow-ups go back to the dispatcher.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// step sends t's inputs as one chunk and returns the follow-up tasks.
func (e *engine[In, Out]) step(ctx context.Context, t task) []task {
	if len(t.idxs) == 0 || e.stopped(ctx) {
		return nil
	}
	resp, ex, err := e.send(ctx, t)
	t.sent++
	t.used += ex.Attempts
	if err != nil {
		return e.onSendError(ctx, t, err)
	}
	if resp == nil {
		e.failAll(t.idxs, fmt.Errorf("hubspot: %s: Send returned neither a response nor an error", e.spec.Operation))
		return nil
	}
	defer func() { wire.DrainAndClose(resp.Body) }()
	switch code := resp.StatusCode; {
	case code == http.StatusNoContent:
		e.succeedAll(t.idxs)
		return nil
	case code >= 200 && code < 300:
		return e.onBody(ctx, t, resp)
	case code >= 400:
		perr := ex.Final // parsed by the Transport, with its clock
		if perr == nil {
			perr = hubspot.ParseError(resp)
		}
		return e.onErrorStatus(ctx, t, code, perr)
	default:
		e.failAll(t.idxs, &hubspot.APIError{StatusCode: code, Status: resp.Status,
			Message: "unexpected status " + strconv.Itoa(code)})
		return nil
	}
}

// send makes one Send call for the inputs of t, allowed the requests its
// inputs have left of RetryPolicy.MaxAttempts (a resend is itself a retry,
// paid from the client's retry budget), and marks them maybe applied when
// an attempt may have reached HubSpot and changed something (a 5xx, or a
// transport error after sending).
func (e *engine[In, Out]) send(ctx context.Context, t task) (*http.Response, *wire.Exchange, error) {
	chunk := make([]In, len(t.idxs))
	for i, idx := range t.idxs {
		chunk[i] = e.inputs[idx]
	}
	ex := &wire.Exchange{Limit: max(e.cfg.maxAttempts-t.used, 1), FirstRetry: t.used > 0, Idempotent: &e.spec.Idempotent}
	resp, err := e.rt.send(ctx, ex, func(d Doer) (*http.Response, error) { return e.spec.Send(ctx, d, chunk) })
	if ex.MaybeApplied {
		e.markMaybeApplied(t.idxs)
	}
	if err != nil && resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return resp, ex, err
}

// onSendError settles a chunk whose Send returned no response.
func (e *engine[In, Out]) onSendError(ctx context.Context, t task, err error) []task {
	var re *hubspot.RequestError
	surelyNotSent := errors.As(err, &re) && !re.MaybeSent
	switch {
	case errors.Is(err, hubspot.ErrRetryBudgetExhausted):
		// HubSpot keeps failing the client's requests: no more resends.
		e.failAll(t.idxs, err)
		return nil
	case hubspot.IsFatal(err) && surelyNotSent:
		e.setFatal(err)
		return nil // left pending: NotAttempted, with the fatal error as reason (a DAILY stop in the limiter)
	case hubspot.IsFatal(err):
		e.setFatal(err)
		e.failAll(t.idxs, err)
		return nil
	case surelyNotSent && ctx.Err() != nil:
		return nil // left pending: NotAttempted with the context error
	case surelyNotSent:
		return e.resendOrFail(ctx, t, t.idxs, err, e.cfg.resendUnknown)
	case e.spec.Idempotent:
		e.markMaybeApplied(t.idxs)
		return e.resendOrFail(ctx, t, t.idxs, err, e.cfg.resendUnknown)
	default:
		return e.readBackAndResend(ctx, t, t.idxs, err)
	}
}

// onErrorStatus settles a chunk HubSpot answered with an error status.
func (e *engine[In, Out]) onErrorStatus(ctx context.Context, t task, code int, apiErr error) []task {
	if code >= 500 {
		e.markMaybeApplied(t.idxs)
	}
	var rl *hubspot.RateLimitError
	switch {
	// 401, 403, a DAILY 429: nothing else will get through.
	case hubspot.IsFatal(apiErr):
		e.log(ctx, slog.LevelError, "hubspot: batch stopped", slog.String("error", apiErr.Error()))
		e.setFatal(apiErr)
		e.failAll(t.idxs, apiErr)
		return nil

	// HubSpot says the chunk is too large: send each half.
	case code == http.StatusBadRequest && len(t.idxs) > 1 && tooLarge(apiErr):
		half := len(t.idxs) / 2
		e.log(ctx, slog.LevelInfo, "hubspot: batch too large, splitting",
			slog.Int("size", len(t.idxs)), slog.Int("half", half))
		prior := t.used - 1 // the refused request does not count against the inputs
		return []task{{idxs: t.idxs[:half], sent: t.sent - 1, used: max(prior, 0)}, {idxs: t.idxs[half:], sent: t.sent - 1, used: max(prior, 0)}}

	// A create may have been applied before the server failed.
	case !e.spec.Idempotent && wire.RetryableStatus(code):
		return e.readBackAndResend(ctx, t, t.idxs, apiErr)

	// Rejected before anything happened (429), or an idempotent operation
	// the server failed: the same request again is safe.
	case errors.As(apiErr, &rl) || (e.spec.Idempotent && wire.RetryableStatus(code)):
		return e.resendOrFail(ctx, t, t.idxs, apiErr, e.cfg.resendUnknown)

	default:
		e.log(ctx, slog.LevelWarn, "hubspot: batch chunk failed",
			slog.Int("size", len(t.idxs)), slog.String("error", apiErr.Error()))
		e.failAll(t.idxs, apiErr)
		return nil
	}
}

// onBody settles a chunk answered 2xx with a body: results and errors are
// matched to inputs; what is left is resolved or resent.
func (e *engine[In, Out]) onBody(ctx context.Context, t task, resp *http.Response) []task {
	body, err := e.decodeBody(resp)
	if errors.Is(err, io.EOF) && resp.StatusCode != http.StatusMultiStatus && e.spec.AppendResultKey == nil {
		e.succeedAll(t.idxs) // an empty 200 for an operation without results
		return nil
	}
	if err != nil {
		// HubSpot answered 2xx: the chunk was most likely applied.
		e.markMaybeApplied(t.idxs)
		if !e.spec.Idempotent {
			return e.readBackAndResend(ctx, t, t.idxs, err)
		}
		// Safe to repeat; a body over the limit would be as large again.
		return e.resendOrFail(ctx, t, t.idxs, err, !errors.As(err, new(*hubspot.ResponseTooLargeError)))
	}
	rest, unmatched := e.match(ctx, t.idxs, body, resp.StatusCode)
	switch {
	case len(rest) == 0:
		return nil
	case e.spec.AppendResultKey == nil && len(unmatched) == 0:
		// Operations without results (purge) list only failures.
		e.succeedAll(rest)
		return nil
	}
	var cause error
	if len(unmatched) > 0 {
		cause = fmt.Errorf("%w (status %d; unmatched errors: %w)", hubspot.ErrNoResult, resp.StatusCode, errors.Join(unmatched...))
	} else {
		cause = fmt.Errorf("%w (status %d)", hubspot.ErrNoResult, resp.StatusCode)
	}
	// HubSpot processed the chunk but says nothing about these inputs.
	e.markMaybeApplied(rest)
	if !e.spec.Idempotent {
		return e.readBackAndResend(ctx, t, rest, cause)
	}
	return e.resendOrFail(ctx, t, rest, cause, e.cfg.resendUnknown)
}

// resendOrFail sends the inputs idxs of t again when resend allows it and
// their requests so far are fewer than RetryPolicy.MaxAttempts; otherwise they fail
// with cause (wrapped in hubspot.ErrOutcomeUnknown when they may have been
// applied). When the context has ended they are left pending (see settle).
func (e *engine[In, Out]) resendOrFail(ctx context.Context, t task, idxs []int, cause error, resend bool) []task {
	switch {
	case !resend || t.used >= e.cfg.maxAttempts:
		e.failAll(idxs, cause)
		return nil
	case ctx.Err() != nil:
		return nil // left pending: settled when the run ends
	}
	e.resends.Add(1)
	e.log(ctx, slog.LevelInfo, "hubspot: resending", slog.Int("size", len(idxs)),
		slog.Int("sent", t.sent), slog.String("error", cause.Error()))
	return []task{{idxs: idxs, sent: t.sent, used: t.used}}
}

// readBackAndResend resolves an ambiguous failure of a non-idempotent
// chunk: an input succeeds only when the read-back shows what it asked for
// (spec.Matches) and the baseline shows it did not exist before the run;
// inputs the read-back does not show were not applied and are sent again.
func (e *engine[In, Out]) readBackAndResend(ctx context.Context, t task, idxs []int, cause error) []task {
	unknown := decide(http.MethodPost, true, cause)
	if e.spec.ReadBack == nil || e.spec.AppendResultKey == nil || ctx.Err() != nil {
		e.failAll(idxs, unknown)
		return nil
	}
	e.log(ctx, slog.LevelInfo, "hubspot: ambiguous failure, reading back",
		slog.Int("size", len(idxs)), slog.String("error", cause.Error()))
	existing, err := e.readBack(ctx)
	if err != nil {
		e.failAll(idxs, fmt.Errorf("%w (read-back failed: %w)", unknown, err))
		return nil
	}
	found := make(map[string]Out, len(existing))
	for _, o := range existing {
		found[e.spec.resultKey(o)] = o
	}
	var missing []int
	for _, i := range idxs {
		o, ok := found[e.keys[i]]
		switch {
		case !ok:
			// Not there: this run's sends were not applied, a resend is safe.
			e.maybeApplied[i].Store(false)
			missing = append(missing, i)
		case e.baseline == nil:
			e.fail(i, fmt.Errorf("%w: %q exists, but without a baseline read it is unknown whether this run created it (%w)",
				hubspot.ErrOutcomeUnknown, e.keys[i], cause))
		case e.baseline[e.keys[i]]:
			e.maybeApplied[i].Store(false)
			e.fail(i, fmt.Errorf("hubspot: %s: %q already existed before this run, so it was not created by it (%w)",
				e.spec.Operation, e.keys[i], cause))
		case e.spec.Matches == nil || !e.spec.Matches(e.inputs[i], o):
			e.fail(i, fmt.Errorf("%w: %q exists but does not hold what was asked for (%w)",
				hubspot.ErrOutcomeUnknown, e.keys[i], cause))
		default:
			e.succeed(i, o)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return e.resendOrFail(ctx, t, missing, fmt.Errorf("hubspot: %s: not applied after %d send(s) (confirmed by read-back): %w",
		e.spec.Operation, t.sent, cause), true)
}

// readBack lists what exists. It is one call of spec.ReadBack, whose
// requests count in the run's Result.
func (e *engine[In, Out]) readBack(ctx context.Context) ([]Out, error) {
	return e.spec.ReadBack(ctx, e.rt)
}

// readBaseline records which keys exist before the first request of a
// create run.
func (e *engine[In, Out]) readBaseline(ctx context.Context) {
	existing, err := e.readBack(ctx)
	if err != nil {
		e.log(ctx, slog.LevelWarn, "hubspot: baseline read-back failed; ambiguous failures will be reported as unknown",
			slog.String("error", err.Error()))
		return
	}
	e.baseline = make(map[string]bool, len(existing))
	for _, o := range existing {
		e.baseline[e.spec.resultKey(o)] = true
	}
}

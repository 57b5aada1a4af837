// Package hubspot is the runtime behind the generated HubSpot CRM
// Associations Schema client, as far as users touch it: the options of a
// client and of its batch calls, the retry policy and budget, the rate
// limiter and its WindowStore, typed errors, and the Result of a batch call.
// The batch engine itself is internal to the module (the generated Schema
// calls it).
//
// The common case is one call of the generated package, with a token and
// any options of this package, the client's and the batch calls' alike:
//
//	schema, err := associations.New(os.Getenv("HUBSPOT_TOKEN"),
//		hubspot.WithRateLimit(hubspot.DefaultRateLimitHigh, hubspot.DefaultRateLimitInterval),
//		hubspot.WithLogger(slog.Default()),
//		hubspot.WithResendUnknown(),
//	)
//	if err != nil {
//		return err
//	}
//	raw := schema.Client() // the oapi-codegen client, for anything else
//
// NewHTTPClient builds the *http.Client alone, for a client you assemble
// yourself (then associations.NewSchema).
//
// Every attempt takes a send slot from a rolling-window limiter shared by
// all clients using the same token (see AdaptiveLimiter), carries
// "Authorization: Bearer …", and is retried with full-jitter exponential
// backoff (honouring Retry-After) when that is safe: 429s that are not DAILY
// always, 5xx and connection errors only for idempotent requests (see
// WithIdempotent), errors before sending always. RetryPolicy.MaxAttempts is
// one count per input, end to end: the Transport's retries, a batch call's
// resends and the requests for a page of a list all draw from it. Retries
// also draw from a retry budget shared by every request of the client; when
// HubSpot keeps failing, calls fail at once with ErrRetryBudgetExhausted
// instead of retrying. A RetryPolicy value changes the bounds, or the
// decision itself (CheckRetry):
//
//	hc, err := hubspot.NewHTTPClient(hubspot.WithToken(token),
//		hubspot.WithRetryPolicy(hubspot.RetryPolicy{MaxAttempts: 3, MaxDelay: 5 * time.Second}))
//
// The limiter is configured with the same options: clients given one
// limiter (WithLimiter) share one budget, and WithWindowStore keeps its
// window in a store that several processes share (package
// hubspot/redislimit):
//
//	lim, err := hubspot.NewAdaptiveLimiter(hubspot.WithRateLimit(110, 10*time.Second))
//
// HubSpot's refusals are typed errors (ParseError reads them from a raw
// answer); use errors.As:
//
//	var rl *hubspot.RateLimitError
//	if errors.As(err, &rl) && rl.Daily() {
//		return fmt.Errorf("daily quota used up (policy %s): %w", rl.Policy, err)
//	}
//	var apiErr *hubspot.APIError
//	if errors.As(err, &apiErr) {
//		log.Printf("status %d %s: %s (correlation id %s)",
//			apiErr.StatusCode, apiErr.Category, apiErr.Message, apiErr.CorrelationID)
//	}
//
// A batch call of the Schema accounts for every input exactly once in its
// Result:
//
//	res, err := schema.UpdateConfigurations(ctx, "contacts", "companies", inputs)
//	for _, f := range res.Failed {
//		log.Printf("input %d: %v", f.Index, f.Err)
//	}
//	if hubspot.IsFatal(err) {
//		// the run stopped (token rejected, daily limit); res.NotAttempted lists the rest
//	}
//
// An error wraps ErrOutcomeUnknown exactly when a request that may change
// something reached HubSpot and no answer says what became of it (see
// there), for single calls and batch inputs alike:
//
//	if errors.Is(err, hubspot.ErrOutcomeUnknown) {
//		// may or may not have been applied: look before trying again
//	}
//
// The runtime's own layers hand what they share to each other as values;
// the two context values of this package are for users: WithObserver (see
// every attempt) and WithIdempotent (say a request may be repeated).
//
// What the client accepts from a server is bounded:
//
//   - The token is only sent to the scheme, host and port a request started
//     with. A redirect elsewhere (another host or port, https to http) is
//     refused with a *RedirectError naming the status and the target; a
//     same-origin redirect is followed, at most 5 times, and a loop is an
//     error. The Transport enforces this itself, so it also holds in an
//     http.Client without NewHTTPClient's CheckRedirect.
//   - Every response body is capped at MaxResponseBodyBytes (8 MiB, above
//     the 4.9 MB of AllConfigurations at HubSpot's documented ceiling; see
//     WithMaxResponseBytes), whatever the status; reading past it is a
//     *ResponseTooLargeError, never a partial decode.
//   - Retry-After is read as seconds or an HTTP date; NaN, negative and
//     malformed values are ignored (backoff applies), huge ones (1e12, Inf)
//     saturate instead of wrapping, and a wait over RetryPolicy.MaxRetryAfter, or longer
//     than the time left before the context's deadline, is not started: the
//     last response is returned instead.
//   - Tokens never appear in error strings or log lines: the Transport
//     removes the token from the status line, the headers and the body of
//     every response, whatever the status, before anyone reads them.
package hubspot

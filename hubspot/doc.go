// Package hubspot is the hand-written runtime behind the generated HubSpot
// CRM Associations Schema client: an authenticated, rate-limited, retrying
// HTTP transport, typed errors, and a generic batch engine that the
// generated Schema calls.
//
// Build an *http.Client and hand it to the generated client:
//
//	hc, err := hubspot.NewHTTPClient(
//		hubspot.WithToken(os.Getenv("HUBSPOT_TOKEN")),
//		hubspot.WithRateLimit(hubspot.DefaultRateLimitHigh, hubspot.DefaultRateLimitInterval),
//		hubspot.WithLogger(slog.Default()),
//	)
//	if err != nil {
//		return err
//	}
//	client, err := associations.NewClientWithResponses(hubspot.DefaultBaseURL,
//		associations.WithHTTPClient(hc))
//
// Every attempt then takes a send slot from a rolling-window limiter
// shared by all clients using the same token (see AdaptiveLimiter), carries
// "Authorization: Bearer …", and is retried with full-jitter exponential
// backoff (honouring Retry-After) when that is safe: 429s that are not DAILY
// always, 5xx and connection errors only for idempotent requests (see
// WithIdempotent), errors before sending always. A RetryPolicy value changes
// the bounds, or the decision itself (CheckRetry):
//
//	hc, err := hubspot.NewHTTPClient(hubspot.WithToken(token),
//		hubspot.WithRetryPolicy(hubspot.RetryPolicy{MaxAttempts: 3, MaxDelay: 5 * time.Second}))
//
// Error responses become typed errors with ParseError; use errors.As:
//
//	if err := hubspot.ParseError(resp); err != nil {
//		var rl *hubspot.RateLimitError
//		if errors.As(err, &rl) && rl.Daily() {
//			return fmt.Errorf("daily quota used up (policy %s): %w", rl.Policy, err)
//		}
//		var apiErr *hubspot.APIError
//		if errors.As(err, &apiErr) {
//			log.Printf("status %d %s: %s (correlation id %s)",
//				apiErr.StatusCode, apiErr.Category, apiErr.Message, apiErr.CorrelationID)
//		}
//		return err
//	}
//
// RunBatch sends many inputs in chunks with bounded concurrency and
// accounts for every input exactly once:
//
//	cfg, err := hubspot.NewConfig(hubspot.WithConcurrency(4), hubspot.WithResendUnknown())
//	res, err := hubspot.RunBatch(ctx, cfg, spec, inputs)
//	for _, f := range res.Failed {
//		log.Printf("input %d: %v", f.Index, f.Err)
//	}
//	if hubspot.IsFatal(err) {
//		// the run stopped (token rejected, daily limit); res.NotAttempted lists the rest
//	}
//
// An input fails with ErrOutcomeUnknown (wrapping the last error) whenever
// its request may have reached HubSpot without the outcome being settled: a
// reset or timeout after sending, a 5xx, a cut-off answer. A create is
// reported Succeeded only when HubSpot confirmed it, or when a read-back
// shows the value asked for on a key the baseline read (made before the
// first request) did not hold:
//
//	for _, f := range res.Failed {
//		if errors.Is(f.Err, hubspot.ErrOutcomeUnknown) {
//			// may or may not have been applied (WithResendUnknown resends such inputs)
//		}
//	}
//
// What the client accepts from a server is bounded:
//
//   - The token is only sent to the scheme, host and port a request started
//     with. A redirect elsewhere (another host or port, https to http) is
//     refused with a *RedirectError naming the status and the target; a
//     same-origin redirect is followed, at most MaxRedirects times, and a
//     loop is an error. The Transport enforces this itself, so it also holds
//     in an http.Client without NewHTTPClient's CheckRedirect.
//   - Every response body is capped at MaxResponseBodyBytes (4 MiB; this
//     API's answers are tens of KB), whatever the status; reading past it is
//     a *ResponseTooLargeError, never a partial decode.
//   - Retry-After is read as seconds or an HTTP date; NaN, negative and
//     malformed values are ignored (backoff applies), huge ones (1e12, Inf)
//     saturate instead of wrapping, and a wait over RetryPolicy.MaxRetryAfter, or longer
//     than the time left before the context's deadline, is not started: the
//     last response is returned instead.
//   - Tokens never appear in error strings or log lines: the Transport
//     removes the token from the status line, the headers and the body of
//     every response, whatever the status, before anyone reads them.
package hubspot

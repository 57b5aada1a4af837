// Package hubspot is the hand-written runtime behind the generated HubSpot
// CRM Associations Schema client: an authenticated, rate-limited, retrying
// HTTP transport, typed errors, and a generic batch engine that the
// generated Batcher helpers call.
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
// Every request then takes a send slot from a rolling-window limiter
// shared by all clients using the same token (see AdaptiveLimiter), carries "Authorization: Bearer …", and is retried
// with full-jitter exponential backoff (honouring Retry-After) when that is
// safe: 429s that are not DAILY always, 5xx and connection errors only for
// idempotent requests (see WithIdempotent), errors before sending always.
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
//	res, err := hubspot.RunBatch(ctx, hubspot.Config{Concurrency: 4}, spec, inputs)
//	for _, f := range res.Failed {
//		log.Printf("input %d: %v", f.Index, f.Err)
//	}
//	var rl *hubspot.RateLimitError
//	if errors.As(err, &rl) {
//		// the run stopped on the daily limit; res.NotAttempted lists the rest
//	}
//
// Tokens never appear in error strings or log lines.
package hubspot

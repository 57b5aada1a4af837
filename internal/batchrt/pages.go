package batchrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// maxPages stops a server that keeps answering the same cursor.
const maxPages = 100000

// page is HubSpot's collection response: results plus, in paged APIs,
// paging.next.after.
type page[T any] struct {
	Results []T `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// Pages yields every result of a HubSpot collection operation. fetch makes
// one request for the page after the cursor ("" for the first) with d;
// Pages follows paging.next.after until there is none, so it works the same
// for versions that page and versions that answer everything at once. A
// non-2xx answer yields the *APIError (or *RateLimitError) and stops, as
// does a cancelled context. A page whose body was cut off or could not be
// decoded is asked for again, within the page's RetryPolicy.MaxAttempts
// requests (the Transport's retries of it included) and the client's retry
// budget; a body over the cap is not, nor one whose read timed out (the
// caller's time is spent: that is not a cut-off answer).
func Pages[T any](ctx context.Context, r *Runtime, fetch func(ctx context.Context, d Doer, after string) (*http.Response, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		after := ""
		seen := map[string]bool{}
		for n := 0; ; n++ {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			if n >= maxPages {
				yield(zero, fmt.Errorf("hubspot: more than %d pages; stopping", maxPages))
				return
			}
			var p *page[T]
			var err error
			used := 0
			for {
				var cutOff bool
				ex := &wire.Exchange{Limit: max(r.cfg.maxAttempts-used, 1), FirstRetry: used > 0}
				p, cutOff, err = fetchPage[T](ctx, r, ex, fetch, after)
				used += ex.Attempts
				if !cutOff || used >= r.cfg.maxAttempts || ctx.Err() != nil {
					break
				}
			}
			if err != nil {
				yield(zero, err)
				return
			}
			for _, r := range p.Results {
				if !yield(r, nil) {
					return
				}
			}
			if p.Paging == nil || p.Paging.Next == nil || p.Paging.Next.After == "" {
				return
			}
			after = p.Paging.Next.After
			if seen[after] {
				yield(zero, fmt.Errorf("hubspot: the server repeated the paging cursor %q", after))
				return
			}
			seen[after] = true
		}
	}
}

// fetchPage requests one page. cutOff reports an error in reading or
// decoding a 2xx answer that another request may not have: not a body over
// the cap, not a read that timed out or whose context ended.
func fetchPage[T any](ctx context.Context, r *Runtime, ex *wire.Exchange, fetch func(ctx context.Context, d Doer, after string) (*http.Response, error), after string) (p *page[T], cutOff bool, err error) {
	resp, err := r.send(ctx, ex, func(d Doer) (*http.Response, error) { return fetch(ctx, d, after) })
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, false, answerError(http.MethodGet, ex, resp)
	}
	body, err := r.readBody(resp)
	if err != nil {
		return nil, !errors.As(err, new(*hubspot.ResponseTooLargeError)) && !timedOut(ctx, err), err
	}
	p = new(page[T])
	if err := json.Unmarshal(body, p); err != nil {
		return nil, true, fmt.Errorf("hubspot: decoding %s: %w", describe(resp.Request), err)
	}
	return p, false, nil
}

// timedOut reports whether err is the end of the caller's time (a
// deadline, a cancelled context, an attempt timeout) rather than a broken
// answer.
func timedOut(ctx context.Context, err error) bool {
	var ne net.Error
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// Collect gathers a sequence into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

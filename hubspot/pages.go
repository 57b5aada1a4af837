package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
)

// maxPages stops a server that keeps answering the same cursor.
const maxPages = 100000

// pageTries bounds the requests for one page whose answer was cut off or
// unreadable (the Transport retries failed attempts itself, but cannot see
// a body that breaks while it is read).
const pageTries = 3

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
// one request for the page after the cursor ("" for the first); Pages
// follows paging.next.after until there is none, so it works the same for
// versions that page and versions that answer everything at once. A non-2xx
// answer yields the *APIError (or *RateLimitError) from ParseError and
// stops, as does a cancelled context. A page whose body was cut off or
// could not be decoded is requested again (three requests in all); a body
// over MaxResponseBodyBytes is not.
func Pages[T any](ctx context.Context, fetch func(ctx context.Context, after string) (*http.Response, error)) iter.Seq2[T, error] {
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
			for try := 1; ; try++ {
				var cutOff bool
				p, cutOff, err = fetchPage[T](ctx, fetch, after)
				if !cutOff || try == pageTries || ctx.Err() != nil {
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
// decoding a 2xx answer that another request may not have.
func fetchPage[T any](ctx context.Context, fetch func(ctx context.Context, after string) (*http.Response, error), after string) (p *page[T], cutOff bool, err error) {
	resp, err := fetch(WithIdempotent(ctx, true), after)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, false, ParseError(resp)
	}
	body, err := readBody(resp)
	if err != nil {
		return nil, !errors.As(err, new(*ResponseTooLargeError)), err
	}
	p = new(page[T])
	if err := json.Unmarshal(body, p); err != nil {
		return nil, true, fmt.Errorf("hubspot: decoding %s: %w", describe(resp.Request), err)
	}
	return p, false, nil
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

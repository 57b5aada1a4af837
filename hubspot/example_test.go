package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// startFake starts the fake API for the examples (a real program talks to
// hubspot.DefaultBaseURL).
func startFake(opts ...hubspottest.Option) *hubspottest.Server {
	srv, err := hubspottest.New(opts...)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	return srv
}

// A RetryPolicy value sets how often and how long requests are retried;
// an Observer sees every attempt.
func ExampleRetryPolicy() {
	srv := startFake(hubspottest.WithToken("pat-na1-retry"))
	defer srv.Close()
	// The next two requests fail with 503.
	_ = srv.Script(hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503}, hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503})

	hc, err := hubspot.NewHTTPClient(hubspot.WithToken("pat-na1-retry"),
		hubspot.WithRetryPolicy(hubspot.RetryPolicy{MaxAttempts: 3, BaseDelay: 10 * time.Millisecond, MaxDelay: time.Second}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := hubspot.WithObserver(context.Background(), hubspot.Observer{
		OnAttempt: func(e hubspot.AttemptEvent) { fmt.Println("attempt", e.Attempt, "status", e.StatusCode) },
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/crm/associations/2026-03/contacts/companies/labels", nil)
	resp, err := hc.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("final status", resp.StatusCode)
	// Output:
	// attempt 1 status 503
	// attempt 2 status 503
	// attempt 3 status 200
	// final status 200
}

// HubSpot's refusals are typed errors: *APIError, and *RateLimitError for
// a 429 (which also unwraps to its *APIError). The generated Schema returns
// them; over the raw client ParseError reads them from an answer.
func ExampleParseError() {
	srv := startFake(hubspottest.WithToken("pat-na1-errors"), hubspottest.WithDailyLimit(1))
	defer srv.Close()
	list := func(token string) error {
		hc, err := hubspot.NewHTTPClient(hubspot.WithToken(token), hubspot.WithLimiter(nil))
		if err != nil {
			return err
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/crm/associations/2026-03/contacts/companies/labels", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return hubspot.ParseError(resp)
	}

	err := list("pat-na1-unknown")
	var apiErr *hubspot.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Category, hubspot.IsFatal(err))
	}

	_ = list("pat-na1-errors") // the day's one request
	err = list("pat-na1-errors")
	var rl *hubspot.RateLimitError
	if errors.As(err, &rl) {
		fmt.Println(rl.StatusCode, rl.Policy, rl.Daily(), hubspot.IsFatal(err))
	}
	// Output:
	// 401 INVALID_AUTHENTICATION true
	// 429 DAILY true true
}

// Clients given one limiter share one budget: here two clients of an OAuth
// app (whose token sources give them no shared limiter of their own).
// HubSpot's X-HubSpot-RateLimit-* headers reshape it for both.
func ExampleNewAdaptiveLimiter() {
	srv := startFake(hubspottest.WithToken("oauth-access"), hubspottest.WithRateLimit(110, 10*time.Second))
	defer srv.Close()
	lim, err := hubspot.NewAdaptiveLimiter(hubspot.WithRateLimit(100, 10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	source := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "oauth-access", TokenType: "Bearer"})
	for range 2 {
		hc, err := hubspot.NewHTTPClient(hubspot.WithTokenSource(source), hubspot.WithLimiter(lim))
		if err != nil {
			log.Fatal(err)
		}
		max, per := lim.Limit()
		fmt.Println("limit before", max, "per", per)
		resp, err := hc.Get(srv.URL + "/crm/associations/2026-03/contacts/companies/labels")
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	max, per := lim.Limit()
	fmt.Println("limit after", max, "per", per)
	// Output:
	// limit before 100 per 10s
	// limit before 110 per 10s
	// limit after 110 per 10s
}

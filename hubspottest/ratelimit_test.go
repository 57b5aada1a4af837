package hubspottest_test

import (
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

func TestServer_rateLimit_rolling(t *testing.T) {
	t.Parallel()
	clock := hubspottest.NewManualClock(t0)
	srv := newTestServer(t, hubspottest.WithClock(clock.Now), hubspottest.WithRateLimit(3, 10*time.Second), hubspottest.WithDailyLimit(0))
	path := base + "/contacts/companies/labels"

	for i, wantRemaining := range []string{"2", "1", "0"} {
		r := call(t, srv, "GET", path, nil)
		wantStatus(t, r, 200)
		if got := r.Header.Get("X-HubSpot-RateLimit-Remaining"); got != wantRemaining {
			t.Errorf("request %d: Remaining = %s, want %s", i, got, wantRemaining)
		}
		if r.Header.Get("X-HubSpot-RateLimit-Max") != "3" || r.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "10000" {
			t.Errorf("request %d: headers %v", i, r.Header)
		}
		if r.Header.Get("X-HubSpot-RateLimit-Daily") != "" {
			t.Errorf("daily header sent with the daily limit off")
		}
		clock.Advance(2 * time.Second)
	}
	// Window holds requests at t0, t0+2s, t0+4s; now t0+6s.
	r := call(t, srv, "GET", path, nil)
	wantStatus(t, r, 429)
	want := map[string]any{
		"status":     "error",
		"message":    "You have reached your ten_secondly_rolling limit.",
		"errorType":  "RATE_LIMIT",
		"policyName": "TEN_SECONDLY_ROLLING",
	}
	for k, v := range want {
		if r.JSON[k] != v {
			t.Errorf("429 %s = %v, want %v", k, r.JSON[k], v)
		}
	}
	if len(r.JSON) != 5 || !uuidRe.MatchString(r.JSON["correlationId"].(string)) {
		t.Errorf("429 body has unexpected shape: %s", r.Raw)
	}
	if got := r.Header.Get("Retry-After"); got != "4" {
		t.Errorf("Retry-After = %q, want 4 (oldest request leaves the window at t0+10s)", got)
	}
	if r.Header.Get("X-HubSpot-RateLimit-Remaining") != "0" {
		t.Errorf("Remaining on 429 = %s", r.Header.Get("X-HubSpot-RateLimit-Remaining"))
	}

	// Rejected requests do not use the window; the oldest leaves at t0+10s.
	clock.Advance(4 * time.Second)
	r = call(t, srv, "GET", path, nil)
	wantStatus(t, r, 200)
	if got := r.Header.Get("X-HubSpot-RateLimit-Remaining"); got != "0" {
		t.Errorf("Remaining after the window slid = %s, want 0", got)
	}
	if st := srv.Stats(); st.RateLimited != 1 {
		t.Errorf("RateLimited = %d, want 1", st.RateLimited)
	}

	// Every token has its own bucket, and unauthenticated requests use none.
	srv2 := newTestServer(t, hubspottest.WithClock(clock.Now), hubspottest.WithRateLimit(1, time.Second), hubspottest.WithToken("pat-other"))
	wantStatus(t, call(t, srv2, "GET", path, nil), 200)
	wantStatus(t, callAs(t, srv2, "nope", "GET", path, nil), 401)
	wantStatus(t, callAs(t, srv2, "pat-other", "GET", path, nil), 200)
	wantStatus(t, call(t, srv2, "GET", path, nil), 429)
}

func TestServer_rateLimit_retryAfterOff(t *testing.T) {
	t.Parallel()
	clock := hubspottest.NewManualClock(t0)
	srv := newTestServer(t, hubspottest.WithClock(clock.Now), hubspottest.WithRateLimit(1, time.Second), hubspottest.WithRetryAfter(false))
	call(t, srv, "GET", base+"/contacts/companies/labels", nil)
	r := call(t, srv, "GET", base+"/contacts/companies/labels", nil)
	wantStatus(t, r, 429)
	if _, ok := r.Header["Retry-After"]; ok {
		t.Errorf("Retry-After sent although disabled")
	}
}

func TestServer_rateLimit_daily(t *testing.T) {
	t.Parallel()
	clock := hubspottest.NewManualClock(time.Date(2026, 3, 10, 23, 59, 0, 0, time.UTC))
	srv := newTestServer(t, hubspottest.WithClock(clock.Now), hubspottest.WithDailyLimit(2))
	path := base + "/contacts/companies/labels"
	for _, left := range []string{"1", "0"} {
		r := call(t, srv, "GET", path, nil)
		wantStatus(t, r, 200)
		if r.Header.Get("X-HubSpot-RateLimit-Daily") != "2" || r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining") != left {
			t.Errorf("daily headers = %s/%s, want 2/%s", r.Header.Get("X-HubSpot-RateLimit-Daily"), r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining"), left)
		}
	}
	r := call(t, srv, "GET", path, nil)
	wantStatus(t, r, 429)
	if r.JSON["policyName"] != "DAILY" || r.JSON["message"] != "You have reached your daily limit." || r.JSON["errorType"] != "RATE_LIMIT" {
		t.Errorf("daily 429 = %s", r.Raw)
	}
	if got := r.Header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After = %s, want 60 (until UTC midnight)", got)
	}
	clock.Advance(time.Minute)
	r = call(t, srv, "GET", path, nil)
	wantStatus(t, r, 200)
	if r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining") != "1" {
		t.Errorf("daily budget not reset at midnight: %v", r.Header)
	}
}

func TestServer_rateLimit_exemptions(t *testing.T) {
	t.Parallel()
	clock := hubspottest.NewManualClock(t0)
	srv := newTestServer(t, hubspottest.WithClock(clock.Now), hubspottest.WithRateLimit(1, time.Second), hubspottest.WithRateLimitExemptions(true))
	// The document marks every operation exempt from "ten-secondly".
	for i := 0; i < 3; i++ {
		r := call(t, srv, "GET", base+"/contacts/companies/labels", nil)
		wantStatus(t, r, 200)
		if want := []string{"249999", "249998", "249997"}[i]; r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining") != want {
			t.Errorf("request %d: Daily-Remaining = %s, want %s", i, r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining"), want)
		}
	}
}

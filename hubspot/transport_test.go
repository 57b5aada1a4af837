package hubspot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmkit/hubspot-associations/internal/rttest"
)

// step is one scripted server response.
type step struct {
	status  int
	header  map[string]string
	body    string
	reset   bool // read the request, then reset the connection
	dateIn  time.Duration
	setDate bool // Retry-After as an HTTP date rttest.ClockStart+dateIn
}

const rateLimitBody = `{"status":"error","message":"You have reached your %s limit.","errorType":"RATE_LIMIT","correlationId":"c0ffee-%d","policyName":"%s"}`

func rl(policy string, header map[string]string) step {
	return step{status: 429, header: header, body: fmt.Sprintf(rateLimitBody, strings.ToLower(policy), 1, policy)}
}

type recorded struct {
	method, body, auth, ua, ctype string
}

// stepServer serves steps in order (the last one repeats) and records every
// request.
type stepServer struct {
	t     *testing.T
	mu    sync.Mutex
	steps []step
	reqs  []recorded
}

func (s *stepServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, recorded{r.Method, string(body), r.Header.Get("Authorization"),
		r.Header.Get("User-Agent"), r.Header.Get("Content-Type")})
	st := s.steps[min(n, len(s.steps)-1)]
	s.mu.Unlock()
	if st.reset {
		rttest.ResetConn(s.t, w)
		return
	}
	for k, v := range st.header {
		w.Header().Set(k, v)
	}
	if st.setDate {
		w.Header().Set("Retry-After", rttest.ClockStart.Add(st.dateIn).Format(http.TimeFormat))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(st.status)
	io.WriteString(w, st.body)
}

func (s *stepServer) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

const configPath = "/crm/associations/2026-03/definitions/configurations/0-1/0-2/batch/update"

func TestTransport_RoundTrip_retrySteps(t *testing.T) {
	t.Parallel()
	ok := step{status: 200, body: `{"status":"COMPLETE","results":[]}`}
	fail := func(code int) step {
		return step{status: code, body: `{"status":"error","message":"boom","correlationId":"x","category":"INTERNAL"}`}
	}
	tests := []struct {
		name       string
		method     string
		idempotent *bool
		steps      []step
		wantStatus int // final status; 0 means an error is expected
		wantSleeps []time.Duration
		check      func(t *testing.T, resp *http.Response, err error)
	}{
		{name: "429 Retry-After seconds", method: "POST",
			steps:      []step{rl(policyTenSecondlyRolling, map[string]string{"Retry-After": "3"}), ok},
			wantStatus: 200, wantSleeps: []time.Duration{3 * time.Second}},
		{name: "429 Retry-After HTTP date", method: "POST",
			steps:      []step{{status: 429, setDate: true, dateIn: 7 * time.Second, body: fmt.Sprintf(rateLimitBody, "ten_secondly_rolling", 1, policyTenSecondlyRolling)}, ok},
			wantStatus: 200, wantSleeps: []time.Duration{7 * time.Second}},
		{name: "429 SECONDLY backs off exponentially", method: "POST",
			steps:      []step{rl(policySecondly, nil), rl(policySecondly, nil), ok},
			wantStatus: 200, wantSleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}},
		{name: "429 without policy is retried", method: "PUT",
			steps:      []step{{status: 429, body: `{"message":"slow down"}`}, ok},
			wantStatus: 200, wantSleeps: []time.Duration{250 * time.Millisecond}},
		{name: "429 DAILY is not retried", method: "PUT",
			steps:      []step{rl(PolicyDaily, map[string]string{"Retry-After": "3600"}), ok},
			wantStatus: 429, wantSleeps: nil,
			check: func(t *testing.T, resp *http.Response, _ error) {
				err := ParseError(resp)
				var rle *RateLimitError
				if !errors.As(err, &rle) || !rle.Daily() || rle.Wait != time.Hour {
					t.Fatalf("ParseError = %#v, want daily *RateLimitError with 1h wait", err)
				}
				var ae *APIError
				if !errors.As(err, &ae) || ae.CorrelationID != "c0ffee-1" || ae.Category != "RATE_LIMIT" {
					t.Fatalf("APIError = %#v", ae)
				}
			}},
		{name: "500 then ok", method: "PUT", steps: []step{fail(500), ok}, wantStatus: 200,
			wantSleeps: []time.Duration{250 * time.Millisecond}},
		{name: "502 then ok", method: "GET", steps: []step{fail(502), ok}, wantStatus: 200,
			wantSleeps: []time.Duration{250 * time.Millisecond}},
		{name: "503 then ok", method: "DELETE", steps: []step{fail(503), ok}, wantStatus: 200,
			wantSleeps: []time.Duration{250 * time.Millisecond}},
		{name: "504 then ok", method: "POST", idempotent: ptr(true), steps: []step{fail(504), ok}, wantStatus: 200,
			wantSleeps: []time.Duration{250 * time.Millisecond}},
		{name: "503 with Retry-After", method: "PUT",
			steps: []step{{status: 503, header: map[string]string{"Retry-After": "2"}}, ok}, wantStatus: 200,
			wantSleeps: []time.Duration{2 * time.Second}},
		{name: "reset then ok", method: "PUT", steps: []step{{reset: true}, ok}, wantStatus: 200,
			wantSleeps: []time.Duration{250 * time.Millisecond}},
		{name: "503 until give up returns last response", method: "PUT", steps: []step{fail(503)},
			wantStatus: 503,
			wantSleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second},
			check: func(t *testing.T, resp *http.Response, _ error) {
				var ae *APIError
				if err := ParseError(resp); !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Message != "boom" {
					t.Fatalf("ParseError = %v", err)
				}
			}},
		{name: "reset until give up wraps the cause", method: "PUT", steps: []step{{reset: true}},
			wantSleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second},
			check: func(t *testing.T, _ *http.Response, err error) {
				var re *RequestError
				if !errors.As(err, &re) || re.Attempts != 5 || !re.MaybeSent {
					t.Fatalf("err = %v, want *RequestError after 5 attempts", err)
				}
			}},
		{name: "POST 500 is not retried", method: "POST", steps: []step{fail(500), ok}, wantStatus: 500},
		{name: "POST marked non-idempotent PUT 502 is not retried", method: "PUT", idempotent: ptr(false),
			steps: []step{fail(502), ok}, wantStatus: 502},
		{name: "POST reset after send is not retried", method: "POST", steps: []step{{reset: true}, ok},
			check: func(t *testing.T, _ *http.Response, err error) {
				var re *RequestError
				if !errors.As(err, &re) || re.Attempts != 1 || !re.MaybeSent {
					t.Fatalf("err = %v, want *RequestError, 1 attempt, maybe sent", err)
				}
			}},
		{name: "POST 429 is retried", method: "POST",
			steps:      []step{rl(policyTenSecondlyRolling, map[string]string{"Retry-After": "1"}), rl(policyTenSecondlyRolling, map[string]string{"Retry-After": "1"}), ok},
			wantStatus: 200, wantSleeps: []time.Duration{time.Second, time.Second}},
		{name: "400 is not retried", method: "PUT", steps: []step{fail(400), ok}, wantStatus: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, base := rttest.Setup(t)
			srv := &stepServer{t: t, steps: tc.steps}
			mux.Handle(configPath, srv)
			clock := rttest.NewClock()
			hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithClock(clock),
				rttest.WithRand(rttest.MaxRand{}), WithBaseTransport(rttest.Transport(t)), WithUserAgent("ua-test/1"))
			if err != nil {
				t.Fatal(err)
			}
			payload := `{"inputs":[{"category":"USER_DEFINED","typeId":5,"maxToObjectIds":2}]}`
			ctx := context.Background()
			if tc.idempotent != nil {
				ctx = WithIdempotent(ctx, *tc.idempotent)
			}
			// A reader without GetBody: the transport must buffer it once.
			req, _ := http.NewRequestWithContext(ctx, tc.method, base+configPath, io.NopCloser(strings.NewReader(payload)))
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if resp != nil {
				defer resp.Body.Close()
			}
			switch {
			case tc.wantStatus == 0 && err == nil:
				t.Fatalf("want error, got status %d", resp.StatusCode)
			case tc.wantStatus != 0 && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantStatus != 0 && resp.StatusCode != tc.wantStatus:
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if err != nil && strings.Contains(err.Error(), rttest.Token) {
				t.Fatalf("token leaked into error: %s", rttest.Masked(err.Error()))
			}
			reqs := srv.requests()
			if want := len(tc.wantSleeps) + 1; len(reqs) != want {
				t.Fatalf("server saw %d requests, want %d", len(reqs), want)
			}
			for i, r := range reqs {
				if r.body != payload {
					t.Errorf("attempt %d body = %q, want byte-identical %q", i+1, r.body, payload)
				}
				if r.auth != "Bearer "+rttest.Token || r.ua != "ua-test/1" || r.ctype != "application/json" || r.method != tc.method {
					t.Errorf("attempt %d headers = %+v", i+1, r)
				}
			}
			if got := clock.Sleeps(); !slices.Equal(got, tc.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", got, tc.wantSleeps)
			}
			if tc.check != nil {
				tc.check(t, resp, err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestTransport_RoundTrip_connectionRefusedRetriesPOST(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: dial fails before anything is sent
	clock := rttest.NewClock()
	var retries []RetryEvent
	hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithClock(clock), rttest.WithRand(rttest.MaxRand{}),
		WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithObserver(context.Background(), Observer{OnRetry: func(e RetryEvent) { retries = append(retries, e) }})
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+rttest.BasePath+"/x", strings.NewReader("{}"))
	_, err = hc.Do(req)
	var re *RequestError
	if !errors.As(err, &re) || re.MaybeSent || re.Attempts != DefaultMaxAttempts {
		t.Fatalf("err = %v, want *RequestError not sent after %d attempts", err, DefaultMaxAttempts)
	}
	if len(retries) != DefaultMaxAttempts-1 || retries[0].Err == nil {
		t.Fatalf("observer saw %d retries, want %d", len(retries), DefaultMaxAttempts-1)
	}
	if strings.Contains(err.Error(), rttest.Token) {
		t.Fatal("token in error")
	}
}

// TestTransport_RoundTrip_retryPolicy: a RetryPolicy bounds the attempts
// and delays, and its CheckRetry replaces the built-in decision (here: a
// POST 500 the built-in one would not retry, and nothing else).
func TestTransport_RoundTrip_retryPolicy(t *testing.T) {
	t.Parallel()
	fail := func(code int) step { return step{status: code, body: `{"message":"boom"}`} }
	ok := step{status: 200, body: `{}`}
	onlyPOST500 := func(a Attempt) (bool, string) {
		return a.Request.Method == "POST" && a.Response != nil && a.Response.StatusCode == 500, "test policy"
	}
	tests := []struct {
		name       string
		policy     RetryPolicy
		steps      []step
		wantStatus int
		wantSleeps []time.Duration
	}{
		{"bounded attempts and delays", RetryPolicy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: 1500 * time.Millisecond},
			[]step{rl(policySecondly, nil)}, 429, []time.Duration{time.Second, 1500 * time.Millisecond}},
		{"Retry-After over the cap ends the retries", RetryPolicy{MaxRetryAfter: 2 * time.Second},
			[]step{rl(policySecondly, map[string]string{"Retry-After": "3"}), ok}, 429, nil},
		{"CheckRetry retries what the built-in decision would not", RetryPolicy{CheckRetry: onlyPOST500},
			[]step{fail(500), ok}, 200, []time.Duration{defaultBaseDelay}},
		{"CheckRetry refuses what the built-in decision would retry", RetryPolicy{CheckRetry: onlyPOST500},
			[]step{rl(policySecondly, nil), ok}, 429, nil},
		{"MaxAttempts 1 disables retries", RetryPolicy{MaxAttempts: 1}, []step{rl(policySecondly, nil), ok}, 429, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, base := rttest.Setup(t)
			srv := &stepServer{t: t, steps: tc.steps}
			mux.Handle("/x", srv)
			clock := rttest.NewClock()
			hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithClock(clock), rttest.WithRand(rttest.MaxRand{}),
				WithBaseTransport(rttest.Transport(t)), WithRetryPolicy(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("POST", base+"/x", strings.NewReader(`{"a":1}`))
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || len(srv.requests()) != len(tc.wantSleeps)+1 {
				t.Fatalf("status %d after %d requests, want %d after %d", resp.StatusCode, len(srv.requests()), tc.wantStatus, len(tc.wantSleeps)+1)
			}
			if got := clock.Sleeps(); !slices.Equal(got, tc.wantSleeps) {
				t.Fatalf("sleeps = %v, want %v", got, tc.wantSleeps)
			}
			for _, r := range srv.requests() {
				if r.body != `{"a":1}` {
					t.Fatalf("body %q, want the same on every attempt", r.body)
				}
			}
		})
	}
}

func TestTransport_RoundTrip_contextCancelledDuringWait(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	srv := &stepServer{t: t, steps: []step{rl(policyTenSecondlyRolling, map[string]string{"Retry-After": "5"})}}
	mux.Handle("/x", srv)
	ctx, cancel := context.WithCancel(context.Background())
	// The real clock: the transport must stop waiting as soon as ctx is done.
	hc, _ := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), WithBaseTransport(rttest.Transport(t)))
	ctx = WithObserver(ctx, Observer{OnRetry: func(RetryEvent) { cancel() }})
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/x", nil)
	_, err := hc.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var rle *RateLimitError
	if !errors.As(err, &rle) {
		t.Fatalf("err = %v, want it to wrap the last *RateLimitError", err)
	}
}

func TestTransport_RoundTrip_tokenNeverLeaks(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	// A misbehaving server echoes the Authorization header in its errors.
	var n int
	var mu sync.Mutex
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		status := 400
		if first {
			status = 503
		}
		rttest.WriteJSON(w, status, map[string]any{"status": "error", "message": "bad header " + r.Header.Get("Authorization"),
			"category": "VALIDATION_ERROR", "correlationId": "abc", "context": map[string]any{"auth": []string{r.Header.Get("Authorization")}}})
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hc, err := NewHTTPClient(WithToken(rttest.Token), WithLogger(logger), rttest.WithClock(rttest.NewClock()),
		WithLimiter(testLimiter(1, time.Second, rttest.NewClock())), WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/echo", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	apiErr := ParseError(resp)
	resp.Body.Close()
	if apiErr == nil || !strings.Contains(apiErr.Error(), redactedText) {
		t.Fatalf("want a redacted error, got %v", apiErr)
	}
	if logs.Len() == 0 || !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("expected a retry log line, got %q", logs.String())
	}
	for what, s := range map[string]string{"error": apiErr.Error(), "verbose error": fmt.Sprintf("%+v", apiErr), "logs": logs.String()} {
		if strings.Contains(s, rttest.Token) || strings.Contains(s, "SECRET") {
			t.Errorf("token leaked into %s: %s", what, strings.ReplaceAll(rttest.Masked(s), "SECRET", "<SECRET>"))
		}
	}
	// Option errors never echo a token either.
	for _, opt := range []Option{WithToken(" "), WithToken(rttest.Token + "\n")} {
		if _, err := NewHTTPClient(opt); err == nil || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "WithToken") {
			t.Errorf("option error = %v", err)
		}
	}
}

func TestTransport_RoundTrip_tokenSourceAndLimiterWait(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	var auths []string
	var mu sync.Mutex
	mux.HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set(headerRateLimitMax, "10")
		w.Header().Set(headerRateLimitInterval, "1000")
		w.Header().Set(headerRateLimitRemain, "0")
		w.WriteHeader(200)
	})
	clock := rttest.NewClock()
	lim := testLimiter(100, 10*time.Second, clock)
	hc, err := NewHTTPClient(WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "oauth-tok"})),
		WithLimiter(lim), rttest.WithClock(clock), WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	ctx := WithObserver(context.Background(), Observer{OnWait: func(e WaitEvent) { waits = append(waits, e.Wait) }})
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/x", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if max, iv := lim.Limit(); max != 10 || iv != time.Second {
		t.Fatalf("limit = %d/%s, want 10/1s from the headers", max, iv)
	}
	// Remaining 0 from the first answer: the window is full until the first send leaves it.
	if !slices.Equal(waits, []time.Duration{time.Second + windowMargin(time.Second)}) {
		t.Fatalf("limiter waits = %v, want [1s]", waits)
	}
	if auths[0] != "Bearer oauth-tok" {
		t.Fatalf("auth = %q", auths[0])
	}
}

func TestNewHTTPClient_optionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"no credentials", nil, "WithToken or WithTokenSource"},
		{"empty token", []Option{WithToken("")}, "WithToken"},
		{"both", []Option{WithToken("a"), WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "b"}))}, "mutually exclusive"},
		{"nil source", []Option{WithTokenSource(nil)}, "WithTokenSource"},
		{"rate", []Option{WithToken("a"), WithRateLimit(0, time.Second)}, "WithRateLimit"},
		{"interval", []Option{WithToken("a"), WithRateLimit(10, 0)}, "WithRateLimit"},
		{"timeout", []Option{WithToken("a"), WithTimeout(-1)}, "WithTimeout"},
		{"ua", []Option{WithToken("a"), WithUserAgent("x\ny")}, "WithUserAgent"},
		{"retry policy", []Option{WithToken("a"), WithRetryPolicy(RetryPolicy{MaxAttempts: -1})}, "WithRetryPolicy"},
		{"logger", []Option{WithToken("a"), WithLogger(nil)}, "WithLogger"},
		{"batch option", []Option{WithToken("a"), WithChunkSize(10)}, "WithChunkSize"},
		{"base URL", []Option{WithToken("a"), WithBaseURL("ftp://x")}, "WithBaseURL"},
		{"body cap", []Option{WithToken("a"), WithMaxResponseBytes(10)}, "WithMaxResponseBytes"},
		{"base", []Option{WithToken("a"), WithBaseTransport(nil)}, "WithBaseTransport"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewHTTPClient(tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
	if _, err := NewHTTPClient(WithToken("ok-token"), WithTimeout(time.Second)); err != nil {
		t.Fatalf("valid options: %v", err)
	}
}

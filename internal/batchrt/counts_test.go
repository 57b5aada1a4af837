package batchrt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/rttest"
)

// The tests of this file assert how many requests reach a server that
// fails everything: one count per input (or page), end to end, whatever
// layer asks again, and a client-wide retry budget.

// failing is a server answering 503 to everything; n counts what it saw.
type failing struct {
	base string
	n    atomic.Int64
}

func newFailing(t *testing.T) *failing {
	f := &failing{}
	mux, base := rttest.Setup(t)
	f.base = base
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.n.Add(1)
		rttest.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "error", "message": "unavailable", "category": "INTERNAL_ERROR"})
	})
	return f
}

// do makes one request of method to path with r.
func do(r *Runtime, method, url string) func(Doer) (*http.Response, error) {
	return func(d Doer) (*http.Response, error) {
		var body *strings.Reader
		if method == http.MethodPost || method == http.MethodPut {
			body = strings.NewReader(`{}`)
		} else {
			body = strings.NewReader("")
		}
		req, err := http.NewRequest(method, url, body)
		if err != nil {
			return nil, err
		}
		return d.Do(req)
	}
}

func listSpec(base string) func(ctx context.Context, r *Runtime) ([]cfg, error) {
	return func(ctx context.Context, r *Runtime) ([]cfg, error) {
		return Collect(Pages[cfg](ctx, r, func(ctx context.Context, d Doer, after string) (*http.Response, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+cfgBase, nil)
			if err != nil {
				return nil, err
			}
			return d.Do(req)
		}))
	}
}

// TestRequests_totalFailure_oneCountEndToEnd: against a server that
// answers 503 to everything, with the default RetryPolicy (5 attempts per
// input), the requests each layer makes.
func TestRequests_totalFailure_oneCountEndToEnd(t *testing.T) {
	t.Parallel()
	const attempts = hubspot.DefaultMaxAttempts
	for _, tc := range []struct {
		name string
		want int
		run  func(t *testing.T, f *failing, r *Runtime) error
	}{
		// A PUT is idempotent: the Transport's 5 attempts, no more.
		{"single PUT", attempts, func(t *testing.T, f *failing, r *Runtime) error {
			return Exec(context.Background(), r, http.MethodPut, do(r, http.MethodPut, f.base+"/labels"))
		}},
		// A POST may have been applied by a 503: never repeated.
		{"single POST", 1, func(t *testing.T, f *failing, r *Runtime) error {
			_, err := Call[cfg](context.Background(), r, http.MethodPost, do(r, http.MethodPost, f.base+"/labels"))
			return err
		}},
		{"pages", attempts, func(t *testing.T, f *failing, r *Runtime) error {
			_, err := listSpec(f.base)(context.Background(), r)
			return err
		}},
		{"batch update", attempts, func(t *testing.T, f *failing, r *Runtime) error {
			_, err := Run(context.Background(), r, cfgSpec("BatchUpdateConfigurations", true, f.base), inputs(1, 1))
			return err
		}},
		{"batch update, WithResendUnknown", attempts, func(t *testing.T, f *failing, r *Runtime) error {
			r2, _ := ForClient(r.doer, hubspot.WithResendUnknown())
			_, err := Run(context.Background(), r2, cfgSpec("BatchUpdateConfigurations", true, f.base), inputs(1, 1))
			return err
		}},
		// Three chunks, each its own count.
		{"batch update of 250, WithResendUnknown", 3 * attempts, func(t *testing.T, f *failing, r *Runtime) error {
			r2, _ := ForClient(r.doer, hubspot.WithResendUnknown())
			_, err := Run(context.Background(), r2, cfgSpec("BatchUpdateConfigurations", true, f.base), inputs(250, 1))
			return err
		}},
		// A create: the baseline read (a page: 5), the POST (1: never
		// repeated after a 503), the read-back to settle it (5).
		{"batch create", attempts + 1 + attempts, func(t *testing.T, f *failing, r *Runtime) error {
			s := cfgSpec("BatchCreateConfigurations", false, f.base)
			s.ReadBack = listSpec(f.base)
			_, err := Run(context.Background(), r, s, inputs(1, 1))
			return err
		}},
		{"batch create, WithResendUnknown", attempts + 1 + attempts, func(t *testing.T, f *failing, r *Runtime) error {
			r2, _ := ForClient(r.doer, hubspot.WithResendUnknown())
			s := cfgSpec("BatchCreateConfigurations", false, f.base)
			s.ReadBack = listSpec(f.base)
			_, err := Run(context.Background(), r2, s, inputs(1, 1))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFailing(t)
			r, err := ForClient(testClient(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.run(t, f, r); err == nil {
				t.Fatal("no error from a server failing everything")
			}
			if got := f.n.Load(); got != int64(tc.want) {
				t.Fatalf("the server saw %d requests, want %d", got, tc.want)
			}
		})
	}
}

// TestRequests_batchCountsResult: a batch's Result counts what the server
// saw.
func TestRequests_batchCountsResult(t *testing.T) {
	t.Parallel()
	f := newFailing(t)
	s := cfgSpec("BatchCreateConfigurations", false, f.base)
	s.ReadBack = listSpec(f.base)
	res, err := runBatch(t, testClient(t), s, inputs(1, 1), hubspot.WithResendUnknown())
	if err == nil || !errors.Is(res.Failed[0].Err, hubspot.ErrOutcomeUnknown) {
		t.Fatalf("err %v, failed %v", err, res.Failed)
	}
	if got := f.n.Load(); int64(res.Requests) != got || res.Retries != 8 || res.Resends != 0 {
		t.Fatalf("Result: %d requests, %d retries, %d resends; the server saw %d", res.Requests, res.Retries, res.Resends, got)
	}
}

// TestRetryBudget_totalFailure: the client's budget bounds the retries of
// every call of the client; once spent, calls fail at their first retry
// with ErrRetryBudgetExhausted.
func TestRetryBudget_totalFailure(t *testing.T) {
	t.Parallel()
	f := newFailing(t)
	// 20 tokens: 4 retries of 5 tokens.
	hc := testClient(t, hubspot.WithRetryPolicy(hubspot.RetryPolicy{RetryBudget: 20}))
	r, err := ForClient(hc)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for range 3 {
		errs = append(errs, Exec(context.Background(), r, http.MethodPut, do(r, http.MethodPut, f.base+"/labels")))
	}
	// 5 (the first call: its 4 retries spend the budget), then 1 and 1.
	if got := f.n.Load(); got != 7 {
		t.Fatalf("the server saw %d requests, want 7", got)
	}
	if errors.Is(errs[0], hubspot.ErrRetryBudgetExhausted) {
		t.Fatalf("first call: %v; its retries were within the budget", errs[0])
	}
	for _, err := range errs[1:] {
		if !errors.Is(err, hubspot.ErrRetryBudgetExhausted) || !strings.Contains(err.Error(), "retry budget exhausted") {
			t.Fatalf("err = %v, want ErrRetryBudgetExhausted", err)
		}
		var ae *hubspot.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 503 {
			t.Fatalf("err = %v, want the last answer's *APIError wrapped", err)
		}
	}
}

// TestRetryBudget_batchTotalFailure: the README's batch (updates with
// WithResendUnknown) against a server failing everything: 100 chunks of
// 100 send 100 first requests and the 100 retries of the default budget
// (500 tokens of 5), not 100 x 5.
func TestRetryBudget_batchTotalFailure(t *testing.T) {
	t.Parallel()
	f := newFailing(t)
	res, err := runBatch(t, testClient(t), cfgSpec("BatchUpdateConfigurations", true, f.base), inputs(10000, 1),
		hubspot.WithResendUnknown(), hubspot.WithConcurrency(4))
	if err == nil || len(res.Failed) != 10000 {
		t.Fatalf("err %v, %d failed", err, len(res.Failed))
	}
	want := int64(100 + 500/5)
	if got := f.n.Load(); got != want || int64(res.Requests) != want {
		t.Fatalf("the server saw %d requests (Result %d), want %d", got, res.Requests, want)
	}
	if !errors.Is(res.Failed[len(res.Failed)-1].Err, hubspot.ErrRetryBudgetExhausted) {
		t.Fatalf("last failure %v, want ErrRetryBudgetExhausted", res.Failed[len(res.Failed)-1].Err)
	}
}

// TestRetryBudget_occasionalFaults: with one request in 20 failing, the
// budget never runs out (each success refunds a token).
func TestRetryBudget_occasionalFaults(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	var n atomic.Int64
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%20 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	r, err := ForClient(testClient(t, hubspot.WithRetryPolicy(hubspot.RetryPolicy{RetryBudget: 20})))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if err := Exec(context.Background(), r, http.MethodPut, do(r, http.MethodPut, base+"/x")); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

// TestPages_slowDripTimeout: a page whose body drips past the caller's
// time is not a cut-off page: one request, failing when the time is up.
func TestPages_slowDripTimeout(t *testing.T) {
	t.Parallel()
	for _, perAttempt := range []bool{false, true} {
		t.Run(fmt.Sprint("perAttempt=", perAttempt), func(t *testing.T) {
			t.Parallel()
			mux, base := rttest.Setup(t)
			var n atomic.Int64
			mux.HandleFunc(cfgBase, func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(200)
				w.Write([]byte(`{"results":[`))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			})
			const limit = 300 * time.Millisecond
			ctx := context.Background()
			var opts []hubspot.Option
			if perAttempt {
				opts = append(opts, hubspot.WithTimeout(limit))
			} else {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, limit)
				defer cancel()
			}
			hc, err := hubspot.NewHTTPClient(append([]hubspot.Option{hubspot.WithToken(rttest.Token), hubspot.WithLimiter(nil),
				hubspot.WithBaseTransport(rttest.Transport(t))}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ForClient(hc)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = listSpec(base)(ctx, r)
			if err == nil {
				t.Fatal("no error")
			}
			if got := n.Load(); got != 1 {
				t.Fatalf("%d requests, want 1 (a timed-out read is not a cut-off page)", got)
			}
			if d := time.Since(start); d > 3*limit {
				t.Fatalf("took %s with a %s limit", d, limit)
			}
		})
	}
}

// TestCall_rateLimitWaitOnClientClock: a 429's Retry-After date is read
// with the client's clock, not the machine's.
func TestCall_rateLimitWaitOnClientClock(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", rttest.ClockStart.Add(7*time.Second).Format(http.TimeFormat))
		rttest.WriteJSON(w, http.StatusTooManyRequests, map[string]string{"status": "error", "errorType": "RATE_LIMIT",
			"message": "daily limit", "policyName": "DAILY"})
	})
	r, err := ForClient(testClient(t)) // its clock reads rttest.ClockStart
	if err != nil {
		t.Fatal(err)
	}
	err = Exec(context.Background(), r, http.MethodPut, do(r, http.MethodPut, base+"/x"))
	var rl *hubspot.RateLimitError
	if !errors.As(err, &rl) || !rl.Daily() || rl.Wait != 7*time.Second {
		t.Fatalf("err = %v, want a DAILY *RateLimitError waiting 7s on the client's clock", err)
	}
}

package batchrt

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/rttest"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// barrier holds requests until n are in flight together, then lets them
// all go; a test that cannot reach n fails at its deadline instead of
// hanging.
type barrier struct {
	n        int
	mu       sync.Mutex
	inFlight int
	peak     int
	opened   bool
	open     chan struct{}
}

func (b *barrier) wait(ctx context.Context) bool {
	b.mu.Lock()
	b.inFlight++
	b.peak = max(b.peak, b.inFlight)
	if b.inFlight == b.n && !b.opened {
		b.opened = true
		close(b.open)
	}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inFlight--
		b.mu.Unlock()
	}()
	select {
	case <-b.open:
		return true
	case <-ctx.Done():
		return false
	}
}

// TestRun_concurrency_followsLimiter: with the default concurrency the
// engine keeps enough chunks in flight for the limiter's rate at its round
// trip (here 1000/s at 100 ms: the cap); WithConcurrency fixes it.
func TestRun_concurrency_followsLimiter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fixed int
		want  int // chunks that must be in flight together
	}{
		{"adaptive", 0, 2 * defaultConcurrency},
		{"fixed", 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			b := &barrier{n: tc.want, open: make(chan struct{})}
			mux, base := rttest.Setup(t)
			mux.HandleFunc(cfgBase+"/batch/update", func(w http.ResponseWriter, r *http.Request) {
				if !b.wait(r.Context()) {
					http.Error(w, "barrier not reached", http.StatusGatewayTimeout)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			lim := mustLimiter(t, hubspot.WithRateLimit(1000, time.Second))
			hc, err := hubspot.NewHTTPClient(hubspot.WithToken(rttest.Token), hubspot.WithLimiter(lim), hubspot.WithBaseTransport(rttest.Transport(t)))
			if err != nil {
				t.Fatal(err)
			}
			spec := cfgSpec("BatchUpdateConfigurations", true, base)
			spec.AppendResultKey = nil
			in := inputs(3*tc.want, 1)
			opts := []hubspot.Option{hubspot.WithChunkSize(1)}
			if tc.fixed > 0 {
				opts = append(opts, hubspot.WithConcurrency(tc.fixed))
			}
			r, err := ForClient(hc, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Linked() || r.link.Pace == nil {
				t.Fatal("the runtime does not reach the Transport's limiter")
			}
			p := r.link.Pace()
			// The limiter's pace, at a round trip of 100 ms.
			r.link.Pace = func() wire.Pace { p.RTT = 100 * time.Millisecond; return p }
			res, err := Run(ctx, r, spec, in)
			if err != nil {
				t.Fatalf("%v (succeeded %d of %d)", err, len(res.Succeeded), len(in))
			}
			if tc.fixed > 0 && b.peak > tc.fixed {
				t.Errorf("peak in flight %d, above WithConcurrency(%d)", b.peak, tc.fixed)
			}
		})
	}
}

// TestRun_dailyStopInLimiter_notAttempted: when the limiter already
// knows the daily limit is spent, nothing is sent and every input is
// NotAttempted (it surely did not reach HubSpot), not Failed.
func TestRun_dailyStopInLimiter_notAttempted(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	var hits int
	var mu sync.Mutex
	mux.HandleFunc(cfgBase+"/batch/update", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	store := hubspot.NewMemoryStore()
	if err := store.Hold(context.Background(), time.Now(), time.Hour, true); err != nil {
		t.Fatal(err)
	}
	lim := mustLimiter(t, hubspot.WithRateLimit(100, time.Second), hubspot.WithWindowStore(store))
	hc, err := hubspot.NewHTTPClient(hubspot.WithToken(rttest.Token), hubspot.WithLimiter(lim), hubspot.WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}
	spec := cfgSpec("BatchUpdateConfigurations", true, base)
	spec.AppendResultKey = nil
	in := inputs(10, 1)
	res, err := runBatch(t, hc, spec, in, hubspot.WithChunkSize(2), hubspot.WithConcurrency(3))
	var rl *hubspot.RateLimitError
	if !errors.As(err, &rl) || !rl.Daily() {
		t.Fatalf("err = %v, want a daily *RateLimitError", err)
	}
	if len(res.NotAttempted) != len(in) || len(res.Failed) != 0 || len(res.Succeeded) != 0 {
		t.Errorf("succeeded %d, failed %d, not attempted %d; want all %d not attempted",
			len(res.Succeeded), len(res.Failed), len(res.NotAttempted), len(in))
	}
	if hits != 0 {
		t.Errorf("server got %d requests, want 0", hits)
	}
}

func TestAutoConcurrency_sizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rate  float64
		rtt   time.Duration
		burst int
		want  int
	}{
		// The window's burst: a fresh window's Max go out together.
		{10, 0, 100, maxAutoConcurrency},
		{50, 0, 50, 50},
		{50, 80 * time.Millisecond, 50, 50},
		{190, 80 * time.Millisecond, 190, maxAutoConcurrency},
		{3, 10 * time.Millisecond, 3, defaultConcurrency},
		// The rate at the round trip, when it needs more than the burst.
		{100, 200 * time.Millisecond, 10, 32},
		{1000, time.Second, 10, maxAutoConcurrency},
	} {
		p := wire.Pace{Rate: tc.rate, RTT: tc.rtt, Burst: tc.burst}
		if got := autoConcurrency(p); got != tc.want {
			t.Errorf("autoConcurrency(%+v) = %d, want %d", p, got, tc.want)
		}
	}
}

// TestRun_concurrency_withoutLimiter: with no limiter
// (hubspot.WithLimiter(nil)) there is no window to respect, so the engine
// keeps more chunks in flight as the server takes them (one more per
// answer), up to maxAutoConcurrency, instead of staying at
// defaultConcurrency.
func TestRun_concurrency_withoutLimiter(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Each answer takes 20 ms: what is in flight together shows the
	// engine's concurrency.
	var mu sync.Mutex
	inFlight, peak := 0, 0
	mux, base := rttest.Setup(t)
	mux.HandleFunc(cfgBase+"/batch/update", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		defer func() {
			mu.Lock()
			inFlight--
			mu.Unlock()
		}()
		select {
		case <-time.After(20 * time.Millisecond):
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	})
	hc, err := hubspot.NewHTTPClient(hubspot.WithToken(rttest.Token), hubspot.WithLimiter(nil), hubspot.WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}
	spec := cfgSpec("BatchUpdateConfigurations", true, base)
	spec.AppendResultKey = nil
	in := inputs(400, 1)
	r, err := ForClient(hc, hubspot.WithChunkSize(1))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Linked() || r.link.Pace == nil {
		t.Fatal("the runtime does not reach the unpaced Transport's pace")
	}
	res, err := Run(ctx, r, spec, in)
	if err != nil {
		t.Fatalf("%v (succeeded %d of %d)", err, len(res.Succeeded), len(in))
	}
	mu.Lock()
	defer mu.Unlock()
	if peak <= defaultConcurrency || peak > maxAutoConcurrency {
		t.Errorf("peak in flight %d, want more than %d (grown) and at most %d", peak, defaultConcurrency, maxAutoConcurrency)
	}
}

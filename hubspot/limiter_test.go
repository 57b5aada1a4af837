package hubspot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/internal/rttest"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// testLimiter returns a limiter for max per iv (HubSpot's defaults when
// zero) on clock (the real one when nil): NewAdaptiveLimiter with the test
// seam of the clock.
func testLimiter(max int, iv time.Duration, clock wire.Clock) *AdaptiveLimiter {
	return newLimiter(&wire.Options{PerInterval: max, Interval: iv, Clock: clock})
}

// TestNewAdaptiveLimiter_options: the limiter takes the one Option type:
// WithRateLimit, WithWindowStore and WithLogger; a client's or batch
// call's option is refused by name, bad values by the option.
func TestNewAdaptiveLimiter_options(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	var buf bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&buf, nil))
	l, err := NewAdaptiveLimiter(WithRateLimit(7, 3*time.Second), WithWindowStore(store), WithLogger(lg))
	if err != nil {
		t.Fatal(err)
	}
	if max, iv := l.Limit(); max != 7 || iv != 3*time.Second {
		t.Fatalf("Limit() = %d per %s, want 7 per 3s", max, iv)
	}
	if l.store != store || l.logger != lg {
		t.Fatal("WithWindowStore or WithLogger not used")
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r, _ := store.Reserve(context.Background(), time.Now(), Shape{Max: 1, Interval: time.Hour}); r.Wait <= 0 {
		t.Fatal("the send was not recorded in the given store")
	}
	l.Observe(http.Header{"X-Hubspot-Ratelimit-Max": {"nope"}})
	if !strings.Contains(buf.String(), "out-of-range rate-limit header") {
		t.Fatalf("WithLogger's logger got %q, want the ignored header", buf.String())
	}
	if d, err := NewAdaptiveLimiter(); err != nil {
		t.Fatal(err)
	} else if max, iv := d.Limit(); max != DefaultRateLimit || iv != DefaultRateLimitInterval {
		t.Fatalf("default Limit() = %d per %s", max, iv)
	}
	for _, tc := range []struct {
		opts []Option
		want string
	}{
		{[]Option{WithToken(rttest.Token), WithChunkSize(5)}, "NewAdaptiveLimiter: WithChunkSize, WithToken configure(s) a client"},
		{[]Option{WithRateLimit(2_000_000, time.Second)}, "WithRateLimit: n must be between 1 and 1000000"},
		{[]Option{WithRateLimit(5, 48*time.Hour)}, "WithRateLimit: interval must be positive and at most 24h0m0s"},
		{[]Option{WithWindowStore(nil)}, "WithWindowStore: store is nil"},
	} {
		if _, err := NewAdaptiveLimiter(tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		} else if strings.Contains(err.Error(), rttest.Token) {
			t.Errorf("error %q shows the token", err)
		}
	}
}

// TestWithWindowStore_client: a client given WithWindowStore schedules on
// that store; with WithLimiter too it is refused.
func TestWithWindowStore_client(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	hc, err := NewHTTPClient(WithToken(rttest.Token), WithWindowStore(store), WithRateLimit(1, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tr := hc.Transport.(*Transport)
	if tr.limiter == nil || tr.limiter.store != store || tr.limiter == SharedLimiter(rttest.Token, 0, 0) {
		t.Fatal("the client's limiter is not its own on the given store")
	}
	if max, _ := tr.limiter.Limit(); max != 1 {
		t.Fatalf("limit %d, want WithRateLimit's 1", max)
	}
	lim, _ := NewAdaptiveLimiter()
	if _, err := NewHTTPClient(WithToken(rttest.Token), WithWindowStore(store), WithLimiter(lim)); err == nil || !strings.Contains(err.Error(), "mutually exclusive") {
		t.Fatalf("WithWindowStore with WithLimiter: error %v", err)
	}
}

func TestSharedLimiter_sameTokenSameLimiter(t *testing.T) {
	t.Parallel()
	a := SharedLimiter("token-shared-a", 100, 10*time.Second)
	if b := SharedLimiter("token-shared-a", 5, time.Second); a != b {
		t.Fatal("same token gave different limiters")
	}
	if c := SharedLimiter("token-shared-b", 100, 10*time.Second); a == c {
		t.Fatal("different tokens share a limiter")
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if got := sharedLimiters[sha256.Sum256([]byte("token-shared-a"))]; got == nil || got.weak.Value() != a {
		t.Fatal("registry does not key the limiter by the token's SHA-256")
	}
	// FIPS 180-2's test vector: SHA-256("abc").
	if k := wire.TokenKey("abc"); k != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("TokenKey(abc) = %q, want the hex SHA-256", k)
	}
}

// waitN takes n slots and returns the fake-clock time of each.
func waitN(t *testing.T, l *AdaptiveLimiter, clock *rttest.Clock, n int) []time.Time {
	t.Helper()
	var times []time.Time
	for range n {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		times = append(times, clock.Now())
	}
	return times
}

// TestAdaptiveLimiter_Wait_rollingWindow simulates a long run on the fake
// clock: a burst of Max at once, then one send each time the oldest leaves
// the window; no window of the interval ever holds more than Max, and a
// window of interval+margin always holds Max.
func TestAdaptiveLimiter_Wait_rollingWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		max int
		iv  time.Duration
	}{{DefaultRateLimit, DefaultRateLimitInterval}, {DefaultRateLimitHigh, DefaultRateLimitInterval}, {7, time.Second}, {50, time.Second}} {
		clock := rttest.NewClock()
		start := clock.Now()
		l := testLimiter(tc.max, tc.iv, clock)
		times := waitN(t, l, clock, 5*tc.max)
		for i := range tc.max {
			if !times[i].Equal(start) {
				t.Fatalf("max %d: send %d waited %s; the first Max go at once", tc.max, i, times[i].Sub(start))
			}
		}
		window := tc.iv + windowMargin(tc.iv)
		for i := tc.max; i < len(times); i++ {
			if got := times[i].Sub(times[i-tc.max]); got != window {
				t.Fatalf("max %d: send %d came %s after send %d, want exactly %s", tc.max, i, got, i-tc.max, window)
			}
		}
	}
}

// TestAdaptiveLimiter_Observe_otherClients: Remaining lower than this
// process's own count means other clients of the app spent the window: their
// sends are added to the log, and the limiter takes only its part of the
// window (Max times its own share of what HubSpot counted); its next send
// waits until its own first sends leave the window.
func TestAdaptiveLimiter_Observe_otherClients(t *testing.T) {
	t.Parallel()
	clock := rttest.NewClock()
	l := testLimiter(10, time.Second, clock)
	ctx := context.Background()
	var slots []slot
	for range 3 {
		s, _, err := l.acquire(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		slots = append(slots, s)
	}
	sentAt := clock.Now()
	clock.Sleep(ctx, 30*time.Millisecond) // the round trip
	// HubSpot counted 4, 5, then 6: its 3 and 3 by others. Its part of
	// the window is 10 x 3/6 = 5: 2 more go now.
	for i, rem := range []string{"6", "5", "4"} {
		l.observe(ctx, slots[i], rateResp(200, "10", "1000", rem), nil, nil)
	}
	var times []time.Time
	for range 3 {
		if _, _, err := l.acquire(ctx, nil); err != nil {
			t.Fatal(err)
		}
		times = append(times, clock.Now())
	}
	for i, tm := range times[:2] {
		if !tm.Equal(sentAt.Add(30 * time.Millisecond)) {
			t.Fatalf("send %d within its part waited until +%s", i, tm.Sub(sentAt))
		}
	}
	// The first sends were placed where HubSpot counted them less the
	// way there of the send reusing the slot (here where they left: every
	// round trip was the fastest); the sixth waits until they leave.
	if got, want := times[2].Sub(sentAt), time.Second+windowMargin(time.Second); got != want {
		t.Fatalf("send beyond its part at +%s, want +%s (when its first sends leave the window)", got, want)
	}
	ms := l.store.(*MemoryStore)
	ms.mu.Lock()
	logged := len(ms.log) - ms.firstAfter(sentAt.Add(-time.Millisecond))
	ms.mu.Unlock()
	if logged != 9 {
		t.Errorf("the log holds %d sends since the first, want 9: its 6 and the others' 3", logged)
	}
}

// TestAdaptiveLimiter_Observe_remainingZeroNoFullHold: Remaining 0 when the
// window is full of this process's own sends only waits for the oldest one,
// not a whole interval from now.
func TestAdaptiveLimiter_Observe_remainingZeroNoFullHold(t *testing.T) {
	t.Parallel()
	clock := rttest.NewClock()
	start := clock.Now()
	l := testLimiter(5, time.Second, clock)
	ctx := context.Background()
	for i := range 5 {
		s, _, err := l.acquire(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		clock.Sleep(ctx, 20*time.Millisecond) // the round trip
		l.observe(ctx, s, rateResp(200, "5", "1000", []string{"4", "3", "2", "1", "0"}[i]), nil, nil)
		clock.Sleep(ctx, 80*time.Millisecond)
	}
	times := waitN(t, l, clock, 2)
	// Each slot frees a window after HubSpot saw the send (half the round
	// trip after it left) less the next send's way there (half the fastest
	// round trip).
	first := time.Second + windowMargin(time.Second)
	if times[0].Sub(start) != first || times[1].Sub(start) != first+100*time.Millisecond {
		t.Fatalf("sends at +%s, +%s; want +%s, +%s", times[0].Sub(start), times[1].Sub(start), first, first+100*time.Millisecond)
	}
}

func rateResp(status int, max, interval, remaining string) *http.Response {
	h := http.Header{}
	h.Set(headerRateLimitMax, max)
	h.Set(headerRateLimitInterval, interval)
	h.Set(headerRateLimitRemain, remaining)
	return &http.Response{StatusCode: status, Header: h}
}

// TestAdaptiveLimiter_Observe_absurdHeaders sends overflowing and malformed
// X-HubSpot-RateLimit-* values over real HTTP: each is ignored with one log
// line, and with it the other rate-limit headers of the same answer (one
// answer is one observation), so the limit stays 10 per 1 s and 10 requests
// go at once; no wait is negative or absurd.
func TestAdaptiveLimiter_Observe_absurdHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct{ max, interval, remaining string }{
		{"10", "9223372036854775807", "0"},
		{"10", "1e12", "0"},
		{"10", "1000000000000", "0"},
		{"10", "-1000", "0"},
		{"10", "0", "0"},
		{"10", "NaN", "0"},
		{"9223372036854775807", "1000", "0"},
		{"-5", "1000", "0"},
		{"10", "1000", "-3"},
		{"10", "1000", "9223372036854775807"},
		{"10", "1000", "Inf"},
		// A refused Max voids the same answer's Remaining (not measured
		// against the previous Max) and its Interval.
		{"0", "2000", "0"},
		{"-5", "2000", "0"},
		{"1000000000", "2000", "0"},
		// A valid Max is not applied while the answer's Interval is refused.
		{"20", "0", "0"},
		{"3", "-1", "0"},
		// Remaining beyond the answer's own Max.
		{"5", "2000", "6"},
	}
	for _, tc := range cases {
		mux, base := rttest.Setup(t)
		mux.HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(headerRateLimitMax, tc.max)
			w.Header().Set(headerRateLimitInterval, tc.interval)
			w.Header().Set(headerRateLimitRemain, tc.remaining)
			w.WriteHeader(200)
		})
		clock := rttest.NewClock()
		lim := testLimiter(10, time.Second, clock)
		var logs bytes.Buffer
		hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(lim), rttest.WithClock(clock), WithBaseTransport(rttest.Transport(t)),
			WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			req, _ := http.NewRequest("GET", base+"/x", nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if n := len(clock.Sleeps()); i < 10 && n != 0 {
				t.Errorf("%v: request %d waited (%v): part of a refused answer was applied", tc, i+1, clock.Sleeps())
				break
			}
		}
		if m, iv := lim.Limit(); m != 10 || iv != time.Second {
			t.Errorf("%v: limit became %d per %s, want 10 per 1s (nothing of a refused answer applied)", tc, m, iv)
		}
		for _, d := range clock.Sleeps() {
			if d <= 0 || d > maxRateLimitInterval+time.Minute {
				t.Errorf("%v: slept %s", tc, d)
			}
		}
		if n := strings.Count(logs.String(), "ignoring out-of-range rate-limit header"); n != 1 {
			t.Errorf("%v: %d log lines about the bad header, want 1:\n%s", tc, n, logs.String())
		}
		if strings.Contains(logs.String(), "SECRET") {
			t.Errorf("token in logs: %s", rttest.Masked(logs.String()))
		}
	}
}

// TestAdaptiveLimiter_Pause_cappedAndContext: a hold is capped, and a wait
// ends with the caller's context.
func TestAdaptiveLimiter_Pause_cappedAndContext(t *testing.T) {
	t.Parallel()
	clock := rttest.NewClock()
	l := testLimiter(10, time.Second, clock)
	l.Pause(time.Duration(1<<63 - 1))
	l.Pause(-time.Hour)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The hold is slept in steps of at most storeRecheck (a long wait asks
	// the store again), maxHold in all.
	var total time.Duration
	for _, d := range clock.Sleeps() {
		if d <= 0 || d > storeRecheck {
			t.Fatalf("slept %s in one step, want (0, %s]", d, storeRecheck)
		}
		total += d
	}
	if total != maxHold {
		t.Fatalf("slept %s in all, want %s", total, maxHold)
	}
	l.Pause(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context = %v", err)
	}
	// A real-clock wait returns when the context ends, not when the hold does.
	rl := testLimiter(10, time.Second, nil)
	rl.Pause(time.Hour)
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- rl.Wait(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait during a hold = %v", err)
	}
}

// TestAdaptiveLimiter_observe_dailyStops: after a DAILY 429 every caller
// fails at once with a DAILY *RateLimitError and nothing more is sent.
func TestAdaptiveLimiter_observe_dailyStops(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	var hits atomic.Int64
	mux.HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "3600")
		rttest.WriteJSON(w, 429, map[string]any{"status": "error", "message": "You have reached your daily limit.",
			"errorType": "RATE_LIMIT", "policyName": "DAILY"})
	})
	clock := rttest.NewClock()
	lim := testLimiter(10, time.Second, clock)
	hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(lim), rttest.WithClock(clock), WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/x", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", base+"/x", nil)
			_, err := hc.Do(req)
			var rl *RateLimitError
			if !errors.As(err, &rl) || !rl.Daily() || !IsFatal(err) {
				t.Errorf("after DAILY: err = %v, want a DAILY *RateLimitError", err)
			}
		}()
	}
	wg.Wait()
	if n := hits.Load(); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
	// The stop lifts with the Retry-After.
	clock.Sleep(context.Background(), time.Hour)
	if err := lim.Wait(context.Background()); err != nil {
		t.Fatalf("after the daily reset: %v", err)
	}
}

// TestAdaptiveLimiter_pace_burst: the burst that sizes the batch runtime's
// concurrency: none on HubSpot's default guessed; the window's Max when
// fresh; then this limiter's share of the window, up to twice that while
// HubSpot says that much is left; none while answers count sends an in-process
// store did not know of (other clients pacing alone).
func TestAdaptiveLimiter_pace_burst(t *testing.T) {
	t.Parallel()
	if p := testLimiter(0, 0, rttest.NewClock()).pace(); p.Burst != 0 || p.Rate != 10 {
		t.Errorf("a limiter on the default guess: %+v, want no burst at 10/s", p)
	}
	if p := testLimiter(190, 10*time.Second, rttest.NewClock()).pace(); p.Burst != 190 {
		t.Errorf("a limiter told 190 per 10 s: %+v, want a burst of 190", p)
	}
	clock := rttest.NewClock()
	l := testLimiter(0, 0, clock)
	l.Observe(rateResp(200, "50", "1000", "50").Header)
	if p := l.pace(); p.Burst != 50 || p.Rate != 50 {
		t.Errorf("after an answer of 50 per 1 s: %+v, want a burst of 50 at 50/s", p)
	}
	waitN(t, l, clock, 12)
	l.Observe(rateResp(200, "50", "1000", "38").Header)
	if p := l.pace(); p.Burst != 24 {
		t.Errorf("after 12 sends, 38 left: %+v, want twice its share, 24", p)
	}
	waitN(t, l, clock, 30)
	l.Observe(rateResp(200, "50", "1000", "8").Header)
	if p := l.pace(); p.Burst != 42 {
		t.Errorf("after 42 sends, 8 left: %+v, want its share, 42", p)
	}
	// HubSpot counts 20 sends more than this limiter made: others pace
	// alone; its burst is its part of the window, 50 x 10/30.
	clock.Sleep(context.Background(), 2*time.Second)
	waitN(t, l, clock, 10)
	l.Observe(rateResp(200, "50", "1000", "20").Header)
	if p := l.pace(); p.Burst != 16 {
		t.Errorf("with other clients unseen by its store: %+v, want its part, 16", p)
	}
	// A pause without answers does not end it; an answer windows later
	// that shows no others does.
	clock.Sleep(context.Background(), 3*time.Second)
	if p := l.pace(); p.Burst != 16 {
		t.Errorf("windows later, no answer since: %+v, want its part still", p)
	}
	l.Observe(rateResp(200, "50", "1000", "49").Header)
	if p := l.pace(); p.Burst != 50 {
		t.Errorf("windows later, alone: %+v, want the whole window again", p)
	}
}

// TestAdaptiveLimiter_unsharedQuota: while answers count sends its
// in-process store did not know of (other clients pacing alone), a limiter
// keeps within a window only its part of it (Max times its own share of
// what HubSpot counted, rounded down), so that clients that each see the
// window free as it opens take together no more than it holds; alone, it
// holds nothing.
func TestAdaptiveLimiter_unsharedQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := rttest.NewClock()
	l := testLimiter(50, time.Second, clock)
	start := clock.Now()
	var slots []slot
	for range 10 {
		s, _, err := l.acquire(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		slots = append(slots, s)
	}
	isHeld := func() bool {
		hold, _ := l.held(clock.Now())
		if hold == 0 {
			l.unpend()
		}
		return hold > 0
	}
	clock.Sleep(ctx, 10*time.Millisecond)
	// HubSpot counted its 10 sends and nothing else: alone.
	l.observe(ctx, slots[0], rateResp(200, "50", "1000", "40"), nil, nil)
	if isHeld() {
		t.Fatal("held with answers counting only its own sends")
	}
	// HubSpot counted 40: 30 by others. Its part is 50 x 10/40 = 12.
	for _, s := range slots[1:] {
		l.observe(ctx, s, rateResp(200, "50", "1000", "10"), nil, nil)
	}
	if p := l.pace(); p.Burst != 12 {
		t.Errorf("pace with others: %+v, want its part, 12, as the burst", p)
	}
	for i, rem := range []string{"9", "8"} {
		s, waited, err := l.acquire(ctx, nil)
		if err != nil || waited != 0 {
			t.Fatalf("send %d within its part waited %s, %v", 10+i, waited, err)
		}
		l.observe(ctx, s, rateResp(200, "50", "1000", rem), nil, nil)
	}
	if _, _, err := l.acquire(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := clock.Now().Sub(start), time.Second+windowMargin(time.Second); got != want {
		t.Fatalf("send 12, beyond its part, at +%s; want +%s, when its first send leaves the window", got, want)
	}
}

// TestMemoryStore_Correct_windowEdgeNotInvented: HubSpot counted a send
// that the log placed just before the window (at the edge, within the
// margin): the store does not take it for another client's send. An
// invented send would hold a slot for a whole window (one request short in
// every later window of a job sized to whole windows).
func TestMemoryStore_Correct_windowEdgeNotInvented(t *testing.T) {
	ctx := context.Background()
	sh := Shape{Max: 3, Interval: time.Second}
	s := NewMemoryStore()
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	r0, err := s.Reserve(ctx, t0, sh)
	if err != nil || r0.Wait > 0 {
		t.Fatal(r0, err)
	}
	if err := s.Correct(ctx, t0.Add(10*time.Millisecond), r0, 5*time.Millisecond, 1, time.Second); err != nil {
		t.Fatal(err)
	}
	// 10 ms past the interval (the margin is 20 ms): HubSpot still counted
	// the first send, so it says 2 used with this one.
	t1 := t0.Add(time.Second + 10*time.Millisecond)
	r1, err := s.Reserve(ctx, t1, sh)
	if err != nil || r1.Wait > 0 {
		t.Fatal(r1, err)
	}
	if err := s.Correct(ctx, t1.Add(10*time.Millisecond), r1, 5*time.Millisecond, 2, time.Second); err != nil {
		t.Fatal(err)
	}
	// Once the first send has left the window, two slots are free: nothing
	// was added for others.
	t2 := t0.Add(sh.Window() + 10*time.Millisecond)
	for i := range 2 {
		if r, err := s.Reserve(ctx, t2, sh); err != nil || r.Wait > 0 {
			t.Fatalf("send %d after the first left: %+v, %v (a send by others was invented)", i, r, err)
		}
	}
}

// TestAdaptiveLimiter_probe: a fresh limiter on HubSpot's default guess
// keeps no more in flight from its first answer until the sends made
// before it are answered (and sends nothing once an answer counted a send
// not its own). Alone, it then sends what is left of the window at once;
// when those answers count others' sends, it sends one more and takes as
// its quota the part of the window that send's answer shows.
func TestAdaptiveLimiter_probe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		rems          []string // the answers to the first three sends
		probeRem      string   // the answer to the probe send, if any
		burst, within int
	}{
		{name: "alone", rems: []string{"49", "48", "47"}, burst: 50},
		// HubSpot counted 12, 13, then 14: 11 by others. The probe's
		// answer counts 20 with its 4: its part is 50 x 4/20 = 10.
		{name: "shared", rems: []string{"38", "37", "36"}, probeRem: "30", burst: 10, within: 6},
	} {
		clock := rttest.NewClock()
		l := testLimiter(0, 0, clock)
		isHeld := func() bool {
			hold, _ := l.held(clock.Now())
			if hold == 0 {
				l.unpend()
			}
			return hold > 0
		}
		var slots []slot
		for range 3 {
			s, waited, err := l.acquire(ctx, nil)
			if err != nil || waited != 0 {
				t.Fatalf("%s: a first send waited %s, %v", tc.name, waited, err)
			}
			slots = append(slots, s)
		}
		clock.Sleep(ctx, 10*time.Millisecond)
		for i, rem := range tc.rems {
			l.observe(ctx, slots[i], rateResp(200, "50", "1000", rem), nil, nil)
			if i < 2 && tc.probeRem == "" {
				// Alone so far: the answered send's place may be
				// taken, no more.
				if _, waited, err := l.acquire(ctx, nil); err != nil || waited != 0 {
					t.Fatalf("%s: a send in place of an answered one waited %s, %v", tc.name, waited, err)
				}
			}
			if i < 2 && !isHeld() {
				t.Fatalf("%s: not held with %d of the first sends unanswered", tc.name, 2-i)
			}
		}
		if tc.probeRem != "" {
			s, waited, err := l.acquire(ctx, nil)
			if err != nil || waited != 0 {
				t.Fatalf("%s: the probe send waited %s, %v", tc.name, waited, err)
			}
			if !isHeld() {
				t.Fatalf("%s: not held while the probe is unanswered", tc.name)
			}
			clock.Sleep(ctx, 10*time.Millisecond)
			l.observe(ctx, s, rateResp(200, "50", "1000", tc.probeRem), nil, nil)
		}
		if p := l.pace(); p.Burst != tc.burst {
			t.Errorf("%s: after the probe %+v, want a burst of %d", tc.name, p, tc.burst)
		}
		for i := range tc.within {
			if isHeld() {
				t.Fatalf("%s: send %d within its quota held", tc.name, i)
			}
			if _, _, err := l.acquire(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
		if tc.within > 0 && !isHeld() {
			t.Errorf("%s: not held beyond its quota", tc.name)
		}
	}
}

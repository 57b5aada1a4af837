package redislimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspot/redislimit"
	"github.com/crmkit/hubspot-associations/hubspottest"
	"github.com/crmkit/hubspot-associations/internal/redistest"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

const token = "pat-na1-SECRET-redis-0000"

func client(t *testing.T) *redis.Client {
	t.Helper()
	rs := redistest.ForTest(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestStore_Reserve_sharedWindow: two stores for one token (two processes)
// share one window of max sends; the next send waits at most a window.
func TestStore_Reserve_sharedWindow(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	a, b := redislimit.New(rdb, token), redislimit.New(rdb, token)
	const max, window = 5, 10 * time.Second
	now := time.Now()
	for i, s := range []*redislimit.Store{a, a, b, a, b} {
		r, err := s.Reserve(ctx, now, hubspot.Shape{Max: max, Interval: window})
		if err != nil || r.Wait != 0 || r.At.IsZero() {
			t.Fatalf("send %d: %+v, %v", i, r, err)
		}
	}
	for _, s := range []*redislimit.Store{a, b} {
		r, err := s.Reserve(ctx, now, hubspot.Shape{Max: max, Interval: window})
		if err != nil || r.Wait <= 0 || r.Wait > (hubspot.Shape{Interval: window}).Window() || r.Daily {
			t.Fatalf("send beyond the window: %+v, %v; want a wait in (0, %s]", r, err, window)
		}
	}
	if other := redislimit.New(rdb, "another-token"); true {
		if r, err := other.Reserve(ctx, now, hubspot.Shape{Max: max, Interval: window}); err != nil || r.Wait != 0 {
			t.Fatalf("another token's window is not separate: %+v, %v", r, err)
		}
	}
}

// TestStore_keys_hashedPrefixedExpiring: keys carry the prefix and the
// token's hash, never the token, and every key expires.
func TestStore_keys_hashedPrefixedExpiring(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	s := redislimit.New(rdb, token, redislimit.WithPrefix("test-prefix"))
	r, err := s.Reserve(ctx, time.Now(), hubspot.Shape{Max: 1, Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// A second process waits: it queues.
	if w, err := redislimit.New(rdb, token, redislimit.WithPrefix("test-prefix")).Reserve(ctx, time.Now(), hubspot.Shape{Max: 1, Interval: time.Second}); err != nil || w.Wait <= 0 {
		t.Fatalf("second process: %+v, %v", w, err)
	}
	if err := s.Correct(ctx, time.Now(), r, 5*time.Millisecond, 4, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Learn(ctx, time.Now(), hubspot.Shape{Max: 10, Interval: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := s.Hold(ctx, time.Now(), time.Minute, false); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 7 {
		t.Fatalf("keys = %q, want the log, the hold, the shape, the queue's two, the epoch and the first process's sends", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "test-prefix:{"+wire.TokenKey(token)+"}:") || strings.Contains(k, token) {
			t.Errorf("key %q", k)
		}
		limit := 2 * time.Minute
		if k == s.Keys()[2] || k == s.Keys()[5] {
			limit = 24 * time.Hour // the learned shape and the epoch outlive the log
		}
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > limit {
			t.Errorf("key %q expires in %s", k, ttl)
		}
	}
	if n := rdb.ZCard(ctx, s.Keys()[0]).Val(); n != 4 {
		t.Errorf("log holds %d sends after a correction to 4 used, want 4", n)
	}
}

// TestStore_Hold_dailyStopsEveryProcess: a DAILY stop written by one
// process stops another at once, with a DAILY *hubspot.RateLimitError.
func TestStore_Hold_dailyStopsEveryProcess(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	if err := redislimit.New(rdb, token).Hold(ctx, time.Now(), time.Hour, true); err != nil {
		t.Fatal(err)
	}
	err := redislimit.NewLimiter(rdb, token).Wait(ctx)
	var rl *hubspot.RateLimitError
	if !errors.As(err, &rl) || !rl.Daily() {
		t.Fatalf("Wait after another process's DAILY stop = %v", err)
	}
	// A Retry-After pause (not daily) holds the other process too.
	rdb2 := client(t)
	redislimit.New(rdb2, token).Hold(ctx, time.Now(), time.Hour, false)
	r, err := redislimit.New(rdb2, token).Reserve(ctx, time.Now(), hubspot.Shape{Max: 10, Interval: time.Second})
	if err != nil || r.Wait < 59*time.Minute || r.Daily {
		t.Fatalf("Reserve during another process's pause = %+v, %v", r, err)
	}
}

// TestNewLimiter_overHTTP_processesShareWindow: two clients with their own
// Redis-backed limiters (two processes) against a fake allowing 10 per 10 s
// send 10 requests together without a 429; the 11th waits for the window
// and gives up with its context, unsent.
func TestNewLimiter_overHTTP_processesShareWindow(t *testing.T) {
	rdb := client(t)
	srv := hubspottest.NewServer(t, hubspottest.WithToken(token), hubspottest.WithRateLimit(10, 10*time.Second))
	var clients []*associations.ClientWithResponses
	for range 2 {
		c, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken(token), hubspot.WithLimiter(redislimit.NewLimiter(rdb, token)))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := clients[i%2].ListLabelsWithResponse(ctx, "contacts", "companies")
			if err != nil || resp.StatusCode() != http.StatusOK {
				t.Errorf("request %d: %v %v", i, err, resp)
			}
		}()
	}
	wg.Wait()
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := clients[1].ListLabelsWithResponse(tctx, "contacts", "companies"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("11th request = %v, want the context's deadline while waiting for the window", err)
	}
	if st := srv.Stats(); st.Requests != 10 || st.RateLimited != 0 {
		t.Fatalf("server saw %d requests, %d 429s; want 10 and 0", st.Requests, st.RateLimited)
	}
}

// TestStore_unreachable: without Redis the store falls back to an
// in-process window with one warning; WithoutFallback returns an error that
// names Redis and not the token.
func TestStore_unreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	ctx := context.Background()

	var logs bytes.Buffer
	s := redislimit.New(rdb, token, redislimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	now := time.Now()
	for i := range 3 {
		r, err := s.Reserve(ctx, now, hubspot.Shape{Max: 2, Interval: time.Minute})
		if i < 2 && (err != nil || r.Wait != 0) {
			t.Fatalf("fallback send %d: %+v, %v", i, r, err)
		}
		if i == 2 && (err != nil || r.Wait <= 0) {
			t.Fatalf("fallback window not enforced: %+v, %v", r, err)
		}
	}
	if n := strings.Count(logs.String(), "Redis unreachable"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs.String())
	}

	strict := redislimit.NewLimiter(rdb, token, redislimit.WithoutFallback())
	err = strict.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "redislimit: redis") || strings.Contains(err.Error()+logs.String(), token) {
		t.Fatalf("Wait without fallback = %v", err)
	}
}

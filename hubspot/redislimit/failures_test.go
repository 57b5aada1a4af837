package redislimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
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
	"github.com/crmkit/hubspot-associations/internal/rttest"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// These tests treat Redis as a hostile environment would: frozen, slow,
// holding foreign values and absurd numbers, and used by a process whose
// clock is off. Each runs a real redis-server (internal/redistest).

// redisTime returns Redis's clock.
func redisTime(t *testing.T, rdb *redis.Client) time.Time {
	t.Helper()
	now, err := rdb.Time(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// logBuffer is a logger writing to a buffer safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// TestStore_frozenRedis_pacesInProcessWithinCallTimeout: Redis stops
// answering (SIGSTOP) under two processes, each sending 6 requests at once
// through a go-redis client with its defaults (3 retries, 3 s read
// timeout, no context timeouts). Every request is sent and answered within
// about the call timeout, not after go-redis's timeouts; once Redis is back
// the processes share the window in Redis again.
func TestStore_frozenRedis_pacesInProcessWithinCallTimeout(t *testing.T) {
	rs := redistest.ForTest(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	srv := hubspottest.NewServer(t, hubspottest.WithToken(token), hubspottest.WithRateLimit(100, 10*time.Second))
	const callTimeout = 300 * time.Millisecond
	var logs logBuffer
	var clients []*associations.ClientWithResponses
	var stores []*redislimit.Store
	for range 2 {
		st := redislimit.New(rdb, token, redislimit.WithCallTimeout(callTimeout), redislimit.WithLogger(logs.logger()))
		c, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken(token),
			hubspot.WithLimiter(mustLimiter(t, hubspot.WithWindowStore(st))))
		if err != nil {
			t.Fatal(err)
		}
		clients, stores = append(clients, c), append(stores, st)
	}
	ctx := context.Background()
	send := func(n int) time.Duration { return listConcurrently(t, ctx, clients, n) }
	send(2) // both processes use Redis
	if err := rs.Freeze(); err != nil {
		t.Fatal(err)
	}
	took := send(12)
	t.Logf("12 requests with Redis frozen: %s (call timeout %s)", took, callTimeout)
	// The promise is one call timeout before the fallback; allow a second
	// of scheduling on a busy machine (go-redis alone would take 3 s and
	// more per call).
	if took > callTimeout+time.Second {
		t.Errorf("12 requests with Redis frozen took %s, want about the call timeout (%s)", took, callTimeout)
	}
	if n := strings.Count(logs.String(), "Redis unreachable"); n != 2 {
		t.Errorf("%d outage warnings, want one per process:\n%s", n, logs.String())
	}
	if err := rs.Thaw(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(redislimit.FallbackRetry + 100*time.Millisecond)
	before := rdb.ZCard(ctx, stores[0].Keys()[0]).Val()
	send(4)
	if after := rdb.ZCard(ctx, stores[0].Keys()[0]).Val(); after < before+3 {
		t.Errorf("after Redis came back the log went from %d to %d sends; the processes do not share it again", before, after)
	}
	if strings.Contains(logs.String(), token) {
		t.Error("token in logs")
	}
}

// TestStore_slowRedis_honoursDeadline: with Redis not answering and a call
// timeout longer than the caller's deadline, Wait returns the caller's
// deadline error at the deadline, with or without go-redis's
// ContextTimeoutEnabled; WithoutFallback does the same.
func TestStore_slowRedis_honoursDeadline(t *testing.T) {
	rs := redistest.ForTest(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts redis.Options
		more []redislimit.Option
	}{
		{"go-redis defaults", redis.Options{Addr: rs.Addr}, nil},
		{"ContextTimeoutEnabled", redis.Options{Addr: rs.Addr, ContextTimeoutEnabled: true}, nil},
		{"without fallback", redis.Options{Addr: rs.Addr}, []redislimit.Option{redislimit.WithoutFallback()}},
	} {
		rdb := redis.NewClient(&tc.opts)
		lim := redislimit.NewLimiter(rdb, token, append(tc.more, redislimit.WithCallTimeout(time.Minute))...)
		if err := lim.Wait(ctx); err != nil { // connected
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := rs.Freeze(); err != nil {
			t.Fatal(err)
		}
		const deadline = 300 * time.Millisecond
		dctx, cancel := context.WithTimeout(ctx, deadline)
		start := time.Now()
		err := lim.Wait(dctx)
		took := time.Since(start)
		cancel()
		rs.Thaw()
		rdb.Close()
		t.Logf("%s: Wait returned after %s (deadline %s)", tc.name, took, deadline)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: Wait = %v, want the caller's deadline", tc.name, err)
		}
		// A correctness bound, generous for a busy machine: go-redis's own
		// timeouts would take 3 s and more.
		if took > deadline+time.Second {
			t.Errorf("%s: Wait returned %s after it began, %s past the caller's deadline", tc.name, took, took-deadline)
		}
	}
}

// TestStore_wrongType_repairedNamingTheKey: values of other types where
// the log and the hold belong are replaced, with a warning naming each key
// (never the token); the store goes on sharing the window in Redis rather
// than taking the refusal for an outage.
func TestStore_wrongType_repairedNamingTheKey(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	var logs logBuffer
	s := redislimit.New(rdb, token, redislimit.WithLogger(logs.logger()))
	logKey, holdKey := s.Keys()[0], s.Keys()[1]
	rdb.Set(ctx, logKey, "not a log", 0)
	rdb.RPush(ctx, holdKey, "not", "a", "hold")
	lim := mustLimiter(t, hubspot.WithRateLimit(3, time.Minute), hubspot.WithWindowStore(s))
	for i := range 3 {
		if err := lim.Wait(ctx); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if typ := rdb.Type(ctx, logKey).Val(); typ != "zset" || rdb.ZCard(ctx, logKey).Val() != 3 {
		t.Fatalf("log key is a %s of %d sends, want the log of 3", typ, rdb.ZCard(ctx, logKey).Val())
	}
	// Another process sees the window full: it is shared in Redis.
	if r, err := redislimit.New(rdb, token).Reserve(ctx, time.Now(), hubspot.Shape{Max: 3, Interval: time.Minute}); err != nil || r.Wait <= 0 {
		t.Fatalf("another process's Reserve = %+v, %v; want a wait (the window is in Redis)", r, err)
	}
	// The hold key is replaced by the first Hold.
	if err := s.Hold(ctx, time.Now(), time.Second, false); err != nil {
		t.Fatal(err)
	}
	if typ := rdb.Type(ctx, holdKey).Val(); typ != "hash" {
		t.Fatalf("hold key is a %s", typ)
	}
	out := logs.String()
	for _, k := range []string{logKey, holdKey} {
		if !strings.Contains(out, "key "+k+" held a value of another type") {
			t.Errorf("no warning naming %s:\n%s", k, out)
		}
	}
	if strings.Contains(out, "unreachable") || strings.Contains(out, token) {
		t.Errorf("log:\n%s", out)
	}
}

// TestStore_absurdValues_rangeChecked: a hold until 1e30 (or not a number,
// or two days away) and sends logged minutes in Redis's future are dropped
// with a warning; a send then goes at once, with a handful of Redis
// commands, not a busy loop.
func TestStore_absurdValues_rangeChecked(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	var logs logBuffer
	s := redislimit.New(rdb, token, redislimit.WithLogger(logs.logger()))
	logKey, holdKey := s.Keys()[0], s.Keys()[1]
	for _, tc := range []struct {
		name  string
		setup func()
		warn  string
	}{
		{"hold until 1e30", func() { rdb.HSet(ctx, holdKey, "until", "1e30", "daily", "0") }, "longer than the longest accepted"},
		{"hold not a number", func() { rdb.HSet(ctx, holdKey, "until", "soon", "daily", "1") }, "not a number"},
		{"hold two days away", func() {
			rdb.HSet(ctx, holdKey, "until", strconv.FormatInt(redisTime(t, rdb).Add(48*time.Hour).UnixMicro(), 10), "daily", "0")
		}, "longer than the longest accepted"},
		{"sends 5 minutes ahead", func() {
			at := float64(redisTime(t, rdb).Add(5 * time.Minute).UnixMicro())
			for i := range 5 {
				rdb.ZAdd(ctx, logKey, redis.Z{Score: at, Member: "future" + strconv.Itoa(i)})
			}
		}, "in Redis's future"},
	} {
		rdb.Del(ctx, logKey, holdKey)
		tc.setup()
		before := commands(t, rdb)
		lim := mustLimiter(t, hubspot.WithRateLimit(5, time.Second), hubspot.WithWindowStore(s))
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := lim.Wait(wctx)
		cancel()
		if err != nil {
			t.Errorf("%s: Wait = %v, want a send at once", tc.name, err)
		}
		// One reservation is one script (EVALSHA, maybe EVAL after
		// NOSCRIPT) of about 20 commands, plus those counted here; the busy
		// loop this guards against ran tens of thousands.
		n := commands(t, rdb) - before
		t.Logf("%s: one send in %d Redis commands", tc.name, n)
		if n > 60 {
			t.Errorf("%s: %d Redis commands for one send", tc.name, n)
		}
		if !strings.Contains(logs.String(), tc.warn) {
			t.Errorf("%s: no warning %q:\n%s", tc.name, tc.warn, logs.String())
		}
	}
}

// commands returns how many commands Redis has processed.
func commands(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	info := rdb.Info(context.Background(), "stats").Val()
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatal("no total_commands_processed in INFO stats")
	return 0
}

// mustLimiter returns hubspot.NewAdaptiveLimiter(opts...) or fails t.
func mustLimiter(t testing.TB, opts ...hubspot.Option) *hubspot.AdaptiveLimiter {
	t.Helper()
	l, err := hubspot.NewAdaptiveLimiter(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// skewedClock is the real clock moved by d (sleeps are real).
type skewedClock struct {
	wire.SystemClock
	d time.Duration
}

func (c skewedClock) Now() time.Time { return time.Now().Add(c.d) }

// TestStore_clockSkew_localTimesStayLocal: a process whose clock is 5
// minutes ahead reserves in its fallback while Redis is frozen; when Redis
// is back, HubSpot's answers to those sends are corrected in the fallback
// only: nothing in Redis lies in Redis's future, and a process with a
// right clock still sends at once.
func TestStore_clockSkew_localTimesStayLocal(t *testing.T) {
	rs := redistest.ForTest(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	srv := hubspottest.NewServer(t, hubspottest.WithToken(token), hubspottest.WithRateLimit(10, time.Second))
	ctx := context.Background()
	skewed := redislimit.New(rdb, token, redislimit.WithCallTimeout(200*time.Millisecond))
	lim := mustLimiter(t, rttest.WithClock(skewedClock{d: 5 * time.Minute}), hubspot.WithWindowStore(skewed))
	c, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken(token), hubspot.WithLimiter(lim))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Freeze(); err != nil {
		t.Fatal(err)
	}
	// Reserved in the fallback (the skewed clock), answered after Redis is
	// back: the transport's answer goes through Correct then.
	var local []hubspot.Reservation
	for range 3 {
		r, err := skewed.Reserve(ctx, time.Now().Add(5*time.Minute), hubspot.Shape{Max: 10, Interval: time.Second})
		if err != nil || r.Wait != 0 {
			t.Fatalf("fallback Reserve = %+v, %v", r, err)
		}
		local = append(local, r)
	}
	if err := rs.Thaw(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(redislimit.FallbackRetry + 100*time.Millisecond)
	for i := range 4 {
		resp, err := c.ListLabelsWithResponse(ctx, "contacts", "companies")
		if err != nil || resp.StatusCode() != http.StatusOK {
			t.Fatalf("request %d: %v %v", i, err, resp)
		}
	}
	for _, r := range local {
		if err := skewed.Correct(ctx, time.Now().Add(5*time.Minute), r, 10*time.Millisecond, 9, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	now := redisTime(t, rdb)
	for _, z := range rdb.ZRangeWithScores(ctx, skewed.Keys()[0], 0, -1).Val() {
		if at := time.UnixMicro(int64(z.Score)); at.After(now) {
			t.Errorf("log entry %v at %s, %s in Redis's future", z.Member, at, at.Sub(now))
		}
	}
	right := redislimit.NewLimiter(rdb, token)
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := right.Wait(wctx); err != nil {
		t.Fatalf("a process with a right clock: %v", err)
	}
}

// TestLimiter_longWaitAsksStoreAgain: a caller told to wait most of a
// minute asks the store again within a second, so a window emptied
// meanwhile (here: the log deleted) lets it go long before the minute.
func TestLimiter_longWaitAsksStoreAgain(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	s := redislimit.New(rdb, token)
	lim := mustLimiter(t, hubspot.WithRateLimit(2, time.Minute), hubspot.WithWindowStore(s))
	for range 2 {
		if err := lim.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		done <- lim.Wait(wctx)
	}()
	time.Sleep(200 * time.Millisecond)
	rdb.Del(ctx, s.Keys()[0])
	if err := <-done; err != nil {
		t.Fatalf("Wait after the window emptied = %v; want a send within a second or two", err)
	}
}

// listConcurrently sends n ListLabels requests at once, spread over clients
// in turn, fails t on any that does not end in a 200, and returns how long
// they took together.
func listConcurrently(t *testing.T, ctx context.Context, clients []*associations.ClientWithResponses, n int) time.Duration {
	t.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := clients[i%len(clients)].ListLabelsWithResponse(ctx, "contacts", "companies")
			if err != nil || resp.StatusCode() != http.StatusOK {
				t.Errorf("request %d: %v %v", i, err, resp)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

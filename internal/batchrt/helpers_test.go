package batchrt

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// mustLimiter returns hubspot.NewAdaptiveLimiter(opts...) or fails t.
func mustLimiter(t testing.TB, opts ...hubspot.Option) *hubspot.AdaptiveLimiter {
	t.Helper()
	l, err := hubspot.NewAdaptiveLimiter(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// withClock and withRand are the test seams of a client: options only this
// module can write (wire.Options is internal).
func withClock(c wire.Clock) hubspot.Option {
	return func(o *wire.Options) error { o.Clock = c; return nil }
}

func withRand(r wire.Rand) hubspot.Option {
	return func(o *wire.Options) error { o.Rand = r; return nil }
}

// baseURLPath is a non-empty path prefix that every request must carry, so a
// wrongly absolute URL fails loudly (go-github's setup).
const baseURLPath = "/api-v3"

// testToken is the secret used throughout; tests assert it never leaks.
const testToken = "pat-na1-SECRET-7f3c9a1e-0000-4b8e-9d2a-toktoktok"

// setup starts an httptest server whose API is mounted under baseURLPath and
// returns the mux to register handlers on and the API base URL.
func setup(t *testing.T) (*http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	api := http.NewServeMux()
	api.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, mux))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside %s: %s %s", baseURLPath, r.Method, r.URL.Path)
		http.Error(w, "client used a wrong absolute URL", http.StatusBadGateway)
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return mux, srv.URL + baseURLPath
}

// fakeClock is a Clock whose Sleep returns at once and advances Now.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

var clockStart = time.Date(2026, 3, 2, 10, 4, 5, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: clockStart} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// maxRand always returns the largest value, so full jitter waits exactly the
// backoff ceiling and tests can predict it.
type maxRand struct{}

func (maxRand) Int64N(n int64) int64 { return n - 1 }

// testTransport returns a base transport without keep-alives, so net/http
// never silently replays a request on a reused connection.
func testTransport(t *testing.T) *http.Transport {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

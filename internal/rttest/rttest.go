// Package rttest holds the test helpers that the runtime's packages
// (hubspot and internal/batchrt) share: an httptest server that catches
// wrongly absolute URLs, a clock whose sleeps return at once, a jitter
// source that always takes the ceiling, and hostile handlers (a reset, an
// endless body, a server that must never be reached) and the options that
// set a client's or limiter's clock and jitter source. It imports neither
// package, so both can use it in their internal tests.
package rttest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/internal/wire"
)

// BasePath is a non-empty path prefix that every request must carry, so a
// wrongly absolute URL fails loudly (go-github's setup).
const BasePath = "/api-v3"

// Token is the secret used throughout; tests assert it never leaks.
const Token = "pat-na1-SECRET-7f3c9a1e-0000-4b8e-9d2a-toktoktok"

// Masked replaces Token in s, for messages that quote what leaked.
func Masked(s string) string { return strings.ReplaceAll(s, Token, "<TOKEN>") }

// Setup starts an httptest server whose API is mounted under BasePath and
// returns the mux to register handlers on and the API base URL.
func Setup(t *testing.T) (*http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	api := http.NewServeMux()
	api.Handle(BasePath+"/", http.StripPrefix(BasePath, mux))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside %s: %s %s", BasePath, r.Method, r.URL.Path)
		http.Error(w, "client used a wrong absolute URL", http.StatusBadGateway)
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return mux, srv.URL + BasePath
}

// ClockStart is the time a Clock starts at.
var ClockStart = time.Date(2026, 3, 2, 10, 4, 5, 0, time.UTC)

// Clock is a clock whose Sleep returns at once and advances Now.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// NewClock returns a Clock at ClockStart.
func NewClock() *Clock { return &Clock{now: ClockStart} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep records d and advances the clock by it, unless ctx has ended.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
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

// Sleeps returns the sleeps so far, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// MaxRand always returns the largest value, so full jitter waits exactly the
// backoff ceiling and tests can predict it.
type MaxRand struct{}

// Int64N returns n-1.
func (MaxRand) Int64N(n int64) int64 { return n - 1 }

// Transport returns a base transport without keep-alives, so net/http
// never silently replays a request on a reused connection.
func Transport(t *testing.T) *http.Transport {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// ResetConn hijacks the connection and closes it with a TCP reset.
func ResetConn(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Errorf("response writer cannot hijack")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ReadAll reads r to the end or fails the test.
func ReadAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

// Recorder is a server that must never be reached: it records every request
// and whether it carried Token.
type Recorder struct {
	Srv    *httptest.Server
	hits   atomic.Int64
	tokens atomic.Int64
}

// NewRecorder starts a Recorder, closed when the test ends.
func NewRecorder(t *testing.T) *Recorder {
	r := &Recorder{}
	r.Srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if strings.Contains(req.Header.Get("Authorization"), Token) {
			r.tokens.Add(1)
		}
		io.WriteString(w, `{"results":[]}`)
	}))
	t.Cleanup(r.Srv.Close)
	return r
}

// Check fails the test if the Recorder was reached.
func (r *Recorder) Check(t *testing.T) {
	t.Helper()
	if n, tok := r.hits.Load(), r.tokens.Load(); n != 0 || tok != 0 {
		t.Fatalf("the other server was reached %d time(s), %d with the token", n, tok)
	}
}

// Endless serves status with a body that never ends (or declares
// declared bytes), until the client goes away.
func Endless(status int, declared int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if declared > 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(declared, 10))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		chunk := bytes.Repeat([]byte(" "), 32<<10)
		io.WriteString(w, `{"results":[`)
		for sent := int64(0); declared == 0 || sent < declared-int64(len(chunk)); sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// WithClock and WithRand are the test seams of a client or limiter: options
// only this module can write (wire.Options is internal). They are of
// hubspot.Option's underlying type, so they pass where one is taken.
func WithClock(c wire.Clock) func(*wire.Options) error {
	return func(o *wire.Options) error { o.Clock = c; return nil }
}

// WithRand: see WithClock.
func WithRand(r wire.Rand) func(*wire.Options) error {
	return func(o *wire.Options) error { o.Rand = r; return nil }
}

package hubspot

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/crmkit/hubspot-associations/internal/rttest"
)

// TestTransport_backoff_synctest: the Transport's waits on the real clock,
// run in a synctest bubble (whose clock advances only when every goroutine
// of the bubble waits), so the test needs no clock seam: two 503s, then a
// 200, take exactly the two full-jitter ceilings (250 ms, 500 ms).
func TestTransport_backoff_synctest(t *testing.T) {
	var n atomic.Int64
	// The server runs outside the bubble: its goroutines wait on the
	// network, which the bubble's clock does not wait for.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	synctest.Test(t, func(t *testing.T) {
		tr := &http.Transport{DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithRand(rttest.MaxRand{}), WithBaseTransport(tr))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp, err := hc.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if d := time.Since(start); resp.StatusCode != 204 || d != 750*time.Millisecond {
			t.Fatalf("status %d after %s, want 204 after 750ms (250 ms + 500 ms of backoff)", resp.StatusCode, d)
		}
	})
	if got := n.Load(); got != 3 {
		t.Fatalf("%d requests, want 3", got)
	}
}

package associations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// The tests of this file hold issue 17's cases of "outcome unknown":
// ErrOutcomeUnknown exactly when a request that may change something
// reached HubSpot and no answer says what became of it.

// scripted is an httptest server answering each request with the next
// handler of its script (the last one repeats); n counts requests.
type scripted struct {
	srv *httptest.Server
	n   atomic.Int64
}

func newScripted(t *testing.T, script ...http.HandlerFunc) *scripted {
	t.Helper()
	s := &scripted{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(s.n.Add(1)) - 1
		script[min(i, len(script)-1)](w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// schemaFor returns a Schema on s with fast retries and no limiter.
func schemaFor(t *testing.T, s *scripted, opts ...hubspot.Option) *associations.Schema {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true} // net/http never replays a request by itself
	t.Cleanup(tr.CloseIdleConnections)
	b, err := associations.New(token, append([]hubspot.Option{hubspot.WithBaseURL(s.srv.URL), hubspot.WithLimiter(nil),
		hubspot.WithBaseTransport(tr),
		hubspot.WithRetryPolicy(hubspot.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resetAfterReading reads the request and resets the connection: the
// request reached the server (which may have applied it), no answer did.
func resetAfterReading(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	buf.ReadFrom(r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

func answer(status int, body any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "30")
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}
}

var notFound = answer(404, map[string]string{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "association type not found"})

// TestSchema_DeleteLabel_goneAfterMaybeDeleted: the first DELETE reaches
// HubSpot and the connection resets; the retry finds the label gone (404).
// This call deleted it: it succeeds.
func TestSchema_DeleteLabel_goneAfterMaybeDeleted(t *testing.T) {
	t.Parallel()
	s := newScripted(t, resetAfterReading, notFound)
	if err := schemaFor(t, s).DeleteLabel(context.Background(), from, to, 7); err != nil {
		t.Fatalf("DeleteLabel = %v, want nil: the reset attempt deleted it", err)
	}
	if n := s.n.Load(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	// Without an earlier attempt, a 404 is HubSpot's answer.
	s2 := newScripted(t, notFound)
	err := schemaFor(t, s2).DeleteLabel(context.Background(), from, to, 7)
	var apiErr *hubspot.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || errors.Is(err, hubspot.ErrOutcomeUnknown) {
		t.Fatalf("DeleteLabel = %v, want the 404", err)
	}
}

// TestSchema_CreateLabel_429ThenCancelled: HubSpot answered 429 (nothing
// applied) and the context ends during the Retry-After wait: the call
// fails with the context's error, not ErrOutcomeUnknown.
func TestSchema_CreateLabel_429ThenCancelled(t *testing.T) {
	t.Parallel()
	s := newScripted(t, answer(429, map[string]string{"status": "error", "errorType": "RATE_LIMIT", "message": "secondly limit", "policyName": "TEN_SECONDLY_ROLLING"}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err := schemaFor(t, s).CreateLabel(ctx, from, to, associations.LabelCreate{Name: "x", Label: "X"})
	if err == nil || !errors.Is(err, context.Canceled) || errors.Is(err, hubspot.ErrOutcomeUnknown) {
		t.Fatalf("CreateLabel = %v, want context.Canceled without ErrOutcomeUnknown", err)
	}
	if n := s.n.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// TestSchema_CreateLabel_cancelledBeforeSending: with no limiter and a
// context already cancelled nothing is sent, so nothing is unknown.
func TestSchema_CreateLabel_cancelledBeforeSending(t *testing.T) {
	t.Parallel()
	s := newScripted(t, answer(200, map[string]any{"results": []any{}}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := schemaFor(t, s).CreateLabel(ctx, from, to, associations.LabelCreate{Name: "x", Label: "X"})
	if err == nil || errors.Is(err, hubspot.ErrOutcomeUnknown) {
		t.Fatalf("CreateLabel = %v, want an error without ErrOutcomeUnknown", err)
	}
	if n := s.n.Load(); n != 0 {
		t.Fatalf("%d requests, want 0", n)
	}
}

// TestSchema_UpdateLabel_resetsAfterApply: every attempt of a PUT reaches
// HubSpot and resets: it may have been applied, although it is
// idempotent.
func TestSchema_UpdateLabel_resetsAfterApply(t *testing.T) {
	t.Parallel()
	s := newScripted(t, resetAfterReading)
	err := schemaFor(t, s).UpdateLabel(context.Background(), from, to, associations.LabelUpdate{AssociationTypeID: 7, Label: "Y"})
	if !errors.Is(err, hubspot.ErrOutcomeUnknown) {
		t.Fatalf("UpdateLabel = %v, want ErrOutcomeUnknown", err)
	}
	if n := s.n.Load(); n != hubspot.DefaultMaxAttempts {
		t.Fatalf("%d requests, want %d", n, hubspot.DefaultMaxAttempts)
	}
	// A GET changes nothing: never unknown.
	s2 := newScripted(t, resetAfterReading)
	if _, err := schemaFor(t, s2).Labels(context.Background(), from, to); err == nil || errors.Is(err, hubspot.ErrOutcomeUnknown) {
		t.Fatalf("Labels = %v, want an error without ErrOutcomeUnknown", err)
	}
}

// TestSchema_WithProgress_serialized: two batch calls of one Schema at the
// same time never run the progress callback concurrently (-race proves
// it: the callback updates a plain counter).
func TestSchema_WithProgress_serialized(t *testing.T) {
	t.Parallel()
	calls := 0
	var seeded []hubspottest.Option
	for i := int32(1); i <= 200; i++ {
		seeded = append(seeded, hubspottest.WithLimit(limit(i, 1)))
	}
	srv, _ := setup(t, 200, seeded)
	b, err := associations.New(token, hubspot.WithBaseURL(srv.URL), hubspot.WithLimiter(nil),
		hubspot.WithChunkSize(5), hubspot.WithConcurrency(4), hubspot.WithProgress(func(hubspot.Progress) { calls++ }))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Go(func() {
			in := updates(100, int32(10+k))
			for i := range in {
				in[i].TypeID = int32(k*100 + i + 1)
			}
			if _, err := b.UpdateConfigurations(context.Background(), from, to, in); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if want := 2 * (100/5 + 1); calls != want {
		t.Fatalf("progress called %d times, want %d (once per chunk and once at the end, per call)", calls, want)
	}
}

// TestNewSchema_plainClient_countsRequests: over a client without the
// runtime's Transport, Result.Requests is what the server saw.
func TestNewSchema_plainClient_countsRequests(t *testing.T) {
	t.Parallel()
	var seeded []hubspottest.Option
	for i := int32(1); i <= 250; i++ {
		seeded = append(seeded, hubspottest.WithLimit(limit(i, 1)))
	}
	srv, _ := setup(t, 250, seeded)
	srv.ResetStats()
	client, err := associations.NewClientWithResponses(srv.URL, associations.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := associations.NewSchema(client)
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.UpdateConfigurations(context.Background(), from, to, updates(250, 3))
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Stats().Requests; res.Requests != got || got != 3 {
		t.Fatalf("Result.Requests = %d, the server saw %d, want 3", res.Requests, got)
	}
	// Client options are refused: the client is built.
	if _, err := associations.NewSchema(client, hubspot.WithToken(token)); err == nil || !strings.Contains(err.Error(), "WithToken") {
		t.Fatalf("NewSchema(WithToken) = %v, want an error naming it", err)
	}
}

// TestSchema_AllConfigurations_atHubSpotsCeiling: HubSpot's documented
// ceiling (50 labels per pair over 25 object types: about 30,000 limits,
// 4.9 MB) is read whole with the default cap; a smaller cap set with
// WithMaxResponseBytes refuses it.
func TestSchema_AllConfigurations_atHubSpotsCeiling(t *testing.T) {
	t.Parallel()
	var body bytes.Buffer
	body.WriteString(`{"results":[`)
	const n = 30000
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"category":"USER_DEFINED","typeId":%d,"label":"A label of some length, as the admins of a portal name them %05d","userEnforcedMaxToObjectIds":%d}`, i+1, i, 1+i%100)
	}
	body.WriteString(`]}`)
	if body.Len() <= 4<<20 {
		t.Fatalf("test body is %d bytes, want more than the former 4 MiB cap", body.Len())
	}
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body.Bytes())
	})
	all, err := schemaFor(t, s).AllConfigurations(context.Background())
	if err != nil || len(all) != n {
		t.Fatalf("AllConfigurations: %d limits, %v; want %d", len(all), err, n)
	}
	_, err = schemaFor(t, s, hubspot.WithMaxResponseBytes(1<<20)).AllConfigurations(context.Background())
	var tl *hubspot.ResponseTooLargeError
	if !errors.As(err, &tl) || tl.Limit != 1<<20 {
		t.Fatalf("with a 1 MiB cap: %v, want a *hubspot.ResponseTooLargeError", err)
	}
}

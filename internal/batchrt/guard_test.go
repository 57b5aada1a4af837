package batchrt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/rttest"
)

// TestRun_purgeRedirectRefused: a 307 on a batch purge is refused, the
// run stops, and the other server never sees the token.
func TestRun_purgeRedirectRefused(t *testing.T) {
	t.Parallel()
	evil := rttest.NewRecorder(t)
	mux, base := rttest.Setup(t)
	mux.HandleFunc("POST "+cfgBase+"/batch/purge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", evil.Srv.URL+cfgBase+"/batch/purge")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	in := inputs(250, 1)
	res, err := runBatch(t, testClient(t), cfgSpec("BatchPurgeConfigurations", true, base), in, hubspot.WithConcurrency(1))
	checkAccounting(t, res, len(in))
	var re *hubspot.RedirectError
	if !errors.As(err, &re) || re.StatusCode != 307 {
		t.Fatalf("err = %v, want a *RedirectError for the 307", err)
	}
	if len(res.Failed) != 100 || len(res.NotAttempted) != 150 || len(res.Succeeded) != 0 {
		t.Fatalf("%d failed, %d not attempted, want 100 and 150 (the run stops)", len(res.Failed), len(res.NotAttempted))
	}
	if !errors.As(res.Failed[0].Err, &re) || errors.Is(res.Failed[0].Err, hubspot.ErrOutcomeUnknown) {
		t.Fatalf("failed[0] = %v, want the refused redirect", res.Failed[0].Err)
	}
	if strings.Contains(err.Error(), rttest.Token) {
		t.Fatal("token in the error")
	}
	evil.Check(t)
}

// TestRun_bodyCapped: an endless answer to a batch fails its inputs
// with ErrOutcomeUnknown wrapping *ResponseTooLargeError, without resending.
func TestRun_bodyCapped(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	var n atomic.Int64
	mux.HandleFunc("POST "+cfgBase+"/batch/update", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		rttest.Endless(200, 0)(w, r)
	})
	in := inputs(10, 1)
	res, err := runBatch(t, testClient(t), cfgSpec("BatchUpdateConfigurations", true, base), in)
	checkAccounting(t, res, len(in))
	if err == nil || len(res.Failed) != len(in) {
		t.Fatalf("err %v, %d failed", err, len(res.Failed))
	}
	var tl *hubspot.ResponseTooLargeError
	if f := res.Failed[0].Err; !errors.As(f, &tl) || !errors.Is(f, hubspot.ErrOutcomeUnknown) {
		t.Fatalf("failed[0] = %v, want ErrOutcomeUnknown wrapping *ResponseTooLargeError", f)
	}
	if n := n.Load(); n != 1 {
		t.Fatalf("sent %d times, want once (a too-large answer is not resent)", n)
	}
}

// TestRun_redacts207Messages: a 207 whose per-input messages echo the
// token leaves it in no Failed error, no BatchError and no log line.
func TestRun_redacts207Messages(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	mux.HandleFunc("POST "+cfgBase+"/batch/update", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Inputs []cfg }
		json.NewDecoder(r.Body).Decode(&body)
		var errs []map[string]any
		for _, c := range body.Inputs {
			errs = append(errs, map[string]any{"status": "error", "category": "VALIDATION_ERROR",
				"message": "token " + r.Header.Get("Authorization") + " is not allowed",
				"context": map[string][]string{"category": {c.Category}, "typeId": {strconv.Itoa(c.TypeID)}, "auth": {r.Header.Get("Authorization")}}})
		}
		rttest.WriteJSON(w, 207, map[string]any{"status": "COMPLETE", "results": []cfg{}, "errors": errs})
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	in := inputs(3, 1)
	res, err := runBatch(t, testClient(t, hubspot.WithLogger(logger)), cfgSpec("BatchUpdateConfigurations", true, base), in, hubspot.WithLogger(logger))
	if err == nil || len(res.Failed) != 3 {
		t.Fatalf("err %v, %d failed", err, len(res.Failed))
	}
	texts := []string{err.Error(), fmt.Sprintf("%+v", err), logs.String()}
	for _, f := range res.Failed {
		texts = append(texts, f.Err.Error(), fmt.Sprintf("%+v", f.Err))
	}
	for _, s := range texts {
		if strings.Contains(s, "SECRET") {
			t.Fatalf("token leaked: %s", rttest.Masked(s))
		}
	}
	if !strings.Contains(res.Failed[0].Err.Error(), "token Bearer [REDACTED]") {
		t.Fatalf("failed[0] = %v, want the redacted message", res.Failed[0].Err)
	}
}

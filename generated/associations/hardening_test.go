package associations_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

func limit(typeID, max int32) hubspottest.Limit {
	return hubspottest.Limit{FromObjectType: from, ToObjectType: to, Category: "USER_DEFINED", TypeID: typeID, MaxToObjectIDs: max}
}

func createOf(typeID, max int32) associations.LimitCreate {
	return associations.LimitCreate{
		Category: associations.AssociationCategoryUserDefined, TypeID: typeID, MaxToObjectIDs: max}
}

// TestSchema_CreateConfigurations_preExistingNeverSucceeds: the portal
// holds limit 279 = 1; a create of {279 -> 7, 280 -> 7} meets a cut-off
// list and a reset after apply. 279 is never reported created: with the
// baseline read again it fails as pre-existing; with no usable baseline both
// inputs fail with ErrOutcomeUnknown.
func TestSchema_CreateConfigurations_preExistingNeverSucceeds(t *testing.T) {
	t.Parallel()
	truncList := hubspottest.Fault{Kind: hubspottest.FaultTruncateBody, Op: hubspottest.OpListConfigurations}
	resetCreate := hubspottest.Fault{Kind: hubspottest.FaultResetAfterApply, Op: hubspottest.OpBatchCreateConfigurations}
	tests := []struct {
		name        string
		script      []hubspottest.Fault
		want280     string // "succeeded" or "unknown"
		want279Text string
	}{
		{"one cut-off baseline read is read again", []hubspottest.Fault{truncList, resetCreate}, "succeeded", "already existed before this run"},
		// Every request the baseline page may make (one count) is cut off.
		{"no usable baseline", []hubspottest.Fault{truncList, truncList, truncList, truncList, truncList, resetCreate}, "unknown", "without a baseline"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, b := setup(t, 300, []hubspottest.Option{hubspottest.WithLimit(limit(279, 1))})
			if err := srv.Script(tc.script...); err != nil {
				t.Fatal(err)
			}
			in := []associations.LimitCreate{createOf(279, 7), createOf(280, 7)}
			res, err := b.CreateConfigurations(context.Background(), from, to, in)
			checkAccounted(t, res, len(in))
			if err == nil {
				t.Fatal("err = nil, want the failure of 279")
			}
			for _, s := range res.Succeeded {
				if s.Input.TypeID == 279 {
					t.Fatalf("pre-existing 279 reported as created with %+v", s.Result)
				}
			}
			failed := map[int32]error{}
			for _, f := range res.Failed {
				failed[f.Input.TypeID] = f.Err
			}
			if e := failed[279]; e == nil || !strings.Contains(e.Error(), tc.want279Text) {
				t.Fatalf("279: %v, want a failure saying %q", e, tc.want279Text)
			}
			switch e := failed[280]; tc.want280 {
			case "succeeded":
				if e != nil || len(res.Succeeded) != 1 {
					t.Fatalf("280: %v, want succeeded", e)
				}
			case "unknown":
				if !errors.Is(e, hubspot.ErrOutcomeUnknown) || !errors.Is(failed[279], hubspot.ErrOutcomeUnknown) {
					t.Fatalf("279: %v; 280: %v; want both ErrOutcomeUnknown", failed[279], e)
				}
			}
			if got := limitsByType(srv); got[279] != 1 || got[280] != 7 {
				t.Fatalf("server: 279 = %d, 280 = %d; want 1 and 7", got[279], got[280])
			}
			if srv.PendingFaults() != 0 {
				t.Fatal("scripted faults left over")
			}
		})
	}
}

// TestSchema_outcomeUnknownAfterMaybeApplied: after a reset once the
// change is applied, then 503s until the transport gives up (update,
// purge) or cut-off read-backs (create), every input fails with
// ErrOutcomeUnknown wrapping the last error, and the server holds the
// change.
func TestSchema_outcomeUnknownAfterMaybeApplied(t *testing.T) {
	t.Parallel()
	const n = 3
	reset := func(op hubspottest.Operation) hubspottest.Fault {
		return hubspottest.Fault{Kind: hubspottest.FaultResetAfterApply, Op: op}
	}
	s503 := func(op hubspottest.Operation) hubspottest.Fault {
		return hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503, Op: op}
	}
	trunc := hubspottest.Fault{Kind: hubspottest.FaultTruncateBody, Op: hubspottest.OpListConfigurations}
	upd, purge, create := hubspottest.OpBatchUpdateConfigurations, hubspottest.OpBatchPurgeConfigurations, hubspottest.OpBatchCreateConfigurations
	tests := []struct {
		op       string
		existing bool
		script   []hubspottest.Fault
		run      func(b *associations.Schema) ([]error, error)
		want     map[int32]int32 // server limits afterwards
		lastErr  func(error) bool
	}{
		{"update", true, []hubspottest.Fault{reset(upd), s503(upd), s503(upd), s503(upd), s503(upd)},
			func(b *associations.Schema) ([]error, error) {
				res, err := b.UpdateConfigurations(context.Background(), from, to, updates(n, 42))
				return failures(res), err
			},
			map[int32]int32{1: 42, 2: 42, 3: 42}, is503},
		{"purge", true, []hubspottest.Fault{reset(purge), s503(purge), s503(purge), s503(purge), s503(purge)},
			func(b *associations.Schema) ([]error, error) {
				in := make([]associations.LimitKey, n)
				for i := range in {
					in[i] = associations.LimitKey{Category: associations.AssociationCategoryUserDefined, TypeID: int32(i + 1)}
				}
				res, err := b.PurgeConfigurations(context.Background(), from, to, in)
				return failures(res), err
			},
			map[int32]int32{}, is503},
		// The read-back is cut off on every request of its count
		// (hubspot.DefaultMaxAttempts).
		{"create", false, append([]hubspottest.Fault{reset(create)}, slices.Repeat([]hubspottest.Fault{trunc}, hubspot.DefaultMaxAttempts)...),
			func(b *associations.Schema) ([]error, error) {
				res, err := b.CreateConfigurations(context.Background(), from, to, creates(n, 42))
				return failures(res), err
			},
			map[int32]int32{1: 42, 2: 42, 3: 42},
			func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			var opts []hubspottest.Option
			if tc.existing {
				for i := int32(1); i <= n; i++ {
					opts = append(opts, hubspottest.WithLimit(limit(i, 1)))
				}
			}
			srv, b := setup(t, n, opts)
			if err := srv.Script(tc.script...); err != nil {
				t.Fatal(err)
			}
			errs, err := tc.run(b)
			if err == nil || len(errs) != n {
				t.Fatalf("err %v, %d failed; want all %d failed", err, len(errs), n)
			}
			for i, e := range errs {
				if !errors.Is(e, hubspot.ErrOutcomeUnknown) || !tc.lastErr(e) {
					t.Fatalf("failed[%d] = %v, want ErrOutcomeUnknown wrapping the last error", i, e)
				}
			}
			if got := limitsByType(srv); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("server limits %v, want %v", got, tc.want)
			}
			if srv.PendingFaults() != 0 {
				t.Fatal("scripted faults left over")
			}
		})
	}
}

func failures[In, Out any](res *hubspot.Result[In, Out]) []error {
	var out []error
	for _, f := range res.Failed {
		out = append(out, f.Err)
	}
	return out
}

func is503(err error) bool {
	var ae *hubspot.APIError
	return errors.As(err, &ae) && ae.StatusCode == 503
}

// TestSchema_CreateConfigurations_chaos: creates over a portal where some
// limits already exist, with seeded resets (before and after apply), cut-off
// answers and 5xx on every operation, reads included. Whatever happens, the
// server holds exactly the pre-existing limits, unchanged, plus the inputs
// reported Succeeded with the value asked, plus possibly inputs reported
// Failed with ErrOutcomeUnknown; nothing else.
func TestSchema_CreateConfigurations_chaos(t *testing.T) {
	t.Parallel()
	const n, pre, want = 400, 1, 5
	// Cut-off answers and resets after apply are what make outcomes
	// ambiguous; they are drawn most often.
	choices := []hubspottest.Fault{
		{Kind: hubspottest.FaultResetBeforeApply},
		{Kind: hubspottest.FaultResetAfterApply},
		{Kind: hubspottest.FaultResetAfterApply},
		{Kind: hubspottest.FaultTruncateBody},
		{Kind: hubspottest.FaultTruncateBody},
		{Kind: hubspottest.FaultTruncateBody},
		{Kind: hubspottest.FaultStatus, Status: 500},
		{Kind: hubspottest.FaultStatus, Status: 503},
	}
	for seed := int64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			opts := []hubspottest.Option{hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Seed: seed, Probability: 0.5, Choices: choices})}
			existed := map[int32]bool{}
			for i := int32(1); i <= n; i += 7 {
				existed[i] = true
				opts = append(opts, hubspottest.WithLimit(limit(i, pre)))
			}
			srv, b := setup(t, n, opts, hubspot.WithChunkSize(10))
			res, _ := b.CreateConfigurations(context.Background(), from, to, creates(n, want))
			checkAccounted(t, res, n)
			got := limitsByType(srv)
			for id := range existed {
				if got[id] != pre {
					t.Fatalf("pre-existing %d changed to %d", id, got[id])
				}
				delete(got, id)
			}
			for _, s := range res.Succeeded {
				id := s.Input.TypeID
				if existed[id] {
					t.Fatalf("pre-existing %d reported as created", id)
				}
				if got[id] != want {
					t.Fatalf("%d reported created, server holds %d", id, got[id])
				}
				delete(got, id)
			}
			unknown := 0
			for _, f := range res.Failed {
				if errors.Is(f.Err, hubspot.ErrOutcomeUnknown) {
					unknown++
					delete(got, f.Input.TypeID)
				}
			}
			if len(got) != 0 {
				t.Fatalf("server holds %d limits reported neither created nor unknown: %v", len(got), got)
			}
			st := srv.Stats()
			if st.Faults == 0 || len(res.Succeeded) == 0 {
				t.Fatalf("%d faults, %d succeeded: the run proves nothing", st.Faults, len(res.Succeeded))
			}
			t.Logf("seed %d: %d succeeded, %d failed (%d unknown), %d not attempted; %d requests, %d faults",
				seed, len(res.Succeeded), len(res.Failed), unknown, len(res.NotAttempted), st.Requests, st.Faults)
		})
	}
}

// endless answers status with a JSON body that never ends, up to max bytes.
func endless(status int, max int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"results":[`)
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for sent := int64(0); sent < max; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// TestClientWithResponses_ListLabelsWithResponse_bodyCapped: a 200 and a 400
// streaming 256 MiB each end in a *hubspot.ResponseTooLargeError after
// MaxResponseBodyBytes, and the client allocates a small multiple of the cap
// in all, not the body size (measured with runtime.MemStats; not parallel,
// so other tests do not allocate meanwhile).
func TestClientWithResponses_ListLabelsWithResponse_bodyCapped(t *testing.T) {
	const bodySize = 256 << 20
	mux := http.NewServeMux()
	mux.HandleFunc("GET /crm/associations/2026-03/{from}/{to}/labels", func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		if r.PathValue("from") == "bad" {
			status = http.StatusBadRequest
		}
		endless(status, bodySize)(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken(token), hubspot.WithLimiter(nil))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, fromType := range []string{"contacts", "bad"} {
		resp, err := client.ListLabelsWithResponse(context.Background(), fromType, "companies")
		var tl *hubspot.ResponseTooLargeError
		if !errors.As(err, &tl) || tl.Limit != hubspot.MaxResponseBodyBytes {
			t.Fatalf("%s: resp %v, err %v; want a *hubspot.ResponseTooLargeError", fromType, resp, err)
		}
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("two calls against 2 x %d MiB bodies: %.1f MiB allocated in all (cap %d MiB per body)",
		bodySize>>20, float64(allocated)/(1<<20), hubspot.MaxResponseBodyBytes>>20)
	if allocated > 16*hubspot.MaxResponseBodyBytes {
		t.Fatalf("allocated %d bytes for capped bodies, want at most %d", allocated, 16*hubspot.MaxResponseBodyBytes)
	}
}

// TestClientWithResponses_redactsDecodeErrors: a 200 whose date-time field
// holds the token gives a decode error that does not quote it.
func TestClientWithResponses_redactsDecodeErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"COMPLETE","results":[],"startedAt":%q,"completedAt":%q}`, tok, tok)
	}))
	defer srv.Close()
	client, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken(token), hubspot.WithLimiter(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = client.BatchUpdateConfigurationsWithResponse(ctx, from, to, associations.BatchUpdateConfigurationsJSONRequestBody{Inputs: updates(1, 2)})
	if err == nil || !strings.Contains(err.Error(), "parsing time") {
		t.Fatalf("err = %v, want a decode error", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Fatalf("decode error quotes the token: %s", strings.ReplaceAll(err.Error(), token, "<TOKEN>"))
	}
}

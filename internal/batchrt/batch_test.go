package batchrt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
	"github.com/crmkit/hubspot-associations/internal/batchrt"
)

// These tests run the batch engine against hubspottest, the fake API, with
// a BatchSpec written here (the generated Schema builds the same).

const (
	token   = "pat-na1-batch-test-token"
	fromObj = "2-1001"
	toObj   = "2-1002"
)

// limit is an input: an association limit.
type limit struct {
	Category string `json:"category"`
	TypeID   int32  `json:"typeId"`
	Max      int32  `json:"maxToObjectIds"`
}

// config is a result: a configuration as HubSpot answers it.
type config struct {
	Category        string `json:"category"`
	TypeID          int32  `json:"typeId"`
	UserEnforcedMax *int32 `json:"userEnforcedMaxToObjectIds"`
}

func key(category string, typeID int32) string { return category + "/" + strconv.Itoa(int(typeID)) }

// fake starts the fake API with n USER_DEFINED association types (typeId
// 1..n) and returns it with a client for it.
func fake(t *testing.T, n int, opts ...hubspottest.Option) (*hubspottest.Server, *http.Client) {
	t.Helper()
	all := []hubspottest.Option{hubspottest.WithToken(token), hubspottest.WithRateLimit(10000, time.Second)}
	for i := 1; i <= n; i++ {
		all = append(all, hubspottest.WithAssociationType(hubspottest.AssociationType{
			FromObjectType: fromObj, ToObjectType: toObj, Category: "USER_DEFINED", TypeID: int32(i), Label: fmt.Sprint("type ", i)}))
	}
	srv := hubspottest.NewServer(t, append(all, opts...)...)
	return srv, client(t, token)
}

func client(t *testing.T, tok string) *http.Client {
	hc, err := hubspot.NewHTTPClient(hubspot.WithToken(tok), hubspot.WithLimiter(nil),
		hubspot.WithRetryPolicy(hubspot.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// spec is the BatchSpec of batch/create, batch/update or batch/purge.
func spec(srv *hubspottest.Server, op string) batchrt.BatchSpec[limit, config] {
	base := srv.URL + "/crm/associations/2026-03/definitions/configurations/" + fromObj + "/" + toObj
	s := batchrt.BatchSpec[limit, config]{
		Operation:      op,
		Idempotent:     op != "create",
		AppendInputKey: func(dst []byte, in limit) []byte { return append(dst, key(in.Category, in.TypeID)...) },
		KeyFields: func(in limit) map[string]string {
			return map[string]string{"category": in.Category, "typeId": strconv.Itoa(int(in.TypeID))}
		},
		Send: func(ctx context.Context, d batchrt.Doer, chunk []limit) (*http.Response, error) {
			if op == "purge" {
				type spec struct {
					Category string `json:"category"`
					TypeID   int32  `json:"typeId"`
				}
				specs := make([]spec, len(chunk))
				for i, c := range chunk {
					specs[i] = spec{c.Category, c.TypeID}
				}
				return post(ctx, d, base+"/batch/purge", specs)
			}
			return post(ctx, d, base+"/batch/"+op, chunk)
		},
	}
	if op != "purge" {
		s.AppendResultKey = func(dst []byte, out config) []byte { return append(dst, key(out.Category, out.TypeID)...) }
	}
	if op == "create" {
		s.ReadBack = func(ctx context.Context, r *batchrt.Runtime) ([]config, error) { return list(ctx, r, base) }
		s.Matches = func(in limit, out config) bool { return out.UserEnforcedMax != nil && *out.UserEnforcedMax == in.Max }
	}
	return s
}

func post[T any](ctx context.Context, hc batchrt.Doer, url string, inputs []T) (*http.Response, error) {
	b, err := json.Marshal(map[string]any{"inputs": inputs})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return hc.Do(req)
}

func list(ctx context.Context, r *batchrt.Runtime, url string) ([]config, error) {
	return batchrt.Collect(batchrt.Pages[config](ctx, r, func(ctx context.Context, d batchrt.Doer, after string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		return d.Do(req)
	}))
}

func limits(n int, max int32) []limit {
	in := make([]limit, n)
	for i := range in {
		in[i] = limit{Category: "USER_DEFINED", TypeID: int32(i + 1), Max: max}
	}
	return in
}

// seed gives the first n association types the limit max on the server.
func seed(t *testing.T, srv *hubspottest.Server, n int, max int32) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := srv.SetLimit(hubspottest.Limit{FromObjectType: fromObj, ToObjectType: toObj, Category: "USER_DEFINED", TypeID: int32(i), MaxToObjectIDs: max}); err != nil {
			t.Fatal(err)
		}
	}
	srv.ResetStats()
}

func serverLimits(srv *hubspottest.Server) map[int32]int32 {
	m := map[int32]int32{}
	for _, l := range srv.Limits() {
		m[l.TypeID] = l.MaxToObjectIDs
	}
	return m
}

func run(t *testing.T, ctx context.Context, hc *http.Client, s batchrt.BatchSpec[limit, config], in []limit, opts ...hubspot.Option) (*hubspot.Result[limit, config], error) {
	t.Helper()
	r, err := batchrt.ForClient(hc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	res, err := batchrt.Run(ctx, r, s, in)
	checkAccounted(t, res, len(in))
	return res, err
}

// checkAccounted asserts every input index appears exactly once.
func checkAccounted(t *testing.T, res *hubspot.Result[limit, config], n int) {
	t.Helper()
	seen := make([]int, n)
	for _, s := range res.Succeeded {
		seen[s.Index]++
	}
	for _, f := range res.Failed {
		seen[f.Index]++
		if f.Err == nil {
			t.Fatalf("failed input %d has no error", f.Index)
		}
	}
	for _, na := range res.NotAttempted {
		seen[na.Index]++
		if na.Reason == nil {
			t.Fatalf("not-attempted input %d has no reason", na.Index)
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("input %d accounted %d times", i, c)
		}
	}
}

func TestRun_chunksAndProgress(t *testing.T) {
	t.Parallel()
	srv, hc := fake(t, 250)
	seed(t, srv, 250, 99)
	var last hubspot.Progress
	var calls int
	res, err := run(t, context.Background(), hc, spec(srv, "update"), limits(250, 3),
		hubspot.WithProgress(func(p hubspot.Progress) { calls++; last = p }))
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats().ByOperation[hubspottest.OpBatchUpdateConfigurations]; n != 3 || res.Requests != 3 || res.Retries != 0 || res.Resends != 0 {
		t.Fatalf("server saw %d updates; result: %d requests, %d retries, %d resends", n, res.Requests, res.Retries, res.Resends)
	}
	if got := res.Succeeded[7].Result; got.TypeID != 8 || got.UserEnforcedMax == nil || *got.UserEnforcedMax != 3 {
		t.Fatalf("result of input 7 = %+v", got)
	}
	if calls != 4 || last.Done != 250 || last.Total != 250 || last.Succeeded != 250 || last.Requests != 3 {
		t.Fatalf("%d progress calls (want 3 chunks + the end), last %+v", calls, last)
	}
	for id, v := range serverLimits(srv) {
		if v != 3 {
			t.Fatalf("type %d has limit %d", id, v)
		}
	}
}

func TestRun_tooLargeSplits(t *testing.T) {
	t.Parallel()
	srv, hc := fake(t, 100, hubspottest.WithMaxBatchInputs(30))
	res, err := run(t, context.Background(), hc, spec(srv, "create"), limits(100, 4))
	if err != nil {
		t.Fatal(err)
	}
	// 100 -> 50 + 50 -> four 25s: three refusals, four accepted.
	st := srv.Stats()
	if st.ByOperation[hubspottest.OpBatchCreateConfigurations] != 7 || st.ByStatus[400] != 3 || res.Resends != 0 {
		t.Fatalf("creates %d, 400s %d, resends %d", st.ByOperation[hubspottest.OpBatchCreateConfigurations], st.ByStatus[400], res.Resends)
	}
	if len(serverLimits(srv)) != 100 {
		t.Fatalf("server holds %d limits", len(serverLimits(srv)))
	}
}

// TestRun_ambiguousCreateReadsBack: a create whose outcome is unknown
// is read back; what is there with the value asked for succeeds, what is
// missing is sent again, and nothing is created twice.
func TestRun_ambiguousCreateReadsBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       hubspottest.Fault
		wantCreates int
	}{
		{"reset after applying", hubspottest.Fault{Kind: hubspottest.FaultResetAfterApply}, 1},
		{"reset before applying", hubspottest.Fault{Kind: hubspottest.FaultResetBeforeApply}, 2},
		{"503, not applied", hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503}, 2},
		{"cut-off answer", hubspottest.Fault{Kind: hubspottest.FaultTruncateBody}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, hc := fake(t, 100)
			tc.fault.Op = hubspottest.OpBatchCreateConfigurations
			if err := srv.Script(tc.fault); err != nil {
				t.Fatal(err)
			}
			res, err := run(t, context.Background(), hc, spec(srv, "create"), limits(100, 5))
			if err != nil {
				t.Fatal(err)
			}
			st := srv.Stats()
			if st.ByOperation[hubspottest.OpBatchCreateConfigurations] != tc.wantCreates || st.ByOperation[hubspottest.OpListConfigurations] != 2 {
				t.Fatalf("creates %d (want %d), lists %d (want baseline + one read-back)",
					st.ByOperation[hubspottest.OpBatchCreateConfigurations], tc.wantCreates, st.ByOperation[hubspottest.OpListConfigurations])
			}
			if res.Resends != tc.wantCreates-1 {
				t.Fatalf("resends %d", res.Resends)
			}
			if got := serverLimits(srv); len(got) != 100 || got[1] != 5 || got[100] != 5 {
				t.Fatalf("server holds %v", got)
			}
		})
	}
}

func TestRun_concurrencyBound(t *testing.T) {
	t.Parallel()
	srv, hc := fake(t, 600, hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Seed: 1, Probability: 1,
		Choices: []hubspottest.Fault{{Kind: hubspottest.FaultLatency, Delay: time.Millisecond}}}))
	if _, err := run(t, context.Background(), hc, spec(srv, "create"), limits(600, 2),
		hubspot.WithChunkSize(20), hubspot.WithConcurrency(3)); err != nil {
		t.Fatal(err)
	}
	if m := srv.Stats().MaxInFlight; m > 3 {
		t.Fatalf("max in flight %d, want at most 3", m)
	}
}

func TestRun_cancel(t *testing.T) {
	t.Parallel()
	srv, hc := fake(t, 100)
	seed(t, srv, 100, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := run(t, ctx, hc, spec(srv, "update"), limits(100, 2),
		hubspot.WithChunkSize(10), hubspot.WithConcurrency(1), hubspot.WithProgress(func(p hubspot.Progress) {
			if p.Done == 20 {
				cancel()
			}
		}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(res.Succeeded) != 20 || len(res.Failed) != 0 || len(res.NotAttempted) != 80 {
		t.Fatalf("succeeded %d failed %d not attempted %d", len(res.Succeeded), len(res.Failed), len(res.NotAttempted))
	}
	if r := res.NotAttempted[0].Reason; !errors.Is(r, context.Canceled) || !errors.Is(r, hubspot.ErrNotAttempted) {
		t.Fatalf("reason = %v", r)
	}
	if n := srv.Stats().ByOperation[hubspottest.OpBatchUpdateConfigurations]; n != 2 {
		t.Fatalf("server saw %d updates, want 2", n)
	}
}

// TestRun_fatalStops: a DAILY 429 or a rejected token stops the run;
// what was not sent is NotAttempted with the reason.
func TestRun_fatalStops(t *testing.T) {
	t.Parallel()
	t.Run("daily 429", func(t *testing.T) {
		t.Parallel()
		// The baseline read-back and two creates fit in the day.
		srv, hc := fake(t, 50, hubspottest.WithDailyLimit(3))
		res, err := run(t, context.Background(), hc, spec(srv, "create"), limits(50, 1),
			hubspot.WithChunkSize(10), hubspot.WithConcurrency(1), hubspot.WithResendUnknown())
		var rl *hubspot.RateLimitError
		if !errors.As(err, &rl) || !rl.Daily() || !hubspot.IsFatal(err) {
			t.Fatalf("err = %v, want a DAILY *RateLimitError", err)
		}
		if len(res.Succeeded) != 20 || len(res.Failed) != 10 || len(res.NotAttempted) != 20 || res.Requests != 4 || res.RateLimited != 1 {
			t.Fatalf("succeeded %d failed %d not attempted %d, %d requests, %d 429s",
				len(res.Succeeded), len(res.Failed), len(res.NotAttempted), res.Requests, res.RateLimited)
		}
		if !errors.As(res.NotAttempted[0].Reason, &rl) || !errors.As(res.Failed[0].Err, &rl) {
			t.Fatalf("reasons: %v / %v", res.NotAttempted[0].Reason, res.Failed[0].Err)
		}
	})
	t.Run("401", func(t *testing.T) {
		t.Parallel()
		srv, _ := fake(t, 50)
		res, err := run(t, context.Background(), client(t, "pat-na1-wrong"), spec(srv, "update"), limits(50, 1),
			hubspot.WithChunkSize(10), hubspot.WithConcurrency(1))
		var ae *hubspot.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Category != hubspot.CategoryInvalidAuth {
			t.Fatalf("err = %v, want a 401 *APIError", err)
		}
		if len(res.Failed) != 10 || len(res.NotAttempted) != 40 || srv.Stats().Requests != 1 {
			t.Fatalf("failed %d not attempted %d, server saw %d requests", len(res.Failed), len(res.NotAttempted), srv.Stats().Requests)
		}
	})
}

func TestRun_validationSendsNothing(t *testing.T) {
	t.Parallel()
	srv, hc := fake(t, 5)
	s := spec(srv, "create")
	s.Validate = func(in limit) []string {
		if in.TypeID < 1 {
			return []string{"typeId must be at least 1"}
		}
		return nil
	}
	in := limits(5, 1)
	in[1].TypeID = 0
	in[3] = in[0]
	res, err := run(t, context.Background(), hc, s, in)
	var ve *hubspot.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 || ve.Problems[0].Index != 1 || ve.Problems[1].Index != 3 {
		t.Fatalf("err = %v", err)
	}
	if len(res.NotAttempted) != 5 || srv.Stats().Requests != 0 {
		t.Fatalf("not attempted %d, server saw %d requests", len(res.NotAttempted), srv.Stats().Requests)
	}
}

func TestRun_purgeNoContent(t *testing.T) {
	t.Parallel()
	srv, hc := fake(t, 30)
	seed(t, srv, 30, 1)
	if _, err := run(t, context.Background(), hc, spec(srv, "purge"), limits(30, 0), hubspot.WithChunkSize(7)); err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats().ByStatus[204]; n != 5 || len(srv.Limits()) != 0 {
		t.Fatalf("%d answers 204, %d limits left", n, len(srv.Limits()))
	}
}

// TestRun_WithResendUnknown: an update whose every attempt was cut off
// after HubSpot applied it fails with ErrOutcomeUnknown, with or without
// WithResendUnknown: the Transport's attempts spent the input's one count
// (RetryPolicy.MaxAttempts), so there is nothing left to resend with.
func TestRun_WithResendUnknown(t *testing.T) {
	t.Parallel()
	for _, resend := range []bool{false, true} {
		t.Run(fmt.Sprint("resend=", resend), func(t *testing.T) {
			t.Parallel()
			srv, hc := fake(t, 10)
			seed(t, srv, 10, 1)
			var faults []hubspottest.Fault
			for range hubspot.DefaultMaxAttempts { // every attempt of the Transport's first request
				faults = append(faults, hubspottest.Fault{Kind: hubspottest.FaultResetAfterApply, Op: hubspottest.OpBatchUpdateConfigurations})
			}
			if err := srv.Script(faults...); err != nil {
				t.Fatal(err)
			}
			var opts []hubspot.Option
			if resend {
				opts = append(opts, hubspot.WithResendUnknown())
			}
			res, err := run(t, context.Background(), hc, spec(srv, "update"), limits(10, 2), opts...)
			if err == nil || len(res.Failed) != 10 || !errors.Is(res.Failed[0].Err, hubspot.ErrOutcomeUnknown) {
				t.Fatalf("err %v; failed %d", err, len(res.Failed))
			}
			if res.Resends != 0 || res.Requests != hubspot.DefaultMaxAttempts || srv.Stats().Requests != hubspot.DefaultMaxAttempts {
				t.Fatalf("%d resends, %d requests (server %d)", res.Resends, res.Requests, srv.Stats().Requests)
			}
		})
	}
}

// TestPages_cutOffBodyRetried: a page whose answer is cut off is requested
// again; the list is complete.
func TestPages_cutOffBodyRetried(t *testing.T) {
	t.Parallel()
	srv, hc := fake(t, 20)
	seed(t, srv, 20, 3)
	if err := srv.Script(hubspottest.Fault{Kind: hubspottest.FaultTruncateBody, Op: hubspottest.OpListConfigurations}); err != nil {
		t.Fatal(err)
	}
	r, err := batchrt.ForClient(hc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := list(context.Background(), r, srv.URL+"/crm/associations/2026-03/definitions/configurations/"+fromObj+"/"+toObj)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 20 || srv.Stats().ByOperation[hubspottest.OpListConfigurations] != 2 {
		t.Fatalf("%d configurations after %d requests", len(got), srv.Stats().ByOperation[hubspottest.OpListConfigurations])
	}
}

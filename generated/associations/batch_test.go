package associations_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

const token = "pat-na1-test-token"

// The object types the tests associate; custom objects hold as many
// association types as a test needs.
const (
	from = "2-1001"
	to   = "2-1002"
)

// setup starts the fake with n USER_DEFINED association types (typeId
// 1..n) from -> to and returns a Schema over a default client.
func setup(t *testing.T, n int, srvOpts []hubspottest.Option, batchOpts ...hubspot.Option) (*hubspottest.Server, *associations.Schema) {
	t.Helper()
	opts := []hubspottest.Option{hubspottest.WithToken(token), hubspottest.WithRateLimit(10000, time.Second)}
	for i := 1; i <= n; i++ {
		opts = append(opts, hubspottest.WithAssociationType(hubspottest.AssociationType{
			FromObjectType: from, ToObjectType: to, Category: "USER_DEFINED", TypeID: int32(i), Label: fmt.Sprintf("type %d", i),
		}))
	}
	srv := hubspottest.NewServer(t, append(opts, srvOpts...)...)
	// Each test's server has its own window: a limiter per test, not the
	// one shared by every client of the token in this process (a client
	// given a store creates its own limiter on it).
	b, err := associations.New(token, append([]hubspot.Option{hubspot.WithBaseURL(srv.URL),
		hubspot.WithWindowStore(hubspot.NewMemoryStore()), hubspot.WithRetryPolicy(hubspot.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})},
		batchOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, b
}

func creates(n int, max int32) []associations.LimitCreate {
	in := make([]associations.LimitCreate, n)
	for i := range in {
		in[i] = associations.LimitCreate{
			Category: associations.AssociationCategoryUserDefined, TypeID: int32(i + 1), MaxToObjectIDs: max,
		}
	}
	return in
}

func updates(n int, max int32) []associations.LimitUpdate {
	in := make([]associations.LimitUpdate, n)
	for i := range in {
		in[i] = associations.LimitUpdate{
			Category: associations.AssociationCategoryUserDefined, TypeID: int32(i + 1), MaxToObjectIDs: max,
		}
	}
	return in
}

// checkAccounted asserts every input index appears exactly once.
func checkAccounted[In, Out any](t *testing.T, res *hubspot.Result[In, Out], n int) {
	t.Helper()
	seen := make([]int, n)
	for _, s := range res.Succeeded {
		seen[s.Index]++
	}
	for _, f := range res.Failed {
		seen[f.Index]++
	}
	for _, na := range res.NotAttempted {
		seen[na.Index]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("input %d accounted %d times (succeeded %d, failed %d, not attempted %d)", i, c, len(res.Succeeded), len(res.Failed), len(res.NotAttempted))
		}
	}
}

func limitsByType(srv *hubspottest.Server) map[int32]int32 {
	m := map[int32]int32{}
	for _, l := range srv.Limits() {
		m[l.TypeID] = l.MaxToObjectIDs
	}
	return m
}

func TestSchema_lifecycle(t *testing.T) {
	t.Parallel()
	const n = 250
	var progress []hubspot.Progress
	srv, b := setup(t, n, nil, hubspot.WithProgress(func(p hubspot.Progress) { progress = append(progress, p) }))
	ctx := context.Background()

	res, err := b.CreateConfigurations(ctx, from, to, creates(n, 3))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	checkAccounted(t, res, n)
	if len(res.Succeeded) != n {
		t.Fatalf("create succeeded %d, want %d", len(res.Succeeded), n)
	}
	for _, s := range res.Succeeded {
		if s.Result.TypeID != s.Input.TypeID || s.Result.Category != s.Input.Category {
			t.Fatalf("input %d matched to result %+v", s.Index, s.Result)
		}
	}
	if got := limitsByType(srv); len(got) != n || got[1] != 3 {
		t.Fatalf("server limits = %d (typeId 1 -> %d), want %d of 3", len(got), got[1], n)
	}
	if last := progress[len(progress)-1]; last.Done != n || last.Total != n {
		t.Errorf("last progress = %+v, want done = total = %d", last, n)
	}

	up, err := b.UpdateConfigurations(ctx, from, to, updates(n, 7))
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	checkAccounted(t, up, n)
	if got := limitsByType(srv); got[n] != 7 {
		t.Fatalf("after update typeId %d -> %d, want 7", n, got[n])
	}

	configs, err := b.Configurations(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(configs) < n {
		t.Fatalf("Configurations = %d, want at least %d", len(configs), n)
	}
	limited := 0
	for _, c := range configs {
		if c.UserEnforcedMaxToObjectIDs != nil && *c.UserEnforcedMaxToObjectIDs == 7 {
			limited++
		}
	}
	if limited != n {
		t.Errorf("%d configurations read back with limit 7, want %d", limited, n)
	}
	all, err := b.AllConfigurations(ctx)
	if err != nil || len(all) < n {
		t.Fatalf("AllConfigurations = %d, %v", len(all), err)
	}

	purge := make([]associations.LimitKey, n)
	for i := range purge {
		purge[i] = associations.LimitKey{Category: associations.AssociationCategoryUserDefined, TypeID: int32(i + 1)}
	}
	pr, err := b.PurgeConfigurations(ctx, from, to, purge)
	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	checkAccounted(t, pr, n)
	if got := srv.Limits(); len(got) != 0 {
		t.Errorf("after purge the server holds %d limits", len(got))
	}
}

func TestSchema_Labels(t *testing.T) {
	t.Parallel()
	srv, b := setup(t, 0, nil)
	client, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cr, err := client.CreateLabelWithResponse(ctx, "contacts", "companies", associations.CreateLabelJSONRequestBody{Label: "Mentor", Name: "mentor"})
	if err != nil || cr.JSON200 == nil {
		t.Fatalf("create label: %v, status %d", err, cr.StatusCode())
	}
	labels, err := b.Labels(ctx, "contacts", "companies")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range labels {
		if l.Label != nil && *l.Label == "Mentor" && l.Category == associations.AssociationCategoryUserDefined {
			found = true
		}
	}
	if !found {
		t.Errorf("Labels = %+v, want the new Mentor label", labels)
	}
	seq := 0
	for _, err := range b.LabelsSeq(ctx, "contacts", "companies") {
		if err != nil {
			t.Fatal(err)
		}
		seq++
	}
	if seq != len(labels) {
		t.Errorf("LabelsSeq yielded %d, Labels %d", seq, len(labels))
	}
}

func TestSchema_validation_sendsNothing(t *testing.T) {
	t.Parallel()
	srv, b := setup(t, 5, nil)
	in := creates(5, 1)
	in[1].Category = "MADE_UP"
	in[2].TypeID = 0
	in[3].MaxToObjectIDs = -1
	in[4].TypeID = 1 // duplicate of input 0
	res, err := b.CreateConfigurations(context.Background(), from, to, in)
	var ve *hubspot.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *hubspot.ValidationError", err)
	}
	for _, want := range []string{"1", "2", "3", "4", "MADE_UP", "typeId", "maxToObjectIds"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if got := srv.Stats().Requests; got != 0 {
		t.Errorf("server saw %d requests, want none", got)
	}
	if res != nil {
		checkAccounted(t, res, len(in))
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestSchema_partialFailure207(t *testing.T) {
	t.Parallel()
	srv, b := setup(t, 10, nil)
	for i := int32(1); i <= 5; i++ {
		if err := srv.SetLimit(hubspottest.Limit{FromObjectType: from, ToObjectType: to, Category: "USER_DEFINED", TypeID: i, MaxToObjectIDs: 1}); err != nil {
			t.Fatal(err)
		}
	}
	// Types 6..10 have no limit yet: updating them fails per input.
	res, err := b.UpdateConfigurations(context.Background(), from, to, updates(10, 4))
	if err == nil {
		t.Fatal("err = nil, want a partial failure")
	}
	checkAccounted(t, res, 10)
	if len(res.Succeeded) != 5 || len(res.Failed) != 5 {
		t.Fatalf("succeeded %d failed %d, want 5 and 5", len(res.Succeeded), len(res.Failed))
	}
	for _, f := range res.Failed {
		if f.Input.TypeID < 6 {
			t.Errorf("input %d (typeId %d) failed, want only 6..10", f.Index, f.Input.TypeID)
		}
		var apiErr *hubspot.APIError
		if !errors.As(f.Err, &apiErr) || apiErr.Message == "" {
			t.Errorf("input %d: err %v, want an *APIError with HubSpot's message", f.Index, f.Err)
		}
	}
}

func TestSchema_splitsChunksHubSpotRejects(t *testing.T) {
	t.Parallel()
	const n = 90
	srv, b := setup(t, n, []hubspottest.Option{hubspottest.WithMaxBatchInputs(20)})
	res, err := b.CreateConfigurations(context.Background(), from, to, creates(n, 2))
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, res, n)
	if got := len(srv.Limits()); got != n {
		t.Errorf("server holds %d limits, want %d", got, n)
	}
}

func TestSchema_dailyLimitStops(t *testing.T) {
	t.Parallel()
	const n = 500
	srv, b := setup(t, n, []hubspottest.Option{hubspottest.WithDailyLimit(3)}, hubspot.WithConcurrency(1))
	res, err := b.UpdateConfigurations(context.Background(), from, to, updates(n, 1))
	var rl *hubspot.RateLimitError
	if !errors.As(err, &rl) || !rl.Daily() {
		t.Fatalf("err = %v, want a DAILY *hubspot.RateLimitError", err)
	}
	checkAccounted(t, res, n)
	if len(res.NotAttempted) == 0 {
		t.Error("no input reported not attempted after the daily limit")
	}
	if st := srv.Stats(); st.RateLimited != 1 {
		t.Errorf("server sent %d 429s, want exactly 1 (no retry storm)", st.RateLimited)
	}
}

func TestSchema_cancel(t *testing.T) {
	t.Parallel()
	const n = 1000
	ctx, cancel := context.WithCancel(context.Background())
	_, b := setup(t, n, nil, hubspot.WithConcurrency(1), hubspot.WithProgress(func(p hubspot.Progress) {
		if p.Done >= 200 {
			cancel()
		}
	}))
	res, err := b.UpdateConfigurations(ctx, from, to, updates(n, 1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	checkAccounted(t, res, n)
	if len(res.NotAttempted) < n/2 {
		t.Errorf("not attempted %d, want most of the %d inputs", len(res.NotAttempted), n)
	}
}

// TestSchema_faults drives creates through random faults (5xx, resets
// before and after applying, truncated bodies) and 429s: every input is
// accounted once and the server holds exactly the inputs reported done.
func TestSchema_faults(t *testing.T) {
	t.Parallel()
	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			n := 1500 + rand.New(rand.NewPCG(uint64(seed), 0)).IntN(500)
			srv, b := setup(t, n, []hubspottest.Option{
				hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Seed: seed, Probability: 0.15}),
				hubspottest.WithRateLimit(40, 100*time.Millisecond),
			}, hubspot.WithChunkSize(50))
			res, _ := b.CreateConfigurations(context.Background(), from, to, creates(n, 9))
			checkAccounted(t, res, n)
			got := limitsByType(srv)
			for _, s := range res.Succeeded {
				if got[s.Input.TypeID] != 9 {
					t.Errorf("input %d reported created, server has %d", s.Index, got[s.Input.TypeID])
				}
				delete(got, s.Input.TypeID)
			}
			for _, f := range res.Failed {
				if errors.Is(f.Err, hubspot.ErrOutcomeUnknown) {
					delete(got, f.Input.TypeID) // may or may not have been applied
				}
			}
			if len(got) != 0 {
				t.Errorf("server holds %d limits reported neither created nor unknown", len(got))
			}
			st := srv.Stats()
			if st.Faults == 0 {
				t.Error("no fault was injected; the test proves nothing")
			}
			t.Logf("seed %d: %d inputs, %d succeeded, %d failed, %d not attempted; %d requests, %d faults, %d 429s",
				seed, n, len(res.Succeeded), len(res.Failed), len(res.NotAttempted), st.Requests, st.Faults, st.RateLimited)
		})
	}
}

// TestSchema_rateLimitedRun updates 20,000 limits against a server that
// allows 100 requests per second and reports the figures the issue asks
// for. It asserts correctness only; the numbers are logged, not timed.
func TestSchema_rateLimitedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 inputs; skipped with -short")
	}
	const n, limit, interval = 20000, 100, time.Second
	srv, b := setup(t, n, []hubspottest.Option{hubspottest.WithRateLimit(limit, interval)})
	for i := 1; i <= n; i++ {
		if err := srv.SetLimit(hubspottest.Limit{FromObjectType: from, ToObjectType: to, Category: "USER_DEFINED", TypeID: int32(i), MaxToObjectIDs: 1}); err != nil {
			t.Fatal(err)
		}
	}
	srv.ResetStats()
	start := time.Now()
	res, err := b.UpdateConfigurations(context.Background(), from, to, updates(n, 2))
	wall := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounted(t, res, n)
	st := srv.Stats()
	chunks := int(math.Ceil(float64(n) / hubspot.DefaultChunkSize))
	// Any window of length interval admits limit requests: the last of
	// chunks requests can start (chunks-limit)/limit intervals in.
	minimum := time.Duration(float64(chunks-limit) / limit * float64(interval))
	t.Logf("20,000 inputs at %d req/%v: %d requests (%d chunks), %d 429s, wall %v, theoretical minimum %v (ratio %.2f)",
		limit, interval, st.Requests, chunks, st.RateLimited, wall.Round(time.Millisecond), minimum, float64(wall)/float64(minimum))
}

// TestSchema_resendsAfterUnreadableAnswer: a cut-off answer to an
// idempotent update is resent; a 503 on a create is resolved by read-back.
func TestSchema_resendsAfterUnreadableAnswer(t *testing.T) {
	t.Parallel()
	const n = 150
	srv, b := setup(t, n, nil)
	if err := srv.Script(
		hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503, Op: hubspottest.OpBatchCreateConfigurations},
		hubspottest.Fault{Kind: hubspottest.FaultTruncateBody, Op: hubspottest.OpBatchUpdateConfigurations},
	); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if res, err := b.CreateConfigurations(ctx, from, to, creates(n, 1)); err != nil {
		t.Fatalf("create after a 503: %v (failed %d)", err, len(res.Failed))
	}
	res, err := b.UpdateConfigurations(ctx, from, to, updates(n, 6))
	if err != nil {
		t.Fatalf("update after a cut-off answer: %v", err)
	}
	checkAccounted(t, res, n)
	if got := limitsByType(srv); len(got) != n || got[1] != 6 || got[n] != 6 {
		t.Errorf("server limits = %d entries, want %d set to 6", len(got), n)
	}
	if srv.PendingFaults() != 0 {
		t.Error("scripted faults were not all used")
	}
}

package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cfg is a stand-in for a generated association limit configuration.
type cfg struct {
	Category string `json:"category"`
	TypeID   int    `json:"typeId"`
	Max      int    `json:"maxToObjectIds"`
}

func cfgKey(c cfg) string { return c.Category + "/" + strconv.Itoa(c.TypeID) }

const cfgBase = "/crm/associations/2026-03/definitions/configurations/0-1/0-2"

type fault int

const (
	noFault fault = iota
	fault429
	fault503Before
	fault500Before
	faultResetBefore
	fault500After
	fault502After
	fault504After
	faultResetAfter
	faultPartial
)

// store is an httptest-backed fake of the association limit configurations.
type store struct {
	t        *testing.T
	mu       sync.Mutex
	items    map[string]cfg
	maxBatch int
	delay    time.Duration

	// pick chooses a fault for request number n of op (called under mu).
	pick func(op string, n int, inputs []cfg) fault
	// partial chooses which inputs of a faultPartial request fail.
	partial func(c cfg) bool
	// errContext renders the context of an error about c.
	errContext func(c cfg) any
	// dropResult hides the result of an applied input.
	dropResult func(c cfg) bool
	// hook runs first; returning true means it answered the request.
	hook func(op string, n int, inputs []cfg, w http.ResponseWriter, r *http.Request) bool

	n                     map[string]int
	sizes                 map[string][]int
	sent                  map[string][][]cfg
	inflight, maxInflight atomic.Int64
}

func newStore(t *testing.T, mux *http.ServeMux) *store {
	s := &store{t: t, items: map[string]cfg{}, n: map[string]int{}, sizes: map[string][]int{}, sent: map[string][][]cfg{}}
	for _, op := range []string{"create", "update", "purge"} {
		mux.HandleFunc("POST "+cfgBase+"/batch/"+op, func(w http.ResponseWriter, r *http.Request) { s.serveBatch(op, w, r) })
	}
	mux.HandleFunc("GET "+cfgBase, s.serveList)
	return s
}

func (s *store) snapshot() map[string]cfg {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]cfg, len(s.items))
	for k, v := range s.items {
		out[k] = v
	}
	return out
}

func (s *store) track() func() {
	cur := s.inflight.Add(1)
	for {
		m := s.maxInflight.Load()
		if cur <= m || s.maxInflight.CompareAndSwap(m, cur) {
			break
		}
	}
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	return func() { s.inflight.Add(-1) }
}

func (s *store) serveList(w http.ResponseWriter, r *http.Request) {
	defer s.track()()
	s.mu.Lock()
	s.n["list"]++
	f := noFault
	if s.pick != nil {
		f = s.pick("list", s.n["list"], nil)
	}
	res := make([]cfg, 0, len(s.items))
	for _, v := range s.items {
		res = append(res, v)
	}
	s.mu.Unlock()
	switch f {
	case fault429:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, 429, map[string]any{"status": "error", "errorType": "RATE_LIMIT", "policyName": PolicyTenSecondlyRolling, "message": "slow"})
	case fault503Before:
		writeJSON(w, 503, map[string]any{"status": "error", "message": "unavailable"})
	default:
		writeJSON(w, 200, map[string]any{"results": res})
	}
}

func (s *store) serveBatch(op string, w http.ResponseWriter, r *http.Request) {
	defer s.track()()
	var body struct {
		Inputs []cfg `json:"inputs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, 400, map[string]any{"status": "error", "message": "bad json: " + err.Error()})
		return
	}
	in := body.Inputs
	s.mu.Lock()
	s.n[op]++
	n := s.n[op]
	s.sizes[op] = append(s.sizes[op], len(in))
	s.sent[op] = append(s.sent[op], in)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil && hook(op, n, in, w, r) {
		return
	}
	if s.maxBatch > 0 && len(in) > s.maxBatch {
		writeJSON(w, 400, map[string]any{"status": "error", "category": "VALIDATION_ERROR",
			"message": fmt.Sprintf("Batch input size %d exceeds the maximum of %d", len(in), s.maxBatch), "correlationId": "big"})
		return
	}
	s.mu.Lock()
	f := noFault
	if s.pick != nil {
		f = s.pick(op, n, in)
	}
	if f == fault429 || f == fault503Before || f == fault500Before || f == faultResetBefore {
		s.mu.Unlock()
		switch f {
		case fault429:
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, map[string]any{"status": "error", "errorType": "RATE_LIMIT", "policyName": PolicyTenSecondlyRolling,
				"message": "You have reached your ten_secondly_rolling limit.", "correlationId": "rl"})
		case fault503Before:
			writeJSON(w, 503, map[string]any{"status": "error", "message": "unavailable"})
		case fault500Before:
			writeJSON(w, 500, map[string]any{"status": "error", "message": "internal"})
		case faultResetBefore:
			resetConn(s.t, w)
		}
		return
	}
	var results []cfg
	var errs []map[string]any
	fail := func(c cfg, msg string) {
		var ctx any = map[string][]string{"category": {c.Category}, "typeId": {strconv.Itoa(c.TypeID)}}
		if s.errContext != nil {
			ctx = s.errContext(c)
		}
		errs = append(errs, map[string]any{"status": "error", "category": "VALIDATION_ERROR", "message": msg, "context": ctx})
	}
	for _, c := range in {
		k := cfgKey(c)
		_, exists := s.items[k]
		switch {
		case f == faultPartial && s.partial != nil && s.partial(c):
			fail(c, "injected failure for "+k)
		case op == "create" && exists:
			fail(c, "configuration already exists: "+k)
		case op != "create" && !exists:
			fail(c, "no configuration for "+k)
		case op == "purge":
			delete(s.items, k)
		default:
			s.items[k] = c
			if s.dropResult == nil || !s.dropResult(c) {
				results = append(results, c)
			}
		}
	}
	s.mu.Unlock()
	switch f {
	case fault500After:
		writeJSON(w, 500, map[string]any{"status": "error", "message": "internal after commit"})
		return
	case fault502After:
		writeJSON(w, 502, map[string]any{"status": "error", "message": "bad gateway"})
		return
	case fault504After:
		writeJSON(w, 504, map[string]any{"status": "error", "message": "gateway timeout"})
		return
	case faultResetAfter:
		resetConn(s.t, w)
		return
	}
	// Results come back in a different order than the inputs.
	slices.Reverse(results)
	status := 200
	if op == "create" {
		status = 201
	}
	if len(errs) > 0 {
		status = 207
	} else if op == "purge" {
		w.WriteHeader(204)
		return
	}
	writeJSON(w, status, map[string]any{"status": "COMPLETE", "results": results, "errors": errs, "numErrors": len(errs)})
}

// cfgSpec builds the BatchSpec the generated Batcher would build.
func cfgSpec(op string, idempotent bool, hc *http.Client, base string) BatchSpec[cfg, cfg] {
	return BatchSpec[cfg, cfg]{
		Operation:  op,
		Idempotent: idempotent,
		Validate: func(c cfg) []string {
			if c.Max <= 0 {
				return []string{"maxToObjectIds must be positive"}
			}
			return nil
		},
		InputKey: cfgKey,
		KeyFields: func(c cfg) map[string]string {
			return map[string]string{"category": c.Category, "typeId": strconv.Itoa(c.TypeID)}
		},
		ResultKey: cfgKey,
		Matches:   func(in, out cfg) bool { return in == out },
		Send: func(ctx context.Context, chunk []cfg) (*http.Response, error) {
			b, _ := json.Marshal(map[string]any{"inputs": chunk})
			path := map[string]string{"BatchCreateConfigurations": "create", "BatchUpdateConfigurations": "update", "BatchPurgeConfigurations": "purge"}[op]
			req, err := http.NewRequestWithContext(ctx, "POST", base+cfgBase+"/batch/"+path, bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			return hc.Do(req)
		},
		ReadBack: func(ctx context.Context) ([]cfg, error) {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+cfgBase, nil)
			resp, err := hc.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			if err := ParseError(resp); err != nil {
				return nil, err
			}
			var out struct {
				Results []cfg `json:"results"`
			}
			return out.Results, json.NewDecoder(resp.Body).Decode(&out)
		},
	}
}

func testClient(t *testing.T) *http.Client {
	hc, err := NewHTTPClient(WithToken(testToken), WithLimiter(nil), WithClock(newFakeClock()),
		WithRand(rand.New(rand.NewPCG(1, 2))), WithBaseTransport(testTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

func inputs(n, from int) []cfg {
	out := make([]cfg, n)
	for i := range out {
		out[i] = cfg{Category: "USER_DEFINED", TypeID: from + i, Max: 1 + i%7}
	}
	return out
}

// checkAccounting asserts every input appears exactly once.
func checkAccounting[In, Out any](t *testing.T, res *Result[In, Out], n int) {
	t.Helper()
	seen := make([]bool, n)
	mark := func(i int) {
		if i < 0 || i >= n {
			t.Fatalf("index %d out of range", i)
		}
		if seen[i] {
			t.Fatalf("index %d reported twice", i)
		}
		seen[i] = true
	}
	for _, s := range res.Succeeded {
		mark(s.Index)
	}
	for _, f := range res.Failed {
		mark(f.Index)
		if f.Err == nil {
			t.Fatalf("failed input %d has no error", f.Index)
		}
	}
	for _, na := range res.NotAttempted {
		mark(na.Index)
		if na.Reason == nil {
			t.Fatalf("not-attempted input %d has no reason", na.Index)
		}
	}
	if got := len(res.Succeeded) + len(res.Failed) + len(res.NotAttempted); got != n {
		t.Fatalf("accounted for %d of %d inputs", got, n)
	}
}

func TestRunBatch_chunksAndProgress(t *testing.T) {
	t.Parallel()
	mux, base := setup(t)
	s := newStore(t, mux)
	in := inputs(250, 1)
	for _, c := range in {
		s.items[cfgKey(c)] = cfg{Category: c.Category, TypeID: c.TypeID, Max: 99}
	}
	var last Progress
	var calls int
	res, err := RunBatch(context.Background(), Config{Progress: func(p Progress) { calls++; last = p }},
		cfgSpec("BatchUpdateConfigurations", true, testClient(t), base), in)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, res, len(in))
	sizes := append([]int(nil), s.sizes["update"]...)
	sort.Ints(sizes)
	if !slices.Equal(sizes, []int{50, 100, 100}) || res.Requests != 3 {
		t.Fatalf("chunk sizes %v, requests %d", sizes, res.Requests)
	}
	if len(res.Succeeded) != 250 || res.Succeeded[7].Result != in[7] {
		t.Fatalf("succeeded %d, result[7] = %+v", len(res.Succeeded), res.Succeeded[7].Result)
	}
	if calls < 3 || last.Done != 250 || last.Total != 250 || last.Succeeded != 250 {
		t.Fatalf("progress calls %d, last %+v", calls, last)
	}
	for k, v := range s.snapshot() {
		if v.Max == 99 {
			t.Fatalf("%s not updated", k)
		}
	}
}

func TestRunBatch_multiStatusMapping(t *testing.T) {
	t.Parallel()
	mux, base := setup(t)
	s := newStore(t, mux)
	in := inputs(10, 1) // typeIds 1..10; only even ones exist
	for _, c := range in {
		if c.TypeID%2 == 0 {
			s.items[cfgKey(c)] = c
		}
	}
	s.errContext = func(c cfg) any {
		switch c.TypeID {
		case 3: // HubSpot's Java-style string form
			return fmt.Sprintf("{category=[%s], typeId=[%d]}", c.Category, c.TypeID)
		case 7: // only the rendered key among the values
			return map[string][]string{"ids": {cfgKey(c)}}
		case 9: // names nothing we can match
			return map[string][]string{"category": {c.Category}}
		}
		return map[string][]string{"category": {c.Category}, "typeId": {strconv.Itoa(c.TypeID)}}
	}
	s.dropResult = func(c cfg) bool { return c.TypeID == 4 }
	res, err := RunBatch(context.Background(), Config{}, cfgSpec("BatchUpdateConfigurations", true, testClient(t), base), in)
	checkAccounting(t, res, len(in))
	var be *BatchError
	if !errors.As(err, &be) || be.Failed != 6 || be.Succeeded != 4 {
		t.Fatalf("err = %v", err)
	}
	var okIDs []int
	for _, sc := range res.Succeeded {
		okIDs = append(okIDs, sc.Input.TypeID)
		if sc.Result != sc.Input {
			t.Errorf("result %+v mapped to input %+v", sc.Result, sc.Input)
		}
	}
	if !slices.Equal(okIDs, []int{2, 6, 8, 10}) {
		t.Fatalf("succeeded typeIds %v", okIDs)
	}
	for _, f := range res.Failed {
		id := f.Input.TypeID
		var ae *APIError
		switch {
		case id == 4 || id == 9:
			if !errors.Is(f.Err, ErrNoResult) {
				t.Errorf("typeId %d: err = %v, want ErrNoResult", id, f.Err)
			}
			if id == 9 && (!errors.As(f.Err, &ae) || !strings.Contains(ae.Message, "/9")) {
				t.Errorf("typeId 9: want the unmatched error wrapped, got %v", f.Err)
			}
		case !errors.As(f.Err, &ae) || !strings.Contains(ae.Message, "/"+strconv.Itoa(id)) || ae.StatusCode != 207:
			t.Errorf("typeId %d: err = %#v", id, f.Err)
		}
	}
}

func TestRunBatch_tooLargeSplits(t *testing.T) {
	t.Parallel()
	mux, base := setup(t)
	s := newStore(t, mux)
	s.maxBatch = 30
	in := inputs(100, 1)
	res, err := RunBatch(context.Background(), Config{}, cfgSpec("BatchCreateConfigurations", false, testClient(t), base), in)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, res, len(in))
	if got := s.sizes["create"]; !slices.Equal(got, []int{100, 50, 25, 25, 50, 25, 25}) {
		t.Fatalf("request sizes %v", got)
	}
	if len(s.snapshot()) != 100 {
		t.Fatalf("store has %d items", len(s.snapshot()))
	}
}

func TestRunBatch_ambiguousCreateReadsBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fail       func(s *store, w http.ResponseWriter, r *http.Request)
		wantSizes  []int
		applyFirst int
	}{
		{"reset after applying half", func(s *store, w http.ResponseWriter, _ *http.Request) { resetConn(s.t, w) }, []int{100, 50}, 50},
		{"500 after applying all", func(_ *store, w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 500, map[string]any{"message": "oops"})
		}, []int{100}, 100},
		{"504 after applying none", func(_ *store, w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 504, map[string]any{"message": "timeout"})
		}, []int{100, 100}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, base := setup(t)
			s := newStore(t, mux)
			s.hook = func(op string, n int, in []cfg, w http.ResponseWriter, r *http.Request) bool {
				if op != "create" || n != 1 {
					return false
				}
				s.mu.Lock()
				for _, c := range in[:tc.applyFirst] {
					s.items[cfgKey(c)] = c
				}
				s.mu.Unlock()
				tc.fail(s, w, r)
				return true
			}
			in := inputs(100, 1)
			res, err := RunBatch(context.Background(), Config{}, cfgSpec("BatchCreateConfigurations", false, testClient(t), base), in)
			if err != nil {
				t.Fatal(err)
			}
			checkAccounting(t, res, len(in))
			if !slices.Equal(s.sizes["create"], tc.wantSizes) || s.n["list"] != 2 { // baseline + one read-back
				t.Fatalf("create sizes %v, read-backs %d", s.sizes["create"], s.n["list"])
			}
			if len(tc.wantSizes) == 2 {
				for i, c := range s.sent["create"][1] {
					if c != in[tc.applyFirst+i] {
						t.Fatalf("resent %+v, want only the missing inputs", c)
					}
				}
			}
			got := s.snapshot()
			if len(got) != 100 {
				t.Fatalf("store has %d items", len(got))
			}
			for _, c := range in {
				if got[cfgKey(c)] != c {
					t.Fatalf("store[%s] = %+v", cfgKey(c), got[cfgKey(c)])
				}
			}
		})
	}
}

func TestRunBatch_concurrencyBound(t *testing.T) {
	t.Parallel()
	mux, base := setup(t)
	s := newStore(t, mux)
	s.delay = 3 * time.Millisecond
	in := inputs(1200, 1)
	res, err := RunBatch(context.Background(), Config{ChunkSize: 40, Concurrency: 3},
		cfgSpec("BatchCreateConfigurations", false, testClient(t), base), in)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, res, len(in))
	if m := s.maxInflight.Load(); m > 3 || m < 2 {
		t.Fatalf("max in flight %d, want 2..3", m)
	}
}

func TestRunBatch_cancellation(t *testing.T) {
	t.Parallel()
	mux, base := setup(t)
	s := newStore(t, mux)
	in := inputs(100, 1)
	for _, c := range in {
		s.items[cfgKey(c)] = c
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.hook = func(op string, n int, _ []cfg, w http.ResponseWriter, r *http.Request) bool {
		if n != 3 {
			return false
		}
		cancel()
		<-r.Context().Done() // hang until the client goes away
		return true
	}
	res, err := RunBatch(ctx, Config{ChunkSize: 10, Concurrency: 1}, cfgSpec("BatchUpdateConfigurations", true, testClient(t), base), in)
	checkAccounting(t, res, len(in))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(res.Succeeded) != 20 || len(res.Failed) != 10 || len(res.NotAttempted) != 70 {
		t.Fatalf("succeeded %d failed %d not attempted %d", len(res.Succeeded), len(res.Failed), len(res.NotAttempted))
	}
	if !errors.Is(res.NotAttempted[0].Reason, context.Canceled) || !errors.Is(res.NotAttempted[0].Reason, ErrNotAttempted) {
		t.Fatalf("reason = %v", res.NotAttempted[0].Reason)
	}
	if s.n["update"] != 3 {
		t.Fatalf("server saw %d requests after cancellation", s.n["update"])
	}
}

func TestRunBatch_fatalStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   map[string]any
		check  func(error) bool
	}{
		{"daily 429", 429, map[string]any{"status": "error", "errorType": "RATE_LIMIT", "policyName": PolicyDaily, "message": "You have reached your daily limit."},
			func(err error) bool { var rl *RateLimitError; return errors.As(err, &rl) && rl.Daily() }},
		{"401", 401, map[string]any{"status": "error", "category": "INVALID_AUTHENTICATION", "message": "expired"},
			func(err error) bool { var ae *APIError; return errors.As(err, &ae) && ae.StatusCode == 401 }},
		{"403", 403, map[string]any{"status": "error", "category": "MISSING_SCOPES", "message": "scopes", "context": "{requiredScopes=[crm.schemas.write]}"},
			func(err error) bool {
				var ae *APIError
				return errors.As(err, &ae) && ae.StatusCode == 403 && ae.Context["requiredScopes"][0] == "crm.schemas.write"
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, base := setup(t)
			s := newStore(t, mux)
			s.hook = func(op string, n int, _ []cfg, w http.ResponseWriter, r *http.Request) bool {
				if n != 2 {
					return false
				}
				writeJSON(w, tc.status, tc.body)
				return true
			}
			in := inputs(50, 1)
			res, err := RunBatch(context.Background(), Config{ChunkSize: 10, Concurrency: 1},
				cfgSpec("BatchCreateConfigurations", false, testClient(t), base), in)
			checkAccounting(t, res, len(in))
			if !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
			if len(res.Succeeded) != 10 || len(res.Failed) != 10 || len(res.NotAttempted) != 30 || res.Requests != 3 { // baseline read-back + 2 creates
				t.Fatalf("succeeded %d failed %d not attempted %d requests %d",
					len(res.Succeeded), len(res.Failed), len(res.NotAttempted), res.Requests)
			}
			if !tc.check(res.NotAttempted[0].Reason) || !tc.check(res.Failed[0].Err) {
				t.Fatalf("reasons: %v / %v", res.NotAttempted[0].Reason, res.Failed[0].Err)
			}
		})
	}
}

func TestRunBatch_validationSendsNothing(t *testing.T) {
	t.Parallel()
	mux, base := setup(t)
	s := newStore(t, mux)
	in := inputs(5, 1)
	in[1].Max = 0
	in[3] = in[0]
	res, err := RunBatch(context.Background(), Config{}, cfgSpec("BatchCreateConfigurations", false, testClient(t), base), in)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 || ve.Problems[0].Index != 1 || ve.Problems[1].Index != 3 {
		t.Fatalf("err = %v", err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "#1") || !strings.Contains(msg, "duplicate key") {
		t.Fatalf("message %q", msg)
	}
	checkAccounting(t, res, len(in))
	if len(res.NotAttempted) != 5 || s.n["create"] != 0 {
		t.Fatalf("not attempted %d, requests %d", len(res.NotAttempted), s.n["create"])
	}
}

func TestRunBatch_purgeNoContent(t *testing.T) {
	t.Parallel()
	mux, base := setup(t)
	s := newStore(t, mux)
	in := inputs(30, 1)
	for _, c := range in {
		s.items[cfgKey(c)] = c
	}
	spec := cfgSpec("BatchPurgeConfigurations", true, testClient(t), base)
	spec.ResultKey, spec.ReadBack = nil, nil
	res, err := RunBatch(context.Background(), Config{ChunkSize: 7}, spec, in)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, res, len(in))
	if len(s.snapshot()) != 0 || len(s.sizes["purge"]) != 5 {
		t.Fatalf("store %d items after %v", len(s.snapshot()), s.sizes["purge"])
	}
}

// TestRunBatch_faultInjection is a seeded property test: whatever mix of
// 429s, 5xx, resets and partial failures the server produces, every input is
// accounted for exactly once and the server holds exactly the succeeded
// inputs.
func TestRunBatch_faultInjection(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			mux, base := setup(t)
			s := newStore(t, mux)
			rng := rand.New(rand.NewPCG(seed, 99))
			createFaults := []fault{fault429, fault503Before, fault500Before, faultResetBefore,
				fault500After, fault502After, fault504After, faultResetAfter, faultPartial}
			s.pick = func(op string, _ int, _ []cfg) fault {
				if op == "list" {
					if rng.IntN(10) == 0 {
						return []fault{fault429, fault503Before}[rng.IntN(2)]
					}
					return noFault
				}
				if rng.IntN(100) < 45 {
					return createFaults[rng.IntN(len(createFaults))]
				}
				return noFault
			}
			s.partial = func(cfg) bool { return rng.IntN(5) == 0 }
			// Some inputs already exist: creating them fails in a 207.
			in := inputs(3000, 1)
			pre := map[string]cfg{}
			for i := 0; i < len(in); i += 97 {
				pre[cfgKey(in[i])] = cfg{Category: in[i].Category, TypeID: in[i].TypeID, Max: 1000}
				s.items[cfgKey(in[i])] = pre[cfgKey(in[i])]
			}
			var progress atomic.Int64
			res, err := RunBatch(context.Background(),
				Config{ChunkSize: 30, Concurrency: 6, Progress: func(Progress) { progress.Add(1) }},
				cfgSpec("BatchCreateConfigurations", false, testClient(t), base), in)
			checkAccounting(t, res, len(in))
			if err == nil || len(res.Failed) == 0 || len(res.Succeeded) < len(in)/2 || res.Retries == 0 || res.RateLimited == 0 {
				t.Fatalf("implausible run: err %v, %d ok, %d failed, %d retries, %d rate limited",
					err, len(res.Succeeded), len(res.Failed), res.Retries, res.RateLimited)
			}
			if len(res.NotAttempted) != 0 {
				t.Fatalf("%d inputs not attempted without a fatal error", len(res.NotAttempted))
			}
			want := map[string]cfg{}
			for k, v := range pre {
				want[k] = v
			}
			for _, sc := range res.Succeeded {
				if _, existed := pre[cfgKey(sc.Input)]; existed {
					t.Fatalf("pre-existing %s reported as created", cfgKey(sc.Input))
				}
				want[cfgKey(sc.Input)] = sc.Input
				if sc.Result != sc.Input {
					t.Fatalf("result %+v for input %+v", sc.Result, sc.Input)
				}
			}
			got := s.snapshot()
			if len(got) != len(want) {
				t.Fatalf("server has %d items, want %d (pre-existing + succeeded)", len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("server[%s] = %+v, want %+v", k, got[k], v)
				}
			}
			if progress.Load() == 0 {
				t.Fatal("no progress reported")
			}
			t.Logf("seed %d: %d ok, %d failed, %d requests, %d retries, %d rate limited, %d read-backs",
				seed, len(res.Succeeded), len(res.Failed), res.Requests, res.Retries, res.RateLimited, s.n["list"])
		})
	}
}

func BenchmarkRunBatch_overhead(b *testing.B) {
	in := inputs(1000, 1)
	noop := func(ctx context.Context, chunk []cfg) (*http.Response, error) {
		return &http.Response{StatusCode: 204, Body: io.NopCloser(strings.NewReader(""))}, nil
	}
	spec := BatchSpec[cfg, cfg]{Operation: "Bench", Idempotent: true, InputKey: cfgKey, Send: noop}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RunBatch(context.Background(), Config{}, spec, in); err != nil {
			b.Fatal(err)
		}
	}
}

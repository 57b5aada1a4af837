package batchrt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/rttest"
)

// The engine's behaviour against the fake API is tested in batch_test.go
// (package hubspot_test, over hubspottest). This file holds what needs a
// server no fake would be: one that answers with a hand-written response.

// cfg stands in for a generated association limit configuration.
type cfg struct {
	Category string `json:"category"`
	TypeID   int    `json:"typeId"`
	Max      int    `json:"maxToObjectIds"`
}

func cfgKey(c cfg) string { return c.Category + "/" + strconv.Itoa(c.TypeID) }

const cfgBase = "/crm/associations/2026-03/definitions/configurations/0-1/0-2"

func appendCfgKey(dst []byte, c cfg) []byte { return append(dst, cfgKey(c)...) }

// cfgSpec is a BatchSpec posting chunks to base+cfgBase+"/batch/"+path.
func cfgSpec(op string, idempotent bool, base string) BatchSpec[cfg, cfg] {
	path := map[string]string{"BatchCreateConfigurations": "create", "BatchUpdateConfigurations": "update", "BatchPurgeConfigurations": "purge"}[op]
	return BatchSpec[cfg, cfg]{
		Operation:      op,
		Idempotent:     idempotent,
		AppendInputKey: appendCfgKey,
		KeyFields: func(c cfg) map[string]string {
			return map[string]string{"category": c.Category, "typeId": strconv.Itoa(c.TypeID)}
		},
		AppendResultKey: appendCfgKey,
		Send: func(ctx context.Context, d Doer, chunk []cfg) (*http.Response, error) {
			b, _ := json.Marshal(map[string]any{"inputs": chunk})
			req, err := http.NewRequestWithContext(ctx, "POST", base+cfgBase+"/batch/"+path, bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			return d.Do(req)
		},
	}
}

// testOptions are a test client's: no limiter, a fake clock, jitter at its
// ceiling.
func testOptions(t *testing.T, more ...hubspot.Option) []hubspot.Option {
	return append([]hubspot.Option{hubspot.WithToken(rttest.Token), hubspot.WithLimiter(nil), rttest.WithClock(rttest.NewClock()),
		rttest.WithRand(rttest.MaxRand{}), hubspot.WithBaseTransport(rttest.Transport(t))}, more...)
}

func testClient(t *testing.T, more ...hubspot.Option) *http.Client {
	hc, err := hubspot.NewHTTPClient(testOptions(t, more...)...)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// runBatch runs spec over inputs through hc with the batch options opts.
func runBatch[In, Out any](t testing.TB, hc Doer, spec BatchSpec[In, Out], inputs []In, opts ...hubspot.Option) (*hubspot.Result[In, Out], error) {
	t.Helper()
	r, err := ForClient(hc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return Run(context.Background(), r, spec, inputs)
}

func inputs(n, from int) []cfg {
	out := make([]cfg, n)
	for i := range out {
		out[i] = cfg{Category: "USER_DEFINED", TypeID: from + i, Max: 1 + i%7}
	}
	return out
}

// checkAccounting asserts every input appears exactly once.
func checkAccounting[In, Out any](t *testing.T, res *hubspot.Result[In, Out], n int) {
	t.Helper()
	seen := make([]bool, n)
	for _, i := range resultIndexes(res) {
		if i < 0 || i >= n || seen[i] {
			t.Fatalf("index %d out of range or reported twice", i)
		}
		seen[i] = true
	}
	if got := len(res.Succeeded) + len(res.Failed) + len(res.NotAttempted); got != n {
		t.Fatalf("accounted for %d of %d inputs", got, n)
	}
}

func resultIndexes[In, Out any](res *hubspot.Result[In, Out]) []int {
	var out []int
	for _, s := range res.Succeeded {
		out = append(out, s.Index)
	}
	for _, f := range res.Failed {
		out = append(out, f.Index)
	}
	for _, na := range res.NotAttempted {
		out = append(out, na.Index)
	}
	return out
}

// TestRun_multiStatusContextForms: 207 errors name their input in the
// forms HubSpot uses (a context object, the Java-style string, only the
// rendered key among the values); an error naming no input and a missing
// result leave ErrNoResult.
func TestRun_multiStatusContextForms(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	mux.HandleFunc("POST "+cfgBase+"/batch/update", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Inputs []cfg }
		json.NewDecoder(r.Body).Decode(&body)
		var results []cfg
		var errs []map[string]any
		for _, c := range body.Inputs {
			var ctx any
			switch {
			case c.TypeID == 4: // applied, but its result is missing
				continue
			case c.TypeID%2 == 0:
				results = append(results, c)
				continue
			case c.TypeID == 3: // HubSpot's Java-style string form
				ctx = fmt.Sprintf("{category=[%s], typeId=[%d]}", c.Category, c.TypeID)
			case c.TypeID == 7: // only the rendered key among the values
				ctx = map[string][]string{"ids": {cfgKey(c)}}
			case c.TypeID == 9: // names nothing we can match
				ctx = map[string][]string{"category": {c.Category}}
			default:
				ctx = map[string][]string{"category": {c.Category}, "typeId": {strconv.Itoa(c.TypeID)}}
			}
			errs = append(errs, map[string]any{"status": "error", "category": "VALIDATION_ERROR",
				"message": "no configuration for " + cfgKey(c), "context": ctx})
		}
		slices.Reverse(results) // results come back in another order
		rttest.WriteJSON(w, 207, map[string]any{"status": "COMPLETE", "results": results, "errors": errs, "numErrors": len(errs)})
	})
	in := inputs(10, 1)
	res, err := runBatch(t, testClient(t), cfgSpec("BatchUpdateConfigurations", true, base), in)
	checkAccounting(t, res, len(in))
	var be *hubspot.BatchError
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
		var ae *hubspot.APIError
		switch {
		case id == 4 || id == 9:
			if !errors.Is(f.Err, hubspot.ErrNoResult) || !errors.Is(f.Err, hubspot.ErrOutcomeUnknown) {
				t.Errorf("typeId %d: err = %v, want ErrNoResult and ErrOutcomeUnknown", id, f.Err)
			}
			if id == 9 && (!errors.As(f.Err, &ae) || !strings.Contains(ae.Message, "/9")) {
				t.Errorf("typeId 9: want the unmatched error wrapped, got %v", f.Err)
			}
		case !errors.As(f.Err, &ae) || !strings.Contains(ae.Message, "/"+strconv.Itoa(id)) || ae.StatusCode != 207 ||
			ae.Category != hubspot.CategoryValidation:
			t.Errorf("typeId %d: err = %#v", id, f.Err)
		}
	}
}

func BenchmarkRun_overhead(b *testing.B) {
	in := inputs(1000, 1)
	noop := func(ctx context.Context, d Doer, chunk []cfg) (*http.Response, error) {
		return &http.Response{StatusCode: 204, Body: io.NopCloser(strings.NewReader(""))}, nil
	}
	spec := BatchSpec[cfg, cfg]{Operation: "Bench", Idempotent: true, AppendInputKey: appendCfgKey, Send: noop}
	r, err := ForClient(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), r, spec, in); err != nil {
			b.Fatal(err)
		}
	}
}

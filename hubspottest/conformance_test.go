package hubspottest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// genResponse is what every generated <Op>Response offers.
type genResponse interface {
	StatusCode() int
	GetBody() []byte
	GetJSONDefault() *associations.Error
}

func bearer(token string) associations.ClientOption {
	return associations.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
}

func genClient(t *testing.T, srv *hubspottest.Server, opts ...associations.ClientOption) *associations.ClientWithResponses {
	t.Helper()
	c, err := associations.NewClientWithResponses(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// conformanceOp drives one operation through the generated client. from and
// to are the object types; ok checks a success response.
type conformanceOp struct {
	op      hubspottest.Operation
	success int
	call    func(ctx context.Context, c *associations.ClientWithResponses, from, to string, inputs int) (genResponse, error)
	ok      func(r genResponse) bool
	// batch operations take inputs; partial marks those answering 207.
	batch, partial bool
	// pairless operations have no object types in their path.
	pairless bool
}

// setupConformance seeds what every operation needs: a limit on
// contacts->companies 279 and a user label whose id it returns.
func setupConformance(t *testing.T, srv *hubspottest.Server) int32 {
	t.Helper()
	if err := srv.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 279, MaxToObjectIDs: 5}); err != nil {
		t.Fatal(err)
	}
	types, err := srv.CreateLabel("contacts", "companies", "seeded", "Seeded", "")
	if err != nil {
		t.Fatal(err)
	}
	return types[0].TypeID
}

func conformanceOps(labelID int32) []conformanceOp {
	str := func(s string) *string { return &s }
	createInputs := func(n int) associations.BatchCreateConfigurationsJSONRequestBody {
		// The first input is new (type 1), the rest already exist (279)
		// or do not exist; with n == 2 the second one fails.
		in := []associations.LimitCreate{{Category: associations.AssociationCategoryHubspotDefined, TypeID: 1, MaxToObjectIDs: 1}}
		for i := 1; i < n; i++ {
			in = append(in, associations.LimitCreate{Category: associations.AssociationCategoryHubspotDefined, TypeID: 279, MaxToObjectIDs: 1})
		}
		return associations.BatchCreateConfigurationsJSONRequestBody{Inputs: in}
	}
	updateInputs := func(n int) associations.BatchUpdateConfigurationsJSONRequestBody {
		in := []associations.LimitUpdate{{Category: associations.AssociationCategoryHubspotDefined, TypeID: 279, MaxToObjectIDs: 7}}
		for i := 1; i < n; i++ {
			in = append(in, associations.LimitUpdate{Category: associations.AssociationCategoryUserDefined, TypeID: 99999, MaxToObjectIDs: 1})
		}
		return associations.BatchUpdateConfigurationsJSONRequestBody{Inputs: in}
	}
	purgeInputs := func(n int) associations.BatchPurgeConfigurationsJSONRequestBody {
		in := make([]associations.LimitKey, n)
		for i := range in {
			in[i] = associations.LimitKey{Category: associations.AssociationCategoryHubspotDefined, TypeID: 279}
		}
		return associations.BatchPurgeConfigurationsJSONRequestBody{Inputs: in}
	}
	return []conformanceOp{
		{op: hubspottest.OpListAllConfigurations, success: 200, pairless: true,
			call: func(ctx context.Context, c *associations.ClientWithResponses, _, _ string, _ int) (genResponse, error) {
				return c.ListAllConfigurationsWithResponse(ctx)
			},
			ok: func(r genResponse) bool {
				j := r.(*associations.ListAllConfigurationsResponse).JSON200
				return j != nil && len(j.Results) == 1 && j.Results[0].TypeID == 279
			}},
		{op: hubspottest.OpListConfigurations, success: 200,
			call: func(ctx context.Context, c *associations.ClientWithResponses, from, to string, _ int) (genResponse, error) {
				return c.ListConfigurationsWithResponse(ctx, from, to)
			},
			ok: func(r genResponse) bool {
				j := r.(*associations.ListConfigurationsResponse).JSON200
				return j != nil && len(j.Results) == 1 && j.Results[0].UserEnforcedMaxToObjectIDs != nil && *j.Results[0].UserEnforcedMaxToObjectIDs == 5
			}},
		{op: hubspottest.OpBatchCreateConfigurations, success: 201, batch: true, partial: true,
			call: func(ctx context.Context, c *associations.ClientWithResponses, from, to string, n int) (genResponse, error) {
				return c.BatchCreateConfigurationsWithResponse(ctx, from, to, createInputs(n))
			},
			ok: func(r genResponse) bool {
				res := r.(*associations.BatchCreateConfigurationsResponse)
				if res.StatusCode() == 207 {
					j := res.JSON207
					return j != nil && len(j.Results) == 1 && j.Errors != nil && len(*j.Errors) == 1 && (*j.Errors)[0].Context["typeId"][0] == "279"
				}
				j := res.JSON201
				return j != nil && len(j.Results) == 1 && j.Results[0].TypeID == 1
			}},
		{op: hubspottest.OpBatchUpdateConfigurations, success: 200, batch: true, partial: true,
			call: func(ctx context.Context, c *associations.ClientWithResponses, from, to string, n int) (genResponse, error) {
				return c.BatchUpdateConfigurationsWithResponse(ctx, from, to, updateInputs(n))
			},
			ok: func(r genResponse) bool {
				res := r.(*associations.BatchUpdateConfigurationsResponse)
				if res.StatusCode() == 207 {
					j := res.JSON207
					return j != nil && len(j.Results) == 1 && j.Errors != nil && len(*j.Errors) == 1 &&
						(*j.Errors)[0].Category == "OBJECT_NOT_FOUND" && (*j.Errors)[0].Context["category"][0] == "USER_DEFINED"
				}
				j := res.JSON200
				return j != nil && len(j.Results) == 1 && j.Results[0].UserEnforcedMaxToObjectIDs != nil && *j.Results[0].UserEnforcedMaxToObjectIDs == 7
			}},
		{op: hubspottest.OpBatchPurgeConfigurations, success: 204, batch: true,
			call: func(ctx context.Context, c *associations.ClientWithResponses, from, to string, n int) (genResponse, error) {
				return c.BatchPurgeConfigurationsWithResponse(ctx, from, to, purgeInputs(n))
			},
			ok: func(r genResponse) bool { return len(r.GetBody()) == 0 }},
		{op: hubspottest.OpListLabels, success: 200,
			call: func(ctx context.Context, c *associations.ClientWithResponses, from, to string, _ int) (genResponse, error) {
				return c.ListLabelsWithResponse(ctx, from, to)
			},
			ok: func(r genResponse) bool {
				j := r.(*associations.ListLabelsResponse).JSON200
				return j != nil && len(j.Results) == 3
			}},
		{op: hubspottest.OpCreateLabel, success: 200,
			call: func(ctx context.Context, c *associations.ClientWithResponses, from, to string, _ int) (genResponse, error) {
				return c.CreateLabelWithResponse(ctx, from, to, associations.CreateLabelJSONRequestBody{Label: "Manager", Name: "manager", InverseLabel: str("Employee")})
			},
			ok: func(r genResponse) bool {
				j := r.(*associations.CreateLabelResponse).JSON200
				return j != nil && len(j.Results) == 2 && j.Results[0].Label != nil && *j.Results[0].Label == "Manager"
			}},
		{op: hubspottest.OpUpdateLabel, success: 204,
			call: func(ctx context.Context, c *associations.ClientWithResponses, from, to string, _ int) (genResponse, error) {
				return c.UpdateLabelWithResponse(ctx, from, to, associations.UpdateLabelJSONRequestBody{AssociationTypeID: labelID, Label: "Renamed"})
			},
			ok: func(r genResponse) bool { return len(r.GetBody()) == 0 }},
		{op: hubspottest.OpDeleteLabel, success: 204,
			call: func(ctx context.Context, c *associations.ClientWithResponses, from, to string, _ int) (genResponse, error) {
				return c.DeleteLabelWithResponse(ctx, from, to, labelID)
			},
			ok: func(r genResponse) bool { return len(r.GetBody()) == 0 }},
	}
}

func TestConformance_generatedClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Every case gets its own server: ops have side effects.
	newSrv := func(t *testing.T, opts ...hubspottest.Option) (*hubspottest.Server, int32) {
		srv := newTestServer(t, append([]hubspottest.Option{hubspottest.WithBasePath("/hubspot")}, opts...)...)
		return srv, setupConformance(t, srv)
	}
	// The label id is the same on every fresh server.
	_, labelID := newSrv(t)
	ops := conformanceOps(labelID)
	if len(ops) != len(hubspottest.Operations) {
		t.Fatalf("%d operations covered, want %d", len(ops), len(hubspottest.Operations))
	}
	for _, op := range ops {
		t.Run(string(op.op), func(t *testing.T) {
			t.Parallel()
			t.Run("success", func(t *testing.T) {
				srv, _ := newSrv(t)
				r, err := op.call(ctx, genClient(t, srv, bearer(testToken)), "contacts", "companies", 1)
				if err != nil {
					t.Fatal(err)
				}
				if r.StatusCode() != op.success || !op.ok(r) {
					t.Fatalf("status %d (want %d), body %s", r.StatusCode(), op.success, r.GetBody())
				}
				if st := srv.Stats(); st.ByOperation[op.op] != 1 {
					t.Errorf("server saw %v", st.ByOperation)
				}
			})
			if op.partial {
				t.Run("207", func(t *testing.T) {
					srv, _ := newSrv(t)
					r, err := op.call(ctx, genClient(t, srv, bearer(testToken)), "contacts", "companies", 2)
					if err != nil {
						t.Fatal(err)
					}
					if r.StatusCode() != 207 || !op.ok(r) {
						t.Fatalf("status %d, body %s", r.StatusCode(), r.GetBody())
					}
				})
			}
			// ListAllConfigurations has no input the generated client can get wrong.
			if !op.pairless || op.batch {
				t.Run("400", func(t *testing.T) {
					srv, _ := newSrv(t, hubspottest.WithMaxBatchInputs(1))
					from, n, want := "foo", 1, "Unable to infer object type from: foo"
					if op.batch {
						from, n, want = "contacts", 2, "Too many inputs: got 2, the maximum batch size is 1."
					}
					r, err := op.call(ctx, genClient(t, srv, bearer(testToken)), from, "companies", n)
					if err != nil {
						t.Fatal(err)
					}
					e := r.GetJSONDefault()
					if r.StatusCode() != 400 || e == nil || e.Category != "VALIDATION_ERROR" || e.Message != want || e.CorrelationID == "" {
						t.Fatalf("status %d, body %s", r.StatusCode(), r.GetBody())
					}
				})
			}
			t.Run("401", func(t *testing.T) {
				srv, _ := newSrv(t)
				r, err := op.call(ctx, genClient(t, srv, bearer("pat-wrong")), "contacts", "companies", 1)
				if err != nil {
					t.Fatal(err)
				}
				e := r.GetJSONDefault()
				if r.StatusCode() != 401 || e == nil || e.Category != "INVALID_AUTHENTICATION" {
					t.Fatalf("status %d, body %s", r.StatusCode(), r.GetBody())
				}
			})
			t.Run("429", func(t *testing.T) {
				clock := hubspottest.NewManualClock(t0)
				srv, _ := newSrv(t, hubspottest.WithClock(clock.Now), hubspottest.WithRateLimit(1, 10*time.Second))
				c := genClient(t, srv, bearer(testToken))
				if _, err := c.ListAllConfigurationsWithResponse(ctx); err != nil {
					t.Fatal(err)
				}
				clock.Advance(2500 * time.Millisecond)
				r, err := op.call(ctx, c, "contacts", "companies", 1)
				if err != nil {
					t.Fatal(err)
				}
				e := r.GetJSONDefault()
				if r.StatusCode() != 429 || e == nil || !strings.Contains(e.Message, "ten_secondly_rolling") {
					t.Fatalf("status %d, body %s", r.StatusCode(), r.GetBody())
				}
				if h := r.(interface{ Status() string }); h.Status() == "" {
					t.Error("no status line")
				}
				if n := len(srv.Limits()); n != 1 {
					t.Errorf("rate-limited request changed state: %d limits", n)
				}
			})
			for _, status := range []int{500, 502, 503, 504} {
				t.Run(http.StatusText(status), func(t *testing.T) {
					srv, _ := newSrv(t)
					if err := srv.Script(hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: status, Op: op.op}); err != nil {
						t.Fatal(err)
					}
					r, err := op.call(ctx, genClient(t, srv, bearer(testToken)), "contacts", "companies", 1)
					if err != nil {
						t.Fatal(err)
					}
					e := r.GetJSONDefault()
					if r.StatusCode() != status || e == nil || e.CorrelationID == "" {
						t.Fatalf("status %d, body %s", r.StatusCode(), r.GetBody())
					}
				})
			}
		})
	}
}

// TestConformance_retryAfterHeader checks the header a client's retry
// policy reads, through the generated client's raw response.
func TestConformance_retryAfterHeader(t *testing.T) {
	t.Parallel()
	clock := hubspottest.NewManualClock(t0)
	srv := newTestServer(t, hubspottest.WithClock(clock.Now), hubspottest.WithRateLimit(1, 10*time.Second))
	c := genClient(t, srv, bearer(testToken))
	ctx := context.Background()
	if _, err := c.ListLabelsWithResponse(ctx, "contacts", "companies"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(7200 * time.Millisecond)
	r, err := c.ListLabelsWithResponse(ctx, "contacts", "companies")
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode() != 429 || r.HTTPResponse.Header.Get("Retry-After") != "3" {
		t.Fatalf("status %d, Retry-After %q", r.StatusCode(), r.HTTPResponse.Header.Get("Retry-After"))
	}
}

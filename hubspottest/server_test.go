package hubspottest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

func TestServer_Labels_lifecycle(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	r := call(t, srv, "GET", base+"/contacts/companies/labels", nil)
	wantStatus(t, r, 200)
	if got := results(t, r); len(got) != 2 || got[0]["label"] != "Primary" || got[1]["typeId"] != float64(279) {
		t.Fatalf("seeded labels = %v", got)
	}

	r = call(t, srv, "POST", base+"/contacts/companies/labels", map[string]any{"label": "Manager", "name": "manager", "inverseLabel": "Employee"})
	wantStatus(t, r, 200)
	created := results(t, r)
	if len(created) != 2 || created[0]["category"] != "USER_DEFINED" || created[0]["label"] != "Manager" || created[1]["label"] != "Employee" {
		t.Fatalf("created = %v", created)
	}
	id := int(created[0]["typeId"].(float64))
	inv := int(created[1]["typeId"].(float64))
	if id == inv {
		t.Fatal("label and inverse share a type id")
	}

	// Both directions list the new types.
	if got := results(t, call(t, srv, "GET", base+"/contacts/companies/labels", nil)); len(got) != 3 {
		t.Errorf("contacts->companies has %d types, want 3", len(got))
	}
	if got := results(t, call(t, srv, "GET", "/crm/v4/associations/0-2/0-1/labels", nil)); len(got) != 3 {
		t.Errorf("companies->contacts has %d types, want 3", len(got))
	}

	// Same name again conflicts.
	r = call(t, srv, "POST", base+"/contacts/companies/labels", map[string]any{"label": "Other", "name": "manager"})
	wantHubSpotError(t, r, 409, "CONFLICT", "already exists")

	// Update, then read back.
	r = call(t, srv, "PUT", base+"/contacts/companies/labels", map[string]any{"associationTypeId": id, "label": "Boss", "inverseLabel": "Report"})
	wantStatus(t, r, 204)
	types, err := srv.AssociationTypes("contacts", "companies")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ty := range types {
		if int(ty.TypeID) == id {
			found = ty.Label == "Boss"
		}
	}
	if !found {
		t.Errorf("label not updated: %+v", types)
	}
	back, _ := srv.AssociationTypes("companies", "contacts")
	for _, ty := range back {
		if int(ty.TypeID) == inv && ty.Label != "Report" {
			t.Errorf("inverse label = %q, want Report", ty.Label)
		}
	}

	for _, tc := range []struct {
		name     string
		method   string
		path     string
		body     any
		status   int
		category string
		msg      string
	}{
		{"update unknown", "PUT", base + "/contacts/companies/labels", map[string]any{"associationTypeId": 99999, "label": "x"}, 404, "OBJECT_NOT_FOUND", "99999"},
		{"update hubspot-defined", "PUT", base + "/contacts/companies/labels", map[string]any{"associationTypeId": 1, "label": "x"}, 400, "VALIDATION_ERROR", "USER_DEFINED"},
		{"delete hubspot-defined", "DELETE", base + "/contacts/companies/labels/279", nil, 400, "VALIDATION_ERROR", "USER_DEFINED"},
		{"delete unknown", "DELETE", base + "/contacts/companies/labels/424242", nil, 404, "OBJECT_NOT_FOUND", "424242"},
		{"blank label", "POST", base + "/contacts/companies/labels", map[string]any{"label": " ", "name": "n"}, 400, "VALIDATION_ERROR", "blank"},
	} {
		r := call(t, srv, tc.method, tc.path, tc.body)
		t.Run(tc.name, func(t *testing.T) { wantHubSpotError(t, r, tc.status, tc.category, tc.msg) })
	}

	// A limit on the label goes away with it.
	if err := srv.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", Category: "USER_DEFINED", TypeID: int32(id), MaxToObjectIDs: 3}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, call(t, srv, "DELETE", fmt.Sprintf("%s/contacts/companies/labels/%d", base, id), nil), 204)
	wantStatus(t, call(t, srv, "DELETE", fmt.Sprintf("%s/contacts/companies/labels/%d", base, id), nil), 404)
	if got := results(t, call(t, srv, "GET", base+"/companies/contacts/labels", nil)); len(got) != 2 {
		t.Errorf("inverse not deleted: %v", got)
	}
	if l := srv.Limits(); len(l) != 0 {
		t.Errorf("limits after delete = %v", l)
	}
}

func TestServer_Labels_sameObjectType(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	r := call(t, srv, "POST", base+"/contacts/contacts/labels", map[string]any{"label": "Sibling", "name": "sibling"})
	wantStatus(t, r, 200)
	if got := results(t, r); len(got) != 1 {
		t.Errorf("unpaired label on one object type created %d types, want 1", len(got))
	}
	r = call(t, srv, "POST", base+"/contacts/contacts/labels", map[string]any{"label": "Parent", "name": "parent", "inverseLabel": "Child"})
	if got := results(t, r); len(got) != 2 {
		t.Errorf("paired label created %d types, want 2", len(got))
	}
}

func TestServer_Limits_batch(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	cfg := base + "/definitions/configurations/contacts/companies"

	r := call(t, srv, "POST", cfg+"/batch/create", limitInputs(limitIn("HUBSPOT_DEFINED", 1, 1)))
	wantStatus(t, r, 201)
	if r.JSON["status"] != "COMPLETE" || r.JSON["startedAt"] == nil || r.JSON["completedAt"] == nil {
		t.Errorf("batch envelope = %s", r.Raw)
	}
	got := results(t, r)
	if len(got) != 1 || got[0]["label"] != "Primary" || got[0]["userEnforcedMaxToObjectIds"] != float64(1) {
		t.Errorf("results = %v", got)
	}

	// Partial failure: one existing limit, one type that does not exist
	// between these object types, one new limit.
	r = call(t, srv, "POST", cfg+"/batch/create", limitInputs(limitIn("HUBSPOT_DEFINED", 1, 2), limitIn("USER_DEFINED", 5, 2), limitIn("HUBSPOT_DEFINED", 279, 5)))
	wantStatus(t, r, 207)
	if n := r.JSON["numErrors"]; n != float64(2) {
		t.Errorf("numErrors = %v, want 2", n)
	}
	errs := r.JSON["errors"].([]any)
	wantErr := []struct{ category, ctxCat, ctxType string }{
		{"VALIDATION_ERROR", "HUBSPOT_DEFINED", "1"},
		{"OBJECT_NOT_FOUND", "USER_DEFINED", "5"},
	}
	for i, w := range wantErr {
		e := errs[i].(map[string]any)
		ctx := e["context"].(map[string]any)
		if e["status"] != "error" || e["category"] != w.category || ctx["category"].([]any)[0] != w.ctxCat || ctx["typeId"].([]any)[0] != w.ctxType {
			t.Errorf("error %d = %v, want %+v", i, e, w)
		}
		if _, ok := e["errors"].([]any); !ok {
			t.Errorf("error %d lacks errors array", i)
		}
		if _, ok := e["links"].(map[string]any); !ok {
			t.Errorf("error %d lacks links object", i)
		}
	}
	if got := results(t, r); len(got) != 1 || got[0]["typeId"] != float64(279) {
		t.Errorf("results = %s", r.Raw)
	}

	// All inputs failing is still 207; typeId 2 is companies->contacts.
	r = call(t, srv, "POST", cfg+"/batch/create", limitInputs(limitIn("HUBSPOT_DEFINED", 1, 2), limitIn("HUBSPOT_DEFINED", 2, 2)))
	wantStatus(t, r, 207)
	if n := r.JSON["numErrors"]; n != float64(2) || len(results(t, r)) != 0 {
		t.Errorf("all failing: %s", r.Raw)
	}

	// Update.
	r = call(t, srv, "POST", cfg+"/batch/update", limitInputs(limitIn("HUBSPOT_DEFINED", 279, 9)))
	wantStatus(t, r, 200)
	if got := results(t, r); got[0]["userEnforcedMaxToObjectIds"] != float64(9) {
		t.Errorf("update results = %v", got)
	}
	r = call(t, srv, "POST", cfg+"/batch/update", limitInputs(limitIn("HUBSPOT_DEFINED", 279, 10), limitIn("USER_DEFINED", 77, 1)))
	wantStatus(t, r, 207)
	if e := r.JSON["errors"].([]any)[0].(map[string]any); e["category"] != "OBJECT_NOT_FOUND" {
		t.Errorf("update error = %v", e)
	}

	// Invalid max per input.
	r = call(t, srv, "POST", cfg+"/batch/update", limitInputs(limitIn("HUBSPOT_DEFINED", 279, 0)))
	wantStatus(t, r, 207)

	// Lists.
	r = call(t, srv, "GET", cfg, nil)
	wantStatus(t, r, 200)
	if got := results(t, r); len(got) != 2 || got[1]["userEnforcedMaxToObjectIds"] != float64(10) {
		t.Errorf("list = %v", got)
	}
	if err := srv.SetLimit(hubspottest.Limit{FromObjectType: "deals", ToObjectType: "companies", TypeID: 5, MaxToObjectIDs: 1}); err != nil {
		t.Fatal(err)
	}
	r = call(t, srv, "GET", base+"/definitions/configurations/all", nil)
	wantStatus(t, r, 200)
	all := results(t, r)
	if len(all) != 3 || all[0]["fromObjectTypeId"] != "0-1" || all[2]["fromObjectTypeId"] != "0-3" || all[2]["toObjectTypeId"] != "0-2" {
		t.Errorf("all = %v", all)
	}

	// Purge (the normalized document declares 204).
	r = call(t, srv, "POST", cfg+"/batch/purge", map[string]any{"inputs": []any{map[string]any{"category": "HUBSPOT_DEFINED", "typeId": 1}, map[string]any{"category": "HUBSPOT_DEFINED", "typeId": 279}}})
	wantStatus(t, r, 204)
	if got := srv.Limits(); len(got) != 1 || got[0].FromObjectType != "0-3" {
		t.Errorf("limits after purge = %v", got)
	}
}

func TestServer_auth(t *testing.T) {
	t.Parallel()
	var logMu sync.Mutex
	var logged strings.Builder
	srv := newTestServer(t, hubspottest.WithToken("pat-second"), hubspottest.WithLogf(func(format string, args ...any) {
		logMu.Lock()
		fmt.Fprintf(&logged, format+"\n", args...)
		logMu.Unlock()
	}))
	for _, tc := range []struct {
		name   string
		header string
		status int
	}{
		{"missing", "", 401},
		{"wrong token", "Bearer nope", 401},
		{"basic scheme", "Basic cGF0LXRlc3Q=", 401},
		{"token without scheme", testToken, 401},
		{"first token", "Bearer " + testToken, 200},
		{"second token", "Bearer pat-second", 200},
		{"lowercase scheme", "bearer " + testToken, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+base+"/contacts/companies/labels", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	r := callAs(t, srv, "wrong-token", "GET", base+"/contacts/companies/labels", nil)
	wantHubSpotError(t, r, 401, "INVALID_AUTHENTICATION", "Authentication credentials not found")
	for _, rec := range srv.Requests() {
		if strings.Contains(fmt.Sprintf("%+v", rec), testToken) {
			t.Errorf("request log holds a token: %s", strings.ReplaceAll(fmt.Sprintf("%+v", rec), testToken, "<TOKEN>"))
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if out := logged.String(); strings.Count(out, "\n") != 8 || strings.Contains(out, testToken) || strings.Contains(out, "pat-second") {
		t.Errorf("log lines:\n%s", out)
	}
}

func TestServer_validation(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	cfg := base + "/definitions/configurations/contacts/companies"
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		in     string
		msg    string
	}{
		{"malformed JSON", "POST", cfg + "/batch/create", `{"inputs": [`, "body", ""},
		{"missing inputs", "POST", cfg + "/batch/create", `{}`, "body", "inputs"},
		{"wrong type", "POST", cfg + "/batch/create", `{"inputs":[{"category":"HUBSPOT_DEFINED","typeId":"one","maxToObjectIds":1}]}`, "body", "typeId"},
		{"bad enum", "POST", cfg + "/batch/update", `{"inputs":[{"category":"NOPE","typeId":1,"maxToObjectIds":1}]}`, "body", "category"},
		{"missing required field", "POST", cfg + "/batch/create", `{"inputs":[{"category":"HUBSPOT_DEFINED","typeId":1}]}`, "body", "maxToObjectIds"},
		{"no body", "POST", base + "/contacts/companies/labels", nil, "body", ""},
		{"label without name", "POST", base + "/contacts/companies/labels", `{"label":"x"}`, "body", "name"},
		{"non-integer path id", "DELETE", base + "/contacts/companies/labels/abc", nil, "path", "associationTypeId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, srv, tc.method, tc.path, tc.body)
			wantHubSpotError(t, r, 400, "VALIDATION_ERROR", "")
			details, _ := r.JSON["errors"].([]any)
			if len(details) == 0 {
				t.Fatalf("no errors[] in %s", r.Raw)
			}
			d := details[0].(map[string]any)
			if d["in"] != tc.in {
				t.Errorf("errors[0].in = %v, want %s", d["in"], tc.in)
			}
			if !strings.Contains(fmt.Sprint(r.JSON["message"], details), tc.msg) {
				t.Errorf("errors do not mention %q: %s", tc.msg, r.Raw)
			}
		})
	}

	// Wrong content type.
	req, _ := http.NewRequest("POST", srv.URL+cfg+"/batch/create", strings.NewReader(`inputs=1`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("form body: status %d, want 400", resp.StatusCode)
	}
	if n := len(srv.Limits()); n != 0 {
		t.Errorf("invalid requests changed state: %d limits", n)
	}
}

func TestServer_objectTypes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	for _, tc := range []struct {
		from, to string
		status   int
		results  int
	}{
		{"contacts", "companies", 200, 2},
		{"contact", "company", 200, 2},
		{"0-1", "0-2", 200, 2},
		{"CONTACTS", "0-2", 200, 2},
		{"deals", "line_items", 200, 1},
		{"line_items", "quotes", 200, 1},
		{"calls", "contacts", 200, 1},
		{"2-123456", "contacts", 200, 0},
		{"p_cars", "contacts", 400, 0},
		{"foo", "contacts", 400, 0},
		{"contacts", "2-", 400, 0},
	} {
		t.Run(tc.from+"->"+tc.to, func(t *testing.T) {
			r := call(t, srv, "GET", base+"/"+tc.from+"/"+tc.to+"/labels", nil)
			if tc.status == 400 {
				bad := tc.from
				if _, ok := hubspottest.ObjectTypeID(tc.from); ok {
					bad = tc.to
				}
				wantHubSpotError(t, r, 400, "VALIDATION_ERROR", "Unable to infer object type from: "+bad)
				return
			}
			wantStatus(t, r, tc.status)
			if n := len(results(t, r)); n != tc.results {
				t.Errorf("%d results, want %d", n, tc.results)
			}
		})
	}

	// Custom object types get labels and limits like standard ones.
	r := call(t, srv, "POST", base+"/2-123456/2-999/labels", map[string]any{"label": "Owner", "name": "owner"})
	wantStatus(t, r, 200)
	id := int(results(t, r)[0]["typeId"].(float64))
	r = call(t, srv, "POST", base+"/definitions/configurations/2-123456/2-999/batch/create", limitInputs(limitIn("USER_DEFINED", id, 1)))
	wantStatus(t, r, 201)
	r = call(t, srv, "POST", base+"/definitions/configurations/2-123456/2-999/batch/create", limitInputs(limitIn("HUBSPOT_DEFINED", 1, 1)))
	wantStatus(t, r, 207)
}

func TestServer_routes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/crm/associations/2026-03/contacts/companies/labels", 200},
		{"GET", "/crm/associations/2025-09/contacts/companies/labels", 200},
		{"GET", "/crm/associations/2026-09/contacts/companies/labels", 200},
		{"GET", "/crm/associations/2026-09-beta/contacts/companies/labels", 200},
		{"GET", "/crm/associations/v4/contacts/companies/labels", 200},
		{"GET", "/crm/v4/associations/contacts/companies/labels", 200},
		{"GET", "/crm/v4/associations/definitions/configurations/all", 200},
		{"GET", "/crm/associations/2026-03/definitions/configurations/all", 200},
		{"GET", "/crm/associations/2026-13/contacts/companies/labels", 404},
		{"GET", "/crm/associations/v3/contacts/companies/labels", 404},
		{"GET", "/crm/v3/associations/contacts/companies/labels", 404},
		{"GET", "/crm/associations/2026-03/contacts/companies/nothing", 404},
		{"GET", "/", 404},
		{"PATCH", "/crm/associations/2026-03/contacts/companies/labels", 405},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := call(t, srv, tc.method, tc.path, nil)
			wantStatus(t, r, tc.status)
			if tc.status >= 400 {
				wantHubSpotError(t, r, tc.status, "OBJECT_NOT_FOUND", "No route")
			}
		})
	}
}

func TestServer_tooManyInputs(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, hubspottest.WithMaxBatchInputs(2))
	cfg := base + "/definitions/configurations/contacts/companies"
	three := limitInputs(limitIn("HUBSPOT_DEFINED", 1, 1), limitIn("HUBSPOT_DEFINED", 279, 1), limitIn("HUBSPOT_DEFINED", 280, 1))
	for _, op := range []string{"create", "update", "purge"} {
		t.Run(op, func(t *testing.T) {
			r := call(t, srv, "POST", cfg+"/batch/"+op, three)
			wantHubSpotError(t, r, 400, "VALIDATION_ERROR", "Too many inputs: got 3, the maximum batch size is 2.")
		})
	}
	if r := call(t, srv, "POST", cfg+"/batch/create", limitInputs(limitIn("HUBSPOT_DEFINED", 1, 1), limitIn("HUBSPOT_DEFINED", 279, 1))); r.Status != 201 {
		t.Errorf("two inputs: status %d", r.Status)
	}
}

func TestServer_bodyTooLarge(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, hubspottest.WithMaxBodyBytes(64))
	r := call(t, srv, "POST", base+"/contacts/companies/labels", map[string]any{"label": strings.Repeat("x", 100), "name": "big"})
	wantHubSpotError(t, r, 413, "VALIDATION_ERROR", "too large")
}

func TestServer_requestLog(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, hubspottest.WithRequestLogSize(3))
	for i := 0; i < 5; i++ {
		call(t, srv, "GET", fmt.Sprintf("%s/contacts/companies/labels?i=%d", base, i), nil)
	}
	call(t, srv, "POST", base+"/contacts/companies/labels", map[string]any{"label": "L", "name": "n"})
	log := srv.Requests()
	if len(log) != 3 {
		t.Fatalf("log holds %d records, want 3", len(log))
	}
	last := log[2]
	if last.Operation != hubspottest.OpCreateLabel || last.Status != 200 || !strings.Contains(string(last.Body), `"label":"L"`) || !uuidRe.MatchString(last.CorrelationID) {
		t.Errorf("last record = %+v", last)
	}
	if log[0].Operation != hubspottest.OpListLabels {
		t.Errorf("first record = %+v", log[0])
	}
	st := srv.Stats()
	if st.Requests != 6 || st.ByOperation[hubspottest.OpListLabels] != 5 || st.ByStatus[200] != 6 {
		t.Errorf("stats = %+v", st)
	}
	srv.ResetStats()
	if st := srv.Stats(); st.Requests != 0 || len(srv.Requests()) != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

func TestNew_invalidOptions(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]hubspottest.Option{
		"empty token":       hubspottest.WithToken(""),
		"token with space":  hubspottest.WithToken("a b"),
		"zero rate":         hubspottest.WithRateLimit(0, 1),
		"tiny interval":     hubspottest.WithRateLimit(1, 0),
		"negative daily":    hubspottest.WithDailyLimit(-1),
		"zero batch":        hubspottest.WithMaxBatchInputs(0),
		"zero body":         hubspottest.WithMaxBodyBytes(0),
		"zero log":          hubspottest.WithRequestLogSize(0),
		"nil clock":         hubspottest.WithClock(nil),
		"nil spec":          hubspottest.WithSpec(nil),
		"missing spec file": hubspottest.WithSpecFile("/nonexistent.json"),
		"bad probability":   hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Probability: 2}),
		"bad fault status":  hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Probability: 1, Choices: []hubspottest.Fault{{Kind: hubspottest.FaultStatus, Status: 418}}}),
		"bad type":          hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "nope", ToObjectType: "contacts", TypeID: 1}),
		"duplicate type":    hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 1}),
		"limit on no type":  hubspottest.WithLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 7777, MaxToObjectIDs: 1}),
	} {
		if _, err := hubspottest.New(opt); err == nil {
			t.Errorf("%s: New succeeded, want error", name)
		}
	}
	srv, err := hubspottest.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Script(hubspottest.Fault{Kind: "boom"}); err == nil {
		t.Error("Script accepted an unknown kind")
	}
	if err := srv.Script(hubspottest.Fault{Kind: hubspottest.FaultStatus, Op: "Nope"}); err == nil {
		t.Error("Script accepted an unknown operation")
	}
}

func TestServer_seededTypes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t,
		hubspottest.WithoutDefaultTypes(),
		hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "2-1", ToObjectType: "contacts", Category: "INTEGRATOR_DEFINED", TypeID: 50, Label: "Partner"}),
		hubspottest.WithLimit(hubspottest.Limit{FromObjectType: "2-1", ToObjectType: "0-1", Category: "INTEGRATOR_DEFINED", TypeID: 50, MaxToObjectIDs: 4}),
	)
	if got := results(t, call(t, srv, "GET", base+"/contacts/companies/labels", nil)); len(got) != 0 {
		t.Errorf("default types present: %v", got)
	}
	got := results(t, call(t, srv, "GET", base+"/definitions/configurations/2-1/contacts", nil))
	if len(got) != 1 || got[0]["label"] != "Partner" || got[0]["userEnforcedMaxToObjectIds"] != float64(4) {
		t.Errorf("seeded limit = %v", got)
	}
}

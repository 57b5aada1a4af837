package hubspottest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

// TestServer_rawSpecs runs the server on HubSpot's published documents, as
// they are before normalization: success statuses follow each document.
func TestServer_rawSpecs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version               string
		createStatus, purge   int
		purgeBodyWantsResults bool
	}{
		{"2026-03", 201, 200, true}, // purge declares 200 BatchResponse
		{"v4", 201, 204, false},
		{"2025-09", 200, 200, true},
		{"2026-09", 200, 200, true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			path := specMirror(t, tc.version)
			srv := newTestServer(t, hubspottest.WithSpecFile(path))
			cfg := "/crm/associations/" + tc.version + "/definitions/configurations/contacts/companies"
			r := call(t, srv, "POST", cfg+"/batch/create", limitInputs(limitIn("HUBSPOT_DEFINED", 1, 1)))
			wantStatus(t, r, tc.createStatus)
			r = call(t, srv, "POST", cfg+"/batch/create", limitInputs(limitIn("HUBSPOT_DEFINED", 1, 1)))
			wantStatus(t, r, 207)
			// Validation follows the raw document too.
			r = call(t, srv, "POST", cfg+"/batch/update", `{"inputs":[{"category":"HUBSPOT_DEFINED"}]}`)
			wantHubSpotError(t, r, 400, "VALIDATION_ERROR", "")
			// Both route forms reach the same document.
			wantStatus(t, call(t, srv, "GET", "/crm/v4/associations/contacts/companies/labels", nil), 200)
			r = call(t, srv, "POST", cfg+"/batch/purge", map[string]any{"inputs": []any{map[string]any{"category": "HUBSPOT_DEFINED", "typeId": 1}}})
			wantStatus(t, r, tc.purge)
			if tc.purgeBodyWantsResults && (r.JSON["status"] != "COMPLETE" || r.JSON["results"] == nil) {
				t.Errorf("purge body = %s", r.Raw)
			}
			if len(srv.Limits()) != 0 {
				t.Errorf("purge left %v", srv.Limits())
			}
		})
	}
}

func TestServer_WithSpec_rejectsOtherAPIs(t *testing.T) {
	t.Parallel()
	p := specMirror(t, "2026-03")
	// The Pipelines document sits in the same mirror.
	other := p[:len(p)-len("Associations Schema/Rollouts/130902/2026-03/associationsSchema.json")] + "Pipelines/Rollouts/145896/2026-03/pipelines.json"
	if _, err := hubspottest.New(hubspottest.WithSpecFile(other)); err == nil {
		t.Error("New accepted the Pipelines document")
	}
	if _, err := hubspottest.New(hubspottest.WithSpec(loadDoc(t, p))); err != nil {
		t.Errorf("WithSpec(raw 2026-03): %v", err)
	}
}

func TestServer_WithBasePath(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, hubspottest.WithBasePath("/hubspot/"))
	wantStatus(t, call(t, srv, "GET", base+"/contacts/companies/labels", nil), 200)
	// Outside the prefix nothing is served.
	req, _ := http.NewRequest("GET", strings.TrimSuffix(srv.URL, "/hubspot")+base+"/contacts/companies/labels", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("request outside the base path: status %d, want 404", resp.StatusCode)
	}
	if _, err := hubspottest.New(hubspottest.WithBasePath("nope")); err == nil {
		t.Error("WithBasePath accepted a relative prefix")
	}
}

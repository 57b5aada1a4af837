package hubspottest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/generated/associations/openapispec"
	"github.com/crmkit/hubspot-associations/hubspottest"
	"github.com/crmkit/hubspot-associations/internal/specsource"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

const testToken = "pat-test"

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// result is a decoded HTTP exchange.
type result struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

func newTestServer(t *testing.T, opts ...hubspottest.Option) *hubspottest.Server {
	t.Helper()
	return hubspottest.NewServer(t, append([]hubspottest.Option{hubspottest.WithToken(testToken)}, opts...)...)
}

// call sends one request with the test token and checks the response
// against the normalized document.
func call(t *testing.T, srv *hubspottest.Server, method, path string, body any) result {
	t.Helper()
	return callAs(t, srv, testToken, method, path, body)
}

func callAs(t *testing.T, srv *hubspottest.Server, token, method, path string, body any) result {
	t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := result{Status: resp.StatusCode, Header: resp.Header}
	if out.Raw, err = io.ReadAll(resp.Body); err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	if len(out.Raw) > 0 {
		if err := json.Unmarshal(out.Raw, &out.JSON); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, out.Raw)
		}
	}
	checkAgainstSpec(t, req, raw, resp, out.Raw)
	return out
}

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

var versionRe = regexp.MustCompile(`^/crm/(?:associations/[^/]+|v4/associations)/`)

// checkAgainstSpec validates a documented response (success statuses and
// error bodies of routed requests) against the normalized document.
func checkAgainstSpec(t *testing.T, req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode == http.StatusTooManyRequests {
		return // rate-limit bodies have their own shape (no category)
	}
	specOnce.Do(func() {
		doc, err := openapispec.GetSpec()
		if err != nil {
			specErr = err
			return
		}
		cp := *doc
		cp.Servers = nil
		specRouter, specErr = legacy.NewRouter(&cp, openapi3.DisableExamplesValidation())
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	vr := req.Clone(context.Background())
	vr.URL.Path = versionRe.ReplaceAllString(req.URL.Path, "/crm/associations/"+associations.APIVersion+"/")
	vr.URL.RawPath = ""
	route, params, err := specRouter.FindRoute(vr)
	if err != nil {
		return
	}
	vr.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: false},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s -> %d does not match the document: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
}

func wantStatus(t *testing.T, r result, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
}

// wantHubSpotError checks the HubSpot error shape.
func wantHubSpotError(t *testing.T, r result, status int, category, messagePart string) {
	t.Helper()
	wantStatus(t, r, status)
	if r.JSON["status"] != "error" {
		t.Errorf("status field = %v, want \"error\"", r.JSON["status"])
	}
	if r.JSON["category"] != category {
		t.Errorf("category = %v, want %s; body %s", r.JSON["category"], category, r.Raw)
	}
	if msg, _ := r.JSON["message"].(string); !strings.Contains(msg, messagePart) {
		t.Errorf("message %q does not contain %q", msg, messagePart)
	}
	if cid, _ := r.JSON["correlationId"].(string); !uuidRe.MatchString(cid) {
		t.Errorf("correlationId %q is not a UUID", cid)
	}
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func results(t *testing.T, r result) []map[string]any {
	t.Helper()
	arr, ok := r.JSON["results"].([]any)
	if !ok {
		t.Fatalf("no results array in %s", r.Raw)
	}
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		out = append(out, e.(map[string]any))
	}
	return out
}

// specMirror returns the path of a published document in the local spec
// mirror $HUBSPOT_SPEC_MIRROR, skipping the test, saying how to get one,
// when there is none (specsource.LocalMirror). A mirror folder that lacks
// the document fails the test: it is not laid out like HubSpot's collection.
func specMirror(t *testing.T, version string) string {
	t.Helper()
	d, err := specsource.LocalMirror()
	if err != nil {
		t.Skip(err)
	}
	p := filepath.Join(d, "PublicApiSpecs", "CRM", "Associations Schema", "Rollouts", "130902", version, "associationsSchema.json")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("HUBSPOT_SPEC_MIRROR: %v", err)
	}
	return p
}

func loadDoc(t *testing.T, path string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

const base = "/crm/associations/2026-03"

func limitInputs(in ...map[string]any) map[string]any { return map[string]any{"inputs": in} }

func limitIn(category string, typeID, max int) map[string]any {
	return map[string]any{"category": category, "typeId": typeID, "maxToObjectIds": max}
}

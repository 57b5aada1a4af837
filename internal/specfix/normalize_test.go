package specfix

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func mustRules(t testing.TB, path string) *Rules {
	t.Helper()
	r, err := LoadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNormalize_golden(t *testing.T) {
	t.Parallel()
	raw := mustRead(t, "testdata/mini.json")
	res, err := Normalize("mini.json", raw, mustRules(t, "testdata/mini.rules.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/mini.golden.json"
	if *update {
		if err := os.WriteFile(golden, res.Output, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := mustRead(t, golden); !bytes.Equal(res.Output, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n%s", golden, res.Output)
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func at(t *testing.T, doc map[string]any, p string) any {
	t.Helper()
	v, ok := lookup(doc, p)
	if !ok {
		t.Fatalf("%s: missing", p)
	}
	return v
}

func TestNormalize_mini(t *testing.T) {
	t.Parallel()
	res, err := Normalize("mini.json", mustRead(t, "testdata/mini.json"), mustRules(t, "testdata/mini.rules.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc := decode(t, res.Output)
	create := "/paths/" + strings.ReplaceAll("/crm/widgets/2026-03/{objectType}/batch/create", "/", "~1") + "/post"
	archive := "/paths/" + strings.ReplaceAll("/crm/widgets/2026-03/{objectType}/batch/archive", "/", "~1") + "/post"
	checks := map[string]any{
		create + "/operationId":  "BatchCreateWidgets",
		archive + "/operationId": "PostBatchArchive",
		create + "/responses/200/content/application~1json/schema/$ref":     "#/components/schemas/BatchResponseWidget",
		create + "/responses/201/content/application~1json/schema/$ref":     "#/components/schemas/BatchResponseWidget",
		create + "/responses/207/content/application~1json/schema/$ref":     "#/components/schemas/BatchResponseWidgetWithErrors",
		archive + "/responses/200/content/application~1json/schema/$ref":    "#/components/schemas/BatchResponseVoid",
		archive + "/responses/204/description":                              "No content",
		"/components/schemas/Widget/properties/kind/$ref":                   "#/components/schemas/WidgetKind",
		"/components/schemas/Widget/properties/kind/description":            "The kind",
		"/components/schemas/Widget/properties/shape/$ref":                  "#/components/schemas/WidgetKind",
		"/components/schemas/BatchResponseWidget/properties/status/$ref":    "#/components/schemas/BatchStatus",
		"/components/schemas/BatchResponseVoid/properties/status/$ref":      "#/components/schemas/BatchStatus",
		"/components/schemas/Widget/properties/id/minimum":                  1.0,
		"/components/schemas/Widget/properties/example/description":         "a property that happens to be called example",
		"/components/schemas/Error/properties/context/x-go-type":            ErrorContextGoType,
		"/components/schemas/StandardError/properties/context/x-go-type":    ErrorContextGoType,
		"/components/responses/Error/content/application~1json/schema/$ref": "#/components/schemas/Error",
		"/components/securitySchemes/" + BearerScheme + "/scheme":           "bearer",
	}
	for p, want := range checks {
		if got := at(t, doc, p); got != want {
			t.Errorf("%s = %v, want %v", p, got, want)
		}
	}
	for _, gone := range []string{
		create + "/security",
		"/components/securitySchemes/oauth2",
		"/components/responses/Error/content/*~1*",
		"/components/schemas/Widget/example",
		"/components/schemas/Widget/properties/id/example",
		"/components/schemas/Error/properties/correlationId/format",
		"/components/schemas/StandardError/properties/subCategory/type",
		"/info/description",
	} {
		if v, ok := lookup(doc, gone); ok {
			t.Errorf("%s = %v, want it removed", gone, v)
		}
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "POST /crm/widgets/{version}/{objectType}/batch/archive") {
		t.Errorf("warnings = %q, want one naming the archive operation", res.Warnings)
	}
	if res.Version != "2026-03" {
		t.Errorf("Version = %q", res.Version)
	}
}

func TestNormalize_idempotent(t *testing.T) {
	t.Parallel()
	rules := mustRules(t, "testdata/mini.rules.json")
	first, err := Normalize("mini.json", mustRead(t, "testdata/mini.json"), rules, Options{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Normalize("normalized.json", first.Output, rules, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Output, second.Output) {
		t.Error("normalizing a normalized document changed it")
	}
	if len(second.Changes) != 0 {
		t.Errorf("second pass reported changes: %v", second.Changes)
	}
}

func TestNormalize_errors(t *testing.T) {
	t.Parallel()
	raw := mustRead(t, "testdata/mini.json")
	vanishedOp := `{"documents":[{"api":"crm-widgets","operations":[{"name":"Gone","method":"DELETE","path":"/crm/widgets/{version}/gone"}]}]}`
	vanishedEnum := `{"documents":[{"api":"crm-widgets","enums":[{"name":"WidgetKind","values":["ROUND"],"also":["/components/schemas/Nope/properties/x"]}]}]}`
	optionalEnum := `{"documents":[{"api":"crm-widgets","enums":[{"name":"WidgetKind","values":["ROUND"],"also":["/components/schemas/Nope/properties/x"],"optional":true}]}]}`
	vanishedEdit := `{"documents":[{"api":"crm-widgets","edits":[{"name":"e","pointer":"/components/schemas/Nope/properties/x/minimum","value":1}]}]}`
	tests := []struct {
		name, doc, rules, want string
	}{
		{"syntax", `{"openapi": "3.0.1",` + "\n" + `"info": }`, "", "doc.json: /: invalid JSON at line 2, column 9"},
		{"not openapi 3", `{"swagger":"2.0","info":{"title":"x","version":"1"},"paths":{}}`, "", "doc.json: /openapi: want an OpenAPI 3.x document"},
		{"no version", `{"openapi":"3.0.1","info":{"title":"x"},"paths":{}}`, "", "doc.json: /info/version: missing"},
		{"operation not object", `{"openapi":"3.0.1","info":{"title":"x","version":"1"},"paths":{"/a":{"get":[]}}}`, "", "doc.json: /paths/~1a/get: operation is not an object"},
		{"dangling ref into a missing schema", `{"openapi":"3.0.1","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"d","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Nope/properties/x"}}}}}}}}}`, "", "doc.json: /: normalized document does not load"},
		{"unclosed brace", `{"openapi":"3.0.1","info":{"title":"x","version":"1"},"paths":{"/x/{y":{"get":{"responses":{"default":{"description":"d"}}}}}}`, "", `doc.json: /paths/~1x~1{y: path segment "{y": unbalanced, nested or empty {parameter}`},
		{"nested brace", `{"openapi":"3.0.1","info":{"title":"x","version":"1"},"paths":{"/x/{{y}}":{"get":{"responses":{"default":{"description":"d"}}}}}}`, "", `doc.json: /paths/~1x~1{{y}}: path segment "{{y}}": unbalanced, nested or empty {parameter}`},
		{"empty brace", `{"openapi":"3.0.1","info":{"title":"x","version":"1"},"paths":{"/x/{}":{"get":{"responses":{"default":{"description":"d"}}}}}}`, "", `doc.json: /paths/~1x~1{}: path segment "{}": unbalanced, nested or empty {parameter}`},
		{"vanished operation", string(raw), vanishedOp, `doc.json: /paths: API crm-widgets: 1 operations the rules name are missing (with any version segment): Gone (DELETE /crm/widgets/{version}/gone)`},
		{"unknown API", string(raw), `{"documents":[{"api":"other"}]}`, `doc.json: /: no rules for API "crm-widgets" (rules name: other)`},
		{"vanished enum target", string(raw), vanishedEnum, "doc.json: /components/schemas/Nope/properties/x: enum rule WidgetKind: target vanished"},
		{"vanished edit target", string(raw), vanishedEdit, `doc.json: /components/schemas/Nope/properties/x/minimum: edit rule "e": target vanished`},
		{"optional enum target", string(raw), optionalEnum, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rules *Rules
			var opts Options
			if tt.rules != "" {
				r, err := ParseRules("rules.json", []byte(tt.rules))
				if err != nil {
					t.Fatal(err)
				}
				rules, opts.API = r, "crm-widgets"
			}
			_, err := Normalize("doc.json", []byte(tt.doc), rules, opts)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %q, want prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestParseRules_errors(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		`{"documents":[{"api":""}]}`: "r.json: documents[0].api",
		`{"documents":[{"api":"x","operations":[{"name":"lower","method":"GET","path":"/a"}]}]}`:                                     "r.json: documents[0].operations[0].name",
		`{"documents":[{"api":"x","operations":[{"name":"A","method":"FETCH","path":"/a"}]}]}`:                                       "r.json: documents[0].operations[0].method",
		`{"documents":[{"api":"x","operations":[{"name":"A","method":"GET","path":"/a"},{"name":"A","method":"PUT","path":"/a"}]}]}`: "r.json: documents[0].operations[1].name: duplicate",
		`{"documents":[{"api":"x","enums":[{"name":"E","values":[]}]}]}`:                                                             "r.json: documents[0].enums[0].values",
		`{"documents":[{"api":"x","edits":[{"name":"e","pointer":"no-slash","value":1}]}]}`:                                          "r.json: documents[0].edits[0].pointer",
		`{"documents":[], "extra": 1}`: `r.json: json: unknown field "extra"`,
	}
	for in, want := range tests {
		if _, err := ParseRules("r.json", []byte(in)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseRules(%s) = %v, want prefix %q", in, err, want)
		}
	}
}

func TestDeriveName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path string
		full         bool
		want         string
	}{
		{"get", "/crm/pipelines/{version}/{objectType}", false, "GetByObjectType"},
		{"get", "/crm/pipelines/{version}/{objectType}/{pipelineId}/stages", false, "GetStages"},
		{"get", "/crm/pipelines/{version}/{objectType}/{pipelineId}/stages/{stageId}", true, "GetStagesByObjectTypeAndPipelineIdAndStageId"},
		{"post", "/crm/associations/{version}/usage/high-usage-report/{userId}", false, "PostUsageHighUsageReportByUserId"},
	}
	for _, tt := range tests {
		if got := DeriveName(tt.method, tt.path, tt.full); got != tt.want {
			t.Errorf("DeriveName(%s, %s, %v) = %s, want %s", tt.method, tt.path, tt.full, got, tt.want)
		}
	}
	if got := VersionFreePath("/crm/associations/2026-09-beta/x/v4"); got != "/crm/associations/{version}/x/v4" {
		t.Errorf("VersionFreePath = %s", got)
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add(mustRead(f, "testdata/mini.json"))
	f.Add([]byte(`{"openapi":"3.0.1","info":{"title":"x","version":"1"},"paths":{}}`))
	f.Add([]byte(`{"openapi":"3.0.1","info":{"title":"CRM Widgets","version":"v4"},"paths":{"/crm/widgets/v4/{objectType}":{"get":{"parameters":[{"name":"objectType","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"default":{"description":"e","content":{"*/*":{"schema":{"type":"string"}}}}}}}}}`))
	// The corpus (testdata/fuzz/FuzzNormalize) holds documents of both
	// test APIs: mini's widgets and the things of spelling_test.go.
	rules := mustRules(f, "testdata/mini.rules.json")
	rules.Documents = append(rules.Documents, mustRules(f, "testdata/things.rules.json").Documents...)
	f.Fuzz(func(t *testing.T, raw []byte) {
		res, err := Normalize("fuzz.json", raw, rules, Options{})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		again, err := Normalize("fuzz.json", res.Output, rules, Options{})
		if err != nil {
			t.Fatalf("normalized output does not normalize: %v", err)
		}
		if !bytes.Equal(again.Output, res.Output) {
			t.Fatalf("not idempotent")
		}
		if again2, _ := Normalize("fuzz.json", raw, rules, Options{}); !bytes.Equal(again2.Output, res.Output) {
			t.Fatalf("not deterministic")
		}
	})
}

// TestNormalize_partialTemplate: a parameter inside a segment is not an
// error (oapi-codegen generates it).
func TestNormalize_partialTemplate(t *testing.T) {
	t.Parallel()
	raw := `{"openapi":"3.0.1","info":{"title":"x","version":"2026-03"},"paths":{"/f/2026-03/files/{fileId}.json":{"get":{"parameters":[{"name":"fileId","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"204":{"description":"d"}}}}}}`
	res, err := Normalize("x.json", []byte(raw), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, res.Output)["GET /f/2026-03/files/{fileId}.json"]; got != "GetFilesFileIdJson" {
		t.Errorf("name = %q", got)
	}
}

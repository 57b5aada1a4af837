package specfix

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
)

// The tests here change the small "things" API (written here, see
// thingsSpelling) the ways HubSpot could change its documents next (issue
// 21) and the ways fuzzing broke specfix (issue 20); each edit alone.

// thingsDoc is the things document, decoded, for a test to edit.
func thingsDoc(t *testing.T, s thingsSpelling) map[string]any {
	t.Helper()
	return decode(t, s.doc(t))
}

func encode(t *testing.T, doc map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func schemasOf(doc map[string]any) map[string]any {
	return doc["components"].(map[string]any)["schemas"].(map[string]any)
}

// renameIn renames a schema of doc and every reference to it.
func renameIn(doc map[string]any, from, to string) {
	s := schemasOf(doc)
	s[to] = s[from]
	delete(s, from)
	walk(doc, "", false, func(m map[string]any, _ string, _ bool) {
		if m["$ref"] == schemasPrefix+from {
			m["$ref"] = schemasPrefix + to
		}
	})
}

func changeWhat(res *Result, rule string) []string {
	var out []string
	for _, c := range res.Changes {
		if c.Rule == rule {
			out = append(out, c.Pointer+": "+c.What)
		}
	}
	return out
}

// normalizeTwice normalizes raw with the things rules and checks the
// result is idempotent.
func normalizeTwice(t *testing.T, raw []byte) *Result {
	t.Helper()
	rules := mustRules(t, "testdata/things.rules.json")
	res, err := Normalize("things.json", raw, rules, Options{API: "things"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := Normalize("again", res.Output, rules, Options{API: "things"})
	if err != nil || len(again.Changes) > 0 || string(again.Output) != string(res.Output) {
		t.Fatalf("not idempotent: %v %v", err, again.Changes)
	}
	return res
}

// TestNormalize_enumValueAdded: a value HubSpot adds to a shared enum is a
// new value (a new Go constant) of the same enum, with a change line, and
// Result.Enums lists what the document publishes; a value it drops stays
// (the rules' values are always there) and is missing from Result.Enums.
func TestNormalize_enumValueAdded(t *testing.T) {
	t.Parallel()
	s := thingsSpelling{title: "t", versions: []string{"2026-03"}, categoryEnum: []string{"A_DEFINED", "B_DEFINED", "C_DEFINED", "D_DEFINED"}, statusEnum: true}
	doc := thingsDoc(t, s)
	st := schemasOf(doc)["BatchResponseThingResult"].(map[string]any)["properties"].(map[string]any)["status"].(map[string]any)
	st["enum"] = append(st["enum"].([]any), "FAILED")
	res := normalizeTwice(t, encode(t, doc))
	out := decode(t, res.Output)
	for p, want := range map[string]any{
		"/components/schemas/Thing/properties/category/$ref":                  "#/components/schemas/ThingCategory",
		"/components/schemas/ThingResult/properties/category/$ref":            "#/components/schemas/ThingCategory",
		"/components/schemas/BatchResponseThingResult/properties/status/$ref": "#/components/schemas/BatchStatus",
	} {
		if got := at(t, out, p); got != want {
			t.Errorf("%s = %v, want %v", p, got, want)
		}
	}
	for name, want := range map[string][]any{
		"ThingCategory": {"A_DEFINED", "B_DEFINED", "C_DEFINED", "D_DEFINED"},
		"BatchStatus":   {"CANCELED", "COMPLETE", "PENDING", "PROCESSING", "FAILED"},
	} {
		if got := at(t, out, "/components/schemas/"+name+"/enum").([]any); !slices.Equal(got, want) {
			t.Errorf("%s values = %v, want %v", name, got, want)
		}
	}
	if got := at(t, out, "/components/schemas/ThingCategory/x-enum-varnames").([]any); got[3] != "ThingCategoryDDefined" {
		t.Errorf("constant names = %v", got)
	}
	if got := changeWhat(res, "enum BatchStatus"); !slices.Contains(got, "/components/schemas/BatchStatus: value FAILED added: the document lists it, the rules do not (constant BatchStatusFailed)") {
		t.Errorf("changes = %q, want a line naming FAILED", got)
	}
	if got := res.Enums["BatchStatus"]; !slices.Equal(got, []string{"CANCELED", "COMPLETE", "FAILED", "PENDING", "PROCESSING"}) {
		t.Errorf("Result.Enums[BatchStatus] = %v", got)
	}

	// A value left out: the enum keeps it, Result.Enums does not list it.
	s.categoryEnum = []string{"A_DEFINED", "B_DEFINED"}
	res = normalizeTwice(t, s.doc(t))
	if got := at(t, decode(t, res.Output), "/components/schemas/ThingCategory/enum").([]any); len(got) != 3 {
		t.Errorf("ThingCategory values = %v, want the rules' three", got)
	}
	if got := res.Enums["ThingCategory"]; !slices.Equal(got, []string{"A_DEFINED", "B_DEFINED"}) {
		t.Errorf("Result.Enums[ThingCategory] = %v, want what the document lists", got)
	}
}

// TestNormalize_errorSchemasRenamed: error schemas are found by their role
// (default and 4xx answers, 207 errors), not by HubSpot's names.
func TestNormalize_errorSchemasRenamed(t *testing.T) {
	t.Parallel()
	doc := thingsDoc(t, thingsSpelling{title: "t", versions: []string{"2026-03"}})
	props := schemasOf(doc)["Error"].(map[string]any)["properties"].(map[string]any)
	props["correlationId"] = map[string]any{"type": "string", "format": "uuid"}
	props["context"] = map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}
	props["errors"] = map[string]any{"type": "array", "items": map[string]any{"$ref": schemasPrefix + "ErrorDetail"}}
	schemasOf(doc)["ErrorDetail"] = map[string]any{"type": "object", "properties": map[string]any{
		"message": map[string]any{"type": "string"},
		"context": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}},
	}}
	renameIn(doc, "Error", "ApiError")
	renameIn(doc, "ErrorDetail", "ApiErrorDetail")
	out := decode(t, normalizeTwice(t, encode(t, doc)).Output)
	for p, want := range map[string]any{
		"/components/schemas/Error/x-hubspot-schema":                         "ApiError",
		"/components/schemas/Error/properties/context/x-go-type":             ErrorContextGoType,
		"/components/schemas/ApiErrorDetail/properties/context/x-go-type":    ErrorContextGoType,
		"/components/schemas/Error/properties/correlationId/type":            "string",
		"/components/schemas/Error/properties/errors/items/$ref":             schemasPrefix + "ApiErrorDetail",
		"/components/schemas/ApiErrorDetail/properties/message/type":         "string",
		"/components/schemas/Error/properties/context/x-go-type-import/path": RuntimeImport,
	} {
		if got := at(t, out, p); got != want {
			t.Errorf("%s = %v, want %v", p, got, want)
		}
	}
	if v, ok := lookup(out, "/components/schemas/Error/properties/correlationId/format"); ok {
		t.Errorf("correlationId keeps format %v", v)
	}
}

// TestNormalize_resultsSchemaRenamed: the batch results schema a rule
// names (a curated type) is found through its type rule, whatever HubSpot
// calls it; no rule names HubSpot's schema.
func TestNormalize_resultsSchemaRenamed(t *testing.T) {
	t.Parallel()
	doc := thingsDoc(t, thingsSpelling{title: "t", versions: []string{"2026-03"}})
	renameIn(doc, "ThingResult", "ThingUpdateOutcome")
	res := normalizeTwice(t, encode(t, doc))
	out := decode(t, res.Output)
	for p, want := range map[string]any{
		"/components/schemas/ThingResult/x-hubspot-schema":                           "ThingUpdateOutcome",
		"/components/schemas/BatchResponseThingResult/properties/results/items/$ref": schemasPrefix + "ThingResult",
	} {
		if got := at(t, out, p); got != want {
			t.Errorf("%s = %v, want %v", p, got, want)
		}
	}
	if got := changeWhat(res, "type ThingResult"); !slices.Contains(got, "/components/schemas/ThingResult: renamed from ThingUpdateOutcome") {
		t.Errorf("changes = %q, want the rename", got)
	}
	if _, err := ParseRules("r.json", []byte(`{"documents":[{"api":"x","operations":[{"name":"A","method":"POST","path":"/a","results":"HubSpotName"}]}]}`)); err == nil || !strings.Contains(err.Error(), `documents[0].operations[0].results: "HubSpotName" is not the name of a type rule`) {
		t.Errorf("a results rule naming no type rule: %v", err)
	}
}

// TestNormalize_inlineResponse: a response schema written out in place is
// the type the other places of its rule reference when it is the same
// schema; a different one is refused in one line.
func TestNormalize_inlineResponse(t *testing.T) {
	t.Parallel()
	inline := func(t *testing.T, edit func(map[string]any)) []byte {
		doc := thingsDoc(t, thingsSpelling{title: "t", versions: []string{"2026-03"}})
		get := doc["paths"].(map[string]any)["/crm/things/2026-03/{objectType}"].(map[string]any)["get"].(map[string]any)
		media := get["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)
		copied := deepCopy(schemasOf(doc)["CollectionResponseThing"]).(map[string]any)
		copied["description"] = "The things, written out."
		edit(copied)
		media["schema"] = copied
		return encode(t, doc)
	}
	// Only place of ThingPage: declared under the curated name.
	res := normalizeTwice(t, inline(t, func(map[string]any) {}))
	if got := at(t, decode(t, res.Output), "/components/schemas/ThingPage/properties/results/items/$ref"); got != schemasPrefix+"Thing" {
		t.Errorf("ThingPage results = %v", got)
	}

	rules := `{"documents":[{"api":"things","operations":[
		{"name": "ListThings", "method": "GET", "path": "/crm/things/{version}/{objectType}"},
		{"name": "BatchUpdateThings", "method": "POST", "path": "/crm/things/{version}/{objectType}/batch/update"},
		{"name": "DeleteThing", "method": "DELETE", "path": "/crm/things/{version}/{objectType}/{thingId}"},
		{"name": "ListThingsAgain", "method": "GET", "path": "/crm/things/{version}/again/{objectType}"}],
		"types": [{"name": "ThingPage", "from": ["ListThings response.200", "ListThingsAgain response.200"]}]}]}`
	r, err := ParseRules("r.json", []byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	withAgain := func(raw []byte) []byte {
		doc := decode(t, raw)
		doc["paths"].(map[string]any)["/crm/things/2026-03/again/{objectType}"] = map[string]any{"get": map[string]any{
			"parameters": []any{map[string]any{"name": "objectType", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}},
			"responses": map[string]any{"200": map[string]any{"description": "ok", "content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": schemasPrefix + "CollectionResponseThing"}}}}},
		}}
		return encode(t, doc)
	}
	// The same schema as the other place references: referenced.
	res, err = Normalize("things.json", withAgain(inline(t, func(map[string]any) {})), r, Options{API: "things"})
	if err != nil {
		t.Fatal(err)
	}
	out := decode(t, res.Output)
	list := "/paths/" + strings.ReplaceAll("/crm/things/2026-03/{objectType}", "/", "~1") + "/get/responses/200/content/application~1json/schema/$ref"
	if got := at(t, out, list); got != schemasPrefix+"ThingPage" {
		t.Errorf("ListThings answers %v, want ThingPage", got)
	}
	if got := changeWhat(res, "type ThingPage"); !slices.Contains(got, "/paths: the inline schema at ListThings response.200 is schema CollectionResponseThing written out: referenced") {
		t.Errorf("changes = %q", got)
	}
	// Another schema: refused in one line.
	_, err = Normalize("things.json", withAgain(inline(t, func(s map[string]any) {
		s["properties"].(map[string]any)["total"] = map[string]any{"type": "integer"}
	})), r, Options{API: "things"})
	want := "things.json: /paths: type rule ThingPage: ListThings response.200 is an inline schema unlike CollectionResponseThing, which ListThingsAgain response.200 is (one Go type cannot be both)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

// recursiveDoc is a small document whose schemas contain themselves, as
// HubSpot's Data Studio document does: Node directly, Left and Right
// through each other; Tree only through an array (which Go allows).
const recursiveDoc = `{"openapi":"3.0.1","info":{"title":"Data Studio-like","version":"2026-03"},
"paths":{"/data/2026-03/nodes/{nodeId}":{"get":{"parameters":[{"name":"nodeId","in":"path","required":true,"schema":{"type":"string"}}],
	"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Holder"}}}}}}}},
"components":{"schemas":{
	"Holder":{"type":"object","required":["node","left","tree"],"properties":{"node":{"$ref":"#/components/schemas/Node"},"left":{"$ref":"#/components/schemas/Left"},"tree":{"$ref":"#/components/schemas/Tree"}}},
	"Node":{"type":"object","required":["id","next"],"properties":{"id":{"type":"string"},"next":{"$ref":"#/components/schemas/Node"}}},
	"Left":{"type":"object","required":["right"],"properties":{"right":{"$ref":"#/components/schemas/Right"}}},
	"Right":{"type":"object","required":["left"],"properties":{"left":{"$ref":"#/components/schemas/Left"}}},
	"Tree":{"type":"object","required":["children"],"properties":{"children":{"type":"array","items":{"$ref":"#/components/schemas/Tree"}}}}}}}`

// TestNormalize_recursiveSchemas: a required property holding its own
// schema (directly or through another) becomes optional, a pointer in Go,
// with a change line each, and the generated code builds.
func TestNormalize_recursiveSchemas(t *testing.T) {
	t.Parallel()
	res, err := Normalize("datastudio.json", []byte(recursiveDoc), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/components/schemas/Left/properties/right: no longer required: Left contains itself through Right, which a Go struct cannot (a pointer in Go)",
		"/components/schemas/Node/properties/next: no longer required: Node contains itself, which a Go struct cannot (a pointer in Go)",
	}
	if got := changeWhat(res, "recursive-schemas"); !slices.Equal(got, want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}
	again, err := Normalize("again", res.Output, nil, Options{})
	if err != nil || len(again.Changes) > 0 {
		t.Errorf("not idempotent: %v %v", err, again.Changes)
	}
	if testing.Short() {
		return
	}
	// Generated with oapi-codegen, the package builds (without the change
	// it is "invalid recursive type").
	buildGenerated(t, map[string][]byte{"datastudio": res.Output})
}

// buildGenerated generates a package per document (by package name) with
// oapi-codegen and vets them in a module of their own, or fails the test.
func buildGenerated(t *testing.T, docs map[string][]byte) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	gomod := strings.Replace(string(mustRead(t, filepath.Join(root, "go.mod"))), "module github.com/crmkit/hubspot-associations", "module example.com/generated", 1) +
		"\nrequire github.com/crmkit/hubspot-associations v0.0.0\n\nreplace github.com/crmkit/hubspot-associations => " + root + "\n"
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), mustRead(t, filepath.Join(root, "go.sum")), 0o644); err != nil {
		t.Fatal(err)
	}
	for pkg, out := range docs {
		doc, err := openapi3.NewLoader().LoadFromData(out)
		if err != nil {
			t.Fatal(err)
		}
		code, err := codegen.Generate(doc, codegen.Configuration{
			PackageName:   pkg,
			Generate:      codegen.GenerateOptions{Models: true, Client: true, EmbeddedSpec: true},
			OutputOptions: codegen.OutputOptions{SkipPrune: true},
		})
		if err != nil {
			t.Fatalf("%s: oapi-codegen: %v", pkg, err)
		}
		if err := os.MkdirAll(filepath.Join(mod, pkg), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, pkg, pkg+".gen.go"), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generated code does not build: %v\n%s", err, out)
	}
}

// TestNormalize_notObjectSchemas (issue 20): a schema a rule reads that is
// a number, string, array, boolean or null where a schema object belongs
// is refused in one line naming the schema and the rule, never a panic.
func TestNormalize_notObjectSchemas(t *testing.T) {
	t.Parallel()
	rules := mustRules(t, "testdata/things.rules.json")
	for _, name := range []string{"CollectionResponseThing", "Thing", "Error", "BatchInputThing", "BatchResponseThingResult", "ThingResult"} {
		for _, v := range []any{5, "schema", []any{}, true, nil} {
			doc := thingsDoc(t, thingsSpelling{title: "t", versions: []string{"2026-03"}})
			schemasOf(doc)[name] = v
			_, err := Normalize("things.json", encode(t, doc), rules, Options{API: "things"})
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s = %v: error %v, want a refusal", name, v, err)
				continue
			}
			msg := err.Error()
			kind := schemaKind(v)
			if strings.Contains(msg, "\n") || !strings.Contains(msg, "schema "+name+" is "+kind+", not a schema object") || !strings.Contains(msg, " rule ") {
				t.Errorf("%s = %v: %q, want one line naming the schema, what it is and the rule", name, v, msg)
			}
		}
	}
	if t.Failed() {
		return
	}
	// Such a line, for the record.
	doc := thingsDoc(t, thingsSpelling{title: "t", versions: []string{"2026-03"}})
	schemasOf(doc)["Thing"] = 5
	_, err := Normalize("things.json", encode(t, doc), rules, Options{API: "things"})
	if want := "things.json: /components/schemas/Thing: type rule Thing: schema Thing is a number, not a schema object"; fmt.Sprint(err) != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

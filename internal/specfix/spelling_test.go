package specfix

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

// thingsSpelling says how one revision of the small "things" API spells
// it. The API is written here (not copied from HubSpot) and has the
// shapes HubSpot's revisions differ in.
type thingsSpelling struct {
	title        string
	infoVersion  string
	versions     []string                          // every operation is published under each
	path         func(version, rest string) string // nil: /crm/things/<version>/<rest>
	categoryEnum []string                          // nil: category is a plain string
	statusEnum   bool
	updateVoid   bool              // batch update declares results of an undefined Void
	omit         []string          // rests of operations left out
	extra        map[string]string // path -> method of further operations
	listSchema   string            // the list response's schema (default CollectionResponseThing)
}

func (s thingsSpelling) doc(t *testing.T) []byte {
	t.Helper()
	if s.path == nil {
		s.path = func(v, rest string) string { return "/crm/things/" + v + "/" + rest }
	}
	if s.infoVersion == "" {
		s.infoVersion = s.versions[0]
	}
	if s.listSchema == "" {
		s.listSchema = "CollectionResponseThing"
	}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	jsonResp := func(name string) map[string]any {
		return map[string]any{"description": "ok", "content": map[string]any{"application/json": map[string]any{"schema": ref(name)}}}
	}
	param := func(name string) map[string]any {
		return map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
	}
	errResp := map[string]any{"description": "error", "content": map[string]any{"*/*": map[string]any{"schema": ref("Error")}}}
	ops := map[string]map[string]any{
		"{objectType}": {"get": map[string]any{
			"operationId": "get-things",
			"parameters":  []any{param("objectType")},
			"responses":   map[string]any{"200": jsonResp(s.listSchema), "default": errResp},
		}},
		"{objectType}/batch/update": {"post": map[string]any{
			"operationId": "post-things-batch-update",
			"parameters":  []any{param("objectType")},
			"requestBody": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": ref("BatchInputThing")}}},
			"responses":   map[string]any{"200": jsonResp(map[bool]string{true: "BatchResponseVoid", false: "BatchResponseThingResult"}[s.updateVoid]), "default": errResp},
		}},
		"{objectType}/{thingId}": {"delete": map[string]any{
			"operationId": "delete-thing",
			"parameters":  []any{param("objectType"), param("thingId")},
			"responses":   map[string]any{"204": map[string]any{"description": "gone"}, "default": errResp},
		}},
	}
	paths := map[string]any{}
	for _, v := range s.versions {
		for rest, item := range ops {
			if !slices.Contains(s.omit, rest) {
				paths[s.path(v, rest)] = deepCopy(map[string]any{"get": item["get"], "post": item["post"], "delete": item["delete"]})
				for m, op := range paths[s.path(v, rest)].(map[string]any) {
					if op == nil {
						delete(paths[s.path(v, rest)].(map[string]any), m)
					}
				}
			}
		}
	}
	for p, m := range s.extra {
		paths[p] = map[string]any{m: map[string]any{"responses": map[string]any{"204": map[string]any{"description": "done"}}}}
	}
	category := map[string]any{"type": "string"}
	if s.categoryEnum != nil {
		category["enum"] = s.categoryEnum
	}
	status := map[string]any{"type": "string"}
	if s.statusEnum {
		status["enum"] = []any{"PENDING", "PROCESSING", "CANCELED", "COMPLETE"}
	}
	batch := func(item map[string]any) map[string]any {
		return map[string]any{"type": "object", "required": []any{"results", "status", "startedAt", "completedAt"}, "properties": map[string]any{
			"status": status, "startedAt": map[string]any{"type": "string", "format": "date-time"},
			"completedAt": map[string]any{"type": "string", "format": "date-time"},
			"results":     map[string]any{"type": "array", "items": item},
		}}
	}
	schemas := map[string]any{
		"Thing": map[string]any{"type": "object", "required": []any{"typeId", "category"}, "properties": map[string]any{
			"typeId": map[string]any{"type": "integer", "format": "int32"}, "category": category,
		}},
		"BatchInputThing": map[string]any{"type": "object", "required": []any{"inputs"}, "properties": map[string]any{"inputs": map[string]any{"type": "array", "items": ref("Thing")}}},
		s.listSchema:      map[string]any{"type": "object", "required": []any{"results"}, "properties": map[string]any{"results": map[string]any{"type": "array", "items": ref("Thing")}}},
		"Error": map[string]any{"type": "object", "required": []any{"message", "category"}, "properties": map[string]any{
			"message": map[string]any{"type": "string"}, "category": map[string]any{"type": "string"},
		}},
	}
	if s.updateVoid {
		schemas["BatchResponseVoid"] = batch(ref("Void"))
	} else {
		schemas["BatchResponseThingResult"] = batch(ref("ThingResult"))
		schemas["ThingResult"] = map[string]any{"type": "object", "required": []any{"typeId"}, "properties": map[string]any{
			"typeId": map[string]any{"type": "integer", "format": "int32"}, "category": category,
		}}
	}
	doc := map[string]any{
		"openapi":    "3.0.1",
		"info":       map[string]any{"title": s.title, "version": s.infoVersion},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// names maps each operation of a normalized document, as "METHOD path",
// to its operationId.
func names(t *testing.T, out []byte) map[string]string {
	t.Helper()
	doc := decode(t, out)
	got := map[string]string{}
	for p, item := range doc["paths"].(map[string]any) {
		for m, op := range item.(map[string]any) {
			if o, ok := op.(map[string]any); ok && httpMethods[m] {
				got[strings.ToUpper(m)+" "+p], _ = o["operationId"].(string)
			}
		}
	}
	return got
}

func normalizeThings(t *testing.T, s thingsSpelling, opts Options) *Result {
	t.Helper()
	res, err := Normalize("things.json", s.doc(t), mustRules(t, "testdata/things.rules.json"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantNames(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("operations:\n got %v\nwant %v", got, want)
	}
}

func TestNormalize_titleChanges(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"GET /crm/things/2026-03/{objectType}":               "ListThings",
		"POST /crm/things/2026-03/{objectType}/batch/update": "BatchUpdateThings",
		"DELETE /crm/things/2026-03/{objectType}/{thingId}":  "DeleteThing",
	}
	for _, title := range []string{"CRM Things", "Things", "CrmPublicThingsServiceV4", ""} {
		for _, api := range []string{"things", ""} { // the pin names the API, or the operations do
			res := normalizeThings(t, thingsSpelling{title: title, versions: []string{"2026-03"}, categoryEnum: []string{"A_DEFINED", "B_DEFINED"}}, Options{API: api})
			wantNames(t, names(t, res.Output), want)
			doc := decode(t, res.Output)
			if got := at(t, doc, "/components/schemas/Thing/properties/category/$ref"); got != "#/components/schemas/ThingCategory" {
				t.Errorf("title %q, api %q: category = %v, want the rules' enum", title, api, got)
			}
		}
	}
}

func TestNormalize_crmV4Paths(t *testing.T) {
	t.Parallel()
	oldStyle := thingsSpelling{title: "CrmPublicThingsServiceV4", versions: []string{"v4"},
		path:  func(v, rest string) string { return "/crm/" + v + "/things/" + rest },
		extra: map[string]string{"/crm/v4/things/{objectType}/batch/read": "post"}}
	newStyle := oldStyle
	newStyle.path = nil
	newStyle.extra = map[string]string{"/crm/things/v4/{objectType}/batch/read": "post"}
	// The client calls the spelling the document gives; names are the same.
	wantNames(t, names(t, normalizeThings(t, oldStyle, Options{API: "things"}).Output), map[string]string{
		"GET /crm/v4/things/{objectType}":               "ListThings",
		"POST /crm/v4/things/{objectType}/batch/update": "BatchUpdateThings",
		"DELETE /crm/v4/things/{objectType}/{thingId}":  "DeleteThing",
		"POST /crm/v4/things/{objectType}/batch/read":   "PostBatchRead",
	})
	wantNames(t, names(t, normalizeThings(t, newStyle, Options{API: "things"}).Output), map[string]string{
		"GET /crm/things/v4/{objectType}":               "ListThings",
		"POST /crm/things/v4/{objectType}/batch/update": "BatchUpdateThings",
		"DELETE /crm/things/v4/{objectType}/{thingId}":  "DeleteThing",
		"POST /crm/things/v4/{objectType}/batch/read":   "PostBatchRead",
	})
	// A renamed path parameter is still the same operation.
	renamed := newStyle
	renamed.path = func(v, rest string) string {
		return "/crm/things/" + v + "/" + strings.ReplaceAll(rest, "{thingId}", "{id}")
	}
	if got := names(t, normalizeThings(t, renamed, Options{API: "things"}).Output)["DELETE /crm/things/v4/{objectType}/{id}"]; got != "DeleteThing" {
		t.Errorf("renamed parameter: name = %q, want DeleteThing", got)
	}
}

func TestNormalize_mergedVersions(t *testing.T) {
	t.Parallel()
	merged := thingsSpelling{title: "CRM Things", infoVersion: "v4", versions: []string{"v4", "2025-09"},
		extra: map[string]string{"/crm/things/2025-09/usage/report": "post"}}
	tests := []struct {
		version, kept, left string
	}{
		{"v4", "v4", "2025-09"},      // the pin's (or flag's) version
		{"", "v4", "2025-09"},        // default: info.version
		{"2025-09", "2025-09", "v4"}, // the other one, on request
		{"2031-01", "2025-09", "v4"}, // not published: the newest
	}
	for _, tt := range tests {
		res := normalizeThings(t, merged, Options{API: "things", Version: tt.version})
		wantNames(t, names(t, res.Output), map[string]string{
			"GET /crm/things/" + tt.kept + "/{objectType}":               "ListThings",
			"POST /crm/things/" + tt.kept + "/{objectType}/batch/update": "BatchUpdateThings",
			"DELETE /crm/things/" + tt.kept + "/{objectType}/{thingId}":  "DeleteThing",
			"POST /crm/things/2025-09/usage/report":                      "PostUsageReport", // published once: kept
		})
		var left []string
		for _, c := range res.Changes {
			if c.Rule == "merged-versions" {
				left = append(left, c.String())
			}
		}
		if len(left) != 3 || !strings.Contains(left[0], "left out: version "+tt.left) {
			t.Errorf("version %q: report lines = %q, want three naming version %s", tt.version, left, tt.left)
		}
		if !slices.ContainsFunc(res.Warnings, func(w string) bool {
			return strings.Contains(w, "kept "+tt.kept+", left out 3 duplicate operations of "+tt.left)
		}) {
			t.Errorf("version %q: warnings = %q", tt.version, res.Warnings)
		}
	}
}

func TestNormalize_missingEnums(t *testing.T) {
	t.Parallel()
	for _, s := range []thingsSpelling{
		{title: "plain strings", versions: []string{"2026-03"}},
		{title: "partial enums", versions: []string{"2026-03"}, categoryEnum: []string{"A_DEFINED"}, statusEnum: true},
		{title: "full enums", versions: []string{"2026-03"}, categoryEnum: []string{"A_DEFINED", "B_DEFINED", "C_DEFINED"}, statusEnum: true},
	} {
		doc := decode(t, normalizeThings(t, s, Options{API: "things"}).Output)
		for p, want := range map[string]string{
			"/components/schemas/Thing/properties/category/$ref":                  "#/components/schemas/ThingCategory",
			"/components/schemas/ThingResult/properties/category/$ref":            "#/components/schemas/ThingCategory",
			"/components/schemas/BatchResponseThingResult/properties/status/$ref": "#/components/schemas/BatchStatus",
			"/components/schemas/Error/properties/category/type":                  "string", // no typeId beside it: not ours
		} {
			if got := at(t, doc, p); got != want {
				t.Errorf("%s: %s = %v, want %s", s.title, p, got, want)
			}
		}
	}
	// A property whose own enum has values the rule does not know is left.
	other := thingsSpelling{title: "other", versions: []string{"2026-03"}, categoryEnum: []string{"A_DEFINED", "SOMETHING_ELSE"}}
	doc := decode(t, normalizeThings(t, other, Options{API: "things"}).Output)
	if got := at(t, doc, "/components/schemas/Thing/properties/category/type"); got != "string" {
		t.Errorf("foreign enum replaced: type = %v", got)
	}
}

func TestNormalize_resultsFromRules(t *testing.T) {
	t.Parallel()
	res := normalizeThings(t, thingsSpelling{title: "void update", versions: []string{"2026-03"}, updateVoid: true}, Options{API: "things"})
	doc := decode(t, res.Output)
	update := "/paths/" + strings.ReplaceAll("/crm/things/2026-03/{objectType}/batch/update", "/", "~1") + "/post/responses"
	for p, want := range map[string]any{
		update + "/200/content/application~1json/schema/$ref":                        "#/components/schemas/BatchResponseThingResult",
		update + "/201/content/application~1json/schema/$ref":                        "#/components/schemas/BatchResponseThingResult",
		"/components/schemas/BatchResponseThingResult/properties/results/items/$ref": "#/components/schemas/ThingResult",
		"/components/schemas/ThingResult/properties/category/$ref":                   "#/components/schemas/ThingCategory",
	} {
		if got := at(t, doc, p); got != want {
			t.Errorf("%s = %v, want %v", p, got, want)
		}
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "schema Void is referenced but not defined") }) {
		t.Errorf("warnings = %q, want one naming Void", res.Warnings)
	}
}

func TestNormalize_labelOnly(t *testing.T) {
	t.Parallel()
	raw := thingsSpelling{title: "labels only", versions: []string{"v4"}, omit: []string{"{objectType}", "{objectType}/batch/update"}}.doc(t)
	for _, opts := range []Options{{API: "things"}, {}} { // by pin, or by the operation it has
		_, err := Normalize("things.json", raw, mustRules(t, "testdata/things.rules.json"), opts)
		want := "things.json: /paths: API things: 2 operations the rules name are missing (with any version segment): " +
			"ListThings (GET /crm/things/{version}/{objectType}), BatchUpdateThings (POST /crm/things/{version}/{objectType}/batch/update)"
		if err == nil || err.Error() != want {
			t.Errorf("api %q: error = %v\nwant %s", opts.API, err, want)
		}
	}
}

func TestNormalize_collidingDerivedNames(t *testing.T) {
	t.Parallel()
	op := map[string]any{"responses": map[string]any{"204": map[string]any{"description": "done"}}}
	doc := map[string]any{"openapi": "3.0.1", "info": map[string]any{"title": "x", "version": "2026-03"}, "paths": map[string]any{
		// differ only before the version: the whole path tells them apart
		"/crm/objects/2026-03/search":    map[string]any{"post": op},
		"/crm/properties/2026-03/search": map[string]any{"post": op},
		// differ only in parameter names: every parameter tells them apart
		"/files/2026-03/folders/{folderId}/x":   map[string]any{"get": op},
		"/files/2026-03/folders/{folderPath}/x": map[string]any{"get": op},
		// differ only in punctuation: a hash of the path tells them apart
		"/a/2026-03/high-usage": map[string]any{"get": op},
		"/a/2026-03/high_usage": map[string]any{"get": op},
		// no collision: the short name
		"/a/2026-03/things/{thingId}": map[string]any{"get": op},
	}}
	raw, _ := json.Marshal(doc)
	res, err := Normalize("x.json", raw, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := names(t, res.Output)
	want := map[string]string{
		"POST /crm/objects/2026-03/search":          "PostCrmObjectsSearch",
		"POST /crm/properties/2026-03/search":       "PostCrmPropertiesSearch",
		"GET /files/2026-03/folders/{folderId}/x":   "GetFoldersXByFolderId",
		"GET /files/2026-03/folders/{folderPath}/x": "GetFoldersXByFolderPath",
		"GET /a/2026-03/things/{thingId}":           "GetThingsByThingId",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: name %q, want %q", k, got[k], v)
		}
	}
	a, b := got["GET /a/2026-03/high-usage"], got["GET /a/2026-03/high_usage"]
	if a == b || !strings.HasPrefix(a, "GetAHighUsageX") || !strings.HasPrefix(b, "GetAHighUsageX") {
		t.Errorf("punctuation-only collision: %q and %q", a, b)
	}
	// The same operations in any order, any other company: the same names.
	doc["paths"].(map[string]any)["/z/2026-03/unrelated"] = map[string]any{"put": op}
	raw, _ = json.Marshal(doc)
	res2, err := Normalize("x.json", raw, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range got {
		if n := names(t, res2.Output)[k]; n != v {
			t.Errorf("%s: %q with another operation added, %q without", k, n, v)
		}
	}
}

func TestNormalize_danglingRefs(t *testing.T) {
	t.Parallel()
	raw := `{"openapi":"3.0.1","info":{"title":"x","version":"2026-03"},"paths":{"/t/2026-03/rows":{"get":{"responses":{"200":{"description":"d","content":{"application/json":{"schema":{"$ref":"#/components/schemas/RowWrapper"}}}}}}}},"components":{"schemas":{}}}`
	res, err := Normalize("x.json", []byte(raw), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc := decode(t, res.Output)
	if got := at(t, doc, "/components/schemas/RowWrapper/type"); got != "object" {
		t.Errorf("RowWrapper type = %v, want object", got)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "schema RowWrapper is referenced but not defined") }) {
		t.Errorf("warnings = %q, want one naming RowWrapper", res.Warnings)
	}
}

func TestNormalize_conflictingPathTemplates(t *testing.T) {
	t.Parallel()
	raw := `{"openapi":"3.0.1","info":{"title":"x","version":"2026-03"},"paths":{
		"/f/2026-03/folders/{folderId}":{"get":{"parameters":[{"name":"folderId","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"204":{"description":"d"}}}},
		"/f/2026-03/folders/{folderPath}":{"get":{"parameters":[{"name":"folderPath","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"204":{"description":"d"}}}}},
		"components":{"schemas":{"S":{"type":"object"}}}}`
	res, err := Normalize("x.json", []byte(raw), nil, Options{})
	if err != nil {
		t.Fatalf("a problem the published document has made normalization fail: %v", err)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool {
		return strings.Contains(w, "left as published") && strings.Contains(w, "conflicting paths")
	}) {
		t.Errorf("warnings = %q, want the conflict reported", res.Warnings)
	}
	// A problem normalization introduces still fails.
	rules := `{"documents":[{"api":"f","edits":[{"name":"break","pointer":"/components/schemas/S/type","value":"nope"}]}]}`
	r, err := ParseRules("r.json", []byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Normalize("x.json", []byte(raw), r, Options{API: "f"})
	if err == nil || !strings.Contains(err.Error(), "normalized document is invalid") || strings.Contains(err.Error(), "conflicting") {
		t.Errorf("error = %v, want the edit's problem (not the published one)", err)
	}
}

// TestNormalize_typeClash: a derived operation name whose oapi-codegen
// types (GetThingsResponse, GetThingsParams) a schema already is would
// not build; the name is made longer instead.
func TestNormalize_typeClash(t *testing.T) {
	t.Parallel()
	raw := `{"openapi":"3.0.1","info":{"title":"x","version":"2026-03"},"paths":{
		"/t/2026-03/things":{"get":{"responses":{"200":{"description":"d","content":{"application/json":{"schema":{"$ref":"#/components/schemas/GetThingsResponse"}}}}}}},
		"/t/2026-03/stuff":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/PostStuffJSONBody"}}}},"responses":{"204":{"description":"d"}}}}},
		"components":{"schemas":{"GetThingsResponse":{"type":"object"},"PostStuffJSONBody":{"type":"object"}}}}`
	res, err := Normalize("x.json", []byte(raw), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := names(t, res.Output)
	if got["GET /t/2026-03/things"] != "GetTThings" || got["POST /t/2026-03/stuff"] != "PostTStuff" {
		t.Errorf("names = %v, want GetTThings and PostTStuff (GetThings and PostStuff clash with schemas)", got)
	}
	rules := `{"documents":[{"api":"t","operations":[{"name":"GetThings","method":"GET","path":"/t/{version}/things"}]}]}`
	r, err := ParseRules("r.json", []byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Normalize("x.json", []byte(raw), r, Options{API: "t"})
	if err == nil || !strings.Contains(err.Error(), "operation name GetThings: oapi-codegen would declare a type for it that schema GetThingsResponse already is") {
		t.Errorf("error = %v, want the ruled name's clash named", err)
	}
}

func TestNormalize_typeNames(t *testing.T) {
	t.Parallel()
	for _, s := range []thingsSpelling{
		{title: "dated", versions: []string{"2026-03"}},
		{title: "v4 in front", versions: []string{"v4"}, path: func(v, rest string) string { return "/crm/" + v + "/things/" + rest }},
		{title: "merged", infoVersion: "v4", versions: []string{"v4", "2025-09"}},
		{title: "renamed list", versions: []string{"2026-03"}, listSchema: "CollectionResponseThingNoPaging"},
	} {
		res := normalizeThings(t, s, Options{API: "things"})
		doc := decode(t, res.Output)
		hub := "CollectionResponseThing"
		if s.listSchema != "" {
			hub = s.listSchema
		}
		for p, want := range map[string]any{
			"/components/schemas/ThingPage/x-hubspot-schema":                   hub,
			"/components/schemas/ThingPage/description":                        "HubSpot schema: " + hub + ".",
			"/components/schemas/ThingPage/properties/results/items/$ref":      "#/components/schemas/Thing",
			"/components/schemas/Thing/description":                            "HubSpot schema: Thing.",
			"/components/schemas/BatchInputThing/description":                  "HubSpot schema: BatchInputThing. " + UncuratedNote,
			"/components/schemas/BatchInputThing/properties/inputs/items/$ref": "#/components/schemas/Thing",
		} {
			if got := at(t, doc, p); got != want {
				t.Errorf("%s: %s = %v, want %v", s.title, p, got, want)
			}
		}
		if _, ok := lookup(doc, "/components/schemas/"+hub); ok {
			t.Errorf("%s: %s is still there under HubSpot's name", s.title, hub)
		}
		again, err := Normalize("again", res.Output, mustRules(t, "testdata/things.rules.json"), Options{API: "things"})
		if err != nil || len(again.Changes) > 0 {
			t.Errorf("%s: not idempotent: %v %v", s.title, err, again.Changes)
		}
	}
}

func TestNormalize_typeRuleErrors(t *testing.T) {
	t.Parallel()
	raw := thingsSpelling{title: "t", versions: []string{"2026-03"}}.doc(t)
	base := `{"documents":[{"api":"things","operations":[
		{"name": "ListThings", "method": "GET", "path": "/crm/things/{version}/{objectType}"},
		{"name": "BatchUpdateThings", "method": "POST", "path": "/crm/things/{version}/{objectType}/batch/update"},
		{"name": "DeleteThing", "method": "DELETE", "path": "/crm/things/{version}/{objectType}/{thingId}"}],
		"types": [%s]}]}`
	tests := map[string]string{
		`{"name": "Gone", "from": ["DeleteThing response.200"]}`:                                                 "things.json: /paths: type rule Gone: DeleteThing response.200: DeleteThing has no 200 response",
		`{"name": "Gone", "from": ["ListThings response.200.paging"]}`:                                           `things.json: /paths: type rule Gone: ListThings response.200.paging: no property "paging"`,
		`{"name": "Mixed", "from": ["ListThings response.200", "ListThings response.200.results"]}`:              "things.json: /paths: type rule Mixed: ListThings response.200.results is schema Thing, but ListThings response.200 is CollectionResponseThing",
		`{"name": "A", "from": ["ListThings response.200"]}, {"name": "B", "from": ["ListThings response.200"]}`: "things.json: /components/schemas/CollectionResponseThing: type rules A and B name the same schema",
		`{"name": "Thing", "from": ["ListThings response.200"]}`:                                                 "things.json: /components/schemas/Thing: type rule Thing: the document has another schema of that name (the rule's is CollectionResponseThing)",
	}
	for types, want := range tests {
		r, err := ParseRules("r.json", []byte(strings.Replace(base, "%s", types, 1)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Normalize("things.json", raw, r, Options{API: "things"})
		if err == nil || err.Error() != want || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s:\n got %v\nwant %s", types, err, want)
		}
	}
	if _, err := ParseRules("r.json", []byte(strings.Replace(base, "%s", `{"name": "X", "from": ["ListThings somewhere"]}`, 1))); err == nil || !strings.Contains(err.Error(), "documents[0].types[0].from[0]") {
		t.Errorf("bad place: %v", err)
	}
}

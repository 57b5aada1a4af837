package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/internal/apidiff"
	"github.com/crmkit/hubspot-associations/internal/specfix"
	"github.com/crmkit/hubspot-associations/internal/specsource"
)

// editCase is one way HubSpot could change its document next, applied
// alone to the current pin's document (edited here, in memory: no copy of
// HubSpot's document is committed).
type editCase struct {
	name string
	edit func(t *testing.T, doc map[string]any)
	// report lines the change report must hold; none: the report must say
	// that nothing affects the client.
	report []string
	// generated: patterns the generated package must match.
	generated []string
}

// TestCheck_editedDocuments regenerates the client, in copies of the
// working tree, from the current pin's document edited each way HubSpot
// could change it next (issue 21), and checks what check-versions checks
// for every published document (the package generates, everything builds
// and vets, examples/limits included, the curated type names are the
// committed ones and the Go surface in api/*.txt loses nothing), plus what
// the change report from the pinned document says.
func TestCheck_editedDocuments(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates and builds the client once per case; skipped with -short")
	}
	m, err := specsource.LocalMirror()
	if err != nil {
		t.Skip(err)
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	pins, err := specsource.LoadPins(filepath.Join(root, "spec", "pins.json"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := specfix.LoadRules(filepath.Join(root, "spec", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	pin, err := pins.Find(pins.Current)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := (&specsource.Source{Mirror: m, CacheDir: t.TempDir()}).Fetch(t.Context(), pin)
	if err != nil {
		t.Fatal(err)
	}
	files, err := repoFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	wantCurated := curatedNames(root)
	committed, err := os.ReadFile(filepath.Join(root, "generated", "associations", "associations.gen.go"))
	if err != nil {
		t.Fatal(err)
	}

	cases := []editCase{
		{
			name: "enum value added",
			edit: func(t *testing.T, doc map[string]any) {
				addEnumValue(t, doc, "COMPLETE", "FAILED")
				addEnumValue(t, doc, "USER_DEFINED", "PARTNER_DEFINED")
			},
			report: []string{
				"`AssociationCategory`: added `PARTNER_DEFINED`",
				"`BatchStatus`: added `FAILED`",
			},
			generated: []string{
				`BatchStatusFailed\s+BatchStatus = "FAILED"`,
				`AssociationCategoryPartnerDefined\s+AssociationCategory = "PARTNER_DEFINED"`,
			},
		},
		{
			name: "enum value removed",
			edit: func(t *testing.T, doc map[string]any) { removeEnumValue(t, doc, "WORK") },
			report: []string{
				"**error** `AssociationCategory`: HubSpot no longer lists the value `WORK`: the Go constant `AssociationCategoryWork` is kept, but the API may refuse it [shared-enum-value-removed]",
				"`AssociationCategory`: removed `WORK`",
			},
			generated: []string{`AssociationCategoryWork\s+AssociationCategory = "WORK"`},
		},
		{
			name: "error schemas renamed",
			edit: func(t *testing.T, doc map[string]any) {
				renameSchema(t, doc, "Error", "ApiError")
				renameSchema(t, doc, "ErrorDetail", "ApiErrorDetail")
				renameSchema(t, doc, "StandardError", "ApiInputError")
			},
			report: []string{
				"`Error`: HubSpot renamed its schema `Error` → `ApiError`; the Go type keeps its name",
				"`ErrorDetail`: HubSpot renamed its schema `ErrorDetail` → `ApiErrorDetail`; the Go type keeps its name",
				"`InputError`: HubSpot renamed its schema `StandardError` → `ApiInputError`; the Go type keeps its name",
			},
			generated: []string{`CorrelationID\s+string\s+`, `Context\s+hubspot\.ErrorContext\s+`},
		},
		{
			name: "curated schema renamed",
			edit: func(t *testing.T, doc map[string]any) {
				renameSchema(t, doc, "PublicAssociationDefinitionUserConfiguration", "AssociationLimit")
			},
			report: []string{
				"`Limit`: HubSpot renamed its schema `PublicAssociationDefinitionUserConfiguration` → `AssociationLimit`; the Go type keeps its name",
			},
		},
		{name: "path-level parameters", edit: pathLevelParameters},
		{name: "inline response schema", edit: inlineListLabels},
		{
			name: "schema contains itself",
			edit: func(t *testing.T, doc map[string]any) {
				label := schemaOf(t, doc, "AssociationSpecWithLabel")
				label["properties"].(map[string]any)["parent"] = map[string]any{"$ref": "#/components/schemas/AssociationSpecWithLabel"}
				label["required"] = append(label["required"].([]any), "parent")
			},
			report:    []string{"`Label.parent`: added (`Label`)"},
			generated: []string{`Parent\s+\*Label\s+`},
		},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			doc := decodeDoc(t, raw)
			c.edit(t, doc)
			edited, err := json.MarshalIndent(doc, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			file := filepath.Join(tmp, "edited.json")
			if err := os.WriteFile(file, edited, 0o644); err != nil {
				t.Fatal(err)
			}

			r, err := apidiff.Compare(apidiff.Document{Name: pins.Current, Raw: raw}, apidiff.Document{Name: c.name, Raw: edited}, rules)
			if err != nil {
				t.Fatalf("change report: %v", err)
			}
			md := string(r.Markdown())
			for _, want := range c.report {
				if !strings.Contains(md, want) {
					t.Errorf("the change report lacks %q:\n%s", want, md)
				}
			}
			if len(c.report) == 0 && !strings.Contains(md, "No changes that affect the client.") {
				t.Errorf("the change report shows changes:\n%s", md)
			}
			for _, l := range strings.Split(md, "\n") {
				if strings.HasPrefix(l, "- `") || strings.HasPrefix(l, "- **") || strings.HasPrefix(l, "No changes") {
					t.Logf("report: %s", l)
				}
			}

			dir := filepath.Join(tmp, "copy")
			if err := copyFiles(root, dir, files); err != nil {
				t.Fatal(err)
			}
			res := checkOne(dir, variant{name: c.name, file: file, version: pins.Current}, wantCurated)
			if res.failed != "" {
				t.Fatalf("%s failed:\n%s", res.failed, res.output)
			}
			code, err := os.ReadFile(filepath.Join(dir, "generated", "associations", "associations.gen.go"))
			if err != nil {
				t.Fatal(err)
			}
			// No type appears or goes (as nine per-schema enum types did
			// when an enum gained a value): the same declarations as the
			// committed package.
			if got, want := typeDecls(code), typeDecls(committed); !slices.Equal(got, want) {
				t.Errorf("generated types differ from the committed ones:\n got %q\nwant %q", got, want)
			}
			for _, want := range c.generated {
				if !regexp.MustCompile(want).Match(code) {
					t.Errorf("the generated package does not match %s", want)
				}
			}
		})
	}
}

// typeDecls lists the types a Go file declares at top level.
func typeDecls(code []byte) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^type (\w+) `).FindAllSubmatch(code, -1) {
		out = append(out, string(m[1]))
	}
	slices.Sort(out)
	return out
}

func decodeDoc(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// eachObject calls fn for every JSON object in v.
func eachObject(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, e := range x {
			eachObject(e, fn)
		}
	case []any:
		for _, e := range x {
			eachObject(e, fn)
		}
	}
}

func schemaOf(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	s, ok := doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("the document has no schema %s", name)
	}
	return s
}

// addEnumValue adds value to every enum listing beside.
func addEnumValue(t *testing.T, doc map[string]any, beside, value string) {
	t.Helper()
	n := 0
	eachObject(doc, func(m map[string]any) {
		if ev, ok := m["enum"].([]any); ok && slices.Contains(ev, any(beside)) {
			m["enum"] = append(ev, value)
			n++
		}
	})
	if n == 0 {
		t.Fatalf("no enum lists %s", beside)
	}
}

// removeEnumValue removes value from every enum.
func removeEnumValue(t *testing.T, doc map[string]any, value string) {
	t.Helper()
	n := 0
	eachObject(doc, func(m map[string]any) {
		if ev, ok := m["enum"].([]any); ok && slices.Contains(ev, any(value)) {
			m["enum"] = slices.DeleteFunc(ev, func(v any) bool { return v == value })
			n++
		}
	})
	if n == 0 {
		t.Fatalf("no enum lists %s", value)
	}
}

// renameSchema renames a schema and every reference to it.
func renameSchema(t *testing.T, doc map[string]any, from, to string) {
	t.Helper()
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	schemas[to] = schemaOf(t, doc, from)
	delete(schemas, from)
	eachObject(doc, func(m map[string]any) {
		if m["$ref"] == "#/components/schemas/"+from {
			m["$ref"] = "#/components/schemas/" + to
		}
	})
}

// pathLevelParameters declares the path parameters once on each path item
// instead of on each operation.
func pathLevelParameters(t *testing.T, doc map[string]any) {
	moved := 0
	for _, item := range doc["paths"].(map[string]any) {
		item := item.(map[string]any)
		var shared []any
		for _, op := range item {
			params, _ := op.(map[string]any)["parameters"].([]any)
			var kept []any
			for _, p := range params {
				if p.(map[string]any)["in"] != "path" {
					kept = append(kept, p)
					continue
				}
				if !slices.ContainsFunc(shared, func(s any) bool { return s.(map[string]any)["name"] == p.(map[string]any)["name"] }) {
					shared = append(shared, p)
				}
				moved++
			}
			if kept == nil {
				delete(op.(map[string]any), "parameters")
			} else {
				op.(map[string]any)["parameters"] = kept
			}
		}
		if shared != nil {
			item["parameters"] = shared
		}
	}
	if moved == 0 {
		t.Fatal("no path parameters to move")
	}
}

// inlineListLabels writes the list of labels out in ListLabels' answer
// instead of referencing it.
func inlineListLabels(t *testing.T, doc map[string]any) {
	for p, item := range doc["paths"].(map[string]any) {
		if !strings.HasSuffix(p, "/labels") {
			continue
		}
		get, ok := item.(map[string]any)["get"].(map[string]any)
		if !ok {
			continue
		}
		media := get["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)
		name := strings.TrimPrefix(media["schema"].(map[string]any)["$ref"].(string), "#/components/schemas/")
		copied, err := json.Marshal(schemaOf(t, doc, name))
		if err != nil {
			t.Fatal(err)
		}
		media["schema"] = decodeDoc(t, copied)
		return
	}
	t.Fatal("no GET .../labels")
}

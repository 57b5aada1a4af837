package specfix

import (
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/internal/specsource"
	"github.com/getkin/kin-openapi/openapi3"
)

// mirror returns the local spec mirror, or skips the test saying how to
// enable it.
func mirror(t *testing.T) string {
	t.Helper()
	m, err := specsource.LocalMirror()
	if err != nil {
		t.Skip(err)
	}
	abs, err := filepath.Abs(m)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

const schemaDir = "PublicApiSpecs/CRM/Associations Schema/Rollouts/130902"

// assocDoc is one published Associations Schema document.
type assocDoc struct {
	path    string
	version string // the pin's version; "" for the document's info.version
	sample  bool   // an older, differently spelled revision: warnings expected
}

// associationDocs are every Associations Schema document in the mirror:
// pins, revisions of pinned versions and samples of older revisions.
func associationDocs(t *testing.T, m string) map[string]assocDoc {
	docs := map[string]assocDoc{}
	for _, v := range []string{"2025-09", "v4", "2026-03", "2026-09"} {
		docs[v] = assocDoc{path: filepath.Join(m, schemaDir, v, "associationsSchema.json"), version: v}
	}
	for _, kind := range []string{"revisions", "samples"} {
		found, err := filepath.Glob(filepath.Join(m, kind, "associations-schema-*", "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			name := strings.TrimPrefix(filepath.Base(filepath.Dir(f)), "associations-schema-") + "@" + strings.TrimSuffix(filepath.Base(f), ".json")
			docs[name] = assocDoc{path: f, sample: kind == "samples"}
		}
	}
	return docs
}

// otherAPIs are every other document in the mirror.
func otherAPIs(t *testing.T, m string) []string {
	var out []string
	err := filepath.WalkDir(filepath.Join(m, "PublicApiSpecs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") && !strings.Contains(p, "/Associations Schema/") {
			rel, _ := filepath.Rel(m, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// labelOnly is the sample that lacks five of the nine operations.
const labelOnly = "v4@2023-09-18"

// TestNormalize_associationDocs checks every published Associations Schema
// document normalizes idempotently to the same operations and status
// codes, whatever its title and path spelling, and that the label-only
// revision is refused in one line naming the five operations it lacks.
func TestNormalize_associationDocs(t *testing.T) {
	m := mirror(t)
	rules := mustRules(t, "../../spec/rules.json")
	want := map[string][]string{
		"ListAllConfigurations":     {"200", "default"},
		"ListConfigurations":        {"200", "default"},
		"BatchCreateConfigurations": {"200", "201", "207", "default"},
		"BatchUpdateConfigurations": {"200", "201", "207", "default"},
		"BatchPurgeConfigurations":  {"200", "204", "207", "default"},
		"ListLabels":                {"200", "default"},
		"CreateLabel":               {"200", "default"},
		"UpdateLabel":               {"204", "default"},
		"DeleteLabel":               {"204", "default"},
	}
	docs := associationDocs(t, m)
	if _, ok := docs[labelOnly]; !ok {
		t.Fatalf("the mirror lacks the label-only sample %s", labelOnly)
	}
	for name, d := range docs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := Options{API: "associations-schema", Version: d.version}
			res, err := Normalize(d.path, mustRead(t, d.path), rules, opts)
			if name == labelOnly {
				if err == nil {
					t.Fatal("the label-only revision was not refused")
				}
				msg := err.Error()
				for _, op := range []string{"ListAllConfigurations", "ListConfigurations", "BatchCreateConfigurations", "BatchUpdateConfigurations", "BatchPurgeConfigurations"} {
					if !strings.Contains(msg, op) {
						t.Errorf("refusal does not name %s: %s", op, msg)
					}
				}
				if strings.Contains(msg, "\n") || !strings.Contains(msg, "5 operations") {
					t.Errorf("refusal = %q, want one line naming five operations", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Warnings) > 0 && !d.sample {
				t.Errorf("warnings: %q", res.Warnings)
			}
			again, err := Normalize("normalized", res.Output, rules, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if string(again.Output) != string(res.Output) || len(again.Changes) > 0 {
				t.Errorf("not idempotent: second pass changed %v", again.Changes)
			}
			doc, err := openapi3.NewLoader().LoadFromData(res.Output)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, p := range doc.Paths.InMatchingOrder() {
				for _, op := range doc.Paths.Value(p).Operations() {
					if op.Extensions[derivedMark] == true {
						continue // other operations of a merged document
					}
					codes := slices.Sorted(func(yield func(string) bool) {
						for c := range op.Responses.Map() {
							if !yield(c) {
								return
							}
						}
					})
					got[op.OperationID] = codes
				}
			}
			for id, codes := range want {
				if !slices.Equal(got[id], codes) {
					t.Errorf("%s responses = %v, want %v", id, got[id], codes)
				}
			}
			if len(got) != len(want) {
				t.Errorf("operations = %v, want the nine of the contract", slices.Sorted(maps.Keys(got)))
			}
			if len(doc.Components.SecuritySchemes) != 1 {
				t.Errorf("security schemes = %d, want 1", len(doc.Components.SecuritySchemes))
			}
		})
	}
}

// TestNormalize_otherAPIs checks the normalizer is general and never worse
// than oapi-codegen alone: every other HubSpot API in the mirror
// (Associations, Pipelines, Properties, Files, HubDB, ...) normalizes,
// generates with oapi-codegen and builds.
func TestNormalize_otherAPIs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds generated code; skipped with -short")
	}
	m := mirror(t)
	rules := mustRules(t, "../../spec/rules.json")
	others := otherAPIs(t, m)
	if len(others) < 5 {
		t.Errorf("other APIs in the mirror: %q, want at least Associations, Pipelines, Properties, Files and HubDB", others)
	}
	docs := map[string][]byte{}
	for i, rel := range others {
		path := filepath.Join(m, rel)
		res, err := Normalize(path, mustRead(t, path), rules, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range res.Warnings {
			t.Log(w)
		}
		docs[fmt.Sprintf("api%d", i)] = res.Output
	}
	buildGenerated(t, docs)
}

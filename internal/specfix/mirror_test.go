package specfix

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
)

// mirror returns the local spec mirror, or skips the test saying how to
// enable it.
func mirror(t *testing.T) string {
	t.Helper()
	m := os.Getenv("HUBSPOT_SPEC_MIRROR")
	if m == "" {
		t.Skip("needs HubSpot's documents: set HUBSPOT_SPEC_MIRROR to a local mirror, e.g. HUBSPOT_SPEC_MIRROR=../shared/hubspot-specs")
	}
	if !filepath.IsAbs(m) {
		m = filepath.Join("../..", m) // relative to the module root
	}
	if fi, err := os.Stat(m); err != nil || !fi.IsDir() {
		t.Skipf("needs HubSpot's documents in a local folder: HUBSPOT_SPEC_MIRROR=%s is not one", m)
	}
	abs, err := filepath.Abs(m)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

const schemaDir = "PublicApiSpecs/CRM/Associations Schema/Rollouts/130902"

// associationDocs are every Associations Schema document in the mirror.
func associationDocs(m string) map[string]string {
	docs := map[string]string{}
	for _, v := range []string{"2025-09", "v4", "2026-03", "2026-09"} {
		docs[v] = filepath.Join(m, schemaDir, v, "associationsSchema.json")
	}
	for _, r := range []string{"2026-02-09", "2026-04-03"} {
		docs["2026-03@"+r] = filepath.Join(m, "revisions/associations-schema-2026-03", r+".json")
	}
	return docs
}

var otherAPIs = []string{
	"PublicApiSpecs/CRM/Associations/Rollouts/130902/2026-03/associations.json",
	"PublicApiSpecs/CRM/Pipelines/Rollouts/145896/2026-03/pipelines.json",
	"PublicApiSpecs/CRM/Properties/Rollouts/145899/2026-03/properties.json",
}

// TestNormalize_associationDocs checks every published Associations Schema
// document normalizes idempotently to the same operations and status codes.
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
	for name, path := range associationDocs(m) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := Normalize(path, mustRead(t, path), rules, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Warnings) > 0 {
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
				t.Errorf("operations = %v, want the nine of the contract", slices.Sorted(func(yield func(string) bool) {
					for k := range got {
						yield(k)
					}
				}))
			}
			if len(doc.Components.SecuritySchemes) != 1 {
				t.Errorf("security schemes = %d, want 1", len(doc.Components.SecuritySchemes))
			}
		})
	}
}

// TestNormalize_otherAPIs checks the normalizer is general: three other
// HubSpot APIs normalize, generate with oapi-codegen and build.
func TestNormalize_otherAPIs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds generated code; skipped with -short")
	}
	m := mirror(t)
	rules := mustRules(t, "../../spec/rules.json")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	gomod := mustRead(t, filepath.Join(root, "go.mod"))
	gomod = []byte(strings.Replace(string(gomod), "module github.com/crmkit/hubspot-associations", "module example.com/otherapis", 1) +
		"\nrequire github.com/crmkit/hubspot-associations v0.0.0\n\nreplace github.com/crmkit/hubspot-associations => " + root + "\n")
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), gomod, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), mustRead(t, filepath.Join(root, "go.sum")), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, rel := range otherAPIs {
		path := filepath.Join(m, rel)
		res, err := Normalize(path, mustRead(t, path), rules, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range res.Warnings {
			t.Log(w)
		}
		doc, err := openapi3.NewLoader().LoadFromData(res.Output)
		if err != nil {
			t.Fatal(err)
		}
		pkg := fmt.Sprintf("api%d", i)
		code, err := codegen.Generate(doc, codegen.Configuration{
			PackageName:   pkg,
			Generate:      codegen.GenerateOptions{Models: true, Client: true, EmbeddedSpec: true},
			OutputOptions: codegen.OutputOptions{SkipPrune: true},
		})
		if err != nil {
			t.Fatalf("%s: oapi-codegen: %v", rel, err)
		}
		dir := filepath.Join(mod, pkg)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, pkg+".gen.go"), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "vet", "-mod=mod", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generated code for the other APIs does not build: %v\n%s", err, out)
	}
}

package apidiff

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/internal/specfix"
	"github.com/crmkit/hubspot-associations/internal/specsource"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

func readDoc(t *testing.T, name, file string) Document {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return Document{Name: name, Raw: raw}
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s (go test -update rewrites it):\n%s", file, got)
	}
}

func TestCompare_smallDocuments(t *testing.T) {
	t.Parallel()
	base := readDoc(t, "2026-03", "testdata/base.json")
	rev := readDoc(t, "2026-09", "testdata/rev.json")
	r, err := Compare(base, rev, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := r.Markdown()
	golden(t, "testdata/base_rev.md", md)

	s := string(md)
	for _, want := range []string{
		"`DELETE /crm/things/{version}/items/{itemId} (DeleteItemsByItemId)`: removed",
		"`GET /crm/things/{version}/items/{itemId} (GetItemsByItemId)`: added",
		"added query parameter `after`",
		"`Item.label`: added (string)",
		"`Item.legacyCode`: removed",
		"`Item.size`: format `int32` → `int64`",
		"`Item.kind`: added `HUGE`",
		"added response `206`",
		"`Obsolete`: removed",
		"`Paging`: added",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The one-line summary counts what the Summary section counts.
	sum := r.Summary()
	if !strings.HasPrefix(sum, fmt.Sprintf("%d changes (breaking: ", r.Entries())) || !strings.Contains(sum, "fields: ") || !strings.Contains(sum, "schemas (Go types): ") || strings.Contains(sum, "\n") {
		t.Errorf("Summary() = %q", sum)
	}
	// Security scopes changed on every operation: none of it may show.
	if strings.Contains(s, "crm.things") || strings.Contains(s, "crm.objects") || strings.Contains(s, "security-") {
		t.Errorf("report mentions security scopes:\n%s", s)
	}
	// Breaking changes come first.
	if i, j := strings.Index(s, "## Breaking changes"), strings.Index(s, "## Operations"); i < 0 || j < 0 || i > j {
		t.Errorf("breaking changes are not first:\n%s", s)
	}
	if r.Raw.All <= r.Entries() {
		t.Errorf("raw oasdiff found %d changes, the report shows %d: expected the raw count to be larger", r.Raw.All, r.Entries())
	}
}

func TestCompare_deterministic(t *testing.T) {
	t.Parallel()
	base := readDoc(t, "2026-03", "testdata/base.json")
	rev := readDoc(t, "2026-09", "testdata/rev.json")
	var first []byte
	for i := 0; i < 5; i++ {
		r, err := Compare(base, rev, nil)
		if err != nil {
			t.Fatal(err)
		}
		md := r.Markdown()
		if first == nil {
			first = md
		} else if !bytes.Equal(first, md) {
			t.Fatalf("run %d gave another report", i)
		}
	}
}

func TestCompare_sameDocument(t *testing.T) {
	t.Parallel()
	base := readDoc(t, "2026-03", "testdata/base.json")
	r, err := Compare(base, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Entries() != 0 || r.Raw.All != 0 {
		t.Errorf("a document compared with itself gives %d entries, raw %d", r.Entries(), r.Raw.All)
	}
	if !strings.Contains(string(r.Markdown()), "No changes that affect the client.") {
		t.Errorf("no-change report:\n%s", r.Markdown())
	}
}

func TestCompare_invalidDocument(t *testing.T) {
	t.Parallel()
	base := readDoc(t, "2026-03", "testdata/base.json")
	_, err := Compare(base, Document{Name: "broken.json", Raw: []byte("{")}, nil)
	if err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("error %v does not name the broken document", err)
	}
}

// mirror returns the local spec mirror, or skips the test saying how to get
// one.
func mirror(t *testing.T) string {
	t.Helper()
	m, err := specsource.LocalMirror()
	if err != nil {
		t.Skip(err)
	}
	return m
}

// TestCompare_realDocuments checks that the reports on HubSpot's documents
// stay short: raw oasdiff finds hundreds of changes, almost all security
// scope churn.
func TestCompare_realDocuments(t *testing.T) {
	m := mirror(t)
	pins, err := specsource.LoadPins("../../spec/pins.json")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := specfix.LoadRules("../../spec/rules.json")
	if err != nil {
		t.Fatal(err)
	}
	src := &specsource.Source{Mirror: m, CacheDir: filepath.Join(t.TempDir(), "cache")}
	doc := func(v string) Document {
		pin, err := pins.Find(v)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := src.Fetch(t.Context(), pin)
		if err != nil {
			t.Fatal(err)
		}
		return Document{Name: v, Raw: raw}
	}
	for _, pair := range [][2]string{{"2025-09", "2026-03"}, {"2026-03", "2026-09"}, {"2026-09", "2026-03"}} {
		t.Run(pair[0]+"_"+pair[1], func(t *testing.T) {
			r, err := Compare(doc(pair[0]), doc(pair[1]), rules)
			if err != nil {
				t.Fatal(err)
			}
			if r.Entries() == 0 || r.Entries() > 30 {
				t.Errorf("%d entries: expected a short, non-empty report", r.Entries())
			}
			if r.Raw.Breaking < 50 {
				t.Errorf("raw oasdiff: %d breaking changes; expected the scope churn to show there", r.Raw.Breaking)
			}
			md := string(r.Markdown())
			if strings.Contains(md, "crm.objects") || strings.Contains(md, "security-") {
				t.Errorf("report mentions scopes:\n%s", md)
			}
			t.Logf("%s -> %s: %d entries shown, raw oasdiff %d breaking / %d in all", pair[0], pair[1], r.Entries(), r.Raw.Breaking, r.Raw.All)
		})
	}
}

// TestCompare_nextChanges: the report names a schema HubSpot renames (the
// normalized documents agree, so oasdiff sees nothing), the values it adds
// to or drops from a shared enum (a dropped one as breaking: the constant
// is kept), and nothing for path parameters moved to the path item.
func TestCompare_nextChanges(t *testing.T) {
	t.Parallel()
	rules, err := specfix.ParseRules("rules.json", []byte(`{"documents":[{"api":"things",
		"operations":[{"name":"ListItems","method":"GET","path":"/crm/things/{version}/items"},{"name":"DeleteItem","method":"DELETE","path":"/crm/things/{version}/items/{itemId}"}],
		"enums":[{"name":"ItemKind","values":["SMALL","LARGE"],"from":["ListItems response.200.results.kind"]}],
		"types":[{"name":"Item","from":["ListItems response.200.results"]},{"name":"ItemList","from":["ListItems response.200"]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	base := readDoc(t, "2026-03", "testdata/base.json")
	edited := func(edit func(doc map[string]any)) Document {
		var doc map[string]any
		if err := json.Unmarshal(base.Raw, &doc); err != nil {
			t.Fatal(err)
		}
		edit(doc)
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return Document{Name: "edited", Raw: raw}
	}
	schemas := func(doc map[string]any) map[string]any {
		return doc["components"].(map[string]any)["schemas"].(map[string]any)
	}
	kind := func(doc map[string]any) map[string]any {
		return schemas(doc)["Item"].(map[string]any)["properties"].(map[string]any)["kind"].(map[string]any)
	}
	tests := map[string]struct {
		edit func(doc map[string]any)
		want []string
	}{
		"schema renamed": {func(doc map[string]any) {
			schemas(doc)["HubSpotItem"] = schemas(doc)["Item"]
			delete(schemas(doc), "Item")
			list := schemas(doc)["ItemList"].(map[string]any)["properties"].(map[string]any)["results"].(map[string]any)
			list["items"] = map[string]any{"$ref": "#/components/schemas/HubSpotItem"}
			post := doc["paths"].(map[string]any)["/crm/things/2026-03/items"].(map[string]any)["post"].(map[string]any)
			post["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"] = map[string]any{"$ref": "#/components/schemas/HubSpotItem"}
			post["responses"].(map[string]any)["201"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"] = map[string]any{"$ref": "#/components/schemas/HubSpotItem"}
		}, []string{"- `Item`: HubSpot renamed its schema `Item` → `HubSpotItem`; the Go type keeps its name"}},
		"enum value added": {func(doc map[string]any) {
			kind(doc)["enum"] = []any{"SMALL", "LARGE", "HUGE"}
		}, []string{"- `ItemKind`: added `HUGE`"}},
		"enum value removed": {func(doc map[string]any) {
			kind(doc)["enum"] = []any{"SMALL"}
		}, []string{
			"- **error** `ItemKind`: HubSpot no longer lists the value `LARGE`: the Go constant `ItemKindLarge` is kept, but the API may refuse it [shared-enum-value-removed]",
			"- `ItemKind`: removed `LARGE`",
		}},
		"path-level parameters": {func(doc map[string]any) {
			item := doc["paths"].(map[string]any)["/crm/things/2026-03/items/{itemId}"].(map[string]any)
			del := item["delete"].(map[string]any)
			item["parameters"] = del["parameters"]
			delete(del, "parameters")
		}, []string{"No changes that affect the client."}},
	}
	for name, tt := range tests {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			r, err := Compare(base, edited(tt.edit), rules)
			if err != nil {
				t.Fatal(err)
			}
			md := string(r.Markdown())
			for _, want := range tt.want {
				if !strings.Contains(md, want) {
					t.Errorf("the report lacks %q:\n%s", want, md)
				}
			}
		})
	}
}

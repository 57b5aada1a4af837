package schemaconf

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

// TestExport_roundTrip: a portal's export, in YAML and in JSON, parsed
// back and planned against the same portal, changes nothing; and the
// export is byte-identical when repeated.
func TestExport_roundTrip(t *testing.T) {
	srv, s := newPortal(t, hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "deals", ToObjectType: "2-7", Category: "USER_DEFINED", TypeID: 500}))
	for _, l := range [][4]string{
		{"contacts", "contacts", "Parent", "Child"},
		{"contacts", "contacts", "Colleague", ""},
		{"deals", "2-7", "Sponsor", "Sponsored deal"},
		{"companies", "contacts", "Billing contact", "Billed company"},
	} {
		if _, err := srv.CreateLabel(l[0], l[1], DeriveName(l[2]), l[2], l[3]); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []hubspottest.Limit{
		{FromObjectType: "deals", ToObjectType: "2-7", Category: "USER_DEFINED", TypeID: 500, MaxToObjectIDs: 9},
		{FromObjectType: "companies", ToObjectType: "contacts", TypeID: 280, MaxToObjectIDs: 50},
		{FromObjectType: "companies", ToObjectType: "contacts", TypeID: 2, MaxToObjectIDs: 1},
	} {
		if err := srv.SetLimit(l); err != nil {
			t.Fatal(err)
		}
	}
	o := mustObjects(t, nil, "prod", map[string]string{"venture": "2-7"})
	objects := []string{"companies", "contacts", "deals", "venture"}
	yamlText := export(t, s, o, objects)
	if again := export(t, s, o, objects); again != yamlText {
		t.Fatalf("two exports differ:\n%s\n%s", yamlText, again)
	}
	for _, want := range []string{"label: Child\n        inverse: Parent", "label: Colleague\n        name: colleague", "from: deals\n    to: venture\n    limit: 9", "venture:\n    prod: 2-7"} {
		if !strings.Contains(yamlText, want) {
			t.Errorf("export lacks %q:\n%s", want, yamlText)
		}
	}
	cur, err := Read(context.Background(), s, o, objects, nil)
	if err != nil {
		t.Fatal(err)
	}
	var jsonText bytes.Buffer
	if err := Export(cur, o, "2026-03").Encode(&jsonText, JSON); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"schema.yaml": yamlText, "schema.json": jsonText.String()} {
		f, err := Parse(name, []byte(text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, _, err := planOn(t, s, f, "prod", nil, true)
		if err != nil || !p.Empty() {
			t.Fatalf("%s planned against its own portal (err %v):\n%s", name, err, planText(t, p))
		}
	}
}

// TestPlan_labelLimitLeftInPlace: lowering the object limit below a label
// limit the file does not mention is refused at the object limit's line.
func TestPlan_labelLimitLeftInPlace(t *testing.T) {
	srv, s := newPortal(t)
	if err := srv.SetLimit(hubspottest.Limit{FromObjectType: "deals", ToObjectType: "companies", TypeID: 5, MaxToObjectIDs: 4}); err != nil {
		t.Fatal(err)
	}
	f := mustParse(t, "associations:\n  - from: deals\n    to: companies\n    limit: 3\n    labels:\n      - label: Primary\n        category: HUBSPOT_DEFINED\n        typeId: 5\n")
	_, _, err := planOn(t, s, f, "prod", nil, false)
	want := `schema.yaml:4: object limit 3 of deals -> companies is below the limit 4 the portal has on label "Primary"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want %s", err, want)
	}
	// With --prune the label limit goes (first), and the plan stands.
	p, _, err := planOn(t, s, f, "prod", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, planText(t, p), `deals -> companies
  - limit on "Primary" (typeId 5): 4
  + object limit (typeId 341): 3

Plan: 1 to create, 0 to change, 1 to delete.`)
}

// TestPlan_filesDiff compares two files (diff without a portal).
func TestPlan_filesDiff(t *testing.T) {
	a := mustParse(t, `objects: {project: {sandbox: 2-1}}
associations:
  - from: contacts
    to: project
    limit: 4
    labels:
      - label: Lead
        inverse: Led by
        limit: 2
`)
	b := mustParse(t, `associations:
  - from: contacts
    to: project
    limit: 5
    labels:
      - label: Lead
        inverse: Leader of
      - label: Old
`)
	oa, ob := mustObjects(t, a, "", nil), mustObjects(t, b, "", nil)
	d, err := Resolve(a, oa)
	if err != nil {
		t.Fatal(err)
	}
	ob.Declare(oa.Declared()...)
	cur, err := FromFile(b, ob)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(d, cur, PlanOptions{Prune: true, Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, planText(t, p), `contacts -> project
  - label "Old" / inverse "Old"
  ~ label "Lead": inverse "Leader of" -> "Led by"
  ~ object limit: 5 -> 4
  + limit on "Lead": 2

Plan: 1 to create, 2 to change, 1 to delete.`)
}

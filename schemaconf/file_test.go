package schemaconf

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParse_problemsNameTheLine(t *testing.T) {
	cases := []struct {
		name, text string
		want       string
	}{
		{"unknown field", "apiVersion: 2026-03\nassociations:\n- from: contacts\n  to: companies\n  limt: 3\n", "schema.yaml:5: field limt not found"},
		{"bad type", "associations:\n- from: contacts\n  to: companies\n  limit: many\n", "schema.yaml:4:"},
		{"empty", "", "schema.yaml: file is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("schema.yaml", []byte(c.text))
			var ps Problems
			if !errors.As(err, &ps) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a problem containing %q", err, c.want)
			}
		})
	}
}

func TestParse_tooLarge(t *testing.T) {
	_, err := Parse("big.yaml", bytes.Repeat([]byte("#"), MaxFileBytes+1))
	if err == nil || !strings.Contains(err.Error(), "big.yaml: file is") {
		t.Fatalf("got %v", err)
	}
}

func TestResolve_problems(t *testing.T) {
	f := mustParse(t, `apiVersion: "2026-03"
associations:
- from: contacts
  to: companys
- from: contacts
  to: companies
  limit: 0
  labels:
  - label: Buyer
    limit: 10001
  - label: Buyer
  - label: Primary
    category: HUBSPOT_DEFINED
  - label: ""
- from: contacts
  to: companies
- from: contacts
  to: project
`)
	_, err := Resolve(f, mustObjects(t, f, "prod", nil))
	want := []string{
		`schema.yaml:3: to: unknown object type "companys"`,
		`schema.yaml:7: limit 0 is outside HubSpot's range 1 to 10000`,
		`schema.yaml:10: limit 10001 is outside HubSpot's range 1 to 10000`,
		`schema.yaml:11: label "Buyer" in contacts -> companies is defined twice (first on line 9)`,
		`schema.yaml:12: a HUBSPOT_DEFINED type is known by its typeId: add typeId`,
		`schema.yaml:14: a user-defined label needs its text (label)`,
		`schema.yaml:15: contacts -> companies is listed twice (first on line 5)`,
		`schema.yaml:17: to: unknown object type "project"`,
	}
	if err == nil {
		t.Fatal("no problems")
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d problems:\n%s\nwant %d", len(got), err, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
}

func TestDeriveName(t *testing.T) {
	for in, want := range map[string]string{
		"Decision maker":        "decision_maker",
		"  Billing / Finance  ": "billing_finance",
		"Büro":                  "b_ro",
	} {
		if got := DeriveName(in); got != want {
			t.Errorf("DeriveName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := DeriveName("日本"); !strings.HasPrefix(got, "label_") {
		t.Errorf("DeriveName of a text without ASCII letters = %q", got)
	}
}

func TestResolve_duplicateDerivedName(t *testing.T) {
	f := mustParse(t, "associations:\n  - from: contacts\n    to: deals\n    labels:\n      - label: Billing contact\n  - from: deals\n    to: contacts\n    labels:\n      - label: billing-contact\n")
	_, err := Resolve(f, mustObjects(t, f, "", nil))
	want := `schema.yaml:9: name "billing_contact" is used twice between contacts and deals (first on line 5)`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestParse_jsonWithTabs(t *testing.T) {
	f, err := Parse("s.json", []byte("{\n\t\"apiVersion\": \"2026-03\",\n\t\"associations\": [\n\t\t{\"from\": \"contacts\", \"to\": \"companies\", \"limit\": 0}\n\t]\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(f, mustObjects(t, f, "", nil))
	if err == nil || !strings.HasPrefix(err.Error(), "s.json:4: limit 0 is outside") {
		t.Fatalf("got %v", err)
	}
}

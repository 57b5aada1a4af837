package schemaconf

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// TestRules: every rule HubSpot enforces is refused by plan, with the
// file's line, before any write; and the fake refuses the same write.
func TestRules(t *testing.T) {
	ctx := context.Background()
	fifty := func() string {
		var b strings.Builder
		for i := range MaxLabelsPerPair + 1 {
			fmt.Fprintf(&b, "      - label: Role %02d\n", i)
		}
		return b.String()
	}
	cases := []struct {
		name  string
		file  string
		want  string // problem, with the line
		write func(*testing.T, *hubspottest.Server, *associations.Schema) error
	}{{
		name: "limit outside HubSpot's range",
		file: "associations:\n  - from: contacts\n    to: companies\n    limit: 10001\n",
		want: "schema.yaml:4: limit 10001 is outside HubSpot's range 1 to 10000",
		write: func(t *testing.T, _ *hubspottest.Server, s *associations.Schema) error {
			_, err := s.CreateConfigurations(ctx, "contacts", "companies", []associations.LimitCreate{{Category: "HUBSPOT_DEFINED", TypeID: 279, MaxToObjectIDs: 10001}})
			return err
		},
	}, {
		name: "label limit above the object limit",
		file: "associations:\n  - from: contacts\n    to: companies\n    limit: 5\n    labels:\n      - label: Primary\n        category: HUBSPOT_DEFINED\n        typeId: 1\n        limit: 6\n",
		want: `schema.yaml:9: limit 6 of label "Primary" is above the object limit 5 of contacts -> companies (line 4)`,
		write: func(t *testing.T, srv *hubspottest.Server, s *associations.Schema) error {
			if err := srv.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 279, MaxToObjectIDs: 5}); err != nil {
				t.Fatal(err)
			}
			_, err := s.CreateConfigurations(ctx, "contacts", "companies", []associations.LimitCreate{{Category: "HUBSPOT_DEFINED", TypeID: 1, MaxToObjectIDs: 6}})
			return err
		},
	}, {
		name: "object limit below a label limit the portal keeps",
		file: "associations:\n  - from: contacts\n    to: companies\n    limit: 2\n",
		want: `schema.yaml:4: object limit 2 of contacts -> companies is below the limit 3 the portal has on label "Primary"`,
		write: func(t *testing.T, srv *hubspottest.Server, s *associations.Schema) error {
			_, err := s.CreateConfigurations(ctx, "contacts", "companies", []associations.LimitCreate{{Category: "HUBSPOT_DEFINED", TypeID: 279, MaxToObjectIDs: 2}})
			return err
		},
	}, {
		name: "too many labels for a pair",
		file: "associations:\n  - from: contacts\n    to: deals\n    labels:\n" + fifty(),
		// The 10 labels the portal has already count: without --prune they stay.
		want: fmt.Sprintf("schema.yaml:5: contacts and deals would have %d labels; HubSpot allows at most %d per object pair", MaxLabelsPerPair+11, MaxLabelsPerPair),
		write: func(t *testing.T, srv *hubspottest.Server, s *associations.Schema) error {
			for i := range MaxLabelsPerPair {
				if _, err := srv.CreateLabel("contacts", "deals", fmt.Sprintf("role_%02d", i), fmt.Sprintf("Role %02d", i), ""); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.CreateLabel(ctx, "deals", "contacts", associations.LabelCreate{Label: "One more", Name: "one_more"})
			return err
		},
	}, {
		name: "change to a HUBSPOT_DEFINED label",
		file: "associations:\n  - from: contacts\n    to: companies\n    labels:\n      - label: Main\n        category: HUBSPOT_DEFINED\n        typeId: 1\n",
		want: `schema.yaml:5: HUBSPOT_DEFINED label 1 is "Primary"; HubSpot does not allow changing a HUBSPOT_DEFINED label`,
		write: func(t *testing.T, _ *hubspottest.Server, s *associations.Schema) error {
			return s.UpdateLabel(ctx, "contacts", "companies", associations.LabelUpdate{AssociationTypeID: 1, Label: "Main"})
		},
	}, {
		name: "unknown HubSpot-defined type",
		file: "associations:\n  - from: contacts\n    to: companies\n    labels:\n      - label: Ghost\n        category: HUBSPOT_DEFINED\n        typeId: 99999\n        limit: 1\n",
		want: "schema.yaml:5: contacts -> companies has no HUBSPOT_DEFINED association type 99999 (unknown type)",
		write: func(t *testing.T, _ *hubspottest.Server, s *associations.Schema) error {
			_, err := s.CreateConfigurations(ctx, "contacts", "companies", []associations.LimitCreate{{Category: "HUBSPOT_DEFINED", TypeID: 99999, MaxToObjectIDs: 1}})
			return err
		},
	}, {
		name: "unknown object type",
		file: "associations:\n  - from: contacts\n    to: companys\n    labels:\n      - label: Buyer\n",
		want: `schema.yaml:2: to: unknown object type "companys"`,
		write: func(t *testing.T, _ *hubspottest.Server, s *associations.Schema) error {
			_, err := s.CreateLabel(ctx, "contacts", "companys", associations.LabelCreate{Label: "Buyer", Name: "buyer"})
			return err
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, s := newPortal(t)
			// The portal's own state some rules meet.
			if err := srv.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 1, MaxToObjectIDs: 3}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(c.name, "too many") {
				for i := range 10 {
					if _, err := srv.CreateLabel("contacts", "deals", fmt.Sprintf("old_%d", i), fmt.Sprintf("Old %d", i), ""); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, _, err := planOn(t, s, mustParse(t, c.file), "production", nil, false)
			var ps Problems
			if !errors.As(err, &ps) || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("plan: got %v\nwant a problem starting with %s", err, c.want)
			}
			for _, r := range srv.Requests() {
				if r.Method != "GET" {
					t.Fatalf("plan wrote: %s %s", r.Method, r.Path)
				}
			}
			// The fake refuses the write the file asks for.
			if strings.Contains(c.name, "too many") || strings.Contains(c.name, "label limit above") {
				srv, s = newPortal(t) // a portal without the state above
			}
			err = c.write(t, srv, s)
			var ae *hubspot.APIError
			var be *hubspot.BatchError
			if err == nil || !(errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 || errors.As(err, &be) && be.Failed == 1) {
				t.Fatalf("the fake accepted the write (err %v)", err)
			}
			t.Logf("fake: %v", err)
		})
	}
}

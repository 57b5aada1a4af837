package associations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// TestSchema_CreateLabel_errors: the single calls return a value or a typed
// error; a create that may have been applied without an answer says so
// with ErrOutcomeUnknown, a refusal does not.
func TestSchema_CreateLabel_errors(t *testing.T) {
	t.Parallel()
	body := func(name string) associations.LabelCreate {
		return associations.LabelCreate{Name: name, Label: "Label " + name}
	}
	tests := []struct {
		name        string
		fault       *hubspottest.Fault
		body        associations.LabelCreate
		wantStatus  int  // of the *hubspot.APIError; 0: none
		wantUnknown bool // errors.Is(err, hubspot.ErrOutcomeUnknown)
		wantCreated bool // the server holds the label afterwards
	}{
		{"created", nil, body("a"), 0, false, true},
		{"reset after applying", &hubspottest.Fault{Kind: hubspottest.FaultResetAfterApply}, body("b"), 0, true, true},
		{"503", &hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503}, body("c"), 503, true, false},
		{"cut-off answer", &hubspottest.Fault{Kind: hubspottest.FaultTruncateBody}, body("d"), 0, true, true},
		{"refused", nil, associations.LabelCreate{Name: "e"}, 400, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, s := setup(t, 0, nil)
			if tc.fault != nil {
				tc.fault.Op = hubspottest.OpCreateLabel
				if err := srv.Script(*tc.fault); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.CreateLabel(context.Background(), from, to, tc.body)
			var apiErr *hubspot.APIError
			switch {
			case tc.wantStatus == 0 && !tc.wantUnknown && (err != nil || got == nil || len(got) == 0):
				t.Fatalf("CreateLabel = %+v, %v; want the created types", got, err)
			case tc.wantStatus != 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tc.wantStatus):
				t.Fatalf("err = %v, want a %d *hubspot.APIError", err, tc.wantStatus)
			case errors.Is(err, hubspot.ErrOutcomeUnknown) != tc.wantUnknown:
				t.Fatalf("err = %v; ErrOutcomeUnknown: %v, want %v", err, !tc.wantUnknown, tc.wantUnknown)
			}
			types, lerr := srv.AssociationTypes(from, to)
			if lerr != nil {
				t.Fatal(lerr)
			}
			created := false
			for _, at := range types {
				created = created || at.Name == tc.body.Name
			}
			if created != tc.wantCreated {
				t.Fatalf("server holds the label: %v, want %v", created, tc.wantCreated)
			}
		})
	}
}

// TestSchema_UpdateLabel_DeleteLabel: calls without an answer body return
// nil, or HubSpot's refusal.
func TestSchema_UpdateLabel_DeleteLabel(t *testing.T) {
	t.Parallel()
	_, s := setup(t, 0, nil)
	ctx := context.Background()
	created, err := s.CreateLabel(ctx, from, to, associations.LabelCreate{Name: "x", Label: "X"})
	if err != nil {
		t.Fatal(err)
	}
	id := created[0].TypeID
	if err := s.UpdateLabel(ctx, from, to, associations.LabelUpdate{AssociationTypeID: id, Label: "Y"}); err != nil {
		t.Fatalf("UpdateLabel: %v", err)
	}
	labels, err := s.Labels(ctx, from, to)
	if err != nil || len(labels) == 0 || labels[0].Label == nil || *labels[0].Label != "Y" {
		t.Fatalf("Labels after the update = %+v, %v", labels, err)
	}
	if err := s.DeleteLabel(ctx, from, to, id); err != nil {
		t.Fatalf("DeleteLabel: %v", err)
	}
	err = s.DeleteLabel(ctx, from, to, id)
	var apiErr *hubspot.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Category != hubspot.CategoryObjectNotFound || errors.Is(err, hubspot.ErrOutcomeUnknown) {
		t.Fatalf("second DeleteLabel: %v, want a 404 OBJECT_NOT_FOUND *hubspot.APIError", err)
	}
}

package associations_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// fakeHubSpot starts the fake API (hubspottest) for the examples and
// returns a Schema for it; a real program leaves out hubspot.WithBaseURL
// and talks to HubSpot.
func fakeHubSpot(opts ...hubspottest.Option) (*associations.Schema, func()) {
	const token = "pat-na1-example"
	srv, err := hubspottest.New(append([]hubspottest.Option{hubspottest.WithToken(token)}, opts...)...)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	schema, err := associations.New(token, hubspot.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	return schema, func() { srv.Close() }
}

// A single call returns its value or HubSpot's refusal as a typed error.
func ExampleSchema_CreateLabel() {
	schema, stop := fakeHubSpot()
	defer stop()
	ctx := context.Background()

	label := associations.LabelCreate{Name: "billing_contact", Label: "Billing contact"}
	created, err := schema.CreateLabel(ctx, "contacts", "companies", label)
	if err != nil {
		log.Fatal(err)
	}
	// The answer holds the type from contacts to companies and its inverse.
	fmt.Println("created", len(created), "types:", created[0].Category, *created[0].Label)

	// The same name again: HubSpot refuses it.
	_, err = schema.CreateLabel(ctx, "contacts", "companies", label)
	var apiErr *hubspot.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("refused:", apiErr.StatusCode, apiErr.Category)
	}
	// Output:
	// created 2 types: USER_DEFINED Billing contact
	// refused: 409 CONFLICT
}

// A batch call takes any number of inputs and accounts for each.
func ExampleSchema_UpdateConfigurations() {
	var opts []hubspottest.Option
	for id := int32(1); id <= 250; id++ {
		opts = append(opts,
			hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "2-100", ToObjectType: "2-200", Category: "USER_DEFINED", TypeID: id}),
			hubspottest.WithLimit(hubspottest.Limit{FromObjectType: "2-100", ToObjectType: "2-200", Category: "USER_DEFINED", TypeID: id, MaxToObjectIDs: 1}))
	}
	schema, stop := fakeHubSpot(opts...)
	defer stop()

	inputs := make([]associations.LimitUpdate, 251)
	for i := range inputs {
		inputs[i] = associations.LimitUpdate{
			Category: associations.AssociationCategoryUserDefined, TypeID: int32(i + 1), MaxToObjectIDs: 5,
		}
	}
	res, err := schema.UpdateConfigurations(context.Background(), "2-100", "2-200", inputs)
	fmt.Println(len(res.Succeeded), "updated in", res.Requests, "requests;", len(res.Failed), "failed")
	for _, f := range res.Failed {
		var apiErr *hubspot.APIError
		if errors.As(f.Err, &apiErr) {
			fmt.Println("typeId", f.Input.TypeID, "refused:", apiErr.Category)
		}
	}
	var be *hubspot.BatchError
	if errors.As(err, &be) {
		fmt.Println(be.Succeeded, "of", be.Total, "succeeded")
	}
	// Output:
	// 250 updated in 3 requests; 1 failed
	// typeId 251 refused: OBJECT_NOT_FOUND
	// 250 of 251 succeeded
}

// A list call returns the whole collection, following paging.
func ExampleSchema_Labels() {
	schema, stop := fakeHubSpot()
	defer stop()

	labels, err := schema.Labels(context.Background(), "contacts", "companies")
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range labels {
		text := "(unlabeled)"
		if l.Label != nil {
			text = *l.Label
		}
		fmt.Println(l.Category, l.TypeID, text)
	}
	// Output:
	// HUBSPOT_DEFINED 1 Primary
	// HUBSPOT_DEFINED 279 (unlabeled)
}

package hubspottest_test

import (
	"context"
	"fmt"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// ExampleNew runs the fake outside a test, as a program does (New, Start,
// Close), with the client built as the README builds it.
func ExampleNew() {
	srv, err := hubspottest.New(hubspottest.WithToken("pat-test"))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Start("127.0.0.1:0"); err != nil { // any free port; sets srv.URL
		fmt.Println(err)
		return
	}
	defer srv.Close()

	schema, err := associations.New("pat-test", hubspot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	labels, err := schema.Labels(context.Background(), "contacts", "companies")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range labels {
		if l.Label != nil {
			fmt.Println(l.TypeID, l.Category, *l.Label)
		}
	}
	// Output:
	// 1 HUBSPOT_DEFINED Primary
}

// Package associations is a client for HubSpot's CRM Associations Schema
// API (association labels and association limits), generated from HubSpot's
// published OpenAPI document (see APIVersion) after normalization, so that
// its names and types are the same for every API version.
//
// Everything here except this file, generate.go and the tests is
// generated: models and the raw client by oapi-codegen, Schema and the
// version constants by the generator in gen/. Do not edit; run `make
// generate`.
//
// Schema has one call per operation. Each returns its value or an error;
// HubSpot's refusals are a *hubspot.APIError (a *hubspot.RateLimitError for
// a 429), found with errors.As:
//
//	schema, err := associations.New(token)
//	if err != nil {
//		return err
//	}
//	labels, err := schema.Labels(ctx, "contacts", "companies")
//	var apiErr *hubspot.APIError
//	if errors.As(err, &apiErr) {
//		return fmt.Errorf("HubSpot says %s (%s)", apiErr.Message, apiErr.Category)
//	}
//	for _, l := range labels {
//		fmt.Println(l.TypeID, l.Category)
//	}
//
// Batch calls take any number of inputs, with an exact account of the
// outcome:
//
//	schema, err := associations.New(token, hubspot.WithResendUnknown(),
//		hubspot.WithProgress(func(p hubspot.Progress) { fmt.Fprintf(os.Stderr, "\r%d/%d", p.Done, p.Total) }))
//	res, err := schema.UpdateConfigurations(ctx, "contacts", "companies", inputs)
//	for _, f := range res.Failed {
//		var apiErr *hubspot.APIError
//		if errors.As(f.Err, &apiErr) {
//			log.Printf("input %d: %s", f.Index, apiErr.Message)
//		}
//	}
//	var rl *hubspot.RateLimitError
//	if errors.As(err, &rl) && rl.Daily() {
//		log.Printf("daily limit reached; %d inputs not attempted", len(res.NotAttempted))
//	}
//
// New takes the token and every option of package hubspot, the client's and
// the batch calls' alike. Schema.Client is the raw oapi-codegen client, for
// anything Schema does not cover; NewSchema builds a Schema over a client of
// your own (NewDefaultClient, or NewClientWithResponses with any
// http.Client).
package associations

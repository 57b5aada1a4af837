// Package associations is a client for HubSpot's CRM Associations Schema
// API (association labels and association limits), generated from HubSpot's
// published OpenAPI document (see APIVersion) after normalization, so that
// its names and types are the same for every API version.
//
// Everything here except this file and generate.go is generated: models and
// the client by oapi-codegen, Batcher and the version constants by the
// generator in gen/. Do not edit; run `make generate`.
//
// A client with production defaults (rate limiting shared per token,
// retries with backoff, User-Agent, timeout):
//
//	client, err := associations.NewDefaultClient("", hubspot.WithToken(token))
//	if err != nil {
//		return err
//	}
//	resp, err := client.ListLabelsWithResponse(ctx, "contacts", "companies")
//	if err != nil {
//		return err
//	}
//	if resp.JSONDefault != nil { // HubSpot's error body, typed
//		return fmt.Errorf("HubSpot: %s (%s)", resp.JSONDefault.Message, resp.JSONDefault.Category)
//	}
//	for _, l := range resp.JSON200.Results {
//		fmt.Println(l.TypeID, l.Category)
//	}
//
// Any number of inputs in one call, with an exact account of the outcome:
//
//	b, err := associations.NewBatcher(client, hubspot.WithProgress(func(p hubspot.Progress) {
//		fmt.Fprintf(os.Stderr, "\r%d/%d", p.Done, p.Total)
//	}))
//	res, err := b.UpdateConfigurations(ctx, "contacts", "companies", inputs)
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
package associations

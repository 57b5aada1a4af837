// Package hubspottest provides an in-memory fake of HubSpot's CRM
// Associations Schema API (association labels and association limits), in
// the spirit of net/http/httptest: tests start a real HTTP server, point a
// client at Server.URL and then inspect what the server saw.
//
// # In a program: New, Start, Close
//
// A program that is not a test (a demo, a fake for another language's
// client, examples/limits, the hubspot-fake command) uses New, Start and
// Close, and builds its client as the README does, with
// associations.NewDefaultClient pointed at Server.URL:
//
//	srv, err := hubspottest.New(hubspottest.WithToken("pat-test"))
//	if err != nil {
//		return err
//	}
//	if err := srv.Start("127.0.0.1:0"); err != nil { // any free port; sets srv.URL
//		return err
//	}
//	defer srv.Close()
//	client, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken("pat-test"))
//	if err != nil {
//		return err
//	}
//	schema, err := associations.NewSchema(client)
//
// A Server is also an http.Handler: without Start, mount it in your own
// http.Server or httptest.Server.
//
// # In a test: NewServer
//
// NewServer is New and Start for one test: it fails the test on a bad
// option and closes the server on t.Cleanup.
//
//	func TestSync(t *testing.T) {
//		srv := hubspottest.NewServer(t,
//			hubspottest.WithToken("pat-test"),
//			hubspottest.WithRateLimit(100, 10*time.Second),
//		)
//		client, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken("pat-test"))
//		if err != nil {
//			t.Fatal(err)
//		}
//		schema, err := associations.NewSchema(client)
//		if err != nil {
//			t.Fatal(err)
//		}
//
//		// The next batch/create fails with 503, the one after that with
//		// a connection reset after the change was applied.
//		_ = srv.Script(
//			hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503, Op: hubspottest.OpBatchCreateConfigurations},
//			hubspottest.Fault{Kind: hubspottest.FaultResetAfterApply, Op: hubspottest.OpBatchCreateConfigurations},
//		)
//		// ... code under test calls schema ...
//
//		if got := srv.Limits(); len(got) != 1 { t.Errorf("limits = %v", got) }
//		if st := srv.Stats(); st.ByOperation[hubspottest.OpBatchCreateConfigurations] != 3 { ... }
//	}
//
// # What the server does
//
// Requests are accepted under /crm/associations/{version}/... for any
// version YYYY-MM (optionally -beta) and v4, and under
// /crm/v4/associations/... (the form HubSpot's client libraries call). The
// version segment is rewritten to the document's before routing, so one
// document serves them all. Each request then passes, in order:
//
//  1. routing against the OpenAPI document (404, or 405 with Allow);
//  2. authentication: Authorization: Bearer <token> must be a configured
//     token (401 INVALID_AUTHENTICATION);
//  3. rate limiting per token: a rolling window (default 100 per 10 s) and a
//     daily limit (default 250000 per UTC day), 429 with HubSpot's body,
//     X-HubSpot-RateLimit-* headers on every authenticated response and
//     Retry-After (optional);
//  4. faults: scripted ones (Server.Script) first, then random ones
//     (WithRandomFaults, seeded);
//  5. the body size cap (413) and validation of path, query, headers and
//     body against the document with kin-openapi's openapi3filter (400
//     VALIDATION_ERROR with errors[].in naming body, path, ...); security
//     requirements are not checked there since step 2 did;
//  6. the batch size cap (400 "Too many inputs: got N, the maximum batch
//     size is M.") and the operation itself, with HubSpot's semantics:
//     per-input failures of batch create and update answer 207 with
//     results, errors (context.category and context.typeId name the failing
//     input) and numErrors.
//
// Success statuses follow the document: with the normalized document batch
// create answers 201 and purge 204; with HubSpot's raw 2026-03 document
// purge answers 200 with a batch body.
//
// # Errors
//
// Error bodies are HubSpot's, written as hubspot.ErrorBody: single errors,
// the per-input errors of 207 batch responses and 429s. Their categories
// are hubspot's ErrorCategory constants, so a client checks the fake's
// answers as it checks HubSpot's:
//
//	var apiErr *hubspot.APIError
//	if errors.As(err, &apiErr) && apiErr.Category == hubspot.CategoryValidation { ... }
//
// # Inspection
//
// Stats counts requests per operation and status, the largest number of
// requests in flight, 429s and injected faults; Requests returns the most
// recent requests (bounded, never holding a token). AssociationTypes,
// Limits, SetLimit, DeleteLimit, CreateLabel and AddAssociationType read and
// seed the state. A realistic set of HubSpot-defined association types
// between standard objects is seeded (contacts->companies 279 and 1
// "Primary", and so on); custom object types "2-<digits>" are accepted
// everywhere.
package hubspottest

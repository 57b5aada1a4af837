// Package hubspottest provides an in-memory fake of HubSpot's CRM
// Associations Schema API (association labels and association limits), in
// the spirit of net/http/httptest: tests start a real HTTP server, point a
// client at Server.URL and then inspect what the server saw.
//
// NewServer starts a server for one test and closes it on t.Cleanup:
//
//	func TestSync(t *testing.T) {
//		srv := hubspottest.NewServer(t,
//			hubspottest.WithToken("pat-test"),
//			hubspottest.WithRateLimit(10, time.Second),
//		)
//		c, _ := associations.NewClientWithResponses(srv.URL,
//			associations.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
//				r.Header.Set("Authorization", "Bearer pat-test")
//				return nil
//			}))
//
//		// The next batch/create fails with 503, the one after that with
//		// a connection reset after the change was applied.
//		_ = srv.Script(
//			hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503, Op: hubspottest.OpBatchCreateConfigurations},
//			hubspottest.Fault{Kind: hubspottest.FaultResetAfterApply, Op: hubspottest.OpBatchCreateConfigurations},
//		)
//		// ... code under test calls c ...
//
//		if got := srv.Limits(); len(got) != 1 { t.Errorf("limits = %v", got) }
//		if st := srv.Stats(); st.ByOperation[hubspottest.OpBatchCreateConfigurations] != 3 { ... }
//	}
//
// New returns a Server that is not listening: use it as an http.Handler, or
// call Start and Close (the hubspot-fake command does, so HubSpot's Node and
// Python clients can be pointed at it).
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
// Error bodies are HubSpot's: ErrorBody for single errors, InputError
// inside 207 batch responses and RateLimitBody for 429s. A client can check
// the fake's answers with errors.As on its own typed errors, for instance:
//
//	var apiErr *hubspot.APIError
//	if errors.As(err, &apiErr) && apiErr.Category == hubspottest.ErrCategoryValidation { ... }
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

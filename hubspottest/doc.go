// Package hubspottest provides an in-memory fake of HubSpot's CRM
// Associations Schema API (association labels and association limits), in
// the spirit of net/http/httptest: tests start a real HTTP server, point a
// client at Server.URL and then inspect what the server saw.
//
// # In a program: New, Start, Close
//
// A program that is not a test (a demo, a fake for another language's
// client, examples/limits, the hubspot-fake command) uses New, Start and
// Close, and builds its client as the README does, with associations.New
// and hubspot.WithBaseURL(Server.URL):
//
//	srv, err := hubspottest.New(hubspottest.WithToken("pat-test"))
//	if err != nil {
//		return err
//	}
//	if err := srv.Start("127.0.0.1:0"); err != nil { // any free port; sets srv.URL
//		return err
//	}
//	defer srv.Close()
//	schema, err := associations.New("pat-test", hubspot.WithBaseURL(srv.URL))
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
//		schema, err := associations.New("pat-test", hubspot.WithBaseURL(srv.URL))
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
//  5. the body size cap (413), then for a batch the batch size cap (400
//     "Too many inputs: got N, the maximum batch size is M.", one error,
//     before any input is validated, as HubSpot does);
//  6. validation of path, query, headers and body against the document
//     with kin-openapi's openapi3filter (400 VALIDATION_ERROR with
//     errors[].in naming body, path, ...); security requirements are not
//     checked there since step 2 did;
//  7. the operation itself, with HubSpot's semantics: per-input failures
//     of batch create and update answer 207 with results, errors
//     (context.category and context.typeId name the failing input) and
//     numErrors.
//
// HubSpot's own rules on writes are enforced as HubSpot documents them
// (docs/schema-as-code.md has the sources): a limit is between 1 and
// MaxLimit (10,000); a label limit is at most its direction's object limit
// (the limit on the unlabeled type) and an object limit at least the label
// limits (207 VALIDATION_ERROR with the allowed range); an object pair has
// at most MaxLabelsPerPair (50) user-defined labels (400); only
// USER_DEFINED labels can be changed or deleted (400).
//
// Success statuses follow the document: with the normalized document batch
// create answers 201 and purge 204; with HubSpot's raw 2026-03 document
// purge answers 200 with a batch body.
//
// # Errors
//
// Error bodies are HubSpot's (its Error and StandardError schemas): single
// errors, the per-input errors of 207 batch responses and 429s. Their categories
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
//
// # Limits
//
// The server bounds what a client can cost it, so that a broken or hostile
// client in CI gets a clear error instead of taking it down. HubSpot
// publishes no such numbers for this API; these are conservative bounds far
// above what valid requests need (a full batch of 100 inputs is about
// 10 KB):
//
//   - a request body is at most 1 MiB (WithMaxBodyBytes; 413 beyond);
//   - a batch holds at most 100 inputs (WithMaxBatchInputs), checked before
//     its inputs are validated: an oversized batch costs about twice its
//     body in memory and is answered with one short 400 (16 concurrent
//     1 MiB batches of invalid inputs allocate about 35 MiB in all, and
//     the tests hold them under 96 MiB);
//   - a 400 lists at most 100 errors, the last saying how many more there
//     were, and quotes at most 512 bytes of any one message;
//   - the path and query string together are at most 4 KiB (MaxURIBytes;
//     414 beyond), and the request log keeps paths and methods cut to
//     bounded sizes;
//   - a label, inverse label or internal name is at most 1 KiB
//     (MaxLabelBytes; 400 beyond), and at most 20000 labels may be created
//     through the API on one server (MaxCreatedLabels; 400 beyond, until
//     one is deleted), so the state and the requests that scan it stay
//     bounded; types added through Go do not count;
//   - the bodies held at once, over all requests, are at most 32 MiB, or
//     one body if WithMaxBodyBytes is larger (WithMaxBodyBytesInFlight;
//     503 SERVICE_UNAVAILABLE with Retry-After: 1 beyond, which package
//     hubspot's client retries);
//   - at most twice GOMAXPROCS (at least 4) requests are validated and
//     applied at once, since decoding a body for validation takes many
//     times its size; the others wait, holding only their body.
//
// A started server (Start, NewServer, the hubspot-fake command) also bounds
// connections:
//
//   - request line and headers: at most 64 KiB (MaxHeaderBytes; 431
//     beyond);
//   - timeouts (WithTimeouts): 10 s to send the headers, 30 s to send the
//     whole request (a body still incomplete is answered 408 and its
//     connection closed), 60 s from the end of the headers to the end of
//     the response, 120 s for a kept-alive connection to send its next
//     request; an injected latency fault renews the read and write
//     timeouts once it has elapsed, so a fault may outlast them;
//   - at most 4096 connections at once (WithMaxConnections); further ones
//     wait in the listen queue until one closes, and a stalled connection
//     holds its slot (about 33 KiB) for at most the read timeout, so 3000
//     stalled clients cost about 100 MiB, are all closed 30 s after they
//     connected, and normal clients are served meanwhile.
package hubspottest

// Package specfix normalizes HubSpot's published OpenAPI documents so that
// oapi-codegen produces the same, readable Go surface for every API version
// and every published revision of a version.
//
// Normalize applies two kinds of changes:
//
//   - generic steps that hold for any HubSpot document: version-free,
//     deterministic operation names; error responses declared with content
//     type "*/*" made JSON so typed errors are generated; batch responses
//     given the same status codes (200, 201 and 207 Multi-Status, or 200,
//     204 and 207 for batches without results) in every version; security
//     reduced to the bearer token a client really sends, keeping scopes only
//     as documentation; error schemas, found by their role (default, 4xx
//     and 5xx answers, 207 errors), made to decode whatever HubSpot sends;
//     a required property holding a schema that contains it made optional
//     (a pointer in Go: a struct cannot contain itself); and clutter such
//     as "example": null removed.
//   - rules read from a rules file (spec/rules.json in this repository) that
//     are scoped to one API, chosen by what is being generated (Options.API:
//     the pin or a flag) or else by the operations the document holds, never
//     by its title: stable names for known operations (matched by
//     CanonicalPath, so every spelling HubSpot has used matches), curated
//     type names for the schemas those operations take and answer (found
//     through the operation, recorded with HubSpot's name in
//     x-hubspot-schema; every other schema is marked UncuratedNote; an
//     inline schema at such a place is the curated type too), shared enums
//     (found where they are used; values the document adds are kept as
//     values of the same enum), batch result schemas (named by curated
//     type: no rule names a HubSpot schema), and pointed edits. A rule whose target has
//     vanished is an error unless the rule is marked optional, so upstream
//     drift is noticed.
//
// Documents that publish the same operations under two versions keep
// Options.Version's. Problems the published document already has (a $ref
// to an undefined schema, conflicting path templates) never make
// normalization fail: the first is repaired, the second kept with a warning.
//
// Normalize is deterministic and idempotent: the same input gives
// byte-identical output, and normalizing a normalized document changes
// nothing.
package specfix

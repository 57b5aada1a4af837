// Package apidiff reports what changed between two HubSpot OpenAPI
// documents in the terms that matter to this client: operations, fields,
// enum values, response codes and schemas (Go types), breaking changes
// first.
//
// Both documents are normalized with specfix (the same rules that feed code
// generation), the version segment of every path is written {version} so
// that 2026-03 and 2026-09 paths match, and then compared with oasdiff
// (diff.Get and its breaking-change checker). Security scope churn is left
// out: specfix reduces security to one bearer token, and any checker finding
// about security is dropped.
//
// A Report is deterministic: sorted, no timestamps, so a report written
// twice from the same documents is byte-identical.
package apidiff

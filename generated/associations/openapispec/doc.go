// Package openapispec holds the normalized OpenAPI document that package
// associations was generated from, embedded and compressed by oapi-codegen.
//
// GetSpec decodes it with kin-openapi. It is meant for tools and tests: the
// fake server in hubspottest routes and validates requests against it.
// The client package associations does not import this package, so
// programs that only call HubSpot do not link kin-openapi.
package openapispec

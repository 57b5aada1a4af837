package associations

// Regenerate with `go generate ./...` or `make generate` from the module
// root. The document is read by pin (spec/pins.json) from
// $HUBSPOT_SPEC_MIRROR, or from $SPEC_FILE when set. The rules applied are
// those of the pins' API ($SPEC_API overrides); from a document publishing
// several versions, the current pin's version is kept ($SPEC_VERSION
// overrides; with $SPEC_FILE the default is the document's info.version).

//go:generate go run ../../internal/cmd/specfix fetch -pins ../../spec/pins.json -cache ../../.cache/specs -out ../../.cache/raw.json
//go:generate go run ../../internal/cmd/specfix -in ../../.cache/raw.json -rules ../../spec/rules.json -pins ../../spec/pins.json -api=${SPEC_API} -version=${SPEC_VERSION} -name=${SPEC_FILE} -out ../../.cache/normalized.json
//go:generate go run ../../gen -clean .
//go:generate go run ../../gen -clean ./openapispec
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config ../../spec/oapi-codegen.yaml ../../.cache/normalized.json
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config ../../spec/oapi-codegen-openapispec.yaml ../../.cache/normalized.json
//go:generate go run ../../gen -in ../../.cache/normalized.json -out . -docs ../../docs/type-names.md

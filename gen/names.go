package main

import (
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
)

// The name normalizer spec/oapi-codegen.yaml gives oapi-codegen (its
// output-options name-normalizer and additional-initialisms); gen names
// fields the same way (TestNames_matchConfig keeps them in step).
const nameNormalizer = "ToCamelCaseWithInitialisms"

var additionalInitialisms = []string{"IDs"}

var normalizerOnce sync.Once

// goName is the Go name oapi-codegen gives a schema or property name:
// typeId -> TypeID, maxToObjectIds -> MaxToObjectIDs.
func goName(s string) string {
	normalizerOnce.Do(func() {
		// oapi-codegen keeps its normalizer in package state, which only
		// Generate sets: run it once on an empty document.
		doc := &openapi3.T{OpenAPI: "3.0.1", Info: &openapi3.Info{Title: "names", Version: "1"}, Paths: openapi3.NewPaths()}
		if _, err := codegen.Generate(doc, codegen.Configuration{
			PackageName: "names",
			Generate:    codegen.GenerateOptions{Models: true},
			OutputOptions: codegen.OutputOptions{
				NameNormalizer:        nameNormalizer,
				AdditionalInitialisms: additionalInitialisms,
			},
		}); err != nil {
			panic("gen: setting oapi-codegen's name normalizer: " + err.Error())
		}
	})
	return codegen.SchemaNameToTypeName(s)
}

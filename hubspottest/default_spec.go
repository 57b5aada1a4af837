package hubspottest

import (
	"sync"

	"github.com/crmkit/hubspot-associations/generated/associations/openapispec"
	"github.com/getkin/kin-openapi/openapi3"
)

var (
	defaultSpecOnce sync.Once
	defaultSpecDoc  *openapi3.T
	defaultSpecErr  error

	defaultCompiledOnce sync.Once
	defaultCompiled     *compiledSpec
	defaultCompiledErr  error
)

// defaultCompiledSpec returns the default document prepared for routing,
// built once and shared (it is read-only).
func defaultCompiledSpec() (*compiledSpec, error) {
	defaultCompiledOnce.Do(func() {
		doc, err := defaultSpec()
		if err != nil {
			defaultCompiledErr = err
			return
		}
		defaultCompiled, defaultCompiledErr = compileSpec(doc)
	})
	return defaultCompiled, defaultCompiledErr
}

// defaultSpec returns the document used when no WithSpec option is given:
// the project's normalized document embedded in the generated client,
// decoded once.
func defaultSpec() (*openapi3.T, error) {
	defaultSpecOnce.Do(func() {
		defaultSpecDoc, defaultSpecErr = openapispec.GetSpec()
	})
	return defaultSpecDoc, defaultSpecErr
}

package apidiff

import (
	"fmt"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/load"

	"github.com/crmkit/hubspot-associations/internal/specfix"
)

// Document is one side of a comparison.
type Document struct {
	Name    string // shown in the report, e.g. "2026-03" or a file name
	Raw     []byte // the document as published
	Version string // info.version, filled in by Prepare
	SHA256  string // of Raw, filled in by Prepare
}

// loadSpec loads data with kin-openapi, with every path rewritten by
// specfix.VersionFreePath.
func loadSpec(name string, data []byte, versionFree bool) (*load.SpecInfo, error) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromDataWithPath(data, &url.URL{Path: name})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if spec.Paths != nil {
		for _, item := range spec.Paths.Map() {
			mergePathParameters(item)
		}
	}
	if versionFree && spec.Paths != nil {
		paths := openapi3.NewPaths()
		for p, item := range spec.Paths.Map() {
			free := specfix.VersionFreePath(p)
			if paths.Value(free) != nil {
				return nil, fmt.Errorf("%s: paths %s and another one are the same without their version", name, p)
			}
			paths.Set(free, item)
		}
		spec.Paths = paths
	}
	return &load.SpecInfo{Url: name, Spec: spec, Version: spec.Info.Version}, nil
}

// normalize runs specfix on raw.
func normalize(name string, raw []byte, rules *specfix.Rules) (*specfix.Result, error) {
	return specfix.Normalize(name, raw, rules, specfix.Options{})
}

// mergePathParameters gives each operation of item the parameters OpenAPI
// says it has (those of the path item, unless the operation declares one
// of the same location and name) and clears the path item's, so that
// parameters declared once on the path compare equal to the same ones
// declared on each operation.
func mergePathParameters(item *openapi3.PathItem) {
	if item == nil || len(item.Parameters) == 0 {
		return
	}
	for _, op := range item.Operations() {
		for _, prm := range item.Parameters {
			if prm == nil || prm.Value == nil || op.Parameters.GetByInAndName(prm.Value.In, prm.Value.Name) != nil {
				continue
			}
			op.Parameters = append(op.Parameters, prm)
		}
	}
	item.Parameters = nil
}

package specfix

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// problems loads a document with kin-openapi (the library oapi-codegen
// reads it with) and returns every validation problem, one line each.
func problems(data []byte) ([]string, error) {
	t, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, err
	}
	err = t.Validate(context.Background(),
		openapi3.EnableMultiError(),
		openapi3.DisableExamplesValidation(),
		openapi3.AllowExtraSiblingFields("description"))
	var out []string
	var flatten func(error)
	flatten = func(err error) {
		var me openapi3.MultiError
		if errors.As(err, &me) && len(me) > 0 {
			for _, e := range me {
				flatten(e)
			}
			return
		}
		if u, ok := err.(interface{ Unwrap() []error }); ok && len(u.Unwrap()) > 0 {
			for _, e := range u.Unwrap() {
				flatten(e)
			}
			return
		}
		out = append(out, oneLine(err.Error()))
	}
	if err != nil {
		flatten(err)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// recordBaseline notes the published document's own validation problems
// (after dangling references are repaired, so that it loads): the
// normalized document may keep those (oapi-codegen copes with them, e.g.
// Files' two GET paths differing only in a parameter name), but must not
// add any.
func (n *normalizer) recordBaseline() error {
	out, err := marshal(n.doc)
	if err != nil {
		return n.errorf("", "encoding: %v", err)
	}
	probs, err := problems(out)
	if err != nil {
		return nil // the final check reports it
	}
	n.baseline = map[string]bool{}
	for _, p := range probs {
		n.baseline[p] = true
	}
	return nil
}

// validate fails on the problems of the normalized document that the
// published document does not have.
func (n *normalizer) validate(out []byte) error {
	probs, err := problems(out)
	if err != nil {
		return n.errorf("", "normalized document does not load: %v", oneLine(err.Error()))
	}
	var added, kept []string
	for _, p := range probs {
		if n.baseline[p] {
			kept = append(kept, p)
		} else {
			added = append(added, p)
		}
	}
	if len(added) > 0 {
		more := ""
		if len(added) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(added)-1)
		}
		return n.errorf("", "normalized document is invalid: %s%s", added[0], more)
	}
	for _, p := range kept {
		n.warnings = append(n.warnings, fmt.Sprintf("%s: left as published (oapi-codegen copes): %s", n.file, p))
	}
	return nil
}

// danglingRefs declares every schema the document references but does not
// define as an open object, with a warning naming it, so the document
// loads and generates (HubDB references a HubDbTableRowV3Wrapper it never
// defines). References into parts of missing schemas are left: they stay
// an error.
func (n *normalizer) danglingRefs() error {
	missing := map[string]bool{}
	schemas := obj(obj(n.doc, "components"), "schemas")
	walk(n.doc, "", false, func(m map[string]any, ptr string, nameMap bool) {
		if nameMap {
			return
		}
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, schemasPrefix) {
			return
		}
		name := strings.TrimPrefix(ref, schemasPrefix)
		if strings.Contains(name, "/") || name == "" {
			return
		}
		name = strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~")
		if _, ok := schemas[name]; !ok {
			missing[name] = true
		}
	})
	for _, name := range slices.Sorted(maps.Keys(missing)) {
		n.schemas()[name] = map[string]any{
			"type":        "object",
			"description": name + " is referenced but not defined in the published document; declared as an open object.",
		}
		n.changed("dangling-refs", pointer("components", "schemas", name), "declared as an open object (referenced, not defined)")
		n.warnings = append(n.warnings, fmt.Sprintf("%s: schema %s is referenced but not defined; declared as an open object", n.file, name))
	}
	return nil
}

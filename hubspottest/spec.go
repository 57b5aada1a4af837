package hubspottest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Operation names one of the nine operations of the CRM Associations
// Schema API, with the names the generated client uses.
type Operation string

// The nine operations.
const (
	OpListAllConfigurations     Operation = "ListAllConfigurations"
	OpListConfigurations        Operation = "ListConfigurations"
	OpBatchCreateConfigurations Operation = "BatchCreateConfigurations"
	OpBatchUpdateConfigurations Operation = "BatchUpdateConfigurations"
	OpBatchPurgeConfigurations  Operation = "BatchPurgeConfigurations"
	OpListLabels                Operation = "ListLabels"
	OpCreateLabel               Operation = "CreateLabel"
	OpUpdateLabel               Operation = "UpdateLabel"
	OpDeleteLabel               Operation = "DeleteLabel"
)

// Operations lists the nine operations.
var Operations = []Operation{
	OpListAllConfigurations, OpListConfigurations, OpBatchCreateConfigurations,
	OpBatchUpdateConfigurations, OpBatchPurgeConfigurations, OpListLabels,
	OpCreateLabel, OpUpdateLabel, OpDeleteLabel,
}

// opTemplates maps "METHOD version-free-path" (parameter names replaced by
// {}) to operations.
var opTemplates = map[string]Operation{
	"GET /definitions/configurations/all":                 OpListAllConfigurations,
	"GET /definitions/configurations/{}/{}":               OpListConfigurations,
	"POST /definitions/configurations/{}/{}/batch/create": OpBatchCreateConfigurations,
	"POST /definitions/configurations/{}/{}/batch/update": OpBatchUpdateConfigurations,
	"POST /definitions/configurations/{}/{}/batch/purge":  OpBatchPurgeConfigurations,
	"GET /{}/{}/labels":                                   OpListLabels,
	"POST /{}/{}/labels":                                  OpCreateLabel,
	"PUT /{}/{}/labels":                                   OpUpdateLabel,
	"DELETE /{}/{}/labels/{}":                             OpDeleteLabel,
}

// successPreference lists, per operation, the success statuses the server
// answers with, best first; the first one the document declares wins.
var successPreference = map[Operation][]int{
	OpListAllConfigurations:     {200},
	OpListConfigurations:        {200},
	OpBatchCreateConfigurations: {201, 200},
	OpBatchUpdateConfigurations: {200, 201},
	OpBatchPurgeConfigurations:  {204, 200},
	OpListLabels:                {200},
	OpCreateLabel:               {200, 201},
	OpUpdateLabel:               {204, 200},
	OpDeleteLabel:               {204, 200},
}

var (
	specPrefixRe = regexp.MustCompile(`^(/crm/(?:associations/[^/{}]+|v4/associations))(/.*)$`)
	paramRe      = regexp.MustCompile(`\{[^}]*\}`)
	// incoming request forms: /crm/associations/{version}/... and
	// /crm/v4/associations/...
	datedPathRe = regexp.MustCompile(`^/crm/associations/(?:v4|[0-9]{4}-(?:0[1-9]|1[0-2])(?:-beta)?)(/.*)$`)
	v4PathRe    = regexp.MustCompile(`^/crm/v4/associations(/.*)$`)
)

type specOp struct {
	op          Operation
	success     int
	exemptRoll  bool
	operationID string
	// batch: the request body is an object with an "inputs" array, whose
	// length is checked before the body is validated.
	batch bool
}

// compiledSpec is the document prepared for routing and validation.
type compiledSpec struct {
	doc    *openapi3.T
	prefix string
	router routers.Router
	ops    map[*openapi3.Operation]specOp
}

func compileSpec(doc *openapi3.T) (*compiledSpec, error) {
	cs := &compiledSpec{ops: map[*openapi3.Operation]specOp{}}
	found := 0
	for path, item := range doc.Paths.Map() {
		m := specPrefixRe.FindStringSubmatch(path)
		if m == nil {
			return nil, fmt.Errorf("spec path %q is not under /crm/associations/{version}", path)
		}
		if cs.prefix == "" {
			cs.prefix = m[1]
		} else if cs.prefix != m[1] {
			return nil, fmt.Errorf("spec paths mix versions: %q and %q", cs.prefix, m[1])
		}
		tmpl := paramRe.ReplaceAllString(m[2], "{}")
		for method, op := range item.Operations() {
			so := specOp{op: opTemplates[method+" "+tmpl], operationID: op.OperationID, batch: isBatchBody(op.RequestBody)}
			if so.op != "" {
				found++
				so.success = successPreference[so.op][0]
				for _, code := range successPreference[so.op] {
					if op.Responses != nil && op.Responses.Status(code) != nil {
						so.success = code
						break
					}
				}
			}
			if ex, ok := op.Extensions["x-hubspot-rate-limit-exemptions"].([]any); ok {
				for _, e := range ex {
					if e == "ten-secondly" {
						so.exemptRoll = true
					}
				}
			}
			cs.ops[op] = so
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("spec has none of the CRM Associations Schema operations")
	}
	// Route on a shallow copy without servers so that any host matches; the
	// caller's document is not modified.
	cp := *doc
	cp.Servers = nil
	cs.doc = &cp
	r, err := legacy.NewRouter(cs.doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("building router: %w", err)
	}
	cs.router = r
	return cs, nil
}

// rewritePath maps an incoming request path to the document's path form, or
// returns ok=false when it is not an associations path at all.
func (cs *compiledSpec) rewritePath(p string) (string, bool) {
	if m := datedPathRe.FindStringSubmatch(p); m != nil {
		return cs.prefix + m[1], true
	}
	if m := v4PathRe.FindStringSubmatch(p); m != nil {
		return cs.prefix + m[1], true
	}
	return "", false
}

// pathSegments returns the version-free segments of a rewritten path.
func (cs *compiledSpec) pathSegments(p string) []string {
	return strings.Split(strings.TrimPrefix(strings.TrimPrefix(p, cs.prefix), "/"), "/")
}

type routeT = *routers.Route

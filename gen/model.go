package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"

	"github.com/crmkit/hubspot-associations/internal/specfix"
)

// model is what the generator needs from the normalized document.
type model struct {
	Title   string
	Version string
	Batches []batchOp  // POSTs whose body is a BatchInput
	Lists   []listOp   // GETs answering a collection
	Calls   []callOp   // every other operation
	Types   []typeName // schemas with the name HubSpot gives them, by Go name
}

// typeName maps one schema of HubSpot's to its Go type.
type typeName struct {
	Go      string // Go type name
	HubSpot string // HubSpot's schema name (x-hubspot-schema)
	Curated bool   // named by a type rule (stable), or HubSpot's name
	Schema  string // the schema's name in the normalized document
}

// loadModel reads the normalized document with kin-openapi.
func loadModel(name string, data []byte) (*model, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation(), openapi3.AllowExtraSiblingFields("description")); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	m, err := buildModel(doc)
	if err != nil {
		return nil, err
	}
	used, err := reachableSchemas(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	kept := m.Types[:0]
	for _, t := range m.Types {
		if used[t.Schema] {
			kept = append(kept, t)
		}
	}
	m.Types = kept
	return m, nil
}

// batchOp is one batch operation: a POST whose body is a BatchInput, an
// object with an "inputs" array.
type batchOp struct {
	OperationID string  // BatchUpdateConfigurations
	Helper      string  // UpdateConfigurations
	Summary     string  // HubSpot's summary
	Description string  // HubSpot's description
	Method      string  // POST
	Path        string  // as in the document
	PathParams  []param // in path order
	InputType   string  // Go type of one input
	ResultType  string  // Go type of one result, "" when the batch has none
	Idempotent  bool    // safe to resend after an ambiguous failure
	Keys        []field // fields that match a result to its input
	Checks      []field // input fields with constraints to validate
	ReadBack    *listOp // list operation that reads back what exists, for non-idempotent batches
	// Values pairs each non-key input field with the result field that shows
	// it (same JSON name, else the one whose name ends with it, as
	// maxToObjectIds -> userEnforcedMaxToObjectIds); nil when a field has no
	// counterpart, and then a read-back never confirms a create.
	Values     []valuePair
	Exemptions []string // x-hubspot-rate-limit-exemptions
}

// valuePair is an input field and the result field that shows its value.
type valuePair struct{ In, Out field }

// field is one property of an input or result schema.
type field struct {
	JSON     string   // JSON name
	Go       string   // Go field name
	Pointer  bool     // optional: a pointer in Go
	Enum     string   // Go enum type with Valid(), if any
	Minimum  *float64 // minimum, if any
	IsString bool
	IsInt    bool // an integer: rendered with strconv, not fmt
}

// listOp is a GET operation answering a collection: an object with a
// "results" array, and possibly paging.next.after.
type listOp struct {
	OperationID string
	Helper      string // Labels, Configurations, AllConfigurations
	Summary     string
	PathParams  []param
	ItemType    string
	Paged       bool // the response has paging.next.after and the operation an "after" query parameter
	Exemptions  []string
}

// callOp is an operation that is neither a batch nor a list: one request,
// one answer.
type callOp struct {
	OperationID string // CreateLabel
	Summary     string
	Method      string
	Path        string
	PathParams  []param
	Body        string // Go type of the JSON request body, "" when none
	Result      string // Go type of the 2xx JSON answer, "" when it has none
	// ResultItem is the item type when the answer is a collection (an
	// object with a "results" array, and perhaps "paging"): the call returns
	// its results, as the list calls do, the same in every API version.
	ResultItem string
	Idempotent bool // by method: GET, PUT, DELETE
	Exemptions []string
}

// param is a path parameter: its Go name (as oapi-codegen gives it) and Go
// type.
type param struct{ Name, Type string }

func buildModel(doc *openapi3.T) (*model, error) {
	m := &model{}
	if doc.Info != nil {
		m.Title, m.Version = doc.Info.Title, doc.Info.Version
	}
	if m.Version == "" {
		return nil, fmt.Errorf("/info/version: empty")
	}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			op := item.GetOperation(method)
			if op == nil || op.Extensions[derivedMark] == true {
				// Helpers are part of the curated surface: only operations
				// the rules name get one (specfix marks the others).
				continue
			}
			params := effectiveParams(item.Parameters, op.Parameters)
			ps, err := pathParams(p, params)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %v", method, p, err)
			}
			if method == http.MethodGet {
				if l, ok := listFrom(op, params, ps); ok {
					m.Lists = append(m.Lists, l)
					continue
				}
			}
			if method == http.MethodPost {
				b, ok, err := batchFrom(p, op, ps)
				if err != nil {
					return nil, err
				}
				if ok {
					m.Batches = append(m.Batches, b)
					continue
				}
			}
			c, err := callFrom(method, p, op, ps)
			if err != nil {
				return nil, err
			}
			m.Calls = append(m.Calls, c)
		}
	}
	if doc.Components != nil {
		for name, s := range doc.Components.Schemas {
			if s == nil || s.Value == nil {
				continue
			}
			hub, _ := s.Value.Extensions[specfix.HubSpotSchemaExt].(string)
			if hub == "" {
				continue // ours (the shared enums)
			}
			m.Types = append(m.Types, typeName{Go: goName(name), Schema: name, HubSpot: hub, Curated: !strings.Contains(s.Value.Description, specfix.UncuratedNote)})
		}
	}
	sort.Slice(m.Types, func(i, j int) bool { return m.Types[i].Go < m.Types[j].Go })
	sort.Slice(m.Batches, func(i, j int) bool { return m.Batches[i].Helper < m.Batches[j].Helper })
	sort.Slice(m.Lists, func(i, j int) bool { return m.Lists[i].Helper < m.Lists[j].Helper })
	sort.Slice(m.Calls, func(i, j int) bool { return m.Calls[i].OperationID < m.Calls[j].OperationID })
	for i := range m.Batches {
		b := &m.Batches[i]
		if b.Idempotent || b.ResultType == "" {
			continue
		}
		for j := range m.Lists {
			l := &m.Lists[j]
			if l.ItemType == b.ResultType && equalParams(l.PathParams, b.PathParams) {
				b.ReadBack = l
				break
			}
		}
		if b.ReadBack == nil {
			return nil, fmt.Errorf("%s %s: no list operation with the same path parameters returns %s, so a create cannot be read back after an ambiguous failure", b.Method, b.Path, b.ResultType)
		}
	}
	return m, nil
}

// derivedMark is specfix's mark on operations no rule names.
const derivedMark = "x-specfix-derived-name"

func equalParams(a, b []param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// effectiveParams are an operation's parameters as OpenAPI defines them:
// those of the path item, merged with the operation's own, which win for
// the same location and name.
func effectiveParams(pathLevel, opLevel openapi3.Parameters) openapi3.Parameters {
	out := slices.Clone(opLevel)
	for _, prm := range pathLevel {
		if prm == nil || prm.Value == nil {
			continue
		}
		if opLevel.GetByInAndName(prm.Value.In, prm.Value.Name) == nil {
			out = append(out, prm)
		}
	}
	return out
}

// pathParams returns the path parameters at p in path order, typed from
// their schemas (params: the operation's effective parameters) as
// oapi-codegen types them.
func pathParams(p string, params openapi3.Parameters) ([]param, error) {
	var out []param
	for _, seg := range strings.Split(p, "/") {
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
			continue
		}
		name := strings.Trim(seg, "{}")
		typ := "string"
		if prm := params.GetByInAndName("path", name); prm != nil && prm.Schema != nil && prm.Schema.Value != nil {
			var err error
			if typ, err = goType(prm.Schema.Value); err != nil {
				return nil, fmt.Errorf("path parameter %s: %v", name, err)
			}
		}
		// oapi-codegen's variable name: associationTypeId -> associationTypeID.
		out = append(out, param{Name: codegen.LowercaseFirstCharacter(goName(name)), Type: typ})
	}
	return out, nil
}

// goType is the Go type oapi-codegen gives a scalar schema.
func goType(s *openapi3.Schema) (string, error) {
	switch {
	case s.Type.Is("string"):
		return "string", nil
	case s.Type.Is("boolean"):
		return "bool", nil
	case s.Type.Is("integer"):
		switch s.Format {
		case "int32":
			return "int32", nil
		case "int64":
			return "int64", nil
		}
		return "int", nil
	case s.Type.Is("number"):
		if s.Format == "double" {
			return "float64", nil
		}
		return "float32", nil
	}
	return "", fmt.Errorf("type %v is not a scalar", s.Type)
}

func exemptions(op *openapi3.Operation) []string {
	v, ok := op.Extensions["x-hubspot-rate-limit-exemptions"].([]any)
	if !ok {
		return nil
	}
	var out []string
	for _, e := range v {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func refName(s *openapi3.SchemaRef) string {
	if s == nil || s.Ref == "" {
		return ""
	}
	return s.Ref[strings.LastIndex(s.Ref, "/")+1:]
}

func jsonSchema(content openapi3.Content) *openapi3.SchemaRef {
	if mt := content.Get("application/json"); mt != nil {
		return mt.Schema
	}
	return nil
}

func listFrom(op *openapi3.Operation, params openapi3.Parameters, ps []param) (listOp, bool) {
	r := op.Responses.Status(200)
	if r == nil || r.Value == nil {
		return listOp{}, false
	}
	s := jsonSchema(r.Value.Content)
	if s == nil || s.Value == nil {
		return listOp{}, false
	}
	results := s.Value.Properties["results"]
	if results == nil || results.Value == nil || results.Value.Items == nil {
		return listOp{}, false
	}
	item := refName(results.Value.Items)
	if item == "" {
		return listOp{}, false
	}
	l := listOp{
		OperationID: op.OperationID,
		Helper:      strings.TrimPrefix(op.OperationID, "List"),
		Summary:     op.Summary,
		PathParams:  ps,
		ItemType:    goName(item),
		Exemptions:  exemptions(op),
	}
	if paging := s.Value.Properties["paging"]; paging != nil && paging.Value != nil {
		for _, prm := range params {
			if prm != nil && prm.Value != nil && prm.Value.In == "query" && prm.Value.Name == "after" {
				l.Paged = true
			}
		}
	}
	return l, true
}

func batchFrom(p string, op *openapi3.Operation, ps []param) (batchOp, bool, error) {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return batchOp{}, false, nil
	}
	body := jsonSchema(op.RequestBody.Value.Content)
	if body == nil || body.Value == nil {
		return batchOp{}, false, nil
	}
	inputs := body.Value.Properties["inputs"]
	if inputs == nil || inputs.Value == nil || !inputs.Value.Type.Is("array") || inputs.Value.Items == nil {
		return batchOp{}, false, nil
	}
	in := inputs.Value.Items
	if refName(in) == "" {
		return batchOp{}, false, fmt.Errorf("POST %s: batch inputs are not a named schema", p)
	}
	b := batchOp{
		OperationID: op.OperationID,
		Helper:      strings.TrimPrefix(op.OperationID, "Batch"),
		Summary:     op.Summary,
		Description: op.Description,
		Method:      http.MethodPost,
		Path:        p,
		PathParams:  ps,
		InputType:   goName(refName(in)),
		Exemptions:  exemptions(op),
	}
	// Creating is the one batch that is not safe to resend blindly.
	last := p[strings.LastIndex(p, "/")+1:]
	b.Idempotent = last != "create" && !strings.HasPrefix(op.OperationID, "BatchCreate")

	var result *openapi3.SchemaRef
	for _, code := range []int{200, 201} {
		if r := op.Responses.Status(code); r != nil && r.Value != nil {
			if s := jsonSchema(r.Value.Content); s != nil && s.Value != nil {
				if res := s.Value.Properties["results"]; res != nil && res.Value != nil && refName(res.Value.Items) != "" {
					result = res.Value.Items
					break
				}
			}
		}
	}
	inFields := fields(in.Value)
	keySet := map[string]bool{}
	for _, r := range in.Value.Required {
		keySet[r] = true
	}
	if result != nil {
		b.ResultType = goName(refName(result))
		common := map[string]bool{}
		for _, r := range result.Value.Required {
			if keySet[r] {
				common[r] = true
			}
		}
		keySet = common
	}
	for _, f := range inFields {
		if keySet[f.JSON] {
			b.Keys = append(b.Keys, f)
		}
		if f.Enum != "" || f.Minimum != nil {
			b.Checks = append(b.Checks, f)
		}
	}
	if len(b.Keys) == 0 {
		return batchOp{}, false, fmt.Errorf("POST %s: no required field common to %s and its result identifies an input", p, b.InputType)
	}
	if result != nil && result.Value != nil {
		b.Values = valuePairs(inFields, fields(result.Value), keySet)
	}
	return b, true, nil
}

// callFrom describes an operation answered with one value, or none.
func callFrom(method, p string, op *openapi3.Operation, ps []param) (callOp, error) {
	c := callOp{
		OperationID: op.OperationID,
		Summary:     op.Summary,
		Method:      method,
		Path:        p,
		PathParams:  ps,
		Idempotent:  method != http.MethodPost && method != http.MethodPatch,
		Exemptions:  exemptions(op),
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil {
			// The schema's own (curated) name when it has one; oapi-codegen's
			// <Op>JSONRequestBody is an alias of it.
			c.Body = op.OperationID + "JSONRequestBody"
			if ref := refName(mt.Schema); ref != "" {
				c.Body = goName(ref)
			}
		}
	}
	for _, code := range []int{200, 201} {
		r := op.Responses.Status(code)
		if r == nil || r.Value == nil {
			continue
		}
		s := jsonSchema(r.Value.Content)
		if s == nil {
			continue
		}
		ref := refName(s)
		if ref == "" {
			return callOp{}, fmt.Errorf("%s %s: the %d answer is not a named schema", method, p, code)
		}
		c.Result = goName(ref)
		if s.Value != nil {
			if results := s.Value.Properties["results"]; results != nil && results.Value != nil && results.Value.Items != nil {
				// A collection answer: its results (a paging cursor beside
				// them, as some versions declare, means nothing for one call).
				_, paged := s.Value.Properties["paging"]
				if item := refName(results.Value.Items); item != "" && (len(s.Value.Properties) == 1 || paged && len(s.Value.Properties) == 2) {
					c.ResultItem = goName(item)
				}
			}
		}
		break
	}
	return c, nil
}

// valuePairs pairs every non-key input field with the result field showing
// it; nil when one has none.
func valuePairs(in, out []field, keys map[string]bool) []valuePair {
	var pairs []valuePair
	for _, f := range in {
		if keys[f.JSON] {
			continue
		}
		var match *field
		for i := range out {
			if out[i].JSON == f.JSON {
				match = &out[i]
				break
			}
		}
		for i := range out {
			if match == nil && len(out[i].JSON) > len(f.JSON) &&
				strings.HasSuffix(strings.ToLower(out[i].JSON), strings.ToLower(f.JSON)) {
				match = &out[i]
			}
		}
		if match == nil {
			return nil
		}
		pairs = append(pairs, valuePair{In: f, Out: *match})
	}
	if pairs == nil {
		pairs = []valuePair{}
	}
	return pairs
}

// fields lists a schema's properties in name order, with the Go names
// oapi-codegen gives them.
func fields(s *openapi3.Schema) []field {
	req := map[string]bool{}
	for _, r := range s.Required {
		req[r] = true
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []field
	for _, n := range names {
		ps := s.Properties[n]
		f := field{JSON: n, Go: goName(n), Pointer: !req[n]}
		if ps.Ref != "" && ps.Value != nil && len(ps.Value.Enum) > 0 {
			f.Enum = goName(refName(ps))
		}
		if ps.Value != nil {
			f.Minimum = ps.Value.Min
			f.IsString = ps.Value.Type.Is("string")
			f.IsInt = ps.Value.Type.Is("integer")
		}
		out = append(out, f)
	}
	return out
}

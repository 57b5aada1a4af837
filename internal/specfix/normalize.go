package specfix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Error is a normalization failure at one place of one document.
type Error struct {
	File    string // the document's name, as given to Normalize
	Pointer string // JSON pointer into the document, "" for the whole
	Msg     string
}

func (e *Error) Error() string {
	p := e.Pointer
	if p == "" {
		p = "/"
	}
	return fmt.Sprintf("%s: %s: %s", e.File, p, e.Msg)
}

// Change records one modification made by a normalization step or rule.
type Change struct {
	Rule    string // step or rule name
	Pointer string // where
	What    string // what changed
}

func (c Change) String() string { return c.Rule + ": " + c.Pointer + ": " + c.What }

// Result is a normalized document plus an account of what was changed.
type Result struct {
	Output   []byte   // the normalized document, indented JSON, sorted keys
	Version  string   // info.version
	Changes  []Change // in the order they were made
	Warnings []string // operations named without a rule, and similar
	// Enums are, for each shared enum of the rules, the values the
	// document lists where the enum is used (sorted); absent when it lists
	// none (plain strings). The enum itself keeps the rules' values too.
	Enums map[string][]string
}

var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

// methodOrder fixes the order operations of one path are visited in.
var methodOrder = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// versionSegment matches the version segment of HubSpot paths: v4,
// 2026-03, 2026-09-beta.
var versionSegment = regexp.MustCompile(`^(v[0-9]+|[0-9]{4}-[0-9]{2}(-[a-z]+)?)$`)

const schemasPrefix = "#/components/schemas/"

type normalizer struct {
	file     string
	doc      map[string]any
	rules    *DocumentRules
	version  string          // the version kept from merged documents
	baseline map[string]bool // the published document's own validation problems
	changes  []Change
	warnings []string
	// enumValues are the values the document lists for each shared enum.
	enumValues map[string][]string
}

func (n *normalizer) errorf(ptr, format string, args ...any) error {
	return &Error{File: n.file, Pointer: ptr, Msg: fmt.Sprintf(format, args...)}
}

func (n *normalizer) changed(rule, ptr, format string, args ...any) {
	n.changes = append(n.changes, Change{Rule: rule, Pointer: ptr, What: fmt.Sprintf(format, args...)})
}

// Normalize normalizes the OpenAPI document raw. name names the document in
// errors. rules may be nil; the rule set applied is the one opts.API names,
// or else the one whose operations the document holds (never chosen by
// info.title, which HubSpot changes between revisions).
func Normalize(name string, raw []byte, rules *Rules, opts Options) (*Result, error) {
	n := &normalizer{file: name}
	if err := n.parse(raw); err != nil {
		return nil, err
	}
	info := obj(n.doc, "info")
	version, _ := info["version"].(string)
	n.version = opts.Version
	if n.version == "" {
		n.version = version
	}
	if err := n.selectRules(rules, opts.API); err != nil {
		return nil, err
	}
	steps := []func() error{
		n.danglingRefs,
		n.recordBaseline,
		n.mergedVersions,
		n.stripNoise,
		n.jsonErrorBodies,
		n.security,
		n.operationNames,
		n.batchResponses,
		n.errorShapes,
		n.enums,
		n.typeNames,
		n.edits,
		n.recursiveSchemas,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	out, err := marshal(n.doc)
	if err != nil {
		return nil, n.errorf("", "encoding: %v", err)
	}
	if err := n.validate(out); err != nil {
		return nil, err
	}
	return &Result{Output: out, Version: version, Changes: n.changes, Warnings: n.warnings, Enums: n.enumValues}, nil
}

func (n *normalizer) parse(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(raw, se.Offset)
			return n.errorf("", "invalid JSON at line %d, column %d: %v", line, col, err)
		}
		return n.errorf("", "invalid JSON: %v", err)
	}
	if dec.More() {
		return n.errorf("", "invalid JSON: data after the document")
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return n.errorf("", "not a JSON object")
	}
	ver, _ := doc["openapi"].(string)
	if !strings.HasPrefix(ver, "3.") {
		return n.errorf("/openapi", "want an OpenAPI 3.x document, got %v", doc["openapi"])
	}
	if _, ok := doc["info"].(map[string]any); !ok {
		return n.errorf("/info", "missing or not an object")
	}
	if v, ok := obj(doc, "info")["version"].(string); !ok || v == "" {
		return n.errorf("/info/version", "missing or not a string")
	}
	if _, ok := doc["paths"].(map[string]any); !ok {
		return n.errorf("/paths", "missing or not an object")
	}
	for _, p := range slices.Sorted(maps.Keys(obj(doc, "paths"))) {
		item, ok := obj(doc, "paths")[p].(map[string]any)
		if !ok {
			return n.errorf(pointer("paths", p), "not an object")
		}
		if err := checkTemplate(p); err != nil {
			return n.errorf(pointer("paths", p), "%v", err)
		}
		for m, op := range item {
			if httpMethods[m] {
				if _, ok := op.(map[string]any); !ok {
					return n.errorf(pointer("paths", p, m), "operation is not an object")
				}
			}
		}
	}
	if c, ok := doc["components"]; ok {
		if _, ok := c.(map[string]any); !ok {
			return n.errorf("/components", "not an object")
		}
		for _, k := range []string{"schemas", "responses", "securitySchemes", "parameters", "requestBodies"} {
			if v, ok := c.(map[string]any)[k]; ok {
				if _, ok := v.(map[string]any); !ok {
					return n.errorf(pointer("components", k), "not an object")
				}
			}
		}
	}
	n.doc = doc
	return nil
}

func position(data []byte, off int64) (line, col int) {
	// Offset counts the bytes read, including the offending one.
	off--
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func marshal(doc any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// nameMapKeys are keys whose value maps names to objects (not keywords).
var nameMapKeys = map[string]bool{
	"properties": true, "schemas": true, "paths": true, "responses": true,
	"parameters": true, "securitySchemes": true, "content": true, "headers": true,
	"examples": true, "requestBodies": true, "callbacks": true, "links": true,
	"variables": true, "scopes": true, "mapping": true, "encoding": true,
	"patternProperties": true, "definitions": true,
}

// literalKeys hold data, not OpenAPI structure.
var literalKeys = map[string]bool{"example": true, "default": true, "enum": true, "const": true, "required": true}

// walk visits every structural object of the document (not extension or
// literal values), calling fn with its pointer.
func walk(v any, ptr string, nameMap bool, fn func(m map[string]any, ptr string, nameMap bool)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x, ptr, nameMap)
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if !nameMap && (strings.HasPrefix(k, "x-") || literalKeys[k]) {
				continue
			}
			child := x[k]
			_, isMap := child.(map[string]any)
			// "parameters" of an operation is a list, of components a map.
			walk(child, ptr+pointer(k), !nameMap && nameMapKeys[k] && isMap, fn)
		}
	case []any:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s/%d", ptr, i), false, fn)
		}
	}
}

// stripNoise removes "example": null, empty descriptions and similar
// clutter, keeping every description.
func (n *normalizer) stripNoise() error {
	count := 0
	walk(n.doc, "", false, func(m map[string]any, ptr string, nameMap bool) {
		if nameMap {
			return
		}
		for _, k := range []string{"example", "default"} {
			if v, ok := m[k]; ok && v == nil {
				delete(m, k)
				count++
			}
		}
		if d, ok := m["description"].(string); ok && strings.TrimSpace(d) == "" {
			delete(m, "description")
			count++
		}
	})
	if count > 0 {
		n.changed("noise", "", "removed %d null examples and empty descriptions", count)
	}
	return nil
}

// jsonErrorBodies makes bodies declared with content type */* JSON, so
// oapi-codegen decodes them (HubSpot's error response is declared so).
func (n *normalizer) jsonErrorBodies() error {
	fix := func(content map[string]any, ptr string) {
		if content == nil {
			return
		}
		if v, ok := content["*/*"]; ok {
			if _, has := content["application/json"]; !has {
				content["application/json"] = v
				n.changed("json-bodies", ptr, "content type */* declared as application/json")
			}
			delete(content, "*/*")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(obj(obj(n.doc, "components"), "responses"))) {
		r := obj(obj(obj(n.doc, "components"), "responses"), name)
		fix(obj(r, "content"), pointer("components", "responses", name, "content"))
	}
	n.eachOperation(func(p, m string, op map[string]any) error {
		for _, code := range slices.Sorted(maps.Keys(obj(op, "responses"))) {
			r := obj(obj(op, "responses"), code)
			fix(obj(r, "content"), pointer("paths", p, m, "responses", code, "content"))
		}
		fix(obj(obj(op, "requestBody"), "content"), pointer("paths", p, m, "requestBody", "content"))
		return nil
	})
	return nil
}

// BearerScheme is the one security scheme a normalized document declares.
const BearerScheme = "hubspot_token"

// security replaces HubSpot's OR-ed lists of scopes (some referring to
// schemes the document never declares) by the bearer token a client
// really sends: a private app access token or an OAuth access token.
func (n *normalizer) security() error {
	dropped := 0
	n.eachOperation(func(p, m string, op map[string]any) error {
		if s, ok := op["security"].([]any); ok {
			dropped += len(s)
		}
		delete(op, "security")
		return nil
	})
	want := map[string]any{
		BearerScheme: map[string]any{
			"type":        "http",
			"scheme":      "bearer",
			"description": "A private app access token or an OAuth access token, sent as Authorization: Bearer <token>.",
		},
	}
	comps := ensureObj(n.doc, "components")
	if !reflect.DeepEqual(comps["securitySchemes"], want) {
		comps["securitySchemes"] = want
		n.changed("security", "/components/securitySchemes", "declared only the bearer token scheme %s", BearerScheme)
	}
	global := []any{map[string]any{BearerScheme: []any{}}}
	if !reflect.DeepEqual(n.doc["security"], global) {
		n.doc["security"] = global
		n.changed("security", "/security", "one requirement: %s", BearerScheme)
	}
	if dropped > 0 {
		n.changed("security", "/paths", "dropped %d per-operation scope requirements", dropped)
	}
	return nil
}

// eachOperation calls fn for every operation in sorted path and fixed
// method order.
func (n *normalizer) eachOperation(fn func(path, method string, op map[string]any) error) error {
	paths := obj(n.doc, "paths")
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		item := obj(paths, p)
		for _, m := range methodOrder {
			if op := obj(item, m); op != nil {
				if err := fn(p, m, op); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// VersionFreePath replaces the first version segment of p (v4, 2026-03,
// 2026-09-beta) with {version}.
func VersionFreePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if versionSegment.MatchString(s) {
			segs[i] = "{version}"
			break
		}
	}
	return strings.Join(segs, "/")
}

// DeriveName gives an operation without a rule a short deterministic name
// from its method and version-free path: the method, the fixed segments
// after the version, and "By<Param>" when the path ends in a parameter.
// full also appends every parameter, to break ties.
func DeriveName(method, versionFree string, full bool) string {
	segs := strings.Split(strings.Trim(versionFree, "/"), "/")
	if i := slices.Index(segs, "{version}"); i >= 0 {
		segs = segs[i+1:]
	}
	return nameFrom(method, segs, full)
}

// nameFrom builds a derived name from path segments.
func nameFrom(method string, segs []string, full bool) string {
	var b strings.Builder
	b.WriteString(camel(method))
	var params []string
	for _, s := range segs {
		if isParam(s) {
			params = append(params, strings.Trim(s, "{}"))
			continue
		}
		b.WriteString(camel(s))
	}
	switch {
	case full:
		for i, p := range params {
			if i == 0 {
				b.WriteString("By")
			} else {
				b.WriteString("And")
			}
			b.WriteString(camel(p))
		}
	case len(segs) > 0 && isParam(segs[len(segs)-1]):
		b.WriteString("By" + camel(params[len(params)-1]))
	}
	return b.String()
}

// camel turns "high-usage_report" into "HighUsageReport".
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r == '-' || r == '_' || r == '.' || r == ' ':
			up = true
		case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			if up && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		}
	}
	return b.String()
}

type opRef struct {
	path, method, free string
	op                 map[string]any
}

// derivedNameLevels is how many ways deriveName has to name an operation,
// each longer than the one before.
const derivedNameLevels = 4

// deriveName names an operation without a rule at a level of detail:
// 0: method, fixed segments after the API's base and By<last parameter>;
// 1: every parameter; 2: every fixed segment of the path (the base too);
// 3: also a hash of the method and path. Each level depends only on the
// operation, so names never depend on the order operations appear in.
func (n *normalizer) deriveName(o opRef, level int) string {
	segs := strings.Split(strings.Trim(o.path, "/"), "/")
	if i := slices.IndexFunc(segs, versionSegment.MatchString); i >= 0 {
		rest := slices.Delete(slices.Clone(segs), i, i+1)
		base := n.base()
		switch {
		case level >= 2:
			segs = rest
		case len(base) > 0 && len(rest) > len(base) && slices.Equal(rest[:len(base)], base):
			segs = rest[len(base):] // /crm/v4/associations/X and /crm/associations/v4/X alike
		default:
			segs = segs[i+1:]
		}
	}
	name := nameFrom(o.method, segs, level >= 1)
	if level >= 3 {
		h := fnv.New32a()
		h.Write([]byte(o.method + " " + o.path))
		name += fmt.Sprintf("X%08x", h.Sum32())
	}
	return name
}

// base is the fixed path prefix of the rules' operations (the segments
// before {version}, e.g. crm, associations), nil when the rules do not
// agree on one.
func (n *normalizer) base() []string {
	if n.rules == nil || len(n.rules.Operations) == 0 {
		return nil
	}
	var base []string
	for i, r := range n.rules.Operations {
		segs := strings.Split(strings.Trim(r.Path, "/"), "/")
		v := slices.Index(segs, "{version}")
		if v < 0 {
			return nil
		}
		if i == 0 {
			base = segs[:v]
		} else if !slices.Equal(base, segs[:v]) {
			return nil
		}
	}
	return base
}

// operationNames gives every operation its stable name: the rule's, or a
// derived one that is unique in the document.
func (n *normalizer) operationNames() error {
	var ops []opRef
	n.eachOperation(func(p, m string, op map[string]any) error {
		ops = append(ops, opRef{p, m, VersionFreePath(p), op})
		return nil
	})
	names := make([]string, len(ops))
	ruled := make([]bool, len(ops))
	if n.rules != nil {
		var missing []string
		for _, r := range n.rules.Operations {
			found := -1
			for i, o := range ops {
				if opKey(o.method, o.path) != opKey(r.Method, r.Path) {
					continue
				}
				if found >= 0 {
					return n.errorf(pointer("paths", o.path, o.method), "operation rule %q matches both %s %s and %s %s", r.Name, strings.ToUpper(ops[found].method), ops[found].path, strings.ToUpper(o.method), o.path)
				}
				found = i
				names[i], ruled[i] = r.Name, true
			}
			if found < 0 && !r.Optional {
				missing = append(missing, fmt.Sprintf("%s (%s %s)", r.Name, strings.ToUpper(r.Method), r.Path))
			}
		}
		if len(missing) > 0 {
			return n.errorf("/paths", "API %s: %d operations the rules name are missing (with any version segment): %s", n.rules.API, len(missing), strings.Join(missing, ", "))
		}
	}
	clash := n.typeClash()
	level := make([]int, len(ops))
	for {
		count := map[string]int{}
		for i, o := range ops {
			if !ruled[i] {
				names[i] = n.deriveName(o, level[i])
			}
			count[names[i]]++
		}
		escalated := false
		for i := range ops {
			if !ruled[i] && (count[names[i]] > 1 || clash(names[i]) != "") && level[i] < derivedNameLevels-1 {
				level[i]++
				escalated = true
			}
		}
		if !escalated {
			break
		}
	}
	seen := map[string]int{}
	for i, o := range ops {
		if schema := clash(names[i]); schema != "" {
			return n.errorf(pointer("paths", o.path, o.method), "operation name %s: oapi-codegen would declare a type for it that schema %s already is", names[i], schema)
		}
		if j, dup := seen[names[i]]; dup {
			return n.errorf(pointer("paths", o.path, o.method), "operation name %s is also given to %s %s", names[i], strings.ToUpper(ops[j].method), ops[j].path)
		}
		seen[names[i]] = i
		if !ruled[i] {
			n.warnings = append(n.warnings, fmt.Sprintf("%s: no rule names %s %s; using %s", n.file, strings.ToUpper(o.method), o.free, names[i]))
		}
		if o.op["operationId"] != names[i] {
			n.changed("operation-names", pointer("paths", o.path, o.method, "operationId"), "%v -> %s", o.op["operationId"], names[i])
			o.op["operationId"] = names[i]
		}
		if ruled[i] {
			if _, ok := o.op[derivedMark]; ok {
				delete(o.op, derivedMark)
				n.changed("operation-names", pointer("paths", o.path, o.method, derivedMark), "removed: named by a rule")
			}
		} else if o.op[derivedMark] != true {
			o.op[derivedMark] = true
			n.changed("operation-names", pointer("paths", o.path, o.method, derivedMark), "set: the name is derived, not curated")
		}
	}
	return nil
}

// typeClash returns a function telling which schema, if any, has the Go
// type name oapi-codegen derives from an operation name (Name+"Params",
// Name+"Response", Name+"JSONBody", Name+"JSONRequestBody", ...): two
// declarations of one type would not build.
func (n *normalizer) typeClash() func(name string) string {
	goNames := map[string]string{}
	for s := range obj(obj(n.doc, "components"), "schemas") {
		goNames[goTypeName(s)] = s
	}
	return func(name string) string {
		for g, s := range goNames {
			rest, ok := strings.CutPrefix(g, name)
			if !ok {
				continue
			}
			if rest == "Params" || rest == "Response" || strings.HasSuffix(rest, "Body") {
				return s
			}
		}
		return ""
	}
}

// goTypeName approximates oapi-codegen's type name for a schema name:
// letters and digits, each word capitalized.
func goTypeName(schema string) string {
	var b strings.Builder
	up := true
	for _, r := range schema {
		switch {
		case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			if up && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

// derivedMark marks operations whose name no rule gives: the generator
// writes helpers only for curated operations.
const derivedMark = "x-specfix-derived-name"

func refName(v any) string {
	m, _ := v.(map[string]any)
	ref, _ := m["$ref"].(string)
	if strings.HasPrefix(ref, schemasPrefix) {
		return strings.TrimPrefix(ref, schemasPrefix)
	}
	return ""
}

func schemaRef(name string) map[string]any { return map[string]any{"$ref": schemasPrefix + name} }

func (n *normalizer) schemas() map[string]any {
	return ensureObj(ensureObj(n.doc, "components"), "schemas")
}

// resolve follows a local schema reference.
func (n *normalizer) resolve(s map[string]any) map[string]any {
	for i := 0; i < 8 && s != nil; i++ {
		name := refName(s)
		if name == "" {
			return s
		}
		s = obj(n.schemas(), name)
	}
	return s
}

func jsonSchema(resp map[string]any) map[string]any {
	return obj(obj(obj(resp, "content"), "application/json"), "schema")
}

// isBatchInput reports whether an operation's body is a BatchInput: an
// object with an "inputs" array.
func (n *normalizer) isBatchInput(op map[string]any) bool {
	body := n.resolve(jsonSchema(obj(op, "requestBody")))
	inputs := obj(obj(body, "properties"), "inputs")
	return inputs != nil && inputs["type"] == "array"
}

// batchVoid is the response schema of batch operations without results.
const batchVoid = "BatchResponseVoid"

// batchResponses gives batch operations the same status codes in every
// version: 200 and 201 with the batch response, 207 with its WithErrors
// form; or, for batches without per-input results, 200 and 207 with
// BatchResponseVoid and 204.
func (n *normalizer) batchResponses() error {
	return n.eachOperation(func(p, m string, op map[string]any) error {
		if m != "post" || !n.isBatchInput(op) {
			return nil
		}
		resps := obj(op, "responses")
		if resps == nil {
			return n.errorf(pointer("paths", p, m, "responses"), "missing")
		}
		success := ""
		for _, code := range []string{"200", "201", "202"} {
			if name := refName(jsonSchema(obj(resps, code))); name != "" {
				success = name
				break
			}
		}
		if results := n.ruledResults(op); results != "" {
			var err error
			if success, err = n.ruledBatchResponse(results, success, pointer("paths", p, m)); err != nil {
				return err
			}
		}
		// Typed: the results are a named schema with properties (2024's
		// documents give void batches results of an undefined "Void").
		item := refName(obj(obj(obj(n.schemas(), success), "properties"), "results")["items"])
		typed := success != "" && item != "" && obj(obj(n.schemas(), item), "properties") != nil
		if !typed {
			if err := n.ensureVoid(success, pointer("paths", p, m, "responses")); err != nil {
				return err
			}
		}
		withErrors := n.schemaNamed(n.hubSpotName(success) + "WithErrors")
		inputError := n.inputErrorSchema()
		if !typed {
			success = n.schemaNamed(batchVoid)
			withErrors = success
		} else if obj(n.schemas(), withErrors) == nil {
			if kind := n.notObject(withErrors); kind != "" {
				return n.errorf(pointer("components", "schemas", withErrors), "batch response of %v: schema %s is %s, not a schema object", op["operationId"], withErrors, kind)
			}
			if obj(n.schemas(), inputError) == nil {
				withErrors = ""
			} else {
				s := deepCopy(obj(n.schemas(), success)).(map[string]any)
				props := ensureObj(s, "properties")
				props["errors"] = map[string]any{"type": "array", "items": schemaRef(inputError)}
				props["numErrors"] = map[string]any{"type": "integer", "format": "int32"}
				n.schemas()[withErrors] = s
				n.changed("batch-responses", pointer("components", "schemas", withErrors), "added: %s with errors and numErrors, for 207 Multi-Status", success)
			}
		}
		want := map[string]any{}
		jsonResp := func(desc, schema string) map[string]any {
			return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schemaRef(schema)}}}
		}
		want["200"] = jsonResp("successful operation", success)
		if typed {
			want["201"] = jsonResp("successful operation", success)
		} else {
			want["204"] = map[string]any{"description": "No content"}
		}
		if withErrors != "" {
			want["207"] = jsonResp("multiple statuses", withErrors)
		}
		for _, code := range slices.Sorted(maps.Keys(resps)) {
			if len(code) == 3 && code[0] == '2' {
				if _, keep := want[code]; !keep {
					delete(resps, code)
					n.changed("batch-responses", pointer("paths", p, m, "responses", code), "removed")
				}
			}
		}
		for _, code := range slices.Sorted(maps.Keys(want)) {
			cur := obj(resps, code)
			if cur != nil && refName(jsonSchema(cur)) == refName(jsonSchema(want[code].(map[string]any))) && (jsonSchema(cur) != nil) == (jsonSchema(want[code].(map[string]any)) != nil) {
				continue
			}
			resps[code] = want[code]
			n.changed("batch-responses", pointer("paths", p, m, "responses", code), "declared %s", describeResp(want[code].(map[string]any)))
		}
		return nil
	})
}

// schemaNamed returns the name of the schema HubSpot calls hub: hub
// itself, or the curated name a type rule gave it in a normalized document
// (x-hubspot-schema). hub when there is neither.
func (n *normalizer) schemaNamed(hub string) string {
	schemas := n.schemas()
	if obj(schemas, hub) != nil {
		return hub
	}
	for _, k := range slices.Sorted(maps.Keys(schemas)) {
		if obj(schemas, k)[HubSpotSchemaExt] == hub {
			return k
		}
	}
	return hub
}

// hubSpotName is HubSpot's name of the schema called name.
func (n *normalizer) hubSpotName(name string) string {
	if h, ok := obj(n.schemas(), name)[HubSpotSchemaExt].(string); ok && h != "" {
		return h
	}
	return name
}

// ruledResults is the results schema the rules give the operation op.
func (n *normalizer) ruledResults(op map[string]any) string {
	if n.rules == nil {
		return ""
	}
	for _, r := range n.rules.Operations {
		if r.Name == op["operationId"] && r.Results != "" {
			return r.Results
		}
	}
	return ""
}

// ruledBatchResponse returns the batch response whose results are the
// rules' results type (curated: a type rule's name), current being the
// response the operation declares. The results schema is the one the type
// rule finds in the document (whatever HubSpot calls it), else the rules'
// schema of that name, declared; the batch response is current when its
// results are that schema, else the one the document defines for it,
// else declared.
func (n *normalizer) ruledBatchResponse(results, current, ptr string) (string, error) {
	hub := n.typeRuleSchema(results)
	if hub == "" {
		if kind := n.notObject(results); kind != "" {
			return "", n.errorf(pointer("components", "schemas", results), "operation rule results %s: schema %s is %s, not a schema object", results, results, kind)
		}
		var def json.RawMessage
		for _, sr := range n.rules.Schemas {
			if sr.Name == results {
				def = sr.Schema
			}
		}
		if def == nil {
			return "", n.errorf(ptr, "operation rule results %s: no place of type rule %s holds a schema with properties, and the rules define no schema %s", results, results, results)
		}
		dec := json.NewDecoder(bytes.NewReader(def))
		dec.UseNumber()
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			return "", n.errorf(ptr, "schema rule %s: %v", results, err)
		}
		n.schemas()[results] = v
		n.changed("schema "+results, pointer("components", "schemas", results), "declared from the rules (the document lacks it)")
		hub = results
	}
	if current != "" && refName(obj(obj(obj(n.schemas(), current), "properties"), "results")["items"]) == hub {
		return current, nil
	}
	name := n.schemaNamed("BatchResponse" + n.hubSpotName(hub))
	if kind := n.notObject(name); kind != "" {
		return "", n.errorf(pointer("components", "schemas", name), "operation rule results %s: schema %s is %s, not a schema object", results, name, kind)
	}
	if obj(n.schemas(), name) == nil {
		s := batchResponseSchema()
		obj(s, "properties")["results"] = map[string]any{"type": "array", "items": schemaRef(hub)}
		n.schemas()[name] = s
		n.changed("schema "+results, pointer("components", "schemas", name), "declared: the batch answers %s results", hub)
	}
	return name, nil
}

// typeRuleSchema is the schema the type rule name finds at the first of
// its places that holds a referenced schema with properties; "" when none
// does (a revision whose batch declares no results).
func (n *normalizer) typeRuleSchema(name string) string {
	for _, tr := range n.rules.Types {
		if tr.Name != name {
			continue
		}
		for _, place := range tr.From {
			holder, key, err := n.findPlace(place)
			if err != nil {
				continue
			}
			if s := refName(obj(holder, key)); s != "" && obj(obj(n.schemas(), s), "properties") != nil {
				return s
			}
		}
	}
	return ""
}

func describeResp(r map[string]any) string {
	if name := refName(jsonSchema(r)); name != "" {
		return name
	}
	return "no content"
}

// ensureVoid makes sure BatchResponseVoid exists, deriving it from the
// untyped batch response from when the document has none.
func (n *normalizer) ensureVoid(from, ptr string) error {
	voidName, inputError := n.schemaNamed(batchVoid), n.inputErrorSchema()
	if v := obj(n.schemas(), voidName); v != nil {
		// Results of an undefined or empty "Void" are results of nothing.
		results := obj(obj(v, "properties"), "results")
		if item := refName(obj(results, "items")); item != "" && obj(obj(n.schemas(), item), "properties") == nil {
			results["items"] = map[string]any{}
			n.changed("batch-responses", pointer("components", "schemas", voidName, "properties", "results", "items"), "any value (was %s, which has no properties)", item)
		}
		// It answers 207 too: the per-input errors, as in every version.
		if props := ensureObj(v, "properties"); props["errors"] == nil && obj(n.schemas(), inputError) != nil {
			props["errors"] = map[string]any{"type": "array", "items": schemaRef(inputError)}
			props["numErrors"] = map[string]any{"type": "integer", "format": "int32"}
			n.changed("batch-responses", pointer("components", "schemas", voidName, "properties", "errors"), "added errors and numErrors, for 207 Multi-Status")
		}
		return nil
	}
	if kind := n.notObject(voidName); kind != "" {
		return n.errorf(pointer("components", "schemas", voidName), "batch responses: schema %s is %s, not a schema object", voidName, kind)
	}
	var s map[string]any
	if from != "" {
		s = deepCopy(obj(n.schemas(), from)).(map[string]any)
	} else {
		s = batchResponseSchema()
		// Take the status enum from another batch response, if any.
		for _, name := range slices.Sorted(maps.Keys(n.schemas())) {
			if st := obj(obj(obj(n.schemas(), name), "properties"), "status"); strings.HasPrefix(name, "BatchResponse") && st != nil {
				obj(s, "properties")["status"] = deepCopy(st)
				break
			}
		}
	}
	props := ensureObj(s, "properties")
	props["results"] = map[string]any{"type": "array", "items": map[string]any{}}
	if obj(n.schemas(), inputError) != nil {
		props["errors"] = map[string]any{"type": "array", "items": schemaRef(inputError)}
	}
	props["numErrors"] = map[string]any{"type": "integer", "format": "int32"}
	n.schemas()[batchVoid] = s
	src := from
	if src == "" {
		src = "nothing (no content)"
	}
	n.changed("batch-responses", pointer("components", "schemas", voidName), "added, derived from %s", src)
	return nil
}

// notObject describes the schema called name when the document has one
// that is not a JSON object (see schemaKind); "" when it is one, or when
// there is none.
func (n *normalizer) notObject(name string) string {
	v, ok := n.schemas()[name]
	if !ok {
		return ""
	}
	return schemaKind(v)
}

// batchResponseSchema returns the shape HubSpot's batch responses share
// (status and timestamps, no results yet), for a response the document
// lacks.
func batchResponseSchema() map[string]any {
	return map[string]any{
		"type":     "object",
		"required": []any{"completedAt", "results", "startedAt", "status"},
		"properties": map[string]any{
			"completedAt": map[string]any{"type": "string", "format": "date-time"},
			"startedAt":   map[string]any{"type": "string", "format": "date-time"},
			"requestedAt": map[string]any{"type": "string", "format": "date-time"},
			"status":      map[string]any{"type": "string"},
			"links":       map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
		},
	}
}

func deepCopy(v any) any { return copyWithout(v, nil) }

// copyWithout copies v deeply, leaving out the object members for which
// skip (if not nil) is true.
func copyWithout(v any, skip func(key string, value any) bool) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if skip == nil || !skip(k, e) {
				m[k] = copyWithout(e, skip)
			}
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = copyWithout(e, skip)
		}
		return s
	default:
		return v
	}
}

// EnumConstName is the Go constant name of an enum value: the type name
// followed by the value in CamelCase (USER_DEFINED -> UserDefined).
func EnumConstName(typeName, value string) string {
	return typeName + camel(strings.ToLower(value))
}

// enums applies the enum rules. A shared enum is recognized by where it
// is used, not by its values alone: the rule's places (From), the
// properties it describes by shape (Properties), then every string enum
// whose values are among the ones found so far. Values HubSpot adds at
// those places become values (Go constants) of the same enum, after the
// rule's own, with a change line; the rule's values are always kept, so a
// value a revision no longer lists keeps its constant, and Result.Enums
// says which values the document lists for the change report.
func (n *normalizer) enums() error {
	if n.rules == nil {
		return nil
	}
	for _, r := range n.rules.Enums {
		rule := "enum " + r.Name
		enumPtr := pointer("components", "schemas", r.Name)
		known := map[string]bool{}
		for _, v := range r.Values {
			known[v] = true
		}
		published := map[string]bool{} // the values the document lists
		publish := func(ev []any) {
			for _, v := range ev {
				if s, ok := v.(string); ok && s != "" {
					published[s] = true
				}
			}
		}
		if cur := obj(n.schemas(), r.Name); cur != nil && cur["x-enum-varnames"] != nil {
			ev, _ := cur["enum"].([]any)
			publish(ev) // a normalized document: the enum is already ours
		}
		minMatch := min(2, len(r.Values))
		ours := func(ev []any) int { // how many of ev are values of the enum so far
			count := 0
			for _, v := range ev {
				if s, ok := v.(string); ok && (known[s] || published[s]) {
					count++
				}
			}
			return count
		}
		type hit struct {
			parent map[string]any
			key    string
			ptr    string
		}
		var hits []hit
		seen := map[string]bool{}
		addHit := func(h hit) {
			if !seen[h.ptr] {
				seen[h.ptr] = true
				hits = append(hits, h)
			}
		}
		// 1. Where the rule says the enum is used.
		for _, place := range r.From {
			holder, key, err := n.findPlace(place)
			if err != nil {
				if r.Optional {
					continue
				}
				return n.errorf("/paths", "enum rule %s: %s: %v", r.Name, place, err)
			}
			child := obj(holder, key)
			if refName(child) == r.Name {
				continue
			}
			if child["type"] != "string" {
				return n.errorf("/paths", "enum rule %s: %s is %v, not a string", r.Name, place, orAny(child["type"]))
			}
			ev, _ := child["enum"].([]any)
			publish(ev)
			addHit(hit{holder, key, place})
		}
		// 2. Properties the rule names by shape, with or without an enum:
		// an enum sharing values with this one is this one, with values
		// added or left out; an enum sharing none is someone else's.
		walk(n.doc, "", false, func(m map[string]any, ptr string, nameMap bool) {
			if nameMap {
				return
			}
			props := obj(m, "properties")
			for _, pm := range r.Properties {
				child := obj(props, pm.Name)
				if child == nil || props[pm.With] == nil || child["type"] != "string" {
					continue
				}
				if ev, ok := child["enum"].([]any); ok {
					if n := ours(ev); n < minMatch && n < len(ev) {
						continue
					}
					publish(ev)
				}
				addHit(hit{props, pm.Name, ptr + pointer("properties", pm.Name)})
			}
		})
		// 3. Every other string enum whose values are all this enum's.
		walk(n.doc, "", false, func(m map[string]any, ptr string, nameMap bool) {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if !nameMap && (strings.HasPrefix(k, "x-") || literalKeys[k]) {
					continue
				}
				child, ok := m[k].(map[string]any)
				if !ok || child["type"] != "string" || ptr+pointer(k) == enumPtr {
					continue
				}
				ev, ok := child["enum"].([]any)
				if ok && len(ev) >= minMatch && ours(ev) == len(ev) {
					addHit(hit{m, k, ptr + pointer(k)})
				}
			}
		})
		added := slices.Sorted(func(yield func(string) bool) {
			for v := range published {
				if !known[v] && !yield(v) {
					return
				}
			}
		})
		all := append(slices.Clone(r.Values), added...)
		values := make([]any, len(all))
		varnames := make([]any, len(all))
		for i, v := range all {
			values[i], varnames[i] = v, EnumConstName(r.Name, v)
		}
		want := map[string]any{"type": "string", "enum": values, "x-enum-varnames": varnames}
		if r.Description != "" {
			want["description"] = r.Description
		}
		if !reflect.DeepEqual(n.schemas()[r.Name], want) {
			n.schemas()[r.Name] = want
			n.changed(rule, enumPtr, "declared with values %s", strings.Join(all, ", "))
			for _, v := range added {
				n.changed(rule, enumPtr, "value %s added: the document lists it, the rules do not (constant %s)", v, EnumConstName(r.Name, v))
			}
		}
		if len(published) > 0 {
			if n.enumValues == nil {
				n.enumValues = map[string][]string{}
			}
			n.enumValues[r.Name] = slices.Sorted(maps.Keys(published))
		}
		for _, h := range hits {
			child, _ := h.parent[h.key].(map[string]any)
			if child == nil || refName(child) == r.Name {
				continue
			}
			what := "string enum"
			if _, ok := child["enum"]; !ok {
				what = "plain string"
			}
			h.parent[h.key] = refWithDescription(child, r.Name)
			n.changed(rule, h.ptr, "%s -> %s", what, r.Name)
		}
		for _, p := range r.Also {
			v, ok := lookup(n.doc, p)
			m, isObj := v.(map[string]any)
			if !ok || !isObj {
				if r.Optional {
					continue
				}
				return n.errorf(p, "enum rule %s: target vanished", r.Name)
			}
			if refName(m) == r.Name {
				continue
			}
			if m["type"] != "string" {
				return n.errorf(p, "enum rule %s: target is %v, not a string", r.Name, m["type"])
			}
			toks, _ := splitPointer(p)
			parent, _ := lookup(n.doc, pointer(toks[:len(toks)-1]...))
			parent.(map[string]any)[toks[len(toks)-1]] = refWithDescription(m, r.Name)
			n.changed(rule, p, "plain string -> %s", r.Name)
		}
	}
	return nil
}

func orAny(v any) any {
	if v == nil {
		return "untyped"
	}
	return v
}

// refWithDescription replaces a schema by a reference to name, keeping the
// property's own description.
func refWithDescription(s map[string]any, name string) map[string]any {
	r := schemaRef(name)
	if d, ok := s["description"].(string); ok && d != "" {
		r["description"] = d
	}
	return r
}

// edits applies the edit rules.
func (n *normalizer) edits() error {
	if n.rules == nil {
		return nil
	}
	for _, e := range n.rules.Edits {
		toks, _ := splitPointer(e.Pointer)
		parent, ok := lookup(n.doc, pointer(toks[:len(toks)-1]...))
		pm, isObj := parent.(map[string]any)
		if !ok || !isObj {
			if e.Optional {
				continue
			}
			return n.errorf(e.Pointer, "edit rule %q: target vanished", e.Name)
		}
		dec := json.NewDecoder(bytes.NewReader(e.Value))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return n.errorf(e.Pointer, "edit rule %q: %v", e.Name, err)
		}
		key := toks[len(toks)-1]
		if reflect.DeepEqual(pm[key], v) {
			continue
		}
		pm[key] = v
		n.changed("edit "+e.Name, e.Pointer, "set to %s", bytes.TrimSpace(e.Value))
	}
	return nil
}

// Runtime names the hand-written package that generated code may use.
const (
	RuntimeImport      = "github.com/crmkit/hubspot-associations/hubspot"
	ErrorContextGoType = "hubspot.ErrorContext"
)

// errorSchemas are the names HubSpot has given its error shapes so far;
// errorShapes finds them by their role first (errorRoleSchemas), and by
// these names only in documents that declare them without using them.
var errorSchemas = []string{"Error", "ErrorDetail", "StandardError"}

// errorRoleSchemas names the schemas that describe errors by their role,
// whatever HubSpot calls them: the bodies of the default, 4xx and 5xx
// responses of every operation (and of components.responses), the items
// of the "errors" of 207 Multi-Status bodies, and the schemas those refer
// to; then the errorSchemas the document has. Sorted.
func (n *normalizer) errorRoleSchemas() []string {
	found := map[string]bool{}
	var queue []string
	add := func(name string) {
		if name != "" && !found[name] && obj(n.schemas(), name) != nil {
			found[name] = true
			queue = append(queue, name)
		}
	}
	isError := func(code string) bool { return code == "default" || code[0] == '4' || code[0] == '5' }
	visit := func(resps map[string]any) {
		for _, code := range slices.Sorted(maps.Keys(resps)) {
			body := n.resolve(jsonSchema(n.resolveComponent(obj(resps, code), "responses")))
			switch {
			case code == "":
			case isError(code):
				add(refName(jsonSchema(n.resolveComponent(obj(resps, code), "responses"))))
			case code == "207":
				add(refName(obj(obj(obj(body, "properties"), "errors"), "items")))
			}
		}
	}
	n.eachOperation(func(_, _ string, op map[string]any) error {
		visit(obj(op, "responses"))
		return nil
	})
	for _, name := range slices.Sorted(maps.Keys(obj(obj(n.doc, "components"), "responses"))) {
		add(refName(jsonSchema(obj(obj(obj(n.doc, "components"), "responses"), name))))
	}
	for _, name := range errorSchemas {
		add(name)
	}
	for len(queue) > 0 {
		s := obj(n.schemas(), queue[0])
		queue = queue[1:]
		props := obj(s, "properties")
		for _, k := range slices.Sorted(maps.Keys(props)) {
			p := obj(props, k)
			add(refName(p))
			add(refName(obj(p, "items")))
		}
	}
	return slices.Sorted(maps.Keys(found))
}

// inputErrorSchema is the schema of one input's error in a batch answer:
// the items of "errors" in a 207 body the document declares, else the
// schema HubSpot has so far called StandardError.
func (n *normalizer) inputErrorSchema() string {
	name := ""
	n.eachOperation(func(_, _ string, op map[string]any) error {
		if name == "" {
			body := n.resolve(jsonSchema(n.resolveComponent(obj(obj(op, "responses"), "207"), "responses")))
			if item := refName(obj(obj(obj(body, "properties"), "errors"), "items")); obj(n.schemas(), item) != nil {
				name = item
			}
		}
		return nil
	})
	if name == "" {
		name = n.schemaNamed("StandardError")
	}
	return name
}

// errorShapes makes error bodies decode whatever form HubSpot sends:
// "context" is an object of string arrays or, as HubSpot documents it, a
// Java-style string ("{missingScopes=[a, b]}"), so it gets the runtime's
// ErrorContext type; an object-typed "subCategory" also arrives as a
// string, so it accepts any value; and correlationId is a plain string, so
// an id that is not a UUID never makes the error body undecodable.
func (n *normalizer) errorShapes() error {
	for _, name := range n.errorRoleSchemas() {
		props := obj(obj(n.schemas(), name), "properties")
		if c := obj(props, "context"); c != nil && c["x-go-type"] != ErrorContextGoType {
			c["x-go-type"] = ErrorContextGoType
			c["x-go-type-import"] = map[string]any{"path": RuntimeImport}
			c["x-go-type-skip-optional-pointer"] = true
			n.changed("error-shapes", pointer("components", "schemas", name, "properties", "context"), "decoded by %s (object or Java-style string)", ErrorContextGoType)
		}
		if id := obj(props, "correlationId"); id != nil && id["format"] != nil {
			format := id["format"]
			delete(id, "format")
			n.changed("error-shapes", pointer("components", "schemas", name, "properties", "correlationId"), "plain string (format %v dropped: a malformed id must not hide the error)", format)
		}
		if sc := obj(props, "subCategory"); sc != nil && sc["type"] == "object" {
			delete(sc, "type")
			delete(sc, "properties")
			n.changed("error-shapes", pointer("components", "schemas", name, "properties", "subCategory"), "accepts any value (HubSpot sends strings too)")
		}
	}
	return nil
}

// recursiveSchemas makes optional every required property that holds, by
// a plain reference, a schema containing the property's own schema again
// through required references (a schema that contains itself, directly or
// through others): oapi-codegen writes required properties as values, and
// a Go struct cannot contain itself. Optional, the field is a pointer.
// Edges are examined in sorted order and one is dropped per cycle, so the
// result does not depend on the document's key order.
func (n *normalizer) recursiveSchemas() error {
	schemas := n.schemas()
	// requiredRefs[x] are the schemas x holds by value: required
	// properties that are a $ref to a schema.
	requiredRefs := func(x string) []string {
		s := obj(schemas, x)
		props := obj(s, "properties")
		req, _ := s["required"].([]any)
		var out []string
		for _, r := range req {
			if name, ok := r.(string); ok {
				if to := refName(obj(props, name)); to != "" && obj(schemas, to) != nil {
					out = append(out, to)
				}
			}
		}
		return out
	}
	reaches := func(from, to string) bool {
		seen := map[string]bool{}
		stack := []string{from}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if x == to {
				return true
			}
			if seen[x] {
				continue
			}
			seen[x] = true
			stack = append(stack, requiredRefs(x)...)
		}
		return false
	}
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		s := obj(schemas, name)
		props := obj(s, "properties")
		req, _ := s["required"].([]any)
		if len(req) == 0 || props == nil {
			continue
		}
		names := make([]string, 0, len(req))
		for _, r := range req {
			if p, ok := r.(string); ok {
				names = append(names, p)
			}
		}
		slices.Sort(names)
		for _, p := range slices.Compact(names) {
			to := refName(obj(props, p))
			if to == "" || obj(schemas, to) == nil || !reaches(to, name) {
				continue
			}
			kept := s["required"].([]any)[:0:0]
			for _, r := range s["required"].([]any) {
				if r != p {
					kept = append(kept, r)
				}
			}
			if len(kept) == 0 {
				delete(s, "required")
			} else {
				s["required"] = kept
			}
			via := "itself"
			if to != name {
				via = "itself through " + to
			}
			n.changed("recursive-schemas", pointer("components", "schemas", name, "properties", p), "no longer required: %s contains %s, which a Go struct cannot (a pointer in Go)", name, via)
		}
	}
	return nil
}

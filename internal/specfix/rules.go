package specfix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Rules holds API-specific normalization rules, one set per API.
type Rules struct {
	// Documents lists rule sets. A set applies to a document when the
	// caller names its API (Options.API: the pin, or a flag), or else when
	// the document holds one of the set's required operations (matched by
	// canonical path, see CanonicalPath). The document's info.title is
	// never consulted: HubSpot changes it between revisions. Documents
	// matching no set get only the generic normalization steps.
	Documents []DocumentRules `json:"documents"`
}

// DocumentRules are the rules for one API, identified by a name of ours
// (API) and by its operations, never by the title HubSpot gives it.
type DocumentRules struct {
	API        string          `json:"api"`
	Operations []OperationRule `json:"operations,omitempty"`
	Enums      []EnumRule      `json:"enums,omitempty"`
	Edits      []EditRule      `json:"edits,omitempty"`
	Schemas    []SchemaRule    `json:"schemas,omitempty"`
	Types      []TypeRule      `json:"types,omitempty"`
}

// TypeRule gives the schema found at each of From the curated name Name
// (its Go type name), whatever HubSpot calls it in a revision. From
// places are "<Operation> request[.<property>...]" or "<Operation>
// response.<code>[.<property>...]": the operation by its rule name, then
// its JSON request body or the response of that status code, then
// properties, arrays followed to their items (e.g. "ListLabels
// response.200.results" is one label). Every place must hold the same
// schema; a place a revision lacks is an error naming the rule.
type TypeRule struct {
	Name string   `json:"name"`
	From []string `json:"from"`
}

// SchemaRule defines a curated type (Name is a type rule's) for revisions
// whose document lacks it: an operation rule's Results names it. A schema
// the document defines is left as published.
type SchemaRule struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
}

// OperationRule gives a stable name to the operation with Method on Path.
// Path is the version-free path: the version segment is written {version}.
// It matches every spelling of the operation: the version segment in any
// position (/crm/v4/associations/X, /crm/associations/v4/X,
// /crm/associations/2026-03/X) and path parameters under any name.
type OperationRule struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	Path   string `json:"path"`
	// Results, for a batch operation, is the curated type (a type rule's
	// name) of one result: the batch answers a batch response of it (200,
	// 201) and its WithErrors form (207) whatever a revision declares
	// (some declare no results). The schema is found through the type
	// rule's places, or else declared from the schema rule of that name.
	Results  string `json:"results,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

// EnumRule defines a shared string enum schema named Name, recognized by
// where it is used: the string schema at each place of From (places as in
// TypeRule), every property that Properties describes, with or without an
// enum of its own (HubSpot publishes some as plain strings; an enum
// sharing no value with this one is someone else's), and every schema
// that Also points to (JSON pointers) are replaced by a reference to it;
// so is every other string schema whose enum values are all values of it
// (at least two, or all when Values has fewer). Its values are Values,
// then the values the document lists at those places that Values lacks
// (sorted): a value HubSpot adds becomes a constant of the same Go type.
type EnumRule struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Values      []string        `json:"values"`
	From        []string        `json:"from,omitempty"`
	Properties  []PropertyMatch `json:"properties,omitempty"`
	Also        []string        `json:"also,omitempty"`
	Optional    bool            `json:"optional,omitempty"`
}

// PropertyMatch selects, in every object schema of the document, the
// string property Name of objects that also have the property With (so
// "category" beside "typeId" is an association category, while an error's
// "category" is not). A property whose own enum has values outside the
// rule's is left alone: it is something else.
type PropertyMatch struct {
	Name string `json:"name"`
	With string `json:"with"`
}

// EditRule sets the value at Pointer. The parent of Pointer must exist.
type EditRule struct {
	Name     string          `json:"name"`
	Pointer  string          `json:"pointer"`
	Value    json.RawMessage `json:"value"`
	Optional bool            `json:"optional,omitempty"`
}

var (
	identRE   = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	apiNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

// LoadRules reads and checks a rules file.
func LoadRules(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseRules(path, data)
}

// ParseRules decodes and checks rules; name is used in error messages.
func ParseRules(name string, data []byte) (*Rules, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	for i, d := range r.Documents {
		at := func(kind string, j int, field string) string {
			return fmt.Sprintf("%s: documents[%d].%s[%d].%s", name, i, kind, j, field)
		}
		if !apiNameRE.MatchString(d.API) {
			return nil, fmt.Errorf("%s: documents[%d].api: %q is not a lower-case name like associations-schema", name, i, d.API)
		}
		for j := range i {
			if r.Documents[j].API == d.API {
				return nil, fmt.Errorf("%s: documents[%d].api: duplicate %q", name, i, d.API)
			}
		}
		seen := map[string]bool{}
		for j, o := range d.Operations {
			if !identRE.MatchString(o.Name) {
				return nil, fmt.Errorf("%s: %q is not an exported Go identifier", at("operations", j, "name"), o.Name)
			}
			if seen[o.Name] {
				return nil, fmt.Errorf("%s: duplicate name %q", at("operations", j, "name"), o.Name)
			}
			seen[o.Name] = true
			if !httpMethods[strings.ToLower(o.Method)] {
				return nil, fmt.Errorf("%s: unknown HTTP method %q", at("operations", j, "method"), o.Method)
			}
			if !strings.HasPrefix(o.Path, "/") {
				return nil, fmt.Errorf("%s: %q does not start with /", at("operations", j, "path"), o.Path)
			}
		}
		defined := map[string]bool{}
		for j, sr := range d.Schemas {
			if !identRE.MatchString(sr.Name) || defined[sr.Name] {
				return nil, fmt.Errorf("%s: %q is not an exported Go identifier, or repeated", at("schemas", j, "name"), sr.Name)
			}
			defined[sr.Name] = true
			var v map[string]any
			if err := json.Unmarshal(sr.Schema, &v); err != nil || v == nil {
				return nil, fmt.Errorf("%s: want a JSON object", at("schemas", j, "schema"))
			}
		}
		typeNames := map[string]bool{}
		for _, tr := range d.Types {
			typeNames[tr.Name] = true
		}
		for j, o := range d.Operations {
			if o.Results != "" && !typeNames[o.Results] {
				return nil, fmt.Errorf("%s: %q is not the name of a type rule (rules name curated types, never HubSpot's schemas)", at("operations", j, "results"), o.Results)
			}
		}
		for j, sr := range d.Schemas {
			if !typeNames[sr.Name] {
				return nil, fmt.Errorf("%s: %q is not the name of a type rule (a schema rule declares a curated type a revision lacks)", at("schemas", j, "name"), sr.Name)
			}
		}
		typeNames = map[string]bool{}
		for j, tr := range d.Types {
			if !identRE.MatchString(tr.Name) || typeNames[tr.Name] {
				return nil, fmt.Errorf("%s: %q is not an exported Go identifier, or repeated", at("types", j, "name"), tr.Name)
			}
			typeNames[tr.Name] = true
			if len(tr.From) == 0 {
				return nil, fmt.Errorf("%s: empty", at("types", j, "from"))
			}
			for k, f := range tr.From {
				if _, _, err := parsePlace(f); err != nil {
					return nil, fmt.Errorf("%s[%d]: %v", at("types", j, "from"), k, err)
				}
			}
		}
		for j, e := range d.Enums {
			if !identRE.MatchString(e.Name) {
				return nil, fmt.Errorf("%s: %q is not an exported Go identifier", at("enums", j, "name"), e.Name)
			}
			if len(e.Values) == 0 {
				return nil, fmt.Errorf("%s: no values", at("enums", j, "values"))
			}
			for k, f := range e.From {
				if _, _, err := parsePlace(f); err != nil {
					return nil, fmt.Errorf("%s[%d]: %v", at("enums", j, "from"), k, err)
				}
			}
			for k, p := range e.Properties {
				if p.Name == "" || p.With == "" {
					return nil, fmt.Errorf("%s[%d]: name and with are required", at("enums", j, "properties"), k)
				}
			}
			for _, p := range e.Also {
				if _, err := splitPointer(p); err != nil {
					return nil, fmt.Errorf("%s: %v", at("enums", j, "also"), err)
				}
			}
		}
		for j, e := range d.Edits {
			if _, err := splitPointer(e.Pointer); err != nil || e.Pointer == "" {
				return nil, fmt.Errorf("%s: invalid JSON pointer %q", at("edits", j, "pointer"), e.Pointer)
			}
			var v any
			if err := json.Unmarshal(e.Value, &v); err != nil {
				return nil, fmt.Errorf("%s: %v", at("edits", j, "value"), err)
			}
		}
	}
	return &r, nil
}

// APIs lists the names of the rule sets.
func (r *Rules) APIs() []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, d := range r.Documents {
		out = append(out, d.API)
	}
	return out
}

// forAPI returns the rule set named api, or nil.
func (r *Rules) forAPI(api string) *DocumentRules {
	if r == nil {
		return nil
	}
	for i := range r.Documents {
		if r.Documents[i].API == api {
			return &r.Documents[i]
		}
	}
	return nil
}

// MissingOperations lists the names of the required operations of the rule
// set api that the document raw does not hold (matched by canonical path,
// as Normalize matches them). A document that is not JSON with paths
// misses them all.
func (r *Rules) MissingOperations(api string, raw []byte) ([]string, error) {
	d := r.forAPI(api)
	if d == nil {
		return nil, fmt.Errorf("no rules for API %q", api)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	_ = json.Unmarshal(raw, &doc)
	present := map[string]bool{}
	for p, item := range doc.Paths {
		for m := range item {
			present[opKey(m, p)] = true
		}
	}
	var missing []string
	for _, o := range d.Operations {
		if !o.Optional && !present[opKey(o.Method, o.Path)] {
			missing = append(missing, o.Name)
		}
	}
	return missing, nil
}

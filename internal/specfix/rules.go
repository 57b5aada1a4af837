package specfix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Rules holds API-specific normalization rules, grouped by the document
// they apply to.
type Rules struct {
	// Documents lists rule sets; a set applies to a document whose
	// info.title equals its Title. Documents matching no set get only the
	// generic normalization steps.
	Documents []DocumentRules `json:"documents"`
}

// DocumentRules are the rules for one API, identified by its title.
type DocumentRules struct {
	Title      string          `json:"title"`
	Operations []OperationRule `json:"operations,omitempty"`
	Enums      []EnumRule      `json:"enums,omitempty"`
	Edits      []EditRule      `json:"edits,omitempty"`
}

// OperationRule gives a stable name to the operation with Method on Path.
// Path is the version-free path: the version segment is written {version}.
type OperationRule struct {
	Name     string `json:"name"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	Optional bool   `json:"optional,omitempty"`
}

// EnumRule defines a shared string enum schema named Name. Every string
// schema in the document whose enum values are a subset of Values (at
// least two of them, or all when Values has fewer) is replaced by a
// reference to it, and so is every schema that Also points to (JSON
// pointers), for properties that HubSpot publishes as plain strings.
type EnumRule struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Values      []string `json:"values"`
	Also        []string `json:"also,omitempty"`
	Optional    bool     `json:"optional,omitempty"`
}

// EditRule sets the value at Pointer. The parent of Pointer must exist.
type EditRule struct {
	Name     string          `json:"name"`
	Pointer  string          `json:"pointer"`
	Value    json.RawMessage `json:"value"`
	Optional bool            `json:"optional,omitempty"`
}

var identRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

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
		if d.Title == "" {
			return nil, fmt.Errorf("%s: documents[%d].title: empty", name, i)
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
		for j, e := range d.Enums {
			if !identRE.MatchString(e.Name) {
				return nil, fmt.Errorf("%s: %q is not an exported Go identifier", at("enums", j, "name"), e.Name)
			}
			if len(e.Values) == 0 {
				return nil, fmt.Errorf("%s: no values", at("enums", j, "values"))
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

func (r *Rules) forTitle(title string) *DocumentRules {
	if r == nil {
		return nil
	}
	for i := range r.Documents {
		if r.Documents[i].Title == title {
			return &r.Documents[i]
		}
	}
	return nil
}

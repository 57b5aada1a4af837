package specfix

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// HubSpotSchemaExt records, on a schema of a normalized document, the name
// HubSpot gives it in the published document.
const HubSpotSchemaExt = "x-hubspot-schema"

// UncuratedNote ends the description of every schema no type rule names:
// its Go name is HubSpot's and may change between revisions, so it is not
// part of the guarded Go surface (internal/apisurface leaves out types
// whose doc comment holds this note).
const UncuratedNote = "Not curated: the name is HubSpot's and may change between revisions."

// parsePlace splits "<Operation> request.a.b" or "<Operation>
// response.200.a" into the operation and the steps after the root.
func parsePlace(place string) (op string, steps []string, err error) {
	op, where, ok := strings.Cut(place, " ")
	if !ok || !identRE.MatchString(op) {
		return "", nil, fmt.Errorf("%q: want \"<Operation> request[.property...]\" or \"<Operation> response.<code>[.property...]\"", place)
	}
	steps = strings.Split(where, ".")
	switch {
	case steps[0] == "request":
	case steps[0] == "response" && len(steps) > 1 && steps[1] != "":
	default:
		return "", nil, fmt.Errorf("%q: the place starts with request or response.<code>", place)
	}
	for _, s := range steps {
		if s == "" {
			return "", nil, fmt.Errorf("%q: empty step", place)
		}
	}
	return op, steps, nil
}

// resolveRef follows a local reference to a component of kind (responses,
// requestBodies).
func (n *normalizer) resolveComponent(m map[string]any, kind string) map[string]any {
	ref, _ := m["$ref"].(string)
	if name, ok := strings.CutPrefix(ref, "#/components/"+kind+"/"); ok {
		return obj(obj(obj(n.doc, "components"), kind), name)
	}
	return m
}

// findPlace returns the object holding the schema at place, and its key.
func (n *normalizer) findPlace(place string) (holder map[string]any, key string, err error) {
	opName, steps, _ := parsePlace(place)
	var op map[string]any
	n.eachOperation(func(p, m string, o map[string]any) error {
		if o["operationId"] == opName {
			op = o
		}
		return nil
	})
	if op == nil {
		return nil, "", fmt.Errorf("no operation %s", opName)
	}
	var container map[string]any
	if steps[0] == "request" {
		container = n.resolveComponent(obj(op, "requestBody"), "requestBodies")
		steps = steps[1:]
	} else {
		container = n.resolveComponent(obj(obj(op, "responses"), steps[1]), "responses")
		if container == nil {
			return nil, "", fmt.Errorf("%s has no %s response", opName, steps[1])
		}
		steps = steps[2:]
	}
	holder, key = obj(obj(container, "content"), "application/json"), "schema"
	if obj(holder, key) == nil {
		return nil, "", fmt.Errorf("no JSON schema there")
	}
	for _, s := range steps {
		if ref := refName(obj(holder, key)); ref != "" {
			if kind := schemaKind(n.schemas()[ref]); kind != "" {
				return nil, "", fmt.Errorf("schema %s is %s, not a schema object", ref, kind)
			}
		}
		cur := n.resolve(obj(holder, key))
		props := obj(cur, "properties")
		if obj(props, s) == nil {
			return nil, "", fmt.Errorf("no property %q", s)
		}
		holder, key = props, s
		for i := 0; i < 4 && obj(holder, key)["type"] == "array"; i++ {
			holder, key = obj(holder, key), "items"
			if obj(holder, key) == nil {
				return nil, "", fmt.Errorf("array %q has no items", s)
			}
		}
	}
	return holder, key, nil
}

// typeNames gives the schemas the type rules name their curated names,
// recording HubSpot's name on each (x-hubspot-schema and a description
// line), and marks every other schema as not curated.
func (n *normalizer) typeNames() error {
	if n.rules == nil || len(n.rules.Types) == 0 {
		return nil
	}
	renames := map[string]string{} // HubSpot name -> curated name
	curated := map[string]bool{}
	for _, e := range n.rules.Enums {
		curated[e.Name] = true
	}
	for _, tr := range n.rules.Types {
		type inlineAt struct {
			holder     map[string]any
			key, place string
		}
		var inline []inlineAt
		found, foundPlace := "", ""
		for _, place := range tr.From {
			holder, key, err := n.findPlace(place)
			if err != nil {
				return n.errorf("/paths", "type rule %s: %s: %v", tr.Name, place, err)
			}
			s := refName(obj(holder, key))
			if s == "" {
				inline = append(inline, inlineAt{holder, key, place})
				continue
			}
			if found != "" && s != found {
				return n.errorf("/paths", "type rule %s: %s is schema %s, but %s is %s", tr.Name, place, s, foundPlace, found)
			}
			found, foundPlace = s, place
		}
		// An inline schema is the type as well: the one the other places
		// reference when it is the same schema written out in place (as
		// oapi-codegen would name it, had it one name), else declared
		// under the curated name.
		for _, in := range inline {
			schema := obj(in.holder, in.key)
			switch {
			case found == "":
				if _, taken := n.schemas()[tr.Name]; taken {
					return n.errorf(pointer("components", "schemas", tr.Name), "type rule %s: the document has another schema of that name", tr.Name)
				}
				n.schemas()[tr.Name] = schema
				n.changed("type "+tr.Name, pointer("components", "schemas", tr.Name), "declared from the inline schema at %s", in.place)
				found, foundPlace = tr.Name, in.place
			case !sameSchema(schema, obj(n.schemas(), found)):
				return n.errorf("/paths", "type rule %s: %s is an inline schema unlike %s, which %s is (one Go type cannot be both)", tr.Name, in.place, found, foundPlace)
			default:
				n.changed("type "+tr.Name, "/paths", "the inline schema at %s is schema %s written out: referenced", in.place, found)
			}
			in.holder[in.key] = schemaRef(found)
		}
		if kind := schemaKind(n.schemas()[found]); kind != "" {
			return n.errorf(pointer("components", "schemas", found), "type rule %s: schema %s is %s, not a schema object", tr.Name, found, kind)
		}
		if other, ok := renames[found]; ok && other != tr.Name {
			return n.errorf(pointer("components", "schemas", found), "type rules %s and %s name the same schema", other, tr.Name)
		}
		if found != tr.Name && obj(n.schemas(), tr.Name) != nil {
			return n.errorf(pointer("components", "schemas", tr.Name), "type rule %s: the document has another schema of that name (the rule's is %s)", tr.Name, found)
		}
		renames[found] = tr.Name
		curated[tr.Name] = true
	}
	schemas := n.schemas()
	for _, from := range slices.Sorted(maps.Keys(renames)) {
		to := renames[from]
		if from == to {
			continue
		}
		schemas[to] = schemas[from]
		delete(schemas, from)
		if _, ok := obj(schemas, to)[HubSpotSchemaExt]; !ok {
			obj(schemas, to)[HubSpotSchemaExt] = from
		}
		n.changed("type "+to, pointer("components", "schemas", to), "renamed from %s", from)
	}
	if len(renames) > 0 {
		old := map[string]string{}
		for from, to := range renames {
			old[schemasPrefix+from] = schemasPrefix + to
		}
		walk(n.doc, "", false, func(m map[string]any, _ string, nameMap bool) {
			if r, ok := m["$ref"].(string); ok && !nameMap {
				if to, ok := old[r]; ok {
					m["$ref"] = to
				}
			}
		})
	}
	enums := map[string]bool{}
	for _, e := range n.rules.Enums {
		enums[e.Name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		s := obj(schemas, name)
		if s == nil || enums[name] {
			continue // the enum rules' own schemas have no HubSpot name
		}
		hub, _ := s[HubSpotSchemaExt].(string)
		if hub == "" {
			hub = name
			s[HubSpotSchemaExt] = hub
		}
		desc, _ := s["description"].(string)
		line := "HubSpot schema: " + hub + "."
		if !curated[name] {
			line += " " + UncuratedNote
		}
		if !strings.Contains(desc, line) {
			if desc != "" {
				desc += "\n\n"
			}
			s["description"] = desc + line
			n.changed("type-names", pointer("components", "schemas", name, "description"), "notes %s", line)
		}
	}
	return nil
}

// schemaKind describes v when it is not a JSON object (a schema): "a
// number", "a string", "an array", "a boolean", "null"; "" for an object.
func schemaKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return ""
	case nil:
		return "null"
	case string:
		return "a string"
	case []any:
		return "an array"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// sameSchema reports whether two schemas are the same but for their
// descriptions, titles, examples and extensions.
func sameSchema(a, b map[string]any) bool {
	if a == nil || b == nil {
		return false
	}
	return reflect.DeepEqual(shapeOf(a), shapeOf(b))
}

// shapeOf is v without descriptions, titles, examples and extensions.
func shapeOf(v any) any {
	return copyWithout(v, func(k string, e any) bool {
		_, isText := e.(string)
		_, isObj := e.(map[string]any)
		// A property may be called "description" or "example": only the
		// keywords' values (text, a literal) are left out.
		return ((k == "description" || k == "title") && isText) || (k == "example" && !isObj) || strings.HasPrefix(k, "x-")
	})
}

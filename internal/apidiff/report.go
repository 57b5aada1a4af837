package apidiff

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"

	"github.com/crmkit/hubspot-associations/internal/specfix"
	"github.com/crmkit/hubspot-associations/internal/specsource"
)

// Kinds of entries, used to count them in the summary.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// Entry is one line of a report.
type Entry struct {
	Where string // an operation ("GET /crm/associations/{version}/…") or a schema path ("Schema.prop[]")
	What  string // what changed, in words; may contain `code`
	Kind  string // Added, Removed or Changed
	Level string // for breaking changes: "error" or "warning"
	ID    string // for breaking changes: oasdiff's check id
}

// Report is what changed from one document to another.
type Report struct {
	Title    string // info.title of the newer document
	From, To Document

	Breaking   []Entry // oasdiff's breaking changes (levels error and warning)
	Operations []Entry // operations added or removed; parameters and bodies added or removed
	Fields     []Entry // properties added, removed, retyped, made (not) required
	Enums      []Entry // enum values added or removed
	Responses  []Entry // response codes added or removed, response bodies retyped
	Schemas    []Entry // components.schemas (Go types) added or removed

	// Omitted counts the changes found but not shown, by oasdiff check id
	// or by schema keyword (descriptions, examples, tags, validation).
	Omitted map[string]int

	// Raw counts what oasdiff reports on the published documents (paths
	// version-free, not normalized), for comparison.
	Raw Counts
}

// Counts are numbers of oasdiff findings.
type Counts struct {
	Breaking int // levels error and warning
	All      int // every level (oasdiff changelog)
}

// Entries is the number of entries shown.
func (r *Report) Entries() int {
	return len(r.Breaking) + len(r.Operations) + len(r.Fields) + len(r.Enums) + len(r.Responses) + len(r.Schemas)
}

// Compare reports the changes from `from` to `to`. Both are normalized with
// rules (which may be nil) before they are compared.
func Compare(from, to Document, rules *specfix.Rules) (*Report, error) {
	fromRes, err := normalize(from.Name, from.Raw, rules)
	if err != nil {
		return nil, err
	}
	toRes, err := normalize(to.Name, to.Raw, rules)
	if err != nil {
		return nil, err
	}
	from.Version, from.SHA256 = fromRes.Version, specsource.Sum(from.Raw)
	to.Version, to.SHA256 = toRes.Version, specsource.Sum(to.Raw)

	s1, err := loadSpec(from.Name, fromRes.Output, true)
	if err != nil {
		return nil, err
	}
	s2, err := loadSpec(to.Name, toRes.Output, true)
	if err != nil {
		return nil, err
	}
	r := &Report{From: from, To: to, Omitted: map[string]int{}}
	if s2.Spec.Info != nil {
		r.Title = s2.Spec.Info.Title
	}
	d, sources, err := diff.GetWithOperationsSourcesMap(diff.NewConfig(), s1, s2)
	if err != nil {
		return nil, fmt.Errorf("oasdiff: %v", err)
	}
	if d == nil { // no difference at all
		d = &diff.Diff{}
	}
	r.addChecks(d, sources)
	r.addOperations(d, s1.Spec, s2.Spec)
	r.addComponents(d)
	r.addRenames(s1.Spec, s2.Spec)
	r.addEnumValues(fromRes.Enums, toRes.Enums)

	raw, err := RawCounts(from, to)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	r.sort()
	return r, nil
}

// RawCounts runs oasdiff's checker on the published documents, with
// version-free paths but without normalization.
func RawCounts(from, to Document) (Counts, error) {
	s1, err := loadSpec(from.Name, from.Raw, true)
	if err != nil {
		return Counts{}, err
	}
	s2, err := loadSpec(to.Name, to.Raw, true)
	if err != nil {
		return Counts{}, err
	}
	changes, err := check(s1, s2)
	if err != nil {
		return Counts{}, err
	}
	var c Counts
	for _, ch := range changes {
		c.All++
		if ch.GetLevel() >= checker.WARN {
			c.Breaking++
		}
	}
	return c, nil
}

func check(s1, s2 *load.SpecInfo) (checker.Changes, error) {
	d, sources, err := diff.GetWithOperationsSourcesMap(diff.NewConfig(), s1, s2)
	if err != nil {
		return nil, fmt.Errorf("oasdiff: %v", err)
	}
	return checkDiff(d, sources), nil
}

func checkDiff(d *diff.Diff, sources *diff.OperationsSourcesMap) checker.Changes {
	if d == nil {
		return nil
	}
	return checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks()), d, sources, checker.INFO)
}

// isSecurity tells the checks about security requirements and scopes,
// which the report leaves out.
func isSecurity(id string) bool { return strings.Contains(id, "security") }

// shownElsewhere tells the informational checks whose findings the report
// shows in its own sections, from the diff itself.
func shownElsewhere(id string) bool {
	for _, s := range []string{
		"endpoint-added", "endpoint-removed", "api-removed", "api-path-removed",
		"property-added", "property-removed", "property-became", "property-type", "property-format",
		"enum-value", "enum-",
		"success-status", "response-status", "non-success-status",
		"parameter-added", "parameter-removed", "new-optional-request-", "new-required-request-",
		"request-body-added", "request-body-removed",
		"api-schema-removed", "api-schema-added",
	} {
		if strings.Contains(id, s) {
			return true
		}
	}
	return false
}

func (r *Report) addChecks(d *diff.Diff, sources *diff.OperationsSourcesMap) {
	l := checker.NewDefaultLocalizer()
	for _, c := range checkDiff(d, sources) {
		id := c.GetId()
		switch {
		case isSecurity(id):
			continue
		case c.GetLevel() >= checker.WARN:
			level := "warning"
			if c.GetLevel() >= checker.ERR {
				level = "error"
			}
			where := c.GetOperation() + " " + c.GetPath()
			if c.GetOperation() == "" {
				where = c.GetPath()
			}
			r.Breaking = append(r.Breaking, Entry{
				Where: strings.TrimSpace(where),
				What:  oneLine(c.GetUncolorizedText(l)),
				Kind:  Changed,
				Level: level,
				ID:    id,
			})
		case !shownElsewhere(id):
			r.Omitted[id]++
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// opName is "METHOD path (OperationId)".
func opName(spec *openapi3.T, method, path string) string {
	s := method + " " + path
	if item := spec.Paths.Value(path); item != nil {
		if op := item.GetOperation(method); op != nil && op.OperationID != "" {
			s += " (" + op.OperationID + ")"
		}
	}
	return s
}

func (r *Report) addOperations(d *diff.Diff, base, rev *openapi3.T) {
	ed := d.EndpointsDiff
	if ed == nil {
		return
	}
	for _, e := range ed.Added {
		r.Operations = append(r.Operations, Entry{Where: opName(rev, e.Method, e.Path), What: "added", Kind: Added})
	}
	for _, e := range ed.Deleted {
		r.Operations = append(r.Operations, Entry{Where: opName(base, e.Method, e.Path), What: "removed", Kind: Removed})
	}
	for _, e := range slices.SortedFunc(maps.Keys(ed.Modified), ed.Modified.ToEndpoints().SortFunc) {
		md := ed.Modified[e]
		where := opName(rev, e.Method, e.Path)
		if pd := md.ParametersDiff; pd != nil {
			for _, in := range slices.Sorted(maps.Keys(pd.Added)) {
				for _, name := range slices.Sorted(slices.Values(pd.Added[in])) {
					r.Operations = append(r.Operations, Entry{Where: where, What: fmt.Sprintf("added %s parameter `%s`", in, name), Kind: Added})
				}
			}
			for _, in := range slices.Sorted(maps.Keys(pd.Deleted)) {
				for _, name := range slices.Sorted(slices.Values(pd.Deleted[in])) {
					r.Operations = append(r.Operations, Entry{Where: where, What: fmt.Sprintf("removed %s parameter `%s`", in, name), Kind: Removed})
				}
			}
			for _, in := range slices.Sorted(maps.Keys(pd.Modified)) {
				for _, name := range slices.Sorted(maps.Keys(pd.Modified[in])) {
					p := pd.Modified[in][name]
					if p.SchemaDiff != nil {
						r.walkSchema("", where+" "+in+" parameter `"+name+"`", p.SchemaDiff, false)
					}
					if p.RequiredDiff != nil {
						r.Operations = append(r.Operations, Entry{Where: where, What: fmt.Sprintf("%s parameter `%s`: required %v → %v", in, name, p.RequiredDiff.From, p.RequiredDiff.To), Kind: Changed})
					}
				}
			}
		}
		if rb := md.RequestBodyDiff; rb != nil {
			switch {
			case rb.Added:
				r.Operations = append(r.Operations, Entry{Where: where, What: "added request body", Kind: Added})
			case rb.Deleted:
				r.Operations = append(r.Operations, Entry{Where: where, What: "removed request body", Kind: Removed})
			default:
				r.content(&r.Operations, where, "request body", rb.ContentDiff)
			}
		}
		if rd := md.ResponsesDiff; rd != nil {
			for _, code := range slices.Sorted(slices.Values(rd.Added)) {
				r.Responses = append(r.Responses, Entry{Where: where, What: fmt.Sprintf("added response `%s`%s", code, responseBody(md.Revision, code)), Kind: Added})
			}
			for _, code := range slices.Sorted(slices.Values(rd.Deleted)) {
				r.Responses = append(r.Responses, Entry{Where: where, What: fmt.Sprintf("removed response `%s`%s", code, responseBody(md.Base, code)), Kind: Removed})
			}
			for _, code := range slices.Sorted(maps.Keys(rd.Modified)) {
				r.content(&r.Responses, where, "response `"+code+"`", rd.Modified[code].ContentDiff)
			}
		}
	}
}

// responseBody describes the JSON body of response code of op, if any.
func responseBody(op *openapi3.Operation, code string) string {
	if op == nil || op.Responses == nil {
		return ""
	}
	resp := op.Responses.Value(code)
	if resp == nil || resp.Value == nil {
		return ""
	}
	for _, ct := range slices.Sorted(maps.Keys(resp.Value.Content)) {
		if mt := resp.Value.Content[ct]; mt != nil && mt.Schema != nil {
			return " (" + describe(mt.Schema) + ")"
		}
	}
	return ""
}

// content reports media types added or removed and bodies whose schema
// became another component.
func (r *Report) content(to *[]Entry, where, what string, cd *diff.ContentDiff) {
	if cd == nil {
		return
	}
	for _, ct := range slices.Sorted(slices.Values(cd.MediaTypeAdded)) {
		*to = append(*to, Entry{Where: where, What: fmt.Sprintf("%s: added media type `%s`", what, ct), Kind: Added})
	}
	for _, ct := range slices.Sorted(slices.Values(cd.MediaTypeDeleted)) {
		*to = append(*to, Entry{Where: where, What: fmt.Sprintf("%s: removed media type `%s`", what, ct), Kind: Removed})
	}
	for _, ct := range slices.Sorted(maps.Keys(cd.MediaTypeModified)) {
		sd := cd.MediaTypeModified[ct].SchemaDiff
		if sd == nil {
			continue
		}
		if sd.BaseComponent != sd.RevisionComponent {
			*to = append(*to, Entry{Where: where, What: fmt.Sprintf("%s: body `%s` → `%s`", what, orInline(sd.BaseComponent), orInline(sd.RevisionComponent)), Kind: Changed})
			continue
		}
		if sd.BaseComponent == "" {
			// An inline schema: its changes are not under components.
			r.walkSchema("", where+" "+what, sd, false)
		}
	}
}

func orInline(name string) string {
	if name == "" {
		return "inline schema"
	}
	return name
}

// describe names the type of a schema: its component, or its type.
func describe(s *openapi3.SchemaRef) string {
	if s == nil {
		return "any"
	}
	if s.Ref != "" {
		return "`" + s.Ref[strings.LastIndex(s.Ref, "/")+1:] + "`"
	}
	v := s.Value
	if v == nil || v.Type == nil || len(*v.Type) == 0 {
		return "any"
	}
	t := strings.Join(*v.Type, "|")
	switch {
	case t == "array":
		return "array of " + describe(v.Items)
	case v.Format != "":
		return t + " (" + v.Format + ")"
	}
	return t
}

func (r *Report) addComponents(d *diff.Diff) {
	if d.ComponentsDiff == nil || d.ComponentsDiff.SchemasDiff == nil {
		return
	}
	sd := d.ComponentsDiff.SchemasDiff
	for _, name := range slices.Sorted(slices.Values(sd.Added)) {
		r.Schemas = append(r.Schemas, Entry{Where: name, What: "added", Kind: Added})
	}
	for _, name := range slices.Sorted(slices.Values(sd.Deleted)) {
		r.Schemas = append(r.Schemas, Entry{Where: name, What: "removed", Kind: Removed})
	}
	for _, name := range slices.Sorted(maps.Keys(sd.Modified)) {
		r.walkSchema(name, "", sd.Modified[name], true)
	}
}

// addRenames reports the schemas whose HubSpot name changed while their
// name in the normalized document (the curated Go type) stayed: the
// normalized documents agree, so oasdiff sees nothing.
func (r *Report) addRenames(base, rev *openapi3.T) {
	if base.Components == nil || rev.Components == nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(rev.Components.Schemas)) {
		b, v := base.Components.Schemas[name], rev.Components.Schemas[name]
		if b == nil || v == nil || b.Value == nil || v.Value == nil {
			continue
		}
		from, _ := b.Value.Extensions[specfix.HubSpotSchemaExt].(string)
		to, _ := v.Value.Extensions[specfix.HubSpotSchemaExt].(string)
		if from != "" && to != "" && from != to {
			r.Schemas = append(r.Schemas, Entry{Where: name, What: fmt.Sprintf("HubSpot renamed its schema `%s` → `%s`; the Go type keeps its name", from, to), Kind: Changed})
		}
	}
}

// addEnumValues reports the values of the shared enums that the documents
// list differently. A shared enum keeps the rules' values, so a value
// HubSpot no longer lists keeps its Go constant: the normalized documents
// agree and only the published values show it. A value HubSpot drops is a
// breaking change (the API may refuse it); one it adds is also a new
// constant, which oasdiff reports the same way.
func (r *Report) addEnumValues(from, to map[string][]string) {
	for _, name := range slices.Sorted(maps.Keys(to)) {
		old, ok := from[name]
		if !ok {
			continue // the older document lists none (plain strings)
		}
		var added, removed []any
		for _, v := range to[name] {
			if !slices.Contains(old, v) {
				added = append(added, v)
			}
		}
		for _, v := range old {
			if !slices.Contains(to[name], v) {
				removed = append(removed, v)
			}
		}
		if len(added) > 0 {
			r.Enums = append(r.Enums, Entry{Where: name, What: "added " + values(added), Kind: Added})
		}
		if len(removed) > 0 {
			r.Enums = append(r.Enums, Entry{Where: name, What: "removed " + values(removed), Kind: Removed})
			for _, v := range removed {
				r.Breaking = append(r.Breaking, Entry{
					Where: name,
					What:  fmt.Sprintf("HubSpot no longer lists the value `%v`: the Go constant `%s` is kept, but the API may refuse it", v, specfix.EnumConstName(name, fmt.Sprint(v))),
					Kind:  Removed, Level: "error", ID: "shared-enum-value-removed",
				})
			}
		}
	}
}

// walkSchema reports the changes of one schema. comp is the component it
// is under ("" for an inline schema, whose place is given by path alone);
// path is where in it. A nested schema that is itself a component, on
// both sides, is left to that component's own entries.
func (r *Report) walkSchema(comp, path string, sd *diff.SchemaDiff, top bool) {
	if sd == nil {
		return
	}
	where := comp + path
	if !top {
		if sd.BaseComponent != "" && sd.BaseComponent == sd.RevisionComponent {
			return
		}
		if sd.BaseComponent != sd.RevisionComponent {
			r.Fields = append(r.Fields, Entry{Where: where, What: fmt.Sprintf("type `%s` → `%s`", orInline(sd.BaseComponent), orInline(sd.RevisionComponent)), Kind: Changed})
			return
		}
	}
	if sd.SchemaAdded || sd.SchemaDeleted {
		return
	}
	if td := sd.TypeDiff; td != nil && (len(td.Added) > 0 || len(td.Deleted) > 0) {
		r.Fields = append(r.Fields, Entry{Where: where, What: fmt.Sprintf("type %s → %s", types(sd.Base), types(sd.Revision)), Kind: Changed})
	}
	if fd := sd.FormatDiff; fd != nil {
		r.Fields = append(r.Fields, Entry{Where: where, What: fmt.Sprintf("format `%v` → `%v`", fd.From, fd.To), Kind: Changed})
	}
	if nd := sd.NullableDiff; nd != nil {
		r.Fields = append(r.Fields, Entry{Where: where, What: fmt.Sprintf("nullable %v → %v", nd.From, nd.To), Kind: Changed})
	}
	if ed := sd.EnumDiff; ed != nil {
		switch {
		case ed.EnumAdded:
			r.Enums = append(r.Enums, Entry{Where: where, What: "became an enum: " + values(sd.Revision.Enum), Kind: Changed})
		case ed.EnumDeleted:
			r.Enums = append(r.Enums, Entry{Where: where, What: "no longer an enum (was " + values(sd.Base.Enum) + ")", Kind: Changed})
		default:
			if len(ed.Added) > 0 {
				r.Enums = append(r.Enums, Entry{Where: where, What: "added " + values(ed.Added), Kind: Added})
			}
			if len(ed.Deleted) > 0 {
				r.Enums = append(r.Enums, Entry{Where: where, What: "removed " + values(ed.Deleted), Kind: Removed})
			}
		}
	}
	if rd := sd.RequiredDiff; rd != nil {
		for _, p := range slices.Sorted(slices.Values(rd.Added)) {
			r.Fields = append(r.Fields, Entry{Where: join(where, p), What: "now required", Kind: Changed})
		}
		for _, p := range slices.Sorted(slices.Values(rd.Deleted)) {
			r.Fields = append(r.Fields, Entry{Where: join(where, p), What: "no longer required", Kind: Changed})
		}
	}
	if pd := sd.PropertiesDiff; pd != nil {
		for _, p := range slices.Sorted(slices.Values(pd.Added)) {
			r.Fields = append(r.Fields, Entry{Where: join(where, p), What: "added (" + describe(property(sd.Revision, p)) + ")", Kind: Added})
		}
		for _, p := range slices.Sorted(slices.Values(pd.Deleted)) {
			r.Fields = append(r.Fields, Entry{Where: join(where, p), What: "removed", Kind: Removed})
		}
		for _, p := range slices.Sorted(maps.Keys(pd.Modified)) {
			r.walkSchema(comp, path+"."+p, pd.Modified[p], false)
		}
	}
	r.walkSchema(comp, path+"[]", sd.ItemsDiff, false)
	r.walkSchema(comp, path+"{}", sd.AdditionalPropertiesDiff, false)
	for kw, sub := range map[string]*diff.SubschemasDiff{"oneOf": sd.OneOfDiff, "anyOf": sd.AnyOfDiff, "allOf": sd.AllOfDiff} {
		if sub != nil && (len(sub.Added) > 0 || len(sub.Deleted) > 0 || len(sub.Modified) > 0) {
			r.Fields = append(r.Fields, Entry{Where: where, What: kw + " changed", Kind: Changed})
		}
	}
	for kw, changed := range map[string]bool{
		"description": sd.DescriptionDiff != nil || sd.TitleDiff != nil,
		"example":     sd.ExampleDiff != nil || sd.ExamplesDiff != nil,
		"default":     sd.DefaultDiff != nil,
		"deprecated":  sd.DeprecatedDiff != nil,
		"validation": sd.MinDiff != nil || sd.MaxDiff != nil || sd.MinLengthDiff != nil || sd.MaxLengthDiff != nil ||
			sd.PatternDiff != nil || sd.MinItemsDiff != nil || sd.MaxItemsDiff != nil || sd.ExclusiveMinDiff != nil ||
			sd.ExclusiveMaxDiff != nil || sd.MultipleOfDiff != nil || sd.UniqueItemsDiff != nil,
		"readOnly/writeOnly": sd.ReadOnlyDiff != nil || sd.WriteOnlyDiff != nil,
		"extensions":         sd.ExtensionsDiff != nil,
	} {
		if changed {
			r.Omitted["schema "+kw]++
		}
	}
}

func join(where, prop string) string {
	if where == "" {
		return prop
	}
	return where + "." + prop
}

func property(s *openapi3.Schema, name string) *openapi3.SchemaRef {
	if s == nil {
		return nil
	}
	return s.Properties[name]
}

func types(s *openapi3.Schema) string {
	if s == nil || s.Type == nil || len(*s.Type) == 0 {
		return "`any`"
	}
	return "`" + strings.Join(*s.Type, "|") + "`"
}

func values(vs []any) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("`%v`", v)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func (r *Report) sort() {
	byWhere := func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Where, b.Where), cmp.Compare(a.What, b.What))
	}
	slices.SortStableFunc(r.Breaking, func(a, b Entry) int {
		// errors before warnings
		return cmp.Or(cmp.Compare(a.Level, b.Level), byWhere(a, b), cmp.Compare(a.ID, b.ID))
	})
	for _, s := range []*[]Entry{&r.Operations, &r.Fields, &r.Enums, &r.Responses, &r.Schemas} {
		slices.SortStableFunc(*s, byWhere)
		*s = slices.Compact(*s)
	}
	r.Breaking = slices.Compact(r.Breaking)
}

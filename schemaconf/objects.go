package schemaconf

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// standardObjects maps HubSpot's standard object type names to their ids,
// which are the same in every portal.
var standardObjects = map[string]string{
	"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tickets": "0-5",
	"products": "0-7", "line_items": "0-8", "quotes": "0-14", "tasks": "0-27",
	"notes": "0-46", "meetings": "0-47", "calls": "0-48", "emails": "0-49",
}

// singularObjects are the singular names HubSpot accepts too.
var singularObjects = map[string]string{
	"contact": "contacts", "company": "companies", "deal": "deals", "ticket": "tickets",
	"product": "products", "line_item": "line_items", "quote": "quotes", "task": "tasks",
	"note": "notes", "meeting": "meetings", "call": "calls", "email": "emails",
}

var standardNames = func() map[string]string {
	m := map[string]string{}
	for n, id := range standardObjects {
		m[id] = n
	}
	return m
}()

var (
	customID   = regexp.MustCompile(`^2-[0-9]{1,18}$`)
	objectName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	portalName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
)

// DefaultObjects are the object types export reads when none are named:
// the four core CRM objects.
var DefaultObjects = []string{"contacts", "companies", "deals", "tickets"}

// Objects names object types for one portal: standard objects by their
// plural name, custom objects by the name the file (or a flag) gives them,
// mapped to the portal's id. Without a portal (comparing two files) custom
// names stand for themselves.
type Objects struct {
	portal string
	ids    map[string]string // custom name -> id in portal
	names  map[string]string // custom id -> name
	known  map[string]bool   // custom names declared for any portal
}

// NewObjects maps custom object names for portal from the file's objects
// section (f may be nil) and extra (name -> id, from flags, which win).
func NewObjects(f *File, portal string, extra map[string]string) (*Objects, error) {
	o := &Objects{portal: portal, ids: map[string]string{}, names: map[string]string{}, known: map[string]bool{}}
	if portal != "" && !portalName.MatchString(portal) {
		return nil, fmt.Errorf("portal name %q: use letters, digits, - and _ (at most 64)", clip(portal))
	}
	add := func(name, id, where string) error {
		if !objectName.MatchString(name) || standardObjects[name] != "" || singularObjects[name] != "" {
			return fmt.Errorf("%s: custom object name %q: use lower-case letters, digits and _, not a standard object's name", where, clip(name))
		}
		if !customID.MatchString(id) {
			return fmt.Errorf("%s: %s: %q is not a custom object type id like 2-12345", where, name, clip(id))
		}
		if other, ok := o.names[id]; ok && other != name {
			return fmt.Errorf("%s: %s and %s both map to %s", where, other, name, id)
		}
		if old, ok := o.ids[name]; ok {
			delete(o.names, old)
		}
		o.ids[name], o.names[id], o.known[name] = id, name, true
		return nil
	}
	if f != nil {
		names := make([]string, 0, len(f.Objects))
		for n := range f.Objects {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			o.known[n] = true
			if id, ok := f.Objects[n][portal]; ok && portal != "" {
				if err := add(n, id, f.name+": objects"); err != nil {
					return nil, err
				}
			}
		}
	}
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := add(n, extra[n], "--object"); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Declare makes custom object names known when comparing files (no
// portal): a name one file declares in its objects section is a name in
// the other too.
func (o *Objects) Declare(names ...string) {
	for _, n := range names {
		o.known[n] = true
	}
}

// Declared returns the custom object names known, sorted.
func (o *Objects) Declared() []string {
	out := make([]string, 0, len(o.known))
	for n := range o.known {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Portal is the portal the ids are for ("" when comparing files).
func (o *Objects) Portal() string { return o.portal }

// Canonical returns the name an object type is known by in plans and
// exports: a standard object's plural name, a custom object's mapped name,
// or an unmapped custom object's id. ok is false for an unknown type.
func (o *Objects) Canonical(s string) (string, bool) {
	s = strings.TrimSpace(s)
	l := strings.ToLower(s)
	if n, ok := singularObjects[l]; ok {
		return n, true
	}
	if _, ok := standardObjects[l]; ok {
		return l, true
	}
	if n, ok := standardNames[l]; ok {
		return n, true
	}
	if customID.MatchString(l) {
		if n, ok := o.names[l]; ok {
			return n, true
		}
		return l, true
	}
	if _, ok := o.ids[s]; ok {
		return s, true
	}
	if o.portal == "" && o.known[s] {
		return s, true
	}
	return "", false
}

// ID returns the portal's id of a canonical name.
func (o *Objects) ID(name string) (string, bool) {
	if id, ok := standardObjects[name]; ok {
		return id, true
	}
	if customID.MatchString(name) {
		return name, true
	}
	id, ok := o.ids[name]
	return id, ok
}

// unknownObject explains why s is not an object type.
func (o *Objects) unknownObject(s string) string {
	if o.known[s] && o.portal != "" {
		return fmt.Sprintf("object type %q has no id for portal %q: add objects.%s.%s to the file or pass --object %s=2-...", clip(s), o.portal, s, o.portal, s)
	}
	return fmt.Sprintf("unknown object type %q: use a standard object (contacts, companies, deals, ...), a custom object id (2-12345) or a name from the objects section", clip(s))
}

// Section returns the objects section an export for this portal writes:
// every mapped custom object with this portal's id.
func (o *Objects) Section() map[string]map[string]string {
	if o.portal == "" || len(o.ids) == 0 {
		return nil
	}
	out := map[string]map[string]string{}
	for n, id := range o.ids {
		out[n] = map[string]string{o.portal: id}
	}
	return out
}

// Custom returns the mapped custom object names, sorted.
func (o *Objects) Custom() []string {
	out := make([]string, 0, len(o.ids))
	for n := range o.ids {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// clip bounds a value quoted in a message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

package hubspottest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// standardObjects maps HubSpot's standard object type names to their ids.
var standardObjects = map[string]string{
	"contacts":   "0-1",
	"companies":  "0-2",
	"deals":      "0-3",
	"tickets":    "0-5",
	"products":   "0-7",
	"line_items": "0-8",
	"quotes":     "0-14",
	"tasks":      "0-27",
	"notes":      "0-46",
	"meetings":   "0-47",
	"calls":      "0-48",
	"emails":     "0-49",
}

// singular names HubSpot also accepts.
var singularObjects = map[string]string{
	"contact":   "contacts",
	"company":   "companies",
	"deal":      "deals",
	"ticket":    "tickets",
	"product":   "products",
	"line_item": "line_items",
	"quote":     "quotes",
	"task":      "tasks",
	"note":      "notes",
	"meeting":   "meetings",
	"call":      "calls",
	"email":     "emails",
}

var objectIDNames = func() map[string]string {
	m := make(map[string]string, len(standardObjects))
	for name, id := range standardObjects {
		m[id] = name
	}
	return m
}()

var customObjectID = regexp.MustCompile(`^2-[0-9]{1,18}$`)

// ObjectTypeID returns the canonical object type id ("0-1", "2-123456") for
// a standard object type name or id (case-insensitive, singular or plural)
// or a custom object type id. ok is false when HubSpot could not infer the
// object type.
func ObjectTypeID(objectType string) (id string, ok bool) {
	s := strings.ToLower(strings.TrimSpace(objectType))
	if n, ok := singularObjects[s]; ok {
		s = n
	}
	if id, ok := standardObjects[s]; ok {
		return id, true
	}
	if _, ok := objectIDNames[s]; ok {
		return s, true
	}
	if customObjectID.MatchString(s) {
		return s, true
	}
	return "", false
}

func mustObjectTypeID(objectType string) (string, error) {
	id, ok := ObjectTypeID(objectType)
	if !ok {
		return "", fmt.Errorf("unable to infer object type from: %s", objectType)
	}
	return id, nil
}

// hubspotDefined is the seeded set of HubSpot-defined association types
// between standard objects, with their real type ids.
var hubspotDefined = []AssociationType{
	{FromObjectType: "0-1", ToObjectType: "0-2", TypeID: 279},
	{FromObjectType: "0-1", ToObjectType: "0-2", TypeID: 1, Label: "Primary"},
	{FromObjectType: "0-2", ToObjectType: "0-1", TypeID: 280},
	{FromObjectType: "0-2", ToObjectType: "0-1", TypeID: 2, Label: "Primary"},
	{FromObjectType: "0-3", ToObjectType: "0-1", TypeID: 3},
	{FromObjectType: "0-1", ToObjectType: "0-3", TypeID: 4},
	{FromObjectType: "0-3", ToObjectType: "0-2", TypeID: 341},
	{FromObjectType: "0-3", ToObjectType: "0-2", TypeID: 5, Label: "Primary"},
	{FromObjectType: "0-2", ToObjectType: "0-3", TypeID: 342},
	{FromObjectType: "0-2", ToObjectType: "0-3", TypeID: 6, Label: "Primary"},
	{FromObjectType: "0-2", ToObjectType: "0-2", TypeID: 13, Label: "Parent Company"},
	{FromObjectType: "0-2", ToObjectType: "0-2", TypeID: 14, Label: "Child Company"},
	{FromObjectType: "0-1", ToObjectType: "0-5", TypeID: 15},
	{FromObjectType: "0-5", ToObjectType: "0-1", TypeID: 16},
	{FromObjectType: "0-3", ToObjectType: "0-8", TypeID: 19},
	{FromObjectType: "0-8", ToObjectType: "0-3", TypeID: 20},
	{FromObjectType: "0-2", ToObjectType: "0-5", TypeID: 340},
	{FromObjectType: "0-2", ToObjectType: "0-5", TypeID: 25, Label: "Primary"},
	{FromObjectType: "0-5", ToObjectType: "0-2", TypeID: 339},
	{FromObjectType: "0-5", ToObjectType: "0-2", TypeID: 26, Label: "Primary"},
	{FromObjectType: "0-3", ToObjectType: "0-5", TypeID: 27},
	{FromObjectType: "0-5", ToObjectType: "0-3", TypeID: 28},
	{FromObjectType: "0-3", ToObjectType: "0-14", TypeID: 63},
	{FromObjectType: "0-14", ToObjectType: "0-3", TypeID: 64},
	{FromObjectType: "0-14", ToObjectType: "0-8", TypeID: 67},
	{FromObjectType: "0-8", ToObjectType: "0-14", TypeID: 68},
	{FromObjectType: "0-1", ToObjectType: "0-48", TypeID: 193},
	{FromObjectType: "0-48", ToObjectType: "0-1", TypeID: 194},
	{FromObjectType: "0-1", ToObjectType: "0-49", TypeID: 197},
	{FromObjectType: "0-49", ToObjectType: "0-1", TypeID: 198},
	{FromObjectType: "0-1", ToObjectType: "0-47", TypeID: 199},
	{FromObjectType: "0-47", ToObjectType: "0-1", TypeID: 200},
	{FromObjectType: "0-1", ToObjectType: "0-46", TypeID: 201},
	{FromObjectType: "0-46", ToObjectType: "0-1", TypeID: 202},
	{FromObjectType: "0-1", ToObjectType: "0-27", TypeID: 203},
	{FromObjectType: "0-27", ToObjectType: "0-1", TypeID: 204},
	{FromObjectType: "0-2", ToObjectType: "0-48", TypeID: 181},
	{FromObjectType: "0-48", ToObjectType: "0-2", TypeID: 182},
	{FromObjectType: "0-2", ToObjectType: "0-49", TypeID: 185},
	{FromObjectType: "0-49", ToObjectType: "0-2", TypeID: 186},
	{FromObjectType: "0-2", ToObjectType: "0-47", TypeID: 187},
	{FromObjectType: "0-47", ToObjectType: "0-2", TypeID: 188},
	{FromObjectType: "0-2", ToObjectType: "0-46", TypeID: 189},
	{FromObjectType: "0-46", ToObjectType: "0-2", TypeID: 190},
	{FromObjectType: "0-2", ToObjectType: "0-27", TypeID: 191},
	{FromObjectType: "0-27", ToObjectType: "0-2", TypeID: 192},
	{FromObjectType: "0-3", ToObjectType: "0-48", TypeID: 205},
	{FromObjectType: "0-48", ToObjectType: "0-3", TypeID: 206},
	{FromObjectType: "0-3", ToObjectType: "0-49", TypeID: 209},
	{FromObjectType: "0-49", ToObjectType: "0-3", TypeID: 210},
	{FromObjectType: "0-3", ToObjectType: "0-47", TypeID: 211},
	{FromObjectType: "0-47", ToObjectType: "0-3", TypeID: 212},
	{FromObjectType: "0-3", ToObjectType: "0-46", TypeID: 213},
	{FromObjectType: "0-46", ToObjectType: "0-3", TypeID: 214},
	{FromObjectType: "0-3", ToObjectType: "0-27", TypeID: 215},
	{FromObjectType: "0-27", ToObjectType: "0-3", TypeID: 216},
	{FromObjectType: "0-5", ToObjectType: "0-48", TypeID: 219},
	{FromObjectType: "0-48", ToObjectType: "0-5", TypeID: 220},
	{FromObjectType: "0-5", ToObjectType: "0-46", TypeID: 227},
	{FromObjectType: "0-46", ToObjectType: "0-5", TypeID: 228},
}

// Category values of association types.
const (
	CategoryHubSpotDefined    = "HUBSPOT_DEFINED"
	CategoryUserDefined       = "USER_DEFINED"
	CategoryIntegratorDefined = "INTEGRATOR_DEFINED"
	CategoryWork              = "WORK"
)

var validCategories = map[string]bool{
	CategoryHubSpotDefined: true, CategoryUserDefined: true,
	CategoryIntegratorDefined: true, CategoryWork: true,
}

// AssociationType is one directed association type between two object
// types, as the server holds it.
type AssociationType struct {
	// FromObjectType and ToObjectType are object type ids ("0-1") or, when
	// seeding, names ("contacts").
	FromObjectType string
	ToObjectType   string
	// Category is HUBSPOT_DEFINED (the default when seeding), USER_DEFINED,
	// INTEGRATOR_DEFINED or WORK.
	Category string
	TypeID   int32
	// Label is empty for unlabeled types.
	Label string
	// Name is the internal name given when a label was created.
	Name string
	// InverseTypeID is the type id of the paired type in the other
	// direction, or 0.
	InverseTypeID int32
}

// Limit is an association limit: at most MaxToObjectIDs records of
// ToObjectType per record of FromObjectType through one association type.
type Limit struct {
	FromObjectType string
	ToObjectType   string
	Category       string
	TypeID         int32
	MaxToObjectIDs int32
}

type typeKey struct {
	from, to, category string
	typeID             int32
}

func (t AssociationType) key() typeKey {
	return typeKey{t.FromObjectType, t.ToObjectType, t.Category, t.TypeID}
}

func (l Limit) key() typeKey { return typeKey{l.FromObjectType, l.ToObjectType, l.Category, l.TypeID} }

// store is the server's in-memory state. Callers hold Server.mu.
type store struct {
	types      map[typeKey]*AssociationType
	limits     map[typeKey]int32
	nextUserID int32
	// gen counts changes to types; defs caches each direction's
	// object-limit type for pairRules, valid while its gen is current.
	gen  uint64
	defs map[[2]string]pairDef
}

func newStore() *store {
	return &store{types: map[typeKey]*AssociationType{}, limits: map[typeKey]int32{}, nextUserID: 1000}
}

func normalizeType(t AssociationType) (AssociationType, error) {
	var err error
	if t.FromObjectType, err = mustObjectTypeID(t.FromObjectType); err != nil {
		return t, err
	}
	if t.ToObjectType, err = mustObjectTypeID(t.ToObjectType); err != nil {
		return t, err
	}
	if t.Category == "" {
		t.Category = CategoryHubSpotDefined
	}
	if !validCategories[t.Category] {
		return t, fmt.Errorf("unknown association category %q", t.Category)
	}
	if t.TypeID < 1 {
		return t, fmt.Errorf("association type id must be positive, got %d", t.TypeID)
	}
	return t, nil
}

func (s *store) addType(t AssociationType) error {
	t, err := normalizeType(t)
	if err != nil {
		return err
	}
	if _, dup := s.types[t.key()]; dup {
		return fmt.Errorf("association type %s %d from %s to %s already exists", t.Category, t.TypeID, t.FromObjectType, t.ToObjectType)
	}
	cp := t
	s.types[t.key()] = &cp
	s.gen++
	if t.Category == CategoryUserDefined && t.TypeID >= s.nextUserID {
		s.nextUserID = t.TypeID + 1
	}
	return nil
}

// typesBetween returns the association types from -> to, sorted.
func (s *store) typesBetween(from, to string) []AssociationType {
	var out []AssociationType
	for _, t := range s.types {
		if t.FromObjectType == from && t.ToObjectType == to {
			out = append(out, *t)
		}
	}
	sortTypes(out)
	return out
}

func sortTypes(ts []AssociationType) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].key().less(ts[j].key()) })
}

func sortLimits(ls []Limit) {
	sort.Slice(ls, func(i, j int) bool { return ls[i].key().less(ls[j].key()) })
}

// less orders keys by from, to, category, then type id.
func (k typeKey) less(o typeKey) bool {
	if k.from != o.from {
		return k.from < o.from
	}
	if k.to != o.to {
		return k.to < o.to
	}
	if k.category != o.category {
		return k.category < o.category
	}
	return k.typeID < o.typeID
}

// findUserType finds the type with the id between from and to in any
// category.
func (s *store) findType(from, to string, typeID int32) *AssociationType {
	for _, c := range []string{CategoryUserDefined, CategoryHubSpotDefined, CategoryIntegratorDefined, CategoryWork} {
		if t, ok := s.types[typeKey{from, to, c, typeID}]; ok {
			return t
		}
	}
	return nil
}

// createLabel creates a USER_DEFINED label from -> to and its inverse.
func (s *store) createLabel(from, to, name, label, inverseLabel string) ([]AssociationType, error) {
	for _, t := range s.types {
		if t.Category == CategoryUserDefined && t.Name == name &&
			((t.FromObjectType == from && t.ToObjectType == to) || (t.FromObjectType == to && t.ToObjectType == from)) {
			return nil, fmt.Errorf("an association label named %q already exists between %s and %s", name, from, to)
		}
	}
	if s.labelCount(from, to) >= MaxLabelsPerPair {
		return nil, labelCapError(from, to)
	}
	id := s.nextUserID
	fwd := AssociationType{FromObjectType: from, ToObjectType: to, Category: CategoryUserDefined, TypeID: id, Label: label, Name: name}
	out := []AssociationType{fwd}
	if from != to || inverseLabel != "" {
		inv := inverseLabel
		if inv == "" {
			inv = label
		}
		out[0].InverseTypeID = id + 1
		out = append(out, AssociationType{FromObjectType: to, ToObjectType: from, Category: CategoryUserDefined, TypeID: id + 1, Label: inv, Name: name, InverseTypeID: id})
	}
	for _, t := range out {
		cp := t
		s.types[t.key()] = &cp
	}
	s.gen++
	s.nextUserID = id + int32(len(out))
	return out, nil
}

// deleteType removes a type, its paired inverse and the limits on both.
func (s *store) deleteType(t *AssociationType) {
	s.gen++
	delete(s.types, t.key())
	delete(s.limits, t.key())
	if t.InverseTypeID != 0 {
		k := typeKey{t.ToObjectType, t.FromObjectType, t.Category, t.InverseTypeID}
		delete(s.types, k)
		delete(s.limits, k)
	}
}

func (s *store) limitsList(filter func(typeKey) bool) []Limit {
	var out []Limit
	for k, max := range s.limits {
		if filter == nil || filter(k) {
			out = append(out, Limit{FromObjectType: k.from, ToObjectType: k.to, Category: k.category, TypeID: k.typeID, MaxToObjectIDs: max})
		}
	}
	sortLimits(out)
	return out
}

func (s *store) setLimit(l Limit) error {
	var err error
	if l.FromObjectType, err = mustObjectTypeID(l.FromObjectType); err != nil {
		return err
	}
	if l.ToObjectType, err = mustObjectTypeID(l.ToObjectType); err != nil {
		return err
	}
	if l.Category == "" {
		l.Category = CategoryHubSpotDefined
	}
	if _, ok := s.types[l.key()]; !ok {
		return fmt.Errorf("association type %s %d does not exist from %s to %s", l.Category, l.TypeID, l.FromObjectType, l.ToObjectType)
	}
	if l.MaxToObjectIDs < 1 {
		return fmt.Errorf("maxToObjectIds must be at least 1, got %d", l.MaxToObjectIDs)
	}
	s.limits[l.key()] = l.MaxToObjectIDs
	return nil
}

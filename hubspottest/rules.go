package hubspottest

import (
	"errors"
	"fmt"
)

// HubSpot's documented rules the fake enforces on writes (the sources are
// listed in docs/schema-as-code.md).
const (
	// MaxLimit is the largest association limit (maxToObjectIds) HubSpot
	// accepts: "You can configure any number up to 10,000".
	MaxLimit = 10000
	// MaxLabelsPerPair is the number of user-defined labels an object pair
	// may have: "up to 50 labels per object pair".
	MaxLabelsPerPair = 50
)

// pairRules checks the limit rules of one direction within one request (a
// batch of up to 100 inputs). It reads the limits live from the store (the
// handler writes each accepted input before checking the next), finds the
// direction's object-limit type from a cache, and its labeled types once
// per request, only when an input sets the object limit: collecting
// every label's limit for every request held the server's lock for
// milliseconds in a direction of 20,000 types.
type pairRules struct {
	store    *store
	from, to string
	def      typeKey // the unlabeled type whose limit is the object limit
	hasDef   bool
	labels   []typeKey // the direction's labeled types; nil until needed
}

// pairDef is the cached object-limit type of one direction.
type pairDef struct {
	gen    uint64
	def    typeKey
	hasDef bool
}

// pairRules returns the rules of the direction from -> to: the object
// limit is the limit on the direction's unlabeled HUBSPOT_DEFINED type,
// else (custom objects) its unlabeled USER_DEFINED one, kept per store
// generation (finding it scans every type). Callers hold Server.mu.
func (s *store) pairRules(from, to string) *pairRules {
	r := &pairRules{store: s, from: from, to: to}
	pk := [2]string{from, to}
	if c, ok := s.defs[pk]; ok && c.gen == s.gen {
		r.def, r.hasDef = c.def, c.hasDef
		return r
	}
	var def *AssociationType
	for _, t := range s.types {
		if t.FromObjectType != from || t.ToObjectType != to || t.Label != "" {
			continue
		}
		if t.Category != CategoryHubSpotDefined && t.Category != CategoryUserDefined {
			continue
		}
		switch {
		case def == nil,
			t.Category == CategoryHubSpotDefined && def.Category != CategoryHubSpotDefined,
			t.Category == def.Category && t.TypeID < def.TypeID:
			def = t
		}
	}
	if def != nil {
		r.def, r.hasDef = def.key(), true
	}
	if s.defs == nil {
		s.defs = map[[2]string]pairDef{}
	}
	s.defs[pk] = pairDef{gen: s.gen, def: r.def, hasDef: r.hasDef}
	return r
}

// labeled returns the direction's labeled types, found on first use.
func (r *pairRules) labeled() []typeKey {
	if r.labels == nil {
		r.labels = []typeKey{}
		for k, t := range r.store.types {
			if t.FromObjectType == r.from && t.ToObjectType == r.to && t.Label != "" {
				r.labels = append(r.labels, k)
			}
		}
	}
	return r.labels
}

// refuse returns why HubSpot refuses to set the limit of k to max ("" when
// it accepts): the range, and "label limits must always be less than or
// equal to the object limit", checked both ways.
func (r *pairRules) refuse(k typeKey, max int32) string {
	if max > MaxLimit {
		return fmt.Sprintf("maxToObjectIds must be between 1 and %d, got %d for %s association type %d.", MaxLimit, max, k.category, k.typeID)
	}
	if r.hasDef && k == r.def {
		for _, lk := range r.labeled() {
			if v, ok := r.store.limits[lk]; ok && v > max {
				return fmt.Sprintf("The object limit must be at least the label limits: %s association type %d has a limit of %d, so the allowed range is %d-%d.", lk.category, lk.typeID, v, v, MaxLimit)
			}
		}
		return ""
	}
	obj := int32(0)
	if r.hasDef {
		obj = r.store.limits[r.def]
	}
	if t, ok := r.store.types[k]; ok && t.Label != "" && obj > 0 && max > obj {
		return fmt.Sprintf("A label limit must be at most the object limit %d: the allowed range is 1-%d, got %d for %s association type %d.", obj, obj, max, k.category, k.typeID)
	}
	return ""
}

// labelCount is the number of user-defined labels between two object
// types (a paired label counts once). Callers hold Server.mu.
func (s *store) labelCount(from, to string) int {
	n := 0
	for _, t := range s.types {
		if t.Category != CategoryUserDefined || t.Label == "" || t.FromObjectType != from || t.ToObjectType != to {
			continue
		}
		if from == to && t.InverseTypeID != 0 && t.InverseTypeID < t.TypeID {
			continue
		}
		n++
	}
	return n
}

// errLabelCap marks a label past MaxLabelsPerPair (a 400, not a 409).
var errLabelCap = errors.New("association label limit reached")

// labelCapError is the answer to a label past MaxLabelsPerPair.
func labelCapError(from, to string) error {
	return fmt.Errorf("%w: at most %d association labels between %s and %s", errLabelCap, MaxLabelsPerPair, from, to)
}

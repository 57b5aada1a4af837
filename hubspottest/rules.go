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

// pairRules holds what the limit rules of one direction need, computed
// once per request (a batch of up to 100 inputs) so a check is cheap
// however many types the direction has.
type pairRules struct {
	store  *store
	def    typeKey // the unlabeled type whose limit is the object limit
	hasDef bool
	obj    int32             // the object limit, 0 when none
	labels map[typeKey]int32 // limits on labeled types
}

// pairRules collects a direction's object limit and label limits: the
// object limit is the limit on the direction's unlabeled HUBSPOT_DEFINED
// type, else (custom objects) its unlabeled USER_DEFINED one. Callers hold
// Server.mu.
func (s *store) pairRules(from, to string) *pairRules {
	r := &pairRules{store: s, labels: map[typeKey]int32{}}
	var def *AssociationType
	for _, t := range s.types {
		if t.FromObjectType != from || t.ToObjectType != to {
			continue
		}
		if t.Label != "" {
			if v, ok := s.limits[t.key()]; ok {
				r.labels[t.key()] = v
			}
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
		r.obj = s.limits[r.def]
	}
	return r
}

// refuse returns why HubSpot refuses to set the limit of k to max ("" when
// it accepts): the range, and "label limits must always be less than or
// equal to the object limit", checked both ways.
func (r *pairRules) refuse(k typeKey, max int32) string {
	if max > MaxLimit {
		return fmt.Sprintf("maxToObjectIds must be between 1 and %d, got %d for %s association type %d.", MaxLimit, max, k.category, k.typeID)
	}
	if r.hasDef && k == r.def {
		for lk, v := range r.labels {
			if v > max {
				return fmt.Sprintf("The object limit must be at least the label limits: %s association type %d has a limit of %d, so the allowed range is %d-%d.", lk.category, lk.typeID, v, v, MaxLimit)
			}
		}
		return ""
	}
	if t, ok := r.store.types[k]; ok && t.Label != "" && r.obj > 0 && max > r.obj {
		return fmt.Sprintf("A label limit must be at most the object limit %d: the allowed range is 1-%d, got %d for %s association type %d.", r.obj, r.obj, max, k.category, k.typeID)
	}
	return ""
}

// set records a limit the request has set.
func (r *pairRules) set(k typeKey, max int32) {
	if r.hasDef && k == r.def {
		r.obj = max
		return
	}
	if t, ok := r.store.types[k]; ok && t.Label != "" {
		r.labels[k] = max
	}
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

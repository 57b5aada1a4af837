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

// defaultType is the direction's unlabeled type, whose limit is the object
// limit: the HUBSPOT_DEFINED one, else (custom objects) the USER_DEFINED
// one; nil when the direction has none. Callers hold Server.mu.
func (s *store) defaultType(from, to string) *AssociationType {
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
	return def
}

// limitRule returns why HubSpot refuses to set the limit of k to max
// ("" when it accepts): the range, and "label limits must always be less
// than or equal to the object limit", checked both ways. Callers hold
// Server.mu.
func (s *store) limitRule(k typeKey, max int32) string {
	if max > MaxLimit {
		return fmt.Sprintf("maxToObjectIds must be between 1 and %d, got %d for %s association type %d.", MaxLimit, max, k.category, k.typeID)
	}
	def := s.defaultType(k.from, k.to)
	if def == nil {
		return ""
	}
	if def.key() == k {
		for lk, v := range s.limits {
			if lk.from == k.from && lk.to == k.to && lk != k && v > max {
				return fmt.Sprintf("The object limit must be at least the label limits: %s association type %d has a limit of %d, so the allowed range is %d-%d.", lk.category, lk.typeID, v, v, MaxLimit)
			}
		}
		return ""
	}
	if obj, ok := s.limits[def.key()]; ok && max > obj {
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

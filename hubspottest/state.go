package hubspottest

import "fmt"

// AssociationTypes returns the association types from one object type to
// another (names or ids), sorted by category and type id. With both
// arguments empty it returns every type.
func (s *Server) AssociationTypes(fromObjectType, toObjectType string) ([]AssociationType, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fromObjectType == "" && toObjectType == "" {
		out := make([]AssociationType, 0, len(s.store.types))
		for _, t := range s.store.types {
			out = append(out, *t)
		}
		sortTypes(out)
		return out, nil
	}
	from, err := mustObjectTypeID(fromObjectType)
	if err != nil {
		return nil, err
	}
	to, err := mustObjectTypeID(toObjectType)
	if err != nil {
		return nil, err
	}
	return s.store.typesBetween(from, to), nil
}

// AddAssociationType seeds an association type, as WithAssociationType
// does.
func (s *Server) AddAssociationType(t AssociationType) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store.addType(t); err != nil {
		return err
	}
	s.seededTypes++
	return nil
}

// CreateLabel creates a USER_DEFINED label as the CreateLabel operation
// does and returns the created types (the label and its inverse).
func (s *Server) CreateLabel(fromObjectType, toObjectType, name, label, inverseLabel string) ([]AssociationType, error) {
	from, err := mustObjectTypeID(fromObjectType)
	if err != nil {
		return nil, err
	}
	to, err := mustObjectTypeID(toObjectType)
	if err != nil {
		return nil, err
	}
	if name == "" || label == "" {
		return nil, fmt.Errorf("name and label must not be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.store.createLabel(from, to, name, label, inverseLabel)
	s.seededTypes += len(out)
	return out, err
}

// Limits returns every configured association limit, sorted; object types
// are ids.
func (s *Server) Limits() []Limit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.limitsList(nil)
}

// SetLimit creates or replaces an association limit. The association type
// must exist; Category defaults to HUBSPOT_DEFINED.
func (s *Server) SetLimit(l Limit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.setLimit(l)
}

// DeleteLimit removes an association limit, if any.
func (s *Server) DeleteLimit(fromObjectType, toObjectType, category string, typeID int32) error {
	from, err := mustObjectTypeID(fromObjectType)
	if err != nil {
		return err
	}
	to, err := mustObjectTypeID(toObjectType)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.store.limits, typeKey{from, to, category, typeID})
	return nil
}

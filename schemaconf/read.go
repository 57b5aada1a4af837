package schemaconf

import (
	"context"
	"fmt"
	"slices"

	"github.com/crmkit/hubspot-associations/generated/associations"
)

// ReadObjects returns the object types Read should cover for a file (or
// none): the file's object types, the custom objects o maps, and extra
// (names or ids), made canonical; with none at all, DefaultObjects.
func ReadObjects(desired *State, o *Objects, extra []string) ([]string, error) {
	set := map[string]bool{}
	if desired != nil {
		for _, n := range desired.Objects {
			set[n] = true
		}
	}
	for _, n := range o.Custom() {
		set[n] = true
	}
	for _, e := range extra {
		n, ok := o.Canonical(e)
		if !ok {
			return nil, fmt.Errorf("--objects: %s", o.unknownObject(e))
		}
		set[n] = true
	}
	if len(set) == 0 || (desired == nil && len(extra) == 0) {
		for _, n := range DefaultObjects {
			set[n] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	slices.Sort(out)
	if len(out) > 64 {
		return nil, fmt.Errorf("%d object types to read: at most 64", len(out))
	}
	return out, nil
}

// Read reads a portal's labels and limits for every direction between the
// object types (canonical names, see ReadObjects), two calls per
// direction. progress, when not nil, is called after each direction.
func Read(ctx context.Context, s *associations.Schema, o *Objects, objects []string, progress func(done, total int)) (*State, error) {
	st := newState()
	st.Objects = slices.Clone(objects)
	total, done := len(objects)*len(objects), 0
	for _, from := range objects {
		for _, to := range objects {
			fid, ok1 := o.ID(from)
			tid, ok2 := o.ID(to)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s", o.unknownObject(map[bool]string{true: to, false: from}[ok1]))
			}
			k := PairKey{from, to}
			labels, err := s.Labels(ctx, fid, tid)
			if err != nil {
				return nil, fmt.Errorf("reading labels %s: %w", k, err)
			}
			limits, err := s.Configurations(ctx, fid, tid)
			if err != nil {
				return nil, fmt.Errorf("reading limits %s: %w", k, err)
			}
			st.Pairs[k] = fromAPI(labels, limits)
			done++
			if progress != nil {
				progress(done, total)
			}
		}
	}
	st.finish()
	return st, nil
}

// fromAPI merges a direction's types and limits.
func fromAPI(labels []associations.Label, limits []associations.Limit) []Type {
	type key struct {
		c  string
		id int32
	}
	idx := map[key]int{}
	out := make([]Type, 0, len(labels))
	for _, l := range labels {
		t := Type{Category: string(l.Category), TypeID: l.TypeID}
		if l.Label != nil {
			t.Label = *l.Label
		}
		idx[key{t.Category, t.TypeID}] = len(out)
		out = append(out, t)
	}
	for _, l := range limits {
		if l.UserEnforcedMaxToObjectIDs == nil || *l.UserEnforcedMaxToObjectIDs <= 0 {
			continue
		}
		k := key{string(l.Category), l.TypeID}
		i, ok := idx[k]
		if !ok {
			t := Type{Category: k.c, TypeID: k.id}
			if l.Label != nil {
				t.Label = *l.Label
			}
			idx[k], i = len(out), len(out)
			out = append(out, t)
		}
		out[i].Limit = *l.UserEnforcedMaxToObjectIDs
	}
	return out
}

// FromFile is the state a file describes, as Read would find it in a
// portal that matches the file (for diff between two files).
func FromFile(f *File, o *Objects) (*State, error) {
	s, err := Resolve(f, o)
	if err != nil {
		return nil, err
	}
	for k, ts := range s.Pairs {
		for i := range ts {
			ts[i].forward, ts[i].name = false, ""
			if ts[i].Default {
				ts[i].Category = CategoryHubSpotDefined
			}
		}
		s.Pairs[k] = ts
	}
	return s, nil
}

package schemaconf

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
)

// HubSpot's documented bounds (see docs/schema-as-code.md for the sources).
const (
	// MinLimit and MaxLimit bound a limit (maxToObjectIds): "You can
	// configure any number up to 10,000" (HubSpot knowledge base, "Set
	// limits for record associations"); 0 or less is no limit at all.
	MinLimit = 1
	MaxLimit = 10000
	// MaxLabelsPerPair is the number of labels an object pair may have:
	// "You can create up to 50 labels per object pair" (knowledge base,
	// "Create and use association labels").
	MaxLabelsPerPair = 50
	// MaxLabelBytes bounds a label's text and name.
	MaxLabelBytes = 200
	// MaxPairs and MaxLabels bound a file's entries.
	MaxPairs  = 2000
	MaxLabels = 20000
)

// PairKey is one direction between two object types, by canonical name.
type PairKey struct{ From, To string }

func (k PairKey) String() string { return k.From + " -> " + k.To }

func (k PairKey) reverse() PairKey { return PairKey{k.To, k.From} }

func (k PairKey) cmp(o PairKey) int {
	return cmp.Or(strings.Compare(k.From, o.From), strings.Compare(k.To, o.To))
}

// Type is one association type of a direction, as a portal has it or a
// file wants it.
type Type struct {
	Category string
	// TypeID is the portal's id; in a state built from a file it is the
	// file's (0 or negative when the file has none).
	TypeID int32
	Label  string
	// Limit is maxToObjectIds; 0 means no limit.
	Limit int32
	// Inverse is the TypeID of the paired type in the other direction (0:
	// none).
	Inverse int32
	// Default marks the pair's unlabeled type: its limit is the object
	// limit.
	Default bool

	// From a file: the label's name, whether this is the direction the
	// label is created from, and lines.
	name            string
	forward         bool
	line, limitLine int
	labelLine       int
}

func (t Type) user() bool { return t.Category == CategoryUserDefined && !t.Default }

// State is a portal's association schema (or a file's), by direction.
type State struct {
	Pairs map[PairKey][]Type
	// Objects are the object types the state covers (a portal's, those
	// read; a file's, those it names), canonical names.
	Objects []string
}

func newState() *State { return &State{Pairs: map[PairKey][]Type{}} }

func (s *State) byID(k PairKey, id int32) *Type {
	ts := s.Pairs[k]
	for i := range ts {
		if ts[i].TypeID == id {
			return &ts[i]
		}
	}
	return nil
}

func (s *State) defaultType(k PairKey) *Type {
	ts := s.Pairs[k]
	for i := range ts {
		if ts[i].Default {
			return &ts[i]
		}
	}
	return nil
}

// userLabel finds a user-defined label by text in a direction.
func (s *State) userLabel(k PairKey, text string) *Type {
	ts := s.Pairs[k]
	for i := range ts {
		if ts[i].user() && ts[i].Label == text {
			return &ts[i]
		}
	}
	return nil
}

func (s *State) partner(k PairKey, t *Type) *Type {
	if t.Inverse == 0 {
		return nil
	}
	return s.byID(k.reverse(), t.Inverse)
}

// finish sorts the types, marks each direction's default type and pairs
// user-defined labels (HubSpot's list does not say which types are
// paired: a label's inverse is the user-defined type of the other
// direction whose typeId follows it, as HubSpot allocates them).
func (s *State) finish() {
	for k := range s.Pairs {
		slices.SortFunc(s.Pairs[k], func(a, b Type) int { return cmp.Compare(a.TypeID, b.TypeID) })
	}
	for k, ts := range s.Pairs {
		def := -1
		for i, t := range ts {
			if t.Label != "" || (t.Category != CategoryHubSpotDefined && t.Category != CategoryUserDefined) {
				continue
			}
			if def < 0 || (t.Category == CategoryHubSpotDefined && ts[def].Category != CategoryHubSpotDefined) {
				def = i
			}
		}
		if def >= 0 {
			s.Pairs[k][def].Default = true
		}
	}
	type ref struct {
		k PairKey
		i int
	}
	done := map[PairKey]bool{}
	for k := range s.Pairs {
		if done[k] {
			continue
		}
		done[k], done[k.reverse()] = true, true
		var refs []ref
		add := func(k PairKey) {
			for i, t := range s.Pairs[k] {
				if t.user() && t.Label != "" {
					refs = append(refs, ref{k, i})
				}
			}
		}
		add(k)
		if k.From != k.To {
			add(k.reverse())
		}
		slices.SortFunc(refs, func(a, b ref) int { return cmp.Compare(s.Pairs[a.k][a.i].TypeID, s.Pairs[b.k][b.i].TypeID) })
		for i := 0; i+1 < len(refs); i++ {
			a, b := &s.Pairs[refs[i].k][refs[i].i], &s.Pairs[refs[i+1].k][refs[i+1].i]
			if b.TypeID != a.TypeID+1 || a.Inverse != 0 {
				continue
			}
			if refs[i].k == refs[i+1].k && (k.From != k.To || a.Label == b.Label) {
				continue
			}
			a.Inverse, b.Inverse = b.TypeID, a.TypeID
			i++
		}
	}
}

// DeriveName returns the internal name export writes for a label text:
// lower-case letters, digits and _, or "label_" and a hash when the text
// has none of them.
func DeriveName(text string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(text) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			under = false
			continue
		}
		under = true
	}
	n := b.String()
	if len(n) > 100 {
		n = n[:100]
	}
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		h := fnv.New32a()
		h.Write([]byte(text))
		n = fmt.Sprintf("label_%08x%s", h.Sum32(), n)
	}
	return n
}

// Export is the file of a state: every direction with an object limit or
// labels; HubSpot-defined types only when they carry a limit; a paired
// user-defined label once, under the direction whose names sort first.
// Entries are sorted, so the same state always gives the same file.
func Export(s *State, o *Objects, apiVersion string) *File {
	f := &File{APIVersion: apiVersion, Objects: o.Section()}
	keys := make([]PairKey, 0, len(s.Pairs))
	for k := range s.Pairs {
		keys = append(keys, k)
	}
	entries := map[PairKey]*Pair{}
	entry := func(k PairKey) *Pair {
		if p := entries[k]; p != nil {
			return p
		}
		p := &Pair{From: k.From, To: k.To}
		entries[k] = p
		return p
	}
	for _, k := range keys {
		for _, t := range s.Pairs[k] {
			switch {
			case t.Default:
				if t.Limit > 0 {
					entry(k).Limit = ptr(t.Limit)
				}
			case !t.user():
				if t.Limit > 0 {
					entry(k).Labels = append(entry(k).Labels, Label{Label: t.Label, Category: t.Category, TypeID: t.TypeID, Limit: limitPtr(t.Limit)})
				}
			case t.Label == "":
				// An extra unlabeled user-defined type has no text to be
				// known by across portals; it is not exported.
			default:
				inv := s.partner(k, &t)
				if inv != nil && !exportForward(k, t, *inv) {
					continue // written with its partner
				}
				l := Label{Label: t.Label, Name: DeriveName(t.Label), TypeID: t.TypeID, Limit: limitPtr(t.Limit)}
				if inv != nil {
					l.Inverse, l.InverseTypeID, l.InverseLimit = inv.Label, inv.TypeID, limitPtr(inv.Limit)
				}
				entry(k).Labels = append(entry(k).Labels, l)
			}
		}
	}
	for _, p := range entries {
		slices.SortFunc(p.Labels, func(a, b Label) int {
			au, bu := a.userDefined(), b.userDefined()
			switch {
			case au != bu:
				if au {
					return 1
				}
				return -1
			case !au:
				return cmp.Compare(a.TypeID, b.TypeID)
			}
			return cmp.Or(strings.Compare(a.Label, b.Label), strings.Compare(a.Inverse, b.Inverse))
		})
		f.Associations = append(f.Associations, *p)
	}
	slices.SortFunc(f.Associations, func(a, b Pair) int {
		return PairKey{a.From, a.To}.cmp(PairKey{b.From, b.To})
	})
	return f
}

// exportForward reports whether a paired label is written from t's
// direction k: the direction whose names sort first, or between an object
// type and itself, the text that sorts first.
func exportForward(k PairKey, t, inv Type) bool {
	if k.From != k.To {
		return k.From < k.To
	}
	return cmp.Or(strings.Compare(t.Label, inv.Label), cmp.Compare(t.TypeID, inv.TypeID)) < 0
}

func ptr(v int32) *int32 { return &v }

func limitPtr(v int32) *int32 {
	if v <= 0 {
		return nil
	}
	return &v
}

// Resolve turns a parsed file into the state it describes, with object
// names made canonical through o, and reports every problem of the file
// on its own (names, ranges, duplicates); NewPlan checks the rest against
// the portal.
func Resolve(f *File, o *Objects) (*State, error) {
	s := newState()
	var ps Problems
	bad := func(line int, format string, args ...any) {
		ps = append(ps, Problem{File: f.name, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	if len(f.Associations) > MaxPairs {
		bad(0, "%d associations entries, more than the %d allowed", len(f.Associations), MaxPairs)
		return nil, ps
	}
	objects := map[string]bool{}
	seen := map[PairKey]int{}
	// Synthetic ids (no portal id yet) are negative and increase, so a
	// label's forward type has the lower id, as in a portal.
	next := int32(math.MinInt32 / 2)
	synth := func() int32 { next++; return next }
	checkLimit := func(v *int32, line int, what string) int32 {
		if v == nil {
			return 0
		}
		if *v < MinLimit || *v > MaxLimit {
			bad(line, "%s %d is outside HubSpot's range %d to %d", what, *v, MinLimit, MaxLimit)
			return 0
		}
		return *v
	}
	nLabels := 0
	type textKey struct {
		k    PairKey
		text string
	}
	texts := map[textKey]int{}
	names := map[textKey]int{} // label names per unordered pair
	ids := map[PairKey]map[int32]int{}
	for _, p := range f.Associations {
		from, ok1 := o.Canonical(p.From)
		to, ok2 := o.Canonical(p.To)
		if !ok1 {
			bad(p.line, "from: %s", o.unknownObject(p.From))
		}
		if !ok2 {
			bad(p.line, "to: %s", o.unknownObject(p.To))
		}
		if !ok1 || !ok2 {
			continue
		}
		if o.portal != "" {
			for _, n := range []string{from, to} {
				if _, ok := o.ID(n); !ok {
					bad(p.line, "%s", o.unknownObject(n))
				}
			}
		}
		k := PairKey{from, to}
		if l, dup := seen[k]; dup {
			bad(p.line, "%s is listed twice (first on line %d); list each direction once", k, l)
			continue
		}
		seen[k] = p.line
		objects[from], objects[to] = true, true
		if _, ok := s.Pairs[k]; !ok {
			s.Pairs[k] = nil
		}
		if v := checkLimit(p.Limit, p.limitLine, "limit"); v > 0 || p.Limit != nil {
			s.Pairs[k] = append(s.Pairs[k], Type{Default: true, TypeID: synth(), Limit: v, line: p.line, limitLine: p.limitLine})
		}
		nLabels += len(p.Labels)
		if nLabels > MaxLabels {
			bad(p.line, "more than %d labels in the file", MaxLabels)
			return nil, ps
		}
		for _, l := range p.Labels {
			if len(l.Label) > MaxLabelBytes || len(l.Inverse) > MaxLabelBytes || len(l.Name) > MaxLabelBytes {
				bad(l.line, "label, inverse and name are at most %d bytes", MaxLabelBytes)
				continue
			}
			if !l.userDefined() {
				switch l.Category {
				case CategoryHubSpotDefined, CategoryIntegratorDefined, CategoryWork:
				default:
					bad(l.line, "category %q: use USER_DEFINED (the default), HUBSPOT_DEFINED, INTEGRATOR_DEFINED or WORK", clip(l.Category))
					continue
				}
				if l.TypeID < 1 {
					bad(l.line, "a %s type is known by its typeId: add typeId", l.Category)
					continue
				}
				if l.Inverse != "" || l.InverseLimit != nil || l.InverseTypeID != 0 {
					bad(l.line, "a %s type has no inverse here: list the other direction under %s -> %s", l.Category, to, from)
					continue
				}
				if ids[k] == nil {
					ids[k] = map[int32]int{}
				}
				if first, dup := ids[k][l.TypeID]; dup {
					bad(l.line, "typeId %d is listed twice in %s (first on line %d)", l.TypeID, k, first)
					continue
				}
				ids[k][l.TypeID] = l.line
				s.Pairs[k] = append(s.Pairs[k], Type{Category: l.Category, TypeID: l.TypeID, Label: l.Label,
					Limit: checkLimit(l.Limit, l.limitLine, "limit"), line: l.line, limitLine: l.limitLine, labelLine: l.labelLine})
				continue
			}
			if strings.TrimSpace(l.Label) == "" {
				bad(l.labelLine, "a user-defined label needs its text (label)")
				continue
			}
			inv := l.Inverse
			paired := from != to || inv != ""
			if from != to && inv == "" {
				inv = l.Label
			}
			if !paired && (l.InverseLimit != nil) {
				bad(l.inverseLimitLine, "inverseLimit needs a paired label: add inverse")
				continue
			}
			dupe := false
			for _, tk := range []textKey{{k, l.Label}, {k.reverse(), inv}} {
				if tk.text == "" {
					continue
				}
				if first, dup := texts[tk]; dup {
					bad(l.line, "label %q in %s is defined twice (first on line %d)", clip(tk.text), tk.k, first)
					dupe = true
					break
				}
			}
			if dupe {
				continue
			}
			texts[textKey{k, l.Label}] = l.line
			if paired {
				texts[textKey{k.reverse(), inv}] = l.line
			}
			name := l.Name
			if name == "" {
				name = DeriveName(l.Label)
			}
			nk := textKey{k, name}
			if k.To < k.From {
				nk.k = k.reverse()
			}
			if first, dup := names[nk]; dup {
				bad(l.line, "name %q is used twice between %s and %s (first on line %d); HubSpot needs a unique name: set name", clip(name), nk.k.From, nk.k.To, first)
				continue
			}
			names[nk] = l.line
			fid := l.TypeID
			if fid <= 0 {
				fid = synth()
			}
			fwd := Type{Category: CategoryUserDefined, TypeID: fid, Label: l.Label, name: name, forward: true,
				Limit: checkLimit(l.Limit, l.limitLine, "limit"), line: l.line, limitLine: l.limitLine, labelLine: l.labelLine}
			if paired {
				iid := l.InverseTypeID
				if iid <= 0 || iid == fid {
					iid = synth()
				}
				fwd.Inverse = iid
				s.Pairs[k.reverse()] = append(s.Pairs[k.reverse()], Type{Category: CategoryUserDefined, TypeID: iid, Label: inv, Inverse: fid,
					Limit: checkLimit(l.InverseLimit, l.inverseLimitLine, "inverseLimit"), line: l.line, limitLine: l.inverseLimitLine, labelLine: l.labelLine})
			}
			s.Pairs[k] = append(s.Pairs[k], fwd)
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	for n := range objects {
		s.Objects = append(s.Objects, n)
	}
	slices.Sort(s.Objects)
	for k := range s.Pairs {
		slices.SortStableFunc(s.Pairs[k], func(a, b Type) int { return cmp.Compare(a.line, b.line) })
	}
	return s, nil
}

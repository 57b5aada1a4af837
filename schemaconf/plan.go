package schemaconf

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Action is what a change does.
type Action string

// Actions.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// Kind is what a change is about.
type Kind string

// Kinds.
const (
	KindLabel Kind = "label"
	KindLimit Kind = "limit"
)

// Change is one write a plan makes.
type Change struct {
	Action Action `json:"action"`
	Kind   Kind   `json:"kind"`
	From   string `json:"from"`
	To     string `json:"to"`
	// Label is the label's text; empty for the object limit.
	Label    string `json:"label,omitempty"`
	Category string `json:"category,omitempty"`
	// TypeID is the current portal's id; 0 for a label the plan creates.
	TypeID int32 `json:"typeId,omitempty"`
	// Inverse, OldInverse, InverseTypeID and Name describe a label change.
	Inverse       string `json:"inverse,omitempty"`
	OldInverse    string `json:"oldInverse,omitempty"`
	InverseTypeID int32  `json:"inverseTypeId,omitempty"`
	Name          string `json:"name,omitempty"`
	// Old and New are a limit change's values.
	Old int32 `json:"old,omitempty"`
	New int32 `json:"new,omitempty"`
	// References counts the limits a deleted label takes with it.
	References int `json:"references,omitempty"`
	// Line is the line of the file the change comes from (0 for prune).
	Line int `json:"line,omitempty"`

	step step
}

// step orders the apply: labels are deleted first (room under HubSpot's
// labels-per-pair cap), created and renamed before the limits that use
// their typeIds; label limits that go down before object limits, those
// that go up after, so every intermediate state passes HubSpot's "a label
// limit is at most the object limit".
type step int

const (
	stepDeleteLabel step = iota
	stepCreateLabel
	stepUpdateLabel
	stepLowerLabelLimit
	stepObjectLimit
	stepRaiseLabelLimit
)

// Pair is the change's direction.
func (c Change) Pair() PairKey { return PairKey{c.From, c.To} }

// Plan is what would take a portal (or a file) to a file's schema.
type Plan struct {
	Portal  string   `json:"portal,omitempty"`
	Changes []Change `json:"changes"`
	Create  int      `json:"create"`
	Update  int      `json:"update"`
	Delete  int      `json:"delete"`
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// LabelDeletes returns the label deletes and the limits they take with
// them.
func (p *Plan) LabelDeletes() (labels, limits int) {
	for _, c := range p.Changes {
		if c.Action == Delete && c.Kind == KindLabel {
			labels++
			limits += c.References
		}
	}
	return labels, limits
}

// PlanOptions tune NewPlan.
type PlanOptions struct {
	// Portal names the portal planned against, for the output.
	Portal string
	// Prune deletes what the file does not have: user-defined labels of the
	// directions read, and limits.
	Prune bool
	// Lenient skips the checks that need a live portal (HubSpot-defined
	// types that must exist and may not change): for diff between files.
	Lenient bool
	// File names the desired file in problems.
	File string
}

// NewPlan compares the desired state (Resolve) with the current one (Read
// or FromFile) and returns the changes, or Problems when the result would
// be refused by HubSpot: a change to a HubSpot-defined label, a type that
// does not exist, more labels than a pair allows, a label limit above its
// pair's object limit.
func NewPlan(desired, current *State, opt PlanOptions) (*Plan, error) {
	pl := &planner{d: desired, c: current, opt: opt, final: map[PairKey]map[int32]int32{}, matched: map[PairKey]map[int32]bool{}}
	pl.run()
	if len(pl.problems) > 0 {
		slices.SortStableFunc(pl.problems, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
		return nil, pl.problems
	}
	p := &Plan{Portal: opt.Portal, Changes: pl.changes}
	slices.SortStableFunc(p.Changes, func(a, b Change) int {
		return cmp.Or(a.Pair().cmp(b.Pair()), cmp.Compare(a.step, b.step), strings.Compare(a.Label, b.Label))
	})
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			p.Create++
		case Update:
			p.Update++
		case Delete:
			p.Delete++
		}
	}
	return p, nil
}

type planner struct {
	d, c     *State
	opt      PlanOptions
	changes  []Change
	problems Problems
	// final[k][typeID] is each current type's limit after the plan; new
	// labels are keyed by their (negative) desired ids.
	final   map[PairKey]map[int32]int32
	matched map[PairKey]map[int32]bool
	// labels counts the user-defined labels of each unordered pair after
	// the plan, and the line to blame.
	labels map[PairKey]int
	blame  map[PairKey]int
	// lines[k][typeID] is where the file sets a type's limit.
	lines map[PairKey]map[int32]lineLabel
}

func (pl *planner) bad(line int, format string, args ...any) {
	pl.problems = append(pl.problems, Problem{File: pl.opt.File, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (pl *planner) add(c Change) { pl.changes = append(pl.changes, c) }

func (pl *planner) setFinal(k PairKey, id, v int32) {
	if pl.final[k] == nil {
		pl.final[k] = map[int32]int32{}
	}
	pl.final[k][id] = v
}

// note records the file's line and the label of a limit the file sets.
func (pl *planner) note(k PairKey, id int32, line int, label string) {
	if line == 0 {
		return
	}
	if pl.lines == nil {
		pl.lines = map[PairKey]map[int32]lineLabel{}
	}
	if pl.lines[k] == nil {
		pl.lines[k] = map[int32]lineLabel{}
	}
	pl.lines[k][id] = lineLabel{line, label}
}

type lineLabel struct {
	line  int
	label string
}

func (pl *planner) match(k PairKey, id int32) {
	if pl.matched[k] == nil {
		pl.matched[k] = map[int32]bool{}
	}
	pl.matched[k][id] = true
}

func sortedKeys(m map[PairKey][]Type) []PairKey {
	ks := make([]PairKey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, PairKey.cmp)
	return ks
}

func (pl *planner) run() {
	for _, k := range sortedKeys(pl.c.Pairs) {
		for _, t := range pl.c.Pairs[k] {
			pl.setFinal(k, t.TypeID, t.Limit)
		}
	}
	for _, k := range sortedKeys(pl.d.Pairs) {
		for _, t := range pl.d.Pairs[k] {
			switch {
			case t.Default:
				pl.objectLimit(k, t)
			case !t.user():
				pl.definedType(k, t)
			case t.forward:
				pl.userLabel(k, t)
			}
		}
	}
	if pl.opt.Prune {
		pl.prune()
	}
	pl.checkFinal()
}

// limit plans a limit change of a current type cur to want (0: none).
func (pl *planner) limit(k PairKey, cur *Type, label string, want int32, line int, labelLimit bool) {
	c := Change{Kind: KindLimit, From: k.From, To: k.To, Label: label, Category: cur.Category, TypeID: cur.TypeID, Old: cur.Limit, New: want, Line: line}
	if want > 0 {
		pl.note(k, cur.TypeID, line, label)
	}
	switch {
	case want == cur.Limit:
		return
	case want == 0 && !pl.opt.Prune:
		return
	case want == 0:
		c.Action = Delete
	case cur.Limit == 0:
		c.Action = Create
	default:
		c.Action = Update
	}
	c.step = stepObjectLimit
	if labelLimit {
		c.step = stepRaiseLabelLimit
		if want != 0 && cur.Limit != 0 && want < cur.Limit || want == 0 {
			c.step = stepLowerLabelLimit
		}
	}
	pl.setFinal(k, cur.TypeID, want)
	pl.add(c)
}

func (pl *planner) objectLimit(k PairKey, t Type) {
	cur := pl.c.defaultType(k)
	if cur == nil {
		if pl.opt.Lenient {
			cur = &Type{Default: true, Category: CategoryHubSpotDefined}
			pl.c.Pairs[k] = append(pl.c.Pairs[k], *cur)
		} else {
			pl.bad(t.line, "%s: the portal has no association type between these objects (unknown object type?)", k)
			return
		}
	}
	pl.match(k, cur.TypeID)
	pl.limit(k, cur, "", t.Limit, t.limitLine, false)
}

func (pl *planner) definedType(k PairKey, t Type) {
	cur := pl.c.byID(k, t.TypeID)
	if cur == nil || cur.user() {
		if !pl.opt.Lenient {
			pl.bad(t.line, "%s has no %s association type %d (unknown type)", k, t.Category, t.TypeID)
			return
		}
		// Between files, a type only one file lists is there, unlimited.
		pl.c.Pairs[k] = append(pl.c.Pairs[k], Type{Category: t.Category, TypeID: t.TypeID, Label: t.Label})
		cur = &pl.c.Pairs[k][len(pl.c.Pairs[k])-1]
	}
	pl.match(k, cur.TypeID)
	if cur.Category != t.Category {
		pl.bad(t.line, "%s type %d is %s, not %s", k, t.TypeID, cur.Category, t.Category)
		return
	}
	if cur.Label != t.Label {
		if !pl.opt.Lenient {
			pl.bad(t.labelLine, "%s label %d is %q; HubSpot does not allow changing a %s label (only USER_DEFINED ones)", t.Category, t.TypeID, clip(cur.Label), t.Category)
			return
		}
		pl.add(Change{Action: Update, Kind: KindLabel, From: k.From, To: k.To, Label: t.Label, Category: t.Category, TypeID: t.TypeID, OldInverse: cur.Label, Line: t.labelLine, step: stepUpdateLabel})
	}
	pl.limit(k, cur, displayLabel(t), t.Limit, t.limitLine, !cur.Default)
}

func displayLabel(t Type) string {
	if t.Label == "" {
		return fmt.Sprintf("(type %d)", t.TypeID)
	}
	return t.Label
}

// userLabel plans a desired user-defined label (its forward direction).
func (pl *planner) userLabel(k PairKey, t Type) {
	dinv := pl.d.partner(k, &t)
	cur := pl.c.userLabel(k, t.Label)
	if cur == nil && dinv != nil {
		// Known by its other direction's text: the same label, seen from
		// the other side (a paired label's identity is either text).
		if ci := pl.c.userLabel(k.reverse(), dinv.Label); ci != nil {
			pl.matchedLabel(k.reverse(), *dinv, &t, ci)
			return
		}
	}
	if cur == nil {
		c := Change{Action: Create, Kind: KindLabel, From: k.From, To: k.To, Label: t.Label, Category: CategoryUserDefined, Name: t.name, Line: t.labelLine, step: stepCreateLabel}
		if dinv != nil {
			c.Inverse = dinv.Label
		}
		pl.add(c)
		if t.Limit > 0 {
			pl.add(Change{Action: Create, Kind: KindLimit, From: k.From, To: k.To, Label: t.Label, Category: CategoryUserDefined, New: t.Limit, Line: t.limitLine, step: stepRaiseLabelLimit})
		}
		pl.setFinal(k, t.TypeID, t.Limit)
		pl.note(k, t.TypeID, t.limitLine, t.Label)
		if dinv != nil {
			r := k.reverse()
			if dinv.Limit > 0 {
				pl.add(Change{Action: Create, Kind: KindLimit, From: r.From, To: r.To, Label: dinv.Label, Category: CategoryUserDefined, New: dinv.Limit, Line: dinv.limitLine, step: stepRaiseLabelLimit})
			}
			pl.setFinal(r, dinv.TypeID, dinv.Limit)
			pl.note(r, dinv.TypeID, dinv.limitLine, dinv.Label)
		}
		pl.count(k, t.line)
		return
	}
	pl.matchedLabel(k, t, dinv, cur)
}

// matchedLabel plans a desired label t (inverse dinv) found in the
// current state as cur, both in direction k.
func (pl *planner) matchedLabel(k PairKey, t Type, dinv, cur *Type) {
	pl.match(k, cur.TypeID)
	pl.count(k, t.line)
	cinv := pl.c.partner(k, cur)
	if cinv != nil {
		pl.match(k.reverse(), cinv.TypeID)
	}
	switch {
	case dinv == nil && cinv != nil && k.From == k.To:
		pl.bad(t.line, "label %q in %s is paired with %q in the portal; a pairing cannot be removed: delete the label and create it again", clip(t.Label), k, clip(cinv.Label))
		return
	case dinv != nil && cinv == nil:
		pl.bad(t.line, "label %q in %s is unpaired in the portal; a pairing cannot be added: delete the label and create it again", clip(t.Label), k)
		return
	case dinv != nil && cinv.Label != dinv.Label:
		pl.add(Change{Action: Update, Kind: KindLabel, From: k.From, To: k.To, Label: t.Label, Category: CategoryUserDefined, TypeID: cur.TypeID,
			Inverse: dinv.Label, OldInverse: cinv.Label, InverseTypeID: cinv.TypeID, Line: t.labelLine, step: stepUpdateLabel})
	}
	pl.limit(k, cur, t.Label, t.Limit, t.limitLine, true)
	if dinv != nil {
		pl.limit(k.reverse(), cinv, dinv.Label, dinv.Limit, dinv.limitLine, true)
	}
}

// count adds a label to its unordered pair's count.
func (pl *planner) count(k PairKey, line int) {
	u := k
	if u.To < u.From {
		u = k.reverse()
	}
	if pl.labels == nil {
		pl.labels, pl.blame = map[PairKey]int{}, map[PairKey]int{}
	}
	pl.labels[u]++
	if pl.blame[u] == 0 {
		pl.blame[u] = line
	}
}

// prune deletes current user-defined labels the file does not have, and
// purges the limits of types the file does not list.
func (pl *planner) prune() {
	for _, k := range sortedKeys(pl.c.Pairs) {
		for i := range pl.c.Pairs[k] {
			t := &pl.c.Pairs[k][i]
			if pl.matched[k][t.TypeID] {
				continue
			}
			if !t.user() || t.Label == "" {
				label := ""
				if !t.Default {
					label = displayLabel(*t)
				}
				pl.limit(k, t, label, 0, 0, !t.Default)
				continue
			}
			inv := pl.c.partner(k, t)
			if inv != nil && pl.matched[k.reverse()][inv.TypeID] {
				continue // kept through its partner
			}
			if inv != nil && inv.TypeID < t.TypeID {
				continue // deleted with its partner
			}
			c := Change{Action: Delete, Kind: KindLabel, From: k.From, To: k.To, Label: t.Label, Category: t.Category, TypeID: t.TypeID, step: stepDeleteLabel}
			if t.Limit > 0 {
				c.References++
			}
			pl.setFinal(k, t.TypeID, 0)
			if inv != nil {
				c.Inverse, c.InverseTypeID = inv.Label, inv.TypeID
				if inv.Limit > 0 {
					c.References++
				}
				pl.setFinal(k.reverse(), inv.TypeID, 0)
				pl.match(k.reverse(), inv.TypeID)
			}
			pl.match(k, t.TypeID)
			pl.add(c)
		}
	}
}

// checkFinal checks the state after the plan: labels per pair, and label
// limits against object limits.
func (pl *planner) checkFinal() {
	if !pl.opt.Prune {
		// Current labels the file does not list stay.
		for _, k := range sortedKeys(pl.c.Pairs) {
			for i := range pl.c.Pairs[k] {
				t := &pl.c.Pairs[k][i]
				if !t.user() || t.Label == "" || pl.matched[k][t.TypeID] {
					continue
				}
				inv := pl.c.partner(k, t)
				if inv != nil && (pl.matched[k.reverse()][inv.TypeID] || inv.TypeID < t.TypeID) {
					continue
				}
				pl.count(k, pl.lineOfPair(k))
			}
		}
	}
	us := make([]PairKey, 0, len(pl.labels))
	for u := range pl.labels {
		us = append(us, u)
	}
	slices.SortFunc(us, PairKey.cmp)
	for _, u := range us {
		if n := pl.labels[u]; n > MaxLabelsPerPair && !pl.opt.Lenient {
			pl.bad(pl.blame[u], "%s and %s would have %d labels; HubSpot allows at most %d per object pair", u.From, u.To, n, MaxLabelsPerPair)
		}
	}
	for _, k := range sortedKeys(pl.d.Pairs) {
		ct := pl.c.defaultType(k)
		if ct == nil {
			continue
		}
		objLimit := pl.final[k][ct.TypeID]
		if objLimit == 0 {
			continue
		}
		obj, objSet := pl.lines[k][ct.TypeID]
		// Only labels' limits are bound by the object limit; another
		// unlabeled type is not a label.
		unlabeled := map[int32]bool{}
		for _, t := range pl.c.Pairs[k] {
			if t.Label == "" {
				unlabeled[t.TypeID] = true
			}
		}
		ids := make([]int32, 0, len(pl.final[k]))
		for id := range pl.final[k] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			v := pl.final[k][id]
			if id == ct.TypeID || v <= objLimit || unlabeled[id] {
				continue
			}
			if l, ok := pl.lines[k][id]; ok && l.label != "" {
				at := ""
				if objSet {
					at = fmt.Sprintf(" (line %d)", obj.line)
				}
				pl.bad(l.line, "limit %d of label %q is above the object limit %d of %s%s; HubSpot requires a label limit at most the object limit", v, clip(l.label), objLimit, k, at)
				continue
			}
			if objSet {
				label := fmt.Sprintf("(type %d)", id)
				if t := pl.c.byID(k, id); t != nil {
					label = displayLabel(*t)
				}
				pl.bad(obj.line, "object limit %d of %s is below the limit %d the portal has on label %q; HubSpot requires a label limit at most the object limit (lower it in the file, or --prune)", objLimit, k, v, clip(label))
			}
		}
	}
}

// lineOfPair is the desired file's line for a direction (0 if none).
func (pl *planner) lineOfPair(k PairKey) int {
	for _, kk := range []PairKey{k, k.reverse()} {
		for _, t := range pl.d.Pairs[kk] {
			if t.line > 0 {
				return t.line
			}
		}
	}
	return 0
}

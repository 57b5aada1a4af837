package schemaconf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
)

// Outcome is what became of one change.
type Outcome string

// Outcomes. A change whose request may or may not have reached HubSpot is
// read back: the report then says whether it was applied.
const (
	Applied           Outcome = "applied"
	Failed            Outcome = "failed"
	NotAttempted      Outcome = "not attempted"
	UnknownApplied    Outcome = "outcome unknown, read back: applied"
	UnknownNotApplied Outcome = "outcome unknown, read back: not applied"
	Unknown           Outcome = "outcome unknown, read back failed"
)

// Result is one change's outcome; Message is HubSpot's message for a
// failure, the reason for a change not attempted.
type Result struct {
	Change  Change  `json:"change"`
	Outcome Outcome `json:"outcome"`
	Message string  `json:"message,omitempty"`
}

// Report accounts for every change of a plan, in the plan's order.
type Report struct {
	Results []Result `json:"results"`
}

// Count returns how many changes had the outcome.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, x := range r.Results {
		if x.Outcome == o {
			n++
		}
	}
	return n
}

// Complete reports whether every change was applied (read back or not).
func (r *Report) Complete() bool {
	return r.Count(Applied)+r.Count(UnknownApplied) == len(r.Results)
}

// Summary is the report's last line.
func (r *Report) Summary() string {
	applied := fmt.Sprintf("%d applied", r.Count(Applied)+r.Count(UnknownApplied))
	if n := r.Count(UnknownApplied); n > 0 {
		applied += fmt.Sprintf(" (%d found by reading back after an unknown outcome)", n)
	}
	parts := []string{applied}
	for _, o := range []Outcome{Failed, NotAttempted, UnknownNotApplied, Unknown} {
		if n := r.Count(o); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
		}
	}
	return fmt.Sprintf("Apply: %d changes: %s.", len(r.Results), strings.Join(parts, ", "))
}

// readBackTimeout bounds a read-back after an unknown outcome; it runs
// even when the apply was cancelled, so the report can say what happened.
const readBackTimeout = 30 * time.Second

// Apply carries out the plan through s, in the order that keeps every
// intermediate state valid for HubSpot (see step): labels, then the limits
// that use their typeIds, in batch calls per direction. It stops sending
// when ctx ends or HubSpot refuses the token, and accounts for every
// change. progress, when not nil, is called after each change settles.
// Running Apply again on a new plan of the same file converges.
func Apply(ctx context.Context, s *associations.Schema, p *Plan, o *Objects, progress func(done, total int, c Change)) *Report {
	a := &applier{ctx: ctx, s: s, o: o, progress: progress, total: len(p.Changes), newIDs: map[labelKey]int32{}}
	a.rep.Results = make([]Result, len(p.Changes))
	for i, c := range p.Changes {
		a.rep.Results[i] = Result{Change: c, Outcome: NotAttempted, Message: "not reached"}
	}
	byStep := map[step][]int{}
	for i, c := range p.Changes {
		byStep[c.step] = append(byStep[c.step], i)
	}
	for st := stepDeleteLabel; st <= stepRaiseLabelLimit; st++ {
		idx := byStep[st]
		if len(idx) == 0 {
			continue
		}
		if st > stepUpdateLabel && !a.resolved {
			a.resolveNew(p)
		}
		if st <= stepUpdateLabel {
			for _, i := range idx {
				a.label(i)
			}
			continue
		}
		a.limits(idx)
	}
	return &a.rep
}

type labelKey struct {
	k    PairKey
	text string
}

type applier struct {
	ctx      context.Context
	s        *associations.Schema
	o        *Objects
	progress func(done, total int, c Change)
	rep      Report
	done     int
	total    int
	stop     string // why nothing more is sent
	resolved bool
	newIDs   map[labelKey]int32
}

func (a *applier) settle(i int, out Outcome, msg string) {
	a.rep.Results[i].Outcome, a.rep.Results[i].Message = out, msg
	a.done++
	if a.progress != nil {
		a.progress(a.done, a.total, a.rep.Results[i].Change)
	}
}

// halted reports whether sending must stop (ctx ended, token refused).
func (a *applier) halted() bool {
	if a.stop == "" && a.ctx.Err() != nil {
		a.stop = "interrupted: " + a.ctx.Err().Error()
	}
	return a.stop != ""
}

// fail settles change i after err, reading back when the outcome is
// unknown; applied says, from a read-back, whether the change is there.
func (a *applier) fail(i int, err error, applied func(context.Context) (bool, error)) {
	if hubspot.IsFatal(err) {
		a.stop = "stopped after: " + message(err)
	}
	if refused(err) {
		a.settle(i, Failed, message(err))
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(a.ctx), readBackTimeout)
	defer cancel()
	ok, rerr := applied(rctx)
	switch {
	case rerr != nil:
		a.settle(i, Unknown, message(err)+"; read back: "+message(rerr))
	case ok:
		a.settle(i, UnknownApplied, message(err))
	default:
		a.settle(i, UnknownNotApplied, message(err))
	}
}

// refused reports whether err says for sure that the change was not
// applied: HubSpot refused it (a 4xx), or the request was never sent.
// Anything else (hubspot.ErrOutcomeUnknown, a 5xx, a connection cut after
// sending, a cancelled context) may have been applied, and is read back.
func refused(err error) bool {
	if errors.Is(err, hubspot.ErrOutcomeUnknown) {
		return false
	}
	var ae *hubspot.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 400 && ae.StatusCode < 500
	}
	var re *hubspot.RequestError
	if errors.As(err, &re) {
		return !re.MaybeSent
	}
	return errors.Is(err, hubspot.ErrNotAttempted)
}

// message is HubSpot's message for an error, or the error.
func message(err error) string {
	var ae *hubspot.APIError
	if errors.As(err, &ae) && ae.Message != "" {
		return fmt.Sprintf("HubSpot %d %s: %s", ae.StatusCode, ae.Category, oneLine(ae.Message))
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500] + "..."
	}
	return s
}

func (a *applier) ids(k PairKey) (string, string, error) {
	from, ok1 := a.o.ID(k.From)
	to, ok2 := a.o.ID(k.To)
	if !ok1 || !ok2 {
		return "", "", fmt.Errorf("%s: no object type id for this portal", k)
	}
	return from, to, nil
}

// findLabel reads a direction back and returns the user-defined type with
// the text (nil if none).
func (a *applier) findLabel(ctx context.Context, k PairKey, pred func(associations.Label) bool) (*associations.Label, error) {
	from, to, err := a.ids(k)
	if err != nil {
		return nil, err
	}
	ls, err := a.s.Labels(ctx, from, to)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if pred(l) {
			return &l, nil
		}
	}
	return nil, nil
}

func userText(text string) func(associations.Label) bool {
	return func(l associations.Label) bool {
		return l.Category == associations.AssociationCategoryUserDefined && l.Label != nil && *l.Label == text
	}
}

func byTypeID(id int32) func(associations.Label) bool {
	return func(l associations.Label) bool { return l.TypeID == id }
}

// label carries out one label change.
func (a *applier) label(i int) {
	if a.halted() {
		a.settle(i, NotAttempted, a.stop)
		return
	}
	c := a.rep.Results[i].Change
	from, to, err := a.ids(c.Pair())
	if err != nil {
		a.settle(i, Failed, err.Error())
		return
	}
	switch c.Action {
	case Create:
		body := associations.LabelCreate{Label: c.Label, Name: c.Name}
		if c.Inverse != "" {
			body.InverseLabel = &c.Inverse
		}
		// The answer is not used: the typeIds are read back with the
		// other new labels before the limits (resolveNew).
		_, err = a.s.CreateLabel(a.ctx, from, to, body)
		if err == nil {
			a.settle(i, Applied, "")
			return
		}
		a.fail(i, err, func(ctx context.Context) (bool, error) {
			l, err := a.findLabel(ctx, c.Pair(), userText(c.Label))
			return l != nil, err
		})
	case Update:
		body := associations.LabelUpdate{AssociationTypeID: c.TypeID, Label: c.Label}
		if c.Category == CategoryUserDefined {
			body.InverseLabel = &c.Inverse
		}
		err = a.s.UpdateLabel(a.ctx, from, to, body)
		if err == nil {
			a.settle(i, Applied, "")
			return
		}
		a.fail(i, err, func(ctx context.Context) (bool, error) {
			l, err := a.findLabel(ctx, c.Pair().reverse(), byTypeID(c.InverseTypeID))
			return l != nil && l.Label != nil && *l.Label == c.Inverse, err
		})
	case Delete:
		err = a.s.DeleteLabel(a.ctx, from, to, c.TypeID)
		var ae *hubspot.APIError
		if err == nil || errors.As(err, &ae) && ae.StatusCode == 404 {
			// A 404 after a resend means an earlier attempt deleted it.
			a.settle(i, Applied, "")
			return
		}
		a.fail(i, err, func(ctx context.Context) (bool, error) {
			l, err := a.findLabel(ctx, c.Pair(), byTypeID(c.TypeID))
			return l == nil, err
		})
	}
}

// resolveNew reads back the directions of the labels the plan created, to
// learn their typeIds for the limits on them.
func (a *applier) resolveNew(p *Plan) {
	a.resolved = true
	need := map[PairKey]bool{}
	for _, c := range p.Changes {
		if c.Kind == KindLimit && c.TypeID == 0 && c.Action != Delete {
			need[c.Pair()] = true
		}
	}
	keys := make([]PairKey, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, PairKey.cmp)
	for _, k := range keys {
		if a.halted() {
			return
		}
		from, to, err := a.ids(k)
		if err != nil {
			continue
		}
		ls, err := a.s.Labels(a.ctx, from, to)
		if err != nil {
			continue // the limits on its new labels are reported not attempted
		}
		for _, l := range ls {
			if l.Category == associations.AssociationCategoryUserDefined && l.Label != nil {
				a.newIDs[labelKey{k, *l.Label}] = l.TypeID
			}
		}
	}
}

// limits carries out one step's limit changes: one batch call per
// direction and action.
func (a *applier) limits(idx []int) {
	type group struct {
		k   PairKey
		act Action
	}
	groups := map[group][]int{}
	var order []group
	for _, i := range idx {
		c := &a.rep.Results[i].Change
		if c.TypeID == 0 {
			id, ok := a.newIDs[labelKey{c.Pair(), c.Label}]
			if !ok {
				if a.halted() {
					a.settle(i, NotAttempted, a.stop)
				} else {
					a.settle(i, NotAttempted, fmt.Sprintf("label %q was not found in %s after the label changes", c.Label, c.Pair()))
				}
				continue
			}
			c.TypeID = id
		}
		g := group{c.Pair(), c.Action}
		if groups[g] == nil {
			order = append(order, g)
		}
		groups[g] = append(groups[g], i)
	}
	for _, g := range order {
		is := groups[g]
		if a.halted() {
			for _, i := range is {
				a.settle(i, NotAttempted, a.stop)
			}
			continue
		}
		from, to, err := a.ids(g.k)
		if err != nil {
			for _, i := range is {
				a.settle(i, Failed, err.Error())
			}
			continue
		}
		var rs batchOutcome
		switch g.act {
		case Create:
			res, err := a.s.CreateConfigurations(a.ctx, from, to, inputs(a, is, func(c Change) associations.LimitCreate {
				return associations.LimitCreate{Category: associations.AssociationCategory(c.Category), TypeID: c.TypeID, MaxToObjectIDs: c.New}
			}))
			rs = outcomeOf(res, err)
		case Update:
			res, err := a.s.UpdateConfigurations(a.ctx, from, to, inputs(a, is, func(c Change) associations.LimitUpdate {
				return associations.LimitUpdate{Category: associations.AssociationCategory(c.Category), TypeID: c.TypeID, MaxToObjectIDs: c.New}
			}))
			rs = outcomeOf(res, err)
		case Delete:
			res, err := a.s.PurgeConfigurations(a.ctx, from, to, inputs(a, is, func(c Change) associations.LimitKey {
				return associations.LimitKey{Category: associations.AssociationCategory(c.Category), TypeID: c.TypeID}
			}))
			rs = outcomeOf(res, err)
		}
		var live map[int32]int32
		var liveErr error
		readLive := func(ctx context.Context) (map[int32]int32, error) {
			if live != nil || liveErr != nil {
				return live, liveErr
			}
			ls, err := a.s.Configurations(ctx, from, to)
			if err != nil {
				liveErr = err
				return nil, err
			}
			live = map[int32]int32{}
			for _, l := range ls {
				if l.UserEnforcedMaxToObjectIDs != nil {
					live[l.TypeID] = *l.UserEnforcedMaxToObjectIDs
				}
			}
			return live, nil
		}
		for j, i := range is {
			c := a.rep.Results[i].Change
			switch st := rs.state(j); {
			case st.ok:
				a.settle(i, Applied, "")
			case st.notAttempted != nil:
				a.settle(i, NotAttempted, message(st.notAttempted))
			default:
				a.fail(i, st.err, func(ctx context.Context) (bool, error) {
					m, err := readLive(ctx)
					if err != nil {
						return false, err
					}
					return m[c.TypeID] == c.New, nil
				})
			}
		}
	}
}

// inputState is one batch input's result.
type inputState struct {
	ok           bool
	err          error
	notAttempted error
}

// batchOutcome indexes a hubspot.Result by input.
type batchOutcome struct {
	states map[int]inputState
	err    error
}

func (b batchOutcome) state(i int) inputState {
	if s, ok := b.states[i]; ok {
		return s
	}
	if b.err != nil {
		return inputState{err: b.err}
	}
	return inputState{err: hubspot.ErrNoResult}
}

// inputs builds one batch input per change of is, in order, so that input
// j of the batch is change is[j].
func inputs[T any](a *applier, is []int, in func(Change) T) []T {
	out := make([]T, len(is))
	for j, i := range is {
		out[j] = in(a.rep.Results[i].Change)
	}
	return out
}

func outcomeOf[In, Out any](res *hubspot.Result[In, Out], err error) batchOutcome {
	b := batchOutcome{states: map[int]inputState{}, err: err}
	if res == nil {
		return b
	}
	for _, s := range res.Succeeded {
		b.states[s.Index] = inputState{ok: true}
	}
	for _, f := range res.Failed {
		b.states[f.Index] = inputState{err: f.Err}
	}
	for _, n := range res.NotAttempted {
		reason := n.Reason
		if reason == nil {
			reason = hubspot.ErrNotAttempted
		}
		b.states[n.Index] = inputState{notAttempted: reason}
	}
	return b
}

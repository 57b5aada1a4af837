package schemaconf

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// desiredFile is what the portal should end up with: new labels (one on a
// custom object pair), a renamed inverse, object and label limits, and
// (with --prune) a label and a limit removed.
const desiredFile = `apiVersion: "2026-03"
objects:
  project: {production: 2-222}
associations:
  - from: companies
    to: companies
    labels:
      - label: Partner
  - from: contacts
    to: companies
    limit: 10
    labels:
      - label: Primary
        category: HUBSPOT_DEFINED
        typeId: 1
        limit: 1
      - label: Decision maker
        inverse: Decided by
        limit: 2
        inverseLimit: 4
      - label: Champion
        inverse: Championed by
        limit: 3
  - from: contacts
    to: project
    limit: 5
    labels:
      - label: Project lead
        inverse: Led project
        inverseLimit: 3
  - from: deals
    to: contacts
`

// productionPortal is a fake with a schema older than desiredFile.
func productionPortal(t *testing.T, opts ...hubspottest.Option) (*hubspottest.Server, *Objects, *File, func() *applyEnv) {
	t.Helper()
	opts = append([]hubspottest.Option{
		hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "contacts", ToObjectType: "2-222", Category: "USER_DEFINED", TypeID: 1501}),
		hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "2-222", ToObjectType: "contacts", Category: "USER_DEFINED", TypeID: 1502}),
	}, opts...)
	srv, s := newPortal(t, opts...)
	if _, err := srv.CreateLabel("deals", "contacts", "legacy", "Legacy", "Legacy"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateLabel("contacts", "companies", "decision_maker", "Decision maker", "Decider's company"); err != nil {
		t.Fatal(err)
	}
	for _, l := range []hubspottest.Limit{
		{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 279, MaxToObjectIDs: 20},
		{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 1, MaxToObjectIDs: 7},
		{FromObjectType: "deals", ToObjectType: "contacts", TypeID: 3, MaxToObjectIDs: 4},
	} {
		if err := srv.SetLimit(l); err != nil {
			t.Fatal(err)
		}
	}
	f := mustParse(t, desiredFile)
	o := mustObjects(t, f, "production", nil)
	return srv, o, f, func() *applyEnv { return &applyEnv{t: t, srv: srv, o: o, f: f, s: s} }
}

// truth reports whether a change is in the fake's state, read directly
// (not over HTTP, so no fault touches it).
func truth(t *testing.T, srv *hubspottest.Server, o *Objects, c Change) bool {
	t.Helper()
	from, _ := o.ID(c.From)
	to, _ := o.ID(c.To)
	types, err := srv.AssociationTypes(from, to)
	if err != nil {
		t.Fatal(err)
	}
	find := func(ts []hubspottest.AssociationType, pred func(hubspottest.AssociationType) bool) *hubspottest.AssociationType {
		for _, x := range ts {
			if pred(x) {
				return &x
			}
		}
		return nil
	}
	switch c.Kind {
	case KindLabel:
		switch c.Action {
		case Create:
			return find(types, func(x hubspottest.AssociationType) bool {
				return x.Category == CategoryUserDefined && x.Label == c.Label
			}) != nil
		case Update:
			back, err := srv.AssociationTypes(to, from)
			if err != nil {
				t.Fatal(err)
			}
			x := find(back, func(x hubspottest.AssociationType) bool { return x.TypeID == c.InverseTypeID })
			return x != nil && x.Label == c.Inverse
		default:
			return find(types, func(x hubspottest.AssociationType) bool { return x.TypeID == c.TypeID }) == nil
		}
	}
	var cur int32
	for _, l := range srv.Limits() {
		if l.FromObjectType == from && l.ToObjectType == to && l.TypeID == c.TypeID && l.Category == c.Category {
			cur = l.MaxToObjectIDs
		}
	}
	if c.Action == Delete {
		return cur == 0
	}
	return c.TypeID != 0 && cur == c.New
}

type applyEnv struct {
	t   *testing.T
	srv *hubspottest.Server
	o   *Objects
	f   *File
	s   *associations.Schema
}

func schemaOf(t *testing.T, env *applyEnv) *associations.Schema { return env.s }

// applyOnce plans desiredFile (with prune) and applies it, checking every
// line of the report against the fake's state. It returns the report.
func applyOnce(t *testing.T, ctx context.Context, srv *hubspottest.Server, env *applyEnv, progress func(int, int, Change)) (*Plan, *Report) {
	t.Helper()
	p, o, err := planOn(t, schemaOf(t, env), env.f, "production", nil, true)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	rep := Apply(ctx, schemaOf(t, env), p, o, progress)
	if len(rep.Results) != len(p.Changes) {
		t.Fatalf("report has %d results for %d changes", len(rep.Results), len(p.Changes))
	}
	for _, r := range rep.Results {
		in := truth(t, srv, o, r.Change)
		switch r.Outcome {
		case Applied, UnknownApplied:
			if !in {
				t.Errorf("reported %s but not in the portal: %s %s", r.Outcome, r.Change.Pair(), r.Change.Describe())
			}
		case Failed, NotAttempted, UnknownNotApplied:
			if in {
				t.Errorf("reported %s (%s) but in the portal: %s %s", r.Outcome, r.Message, r.Change.Pair(), r.Change.Describe())
			}
		}
	}
	return p, rep
}

const wantFirstPlan = `companies -> companies
  + label "Partner" (name partner)

companies -> contacts
  + limit on "Decided by" (typeId 1506): 4

contacts -> companies
  + label "Champion" / inverse "Championed by" (name champion)
  ~ label "Decision maker" (typeId 1505): inverse "Decider's company" -> "Decided by"
  ~ limit on "Primary" (typeId 1): 7 -> 1
  ~ object limit (typeId 279): 20 -> 10
  + limit on "Champion": 3
  + limit on "Decision maker" (typeId 1505): 2

contacts -> project
  + label "Project lead" / inverse "Led project" (name project_lead)
  + object limit (typeId 1501): 5

deals -> contacts
  - label "Legacy" / inverse "Legacy" (typeId 1503)
  - object limit (typeId 3): 4

project -> contacts
  + limit on "Led project": 3

Plan: 8 to create, 3 to change, 2 to delete.
`

func TestApply_cleanThenNoOp(t *testing.T) {
	srv, _, _, mk := productionPortal(t)
	env := mk()
	p, rep := applyOnce(t, context.Background(), srv, env, nil)
	wantLines(t, planText(t, p), wantFirstPlan)
	if !rep.Complete() || rep.Summary() != "Apply: 13 changes: 13 applied." {
		t.Fatalf("report: %s\n%s", rep.Summary(), reportText(t, rep))
	}
	p, _ = applyOnce(t, context.Background(), srv, env, nil)
	if !p.Empty() {
		t.Fatalf("second plan is not empty:\n%s", planText(t, p))
	}
}

func reportText(t *testing.T, r *Report) string {
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestApply_faults applies under seeded random faults (5xx, resets after
// the change was applied, cut-off answers) and a 429 storm from another
// client of the same token: every report line is true, and re-running
// apply converges to the file.
func TestApply_faults(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			srv, _, _, mk := productionPortal(t,
				hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Seed: seed, Probability: 0.25, Choices: []hubspottest.Fault{
					{Kind: hubspottest.FaultResetAfterApply}, {Kind: hubspottest.FaultStatus, Status: 503},
					{Kind: hubspottest.FaultTruncateBody}, {Kind: hubspottest.FaultResetBeforeApply},
				}}),
				hubspottest.WithRateLimit(40, 100*time.Millisecond), hubspottest.WithRetryAfter(false))
			env := mk()
			stop := storm(t, srv.URL)
			var rep *Report
			runs := 0
			for runs = 1; runs <= 6; runs++ {
				var p *Plan
				p, rep = applyOnce(t, context.Background(), srv, env, nil)
				if p.Empty() {
					break
				}
				t.Logf("run %d: %s", runs, rep.Summary())
			}
			stop()
			if runs > 6 {
				t.Fatalf("did not converge in 6 runs; last:\n%s", reportText(t, rep))
			}
			st := srv.Stats()
			if st.Faults == 0 || st.RateLimited == 0 {
				t.Fatalf("the run saw %d faults and %d 429s; the test should inject both", st.Faults, st.RateLimited)
			}
			assertFinal(t, env)
		})
	}
}

// storm spends the token's rolling window in bursts of more requests
// than it allows (so 429s are certain), until stopped.
func storm(t *testing.T, url string) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			for range 50 {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/crm/associations/2026-03/contacts/companies/labels", nil)
				req.Header.Set("Authorization", "Bearer "+hubspottest.DefaultToken)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(150 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}

// assertFinal checks the portal is the file: its plan is empty with
// prune, and its export is the expected one.
func assertFinal(t *testing.T, env *applyEnv) {
	t.Helper()
	p, _, err := planOn(t, schemaOf(t, env), env.f, "production", nil, true)
	if err != nil || !p.Empty() {
		t.Fatalf("final plan not empty (%v):\n%s", err, planText(t, p))
	}
}

// TestApply_interrupted cancels an apply half-way: the report says which
// changes were applied and which not attempted, and a second apply
// finishes the job.
func TestApply_interrupted(t *testing.T) {
	srv, _, _, mk := productionPortal(t)
	env := mk()
	ctx, cancel := context.WithCancel(context.Background())
	_, rep := applyOnce(t, ctx, srv, env, func(done, total int, _ Change) {
		if done == 4 {
			cancel()
		}
	})
	cancel()
	if rep.Count(Applied) < 4 || rep.Count(NotAttempted) == 0 || rep.Complete() {
		t.Fatalf("interrupted report: %s\n%s", rep.Summary(), reportText(t, rep))
	}
	for _, r := range rep.Results {
		if r.Outcome == NotAttempted && !strings.Contains(r.Message, "interrupted") && !strings.Contains(r.Message, "not found") {
			t.Errorf("not attempted without saying why: %+v", r)
		}
	}
	p, rep2 := applyOnce(t, context.Background(), srv, env, nil)
	if p.Empty() || !rep2.Complete() {
		t.Fatalf("second apply: %s", rep2.Summary())
	}
	if len(p.Changes) != len(rep.Results)-rep.Count(Applied)-rep.Count(UnknownApplied) {
		t.Errorf("second plan has %d changes; the first apply left %d", len(p.Changes), len(rep.Results)-rep.Count(Applied))
	}
	assertFinal(t, env)
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmkit/hubspot-associations/hubspottest"
	"github.com/crmkit/hubspot-associations/internal/redistest"
)

// portals are two fakes standing for a sandbox and a production portal:
// the same custom object has different ids (2-111, 2-222), labels have
// different typeIds, and production has limits and a label of its own.
type portals struct {
	sandbox, production *hubspottest.Server
	env                 map[string]string
	dir                 string
}

const (
	sandboxToken    = "pat-na1-11111111-1111-1111-1111-111111111111"
	productionToken = "pat-na1-22222222-2222-2222-2222-222222222222"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func typeID(t *testing.T, s *hubspottest.Server, from, to, label string) int32 {
	t.Helper()
	ts, err := s.AssociationTypes(from, to)
	must(t, err)
	for _, x := range ts {
		if x.Label == label {
			return x.TypeID
		}
	}
	t.Fatalf("no type %q from %s to %s", label, from, to)
	return 0
}

func newPortals(t *testing.T, prodOpts ...hubspottest.Option) *portals {
	t.Helper()
	base := []hubspottest.Option{hubspottest.WithRateLimit(1000, time.Second)}
	var opts []hubspottest.Option
	sb := hubspottest.NewServer(t, append(append(base, hubspottest.WithToken(sandboxToken),
		hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "contacts", ToObjectType: "2-111", Category: "USER_DEFINED", TypeID: 901}),
		hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "2-111", ToObjectType: "contacts", Category: "USER_DEFINED", TypeID: 902})), opts...)...)
	pr := hubspottest.NewServer(t, append(append(base, hubspottest.WithToken(productionToken),
		hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "contacts", ToObjectType: "2-222", Category: "USER_DEFINED", TypeID: 1501}),
		hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "2-222", ToObjectType: "contacts", Category: "USER_DEFINED", TypeID: 1502})), prodOpts...)...)

	// Sandbox: the schema to promote.
	_, err := sb.CreateLabel("contacts", "companies", "decision_maker", "Decision maker", "Decided by")
	must(t, err)
	_, err = sb.CreateLabel("contacts", "2-111", "project_lead", "Project lead", "Led project")
	must(t, err)
	_, err = sb.CreateLabel("companies", "companies", "partner", "Partner", "")
	must(t, err)
	must(t, sb.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 279, MaxToObjectIDs: 10}))
	must(t, sb.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 1, MaxToObjectIDs: 1}))
	must(t, sb.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", Category: "USER_DEFINED", TypeID: typeID(t, sb, "contacts", "companies", "Decision maker"), MaxToObjectIDs: 2}))
	must(t, sb.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "2-111", Category: "USER_DEFINED", TypeID: 901, MaxToObjectIDs: 5}))
	must(t, sb.SetLimit(hubspottest.Limit{FromObjectType: "2-111", ToObjectType: "contacts", Category: "USER_DEFINED", TypeID: typeID(t, sb, "2-111", "contacts", "Led project"), MaxToObjectIDs: 3}))

	// Production: older state, other typeIds.
	_, err = pr.CreateLabel("deals", "contacts", "legacy", "Legacy", "Legacy")
	must(t, err)
	_, err = pr.CreateLabel("contacts", "companies", "decision_maker", "Decision maker", "Decider's company")
	must(t, err)
	must(t, pr.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 279, MaxToObjectIDs: 20}))
	must(t, pr.SetLimit(hubspottest.Limit{FromObjectType: "deals", ToObjectType: "contacts", TypeID: 3, MaxToObjectIDs: 4}))
	must(t, pr.SetLimit(hubspottest.Limit{FromObjectType: "deals", ToObjectType: "contacts", Category: "USER_DEFINED", TypeID: typeID(t, pr, "deals", "contacts", "Legacy"), MaxToObjectIDs: 2}))

	return &portals{sandbox: sb, production: pr, dir: t.TempDir(), env: map[string]string{
		"HUBSPOT_TOKEN_SANDBOX":    sandboxToken,
		"HUBSPOT_TOKEN_PRODUCTION": productionToken,
	}}
}

// run runs hubspot-assoc with the two portals' servers and objects.
func (p *portals) run(t *testing.T, ctx context.Context, stdin string, args ...string) (int, string, string) {
	t.Helper()
	all := append([]string{
		"--server", "sandbox=" + p.sandbox.URL, "--server", "production=" + p.production.URL,
		"--object", "sandbox:project=2-111", "--object", "production:project=2-222",
	}, args...)
	var out, errb bytes.Buffer
	code := run(ctx, all, func(k string) string { return p.env[k] }, strings.NewReader(stdin), &out, &errb)
	for _, tok := range []string{sandboxToken, productionToken} {
		if strings.Contains(out.String()+errb.String(), tok) {
			t.Fatalf("a token was printed")
		}
	}
	return code, out.String(), errb.String()
}

func (p *portals) path(name string) string { return filepath.Join(p.dir, name) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}

var portalIDs = regexp.MustCompile(`(?m)^(\s*(?:typeId|inverseTypeId): )\d+$|^(\s+)(sandbox|production): 2-\d+$`)

// withoutPortalIDs blanks what differs between portals by design: user
// typeIds and the custom object's id.
func withoutPortalIDs(s string) string {
	return portalIDs.ReplaceAllString(s, "${1}${2}ID")
}

const wantSandboxExport = `# Association schema of a HubSpot portal (hubspot-assoc export).
# User-defined labels are matched by text and direction; other types by typeId.
# A user-defined label's typeId is this portal's, for reference: plan ignores it.
apiVersion: 2026-03
objects:
  project:
    sandbox: 2-111
associations:
  - from: companies
    to: companies
    labels:
      - label: Partner
        name: partner
        typeId: 1004
  - from: companies
    to: contacts
    labels:
      - label: Decided by
        inverse: Decision maker
        name: decided_by
        typeId: 1001
        inverseTypeId: 1000
        inverseLimit: 2
  - from: contacts
    to: companies
    limit: 10
    labels:
      - label: Primary
        category: HUBSPOT_DEFINED
        typeId: 1
        limit: 1
  - from: contacts
    to: project
    limit: 5
    labels:
      - label: Project lead
        inverse: Led project
        name: project_lead
        typeId: 1002
        inverseTypeId: 1003
        inverseLimit: 3
`

// wantPlan is production's plan: the label known by its other direction
// is renamed, not created again; limits on new labels have no typeId yet;
// --prune deletes the label and the limit the sandbox does not have.
const wantPlan = `companies -> companies
  + label "Partner" (name partner)

contacts -> companies
  ~ label "Decision maker" (typeId 1505): inverse "Decider's company" -> "Decided by"
  ~ object limit (typeId 279): 20 -> 10
  + limit on "Decision maker" (typeId 1505): 2
  + limit on "Primary" (typeId 1): 1

contacts -> project
  + label "Project lead" / inverse "Led project" (name project_lead)
  + object limit (typeId 1501): 5

deals -> contacts
  - label "Legacy" / inverse "Legacy" (typeId 1503), and the 1 limit on it
  - object limit (typeId 3): 4

project -> contacts
  + limit on "Led project": 3

Plan: 6 to create, 2 to change, 2 to delete.
`

func TestEndToEnd_promoteSandboxToProduction(t *testing.T) {
	p := newPortals(t)
	ctx := context.Background()
	objs := "--objects=contacts,companies,deals"

	code, _, stderr := p.run(t, ctx, "", "export", "--portal", "sandbox", objs, "-o", p.path("sandbox.yaml"))
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	exported := readFile(t, p.path("sandbox.yaml"))
	if exported != wantSandboxExport {
		t.Fatalf("sandbox export:\n%s\nwant:\n%s", exported, wantSandboxExport)
	}
	// Two exports of the same portal are byte-identical.
	if code, again, _ := p.run(t, ctx, "", "export", "--portal", "sandbox", objs); code != 0 || again != exported {
		t.Fatalf("second export (exit %d) differs:\n%s", code, again)
	}

	code, plan, stderr := p.run(t, ctx, "", "plan", p.path("sandbox.yaml"), "--portal", "production", "--prune", objs)
	if code != exitChanges {
		t.Fatalf("plan: exit %d, want 2: %s", code, stderr)
	}
	if plan != wantPlan {
		t.Fatalf("plan:\n%s\nwant:\n%s", plan, wantPlan)
	}

	// Deleting a label asks; no answer changes nothing.
	before := writes(p.production)
	code, _, stderr = p.run(t, ctx, "", "apply", p.path("sandbox.yaml"), "--portal", "production", "--prune", objs)
	if code != exitError || !strings.Contains(stderr, "deletes 1 label(s) from portal production; 1 limit(s) reference them") || !strings.Contains(stderr, "not confirmed: nothing was changed") {
		t.Fatalf("apply without confirmation: exit %d: %s", code, stderr)
	}
	if writes(p.production) != before {
		t.Fatal("apply wrote without confirmation")
	}

	code, out, stderr := p.run(t, ctx, "yes\n", "apply", p.path("sandbox.yaml"), "--portal", "production", "--prune", objs)
	if code != 0 {
		t.Fatalf("apply: exit %d:\n%s%s", code, out, stderr)
	}
	if !strings.HasSuffix(out, "Apply: 10 changes: 10 applied.\n") || strings.Count(out, ": applied\n") != 10 {
		t.Fatalf("apply report:\n%s", out)
	}

	code, prodExport, stderr := p.run(t, ctx, "", "export", "--portal", "production", objs)
	if code != 0 {
		t.Fatalf("export production: exit %d: %s", code, stderr)
	}
	if withoutPortalIDs(prodExport) != withoutPortalIDs(exported) {
		t.Fatalf("production export differs from the sandbox's beyond typeIds:\n%s\nsandbox:\n%s", prodExport, exported)
	}
	if prodExport == exported {
		t.Fatal("the two portals' exports are identical: the test's typeIds should differ")
	}

	// A second apply is a no-op, and plan says so: reads only.
	writesBefore := writes(p.production)
	code, out, _ = p.run(t, ctx, "", "apply", p.path("sandbox.yaml"), "--portal", "production", "--prune", objs)
	if code != 0 || out != "No changes: portal production matches "+p.path("sandbox.yaml")+".\n" {
		t.Fatalf("second apply: exit %d:\n%s", code, out)
	}
	if w := writes(p.production); w != writesBefore {
		t.Fatalf("second apply wrote: %d writes before, %d after", writesBefore, w)
	}
	if code, out, _ := p.run(t, ctx, "", "plan", p.path("sandbox.yaml"), "--portal", "production", "--prune", objs); code != 0 || out != "No changes.\n" {
		t.Fatalf("plan after apply: exit %d: %s", code, out)
	}
	// diff between the two portals: none left.
	if code, out, stderr := p.run(t, ctx, "", "diff", "portal:sandbox", "portal:production", objs); code != 0 {
		t.Fatalf("diff portals: exit %d: %s%s", code, out, stderr)
	}
}

// writes counts the write requests a fake has answered.
func writes(s *hubspottest.Server) int {
	n := 0
	for op, c := range s.Stats().ByOperation {
		switch op {
		case hubspottest.OpCreateLabel, hubspottest.OpUpdateLabel, hubspottest.OpDeleteLabel,
			hubspottest.OpBatchCreateConfigurations, hubspottest.OpBatchUpdateConfigurations, hubspottest.OpBatchPurgeConfigurations:
			n += c
		}
	}
	return n
}

// TestRedis_sharesTheWindow: with --redis the token's rate-limit window
// lives in Redis (under the token's hash, never the token), as in
// examples/limits.
func TestRedis_sharesTheWindow(t *testing.T) {
	rs := redistest.ForTest(t)
	p := newPortals(t)
	code, out, stderr := p.run(t, context.Background(), "", "export", "--portal", "sandbox", "--redis", rs.Addr, "--objects=contacts,companies")
	if code != 0 || !strings.Contains(out, "label: Decided by") {
		t.Fatalf("export with --redis: exit %d: %s%s", code, out, stderr)
	}
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), "hubspot-ratelimit:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no rate-limit window in Redis (%v)", err)
	}
	for _, k := range keys {
		if strings.Contains(k, sandboxToken) {
			t.Fatal("a Redis key holds the token")
		}
	}
	if code, _, stderr := p.run(t, context.Background(), "", "export", "--portal", "sandbox", "--redis", "not a host"); code != 1 || !strings.Contains(stderr, "--redis wants host:port") {
		t.Fatalf("bad --redis: exit %d: %s", code, stderr)
	}
}

// TestEndToEnd_faults: the promotion again, with production failing at
// random (seeded: resets after the change was applied, 503s, cut-off
// answers) and rate-limited hard: apply, run again until it reports
// everything applied, and the result is the sandbox's schema.
func TestEndToEnd_faults(t *testing.T) {
	if testing.Short() {
		t.Skip("retries with the command's real backoff take seconds")
	}
	for _, seed := range []int64{11, 12} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			p := newPortals(t,
				hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Seed: seed, Probability: 0.15, Choices: []hubspottest.Fault{
					{Kind: hubspottest.FaultResetAfterApply}, {Kind: hubspottest.FaultStatus, Status: 503}, {Kind: hubspottest.FaultTruncateBody},
				}}),
				hubspottest.WithRateLimit(20, 200*time.Millisecond), hubspottest.WithRetryAfter(false))
			ctx := context.Background()
			objs := "--objects=contacts,companies,deals"
			if code, _, stderr := p.run(t, ctx, "", "export", "--portal", "sandbox", objs, "-o", p.path("sandbox.yaml")); code != 0 {
				t.Fatalf("export: exit %d: %s", code, stderr)
			}
			runs := 0
			for code := 1; code != 0; {
				if runs++; runs > 5 {
					t.Fatal("apply did not converge in 5 runs")
				}
				var out, stderr string
				code, out, stderr = p.run(t, ctx, "", "apply", p.path("sandbox.yaml"), "--portal", "production", "--prune", "--yes", objs)
				t.Logf("run %d: exit %d\n%s%s", runs, code, lastLine(out), lastLine(stderr))
			}
			code, prodExport, stderr := p.run(t, ctx, "", "export", "--portal", "production", objs)
			if code != 0 || withoutPortalIDs(prodExport) != withoutPortalIDs(wantSandboxExport) {
				t.Fatalf("production after apply (exit %d %s):\n%s", code, stderr, prodExport)
			}
			if st := p.production.Stats(); st.Faults == 0 {
				t.Fatal("no fault was injected")
			}
		})
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return ""
	}
	return s + "\n"
}

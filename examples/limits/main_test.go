package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

func noEnv(string) string { return "" }

func env(token string) func(string) string {
	return func(k string) string {
		if k == "HUBSPOT_TOKEN" {
			return token
		}
		return ""
	}
}

// row is one parsed row of the summary table.
type row struct {
	name                                  string
	hasInputs                             bool
	sent, succeeded, failed, notAttempted int
	requests, retries, rateLimited        int
	notes                                 string
}

var columnGap = regexp.MustCompile(`\s{2,}`)

// parseSummary returns the step rows of the table in out (header and total
// excluded) and fails the test on a malformed row.
func parseSummary(t *testing.T, out string) []row {
	t.Helper()
	var rows []row
	in := false
	for _, line := range strings.Split(out, "\n") {
		f := columnGap.Split(line, -1)
		switch {
		case len(f) > 0 && f[0] == "step":
			in = true
			continue
		case !in:
			continue
		case f[0] == "total":
			return rows
		}
		if len(f) < 9 {
			t.Fatalf("malformed summary row %q", line)
		}
		r := row{name: f[0], hasInputs: f[1] != "-"}
		nums := []*int{&r.sent, &r.succeeded, &r.failed, &r.notAttempted, &r.requests, &r.retries, &r.rateLimited}
		for i, p := range nums {
			if i < 4 && !r.hasInputs {
				if f[1+i] != "-" {
					t.Fatalf("row %q mixes - and numbers", line)
				}
				continue
			}
			n, err := strconv.Atoi(f[1+i])
			if err != nil {
				t.Fatalf("row %q column %d: %v", line, i+1, err)
			}
			*p = n
		}
		if len(f) > 9 {
			r.notes = strings.Join(f[9:], "  ")
		}
		rows = append(rows, r)
	}
	t.Fatalf("no summary table (header and total) in:\n%s", out)
	return nil
}

func stepNamed(t *testing.T, rows []row, name string) row {
	t.Helper()
	for _, r := range rows {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("no step %q in the summary", name)
	return row{}
}

// checkConsistent asserts that every step with inputs accounts for each
// of them once.
func checkConsistent(t *testing.T, rows []row) {
	t.Helper()
	for _, r := range rows {
		if r.hasInputs && r.succeeded+r.failed+r.notAttempted != r.sent {
			t.Errorf("step %s: succeeded %d + failed %d + not attempted %d != sent %d", r.name, r.succeeded, r.failed, r.notAttempted, r.sent)
		}
		if r.requests < 1 {
			t.Errorf("step %s made no request", r.name)
		}
	}
}

// TestRun_fake runs the whole job through mainCode against the fake with
// random faults and checks the summary adds up and nothing is left.
func TestRun_fake(t *testing.T) {
	t.Parallel()
	var faults atomic.Int64
	t.Cleanup(func() { // after the parallel subtests
		if faults.Load() == 0 {
			t.Error("no fault was injected in any run; the test proves less than it claims")
		}
	})
	for _, seed := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := mainCode(context.Background(), []string{"-n", "400", "-seed", fmt.Sprint(seed), "-faults", "0.1", "-progress-every", "1ms"}, noEnv, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			rows := parseSummary(t, stdout.String())
			checkConsistent(t, rows)
			want := []string{"list types", "create label", "create limits", "read back", "update limits", "read back", "purge limits", "delete label", "verify"}
			if len(rows) != len(want) {
				t.Fatalf("steps = %d, want %v", len(rows), want)
			}
			for i, r := range rows {
				if r.name != want[i] {
					t.Errorf("step %d = %q, want %q", i, r.name, want[i])
				}
			}
			for _, name := range []string{"create limits", "update limits", "purge limits"} {
				if r := stepNamed(t, rows, name); r.sent != 400 || r.succeeded != 400 {
					t.Errorf("%s: sent %d, succeeded %d; want 400 and 400", name, r.sent, r.succeeded)
				}
			}
			if r := stepNamed(t, rows, "verify"); r.notes != "0 of the job's limits left, label gone" {
				t.Errorf("verify: %q", r.notes)
			}
			m := regexp.MustCompile(`(?m)^fake server: \d+ requests, \d+ 429s, (\d+) faults`).FindStringSubmatch(stdout.String())
			if m == nil {
				t.Fatalf("no fake stats line in:\n%s", stdout.String())
			}
			n, _ := strconv.Atoi(m[1])
			faults.Add(int64(n))
			if !strings.Contains(stderr.String(), "create limits: 400/400 (100%)") {
				t.Errorf("no final progress line on stderr:\n%s", stderr.String())
			}
		})
	}
}

// startFake starts a fake for a test with its own token.
func startFake(t *testing.T, token string, opts ...hubspottest.Option) *hubspottest.Server {
	t.Helper()
	return hubspottest.NewServer(t, append([]hubspottest.Option{hubspottest.WithToken(token), hubspottest.WithRateLimit(1000, time.Second)}, opts...)...)
}

func testConfig(from, to string, n int) config {
	return config{from: from, to: to, n: n, seed: 7, concurrency: 4, progressEvery: time.Hour}
}

// TestJob_finalStateEmpty runs the job between custom objects and checks
// the server itself: no limit and no label left, every step consistent.
func TestJob_finalStateEmpty(t *testing.T) {
	t.Parallel()
	cfg := testConfig("2-123456", "2-654321", 250)
	cfg.faults, cfg.rateMax, cfg.ratePer = 0.05, 1000, time.Second
	const token = "pat-na1-final-state"
	srv, err := newFake(cfg, token)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	types, _ := srv.AssociationTypes(cfg.from, cfg.to)
	if len(types) != cfg.n-1 {
		t.Fatalf("seeded %d types, want n-1 = %d (the label is the n-th)", len(types), cfg.n-1)
	}
	clientOpts := []hubspot.Option{hubspot.WithBaseURL(srv.URL)}
	var stderr bytes.Buffer
	j, err := newJob(cfg, token, clientOpts, &stderr, "final")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := j.run(context.Background())
	if err != nil {
		t.Fatalf("job: %v\n%s", err, stderr.String())
	}
	for _, s := range sum.steps {
		if s.hasInputs && s.succeeded+s.failed+s.notAttempted != s.sent {
			t.Errorf("step %s does not add up: %+v", s.name, s)
		}
		if s.problem != "" {
			t.Errorf("step %s: %s", s.name, s.problem)
		}
	}
	if got := srv.Limits(); len(got) != 0 {
		t.Errorf("the server holds %d limits after the job", len(got))
	}
	after, _ := srv.AssociationTypes(cfg.from, cfg.to)
	if len(after) != len(types) {
		t.Errorf("%d association types after the job, %d before: the label was not deleted", len(after), len(types))
	}
}

// TestJob_interruptedCleansUp cancels the job while it creates limits: it
// still purges what it created and deletes its label.
func TestJob_interruptedCleansUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	const token = "pat-na1-interrupted"
	srv := startFake(t, token, hubspottest.WithLogf(func(format string, args ...any) {
		if strings.Contains(fmt.Sprintf(format, args...), string(hubspottest.OpBatchCreateConfigurations)) {
			once.Do(cancel)
		}
	}))
	for i := 1; i <= 300; i++ {
		if err := srv.AddAssociationType(hubspottest.AssociationType{FromObjectType: "2-1", ToObjectType: "2-2", Category: "INTEGRATOR_DEFINED", TypeID: int32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	clientOpts := []hubspot.Option{hubspot.WithBaseURL(srv.URL)}
	var stderr bytes.Buffer
	cfg := testConfig("2-1", "2-2", 300)
	cfg.concurrency = 1
	j, err := newJob(cfg, token, clientOpts, &stderr, "interrupted")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := j.run(ctx)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	var names []string
	for _, s := range sum.steps {
		names = append(names, s.name)
		if s.hasInputs && s.succeeded+s.failed+s.notAttempted != s.sent {
			t.Errorf("step %s does not add up: %+v", s.name, s)
		}
	}
	if !strings.Contains(strings.Join(names, ","), "cleanup purge,cleanup label") {
		t.Errorf("steps = %v, want the cleanup", names)
	}
	if got := srv.Limits(); len(got) != 0 {
		t.Errorf("the server holds %d limits after an interrupted job", len(got))
	}
	if types, _ := srv.AssociationTypes("2-1", "2-2"); len(types) != 300 {
		t.Errorf("%d types left, want the 300 seeded (label deleted)", len(types))
	}
}

// TestRun_badFlags: every bad command line is one line on stderr, exit 2,
// nothing on stdout.
func TestRun_badFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-bogus"},
		{"-n", "0"},
		{"-n", "many"},
		{"-n", "1000000"},
		{"-faults", "2"},
		{"-rate", "fast"},
		{"-rate", "0/1s"},
		{"-apply"},
		{"-server", "http://example.invalid"},
		{"-live", "-faults", "0.1"},
		{"-from", "widgets"},
		{"-to", ""},
		{"-redis", "localhost"},
		{"-redis", "localhost:99999"},
		{"-redis", "redis host:6379"},
		{"-redis", "redis\n:6379"},
		{"leftover"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := mainCode(context.Background(), args, env("pat-na1-unused"), &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			checkOneLine(t, stderr.String())
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

// TestRun_badFlags_longValueClipped: a bad value is quoted in the error cut
// to a bounded length, and the error names the flag.
func TestRun_badFlags_longValueClipped(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 10000)
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"-redis", long}, "-redis"},
		{[]string{"-redis", long + ":6379"}, "-redis"},
		{[]string{"-rate", long}, "-rate"},
		{[]string{"-rate", "1/" + long}, "-rate"},
		{[]string{"-from", long}, "unknown object type"},
		{[]string{long}, "unexpected argument"},
	} {
		var stdout, stderr bytes.Buffer
		code := mainCode(context.Background(), tc.args, env("pat-na1-unused"), &stdout, &stderr)
		if code != 2 {
			t.Errorf("%.20s...: exit %d, want 2", tc.args, code)
		}
		if got := stderr.String(); len(got) > 250 || !strings.Contains(got, tc.flag) || !strings.Contains(got, `xxx"...`) {
			t.Errorf("%.20s...: stderr (%d bytes) = %.300q, want it to name %s and quote the value cut short", tc.args, len(got), got, tc.flag)
			continue
		}
		checkOneLine(t, stderr.String())
	}
}

func checkOneLine(t *testing.T, s string) {
	t.Helper()
	if !strings.HasPrefix(s, "limits: ") || strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Errorf("stderr = %q, want one line starting with \"limits: \"", s)
	}
}

func TestRun_help(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := mainCode(context.Background(), []string{"-h"}, noEnv, &stdout, &stderr); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if !strings.Contains(stderr.String(), "usage: limits") || !strings.Contains(stderr.String(), "-live") {
		t.Errorf("no usage on stderr: %q", stderr.String())
	}
}

func TestRun_liveWithoutToken(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{"", "   "} {
		var stdout, stderr bytes.Buffer
		code := mainCode(context.Background(), []string{"-live"}, env(tok), &stdout, &stderr)
		if code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
		checkOneLine(t, stderr.String())
		if !strings.Contains(stderr.String(), "HUBSPOT_TOKEN") {
			t.Errorf("stderr = %q, want it to name HUBSPOT_TOKEN", stderr.String())
		}
	}
}

// TestRun_liveRejectedToken: a 401 is one line, the token appears nowhere,
// and nothing was changed even with -apply.
func TestRun_liveRejectedToken(t *testing.T) {
	t.Parallel()
	srv := startFake(t, "pat-na1-the-right-one")
	const wrong = "pat-na1-wrong-secret-0123456789"
	for _, args := range [][]string{{"-live"}, {"-live", "-apply"}} {
		var stdout, stderr bytes.Buffer
		code := mainCode(context.Background(), append(args, "-server", srv.URL), env(wrong), &stdout, &stderr)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		checkOneLine(t, stderr.String())
		if !strings.Contains(stderr.String(), "rejected the token") || !strings.Contains(stderr.String(), "401") {
			t.Errorf("%v: stderr = %q", args, stderr.String())
		}
		if strings.Contains(stdout.String()+stderr.String(), wrong) {
			t.Errorf("%v: the token was printed", args)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: stdout = %q, want nothing", args, stdout.String())
		}
	}
	if st := srv.Stats(); st.ByOperation[hubspottest.OpCreateLabel] != 0 {
		t.Errorf("a label was created with a rejected token")
	}
}

// TestRun_liveReadOnly lists without changing anything.
func TestRun_liveReadOnly(t *testing.T) {
	t.Parallel()
	const token = "pat-na1-read-only"
	srv := startFake(t, token, hubspottest.WithLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 1, MaxToObjectIDs: 1}))
	var stdout, stderr bytes.Buffer
	if code := mainCode(context.Background(), []string{"-live", "-server", srv.URL}, env(token), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if !regexp.MustCompile(`(?m)^\s+1  HUBSPOT_DEFINED\s+1  Primary$`).MatchString(out) ||
		!strings.Contains(out, "2 association types, 1 with a limit; 1 limits across all object pairs") {
		t.Errorf("listing:\n%s", out)
	}
	st := srv.Stats()
	for op, n := range st.ByOperation {
		if !strings.HasPrefix(string(op), "List") && n > 0 {
			t.Errorf("read-only run called %s", op)
		}
	}
}

// TestRun_liveApply runs the job through -live -apply and leaves a limit
// that existed before alone.
func TestRun_liveApply(t *testing.T) {
	t.Parallel()
	const token = "pat-na1-apply"
	srv := startFake(t, token, hubspottest.WithLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 1, MaxToObjectIDs: 1}))
	var stdout, stderr bytes.Buffer
	if code := mainCode(context.Background(), []string{"-live", "-apply", "-server", srv.URL, "-n", "5"}, env(token), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	rows := parseSummary(t, stdout.String())
	checkConsistent(t, rows)
	// contacts -> companies has 279 and 1; 1 is limited already and 279
	// is unlabeled (the object limit, left alone), so the only target is
	// the new label.
	if r := stepNamed(t, rows, "create limits"); r.sent != 1 || r.succeeded != 1 {
		t.Errorf("create limits: %+v, want 1 sent and succeeded", r)
	}
	got := srv.Limits()
	if len(got) != 1 || got[0].TypeID != 1 || got[0].MaxToObjectIDs != 1 {
		t.Errorf("limits after the job = %+v, want only the one that was there", got)
	}
}

// TestJob_resendsWhatTheEngineLeavesUnknown scripts failures whose outcome
// is unknown (a 503 on a create, a 200 cut off on an update, a purge whose
// every transport attempt is reset): the engine (WithResendUnknown) resolves
// them and the job completes.
func TestJob_resendsWhatTheEngineLeavesUnknown(t *testing.T) {
	t.Parallel()
	const token = "pat-na1-scripted"
	srv := startFake(t, token)
	for i := 1; i <= 250; i++ {
		if err := srv.AddAssociationType(hubspottest.AssociationType{FromObjectType: "2-10", ToObjectType: "2-20", Category: "INTEGRATOR_DEFINED", TypeID: int32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	faults := []hubspottest.Fault{
		{Kind: hubspottest.FaultStatus, Status: 503, Op: hubspottest.OpBatchCreateConfigurations},
		{Kind: hubspottest.FaultTruncateBody, Op: hubspottest.OpBatchUpdateConfigurations},
	}
	// One request short of the purge's count (RetryPolicy.MaxAttempts per
	// input, end to end): the last one gets through.
	for range hubspot.DefaultMaxAttempts - 1 {
		faults = append(faults, hubspottest.Fault{Kind: hubspottest.FaultResetAfterApply, Op: hubspottest.OpBatchPurgeConfigurations})
	}
	if err := srv.Script(faults...); err != nil {
		t.Fatal(err)
	}
	clientOpts := []hubspot.Option{hubspot.WithBaseURL(srv.URL), hubspot.WithRetryPolicy(hubspot.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})}
	var stderr bytes.Buffer
	cfg := testConfig("2-10", "2-20", 251)
	cfg.concurrency = 1
	j, err := newJob(cfg, token, clientOpts, &stderr, "scripted")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := j.run(context.Background())
	if err != nil {
		t.Fatalf("job: %v\n%s", err, stderr.String())
	}
	if n := srv.PendingFaults(); n != 0 {
		t.Fatalf("%d scripted faults not consumed", n)
	}
	for _, s := range sum.steps {
		if s.hasInputs && (s.succeeded != s.sent || s.failed+s.notAttempted != 0) {
			t.Errorf("step %s: %+v", s.name, s)
		}
		switch s.name {
		case "create limits", "update limits", "purge limits":
			if s.retries == 0 {
				t.Errorf("step %s shows no retry after a scripted fault", s.name)
			}
		}
	}
	if got := srv.Limits(); len(got) != 0 {
		t.Errorf("%d limits left", len(got))
	}
}

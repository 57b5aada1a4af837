package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
)

// stepResult is one row of the summary. Steps with per-input accounting
// (hasInputs) satisfy succeeded+failed+notAttempted == sent.
type stepResult struct {
	name                                  string
	hasInputs                             bool
	sent, succeeded, failed, notAttempted int
	requests, retries, rateLimited        int
	elapsed                               time.Duration
	note                                  string
	// problem, when set, makes the job incomplete.
	problem string
	// details are failure lines for stderr.
	details []string
}

// summary is what the job did.
type summary struct {
	steps []stepResult
	wall  time.Duration
}

// spec identifies an association type between the job's object types.
type spec struct {
	category associations.AssociationCategory
	typeID   int32
}

func (s spec) String() string { return fmt.Sprintf("%s %d", s.category, s.typeID) }

// job runs the steps described in the package comment against one client.
type job struct {
	cfg       config
	schema    *associations.Schema
	progress  *progressPrinter
	log       io.Writer // failure details
	rng       *rand.Rand
	labelName string
	labelText string

	sum       summary
	label     spec // zero until the label exists
	targets   []spec
	limits    map[spec]int32 // limits the job created, with their current value
	purged    bool
	labelGone bool // the label was deleted (or never created)
}

func newJob(cfg config, token string, clientOpts []hubspot.Option, stderr io.Writer, labelSuffix string) (*job, error) {
	j := &job{
		cfg:       cfg,
		progress:  newProgressPrinter(stderr, cfg.progressEvery),
		log:       stderr,
		rng:       rand.New(rand.NewPCG(uint64(cfg.seed), 0x6c696d697473)),
		labelName: "crmkit_limits_example_" + labelSuffix,
		labelText: "Limits example " + labelSuffix,
		limits:    map[spec]int32{},
		labelGone: true,
	}
	// The engine resends what failed without HubSpot rejecting it (reading
	// creates back first), so every step below is one call.
	opts := append(clientOpts, hubspot.WithProgress(j.progress.update), hubspot.WithResendUnknown())
	if cfg.concurrency > 0 { // 0: the engine sizes it from the rate limit and round trip
		opts = append(opts, hubspot.WithConcurrency(cfg.concurrency))
	}
	b, err := associations.New(token, opts...)
	if err != nil {
		return nil, err
	}
	j.schema = b
	return j, nil
}

// run runs every step. The summary is returned in every case; the error is
// fatal (the job stopped: interrupted, rejected token, daily limit) or says
// which steps were incomplete.
func (j *job) run(ctx context.Context) (*summary, error) {
	start := time.Now()
	defer func() { j.sum.wall = time.Since(start) }()

	if err := j.listTypes(ctx); err != nil {
		return &j.sum, err
	}
	if err := j.createLabel(ctx); err != nil {
		return &j.sum, err
	}
	// From here on the job has changed the portal: whatever happens, purge
	// its limits and delete its label.
	err := j.mutate(ctx)
	if !j.purged || !j.labelGone {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		if !j.purged {
			_ = j.purgeLimits(cctx, "cleanup purge")
		}
		if !j.labelGone {
			_ = j.deleteLabel(cctx, "cleanup label")
		}
		cancel()
	}
	if err != nil {
		return &j.sum, err
	}
	if err := j.verify(ctx); err != nil {
		return &j.sum, err
	}
	var problems []string
	for _, s := range j.sum.steps {
		if s.problem != "" {
			problems = append(problems, s.name+": "+s.problem)
		}
	}
	if len(problems) > 0 {
		return &j.sum, fmt.Errorf("job incomplete: %s", strings.Join(problems, "; "))
	}
	return &j.sum, nil
}

// mutate runs the steps between creating the label and deleting it.
func (j *job) mutate(ctx context.Context) error {
	steps := []func(context.Context) error{
		j.createLimits,
		func(ctx context.Context) error { return j.readBack(ctx, "read back", true) },
		j.updateLimits,
		func(ctx context.Context) error { return j.readBack(ctx, "read back", false) },
		func(ctx context.Context) error { return j.purgeLimits(ctx, "purge limits") },
		func(ctx context.Context) error { return j.deleteLabel(ctx, "delete label") },
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// counter counts the HTTP attempts, retries and 429s of the requests made
// with its context (see hubspot.WithObserver).
type counter struct {
	requests, retries, rateLimited atomic.Int64
}

func (c *counter) observe(ctx context.Context) context.Context {
	return hubspot.WithObserver(ctx, hubspot.Observer{
		OnAttempt: func(e hubspot.AttemptEvent) {
			c.requests.Add(1)
			if e.StatusCode == http.StatusTooManyRequests {
				c.rateLimited.Add(1)
			}
		},
		OnRetry: func(hubspot.RetryEvent) { c.retries.Add(1) },
	})
}

func (c *counter) fill(s *stepResult) {
	s.requests, s.retries, s.rateLimited = int(c.requests.Load()), int(c.retries.Load()), int(c.rateLimited.Load())
}

// stops reports whether err means the job cannot go on: the token or its
// scopes were rejected, the daily limit is used up (hubspot.IsFatal), or
// ctx ended.
func stops(ctx context.Context, err error) bool {
	return hubspot.IsFatal(err) || ctx.Err() != nil
}

// listTypes lists the association types and limits between the object
// types and picks the targets (step "list types"). It is also the first
// request, so a rejected token stops the job before anything changed.
func (j *job) listTypes(ctx context.Context) error {
	s := stepResult{name: "list types"}
	var c counter
	start := time.Now()
	ctx = c.observe(ctx)
	types, err := j.schema.Labels(ctx, j.cfg.from, j.cfg.to)
	var configs []associations.Limit
	if err == nil {
		configs, err = j.schema.Configurations(ctx, j.cfg.from, j.cfg.to)
	}
	s.elapsed = time.Since(start)
	c.fill(&s)
	if err != nil {
		s.problem = oneLine(err.Error())
		j.sum.steps = append(j.sum.steps, s)
		return fmt.Errorf("listing association types %s -> %s: %w", j.cfg.from, j.cfg.to, err)
	}
	limited := userLimits(configs)
	// HubSpot-defined types first, then the others, in HubSpot's order.
	// Unlabeled types are left alone: their limit is the pair's object
	// limit, and HubSpot refuses a label limit above it.
	var first, rest []spec
	for _, t := range types {
		sp := spec{t.Category, t.TypeID}
		_, isLimited := limited[sp]
		switch {
		case isLimited, t.Label == nil || *t.Label == "":
		case t.Category == associations.AssociationCategoryHubspotDefined:
			first = append(first, sp)
		default:
			rest = append(rest, sp)
		}
	}
	// The label created next is the first target; keep room for it.
	j.targets = append(first, rest...)
	if len(j.targets) > j.cfg.n-1 {
		j.targets = j.targets[:j.cfg.n-1]
	}
	s.note = fmt.Sprintf("%d types, %d already limited (left alone)", len(types), len(limited))
	j.sum.steps = append(j.sum.steps, s)
	return nil
}

// createLabel creates the job's USER_DEFINED label (step "create label").
// CreateLabel is not idempotent, so when its outcome is unknown
// (hubspot.ErrOutcomeUnknown: a 5xx, a reset, a cut-off body) it lists the
// labels to see whether it exists before trying again.
func (j *job) createLabel(ctx context.Context) error {
	s := stepResult{name: "create label", hasInputs: true, sent: 1}
	var c counter
	start := time.Now()
	octx := c.observe(ctx)
	inverse := j.labelText + " (inverse)"
	body := associations.LabelCreate{Name: j.labelName, Label: j.labelText, InverseLabel: &inverse}
	var lastErr error
	for attempt := 1; attempt <= 3 && j.label.typeID == 0; attempt++ {
		if attempt > 1 {
			c.retries.Add(1)
		}
		created, err := j.schema.CreateLabel(octx, j.cfg.from, j.cfg.to, body)
		if err == nil {
			if sp, ok := j.findLabel(created); ok {
				j.label = sp
				break
			}
			err = fmt.Errorf("the CreateLabel answer has no type labelled %q", j.labelText)
		}
		lastErr = err
		var apiErr *hubspot.APIError
		conflictAfterRetry := errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusConflict && attempt > 1
		if stops(ctx, err) || (!errors.Is(err, hubspot.ErrOutcomeUnknown) && !conflictAfterRetry) {
			// Rejected (a 409 on the first attempt is a label this job did
			// not create: never adopt, and later delete, it).
			break
		}
		// Maybe created (hubspot.ErrOutcomeUnknown), or a 409 after a retry
		// of a create that was applied: is the label there?
		labels, lerr := j.schema.Labels(octx, j.cfg.from, j.cfg.to)
		if lerr != nil {
			lastErr = lerr
			if stops(ctx, lerr) {
				break
			}
			continue
		}
		if sp, ok := j.findLabel(labels); ok {
			j.label = sp
			s.note = "confirmed by read-back after: " + oneLine(err.Error())
		}
	}
	s.elapsed = time.Since(start)
	c.fill(&s)
	if j.label.typeID == 0 {
		s.failed = 1
		s.problem = oneLine(lastErr.Error())
		j.sum.steps = append(j.sum.steps, s)
		return fmt.Errorf("creating label %q: %w", j.labelText, lastErr)
	}
	s.succeeded = 1
	j.labelGone = false
	if s.note == "" {
		s.note = fmt.Sprintf("%s %q", j.label, j.labelText)
	}
	j.targets = append([]spec{j.label}, j.targets...)
	j.sum.steps = append(j.sum.steps, s)
	return nil
}

// userLimits returns the user-set limits (userEnforcedMaxToObjectIds) among
// configs by association type.
func userLimits(configs []associations.Limit) map[spec]int32 {
	got := map[spec]int32{}
	for _, cf := range configs {
		if cf.UserEnforcedMaxToObjectIDs != nil {
			got[spec{cf.Category, cf.TypeID}] = *cf.UserEnforcedMaxToObjectIDs
		}
	}
	return got
}

func (j *job) findLabel(labels []associations.Label) (spec, bool) {
	for _, l := range labels {
		if l.Category == associations.AssociationCategoryUserDefined && l.Label != nil && *l.Label == j.labelText {
			return spec{l.Category, l.TypeID}, true
		}
	}
	return spec{}, false
}

// batchStep fills a summary row from a batch result and reports failures.
func batchStep[In, Out any](j *job, name string, start time.Time, res *hubspot.Result[In, Out], err error, key func(In) spec) (stepResult, error) {
	s := stepResult{name: name, hasInputs: true, elapsed: time.Since(start)}
	if res != nil {
		s.sent = len(res.Succeeded) + len(res.Failed) + len(res.NotAttempted)
		s.succeeded, s.failed, s.notAttempted = len(res.Succeeded), len(res.Failed), len(res.NotAttempted)
		s.requests, s.retries, s.rateLimited = res.Requests, res.Retries+res.Resends, res.RateLimited
		for i, f := range res.Failed {
			if i == 3 {
				s.details = append(s.details, fmt.Sprintf("%s: and %d more failures", name, len(res.Failed)-i))
				break
			}
			s.details = append(s.details, fmt.Sprintf("%s: input %d (%s): %s", name, f.Index, key(f.Input), oneLine(f.Err.Error())))
		}
	}
	if err == nil {
		return s, nil
	}
	s.problem = oneLine(err.Error())
	// Inputs left unsent mean the run stopped (invalid inputs, a rejected
	// token, the daily limit, an interruption): so does the job.
	if hubspot.IsFatal(err) || (res != nil && len(res.NotAttempted) > 0) {
		return s, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// endBatch ends the progress display of a batch step, then prints its
// failures and records it.
func (j *job) endBatch(s stepResult) {
	j.progress.end(s)
	for _, d := range s.details {
		fmt.Fprintln(j.log, d)
	}
	j.sum.steps = append(j.sum.steps, s)
}

// createLimits sets a limit on every target (step "create limits").
func (j *job) createLimits(ctx context.Context) error {
	inputs := make([]associations.LimitCreate, len(j.targets))
	for i, t := range j.targets {
		inputs[i] = associations.LimitCreate{
			Category: t.category, TypeID: t.typeID, MaxToObjectIDs: 1 + j.rng.Int32N(10),
		}
	}
	start := time.Now()
	j.progress.begin("create limits", len(inputs))
	res, err := j.schema.CreateConfigurations(ctx, j.cfg.from, j.cfg.to, inputs)
	j.progress.pause()
	if res != nil {
		for _, ok := range res.Succeeded {
			j.limits[spec{ok.Input.Category, ok.Input.TypeID}] = ok.Input.MaxToObjectIDs
		}
	}
	s, ferr := batchStep(j, "create limits", start, res, err, func(in associations.LimitCreate) spec {
		return spec{in.Category, in.TypeID}
	})
	s.note = fmt.Sprintf("maxToObjectIds 1-10, %d chunk(s) of up to %d", (len(inputs)+hubspot.DefaultChunkSize-1)/hubspot.DefaultChunkSize, hubspot.DefaultChunkSize)
	j.endBatch(s)
	return ferr
}

// updateLimits raises every limit the job created by 5 (step "update
// limits").
func (j *job) updateLimits(ctx context.Context) error {
	inputs := make([]associations.LimitUpdate, 0, len(j.limits))
	for _, t := range j.targets {
		if v, ok := j.limits[t]; ok {
			inputs = append(inputs, associations.LimitUpdate{
				Category: t.category, TypeID: t.typeID, MaxToObjectIDs: v + 5,
			})
		}
	}
	start := time.Now()
	j.progress.begin("update limits", len(inputs))
	res, err := j.schema.UpdateConfigurations(ctx, j.cfg.from, j.cfg.to, inputs)
	j.progress.pause()
	if res != nil {
		for _, ok := range res.Succeeded {
			j.limits[spec{ok.Input.Category, ok.Input.TypeID}] = ok.Input.MaxToObjectIDs
		}
	}
	s, ferr := batchStep(j, "update limits", start, res, err, func(in associations.LimitUpdate) spec {
		return spec{in.Category, in.TypeID}
	})
	s.note = "every created limit +5"
	j.endBatch(s)
	return ferr
}

// purgeLimits removes the limits of every target, created or not: purge is
// idempotent and covers creates whose outcome stayed unknown.
func (j *job) purgeLimits(ctx context.Context, name string) error {
	j.purged = true
	inputs := make([]associations.LimitKey, len(j.targets))
	for i, t := range j.targets {
		inputs[i] = associations.LimitKey{Category: t.category, TypeID: t.typeID}
	}
	start := time.Now()
	j.progress.begin(name, len(inputs))
	res, err := j.schema.PurgeConfigurations(ctx, j.cfg.from, j.cfg.to, inputs)
	j.progress.pause()
	if res != nil {
		for _, ok := range res.Succeeded {
			delete(j.limits, spec{ok.Input.Category, ok.Input.TypeID})
		}
	}
	s, ferr := batchStep(j, name, start, res, err, func(in associations.LimitKey) spec {
		return spec{in.Category, in.TypeID}
	})
	s.note = "every target"
	j.endBatch(s)
	return ferr
}

// readBack lists the limits between the object types and checks the job's
// against what it sent (step "read back"); after the create it also counts
// the limits across all object pairs with AllConfigurations.
func (j *job) readBack(ctx context.Context, name string, all bool) error {
	s := stepResult{name: name}
	var c counter
	start := time.Now()
	octx := c.observe(ctx)
	configs, err := j.schema.Configurations(octx, j.cfg.from, j.cfg.to)
	total := 0
	if err == nil && all {
		// The iterator form: count without holding every configuration.
		for _, ierr := range j.schema.AllConfigurationsSeq(octx) {
			if ierr != nil {
				err = ierr
				break
			}
			total++
		}
	}
	s.elapsed = time.Since(start)
	c.fill(&s)
	if err != nil {
		s.problem = oneLine(err.Error())
		j.sum.steps = append(j.sum.steps, s)
		if stops(ctx, err) {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	got := userLimits(configs)
	match := 0
	for sp, want := range j.limits {
		if v, ok := got[sp]; ok && v == want {
			match++
		}
	}
	s.note = fmt.Sprintf("%d/%d as sent", match, len(j.limits))
	if all {
		s.note += fmt.Sprintf("; %d limits portal-wide", total)
	}
	if match != len(j.limits) {
		s.problem = fmt.Sprintf("%d limit(s) differ from what was sent", len(j.limits)-match)
	}
	j.sum.steps = append(j.sum.steps, s)
	return nil
}

// deleteLabel deletes the job's label (and, with it, its inverse). A 404
// after a retry means an earlier attempt deleted it.
func (j *job) deleteLabel(ctx context.Context, name string) error {
	j.labelGone = true
	s := stepResult{name: name, hasInputs: true, sent: 1}
	var c counter
	start := time.Now()
	err := j.schema.DeleteLabel(c.observe(ctx), j.cfg.from, j.cfg.to, j.label.typeID)
	var apiErr *hubspot.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && c.requests.Load() > 1 {
		s.note = "already gone after a retry"
		err = nil
	}
	s.elapsed = time.Since(start)
	c.fill(&s)
	if err != nil {
		s.failed = 1
		s.problem = oneLine(err.Error())
		j.sum.steps = append(j.sum.steps, s)
		if stops(ctx, err) {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	s.succeeded = 1
	if s.note == "" {
		s.note = j.label.String()
	}
	j.sum.steps = append(j.sum.steps, s)
	return nil
}

// verify checks that the job left nothing behind (step "verify"): none of
// the targets has a limit and the label is gone.
func (j *job) verify(ctx context.Context) error {
	s := stepResult{name: "verify"}
	var c counter
	start := time.Now()
	octx := c.observe(ctx)
	configs, err := j.schema.Configurations(octx, j.cfg.from, j.cfg.to)
	var labels []associations.Label
	if err == nil {
		labels, err = j.schema.Labels(octx, j.cfg.from, j.cfg.to)
	}
	s.elapsed = time.Since(start)
	c.fill(&s)
	if err != nil {
		s.problem = oneLine(err.Error())
		j.sum.steps = append(j.sum.steps, s)
		return fmt.Errorf("verify: %w", err)
	}
	target := map[spec]bool{}
	for _, t := range j.targets {
		target[t] = true
	}
	left := 0
	for _, cf := range configs {
		if target[spec{cf.Category, cf.TypeID}] && cf.UserEnforcedMaxToObjectIDs != nil {
			left++
		}
	}
	_, labelLeft := j.findLabel(labels)
	s.note = fmt.Sprintf("%d of the job's limits left, label %s", left, map[bool]string{true: "still there", false: "gone"}[labelLeft])
	if left > 0 || labelLeft {
		s.problem = s.note
	}
	j.sum.steps = append(j.sum.steps, s)
	return nil
}

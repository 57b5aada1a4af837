package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// integratorRoles name the seeded INTEGRATOR_DEFINED association types, the
// kind of types connected apps define.
var integratorRoles = []string{
	"Billing contact", "Decision maker", "Technical contact", "Champion",
	"Reseller contact", "Implementation partner", "Former employee", "Executive sponsor",
}

// newFake returns a fake HubSpot (not started) accepting token, rate-limited
// and faulty as cfg says, with enough association types from cfg.from to
// cfg.to for cfg.n limits: HubSpot's own labeled ones, plus seeded
// INTEGRATOR_DEFINED ones, the label the job creates counting as one.
func newFake(cfg config, token string) (*hubspottest.Server, error) {
	opts := []hubspottest.Option{
		hubspottest.WithToken(token),
		hubspottest.WithRateLimit(cfg.rateMax, cfg.ratePer),
	}
	if cfg.faults > 0 {
		opts = append(opts, hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Seed: cfg.seed, Probability: cfg.faults}))
	}
	srv, err := hubspottest.New(opts...)
	if err != nil {
		return nil, err
	}
	existing, err := srv.AssociationTypes(cfg.from, cfg.to)
	if err != nil {
		return nil, err
	}
	labeled := 0 // the job leaves unlabeled types (the object limit) alone
	for _, t := range existing {
		if t.Label != "" {
			labeled++
		}
	}
	for i := range cfg.n - 1 - labeled {
		t := hubspottest.AssociationType{
			FromObjectType: cfg.from, ToObjectType: cfg.to,
			Category: hubspottest.CategoryIntegratorDefined, TypeID: int32(100001 + i),
			Label: fmt.Sprintf("%s (app %d)", integratorRoles[i%len(integratorRoles)], 1+i/len(integratorRoles)),
		}
		if err := srv.AddAssociationType(t); err != nil {
			return nil, fmt.Errorf("seeding the fake: %w", err)
		}
	}
	return srv, nil
}

// runFake runs the job against an in-process fake.
func runFake(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	start := time.Now()
	// A token of its own gives this run its own client-side limiter (they
	// are shared per token).
	token := "pat-na1-example-" + strings.ToLower(rand.Text())
	srv, err := newFake(cfg, token)
	if err != nil {
		return err
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer srv.Close()
	limiter, closeRedis := sharedLimiter(cfg, token, cfg.rateMax, cfg.ratePer, stderr)
	defer closeRedis()
	fmt.Fprintf(stdout, "fake HubSpot (in-process, %d requests per %v, faults %.1f%%, seed %d): %d limits %s -> %s\n",
		cfg.rateMax, cfg.ratePer, 100*cfg.faults, cfg.seed, cfg.n, cfg.from, cfg.to)
	j, err := newJob(cfg, token, []hubspot.Option{hubspot.WithBaseURL(srv.URL), hubspot.WithRateLimit(cfg.rateMax, cfg.ratePer), limiter},
		stderr, fmt.Sprint(cfg.seed))
	if err != nil {
		return err
	}
	sum, jobErr := j.run(ctx)
	printSummary(stdout, sum)
	printFakeStats(stdout, srv.Stats(), time.Since(start))
	return jobErr
}

// runLive lists labels and limits on HubSpot, or with -apply runs the job
// there.
func runLive(ctx context.Context, cfg config, getenv func(string) string, stdout, stderr io.Writer) error {
	token := strings.TrimSpace(getenv("HUBSPOT_TOKEN"))
	if token == "" {
		return usagef("-live needs a private app access token in $HUBSPOT_TOKEN")
	}
	limiter, closeRedis := sharedLimiter(cfg, token, 0, 0, stderr)
	defer closeRedis()
	clientOpts := []hubspot.Option{hubspot.WithBaseURL(cfg.server), limiter}
	if !cfg.apply {
		s, err := associations.New(token, clientOpts...)
		if err != nil {
			return fmt.Errorf("$HUBSPOT_TOKEN: %w", err) // the hubspot package never echoes a token
		}
		return explainAuth(listLive(ctx, cfg, s, stdout))
	}
	j, err := newJob(cfg, token, clientOpts, stderr, time.Now().UTC().Format("20060102_150405"))
	if err != nil {
		return fmt.Errorf("$HUBSPOT_TOKEN: %w", err) // the hubspot package never echoes a token
	}
	sum, jobErr := j.run(ctx)
	if jobErr != nil && authError(jobErr) && len(sum.steps) <= 1 {
		return explainAuth(jobErr) // nothing was changed: one line is enough
	}
	fmt.Fprintf(stdout, "HubSpot at %s: at most %d limits %s -> %s (only on types without one; all removed at the end)\n",
		cfg.server, cfg.n, cfg.from, cfg.to)
	printSummary(stdout, sum)
	return explainAuth(jobErr)
}

// listLive prints the association types between the object types with
// their limits, and the number of limits across all object pairs.
func listLive(ctx context.Context, cfg config, b *associations.Schema, stdout io.Writer) error {
	labels, err := b.Labels(ctx, cfg.from, cfg.to)
	if err != nil {
		return fmt.Errorf("listing labels %s -> %s: %w", cfg.from, cfg.to, err)
	}
	configs, err := b.Configurations(ctx, cfg.from, cfg.to)
	if err != nil {
		return fmt.Errorf("listing limits %s -> %s: %w", cfg.from, cfg.to, err)
	}
	all, err := b.AllConfigurations(ctx)
	if err != nil {
		return fmt.Errorf("listing all limits: %w", err)
	}
	limit := userLimits(configs)
	fmt.Fprintf(stdout, "HubSpot at %s, %s -> %s (read-only; -apply runs the job)\n", cfg.server, cfg.from, cfg.to)
	fmt.Fprintf(stdout, "%8s  %-18s  %5s  %s\n", "typeId", "category", "limit", "label")
	for _, l := range labels {
		lim := "-"
		if v, ok := limit[spec{l.Category, l.TypeID}]; ok {
			lim = fmt.Sprint(v)
		}
		label := ""
		if l.Label != nil {
			label = *l.Label
		}
		fmt.Fprintf(stdout, "%8d  %-18s  %5s  %s\n", l.TypeID, l.Category, lim, label)
	}
	fmt.Fprintf(stdout, "%d association types, %d with a limit; %d limits across all object pairs\n", len(labels), len(limit), len(all))
	return nil
}

// authError reports whether err is HubSpot rejecting the token (401) or
// its scopes (403).
func authError(err error) bool {
	var apiErr *hubspot.APIError
	return errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden)
}

// explainAuth turns a 401 or 403 into a sentence about $HUBSPOT_TOKEN.
func explainAuth(err error) error {
	var apiErr *hubspot.APIError
	if err == nil || !errors.As(err, &apiErr) {
		return err
	}
	switch apiErr.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("HubSpot rejected the token in $HUBSPOT_TOKEN (%w)", apiErr)
	case http.StatusForbidden:
		return fmt.Errorf("the token in $HUBSPOT_TOKEN lacks a scope this needs (crm.schemas.*; %w)", apiErr)
	}
	return err
}

// Command hubspot-fake serves an in-memory fake of HubSpot's CRM
// Associations Schema API (package hubspottest) until SIGINT or SIGTERM, so
// that any HubSpot client (Go, Node, Python) can be pointed at it.
//
//	go run ./hubspottest/cmd/hubspot-fake -addr 127.0.0.1:0 -token pat-test
//
// It prints "hubspot-fake listening on <URL>" on standard output once it
// serves. It bounds what clients may cost it as package hubspottest
// describes under "Limits": request bodies of 1 MiB, 64 KiB of headers,
// 32 MiB of bodies held at once, 4096 connections at once (-max-conns) and
// read, write and idle timeouts of 30 s, 60 s and 120 s (-read-timeout,
// -write-timeout, -idle-timeout).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

type tokenList []string

func (t *tokenList) String() string     { return fmt.Sprintf("%d token(s)", len(*t)) }
func (t *tokenList) Set(v string) error { *t = append(*t, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hubspot-fake:", err)
		os.Exit(2)
	}
}

// run serves until ctx ends; it prints the URL on stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hubspot-fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tokens tokenList
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	fs.Var(&tokens, "token", "bearer token to accept (repeatable; default "+hubspottest.DefaultToken+")")
	specFile := fs.String("spec", "", "OpenAPI document to validate against (default: the embedded normalized document)")
	rateMax := fs.Int("rate-max", hubspottest.DefaultRateLimitMax, "requests per token per rolling window")
	rateInterval := fs.Duration("rate-interval", hubspottest.DefaultRateLimitInterval, "rolling window length")
	daily := fs.Int("daily", hubspottest.DefaultDailyLimit, "requests per token per UTC day (0: no daily limit)")
	retryAfter := fs.Bool("retry-after", true, "send Retry-After on 429")
	maxBatch := fs.Int("max-batch", hubspottest.DefaultMaxBatchInputs, "maximum inputs per batch")
	faultRate := fs.Float64("fault-rate", 0, "probability of injecting a random fault per request")
	seed := fs.Int64("seed", 1, "seed of the random fault source")
	verbose := fs.Bool("v", false, "log one line per request (no tokens, no bodies)")
	maxConns := fs.Int("max-conns", hubspottest.DefaultMaxConnections, "connections served at once; more wait to be accepted")
	readTimeout := fs.Duration("read-timeout", hubspottest.DefaultReadTimeout, "time allowed to read a whole request, headers and body")
	writeTimeout := fs.Duration("write-timeout", hubspottest.DefaultWriteTimeout, "time allowed from the end of a request's headers to the end of its response (at least -read-timeout)")
	idleTimeout := fs.Duration("idle-timeout", hubspottest.DefaultIdleTimeout, "time a kept-alive connection may wait for its next request")
	seedLimits := fs.Int("seed-limits", 0, "seed USER_DEFINED association types 1..N from 2-1001 to 2-1002, each with a limit of 1 (load tests; at most 100000)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *seedLimits < 0 || *seedLimits > 100_000 {
		return fmt.Errorf("-seed-limits must be between 0 and 100000, got %d", *seedLimits)
	}
	opts := []hubspottest.Option{
		hubspottest.WithRateLimit(*rateMax, *rateInterval),
		hubspottest.WithDailyLimit(*daily),
		hubspottest.WithRetryAfter(*retryAfter),
		hubspottest.WithMaxBatchInputs(*maxBatch),
		hubspottest.WithMaxConnections(*maxConns),
	}
	// Only the timeouts given are passed on, so that an unset one keeps the
	// default derived from the others (a -read-timeout above 60s raises
	// the write timeout with it).
	var timeouts hubspottest.Timeouts
	var badTimeout error
	fs.Visit(func(f *flag.Flag) {
		var d *time.Duration
		switch f.Name {
		case "read-timeout":
			d, timeouts.Read = readTimeout, *readTimeout
		case "write-timeout":
			d, timeouts.Write = writeTimeout, *writeTimeout
		case "idle-timeout":
			d, timeouts.Idle = idleTimeout, *idleTimeout
		default:
			return
		}
		if *d <= 0 && badTimeout == nil {
			badTimeout = fmt.Errorf("-%s must be positive, got %v", f.Name, *d)
		}
	})
	if badTimeout != nil {
		return badTimeout
	}
	opts = append(opts, hubspottest.WithTimeouts(timeouts))
	for _, t := range tokens {
		opts = append(opts, hubspottest.WithToken(t))
	}
	if *specFile != "" {
		opts = append(opts, hubspottest.WithSpecFile(*specFile))
	}
	if *faultRate > 0 {
		opts = append(opts, hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Seed: *seed, Probability: *faultRate}))
	}
	for i := 1; i <= *seedLimits; i++ {
		opts = append(opts, hubspottest.WithAssociationType(hubspottest.AssociationType{
			FromObjectType: "2-1001", ToObjectType: "2-1002", Category: hubspottest.CategoryUserDefined,
			TypeID: int32(i), Label: fmt.Sprintf("type %d", i),
		}), hubspottest.WithLimit(hubspottest.Limit{
			FromObjectType: "2-1001", ToObjectType: "2-1002", Category: hubspottest.CategoryUserDefined,
			TypeID: int32(i), MaxToObjectIDs: 1,
		}))
	}
	if *verbose {
		logger := log.New(stderr, "", log.LstdFlags)
		opts = append(opts, hubspottest.WithLogf(logger.Printf))
	}
	srv, err := hubspottest.New(opts...)
	if err != nil {
		return err
	}
	if err := srv.Start(*addr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hubspot-fake listening on %s\n", srv.URL)
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// Command limits is a realistic association-limits job, run by default
// against an in-process fake of HubSpot (package hubspottest): no token, no
// network.
//
//	go run ./examples/limits                      # the whole job against the fake
//	go run ./examples/limits -n 500 -faults 0.05  # smaller, with more injected faults
//	HUBSPOT_TOKEN=pat-... go run ./examples/limits -live            # read-only: list labels and limits
//	HUBSPOT_TOKEN=pat-... go run ./examples/limits -live -apply -n 5 # run the job on your portal
//
// The job, between two object types (-from, -to):
//
//  1. list types:     Labels and Configurations; the targets are HubSpot-
//     defined types, then any other type, skipping types that already have
//     a limit (the job never touches limits it did not create);
//  2. create label:   CreateLabel, a USER_DEFINED label (and its inverse),
//     the first target; at most -n targets in all;
//  3. create limits:  Schema.CreateConfigurations for every target;
//  4. read back:      Configurations (checked against what was sent) and
//     AllConfigurationsSeq (a portal-wide count);
//  5. update limits:  Schema.UpdateConfigurations for every created limit;
//  6. read back:      Configurations, checked against the updates;
//  7. purge limits:   Schema.PurgeConfigurations for every target;
//  8. delete label:   DeleteLabel;
//  9. verify:         Configurations and Labels: none of the job's limits and
//     not its label are left.
//
// Inputs the batch engine leaves with an unknown outcome (a cut-off answer
// to an update, a 503 on a create, a chunk whose every attempt failed) are
// resent, after a read-back for creates; the summary counts them as
// retries.
//
// If the job is interrupted (Ctrl-C) or a step fails fatally after the label
// was created, it still purges its limits and deletes its label.
//
// Progress goes to standard error (a bar when it is a terminal, a line per
// second otherwise); a summary table goes to standard output, then the
// fake's own counters.
//
// # Reading the output
//
// One row per step. sent: the inputs the step had to send (a dash for
// steps that only read); succeeded, failed, not attempted: what became of
// them (they add up to sent; "not attempted" are inputs never sent because
// the run stopped, e.g. on a daily limit); requests: HTTP requests, retries
// included; retries: requests sent again (after a fault, a 429, a cut-off
// answer or an unknown outcome); 429s: answers "too many requests"; time:
// the step's wall time. In notes, "already limited
// (left alone)" counts association types that had a limit before the job
// ran: the job never touches limits it did not create; "as sent" is how
// many limits the read-back found with the value the job sent.
//
// The "fake server" line is the fake's view: requests it answered, 429s it
// sent, faults it injected by kind, the most requests it had in flight at
// once. The fault kinds are hubspottest's: status (a 5xx answer),
// reset-before-apply and reset-after-apply (the connection is cut before or
// after the change was made: the client cannot tell which, so a create is
// read back before it is resent), truncate-body (an answer cut off) and
// latency.
//
// The fake holds HubSpot's defined association types between standard
// objects (contacts -> companies: 279 and 1 "Primary", ...). HubSpot caps
// labels per object pair far below a few thousand, so to give the batch
// helpers a realistic volume (30+ chunks per step, faults) the fake is also
// seeded with INTEGRATOR_DEFINED association types between -from and -to,
// as many as -n needs. It rate-limits like HubSpot (rolling window,
// X-HubSpot-RateLimit-* headers, 429s) with HubSpot's shape for a
// Professional or Enterprise app, 190 requests per 10 s (-rate): the
// default job's 160 or so requests fit in one window, so it finishes in
// about half a second; a larger job (-n 20000: about 630 requests, 30 s)
// shows the client pacing itself to the window, with no 429s. It injects
// seeded random faults (-faults: 5xx, connection resets before and after
// applying, truncated bodies) so that retries and read-backs show.
//
// With -redis host:port the client-side rate limit is kept in that Redis
// (package hubspot/redislimit), shared with every other process that uses
// the same token and Redis: with -live, run several at once and they split
// HubSpot's window instead of each sending at the full rate. Against the
// in-process fake each run has a token (and so a window) of its own. Redis
// support is built only with -tags redis (go run -tags redis
// ./examples/limits -redis 127.0.0.1:6379): go-redis is about a third of
// the example's first build, and a run without -redis does not need it.
//
// With -live the job talks to https://api.hubapi.com (or -server) with the
// private app token in $HUBSPOT_TOKEN. Without -apply it only lists labels
// and limits. The token is never printed.
//
// Exit status: 0 when every step succeeded; 1 when the job ran but was not
// complete (the summary says which step) or could not run; 2 for bad flags
// or a missing token. Every error is one line on standard error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainCode(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// mainCode runs the command and returns its exit status; an error is
// printed as one line on stderr.
func mainCode(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := run(ctx, args, getenv, stdout, stderr)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "limits: "+oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// usageError is a bad command line or environment (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// config is the parsed command line.
type config struct {
	live, apply bool
	server      string
	from, to    string
	n           int
	seed        int64
	faults      float64
	rateMax     int
	ratePer     time.Duration
	concurrency int
	// redis, when set, is the address of a Redis shared by every process
	// using the token (package hubspot/redislimit).
	redis string
	// progressEvery is the interval between progress lines when stderr is
	// not a terminal.
	progressEvery time.Duration
}

const (
	defaultN    = 5000
	maxN        = 100000
	defaultRate = "190/10s"
)

// parseFlags parses args. -h prints the usage to stderr and returns
// flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("limits", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&c.live, "live", false, "talk to HubSpot (token in $HUBSPOT_TOKEN) instead of the in-process fake")
	fs.BoolVar(&c.apply, "apply", false, "with -live: run the job (create, update, purge, delete); without it -live only lists")
	fs.StringVar(&c.server, "server", hubspot.DefaultBaseURL, "API base URL for -live")
	fs.StringVar(&c.from, "from", "contacts", "from object type (name or id, e.g. contacts, 2-123456)")
	fs.StringVar(&c.to, "to", "companies", "to object type")
	fs.IntVar(&c.n, "n", defaultN, "number of configurations (association limits) to set")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the limit values and of the fake's faults")
	fs.Float64Var(&c.faults, "faults", 0.02, "fake only: probability of a random fault per request (0 to 1)")
	rate := fs.String("rate", defaultRate, "fake only: rate limit per token, requests/window")
	fs.IntVar(&c.concurrency, "concurrency", 0, "batch requests in flight (0: sized from the rate limit and round trip)")
	fs.StringVar(&c.redis, "redis", "", "share the client-side rate limit with other processes through Redis at host:port (see README)")
	fs.DurationVar(&c.progressEvery, "progress-every", time.Second, "interval of progress lines when stderr is not a terminal")
	fs.Usage = func() {} // a bad flag is one line (run); -h prints the usage below
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "usage: limits [-live [-apply] [-server URL]] [-from TYPE] [-to TYPE] [-n N] [-seed S] [-faults P] [-rate N/DURATION] [-redis HOST:PORT]")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return c, err
		}
		return c, usagef("%v (see -h)", err)
	}
	if fs.NArg() > 0 {
		return c, usagef("unexpected argument %s (see -h)", clip(fs.Arg(0)))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case c.n < 1 || c.n > maxN:
		return c, usagef("-n must be between 1 and %d, got %d", maxN, c.n)
	case c.faults < 0 || c.faults > 1:
		return c, usagef("-faults must be between 0 and 1, got %v", c.faults)
	case c.concurrency < 0 || c.concurrency > 64:
		return c, usagef("-concurrency must be between 0 and 64, got %d", c.concurrency)
	case c.progressEvery <= 0:
		return c, usagef("-progress-every must be positive, got %v", c.progressEvery)
	case strings.TrimSpace(c.from) == "" || strings.TrimSpace(c.to) == "":
		return c, usagef("-from and -to must name object types")
	case c.apply && !c.live:
		return c, usagef("-apply only means something with -live (the fake job always applies)")
	case c.live && (set["faults"] || set["rate"]):
		return c, usagef("-faults and -rate configure the fake; they cannot be used with -live")
	case !c.live && set["server"]:
		return c, usagef("-server only applies with -live")
	case set["redis"] && !validHostPort(c.redis):
		return c, usagef("-redis wants host:port, got %s", clip(c.redis))
	case set["redis"] && !redisBuilt:
		return c, usagef("-redis needs the Redis build: go run -tags redis ./examples/limits -redis %s", c.redis)
	}
	var err error
	if c.rateMax, c.ratePer, err = parseRate(*rate); err != nil {
		return c, usagef("-rate: %v", err)
	}
	if !c.live {
		for _, t := range []string{c.from, c.to} {
			if _, ok := hubspottest.ObjectTypeID(t); !ok {
				return c, usagef("unknown object type %s: use a standard object (contacts, companies, deals, ...) or a custom object id like 2-123456", clip(t))
			}
		}
	}
	return c, nil
}

// validHostPort reports whether s is host:port with a port in 1..65535 and
// a host that is an IP address or a DNS name (at most 253 bytes of letters,
// digits, '-', '_' and '.').
func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return false
	}
	if net.ParseIP(host) != nil {
		return true
	}
	if len(host) > 253 {
		return false
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// parseRate parses "190/10s" (requests per window).
func parseRate(s string) (int, time.Duration, error) {
	ns, ds, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("want requests/window like %s, got %s", defaultRate, clip(s))
	}
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if err != nil || n < 1 {
		return 0, 0, fmt.Errorf("want a positive number of requests, got %s", clip(ns))
	}
	d, err := time.ParseDuration(strings.TrimSpace(ds))
	if err != nil || d < time.Millisecond {
		return 0, 0, fmt.Errorf("want a window of at least 1ms like 1s or 10s, got %s", clip(ds))
	}
	return n, d, nil
}

// run parses args and runs the job (or, with -live and no -apply, the
// listing). The summary goes to stdout, progress to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if cfg.live {
		return runLive(ctx, cfg, getenv, stdout, stderr)
	}
	return runFake(ctx, cfg, stdout, stderr)
}

// maxEcho bounds how much of a bad command-line value an error quotes.
const maxEcho = 64

// clip quotes s for an error message, cut to maxEcho bytes with "..." when
// longer.
func clip(s string) string {
	if len(s) > maxEcho {
		return strconv.Quote(s[:maxEcho]) + "..."
	}
	return strconv.Quote(s)
}

// oneLine folds an error message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/crmkit/hubspot-associations/internal/bench"
	"github.com/crmkit/hubspot-associations/internal/redistest"
)

func workersSection(ctx context.Context, w io.Writer, progress func(string, ...any)) error {
	const procs, n, max, interval = 4, 5000, 50, time.Second
	fmt.Fprintf(w, "\n## 6. Four processes, one token: a budget shared through Redis\n\n")
	fmt.Fprintf(w, "Four worker processes (this program with `-worker`) start together, each updating its own\n")
	fmt.Fprintf(w, "5,000 limits (50 requests) with one token against one standalone `hubspot-fake` process allowing\n")
	fmt.Fprintf(w, "50 per 1 s (round trips 5-15 ms). With `redislimit` the processes share one window in a\n")
	fmt.Fprintf(w, "redis-server started for the run; beside it, the same four with in-process limiters only.\n")
	fmt.Fprintf(w, "The bound is for all accepted requests together, as for one client; misreported compares every\n")
	fmt.Fprintf(w, "worker's report with the server's state read back at the end.\n\n")
	fl, done, err := startFleet(ctx)
	if err != nil {
		return skipped(w, err)
	}
	defer done()
	self, fakeBin, rs := fl.Self, fl.FakeBinary, fl.redis
	fmt.Fprintf(w, "The third row restarts the redis-server 1.2 s after the start (every key lost, every\n")
	fmt.Fprintf(w, "connection broken); its workers pace in-process while Redis is away (the default; the first\n")
	fmt.Fprintf(w, "two rows' Redis workers run `WithoutFallback`, so that they show the shared window alone).\n\n")
	fmt.Fprintf(w, "| limiter | processes x inputs | wall | bound | wall / bound | requests accepted | 429s (late) | misreported |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|\n")
	restart := func(ctx context.Context) error { return rs.Restart(ctx) }
	for _, c := range []struct {
		name  string
		setup bench.WorkersSetup
	}{
		{"", bench.WorkersSetup{Self: self, FakeBinary: fakeBin, RedisAddr: rs.Addr}},
		{"", bench.WorkersSetup{Self: self, FakeBinary: fakeBin}},
		{"Redis (redislimit), Redis restarted at 1.2 s", bench.WorkersSetup{Self: self, FakeBinary: fakeBin, RedisAddr: rs.Addr,
			Restart: restart, RestartAfter: 1200 * time.Millisecond}},
	} {
		progress("workers: redis %q %s", c.setup.RedisAddr, c.name)
		r, err := bench.RunWorkers(ctx, c.setup, procs, n, max, interval)
		if err != nil {
			return err
		}
		if c.name != "" {
			r.Backend = c.name
		}
		fmt.Fprintf(w, "| %s | %d x %d | %s | %s | **%.3f** | %d | %d (%d) | %d |\n", r.Backend, r.Processes, r.N,
			ms(r.Wall), ms(r.Bound), r.Ratio(), r.Accepted, r.RateLimited, r.Late429, r.Misreported)
		for _, e := range r.WorkerErrors {
			fmt.Fprintf(w, "\nA worker (%s) reported: `%s`\n", r.Backend, firstLine(e))
		}
	}
	return nil
}

// fleet is what the workers and joiner sections run on: this program (run
// with -worker), a built hubspot-fake and a redis-server.
type fleet struct {
	bench.WorkersSetup
	redis *redistest.Server
}

// startFleet builds hubspot-fake and starts a redis-server in a temporary
// directory; done stops and removes them. Without redis-server it returns
// nil and the error to print.
func startFleet(ctx context.Context) (*fleet, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "bench-workers-")
	if err != nil {
		return nil, nil, err
	}
	fakeBin := filepath.Join(dir, "hubspot-fake")
	if err := runCmd("go", "build", "-o", fakeBin, "./hubspottest/cmd/hubspot-fake"); err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	rs, err := redistest.Start(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return &fleet{WorkersSetup: bench.WorkersSetup{Self: self, FakeBinary: fakeBin, RedisAddr: rs.Addr}, redis: rs},
		func() { rs.Stop(); os.RemoveAll(dir) }, nil
}

// skipped writes why a section that needs redis-server did not run, or
// returns the error that stopped it.
func skipped(w io.Writer, err error) error {
	if errors.Is(err, redistest.ErrNotInstalled) {
		fmt.Fprintf(w, "Skipped: %v.\n", err)
		return nil
	}
	return err
}

// joinerSection: a process joins a fleet that keeps the window full.
func joinerSection(ctx context.Context, w io.Writer, progress func(string, ...any)) error {
	const procs, n, max, interval, joinerN = 4, 5000, 50, time.Second, 1000
	fl, done, err := startFleet(ctx)
	if err != nil {
		return skipped(w, err)
	}
	defer done()
	s := fl.WorkersSetup
	s.JoinerN, s.JoinAfter, s.Limit = joinerN, 1500*time.Millisecond, max
	fmt.Fprintf(w, "\n## 7. A process joins a fleet that keeps the window full\n\n")
	fmt.Fprintf(w, "Four worker processes sharing one window through Redis, told the limit (50 per 1 s,\n")
	fmt.Fprintf(w, "`redislimit.WithLimit`), each update 5,000 limits (50 requests) against a `hubspot-fake`\n")
	fmt.Fprintf(w, "allowing 50 per 1 s, so the window stays full for four windows. 1.5 s after them a fifth\n")
	fmt.Fprintf(w, "process starts with the defaults (`redislimit.NewLimiter`, nothing told: it must take the\n")
	fmt.Fprintf(w, "shape the fleet learned, kept in Redis) and updates 1,000 limits (10 requests). Its wall time\n")
	fmt.Fprintf(w, "is measured from its start to its end, against one window (1 s): the queue in Redis gives the\n")
	fmt.Fprintf(w, "slots that free to the waiting process with the fewest sends in the last two windows, so it gets\n")
	fmt.Fprintf(w, "its 10 (a fifth of the window) from the next slots that free: about one window at most.\n\n")
	progress("workers: a joining process")
	r, err := bench.RunWorkers(ctx, s, procs, n, max, interval)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "| fleet | joiner's requests | joiner's first answer | joiner's wall | window | first answer / window | wall / window | all 429s (late) | misreported |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(w, "| %d x %d, Redis | %d | %s | %s | %s | **%.3f** | **%.3f** | %d (%d) | %d |\n", procs, n, r.JoinerRequests,
		ms(r.JoinerFirst), ms(r.JoinerWall), ms(interval), float64(r.JoinerFirst)/float64(interval),
		float64(r.JoinerWall)/float64(interval), r.RateLimited, r.Late429, r.Misreported)
	for _, e := range r.WorkerErrors {
		fmt.Fprintf(w, "\nA worker reported: `%s`\n", firstLine(e))
	}
	return nil
}

// runWorker is the -worker mode: one process of the workers section.
func runWorker(args []string) error {
	fs := flag.NewFlagSet("bench -worker", flag.ContinueOnError)
	url := fs.String("url", "", "hubspot-fake base URL")
	first := fs.Int("first", 1, "first type id")
	n := fs.Int("n", 0, "inputs")
	startAt := fs.Int64("start-at", 0, "start time, Unix nanoseconds")
	redisAddr := fs.String("redis", "", "Redis address (empty: in-process limiter)")
	seed := fs.Uint64("seed", 1, "latency seed")
	fallback := fs.Bool("fallback", false, "pace in-process while Redis is away (default: a Redis failure is an error)")
	limit := fs.Int("limit", 0, "the limit to start from, requests per -interval (0: HubSpot's default)")
	interval := fs.Duration("interval", 0, "the interval of -limit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.HasPrefix(*url, "http://127.0.0.1:") || *n < 1 || *n > 100_000 || *first < 1 {
		return fmt.Errorf("-worker: need -url http://127.0.0.1:PORT, -n in [1, 100000], -first >= 1")
	}
	if d := time.Until(time.Unix(0, *startAt)); d < -time.Minute || d > time.Minute {
		return fmt.Errorf("-worker: -start-at %s is not within a minute of now", strconv.FormatInt(*startAt, 10))
	}
	rep := bench.RunWorker(context.Background(), bench.WorkerArgs{URL: *url, First: *first, N: *n,
		StartAt: time.Unix(0, *startAt), RedisAddr: *redisAddr, Seed: *seed, Fallback: *fallback, Limit: *limit, Interval: *interval})
	return json.NewEncoder(os.Stdout).Encode(rep)
}

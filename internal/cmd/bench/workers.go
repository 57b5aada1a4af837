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
	dir, err := os.MkdirTemp("", "bench-workers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rs, err := redistest.Start(ctx, dir)
	if errors.Is(err, redistest.ErrNotInstalled) {
		fmt.Fprintf(w, "Skipped: %v.\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	defer rs.Stop()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fakeBin := filepath.Join(dir, "hubspot-fake")
	if err := runCmd("go", "build", "-o", fakeBin, "./hubspottest/cmd/hubspot-fake"); err != nil {
		return err
	}
	fmt.Fprintf(w, "| limiter | processes x inputs | wall | bound | wall / bound | requests accepted | 429s (late) | misreported |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|\n")
	for _, addr := range []string{rs.Addr, ""} {
		progress("workers: redis %q", addr)
		r, err := bench.RunWorkers(ctx, bench.WorkersSetup{Self: self, FakeBinary: fakeBin, RedisAddr: addr}, procs, n, max, interval)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "| %s | %d x %d | %s | %s | **%.3f** | %d | %d (%d) | %d |\n", r.Backend, r.Processes, r.N,
			ms(r.Wall), ms(r.Bound), r.Ratio(), r.Accepted, r.RateLimited, r.Late429, r.Misreported)
		for _, e := range r.WorkerErrors {
			fmt.Fprintf(w, "\nA worker (%s) reported: `%s`\n", r.Backend, firstLine(e))
		}
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
		StartAt: time.Unix(0, *startAt), RedisAddr: *redisAddr, Seed: *seed})
	return json.NewEncoder(os.Stdout).Encode(rep)
}

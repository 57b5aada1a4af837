package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspot/redislimit"
)

// WorkerReport is what one worker process prints (JSON) when done.
type WorkerReport struct {
	Outcome
	Error    string
	Attempts int
	R429     []int64 // arrival-side times (UnixNano) of the 429s it got
	MeanRTT  time.Duration
	End      int64 // UnixNano when the job returned
	FirstOK  int64 // UnixNano when the first accepted answer came
}

// WorkerArgs configures RunWorker.
type WorkerArgs struct {
	URL       string
	First, N  int
	StartAt   time.Time
	RedisAddr string // empty: an in-process limiter
	// Fallback lets the Redis store pace in-process while Redis is away
	// (the restart run); without it a Redis failure is an error.
	Fallback bool
	// Limit is the limit the limiter starts from (0: HubSpot's default).
	Limit    int
	Interval time.Duration
	Seed     uint64
}

// RunWorker is one of the processes of the shared-budget benchmark: it waits
// until StartAt, then updates N limits from type id First with Schema,
// paced by a Redis-backed limiter or its own in-process one.
func RunWorker(ctx context.Context, a WorkerArgs) WorkerReport {
	var lim *hubspot.AdaptiveLimiter
	if a.RedisAddr != "" {
		rdb := redis.NewClient(redislimit.ClientOptions(a.RedisAddr))
		defer rdb.Close()
		opts := []redislimit.Option{redislimit.WithLimit(a.Limit, a.Interval)}
		if !a.Fallback {
			opts = append(opts, redislimit.WithoutFallback())
		}
		lim = redislimit.NewLimiter(rdb, Token, opts...)
	} else {
		var opts []hubspot.Option
		if a.Limit > 0 { // else HubSpot's default
			opts = append(opts, hubspot.WithRateLimit(a.Limit, a.Interval))
		}
		var err error
		if lim, err = hubspot.NewAdaptiveLimiter(opts...); err != nil {
			return WorkerReport{Error: err.Error()}
		}
	}
	lat := NewLatency(5*time.Millisecond, 15*time.Millisecond, a.Seed)
	defer lat.Close()
	var rep WorkerReport
	attempts := make(chan int64, 1<<16)
	var firstOK atomic.Int64
	ctx = hubspot.WithObserver(ctx, hubspot.Observer{OnAttempt: func(e hubspot.AttemptEvent) {
		code := int64(0)
		if e.StatusCode == 429 {
			code = time.Now().UnixNano()
		} else if e.StatusCode != 0 {
			firstOK.CompareAndSwap(0, time.Now().UnixNano())
		}
		select {
		case attempts <- code:
		default:
		}
	}})
	if err := sleep(ctx, time.Until(a.StartAt)); err != nil {
		rep.Error = err.Error()
		return rep
	}
	out, err := RunSchema(ctx, a.URL, lat, Updates(a.First, a.N), SchemaOptions{Limiter: lim})
	rep.End = time.Now().UnixNano()
	close(attempts)
	for t := range attempts {
		rep.Attempts++
		if t != 0 {
			rep.R429 = append(rep.R429, t)
		}
	}
	rep.Outcome, rep.MeanRTT, rep.FirstOK = out, lat.MeanRTT(), firstOK.Load()
	if err != nil {
		rep.Error = err.Error()
	} else if out.Err != nil {
		rep.Error = out.Err.Error()
	}
	rep.Outcome.Err = nil
	return rep
}

// WorkersRow is one run of the shared-budget benchmark.
type WorkersRow struct {
	Backend string
	// JoinerWall is the joining process's wall time (JoinerN > 0), from
	// its start to its end; JoinerRequests its accepted requests.
	JoinerWall     time.Duration
	JoinerFirst    time.Duration // from its start to its first accepted answer
	JoinerRequests int
	Processes, N   int
	Wall, Bound    time.Duration
	Accepted       int
	RateLimited    int
	Late429        int
	Misreported    int
	WorkerErrors   []string
	Max            int
	Interval       time.Duration
	MeanRTT        time.Duration
}

// Ratio is wall time over the bound.
func (r WorkersRow) Ratio() float64 { return float64(r.Wall) / float64(r.Bound) }

// WorkersSetup names the binaries and servers of the shared-budget runs.
type WorkersSetup struct {
	Self       string // this program, run with -worker
	FakeBinary string // a built hubspottest/cmd/hubspot-fake
	RedisAddr  string // empty: in-process limiters
	// Restart, when set, is called RestartAfter after the workers start
	// (a Redis restart: every key lost, every connection broken); the
	// workers then pace in-process while Redis is away.
	Restart      func(context.Context) error
	RestartAfter time.Duration
	// JoinerN > 0 adds one more process, started JoinAfter after the
	// others with HubSpot's default limit, updating JoinerN inputs; its
	// wall time is WorkersRow.JoinerWall.
	JoinerN   int
	JoinAfter time.Duration
	// Limit is the limit the fleet's processes start from (0: HubSpot's
	// default).
	Limit int
}

// RunWorkers starts a fresh hubspot-fake (max per interval, procs x n
// limits), then procs worker processes at once, each updating its own n
// limits with one token; it reads the server's state back and compares.
func RunWorkers(ctx context.Context, s WorkersSetup, procs, n, limit int, interval time.Duration) (WorkersRow, error) {
	row := WorkersRow{Backend: "in-process (one limiter per process)", Processes: procs, N: n, Max: limit, Interval: interval}
	if s.RedisAddr != "" {
		row.Backend = "Redis (redislimit)"
	}
	fake := exec.CommandContext(ctx, s.FakeBinary, "-addr", "127.0.0.1:0", "-token", Token,
		"-rate-max", strconv.Itoa(limit), "-rate-interval", interval.String(), "-daily", "0",
		"-seed-limits", strconv.Itoa(procs*n+s.JoinerN))
	stdout, err := fake.StdoutPipe()
	if err != nil {
		return row, err
	}
	fake.Stderr = os.Stderr
	if err := fake.Start(); err != nil {
		return row, err
	}
	defer func() {
		fake.Process.Signal(os.Interrupt)
		fake.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return row, fmt.Errorf("hubspot-fake: %w", err)
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "hubspot-fake listening on "))
	go io.Copy(io.Discard, stdout)

	startAt := time.Now().Add(1500 * time.Millisecond)
	type res struct {
		rep    WorkerReport
		joiner bool
		err    error
	}
	results := make(chan res, procs+1)
	launch := func(first, n int, at time.Time, seed int, joiner bool) {
		args := []string{"-worker", "-url", url, "-first", strconv.Itoa(first), "-n", strconv.Itoa(n),
			"-start-at", strconv.FormatInt(at.UnixNano(), 10), "-seed", strconv.Itoa(seed)}
		if s.RedisAddr != "" {
			args = append(args, "-redis", s.RedisAddr)
		}
		if s.Restart != nil {
			args = append(args, "-fallback")
		}
		if s.Limit > 0 && !joiner {
			args = append(args, "-limit", strconv.Itoa(s.Limit), "-interval", interval.String())
		}
		go func() {
			cmd := exec.CommandContext(ctx, s.Self, args...)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			var rep WorkerReport
			if err == nil {
				err = json.Unmarshal(out, &rep)
			}
			results <- res{rep, joiner, err}
		}()
	}
	for p := range procs {
		launch(1+p*n, n, startAt, p+1, false)
	}
	joinAt := startAt.Add(s.JoinAfter)
	if s.JoinerN > 0 {
		launch(1+procs*n, s.JoinerN, joinAt, procs+1, true)
	}
	restartErr := make(chan error, 1)
	if s.Restart != nil {
		go func() {
			if err := sleep(ctx, time.Until(startAt.Add(s.RestartAfter))); err != nil {
				restartErr <- err
				return
			}
			restartErr <- s.Restart(ctx)
		}()
	}
	var reps []WorkerReport
	total := procs
	if s.JoinerN > 0 {
		total++
	}
	for range total {
		r := <-results
		if r.err != nil {
			return row, fmt.Errorf("worker: %w", r.err)
		}
		if r.joiner {
			row.JoinerWall = time.Unix(0, r.rep.End).Sub(joinAt)
			row.JoinerFirst = time.Unix(0, r.rep.FirstOK).Sub(joinAt)
			row.JoinerRequests = r.rep.Attempts - len(r.rep.R429)
		}
		reps = append(reps, r.rep)
	}
	if s.Restart != nil {
		if err := <-restartErr; err != nil {
			return row, fmt.Errorf("restarting Redis: %w", err)
		}
	}
	var end int64
	var rttSum time.Duration
	all := Outcome{Failed: map[int32]bool{}}
	for _, r := range reps {
		end = max(end, r.End)
		rttSum += r.MeanRTT
		row.Accepted += r.Attempts - len(r.R429)
		row.RateLimited += len(r.R429)
		for _, t := range r.R429 {
			if time.Unix(0, t).Sub(startAt) >= interval {
				row.Late429++
			}
		}
		if r.Error != "" {
			row.WorkerErrors = append(row.WorkerErrors, r.Error)
		}
		all.Succeeded = append(all.Succeeded, r.Succeeded...)
		all.NotAttempted = append(all.NotAttempted, r.NotAttempted...)
		for id, u := range r.Failed {
			all.Failed[id] = u
		}
	}
	row.Wall = time.Unix(0, end).Sub(startAt)
	row.MeanRTT = rttSum / time.Duration(len(reps))
	row.Bound = TighterBound(row.Accepted, limit, interval) + row.MeanRTT
	got, err := readBack(ctx, url)
	if err != nil {
		return row, fmt.Errorf("reading back: %w", err)
	}
	inputs := procs * n
	if s.JoinerN > 0 {
		inputs += s.JoinerN
	}
	row.Misreported = MisreportedIn(got, all, 1, inputs)
	return row, nil
}

// readBack lists the limits from From to To on the server.
func readBack(ctx context.Context, url string) (map[int32]int32, error) {
	b, err := newSchema(url, defaultLimiter(), nil)
	if err != nil {
		return nil, err
	}
	cfgs, err := b.Configurations(ctx, From, To)
	if err != nil {
		return nil, err
	}
	got := map[int32]int32{}
	for _, c := range cfgs {
		if c.UserEnforcedMaxToObjectIDs != nil {
			got[c.TypeID] = *c.UserEnforcedMaxToObjectIDs
		}
	}
	return got, nil
}

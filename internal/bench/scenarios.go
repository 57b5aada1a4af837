package bench

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
)

// WindowRow is one run of scenario 1: a job under a rolling-window limit.
type WindowRow struct {
	Limit       string
	Faults      bool
	Client      string // "Schema" or "plain loop"
	Inputs      int
	Wall        time.Duration
	RTT         time.Duration
	Bound       time.Duration // (ceil(R/Max)-1) x Interval + RTT, R = accepted requests
	Requests    int
	Accepted    int
	RateLimited int
	Late429     int // 429s after the first window
	Misreported int
}

// Ratio is wall time over the bound.
func (r WindowRow) Ratio() float64 { return float64(r.Wall) / float64(r.Bound) }

// defaultLimiter returns a fresh in-process limiter with HubSpot's default
// limit.
func defaultLimiter() *hubspot.AdaptiveLimiter {
	l, _ := hubspot.NewAdaptiveLimiter() // without options it cannot fail
	return l
}

// TighterBound is (ceil(R/Max)-1) x Interval: a rolling window admits Max at
// once, then Max more each Interval.
func TighterBound(requests, max int, interval time.Duration) time.Duration {
	return time.Duration(math.Ceil(float64(requests)/float64(max))-1) * interval
}

// RunWindow runs one job of n updates under max per interval, with the
// Schema or the plain loop, at 5-15 ms round trips.
func RunWindow(ctx context.Context, n, max int, interval time.Duration, faults, plain bool, seed int64) (WindowRow, error) {
	srv, err := StartServer(ServerSpec{Types: n, Max: max, Interval: interval, Faults: faults, Seed: seed})
	if err != nil {
		return WindowRow{}, err
	}
	defer srv.Close()
	lat := NewLatency(5*time.Millisecond, 15*time.Millisecond, uint64(seed))
	defer lat.Close()
	inputs := Updates(1, n)
	row := WindowRow{Limit: fmt.Sprintf("%d per %s", max, interval), Faults: faults, Client: "Schema", Inputs: n}
	start := time.Now()
	var out Outcome
	if plain {
		row.Client = "plain loop"
		out, err = RunPlainLoop(ctx, srv.URL, lat, inputs)
	} else {
		out, err = RunSchema(ctx, srv.URL, lat, inputs, SchemaOptions{Limiter: defaultLimiter()})
	}
	row.Wall = time.Since(start)
	if err != nil {
		return row, err
	}
	st := srv.Stats()
	row.Requests, row.RateLimited = st.Requests, st.RateLimited
	row.Late429, row.Accepted = Window429s(srv, start, interval)
	row.RTT = lat.MeanRTT()
	row.Bound = TighterBound(row.Accepted, max, interval) + row.RTT
	row.Misreported = Misreported(srv, out, 1, n)
	return row, nil
}

// SmallRow is scenario 2: a job that fits in one window, with a fresh
// limiter and with none.
type SmallRow struct {
	Requests               int
	WithLimiter, NoLimiter time.Duration // medians
}

// Ratio is the limiter's time over the no-limiter time.
func (r SmallRow) Ratio() float64 { return float64(r.WithLimiter) / float64(r.NoLimiter) }

// RunSmall runs jobs of requests x 100 inputs against a server allowing 190
// per 10 s, reps times each way (alternating), and returns the medians.
func RunSmall(ctx context.Context, requests, reps int, seed int64) (SmallRow, error) {
	n := requests * 100
	row := SmallRow{Requests: requests}
	var with, without []time.Duration
	for i := range reps {
		for _, limited := range []bool{true, false} {
			d, err := timedUpdates(ctx, "small job", requests, n,
				ServerSpec{Types: n, Max: hubspot.DefaultRateLimitHigh, Interval: 10 * time.Second, Seed: seed},
				5*time.Millisecond, 15*time.Millisecond, uint64(seed)+uint64(i), limited, 0)
			if err != nil {
				return row, err
			}
			if limited {
				with = append(with, d)
			} else {
				without = append(without, d)
			}
		}
	}
	row.WithLimiter, row.NoLimiter = Median(with), Median(without)
	return row, nil
}

// Median returns the middle of v once sorted (the upper middle for an even
// length); v is left as it is.
func Median[T cmp.Ordered](v []T) T {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}

// LatencyRow is scenario 3: the rate reached at a long round trip.
type LatencyRow struct {
	Limit    string
	RTT      time.Duration
	Requests int
	Allowed  float64 // Max / Interval, requests per second
	Reached  float64 // sustained rate after the first window
	Wall     time.Duration
	// Bound is (ceil(R/Max)-1) x Interval + RTT for the R accepted
	// requests, as in RunWindow.
	Bound      time.Duration
	Late429    int
	Misreports int
}

// Ratio is wall time over the bound.
func (r LatencyRow) Ratio() float64 { return float64(r.Wall) / float64(r.Bound) }

// RunLatency sends requests requests (chunks of 10 inputs) at an 80 ms
// round trip under max per interval.
func RunLatency(ctx context.Context, max int, interval time.Duration, requests int, seed int64) (LatencyRow, error) {
	const chunk = 10
	n := requests * chunk
	srv, err := StartServer(ServerSpec{Types: n, Max: max, Interval: interval, Seed: seed})
	if err != nil {
		return LatencyRow{}, err
	}
	defer srv.Close()
	lat := NewLatency(80*time.Millisecond, 80*time.Millisecond, uint64(seed))
	defer lat.Close()
	start := time.Now()
	out, err := RunSchema(ctx, srv.URL, lat, Updates(1, n), SchemaOptions{Limiter: defaultLimiter(), ChunkSize: chunk})
	row := LatencyRow{Limit: fmt.Sprintf("%d per %s", max, interval), Requests: requests, Wall: time.Since(start),
		Allowed: float64(max) / interval.Seconds()}
	if err != nil {
		return row, err
	}
	row.RTT = lat.MeanRTT()
	row.Reached = SustainedRate(srv, max)
	var accepted int
	row.Late429, accepted = Window429s(srv, start, interval)
	row.Bound = TighterBound(accepted, max, interval) + row.RTT
	row.Misreports = Misreported(srv, out, 1, n)
	return row, nil
}

// UnpacedRow compares a Schema with no limiter (hubspot.WithLimiter(nil))
// and one with a fresh limiter at an 80 ms round trip, against a server
// whose window never fills: the concurrency each reaches alone decides.
type UnpacedRow struct {
	Requests           int
	NoLimiter, Limiter time.Duration
}

// Ratio is the wall time without a limiter over the wall time with one.
func (r UnpacedRow) Ratio() float64 { return float64(r.NoLimiter) / float64(r.Limiter) }

// RunUnpaced sends requests requests (chunks of 10 inputs) at an 80 ms
// round trip to a server allowing 10,000 per 10 s, without a limiter and
// with a fresh one.
func RunUnpaced(ctx context.Context, requests int, seed int64) (UnpacedRow, error) {
	const chunk = 10
	n := requests * chunk
	row := UnpacedRow{Requests: requests}
	for _, limited := range []bool{false, true} {
		d, err := timedUpdates(ctx, "unpaced job", requests, n,
			ServerSpec{Types: n, Max: 10_000, Interval: 10 * time.Second, Seed: seed},
			80*time.Millisecond, 80*time.Millisecond, uint64(seed), limited, chunk)
		if err != nil {
			return row, err
		}
		if limited {
			row.Limiter = d
		} else {
			row.NoLimiter = d
		}
	}
	return row, nil
}

// timedUpdates starts a server of spec, updates n limits through Schema at
// a round trip between lo and hi (seeded by latSeed), with a fresh limiter
// when limited and none otherwise (chunk 0: the default chunk size), and
// returns the wall time, failing on any input the report and the server's
// state disagree on.
func timedUpdates(ctx context.Context, job string, requests, n int, spec ServerSpec, lo, hi time.Duration, latSeed uint64, limited bool, chunk int) (time.Duration, error) {
	srv, err := StartServer(spec)
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	lat := NewLatency(lo, hi, latSeed)
	defer lat.Close()
	var lim *hubspot.AdaptiveLimiter
	if limited {
		lim = defaultLimiter()
	}
	start := time.Now()
	out, err := RunSchema(ctx, srv.URL, lat, Updates(1, n), SchemaOptions{Limiter: lim, ChunkSize: chunk})
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if bad := Misreported(srv, out, 1, n); out.Err != nil || bad != 0 {
		return 0, fmt.Errorf("%s of %d requests: %v, %d misreported", job, requests, out.Err, bad)
	}
	return d, nil
}

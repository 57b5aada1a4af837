// Package bench measures the client against a strict HubSpot-style server:
// the rolling-window scheduler, small jobs, latency, client overhead and
// generation time. internal/cmd/bench runs it and writes docs/BENCHMARKS.md
// (`make bench`); nothing here runs in `make test` beyond a smoke test.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

// Token is the bearer token of every benchmark (the fake's, not a secret).
const Token = "pat-bench-0000"

// From and To are the object types whose limits the benchmarks update.
const (
	From = "2-1001"
	To   = "2-1002"
)

// ServerSpec describes one fresh fake server.
type ServerSpec struct {
	Types    int           // USER_DEFINED association types 1..Types, each with a limit of 1
	Max      int           // rolling-window limit
	Interval time.Duration // rolling window
	Faults   bool          // 5% 503, 3% resets after applying
	Seed     int64
}

// FaultChoices are the injected faults: 5 in 8 a 503, 3 in 8 a reset after
// the change was applied; drawn with probability 8%.
var FaultChoices = []hubspottest.Fault{
	{Kind: hubspottest.FaultStatus, Status: 503}, {Kind: hubspottest.FaultStatus, Status: 503},
	{Kind: hubspottest.FaultStatus, Status: 503}, {Kind: hubspottest.FaultStatus, Status: 503},
	{Kind: hubspottest.FaultStatus, Status: 503},
	{Kind: hubspottest.FaultResetAfterApply}, {Kind: hubspottest.FaultResetAfterApply},
	{Kind: hubspottest.FaultResetAfterApply},
}

// StartServer starts a fake on a loopback port. Close it when done.
func StartServer(sp ServerSpec) (*hubspottest.Server, error) {
	opts := []hubspottest.Option{
		hubspottest.WithToken(Token),
		hubspottest.WithRateLimit(sp.Max, sp.Interval),
		hubspottest.WithDailyLimit(0),
		hubspottest.WithRequestLogSize(100_000),
		hubspottest.WithoutDefaultTypes(),
	}
	if sp.Faults {
		opts = append(opts, hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Seed: sp.Seed, Probability: 0.08, Choices: FaultChoices}))
	}
	for i := 1; i <= sp.Types; i++ {
		opts = append(opts, hubspottest.WithAssociationType(hubspottest.AssociationType{
			FromObjectType: From, ToObjectType: To, Category: "USER_DEFINED", TypeID: int32(i), Label: fmt.Sprintf("type %d", i),
		}), hubspottest.WithLimit(hubspottest.Limit{
			FromObjectType: From, ToObjectType: To, Category: "USER_DEFINED", TypeID: int32(i), MaxToObjectIDs: 1,
		}))
	}
	srv, err := hubspottest.New(opts...)
	if err != nil {
		return nil, err
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return srv, nil
}

// Latency is an http.RoundTripper that adds a network round trip drawn
// uniformly from [Lo, Hi]: half before the request reaches the server, half
// after the answer leaves it. It records every round trip.
type Latency struct {
	Base   http.RoundTripper
	Lo, Hi time.Duration

	mu  sync.Mutex
	rng *rand.Rand
	sum time.Duration
	n   int
}

// NewLatency returns a Latency over a fresh pooled transport.
func NewLatency(lo, hi time.Duration, seed uint64) *Latency {
	base := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	return &Latency{Base: base, Lo: lo, Hi: hi, rng: rand.New(rand.NewPCG(seed, 7))}
}

// RoundTrip implements http.RoundTripper.
func (l *Latency) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	d := l.Lo
	if l.Hi > l.Lo {
		d += time.Duration(l.rng.Int64N(int64(l.Hi - l.Lo)))
	}
	l.mu.Unlock()
	start := time.Now()
	if err := sleep(r.Context(), d/2); err != nil {
		return nil, err
	}
	resp, err := l.Base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if err := sleep(r.Context(), d-d/2); err != nil {
		resp.Body.Close()
		return nil, err
	}
	l.mu.Lock()
	l.sum += time.Since(start)
	l.n++
	l.mu.Unlock()
	return resp, nil
}

// MeanRTT is the average round trip of the answered requests.
func (l *Latency) MeanRTT() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return (l.Lo + l.Hi) / 2
	}
	return l.sum / time.Duration(l.n)
}

// Close drops idle connections.
func (l *Latency) Close() {
	if t, ok := l.Base.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Window429s counts the 429s the server sent after the first interval from
// start, and the accepted (non-429, answered or not) requests.
func Window429s(srv *hubspottest.Server, start time.Time, interval time.Duration) (late429, accepted int) {
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			if r.Time.Sub(start) >= interval {
				late429++
			}
			continue
		}
		accepted++
	}
	return late429, accepted
}

// SustainedRate is the rate of accepted requests after the first window:
// (R - Max) requests over the time from the Max-th to the last arrival.
func SustainedRate(srv *hubspottest.Server, max int) float64 {
	var ts []time.Time
	for _, r := range srv.Requests() {
		if r.Status != http.StatusTooManyRequests {
			ts = append(ts, r.Time)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	if len(ts) <= max {
		return 0
	}
	span := ts[len(ts)-1].Sub(ts[max-1])
	if span <= 0 {
		return 0
	}
	return float64(len(ts)-max) / span.Seconds()
}

package redislimit_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspot/redislimit"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// TestNewLimiter_shapeSharedThroughRedis: one process's answer (20 per
// 1 s) reshapes the limiter of another process that has had no answer, and
// a process that joins later starts from the stored shape; WithLimit sets
// the limit used before any is learned.
func TestNewLimiter_shapeSharedThroughRedis(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	if m, iv := redislimit.NewLimiter(rdb, token, redislimit.WithLimit(190, 10*time.Second)).Limit(); m != 190 || iv != 10*time.Second {
		t.Fatalf("WithLimit(190, 10s): limit %d per %s", m, iv)
	}
	srv := hubspottest.NewServer(t, hubspottest.WithToken(token), hubspottest.WithRateLimit(20, time.Second))
	a, b := redislimit.NewLimiter(rdb, token), redislimit.NewLimiter(rdb, token)
	if err := b.Wait(ctx); err != nil { // b has reserved, never been answered
		t.Fatal(err)
	}
	c, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken(token), hubspot.WithLimiter(a))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := c.ListLabelsWithResponse(ctx, "contacts", "companies"); err != nil || resp.StatusCode() != http.StatusOK {
		t.Fatalf("%v %v", err, resp)
	}
	if err := b.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if m, iv := b.Limit(); m != 20 || iv != time.Second {
		t.Errorf("another process after one reservation: %d per %s, want HubSpot's 20 per 1s", m, iv)
	}
	joiner := redislimit.NewLimiter(rdb, token, redislimit.WithLimit(190, 10*time.Second))
	if err := joiner.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if m, iv := joiner.Limit(); m != 20 || iv != time.Second {
		t.Errorf("a joining process: %d per %s, want the stored 20 per 1s", m, iv)
	}
}

// TestNewLimiter_joinerGetsSlotsWithinAWindow: four processes, told the
// limit, keep a window of 20 per 1 s full, each with 6 requests always
// waiting; a fifth joins with the default limit. Sending 6 requests one
// after the other, or its share of the window (20 / 5) at once, it waits
// about one window at most for each (bounded at 1.5 windows: the fleet's
// sends come in bursts of a window's worth, so a joiner may land just
// after one): the queue gives the slots that free to the process with the
// fewest sends in the window, however many requests the others keep
// waiting.
func TestNewLimiter_joinerGetsSlotsWithinAWindow(t *testing.T) {
	for _, c := range []struct {
		name             string
		rounds, perRound int
	}{
		{"one after the other", 6, 1},
		{"its share at once", 1, 4},
	} {
		t.Run(c.name, func(t *testing.T) { joinSaturatedFleet(t, c.rounds, c.perRound) })
	}
}

func joinSaturatedFleet(t *testing.T, rounds, perRound int) {
	rdb := client(t)
	ctx := context.Background()
	srv := hubspottest.NewServer(t, hubspottest.WithToken(token), hubspottest.WithRateLimit(20, time.Second))
	const procs, workers = 4, 6
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var fleetSent atomic.Int64
	for range procs {
		c, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken(token),
			hubspot.WithLimiter(redislimit.NewLimiter(rdb, token, redislimit.WithLimit(20, time.Second))))
		if err != nil {
			t.Fatal(err)
		}
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := c.ListLabelsWithResponse(ctx, "contacts", "companies"); err == nil {
						fleetSent.Add(1)
					}
				}
			}()
		}
	}
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(1500 * time.Millisecond) // the fleet fills the window and learns 20 per 1 s
	joiner, err := associations.NewDefaultClient(srv.URL, hubspot.WithToken(token), hubspot.WithLimiter(redislimit.NewLimiter(rdb, token)))
	if err != nil {
		t.Fatal(err)
	}
	bound := 1500 * time.Millisecond
	before := srv.Stats().RateLimited
	var mu sync.Mutex
	var worst time.Duration
	for range rounds {
		var jw sync.WaitGroup
		start := time.Now()
		for i := range perRound {
			jw.Add(1)
			go func() {
				defer jw.Done()
				resp, err := joiner.ListLabelsWithResponse(ctx, "contacts", "companies")
				took := time.Since(start)
				if err != nil || resp.StatusCode() != http.StatusOK {
					t.Errorf("joiner's request %d: %v %v", i, err, resp)
				}
				mu.Lock()
				worst = max(worst, took)
				mu.Unlock()
			}()
		}
		jw.Wait()
	}
	if srv.Stats().RateLimited > before {
		// A late 429 to the fleet (send placement on a loaded machine)
		// holds every process, the joiner too, for its Retry-After: at most
		// one more window.
		bound += time.Second
	}
	if worst > bound {
		t.Errorf("the joiner waited up to %s for a request, want at most about one window (%s)", worst, bound)
	}
	if fleetSent.Load() < 20 {
		t.Fatalf("the fleet sent only %d requests: the window was not full", fleetSent.Load())
	}
	st := srv.Stats()
	t.Logf("joiner's longest wait %s; fleet sent %d; server: %d requests, %d 429s", worst, fleetSent.Load(), st.Requests, st.RateLimited)
}

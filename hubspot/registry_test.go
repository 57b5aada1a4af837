package hubspot

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestSharedLimiter_evictsIdle: the registry drops the limiters of tokens
// no client holds once they have been idle, and keeps (and returns again)
// one a client still holds, so one token never gets two budgets.
func TestSharedLimiter_evictsIdle(t *testing.T) {
	// Not parallel: it changes the registry's timing.
	sharedMu.Lock()
	idle, sweep := sharedIdle, sharedSweep
	sharedIdle, sharedSweep = 0, 0
	sharedMu.Unlock()
	t.Cleanup(func() {
		sharedMu.Lock()
		sharedIdle, sharedSweep = idle, sweep
		sharedMu.Unlock()
	})

	held := SharedLimiter("token-evict-held", 100, 10*time.Second)
	before := sharedCount()
	for i := range 1000 {
		SharedLimiter(fmt.Sprint("token-evict-", i), 100, 10*time.Second)
	}
	// Each later call sweeps what the collector has freed.
	for range 20 {
		runtime.GC()
		if again := SharedLimiter("token-evict-held", 5, time.Second); again != held {
			t.Fatal("a limiter a client holds was replaced: its token now has two budgets")
		}
		if sharedCount() <= before+10 {
			break
		}
	}
	if n := sharedCount(); n > before+10 {
		t.Fatalf("registry holds %d after the idle ones were collected, want about %d", n, before)
	}
	runtime.KeepAlive(held)
}

package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/crmkit/hubspot-associations/internal/bench"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// marginSection measures the window margin (wire.WindowMargin): how late
// each window opens, against the late 429s a smaller margin draws.
func marginSection(ctx context.Context, w io.Writer, progress func(string, ...any)) error {
	fmt.Fprintf(w, "\n## 8. The window margin\n\n")
	fmt.Fprintf(w, "A send's slot is reused one interval plus a margin after the limiter placed it (where HubSpot\n")
	fmt.Fprintf(w, "counted it at the latest, from its own round trip, less the way out of the send that reuses\n")
	fmt.Fprintf(w, "it). The margin covers what the round trip does not show: the delay between a process deciding\n")
	fmt.Fprintf(w, "to send and the request leaving on a loaded machine, and the server's own. The same job as\n")
	fmt.Fprintf(w, "section 1 (20,000 updates at 50 per 1 s, no faults, 5-15 ms round trips), 3 runs per margin\n")
	fmt.Fprintf(w, "(seeds 11-13), the default last; wall / bound is the median, late 429s the sum of the 3 runs.\n\n")
	fmt.Fprintf(w, "| margin | at 1 s | wall / bound (median) | late 429s (3 runs) | misreported |\n|---|---|---|---|---|\n")
	defer wire.SetWindowMargin(wire.DefaultMarginPerMille, wire.DefaultMarginFloor)
	for _, m := range []struct {
		name     string
		perMille int64
		floor    time.Duration
	}{
		{"0.2% of the interval, at least 2 ms", 2, 2 * time.Millisecond},
		{"1%, at least 5 ms", 10, 5 * time.Millisecond},
		{"2%, at least 10 ms (the default)", wire.DefaultMarginPerMille, wire.DefaultMarginFloor},
	} {
		wire.SetWindowMargin(m.perMille, m.floor)
		var ratios []float64
		late, mis := 0, 0
		for seed := int64(11); seed <= 13; seed++ {
			progress("margin: %s, seed %d", m.name, seed)
			r, err := bench.RunWindow(ctx, 20000, 50, time.Second, false, false, seed)
			if err != nil {
				return err
			}
			ratios = append(ratios, r.Ratio())
			late += r.Late429
			mis += r.Misreported
		}
		slices.Sort(ratios)
		fmt.Fprintf(w, "| %s | %s | **%.3f** | %d | %d |\n", m.name, wire.WindowMargin(time.Second), ratios[1], late, mis)
	}
	fmt.Fprintf(w, "\nA late 429 costs more than a margin saves: it is an error HubSpot counts against the app, and\n")
	fmt.Fprintf(w, "its Retry-After holds every caller of the limiter.\n")
	return nil
}

package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

// printSummary writes the summary table: one row per step and a total.
// Columns are separated by at least two spaces; "-" marks read steps,
// which have no inputs.
func printSummary(w io.Writer, sum *summary) {
	header := []string{"step", "sent", "succeeded", "failed", "not attempted", "requests", "retries", "429s", "time", "notes"}
	rows := [][]string{header}
	var req, retries, rl int
	for _, s := range sum.steps {
		dash := func(n int) string {
			if !s.hasInputs {
				return "-"
			}
			return strconv.Itoa(n)
		}
		note := s.note
		if s.problem != "" && s.problem != s.note {
			note = strings.TrimSpace(note + "  INCOMPLETE: " + s.problem)
		}
		rows = append(rows, []string{s.name, dash(s.sent), dash(s.succeeded), dash(s.failed), dash(s.notAttempted),
			strconv.Itoa(s.requests), strconv.Itoa(s.retries), strconv.Itoa(s.rateLimited), fmtDuration(s.elapsed), note})
		req, retries, rl = req+s.requests, retries+s.retries, rl+s.rateLimited
	}
	rows = append(rows, []string{"total", "", "", "", "", strconv.Itoa(req), strconv.Itoa(retries), strconv.Itoa(rl), fmtDuration(sum.wall), ""})

	widths := make([]int, len(header))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			switch {
			case i == 0:
				fmt.Fprintf(&b, "%-*s", widths[i], c)
			case i == len(r)-1:
				if c != "" {
					b.WriteString("  " + c)
				}
			default:
				fmt.Fprintf(&b, "  %*s", widths[i], c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// printFakeStats writes what the fake server counted.
func printFakeStats(w io.Writer, st hubspottest.Stats, took time.Duration) {
	kinds := make([]string, 0, len(st.FaultsByKind))
	for k, n := range st.FaultsByKind {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	faults := ""
	if len(kinds) > 0 {
		faults = " (" + strings.Join(kinds, ", ") + ")"
	}
	fmt.Fprintf(w, "fake server: %d requests, %d 429s, %d faults%s, at most %d in flight; whole run %s\n",
		st.Requests, st.RateLimited, st.Faults, faults, st.MaxInFlight, fmtDuration(took))
}

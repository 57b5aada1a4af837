package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
)

// progressPrinter shows the progress of a batch step on w: a bar redrawn in
// place when w is a terminal, otherwise a line every interval and one at
// the end. Its update method is the hubspot.WithProgress callback.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	every time.Duration

	mu        sync.Mutex
	step      string
	began     time.Time
	lastPrint time.Time
	last      hubspot.Progress
	paused    bool
	drawn     int // length of the bar last drawn, to blank it out
}

func newProgressPrinter(w io.Writer, every time.Duration) *progressPrinter {
	return &progressPrinter{w: w, tty: isTerminal(w), every: every}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// begin starts showing a step of total inputs.
func (p *progressPrinter) begin(step string, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.step, p.began, p.lastPrint = step, now, now
	p.last, p.paused = hubspot.Progress{Total: total}, false
	if p.tty {
		p.draw(now)
	}
}

// update records a snapshot (called after every chunk, never concurrently).
func (p *progressPrinter) update(pr hubspot.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		return
	}
	p.last = pr
	now := time.Now()
	switch {
	case p.tty && now.Sub(p.lastPrint) >= 50*time.Millisecond:
		p.draw(now)
	case !p.tty && now.Sub(p.lastPrint) >= p.every:
		p.line(now)
	}
}

// pause ignores updates until the next begin: the job's own resends of a
// few inputs would otherwise restart the bar.
func (p *progressPrinter) pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

// end shows the final state of the step, from its summary row.
func (p *progressPrinter) end(s stepResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = hubspot.Progress{
		Done: s.succeeded + s.failed + s.notAttempted, Total: s.sent,
		Succeeded: s.succeeded, Failed: s.failed, NotAttempted: s.notAttempted,
		Requests: s.requests, Retries: s.retries, RateLimited: s.rateLimited,
	}
	now := time.Now()
	if p.tty {
		p.draw(now)
		fmt.Fprintln(p.w)
		p.drawn = 0
		return
	}
	p.line(now)
}

func (p *progressPrinter) counts() string {
	pr := p.last
	s := fmt.Sprintf("ok %d  failed %d", pr.Succeeded, pr.Failed)
	if pr.NotAttempted > 0 {
		s += fmt.Sprintf("  not attempted %d", pr.NotAttempted)
	}
	return s + fmt.Sprintf("  requests %d  retries %d  429s %d", pr.Requests, pr.Retries, pr.RateLimited)
}

func (p *progressPrinter) draw(now time.Time) {
	const width = 30
	pr := p.last
	filled := 0
	if pr.Total > 0 {
		filled = width * pr.Done / pr.Total
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	if filled > 0 && filled < width {
		bar = bar[:filled-1] + ">" + bar[filled:]
	}
	s := fmt.Sprintf("%-14s [%s] %*d/%d  %s  %s", p.step, bar, len(fmt.Sprint(pr.Total)), pr.Done, pr.Total, p.counts(), fmtDuration(now.Sub(p.began)))
	pad := ""
	if n := p.drawn - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprint(p.w, "\r"+s+pad)
	p.drawn = len(s)
	p.lastPrint = now
}

func (p *progressPrinter) line(now time.Time) {
	pr := p.last
	pct := 100
	if pr.Total > 0 {
		pct = 100 * pr.Done / pr.Total
	}
	fmt.Fprintf(p.w, "%s: %d/%d (%d%%)  %s  %s\n", p.step, pr.Done, pr.Total, pct, p.counts(), fmtDuration(now.Sub(p.began)))
	p.lastPrint = now
}

// fmtDuration renders d briefly: 850µs, 12ms, 1.25s.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

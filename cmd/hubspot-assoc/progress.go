package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progress shows how far a long step is on stderr: one line redrawn in
// place on a terminal, otherwise a plain line at most every second and at
// the end.
type progress struct {
	w    io.Writer
	tty  bool
	last time.Time
	drew bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) show(done, total int, what string) {
	line := fmt.Sprintf("[%d/%d] %s", done, total, what)
	if p.tty {
		if r := []rune(line); len(r) > 100 {
			line = string(r[:100])
		}
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drew = true
		return
	}
	if now := time.Now(); done == total || now.Sub(p.last) >= time.Second {
		fmt.Fprintln(p.w, line)
		p.last = now
	}
}

// end clears the progress line on a terminal.
func (p *progress) end() {
	if p.tty && p.drew {
		fmt.Fprint(p.w, "\r\033[K")
		p.drew = false
	}
}

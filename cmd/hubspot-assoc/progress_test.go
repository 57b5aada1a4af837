package main

import (
	"bytes"
	"strings"
	"testing"
)

// On a terminal the progress is one line redrawn in place and cleared at
// the end; otherwise plain lines (the first and the last at least).
func TestProgress_terminalAndPlain(t *testing.T) {
	var tty bytes.Buffer
	p := &progress{w: &tty, tty: true}
	for i := 1; i <= 3; i++ {
		p.show(i, 3, "step "+strings.Repeat("é", 120))
	}
	p.end()
	out := tty.String()
	if strings.Count(out, "\r\033[K") != 4 || strings.Contains(out, "\n") {
		t.Errorf("terminal output: %q", out)
	}
	for _, seg := range strings.Split(out, "\r\033[K") {
		if n := len([]rune(seg)); n > 100 {
			t.Errorf("a redrawn line of %d runes", n)
		}
	}

	var plain bytes.Buffer
	p = &progress{w: &plain}
	for i := 1; i <= 3; i++ {
		p.show(i, 3, "step")
	}
	p.end()
	if got := plain.String(); got != "[1/3] step\n[3/3] step\n" {
		t.Errorf("plain output: %q", got)
	}
}

//go:build !redis

package main

import (
	"bytes"
	"context"
	"testing"
)

// TestRun_redisNeedsTag: without -tags redis, -redis is refused in one line
// naming the command that builds it, before anything runs.
func TestRun_redisNeedsTag(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := mainCode(context.Background(), []string{"-n", "20", "-redis", "127.0.0.1:6379"}, noEnv, &stdout, &stderr)
	want := "limits: -redis needs the Redis build: go run -tags redis ./examples/limits -redis 127.0.0.1:6379\n"
	if code != 2 || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("exit %d, stderr %q, stdout %q; want 2 and %q", code, stderr.String(), stdout.String(), want)
	}
}

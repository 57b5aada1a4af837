//go:build redis

package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/crmkit/hubspot-associations/internal/redistest"
)

// TestRun_fakeRedis runs the job with its rate-limit window in a real Redis:
// the job succeeds and the window lives under the token's hash.
func TestRun_fakeRedis(t *testing.T) {
	t.Parallel()
	rs := redistest.ForTest(t)
	var stdout, stderr bytes.Buffer
	code := mainCode(context.Background(), []string{"-n", "300", "-faults", "0", "-redis", rs.Addr, "-progress-every", "1h"}, noEnv, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), "hubspot-ratelimit:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("no rate-limit window in Redis after the job")
	}
	if strings.Contains(stderr.String(), "unreachable") {
		t.Errorf("Redis reported unreachable:\n%s", stderr.String())
	}
}

// TestRun_fakeRedisUnreachable: with -redis naming a port nothing listens
// on, the job still runs, paced in-process, and the run's stderr holds one
// warning naming Redis.
func TestRun_fakeRedisUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: every dial is refused
	var stdout, stderr bytes.Buffer
	code := mainCode(context.Background(), []string{"-n", "20", "-faults", "0", "-redis", addr, "-progress-every", "1h"}, noEnv, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	var redisLines []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "redis") {
			redisLines = append(redisLines, line)
		}
	}
	if len(redisLines) != 1 || !strings.Contains(redisLines[0], "level=WARN") || !strings.Contains(redisLines[0], "Redis unreachable") {
		t.Errorf("want one warning naming Redis on stderr, got %d line(s):\n%s", len(redisLines), strings.Join(redisLines, "\n"))
	}
}

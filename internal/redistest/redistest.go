// Package redistest starts a real redis-server for tests and benchmarks:
// on a free loopback port, files in a temporary folder, no persistence.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server started by Start.
type Server struct {
	// Addr is the server's loopback host:port.
	Addr string
	cmd  *exec.Cmd
}

// ErrNotInstalled says redis-server is not installed.
var ErrNotInstalled = errors.New("redis-server not found in PATH (Debian: apt-get install redis-server)")

// Start starts redis-server on a free loopback port with its files in
// dir, without persistence, and waits until it answers.
func Start(ctx context.Context, dir string) (*Server, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	var lastErr error
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		rs := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
		rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
		for try := 0; try < 50; try++ {
			if lastErr = rdb.Ping(ctx).Err(); lastErr == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		rdb.Close()
		if lastErr == nil {
			return rs, nil
		}
		rs.Stop()
	}
	return nil, fmt.Errorf("redis-server did not answer: %w", lastErr)
}

// Stop kills the server Start started and waits for it to exit.
func (r *Server) Stop() {
	if r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}

// ForTest starts a server for t in t.TempDir() and stops it when t ends. It
// skips t, saying how to install Redis, when redis-server is missing, unless
// $REQUIRE_REDIS is set (CI sets it): then a missing server fails the test.
func ForTest(t testing.TB) *Server {
	t.Helper()
	s, err := Start(context.Background(), t.TempDir())
	if errors.Is(err, ErrNotInstalled) && os.Getenv("REQUIRE_REDIS") == "" {
		t.Skip("skipping: " + err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

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
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server started by Start.
type Server struct {
	// Addr is the server's loopback host:port.
	Addr string
	cmd  *exec.Cmd
	args []string // redis-server and its arguments, for Restart
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
		args := []string{path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}
		rs := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), args: args}
		if lastErr = rs.start(ctx); lastErr == nil {
			return rs, nil
		}
	}
	return nil, fmt.Errorf("redis-server did not answer: %w", lastErr)
}

// start runs r.args and waits until the server answers a PING.
func (r *Server) start(ctx context.Context) error {
	cmd := exec.Command(r.args[0], r.args[1:]...)
	if err := cmd.Start(); err != nil {
		return err
	}
	r.cmd = cmd
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	var err error
	for try := 0; try < 50; try++ {
		if err = rdb.Ping(ctx).Err(); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.Stop()
	return err
}

// Stop kills the server Start started and waits for it to exit.
func (r *Server) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}

// Freeze stops the server's process (SIGSTOP): connections stay open but
// nothing is answered, as with a Redis that hangs. Thaw resumes it.
func (r *Server) Freeze() error { return r.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a server stopped by Freeze (SIGCONT).
func (r *Server) Thaw() error { return r.cmd.Process.Signal(syscall.SIGCONT) }

// Restart kills the server and starts an empty one on the same address
// (every key lost, every connection broken), and waits until it answers.
func (r *Server) Restart(ctx context.Context) error {
	r.Stop()
	return r.start(ctx)
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

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startRun runs the command with args in the background and returns the
// URL it serves and a function that stops it and returns run's error.
func startRun(t *testing.T, args ...string) (url string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("reading URL: %v", err)
	}
	go io.Copy(io.Discard, pr)
	url = strings.TrimSpace(strings.TrimPrefix(line, "hubspot-fake listening on "))
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		cancel()
		t.Fatalf("unexpected first line %q", line)
	}
	stopped := false
	stop = func() error {
		cancel()
		if stopped {
			return nil
		}
		stopped = true
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			return errors.New("run did not return after cancel")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return url, stop
}

func TestRun_servesUntilCanceled(t *testing.T) {
	url, stop := startRun(t, "-token", "pat-test")

	req, _ := http.NewRequest(http.MethodGet, url+"/crm/v4/associations/contacts/companies/labels", nil)
	req.Header.Set("Authorization", "Bearer pat-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}

	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestRun_badFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-rate-max", "0"},
		{"-token", "has space"},
		{"-max-batch", "-1"},
		{"-seed-limits", "-1"},
		{"-max-conns", "0"},
		{"-read-timeout", "0s"},
		{"-idle-timeout", "-1s"},
		{"-read-timeout", "2m", "-write-timeout", "1m"},
		{"-write-timeout", "1s"},
		{"-seed-limits", "100001"},
		{"extra"},
		{"-nope"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded, want error", args)
		}
	}
}

// TestRun_seedLimits: -seed-limits N serves N limits from 2-1001 to 2-1002.
func TestRun_seedLimits(t *testing.T) {
	url, stop := startRun(t, "-token", "pat-test", "-seed-limits", "3")
	req, _ := http.NewRequest(http.MethodGet, url+"/crm/associations/2026-03/definitions/configurations/2-1001/2-1002", nil)
	req.Header.Set("Authorization", "Bearer pat-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Results []struct {
			TypeID int32 `json:"typeId"`
			Max    int32 `json:"userEnforcedMaxToObjectIds"`
		} `json:"results"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if len(body.Results) != 3 || body.Results[0].Max != 1 {
		t.Fatalf("limits = %+v, want 3 of 1", body.Results)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRun_readTimeout: -read-timeout reaches the server: a client that
// stops in its body is answered 408 and disconnected.
func TestRun_readTimeout(t *testing.T) {
	url, stop := startRun(t, "-token", "pat-test", "-read-timeout", "300ms", "-idle-timeout", "5s")
	host := strings.TrimPrefix(url, "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /crm/v4/associations/contacts/companies/labels HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer pat-test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", host)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 408 ") {
		t.Errorf("stalled body: %v, answered %.100q; want a 408 and a close", err, got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRun_longReadTimeout: a -read-timeout above the default write timeout
// raises the write timeout with it instead of being refused.
func TestRun_longReadTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run(ctx, []string{"-addr", "127.0.0.1:0", "-read-timeout", "2m"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}
}

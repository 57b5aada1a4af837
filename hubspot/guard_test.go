package hubspot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/crmkit/hubspot-associations/internal/rttest"
)

func redirectTo(code int, target func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", target())
		w.WriteHeader(code)
	}
}

// TestNewHTTPClient_Do_refusesCrossOriginRedirects: 301, 302, 303, 307 and
// 308 to another port, another host name, or from https to http are
// refused with a *RedirectError naming the status and the target, and the
// other server never sees a request, with or without our CheckRedirect.
func TestNewHTTPClient_Do_refusesCrossOriginRedirects(t *testing.T) {
	t.Parallel()
	evil := rttest.NewRecorder(t)
	evilURL, _ := url.Parse(evil.Srv.URL)
	var target atomic.Value // string
	target.Store("")
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		redirectTo(code, func() string { return target.Load().(string) })(w, r)
	})
	plain := httptest.NewServer(origin)
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewTLSServer(origin)
	t.Cleanup(tlsSrv.Close)
	tlsURL, _ := url.Parse(tlsSrv.URL)

	targets := []struct {
		name, from, to, reason string
	}{
		{"another port", plain.URL, evil.Srv.URL + "/steal", "another port"},
		{"another host", plain.URL, "http://localhost:" + evilURL.Port() + "/steal", "another host"},
		{"https to http", tlsSrv.URL, evil.Srv.URL + "/steal", "plain http"},
		{"https to http same port", tlsSrv.URL, "http://" + tlsURL.Host + "/steal", "plain http"},
	}
	for _, tg := range targets {
		for _, code := range []int{301, 302, 303, 307, 308} {
			for _, own := range []bool{true, false} {
				name := fmt.Sprintf("%s/%d/ownClient=%v", tg.name, code, own)
				t.Run(name, func(t *testing.T) {
					target.Store(tg.to)
					base := rttest.Transport(t)
					if strings.HasPrefix(tg.from, "https") {
						base = tlsSrv.Client().Transport.(*http.Transport).Clone()
						base.DisableKeepAlives = true
					}
					hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithClock(rttest.NewClock()),
						WithBaseTransport(base))
					if err != nil {
						t.Fatal(err)
					}
					if !own {
						// A caller's own http.Client without our CheckRedirect:
						// the transport refuses the hop itself.
						hc = &http.Client{Transport: hc.Transport}
					}
					req, _ := http.NewRequest("POST", tg.from+"/batch/purge?code="+strconv.Itoa(code),
						bytes.NewReader([]byte(`{"inputs":[{"category":"USER_DEFINED","typeId":5}]}`)))
					resp, err := hc.Do(req)
					if err == nil {
						resp.Body.Close()
						t.Fatalf("status %d, want a refused redirect", resp.StatusCode)
					}
					var re *RedirectError
					if !errors.As(err, &re) {
						t.Fatalf("err = %v, want a *RedirectError", err)
					}
					toURL, _ := url.Parse(tg.to)
					msg := err.Error()
					if re.StatusCode != code || !strings.Contains(msg, toURL.Host) || !strings.Contains(msg, strconv.Itoa(code)) ||
						!strings.Contains(re.Reason, tg.reason) {
						t.Fatalf("err = %v (%+v), want status %d, target %s, reason %q", err, re, code, toURL.Host, tg.reason)
					}
					if strings.Contains(msg, rttest.Token) {
						t.Fatal("token in the error")
					}
				})
			}
		}
	}
	evil.Check(t)
}

// TestNewHTTPClient_Do_sameOriginRedirects: a same-origin redirect is
// followed with the token and the body; a loop and too many redirects end
// with a clear error.
func TestNewHTTPClient_Do_sameOriginRedirects(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	var mu sync.Mutex
	var seen []string
	record := func(r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(body))
		mu.Unlock()
	}
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		http.Redirect(w, r, rttest.BasePath+"/new", http.StatusPermanentRedirect)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, rttest.BasePath+"/b", http.StatusFound)
	})
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, rttest.BasePath+"/a", http.StatusFound)
	})
	var hops atomic.Int64
	mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
		n := hops.Add(1)
		http.Redirect(w, r, fmt.Sprintf("%s/hop/%d", rttest.BasePath, n), http.StatusTemporaryRedirect)
	})
	hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithClock(rttest.NewClock()), WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest("POST", base+"/old", strings.NewReader("payload"))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := rttest.ReadAll(t, resp.Body); string(b) != "ok" {
		t.Fatalf("body %q", b)
	}
	resp.Body.Close()
	want := []string{"/old Bearer " + rttest.Token + " payload", "/new Bearer " + rttest.Token + " payload"}
	if !slices.Equal(seen, want) {
		t.Fatalf("server saw %q, want %q", seen, want)
	}

	for path, reason := range map[string]string{"/a": "redirect loop", "/hop/0": fmt.Sprintf("more than %d redirects", maxRedirects)} {
		req, _ := http.NewRequest("GET", base+path, nil)
		_, err := hc.Do(req)
		var re *RedirectError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), reason) {
			t.Fatalf("GET %s: err = %v, want a *RedirectError about a %s", path, err, reason)
		}
	}
	if n := hops.Load(); n != maxRedirects+1 {
		t.Fatalf("followed %d hops, want %d", n, maxRedirects+1)
	}
}

// TestTransport_RoundTrip_bodyCapped: every body is capped at
// MaxResponseBodyBytes, whatever the status; more is a
// *ResponseTooLargeError, a declared Content-Length over the cap fails the
// first read.
func TestTransport_RoundTrip_bodyCapped(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	mux.HandleFunc("/ok", rttest.Endless(200, 0))
	mux.HandleFunc("/bad", rttest.Endless(400, 0))
	mux.HandleFunc("/declared", rttest.Endless(200, 1<<30))
	exact := bytes.Repeat([]byte("x"), MaxResponseBodyBytes)
	mux.HandleFunc("/exact", func(w http.ResponseWriter, r *http.Request) { w.Write(exact) })
	hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithClock(rttest.NewClock()), WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path     string
		wantRead int
	}{{"/ok", MaxResponseBodyBytes}, {"/bad", MaxResponseBodyBytes}, {"/declared", 0}} {
		req, _ := http.NewRequest("GET", base+tc.path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		var tl *ResponseTooLargeError
		if !errors.As(err, &tl) || tl.Limit != MaxResponseBodyBytes || tl.StatusCode != resp.StatusCode || len(b) != tc.wantRead {
			t.Fatalf("GET %s: read %d bytes, err %v; want %d bytes and a *ResponseTooLargeError", tc.path, len(b), err, tc.wantRead)
		}
		if !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), strconv.Itoa(MaxResponseBodyBytes)) {
			t.Fatalf("error %q should name the path and the limit", err)
		}
	}
	req, _ := http.NewRequest("GET", base+"/exact", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b := rttest.ReadAll(t, resp.Body); len(b) != MaxResponseBodyBytes {
		t.Fatalf("read %d bytes of a body of exactly the limit", len(b))
	}
}

// TestTransport_RoundTrip_retryAfterValues: Retry-After values a hostile or
// broken server may send. Huge values never wrap into an immediate retry;
// invalid ones fall back to backoff; a wait longer than the cap or than the
// caller's deadline is not started.
func TestTransport_RoundTrip_retryAfterValues(t *testing.T) {
	t.Parallel()
	const backoff = defaultBaseDelay // rttest.MaxRand: full jitter waits the ceiling
	past := rttest.ClockStart.Add(-time.Hour).Format(http.TimeFormat)
	far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Format(http.TimeFormat)
	soon := rttest.ClockStart.Add(7 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		value      string
		deadline   time.Duration
		wantSleeps []time.Duration // nil: no retry, the 429 is returned
	}{
		{value: "3", wantSleeps: []time.Duration{3 * time.Second}},
		{value: "0", wantSleeps: []time.Duration{0}},
		{value: "1.5", wantSleeps: []time.Duration{1500 * time.Millisecond}},
		{value: "120", wantSleeps: []time.Duration{defaultMaxRetryAfter}},
		{value: "121"},
		{value: "1e9"},
		{value: "1e12"},
		{value: "9223372036854775807"},
		{value: "99999999999999999999999999"},
		{value: "1e400"},
		{value: "Inf"},
		{value: "+Inf"},
		{value: "infinity"},
		{value: far},
		{value: soon, wantSleeps: []time.Duration{7 * time.Second}},
		{value: past, wantSleeps: []time.Duration{0}},
		{value: "NaN", wantSleeps: []time.Duration{backoff}},
		{value: "-5", wantSleeps: []time.Duration{backoff}},
		{value: "-Inf", wantSleeps: []time.Duration{backoff}},
		{value: "soon", wantSleeps: []time.Duration{backoff}},
		{value: "60", deadline: 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			mux, base := rttest.Setup(t)
			srv := &stepServer{t: t, steps: []step{
				rl(policyTenSecondlyRolling, map[string]string{"Retry-After": tc.value}),
				{status: 200, body: `{}`},
			}}
			mux.Handle("/x", srv)
			clock := rttest.NewClock()
			hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithClock(clock), rttest.WithRand(rttest.MaxRand{}),
				WithBaseTransport(rttest.Transport(t)))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", base+"/x", strings.NewReader("{}"))
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			wantStatus := 200
			if tc.wantSleeps == nil {
				wantStatus = 429
			}
			if resp.StatusCode != wantStatus || !slices.Equal(clock.Sleeps(), tc.wantSleeps) || len(srv.requests()) != len(tc.wantSleeps)+1 {
				t.Fatalf("status %d, sleeps %v, %d requests; want %d, %v", resp.StatusCode, clock.Sleeps(), len(srv.requests()), wantStatus, tc.wantSleeps)
			}
		})
	}
}

// TestTransport_RoundTrip_redactsEveryStatus: a token echoed in a body
// (split across writes), the status text or a header never reaches the
// caller, whatever the status.
func TestTransport_RoundTrip_redactsEveryStatus(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	mux.HandleFunc("/echo/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("X-HubSpot-Correlation-Id", tok)
		w.Header().Set("X-Echo", "a "+tok+" b")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		half := len(tok) / 2
		io.WriteString(w, `{"status":"error","message":"bad token `+tok[:half])
		w.(http.Flusher).Flush()
		io.WriteString(w, tok[half:]+`","correlationId":"`+tok+`","startedAt":"`+tok+`"}`)
	})
	var logs bytes.Buffer
	hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithClock(rttest.NewClock()),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{200, 201, 207, 400, 404, 429, 500} {
		req, _ := http.NewRequest("GET", base+"/echo/"+strconv.Itoa(code), nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := rttest.ReadAll(t, resp.Body)
		resp.Body.Close()
		all := fmt.Sprint(resp.Status, resp.Header, string(body), ParseError(resp))
		if strings.Contains(all, rttest.Token) || strings.Contains(all, "SECRET") {
			t.Errorf("%d: token reached the caller: %s", code, rttest.Masked(all))
		}
		if !strings.Contains(string(body), "bad token "+redactedText) {
			t.Errorf("%d: body %s, want the token replaced", code, rttest.Masked(string(body)))
		}
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("token in the logs: %s", rttest.Masked(logs.String()))
	}
}

// masked hides the token in a failure message: test output never shows it.

// TestRedactReader_Read_splitSecret: the secret is replaced wherever the
// reads split it.
func TestRedactReader_Read_splitSecret(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-token"
	in := secret + "a" + secret + secret + "s3cr3" + "b" + secret[:5] + "<end>" + secret
	want := strings.ReplaceAll(in, secret, redactedText)
	for name, r := range map[string]func(io.Reader) io.Reader{
		"whole": func(r io.Reader) io.Reader { return r },
		"bytes": iotest.OneByteReader,
		"half":  iotest.HalfReader,
	} {
		got, err := io.ReadAll(&redactReader{r: r(strings.NewReader(in)), secret: []byte(secret)})
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
}

// timerClock is a rttest.Clock whose attempt timers fire only when the test
// says so.
type timerClock struct {
	*rttest.Clock
	mu     sync.Mutex
	timers []func()
}

func (c *timerClock) AfterFunc(_ time.Duration, f func()) func() bool {
	var done atomic.Bool
	c.mu.Lock()
	c.timers = append(c.timers, func() {
		if done.CompareAndSwap(false, true) {
			f()
		}
	})
	c.mu.Unlock()
	return func() bool { return done.CompareAndSwap(false, true) }
}

func (c *timerClock) fire(i int) {
	c.mu.Lock()
	f := c.timers[i]
	c.mu.Unlock()
	f()
}

// TestTransport_RoundTrip_attemptTimeout: the first attempt hangs until its
// timer (on the injected clock) fires, which the test does once the server
// holds the request; the retry then succeeds. No real time is involved.
func TestTransport_RoundTrip_attemptTimeout(t *testing.T) {
	t.Parallel()
	mux, base := rttest.Setup(t)
	var n atomic.Int64
	arrived := make(chan struct{})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			close(arrived)
			<-r.Context().Done() // hang until the client gives up on the attempt
			return
		}
		io.WriteString(w, "ok")
	})
	clock := &timerClock{Clock: rttest.NewClock()}
	hc, err := NewHTTPClient(WithToken(rttest.Token), WithLimiter(nil), rttest.WithClock(clock), rttest.WithRand(rttest.MaxRand{}),
		WithTimeout(time.Hour), WithBaseTransport(rttest.Transport(t)))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		<-arrived
		clock.fire(0)
	}()
	var retries []RetryEvent
	ctx := WithObserver(context.Background(), Observer{OnRetry: func(e RetryEvent) { retries = append(retries, e) }})
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/slow", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b := rttest.ReadAll(t, resp.Body); string(b) != "ok" || n.Load() != 2 {
		t.Fatalf("body %q after %d attempts", b, n.Load())
	}
	var te *AttemptTimeoutError
	if len(retries) != 1 || !errors.As(retries[0].Err, &te) || te.After != time.Hour {
		t.Fatalf("retries = %+v, want one after an *AttemptTimeoutError of 1h", retries)
	}
}

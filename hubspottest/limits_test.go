package hubspottest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

// invalidBatch returns a body of exactly size bytes: {"inputs":[{},{},...]}
// padded with spaces, each input missing every required field.
func invalidBatch(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"inputs":[{}`)
	for b.Len()+len(`,{}`)+len(`]}`) <= size {
		b.WriteString(`,{}`)
	}
	b.WriteString(`]}`)
	b.WriteString(strings.Repeat(" ", size-b.Len()))
	return b.Bytes()
}

// oversizedBatchAllocBudget is the documented bound on what 16 concurrent
// 1 MiB invalid batches may cost the fake (and this test's client) in
// allocations: 6 MiB per request, about three times the body. Before the
// batch size was checked first, one such request allocated 1.7 GiB and was
// answered with 113 MB.
const oversizedBatchAllocBudget = 16 * 6 << 20

// TestServer_oversizedBatch_memory: 16 concurrent 1 MiB batches of invalid
// inputs each get one short 400 naming the batch size, and allocate within a
// small multiple of their bodies. Not parallel: it reads the process's
// allocation counters.
func TestServer_oversizedBatch_memory(t *testing.T) {
	srv := newTestServer(t, hubspottest.WithRateLimit(1000, time.Second))
	body := invalidBatch(hubspottest.DefaultMaxBodyBytes)
	if len(body) != hubspottest.DefaultMaxBodyBytes {
		t.Fatalf("body is %d bytes", len(body))
	}
	ops := []string{"create", "update", "purge"}
	type answer struct {
		status int
		raw    []byte
		err    error
	}
	answers := make([]answer, 16)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(answers)}}
	defer client.CloseIdleConnections()

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			path := base + "/definitions/configurations/contacts/companies/batch/" + ops[i%len(ops)]
			req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			defer resp.Body.Close()
			answers[i].status = resp.StatusCode
			answers[i].raw, answers[i].err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)

	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("16 concurrent %d-byte invalid batches allocated %.1f MiB (bound %d MiB)", len(body), float64(allocated)/(1<<20), oversizedBatchAllocBudget>>20)
	if allocated > oversizedBatchAllocBudget {
		t.Errorf("allocated %.1f MiB, want at most %d MiB", float64(allocated)/(1<<20), oversizedBatchAllocBudget>>20)
	}
	wantInputs := strings.Count(string(body), "{}")
	for i, a := range answers {
		if a.err != nil {
			t.Errorf("request %d: %v", i, a.err)
			continue
		}
		var eb struct {
			Category string `json:"category"`
			Message  string `json:"message"`
			Errors   []struct {
				Code string `json:"code"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(a.raw, &eb); err != nil {
			t.Errorf("request %d: status %d, body not JSON: %.200s", i, a.status, a.raw)
			continue
		}
		want := fmt.Sprintf("Too many inputs: got %d, the maximum batch size is %d.", wantInputs, hubspottest.DefaultMaxBatchInputs)
		if a.status != http.StatusBadRequest || len(a.raw) > 512 || eb.Category != "VALIDATION_ERROR" || eb.Message != want ||
			len(eb.Errors) != 1 || eb.Errors[0].Code != "TOO_MANY_INPUTS" {
			t.Errorf("request %d: status %d, %d bytes: %.300s; want one short 400 %q", i, a.status, len(a.raw), a.raw, want)
		}
	}
}

// TestServer_invalidBodies_shortAnswers: bodies that are invalid in other
// ways than their batch size get one 400 whose size does not grow with the
// body: a full batch of empty inputs lists its first errors and counts the
// rest, a long value or key is quoted cut, broken JSON is one error.
func TestServer_invalidBodies_shortAnswers(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	long := strings.Repeat("é", 200_000)
	full := `{"inputs":[{}` + strings.Repeat(`,{}`, hubspottest.DefaultMaxBatchInputs-1) + `]}`
	for _, tc := range []struct {
		name, path, body string
		status           int
		errors           int // errors[] entries, 0: any
		contains         string
	}{
		{"full batch of empty inputs", "/definitions/configurations/contacts/companies/batch/create", full, 400, 100,
			fmt.Sprintf("and %d more errors, not listed", 3*hubspottest.DefaultMaxBatchInputs-99)},
		{"long enum value", "/definitions/configurations/contacts/companies/batch/purge",
			`{"inputs":[{"category":"` + long + `","typeId":1}]}`, 400, 0, "category"},
		{"long unknown property", "/contacts/companies/labels", `{"label":1,"name":"n","` + long + `":1}`, 400, 0, "label"},
		{"broken JSON", "/definitions/configurations/contacts/companies/batch/create",
			string(invalidBatch(hubspottest.DefaultMaxBodyBytes)[:hubspottest.DefaultMaxBodyBytes-10]), 400, 0, ""},
		{"inputs not an array", "/definitions/configurations/contacts/companies/batch/create", `{"inputs":"` + long + `"}`, 400, 0, "inputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, srv, http.MethodPost, base+tc.path, tc.body)
			wantStatus(t, r, tc.status)
			if len(r.Raw) > 16<<10 {
				t.Errorf("answer is %d bytes, want at most 16 KiB: %.300s", len(r.Raw), r.Raw)
			}
			errs, _ := r.JSON["errors"].([]any)
			if tc.errors > 0 && len(errs) != tc.errors {
				t.Errorf("errors has %d entries, want %d", len(errs), tc.errors)
			}
			if !strings.Contains(string(r.Raw), tc.contains) {
				t.Errorf("answer lacks %q: %.500s", tc.contains, r.Raw)
			}
		})
	}
}

// stalledConn is a raw connection that sent part of a request and stopped.
type stalledConn struct {
	conn     net.Conn
	closed   chan struct{} // closed when the server closed the connection
	closedAt time.Time
	got      []byte // what the server answered before closing
	err      error  // a read error other than the server's close
}

// stall connects and sends head, then reads until the server closes the
// connection (or wait passes).
func stall(t *testing.T, addr, head string, wait time.Duration) *stalledConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	s := &stalledConn{conn: c, closed: make(chan struct{})}
	go func() {
		defer close(s.closed)
		_ = c.SetReadDeadline(time.Now().Add(wait))
		s.got, s.err = io.ReadAll(c)
		s.closedAt = time.Now()
		var ne net.Error
		if errors.As(s.err, &ne) && !ne.Timeout() {
			s.err = nil // a reset is a close too
		}
	}()
	return s
}

func isClosed(s *stalledConn) bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// stallHeads are requests cut in their headers and in their body.
func stallHeads(host string) (inHeaders, inBody string) {
	path := base + "/definitions/configurations/contacts/companies/batch/create"
	inHeaders = "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n"
	inBody = "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + testToken +
		"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"inputs\":["
	return inHeaders, inBody
}

// TestServer_Start_stalledClientsClosed: 200 connections that stop in their
// headers or their body are closed once the read timeout passes (a stopped
// body is answered 408 first), and a normal client is served while they
// stall.
func TestServer_Start_stalledClientsClosed(t *testing.T) {
	t.Parallel()
	const readTimeout = 3 * time.Second
	srv := newTestServer(t, hubspottest.WithRateLimit(1000, time.Second), hubspottest.WithTimeouts(hubspottest.Timeouts{Read: readTimeout}))
	host := strings.TrimPrefix(srv.URL, "http://")
	inHeaders, inBody := stallHeads(host)
	var conns []*stalledConn
	for i := range 200 {
		head := inHeaders
		if i%2 == 1 {
			head = inBody
		}
		conns = append(conns, stall(t, host, head, readTimeout+20*time.Second))
	}

	// A normal client while they stall.
	r := call(t, srv, http.MethodPost, base+"/definitions/configurations/contacts/companies/batch/create",
		limitInputs(limitIn("HUBSPOT_DEFINED", 279, 3)))
	wantStatus(t, r, 201)
	wantStatus(t, call(t, srv, http.MethodGet, base+"/contacts/companies/labels", nil), 200)
	open := 0
	for _, c := range conns {
		if !isClosed(c) {
			open++
		}
	}
	if open != len(conns) {
		t.Fatalf("%d of %d stalled connections were closed before the normal client was served; the test needs them open", len(conns)-open, len(conns))
	}

	for i, c := range conns {
		<-c.closed
		if c.err != nil {
			t.Errorf("stalled connection %d was not closed by the server: %v", i, c.err)
			continue
		}
		if i%2 == 1 && !bytes.HasPrefix(c.got, []byte("HTTP/1.1 408 ")) {
			t.Errorf("stalled body %d: got %.200q, want a 408", i, c.got)
		}
	}
	if st := srv.Stats(); st.ByStatus[http.StatusRequestTimeout] != len(conns)/2 {
		t.Errorf("408s = %d, want %d", st.ByStatus[http.StatusRequestTimeout], len(conns)/2)
	}
}

// TestServer_Start_maxConnections: with every connection slot held by a
// stalled client, a new client waits until the read timeout frees one,
// instead of the server taking connections without bound.
func TestServer_Start_maxConnections(t *testing.T) {
	t.Parallel()
	const slots = 4
	srv := newTestServer(t, hubspottest.WithMaxConnections(slots),
		hubspottest.WithTimeouts(hubspottest.Timeouts{Read: 2 * time.Second}))
	host := strings.TrimPrefix(srv.URL, "http://")
	inHeaders, _ := stallHeads(host)
	var conns []*stalledConn
	for range slots {
		conns = append(conns, stall(t, host, inHeaders, 20*time.Second))
	}
	wantStatus(t, call(t, srv, http.MethodGet, base+"/contacts/companies/labels", nil), 200)
	served := time.Now()
	// The server closed a stalled connection (its FIN precedes the accept
	// of the new one) before the new client was served; without the cap
	// the new client is served at once, a read timeout before any closes.
	first := served.Add(time.Hour)
	for i, c := range conns {
		<-c.closed
		if c.err != nil {
			t.Fatalf("stalled connection %d was not closed by the server: %v", i, c.err)
		}
		if c.closedAt.Before(first) {
			first = c.closedAt
		}
	}
	if first.After(served.Add(500 * time.Millisecond)) {
		t.Errorf("a client was served %v before the first stalled connection closed, while all %d connection slots were held", first.Sub(served), slots)
	}
}

// TestServer_latencyOutlastsTimeouts: an injected latency longer than the
// read and write timeouts renews them, so the answer still arrives.
func TestServer_latencyOutlastsTimeouts(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, hubspottest.WithTimeouts(hubspottest.Timeouts{Read: 200 * time.Millisecond, Write: 300 * time.Millisecond}))
	if err := srv.Script(hubspottest.Fault{Kind: hubspottest.FaultLatency, Delay: 800 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	r := call(t, srv, http.MethodPost, base+"/definitions/configurations/contacts/companies/batch/create",
		limitInputs(limitIn("HUBSPOT_DEFINED", 279, 3)))
	wantStatus(t, r, 201)
}

// TestServer_Start_headerSize: a request line and headers larger than
// MaxHeaderBytes are refused by the server with 431.
func TestServer_Start_headerSize(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		_, _ = fmt.Fprintf(c, "GET %s/contacts/companies/labels HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n", base, host, strings.Repeat("a", 2*hubspottest.MaxHeaderBytes))
	}()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
}

// TestServer_inputSizes: a long path, query or method, and long label
// texts, get one short error and are recorded cut.
func TestServer_inputSizes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, hubspottest.WithRateLimit(1000, time.Second))
	long := strings.Repeat("a", hubspottest.MaxURIBytes)
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		contains           string
	}{
		{"long path", http.MethodGet, base + "/contacts/" + long + "/labels", nil, 414, "URI too long"},
		{"long query", http.MethodGet, base + "/contacts/companies/labels?after=" + long, nil, 414, "URI too long"},
		{"query within bounds", http.MethodGet, base + "/contacts/companies/labels?after=" + long[:1000], nil, 200, "results"},
		{"long object type", http.MethodGet, base + "/" + long[:3000] + "/companies/labels", nil, 400, "Unable to infer object type"},
		{"long method", strings.Repeat("M", 10000), base + "/contacts/companies/labels", nil, 405, "bytes in all"},
		{"long label", http.MethodPost, base + "/contacts/companies/labels",
			map[string]any{"label": strings.Repeat("é", hubspottest.MaxLabelBytes), "name": "n"}, 400, "label is 2048 bytes"},
		{"long name", http.MethodPost, base + "/contacts/companies/labels",
			map[string]any{"label": "L", "name": long}, 400, "name is 4096 bytes"},
		{"long inverse label on update", http.MethodPut, base + "/contacts/companies/labels",
			map[string]any{"associationTypeId": 1, "label": "L", "inverseLabel": long}, 400, "inverseLabel is 4096 bytes"},
		{"label at the bound", http.MethodPost, base + "/contacts/companies/labels",
			map[string]any{"label": long[:hubspottest.MaxLabelBytes], "name": long[:hubspottest.MaxLabelBytes]}, 200, "USER_DEFINED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r result
			if tc.status == 405 || tc.status == 414 {
				// Unrouted answers: not in the document, so not checked against it.
				status, raw, err := rawCall(srv, tc.method, tc.path, "")
				if err != nil {
					t.Fatal(err)
				}
				r = result{Status: status, Raw: raw}
			} else {
				r = call(t, srv, tc.method, tc.path, tc.body)
			}
			wantStatus(t, r, tc.status)
			if len(r.Raw) > 8<<10 || !strings.Contains(string(r.Raw), tc.contains) {
				t.Errorf("answer (%d bytes) lacks %q: %.300s", len(r.Raw), tc.contains, r.Raw)
			}
		})
	}
	for _, rec := range srv.Requests() {
		if len(rec.Path) > hubspottest.MaxURIBytes+64 || len(rec.Method) > 1024 {
			t.Errorf("request log holds a %d-byte path and a %d-byte method", len(rec.Path), len(rec.Method))
		}
	}
}

// TestServer_Start_idleTimeout: a kept-alive connection that sends no
// further request is closed once the idle timeout passes.
func TestServer_Start_idleTimeout(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, hubspottest.WithTimeouts(hubspottest.Timeouts{Idle: 300 * time.Millisecond}))
	host := strings.TrimPrefix(srv.URL, "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s/contacts/companies/labels HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", base, host, testToken)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("status %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
	}
	if n, err := br.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("idle connection: read %d bytes, %v; want it closed by the server", n, err)
	}
}

// TestServer_Start_writeTimeout: a client that never reads a large answer
// does not hold its connection past the write timeout.
func TestServer_Start_writeTimeout(t *testing.T) {
	t.Parallel()
	const limits = 100_000 // about 12 MB of answer, more than the socket buffers hold
	const writeTimeout = time.Second
	opts := []hubspottest.Option{hubspottest.WithTimeouts(hubspottest.Timeouts{Read: 300 * time.Millisecond, Write: writeTimeout})}
	for i := 1; i <= limits; i++ {
		opts = append(opts, hubspottest.WithAssociationType(hubspottest.AssociationType{
			FromObjectType: "2-1", ToObjectType: "2-2", Category: hubspottest.CategoryUserDefined, TypeID: int32(i), Label: "a label of some length",
		}), hubspottest.WithLimit(hubspottest.Limit{FromObjectType: "2-1", ToObjectType: "2-2", Category: hubspottest.CategoryUserDefined, TypeID: int32(i), MaxToObjectIDs: 1}))
	}
	srv := newTestServer(t, opts...)
	host := strings.TrimPrefix(srv.URL, "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s/definitions/configurations/all HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", base, host, testToken)
	// Read nothing until the write deadline (set before the answer was
	// recorded) has passed, then all there is.
	for deadline := time.Now().Add(20 * time.Second); srv.Stats().ByStatus[200] == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server never answered")
		}
	}
	time.Sleep(writeTimeout)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Logf("cut before the headers were out: %v", err)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the connection was neither answered nor closed: %v", err)
		}
		return
	}
	got, err := io.Copy(io.Discard, resp.Body)
	if errors.Is(err, os.ErrDeadlineExceeded) || got >= resp.ContentLength {
		t.Errorf("read %d of %d bytes, %v; want the connection cut by the write timeout", got, resp.ContentLength, err)
	}
}

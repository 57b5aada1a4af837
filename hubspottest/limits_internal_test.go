package hubspottest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCountInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		n    int
		ok   bool
	}{
		{`{"inputs":[]}`, 0, true},
		{`{"inputs":[ ]}`, 0, true},
		{`{"inputs":[{}]}`, 1, true},
		{`{"inputs":[1,2,3]}`, 3, true},
		{`{"inputs":[ {"a":[1,2,{"b":","}]} , "x,y" , "\"]," , [[],[]] ]}`, 4, true},
		{`{"other":[1,2],"inputs":[1,2]}`, 2, true},
		{`{"INPUTS":[1,2]}`, 2, true}, // as encoding/json matches the operation's field
		{`{"inputs":[1],"inputs":[1,2]}`, 2, true},
		{`{"inputs":"[1,2]"}`, 0, false},
		{`{"inputs":null}`, 0, false},
		{`{}`, 0, false},
		{`[1,2]`, 0, false},
		{`{"inputs":[1,2`, 0, false},
		{``, 0, false},
	} {
		n, ok := countInputs([]byte(tc.body))
		if n != tc.n || ok != tc.ok {
			t.Errorf("countInputs(%s) = %d, %v; want %d, %v", tc.body, n, ok, tc.n, tc.ok)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	if got := clip("short"); got != "short" {
		t.Errorf("clip(short) = %q", got)
	}
	long := strings.Repeat("é", maxMessageBytes) // 2 bytes each
	got := clip(long)
	if !utf8.ValidString(got) || len(got) > maxMessageBytes+40 || !strings.HasSuffix(got, fmt.Sprintf("... (%d bytes in all)", len(long))) {
		t.Errorf("clip(long) = %q (%d bytes)", got, len(got))
	}
}

// TestServer_bodyBudget: while stalled clients hold the bytes of bodies
// budget, another body is answered 503 with Retry-After; once the read
// timeout has closed them, the budget is whole again and bodies are served.
func TestServer_bodyBudget(t *testing.T) {
	t.Parallel()
	const maxBody = 32 << 10
	srv := NewServer(t, WithToken("pat-test"), WithMaxBodyBytes(maxBody), WithMaxBodyBytesInFlight(2*maxBody+100),
		WithTimeouts(Timeouts{Read: 2 * time.Second}))
	host := strings.TrimPrefix(srv.URL, "http://")
	path := "/crm/associations/2026-03/contacts/companies/labels"
	post := func() (int, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(`{"label":"L","name":"l"}`))
		req.Header.Set("Authorization", "Bearer pat-test")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}

	// Two clients send 20 KiB of a 30 KiB body and stop: each holds a 32 KiB
	// buffer.
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer pat-test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			path, host, 30<<10, strings.Repeat(" ", 20<<10))
		conns = append(conns, c)
	}
	for deadline := time.Now().Add(10 * time.Second); srv.bodies.used.Load() < 2*maxBody; {
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d bytes of bodies, want %d", srv.bodies.used.Load(), 2*maxBody)
		}
		time.Sleep(5 * time.Millisecond)
	}
	status, h := post()
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") != "1" {
		t.Errorf("while the budget is held: status %d, Retry-After %q; want 503 and 1", status, h.Get("Retry-After"))
	}

	// The read timeout answers the stalled bodies 408 and frees their bytes.
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		got, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(got), "HTTP/1.1 408 ") {
			t.Errorf("stalled body answered %.100q, want 408", got)
		}
	}
	if status, _ := post(); status != http.StatusOK {
		t.Errorf("after the stalled bodies: status %d, want 200", status)
	}
	if n := srv.bodies.used.Load(); n != 0 {
		t.Errorf("%d bytes of bodies still held after every request ended", n)
	}
}

func TestNew_limitOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]Option{
		"negative read":           {WithTimeouts(Timeouts{Read: -1})},
		"negative idle":           {WithTimeouts(Timeouts{Idle: -time.Second})},
		"header longer than read": {WithTimeouts(Timeouts{ReadHeader: 2 * time.Second, Read: time.Second})},
		"write shorter than read": {WithTimeouts(Timeouts{Read: 2 * time.Second, Write: time.Second})},
		"zero connections":        {WithMaxConnections(0)},
		"zero budget":             {WithMaxBodyBytesInFlight(0)},
		"budget below one body":   {WithMaxBodyBytes(1 << 20), WithMaxBodyBytesInFlight(1 << 20)},
	} {
		if _, err := New(opts...); err == nil {
			t.Errorf("%s: New succeeded, want error", name)
		}
	}
	// Defaults follow the options they depend on.
	s, err := New(WithMaxBodyBytes(64<<20), WithTimeouts(Timeouts{Read: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.maxInFlight != 64<<20+1 || s.cfg.timeouts.ReadHeader != time.Second || s.cfg.timeouts.Write != DefaultWriteTimeout {
		t.Errorf("resolved limits = %d, %+v", s.cfg.maxInFlight, s.cfg.timeouts)
	}
}

// TestServer_createdLabelsCap: once MaxCreatedLabels labels have been
// created through the API, creating another is refused until one is
// deleted; types added through Go do not count.
func TestServer_createdLabelsCap(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithToken("pat-test"))
	// Stand in for MaxCreatedLabels-1 labels created through the API (creating
	// them one by one takes a while).
	srv.mu.Lock()
	for i := range 2 * (MaxCreatedLabels - 1) {
		at := AssociationType{FromObjectType: "2-1", ToObjectType: "2-2", Category: CategoryUserDefined, TypeID: int32(100000 + i), Label: "L", Name: fmt.Sprint(i)}
		srv.store.types[at.key()] = &at
	}
	srv.mu.Unlock()
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/crm/associations/2026-03"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer pat-test")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := do(http.MethodPost, "/contacts/companies/labels", `{"label":"Last","name":"last"}`)
	if status != 200 {
		t.Fatalf("label %d: %d %s", MaxCreatedLabels, status, body)
	}
	var created struct {
		Results []struct {
			TypeID int32 `json:"typeId"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || len(created.Results) != 2 {
		t.Fatalf("created: %v %s", err, body)
	}
	status, body = do(http.MethodPost, "/contacts/companies/labels", `{"label":"One more","name":"more"}`)
	if status != 400 || !strings.Contains(body, fmt.Sprintf("at most %d labels created through the API", MaxCreatedLabels)) {
		t.Fatalf("label %d: %d %s; want 400 naming the cap", MaxCreatedLabels+1, status, body)
	}
	// Go may still seed.
	if _, err := srv.CreateLabel("contacts", "companies", "go", "L", ""); err != nil {
		t.Fatal(err)
	}
	if status, body := do(http.MethodDelete, fmt.Sprintf("/contacts/companies/labels/%d", created.Results[0].TypeID), ""); status != 204 {
		t.Fatalf("delete: %d %s", status, body)
	}
	if status, body := do(http.MethodPost, "/contacts/companies/labels", `{"label":"One more","name":"more"}`); status != 200 {
		t.Fatalf("after a delete: %d %s", status, body)
	}
}

// TestServer_workSlots: with every validation slot taken, a request waits
// for one instead of decoding its body alongside the others, and is served
// once a slot frees.
func TestServer_workSlots(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithToken("pat-test"))
	for range cap(srv.work) {
		srv.work <- struct{}{}
	}
	answered := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/crm/associations/2026-03/contacts/companies/labels", strings.NewReader(`{"label":"L","name":"l"}`))
		req.Header.Set("Authorization", "Bearer pat-test")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		srv.mu.Lock()
		in := srv.inFlight
		srv.mu.Unlock()
		if in == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the server")
		}
	}
	time.Sleep(50 * time.Millisecond)
	select {
	case status := <-answered:
		t.Fatalf("answered %d while every slot was taken", status)
	default:
	}
	if got, _ := srv.AssociationTypes("contacts", "companies"); len(got) != 2 {
		t.Fatalf("the label was created while every slot was taken: %v", got)
	}
	for range cap(srv.work) {
		<-srv.work
	}
	if status := <-answered; status != http.StatusOK {
		t.Fatalf("status %d once slots freed, want 200", status)
	}
}

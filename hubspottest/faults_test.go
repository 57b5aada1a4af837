package hubspottest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

// rawCall sends one request and reports a transport or body-read error
// instead of failing.
func rawCall(srv *hubspottest.Server, method, path, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// A fresh transport per call so a reset connection is never reused.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func TestServer_Script_faults(t *testing.T) {
	t.Parallel()
	createPath := base + "/definitions/configurations/contacts/companies/batch/create"
	createBody := `{"inputs":[{"category":"HUBSPOT_DEFINED","typeId":1,"maxToObjectIds":1}]}`
	for _, tc := range []struct {
		name      string
		fault     hubspottest.Fault
		status    int  // 0: transport error expected
		bodyErr   bool // error while reading the body
		applied   bool
		minElapse time.Duration
	}{
		{name: "500", fault: hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 500}, status: 500},
		{name: "default status", fault: hubspottest.Fault{Kind: hubspottest.FaultStatus}, status: 500},
		{name: "502", fault: hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 502}, status: 502},
		{name: "503", fault: hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503}, status: 503},
		{name: "504", fault: hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 504}, status: 504},
		{name: "reset before apply", fault: hubspottest.Fault{Kind: hubspottest.FaultResetBeforeApply}},
		{name: "reset after apply", fault: hubspottest.Fault{Kind: hubspottest.FaultResetAfterApply}, applied: true},
		{name: "truncated body", fault: hubspottest.Fault{Kind: hubspottest.FaultTruncateBody}, status: 201, bodyErr: true, applied: true},
		{name: "latency", fault: hubspottest.Fault{Kind: hubspottest.FaultLatency, Delay: 150 * time.Millisecond}, status: 201, applied: true, minElapse: 150 * time.Millisecond},
		{name: "latency then 503", fault: hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503, Delay: 100 * time.Millisecond}, status: 503, minElapse: 100 * time.Millisecond},
		{name: "pass", fault: hubspottest.Fault{Kind: hubspottest.FaultPass}, status: 201, applied: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t)
			if err := srv.Script(tc.fault); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			status, body, err := rawCall(srv, "POST", createPath, createBody)
			elapsed := time.Since(start)
			switch {
			case tc.status == 0:
				if err == nil {
					t.Fatalf("got status %d, want a transport error", status)
				}
			case tc.bodyErr:
				if status != tc.status || !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("got %d, %v; want %d and unexpected EOF", status, err, tc.status)
				}
			default:
				if err != nil || status != tc.status {
					t.Fatalf("got %d, %v; want %d", status, err, tc.status)
				}
				if status >= 500 && !bytes.Contains(body, []byte(`"correlationId"`)) {
					t.Errorf("5xx body is not HubSpot-shaped: %s", body)
				}
			}
			if elapsed < tc.minElapse {
				t.Errorf("took %v, want at least %v", elapsed, tc.minElapse)
			}
			if applied := len(srv.Limits()) == 1; applied != tc.applied {
				t.Errorf("change applied = %v, want %v", applied, tc.applied)
			}
			if srv.PendingFaults() != 0 {
				t.Errorf("fault not consumed")
			}
			st := srv.Stats()
			wantFaults := 1
			if tc.fault.Kind == hubspottest.FaultPass {
				wantFaults = 0
			}
			if st.Faults != wantFaults || st.FaultsByKind[tc.fault.Kind] != wantFaults {
				t.Errorf("stats faults = %d %v, want %d", st.Faults, st.FaultsByKind, wantFaults)
			}
			// The next request is served normally.
			if status, _, err := rawCall(srv, "GET", base+"/definitions/configurations/all", ""); err != nil || status != 200 {
				t.Errorf("after the fault: %d, %v", status, err)
			}
		})
	}
}

func TestServer_Script_truncateNoContent(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	if err := srv.SetLimit(hubspottest.Limit{FromObjectType: "contacts", ToObjectType: "companies", TypeID: 1, MaxToObjectIDs: 1}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Script(hubspottest.Fault{Kind: hubspottest.FaultTruncateBody, Op: hubspottest.OpBatchPurgeConfigurations}); err != nil {
		t.Fatal(err)
	}
	status, _, err := rawCall(srv, "POST", base+"/definitions/configurations/contacts/companies/batch/purge", `{"inputs":[{"category":"HUBSPOT_DEFINED","typeId":1}]}`)
	if err == nil {
		t.Fatalf("truncated 204 answered %d without error", status)
	}
	if len(srv.Limits()) != 0 {
		t.Error("purge not applied before the truncated answer")
	}
}

func TestServer_Script_order_and_operationFilter(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	err := srv.Script(
		hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503},
		hubspottest.Fault{Kind: hubspottest.FaultPass},
		hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 502, Op: hubspottest.OpCreateLabel},
		hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 504},
	)
	if err != nil {
		t.Fatal(err)
	}
	list := base + "/contacts/companies/labels"
	steps := []struct {
		method, body string
		want         int
	}{
		{"GET", "", 503}, // first fault, any op
		{"GET", "", 200}, // pass
		{"GET", "", 200}, // head is for CreateLabel: lists pass
		{"GET", "", 200}, // still waiting
		{"POST", `{"label":"A","name":"a"}`, 502}, // consumed by CreateLabel
		{"POST", `{"label":"A","name":"a"}`, 504}, // last fault, any op
		{"POST", `{"label":"A","name":"a"}`, 200}, // script empty
	}
	for i, s := range steps {
		status, body, err := rawCall(srv, s.method, list, s.body)
		if err != nil || status != s.want {
			t.Fatalf("step %d: %d %v %s; want %d", i, status, err, body, s.want)
		}
	}
	// Unauthenticated requests never consume faults.
	_ = srv.Script(hubspottest.Fault{Kind: hubspottest.FaultStatus})
	r := callAs(t, srv, "", "GET", list, nil)
	wantStatus(t, r, 401)
	if srv.PendingFaults() != 1 {
		t.Errorf("401 consumed a fault")
	}
	srv.ClearScript()
	if srv.PendingFaults() != 0 {
		t.Errorf("ClearScript left faults")
	}
}

func TestServer_randomFaults_deterministic(t *testing.T) {
	t.Parallel()
	run := func() []string {
		srv := newTestServer(t, hubspottest.WithRandomFaults(hubspottest.FaultPolicy{
			Seed:        42,
			Probability: 0.5,
			Choices: []hubspottest.Fault{
				{Kind: hubspottest.FaultStatus, Status: 500},
				{Kind: hubspottest.FaultStatus, Status: 503},
				{Kind: hubspottest.FaultResetBeforeApply},
			},
		}))
		var out []string
		for i := 0; i < 40; i++ {
			status, _, err := rawCall(srv, "GET", base+"/contacts/companies/labels", "")
			if err != nil {
				out = append(out, "reset")
			} else {
				out = append(out, http.StatusText(status))
			}
		}
		if st := srv.Stats(); st.Faults == 0 || st.Faults == 40 {
			t.Errorf("faults = %d of 40 at probability 0.5", st.Faults)
		}
		return out
	}
	a, b := run(), run()
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("same seed, different sequences:\n%v\n%v", a, b)
	}
}

func TestServer_concurrentLoad(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, hubspottest.WithRateLimit(100000, time.Second), hubspottest.WithRequestLogSize(50),
		hubspottest.WithRandomFaults(hubspottest.FaultPolicy{Seed: 7, Probability: 0.05, Choices: []hubspottest.Fault{{Kind: hubspottest.FaultStatus, Status: 503}, {Kind: hubspottest.FaultLatency, Delay: 5 * time.Millisecond}}}))
	const workers, perWorker = 32, 25
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				var req *http.Request
				switch i % 4 {
				case 0:
					req, _ = http.NewRequest("GET", srv.URL+base+"/contacts/companies/labels", nil)
				case 1:
					req, _ = http.NewRequest("POST", srv.URL+base+"/definitions/configurations/contacts/companies/batch/create",
						strings.NewReader(`{"inputs":[{"category":"HUBSPOT_DEFINED","typeId":279,"maxToObjectIds":3}]}`))
				case 2:
					// A custom object per worker: HubSpot allows 50 labels per pair.
					req, _ = http.NewRequest("POST", srv.URL+"/crm/v4/associations/deals/2-"+strconv.Itoa(w+1)+"/labels",
						strings.NewReader(`{"label":"L","name":"n`+strings.Repeat("x", w)+`-`+string(rune('a'+i))+`"}`))
				case 3:
					req, _ = http.NewRequest("GET", srv.URL+base+"/definitions/configurations/all", nil)
				}
				req.Header.Set("Authorization", "Bearer "+testToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case 200, 201, 207:
					ok.Add(1)
				case 503:
					failed.Add(1)
				default:
					t.Errorf("unexpected status %d", resp.StatusCode)
				}
			}
		}(w)
	}
	wg.Wait()
	st := srv.Stats()
	if int64(st.Requests) != ok.Load()+failed.Load() || st.Requests != workers*perWorker {
		t.Errorf("requests = %d, ok %d, 503 %d", st.Requests, ok.Load(), failed.Load())
	}
	if st.MaxInFlight < 2 {
		t.Errorf("MaxInFlight = %d, want concurrency", st.MaxInFlight)
	}
	if st.FaultsByKind[hubspottest.FaultStatus] != int(failed.Load()) {
		t.Errorf("status faults %d, 503s %d", st.FaultsByKind[hubspottest.FaultStatus], failed.Load())
	}
	if n := len(srv.Requests()); n != 50 {
		t.Errorf("request log holds %d, want the cap 50", n)
	}
	if l := srv.Limits(); len(l) != 1 {
		t.Errorf("limits = %v", l)
	}
}

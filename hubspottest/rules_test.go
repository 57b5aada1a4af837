package hubspottest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

// manyLabels seeds a custom pair with an unlabeled USER_DEFINED type 1
// (the object limit) and n labeled types 2..n+1, each with a limit of 1.
func manyLabels(n int) []hubspottest.Option {
	opts := []hubspottest.Option{
		hubspottest.WithoutDefaultTypes(),
		hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "2-1001", ToObjectType: "2-1002", Category: "USER_DEFINED", TypeID: 1}),
		hubspottest.WithLimit(hubspottest.Limit{FromObjectType: "2-1001", ToObjectType: "2-1002", Category: "USER_DEFINED", TypeID: 1, MaxToObjectIDs: 100}),
	}
	for i := 2; i <= n+1; i++ {
		opts = append(opts,
			hubspottest.WithAssociationType(hubspottest.AssociationType{FromObjectType: "2-1001", ToObjectType: "2-1002", Category: "USER_DEFINED", TypeID: int32(i), Label: fmt.Sprintf("label %d", i)}),
			hubspottest.WithLimit(hubspottest.Limit{FromObjectType: "2-1001", ToObjectType: "2-1002", Category: "USER_DEFINED", TypeID: int32(i), MaxToObjectIDs: 1}))
	}
	return opts
}

// TestServer_limitRules_manyLabels: with thousands of labels in one
// direction, a batch is still checked against the limits as they stand
// input by input: a label raised earlier in the same batch holds the
// object limit up, and the object limit lowered earlier caps a label.
func TestServer_limitRules_manyLabels(t *testing.T) {
	srv := newTestServer(t, manyLabels(5000)...)
	cfg := base + "/definitions/configurations/2-1001/2-1002"
	r := call(t, srv, "POST", cfg+"/batch/update", limitInputs(
		limitIn("USER_DEFINED", 7, 50), // a label up to 50: within the object limit 100
		limitIn("USER_DEFINED", 1, 40), // the object limit below it: refused
		limitIn("USER_DEFINED", 1, 60), // at least the label: accepted
		limitIn("USER_DEFINED", 9, 70), // above the new object limit: refused
		limitIn("USER_DEFINED", 9, 60), // at it: accepted
	))
	wantStatus(t, r, http.StatusMultiStatus)
	var msgs []string
	for _, e := range r.JSON["errors"].([]any) {
		msgs = append(msgs, e.(map[string]any)["message"].(string))
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "type 7 has a limit of 50") || !strings.Contains(msgs[1], "object limit 60") {
		t.Errorf("errors = %q", msgs)
	}
	if got := results(t, r); len(got) != 3 {
		t.Errorf("results = %s", r.Raw)
	}
}

// BenchmarkServer_batchUpdate_types: a batch of 100 label limits costs the
// same however many types its direction holds (run with -bench and compare
// the two sub-benchmarks: their ratio, not their times, is the result).
func BenchmarkServer_batchUpdate_types(b *testing.B) {
	for _, n := range []int{100, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			srv, err := hubspottest.New(append(manyLabels(n), hubspottest.WithToken(testToken), hubspottest.WithRateLimit(1_000_000, 1e9))...)
			if err != nil {
				b.Fatal(err)
			}
			var body strings.Builder
			body.WriteString(`{"inputs":[`)
			for i := 2; i < 102; i++ {
				if i > 2 {
					body.WriteString(",")
				}
				fmt.Fprintf(&body, `{"category":"USER_DEFINED","typeId":%d,"maxToObjectIds":%d}`, i, 1+i%50)
			}
			body.WriteString("]}")
			url := base + "/definitions/configurations/2-1001/2-1002/batch/update"
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest("POST", url, strings.NewReader(body.String()))
				req.Header.Set("Authorization", "Bearer "+testToken)
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

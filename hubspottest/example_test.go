package hubspottest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/crmkit/hubspot-associations/hubspottest"
)

func Example() {
	srv, err := hubspottest.New(hubspottest.WithToken("pat-test"))
	if err != nil {
		panic(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer srv.Close()

	send := func(method, path, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer pat-test")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		fmt.Println(resp.StatusCode, out["status"], out["numErrors"], resp.Header.Get("X-HubSpot-RateLimit-Remaining"))
	}

	// One limit is created, the other input names a type that does not
	// exist between contacts and companies: 207 with one error.
	send("POST", "/crm/v4/associations/definitions/configurations/contacts/companies/batch/create",
		`{"inputs":[{"category":"HUBSPOT_DEFINED","typeId":1,"maxToObjectIds":1},{"category":"USER_DEFINED","typeId":5,"maxToObjectIds":1}]}`)

	// The next request fails with a scripted 503.
	_ = srv.Script(hubspottest.Fault{Kind: hubspottest.FaultStatus, Status: 503})
	send("GET", "/crm/associations/2026-03/definitions/configurations/all", "")

	fmt.Println(srv.Limits()[0].TypeID, srv.Stats().Faults)
	// Output:
	// 207 COMPLETE 1 99
	// 503 error <nil> 98
	// 1 1
}

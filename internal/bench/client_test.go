package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
)

// canned answers batch updates with bodies prepared in advance, without a
// network, so the benchmarks measure the client only. It finds the chunk by
// the first typeId in the request.
type canned struct{ bodies map[int][]byte }

func newCanned(n, chunk int) canned {
	c := canned{bodies: map[int][]byte{}}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for first := 1; first <= n; first += chunk {
		var res associations.LimitUpdateBatchResult
		res.Status = "COMPLETE"
		res.StartedAt, res.CompletedAt = now, now
		for id := first; id < min(first+chunk, n+1); id++ {
			v := int32(NewValue)
			res.Results = append(res.Results, associations.LimitUpdateResult{
				Category: associations.AssociationCategoryUserDefined, TypeID: int32(id), UserEnforcedMaxToObjectIDs: &v,
			})
		}
		b, err := json.Marshal(res)
		if err != nil {
			panic(err)
		}
		c.bodies[first] = b
	}
	return c
}

var typeIDKey = []byte(`"typeId":`)

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	var buf bytes.Buffer
	buf.ReadFrom(r.Body)
	r.Body.Close()
	body := buf.Bytes()
	i := bytes.Index(body, typeIDKey) + len(typeIDKey)
	j := i
	for j < len(body) && body[j] >= '0' && body[j] <= '9' {
		j++
	}
	first, _ := strconv.Atoi(string(body[i:j]))
	data := c.bodies[first]
	return &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(data)),
		ContentLength: int64(len(data)), Request: r}, nil
}

// BenchmarkClient_plainLoop: one op is a job of JobInputs updates sent with
// the generated client in a plain loop (chunks of 100, results collected).
func BenchmarkClient_plainLoop(b *testing.B) {
	rt := newCanned(JobInputs, 100)
	inputs := Updates(1, JobInputs)
	client, err := newPlainClient("http://bench.invalid", rt)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var done []associations.LimitUpdateResult
		for start := 0; start < len(inputs); start += 100 {
			resp, err := client.BatchUpdateConfigurationsWithResponse(ctx, From, To,
				associations.BatchUpdateConfigurationsJSONRequestBody{Inputs: inputs[start:min(start+100, len(inputs))]})
			if err != nil || resp.JSON200 == nil {
				b.Fatalf("plain loop: %v", err)
			}
			done = append(done, resp.JSON200.Results...)
		}
		if len(done) != JobInputs {
			b.Fatalf("%d results", len(done))
		}
	}
}

// BenchmarkClient_schema: the same job through the Schema, with the
// runtime's transport (token, retries) and a limiter that never waits.
func BenchmarkClient_schema(b *testing.B) {
	rt := newCanned(JobInputs, 100)
	inputs := Updates(1, JobInputs)
	lim, err := hubspot.NewAdaptiveLimiter(hubspot.WithRateLimit(1_000_000, time.Second))
	if err != nil {
		b.Fatal(err)
	}
	bt, err := newSchema("http://bench.invalid", lim, rt)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		res, err := bt.UpdateConfigurations(ctx, From, To, inputs)
		if err != nil || len(res.Succeeded) != JobInputs {
			b.Fatalf("schema: %v", err)
		}
	}
}

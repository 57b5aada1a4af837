package bench

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/crmkit/hubspot-associations/generated/associations"
	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/hubspottest"
)

// JobInputs is the size of one job in the client-cost benchmarks
// (client_test.go).
const JobInputs = 1000

// NewValue is what every benchmark update sets (the fake starts at 1).
const NewValue = 7

// Outcome is what one run reported about each input, by type id.
type Outcome struct {
	Succeeded []int32
	// Failed maps a failed type id to whether the failure says the outcome
	// is unknown (errors.Is hubspot.ErrOutcomeUnknown).
	Failed       map[int32]bool
	NotAttempted []int32
	Err          error `json:"-"`
}

// Updates returns n update inputs for type ids first..first+n-1.
func Updates(first, n int) []associations.LimitUpdate {
	in := make([]associations.LimitUpdate, n)
	for i := range in {
		in[i] = associations.LimitUpdate{
			Category: associations.AssociationCategoryUserDefined, TypeID: int32(first + i), MaxToObjectIDs: NewValue,
		}
	}
	return in
}

// SchemaOptions configures RunSchema.
type SchemaOptions struct {
	// Limiter is the client's limiter; nil means none.
	Limiter   *hubspot.AdaptiveLimiter
	ChunkSize int
}

// newSchema returns a Schema on url with Token and lim, through rt (nil: the
// default transport).
func newSchema(url string, lim *hubspot.AdaptiveLimiter, rt http.RoundTripper, bopts ...hubspot.Option) (*associations.Schema, error) {
	opts := []hubspot.Option{hubspot.WithBaseURL(url), hubspot.WithLimiter(lim)}
	if rt != nil {
		opts = append(opts, hubspot.WithBaseTransport(rt))
	}
	return associations.New(Token, append(opts, bopts...)...)
}

// newPlainClient returns the generated client on url through rt, with only
// Token added: what a user without the runtime has.
func newPlainClient(url string, rt http.RoundTripper) (*associations.ClientWithResponses, error) {
	return associations.NewClientWithResponses(url, associations.WithHTTPClient(&http.Client{Transport: rt}),
		associations.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+Token)
			return nil
		}))
}

// RunSchema updates inputs with the generated Schema through rt.
func RunSchema(ctx context.Context, url string, rt http.RoundTripper, inputs []associations.LimitUpdate, o SchemaOptions) (Outcome, error) {
	var bopts []hubspot.Option
	if o.ChunkSize > 0 {
		bopts = append(bopts, hubspot.WithChunkSize(o.ChunkSize))
	}
	b, err := newSchema(url, o.Limiter, rt, bopts...)
	if err != nil {
		return Outcome{}, err
	}
	res, runErr := b.UpdateConfigurations(ctx, From, To, inputs)
	out := Outcome{Failed: map[int32]bool{}, Err: runErr}
	for _, s := range res.Succeeded {
		out.Succeeded = append(out.Succeeded, s.Input.TypeID)
	}
	for _, f := range res.Failed {
		out.Failed[f.Input.TypeID] = errors.Is(f.Err, hubspot.ErrOutcomeUnknown)
	}
	for _, n := range res.NotAttempted {
		out.NotAttempted = append(out.NotAttempted, n.Input.TypeID)
	}
	return out, nil
}

// RunPlainLoop is what a user writes by hand: the generated client, chunks
// of 100 sent one after the other, a 1 s sleep after a 429, a 5xx or a
// connection error, at most 10 tries per chunk.
func RunPlainLoop(ctx context.Context, url string, rt http.RoundTripper, inputs []associations.LimitUpdate) (Outcome, error) {
	client, err := newPlainClient(url, rt)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Failed: map[int32]bool{}}
	for start := 0; start < len(inputs); start += 100 {
		chunk := inputs[start:min(start+100, len(inputs))]
		ok := false
		for try := 1; try <= 10 && !ok; try++ {
			resp, err := client.BatchUpdateConfigurationsWithResponse(ctx, From, To,
				associations.BatchUpdateConfigurationsJSONRequestBody{Inputs: chunk})
			switch {
			case err != nil || resp.StatusCode() == http.StatusTooManyRequests || resp.StatusCode() >= 500:
				if err := sleep(ctx, time.Second); err != nil {
					return out, err
				}
			case resp.StatusCode() == http.StatusOK:
				ok = true
			default:
				try = 10
			}
		}
		for _, in := range chunk {
			if ok {
				out.Succeeded = append(out.Succeeded, in.TypeID)
			} else {
				out.Failed[in.TypeID] = true // a 5xx or reset may have applied it
			}
		}
	}
	return out, nil
}

// Misreported counts inputs whose report disagrees with the server: reported
// succeeded but not set, failed (outcome known) or not attempted but set,
// or not accounted for exactly once among n inputs starting at type id
// first.
func Misreported(srv *hubspottest.Server, o Outcome, first, n int) int {
	got := map[int32]int32{}
	for _, l := range srv.Limits() {
		if l.FromObjectType == From && l.ToObjectType == To {
			got[l.TypeID] = l.MaxToObjectIDs
		}
	}
	return MisreportedIn(got, o, first, n)
}

// MisreportedIn is Misreported against got, the server's limits by type id.
func MisreportedIn(got map[int32]int32, o Outcome, first, n int) int {
	seen := map[int32]int{}
	bad := 0
	for _, id := range o.Succeeded {
		seen[id]++
		if got[id] != NewValue {
			bad++
		}
	}
	for id, unknown := range o.Failed {
		seen[id]++
		if !unknown && got[id] == NewValue {
			bad++
		}
	}
	for _, id := range o.NotAttempted {
		seen[id]++
		if got[id] == NewValue {
			bad++
		}
	}
	for id := first; id < first+n; id++ {
		if seen[int32(id)] != 1 {
			bad++
		}
	}
	return bad
}

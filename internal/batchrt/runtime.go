package batchrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/crmkit/hubspot-associations/internal/wire"
)

// Doer sends one request: the generated client's HttpRequestDoer.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// config is how the batch calls of a Runtime run.
type config struct {
	chunkSize     int                    // inputs per request
	concurrency   int                    // requests in flight; 0: adaptive
	progress      func(hubspot.Progress) // called after every chunk
	logger        *slog.Logger           // chunk failures, splits, read-backs
	maxAttempts   int                    // requests per input or page, end to end
	noBaseline    bool                   // skip the baseline read-back of creates
	resendUnknown bool                   // resend inputs whose outcome is unknown
	maxBody       int64                  // response body cap
}

// Runtime is what a generated Schema sends through: the client's Doer, the
// Transport behind it when there is one (link), and how batch calls run.
// Copies made for a batch run's read-backs share everything but sink.
type Runtime struct {
	cfg    config
	doer   Doer         // the client's; nil when the client has none we reach
	hc     *http.Client // doer as an *http.Client whose Transport is linked
	link   wire.Link
	linked bool
	// progress serializes the WithProgress callback of every batch call of
	// the runtime (of one Schema).
	progress *sync.Mutex
	// sink, when set, receives the counts of every exchange (a batch run
	// counting its read-backs).
	sink *counters
}

// New builds the http.Client of opts (see hubspot.NewHTTPClient) and a
// Runtime sending through it, and returns the server to send to
// (hubspot.WithBaseURL, else hubspot.DefaultBaseURL): the constructor of
// associations.New.
func New(opts ...hubspot.Option) (r *Runtime, hc *http.Client, server string, err error) {
	// The batch calls' options are this runtime's; the rest (and
	// WithLogger, which is both) the client's.
	var o wire.Options
	var client []hubspot.Option
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		var one wire.Options
		if err := opt(&one); err != nil {
			return nil, nil, "", err
		}
		_ = opt(&o)
		if len(one.Batch) == 0 {
			client = append(client, opt)
		}
	}
	hc, err = hubspot.NewHTTPClient(client...)
	if err != nil {
		return nil, nil, "", err
	}
	r = newRuntime(o)
	r.attach(hc)
	server = o.BaseURL
	if server == "" {
		server = hubspot.DefaultBaseURL
	}
	return r, hc, server, nil
}

// ForClient returns a Runtime sending through doer (nil when the client's
// doer cannot be reached, a ClientInterface of the user's own), with the
// batch options of opts: associations.NewSchema. Options that configure a
// client (WithToken, WithRateLimit, ...) are refused: that client is built
// already.
func ForClient(doer Doer, opts ...hubspot.Option) (*Runtime, error) {
	var o wire.Options
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if len(o.Client) > 0 {
		return nil, fmt.Errorf("associations: NewSchema: %s configure(s) a client, which NewSchema is given built; pass them to associations.New or hubspot.NewHTTPClient",
			wire.Names(o.Client))
	}
	r := newRuntime(o)
	r.attach(doer)
	return r, nil
}

func newRuntime(o wire.Options) *Runtime {
	c := config{
		chunkSize:     o.ChunkSize,
		concurrency:   o.Concurrency,
		logger:        o.Logger,
		noBaseline:    o.NoBaseline,
		resendUnknown: o.ResendUnknown,
		maxAttempts:   hubspot.DefaultMaxAttempts,
		maxBody:       hubspot.MaxResponseBodyBytes,
	}
	if c.chunkSize <= 0 {
		c.chunkSize = hubspot.DefaultChunkSize
	}
	if fn, ok := o.Progress.(func(hubspot.Progress)); ok {
		c.progress = fn
	}
	return &Runtime{cfg: c, progress: new(sync.Mutex)}
}

// attach makes r send through doer, linked to its Transport when it has
// one.
func (r *Runtime) attach(doer Doer) {
	r.doer = doer
	hc, ok := doer.(*http.Client)
	if !ok || hc == nil {
		return
	}
	rt := hc.Transport
	if l, ok := wire.LinkOf(rt); ok {
		r.hc, r.link, r.linked = hc, l, true
		r.cfg.maxAttempts = l.MaxAttempts
		r.cfg.maxBody = l.MaxBody
	}
}

// Linked reports whether r reaches a hubspot.Transport, so that its counts
// are the Transport's own.
func (r *Runtime) Linked() bool { return r.linked }

// counting returns a copy of r whose exchanges add to c.
func (r *Runtime) counting(c *counters) *Runtime {
	r2 := *r
	r2.sink = c
	return &r2
}

// counters are the sums of exchanges (Result's counts).
type counters struct {
	requests, retries, rateLimited, waited atomic.Int64
}

func (c *counters) add(ex *wire.Exchange) {
	if c == nil {
		return
	}
	c.requests.Add(int64(ex.Attempts))
	c.retries.Add(int64(ex.Retries))
	c.rateLimited.Add(int64(ex.RateLimited))
	c.waited.Add(int64(ex.Waited))
}

// callDoer is the Doer of one call: it sends through the Transport's send
// with the call's Exchange, or through the client's Doer counting each
// request once.
type callDoer struct {
	r      *Runtime
	ex     *wire.Exchange
	called bool
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// Do implements Doer.
func (d *callDoer) Do(req *http.Request) (*http.Response, error) {
	d.called = true
	if d.r.linked {
		hc := *d.r.hc // the caller's redirect policy, jar and timeout, this call's send
		hc.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
			return d.r.link.Send(req, d.ex)
		})
		return hc.Do(req)
	}
	if err := req.Context().Err(); err != nil {
		return nil, err // nothing sent
	}
	if d.r.doer == nil {
		return nil, errors.New("hubspot: the client has no request sender")
	}
	resp, err := d.r.doer.Do(req)
	d.count(resp, err)
	return resp, err
}

// count records one request sent by a client without a linked Transport.
func (d *callDoer) count(resp *http.Response, err error) {
	d.ex.Attempts++
	switch {
	case resp != nil && resp.StatusCode == http.StatusTooManyRequests:
		d.ex.RateLimited++
	case resp != nil && resp.StatusCode >= 500, resp == nil && err != nil:
		d.ex.MaybeApplied = true
	}
}

// send makes one request of a call with a Doer bound to ex.
func (r *Runtime) send(ctx context.Context, ex *wire.Exchange, fn func(Doer) (*http.Response, error)) (*http.Response, error) {
	d := &callDoer{r: r, ex: ex}
	resp, err := fn(d)
	if !d.called && ctx.Err() == nil {
		d.count(resp, err) // a client whose Doer is out of reach
	}
	r.sink.add(ex)
	return resp, err
}

// Call makes one request with send and decodes a 2xx answer into a T (nil
// for an empty body); any other outcome is the error outcome decides.
// method is the operation's HTTP method.
func Call[T any](ctx context.Context, r *Runtime, method string, send func(Doer) (*http.Response, error)) (*T, error) {
	ex := &wire.Exchange{}
	resp, err := r.send(ctx, ex, send)
	body, err := r.read(method, ex, resp, err)
	if err != nil || len(body) == 0 {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(body, v); err != nil {
		return nil, decide(method, true, fmt.Errorf("hubspot: decoding %s: %w", describe(resp.Request), err))
	}
	return v, nil
}

// Exec is Call for operations that answer without a body.
func Exec(ctx context.Context, r *Runtime, method string, send func(Doer) (*http.Response, error)) error {
	ex := &wire.Exchange{}
	resp, err := r.send(ctx, ex, send)
	_, err = r.read(method, ex, resp, err)
	return err
}

// read returns the body of a 2xx answer, or the error of any other
// outcome.
func (r *Runtime) read(method string, ex *wire.Exchange, resp *http.Response, err error) ([]byte, error) {
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, decide(method, ex.MaybeApplied, err)
	}
	if resp == nil {
		return nil, errors.New("hubspot: no response and no error")
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, answerError(method, ex, resp)
	}
	body, err := r.readBody(resp)
	if err != nil {
		return nil, decide(method, true, err)
	}
	return body, nil
}

// answerError is the error of a non-2xx answer: the parsed error, decided
// by outcome; a DELETE that finds the object gone after an attempt that may
// have deleted it succeeded (nil).
func answerError(method string, ex *wire.Exchange, resp *http.Response) error {
	perr := ex.Final
	if perr == nil {
		perr = hubspot.ParseError(resp)
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusNotFound && method == http.MethodDelete && ex.MaybeApplied:
		return nil
	case code >= 500:
		return decide(method, true, perr)
	case code == http.StatusConflict && ex.MaybeApplied:
		// Maybe the conflict is with what an earlier attempt applied.
		return decide(method, ex.MaybeApplied, perr)
	case code == http.StatusTooManyRequests:
		return decide(method, ex.MaybeApplied, perr)
	}
	return perr // HubSpot refused the request: the answer settles it
}

// decide is the one place that decides ErrOutcomeUnknown, for single calls
// and batch inputs alike: err wraps it exactly when the request may change
// something (its method is not GET, HEAD or OPTIONS) and may have been
// applied with no answer saying what became of it (maybeApplied: an
// attempt reached HubSpot unanswered or answered 5xx, as the Transport
// reports in wire.Exchange.MaybeApplied, or a 2xx answer was unreadable).
func decide(method string, maybeApplied bool, err error) error {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return err
	}
	if maybeApplied {
		return outcomeUnknown(err)
	}
	return err
}

// outcomeUnknown wraps err in ErrOutcomeUnknown, unless it already is.
func outcomeUnknown(err error) error {
	if errors.Is(err, hubspot.ErrOutcomeUnknown) {
		return err
	}
	return fmt.Errorf("%w: %w", hubspot.ErrOutcomeUnknown, err)
}

// readBody reads the body of a 2xx answer, at most the cap (a larger one
// is a *hubspot.ResponseTooLargeError).
func (r *Runtime) readBody(resp *http.Response) ([]byte, error) {
	r.limit(resp)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("hubspot: reading %s: %w", describe(resp.Request), err)
	}
	return body, nil
}

// limit caps resp.Body at the runtime's cap (a body from a linked
// Transport is capped already).
func (r *Runtime) limit(resp *http.Response) {
	method, path := http.MethodGet, ""
	if resp.Request != nil {
		method, path = resp.Request.Method, resp.Request.URL.Path
	}
	wire.LimitBody(resp, r.cfg.maxBody, &hubspot.ResponseTooLargeError{Method: method, Path: path,
		StatusCode: resp.StatusCode, Limit: r.cfg.maxBody, ContentLength: resp.ContentLength})
}

func describe(req *http.Request) string {
	if req == nil {
		return "the answer"
	}
	return req.Method + " " + req.URL.Path
}

package hubspottest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/getkin/kin-openapi/openapi3"
)

// The fake's own limits: what one request, and all requests together, may
// cost it. HubSpot publishes no body size, header size or timeout for this
// API; the defaults are conservative bounds far above what a valid request
// needs (a full batch of 100 inputs is about 10 KB).
const (
	// DefaultReadHeaderTimeout bounds reading a request's headers (Start).
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, headers and body
	// (Start).
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds the time from the end of a request's
	// headers to the end of its response (Start).
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout bounds how long a kept-alive connection may wait
	// for its next request (Start). It is longer than the idle timeouts of
	// common clients (Go's is 90 s), so that they close first.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultMaxConnections is how many connections Start serves at once;
	// further ones wait to be accepted. A connection stalled in its
	// headers or body costs the server about 33 KiB until the read timeout
	// closes it, so 4096 of them hold about 130 MiB, and a few thousand
	// stalled clients still leave room for the normal ones.
	DefaultMaxConnections = 4096
	// DefaultMaxBodyBytesInFlight is how many bytes of request bodies the
	// server holds at once, over all requests; a body that would exceed it
	// is answered 503 with Retry-After.
	DefaultMaxBodyBytesInFlight = 32 << 20
	// MaxHeaderBytes is the largest request line plus headers Start reads.
	MaxHeaderBytes = 64 << 10
	// MaxURIBytes is the longest path plus query string served; a longer
	// one is answered 414 before routing. This API's paths are under 200
	// bytes and it takes no query parameters.
	MaxURIBytes = 4 << 10
	// MaxLabelBytes is the longest label, inverse label or internal name
	// a label create or update accepts. HubSpot publishes no limit; real
	// labels are a few words.
	MaxLabelBytes = 1 << 10
	// MaxCreatedLabels is how many labels (each with its inverse) may be
	// created through the API beyond the seeded association types, so that
	// the state, and the time of the requests that scan it, stay bounded.
	MaxCreatedLabels = 20000
	// maxErrorDetails is how many errors[] entries a 400 lists; the last
	// one then says how many more there were.
	maxErrorDetails = 100
	// maxMessageBytes cuts a message quoted from input or from the
	// validator.
	maxMessageBytes = 512
)

// Timeouts are the connection deadlines of a started server (Start,
// NewServer, the hubspot-fake command). A zero field keeps its default.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers (default
	// DefaultReadHeaderTimeout, or Read when that is shorter). A client
	// that has not sent its headers by then is disconnected.
	ReadHeader time.Duration
	// Read bounds reading a whole request, headers and body (default
	// DefaultReadTimeout). A body still incomplete then is answered 408 and
	// its connection closed.
	Read time.Duration
	// Write bounds the time from the end of a request's headers to the end
	// of its response (default DefaultWriteTimeout); it must be at least
	// Read, since the body is read within it. An injected latency fault
	// renews both Read and Write once it has elapsed, so a fault may last
	// longer than either.
	Write time.Duration
	// Idle bounds how long a kept-alive connection may wait for its next
	// request (default DefaultIdleTimeout).
	Idle time.Duration
}

// WithTimeouts sets the deadlines of a started server; zero fields keep
// their defaults. Tests that need stalled clients dropped quickly set short
// ones.
func WithTimeouts(t Timeouts) Option {
	return func(c *config) error {
		for _, f := range []struct {
			name string
			d    time.Duration
		}{{"ReadHeader", t.ReadHeader}, {"Read", t.Read}, {"Write", t.Write}, {"Idle", t.Idle}} {
			if f.d < 0 {
				return fmt.Errorf("WithTimeouts: %s must not be negative, got %v", f.name, f.d)
			}
		}
		c.timeouts = t
		return nil
	}
}

// WithMaxConnections sets how many connections a started server serves at
// once (default DefaultMaxConnections); further ones wait in the listen
// queue until one closes.
func WithMaxConnections(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithMaxConnections: must be at least 1, got %d", n)
		}
		c.maxConns = n
		return nil
	}
}

// WithMaxBodyBytesInFlight sets how many bytes of request bodies the server
// holds at once over all requests (default DefaultMaxBodyBytesInFlight, or
// the WithMaxBodyBytes limit when that is larger). A request whose body
// would exceed it is answered 503 SERVICE_UNAVAILABLE with Retry-After, as
// a busy HubSpot would. It must be larger than the WithMaxBodyBytes limit.
func WithMaxBodyBytesInFlight(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithMaxBodyBytesInFlight: must be at least 1, got %d", n)
		}
		c.maxInFlight = n
		return nil
	}
}

// resolveLimits fills in the defaults that depend on other options and
// checks that the limits fit together.
func (c *config) resolveLimits() error {
	t := &c.timeouts
	if t.Read == 0 {
		t.Read = DefaultReadTimeout
	}
	if t.ReadHeader == 0 {
		t.ReadHeader = min(DefaultReadHeaderTimeout, t.Read)
	}
	if t.Write == 0 {
		t.Write = max(DefaultWriteTimeout, t.Read)
	}
	if t.Idle == 0 {
		t.Idle = DefaultIdleTimeout
	}
	if t.ReadHeader > t.Read {
		return fmt.Errorf("WithTimeouts: ReadHeader (%v) must not exceed Read (%v)", t.ReadHeader, t.Read)
	}
	if t.Write < t.Read {
		return fmt.Errorf("WithTimeouts: Write (%v) must be at least Read (%v): the body is read within the write deadline", t.Write, t.Read)
	}
	// One body of the largest size must fit, with the byte read to detect
	// that it is too large.
	if c.maxInFlight == 0 {
		c.maxInFlight = max(DefaultMaxBodyBytesInFlight, c.maxBody+1)
	} else if c.maxInFlight <= c.maxBody {
		return fmt.Errorf("WithMaxBodyBytesInFlight (%d) must be larger than WithMaxBodyBytes (%d)", c.maxInFlight, c.maxBody)
	}
	return nil
}

// bodyBudget counts the bytes of request bodies held, over all requests.
type bodyBudget struct {
	used atomic.Int64
	max  int64
}

// take reserves n bytes, or reports false and reserves nothing when that
// would exceed the budget.
func (b *bodyBudget) take(n int64) bool {
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *bodyBudget) give(n int64) { b.used.Add(-n) }

// errBodyBudget: the body would exceed WithMaxBodyBytesInFlight.
var errBodyBudget = errors.New("request bodies in flight exceed the server's budget")

// errBodyTooLarge: the body exceeds WithMaxBodyBytes.
var errBodyTooLarge = errors.New("request body too large")

// readBody reads r's body up to the size cap, holding budget for the
// capacity of the buffer it reads into. The caller calls release once done
// with the body, whatever the error.
func (s *Server) readBody(r *http.Request) (body []byte, release func(), err error) {
	var held int64
	release = func() { s.bodies.give(held) }
	if r.Body == nil || r.Body == http.NoBody {
		return nil, release, nil
	}
	limit := s.cfg.maxBody + 1 // one byte more tells a body that is too large
	buf := []byte{}
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= limit {
				return nil, release, errBodyTooLarge
			}
			grow := min(max(2*int64(cap(buf)), 512), limit)
			if !s.bodies.take(grow - int64(cap(buf))) {
				return nil, release, errBodyBudget
			}
			held += grow - int64(cap(buf))
			nb := make([]byte, len(buf), grow)
			copy(nb, buf)
			buf = nb
		}
		n, rerr := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if rerr == io.EOF {
			if int64(len(buf)) >= limit {
				return nil, release, errBodyTooLarge
			}
			return buf, release, nil
		}
		if rerr != nil {
			return nil, release, rerr
		}
	}
}

// bodyReadError answers a body that could not be read.
func (s *Server) bodyReadError(err error, cid string) *response {
	switch {
	case errors.Is(err, errBodyTooLarge):
		return errorResponse(http.StatusRequestEntityTooLarge, cid, hubspot.CategoryValidation,
			fmt.Sprintf("Request body too large: the maximum size is %d bytes.", s.cfg.maxBody))
	case errors.Is(err, errBodyBudget):
		resp := errorResponse(http.StatusServiceUnavailable, cid, "SERVICE_UNAVAILABLE",
			fmt.Sprintf("Service Unavailable: the server holds %d bytes of request bodies at most and is at that limit; please try again later.", s.cfg.maxInFlight))
		resp.header.Set("Retry-After", "1")
		return resp
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errorResponse(http.StatusRequestTimeout, cid, hubspot.CategoryValidation,
			fmt.Sprintf("Request timeout: the request body was not received within %v.", s.cfg.timeouts.Read))
	default:
		return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation, "Unable to read request body: "+clip(err.Error()))
	}
}

// renewDeadlines gives the request fresh read and write deadlines after an
// injected latency, when the request is served by this server's own
// listener (a Server mounted in another http.Server leaves that server's
// deadlines alone).
func (s *Server) renewDeadlines(w http.ResponseWriter, r *http.Request) {
	if s.httpSrv == nil || r.Context().Value(http.ServerContextKey) != s.httpSrv {
		return
	}
	rc := http.NewResponseController(w)
	now := time.Now()
	_ = rc.SetReadDeadline(now.Add(s.cfg.timeouts.Read))
	_ = rc.SetWriteDeadline(now.Add(s.cfg.timeouts.Write))
}

// isBatchBody reports whether a request body schema is a batch: an object
// whose "inputs" is an array.
func isBatchBody(rb *openapi3.RequestBodyRef) bool {
	if rb == nil || rb.Value == nil {
		return false
	}
	mt := rb.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return false
	}
	in := mt.Schema.Value.Properties["inputs"]
	return in != nil && in.Value != nil && in.Value.Type.Is("array")
}

// countInputs returns the number of elements of a batch body's "inputs"
// array without decoding them; ok is false when the body is not valid JSON
// or has no inputs array (validation then says why). It matches "inputs"
// as the operation's own decoding does.
func countInputs(body []byte) (n int, ok bool) {
	var probe struct {
		Inputs inputCount `json:"inputs"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return 0, false
	}
	return probe.Inputs.n, probe.Inputs.ok
}

// inputCount counts the elements of a JSON array while it is unmarshaled.
type inputCount struct {
	n  int
	ok bool
}

// UnmarshalJSON counts the top-level elements of an array that
// encoding/json has already checked is valid.
func (c *inputCount) UnmarshalJSON(b []byte) error {
	*c = inputCount{}
	if len(b) < 2 || b[0] != '[' {
		return nil
	}
	inner := bytes.TrimSpace(b[1 : len(b)-1])
	c.ok = true
	if len(inner) == 0 {
		return nil
	}
	depth, inString, escaped := 0, false, false
	c.n = 1
	for _, ch := range inner {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case ch == '\\':
				escaped = true
			case ch == '"':
				inString = false
			}
		case ch == '"':
			inString = true
		case ch == '[' || ch == '{':
			depth++
		case ch == ']' || ch == '}':
			depth--
		case ch == ',' && depth == 0:
			c.n++
		}
	}
	return nil
}

// capDetails keeps the first maxErrorDetails details, each message cut to
// maxMessageBytes, and says how many more there were.
func capDetails(details []hubspot.ErrorDetail) []hubspot.ErrorDetail {
	for i := range details[:min(len(details), maxErrorDetails)] {
		details[i].Message = clip(details[i].Message)
	}
	if len(details) <= maxErrorDetails {
		return details
	}
	more := len(details) - (maxErrorDetails - 1)
	out := details[: maxErrorDetails-1 : maxErrorDetails-1]
	return append(out, hubspot.ErrorDetail{In: out[len(out)-1].In,
		Message: fmt.Sprintf("and %d more errors, not listed", more), Code: "TOO_MANY_ERRORS"})
}

// clip cuts s to maxMessageBytes, on a rune boundary, marking the cut.
func clip(s string) string { return clipTo(s, maxMessageBytes) }

// clipTo cuts s to n bytes, on a rune boundary, marking the cut.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + fmt.Sprintf("... (%d bytes in all)", len(s))
}

// uriTooLong answers a request whose path and query exceed MaxURIBytes.
func uriTooLong(r *http.Request, cid string) *response {
	if len(r.URL.Path)+len(r.URL.RawQuery) <= MaxURIBytes {
		return nil
	}
	return errorResponse(http.StatusRequestURITooLong, cid, hubspot.CategoryValidation,
		fmt.Sprintf("URI too long: the path and query are %d bytes, at most %d are accepted.", len(r.URL.Path)+len(r.URL.RawQuery), MaxURIBytes))
}

// checkLabelWrite refuses a label create or update whose texts exceed
// MaxLabelBytes, or a create once MaxCreatedLabels are held. Other
// operations and bodies that do not decode pass (the operation answers
// those).
func (s *Server) checkLabelWrite(op Operation, body []byte, cid string) *response {
	if op != OpCreateLabel && op != OpUpdateLabel {
		return nil
	}
	var in struct {
		Label        string `json:"label"`
		InverseLabel string `json:"inverseLabel"`
		Name         string `json:"name"`
	}
	if json.Unmarshal(body, &in) != nil {
		return nil
	}
	for _, f := range []struct{ name, v string }{{"label", in.Label}, {"inverseLabel", in.InverseLabel}, {"name", in.Name}} {
		if len(f.v) > MaxLabelBytes {
			msg := fmt.Sprintf("%s is %d bytes; hubspottest accepts at most %d.", f.name, len(f.v), MaxLabelBytes)
			return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation, msg,
				hubspot.ErrorDetail{In: "body", Message: msg, Code: "INVALID_VALUE"})
		}
	}
	if op == OpCreateLabel {
		s.mu.Lock()
		created := len(s.store.types) - s.seededTypes
		s.mu.Unlock()
		if created >= 2*MaxCreatedLabels {
			return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation,
				fmt.Sprintf("hubspottest holds at most %d labels created through the API; delete some or start a new server.", MaxCreatedLabels))
		}
	}
	return nil
}

// maxConcurrentWork is how many requests are validated and applied at once:
// twice the CPUs Go uses, at least 4.
func maxConcurrentWork() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// acquireWork waits for a turn to validate and apply a request; it answers
// 503 when the client or the server goes away first.
func (s *Server) acquireWork(r *http.Request, cid string) *response {
	select {
	case s.work <- struct{}{}:
		return nil
	case <-r.Context().Done():
	case <-s.done:
	}
	return errorResponse(http.StatusServiceUnavailable, cid, "SERVICE_UNAVAILABLE", "Service Unavailable: the request ended while it waited; please try again later.")
}

func (s *Server) releaseWork() { <-s.work }

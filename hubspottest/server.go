package hubspottest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/getkin/kin-openapi/openapi3filter"
	"golang.org/x/net/netutil"
)

// Server is an in-memory fake of HubSpot's CRM Associations Schema API.
// It is an http.Handler; Start (or NewServer) also serves it on a real
// listener. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the started server ("http://127.0.0.1:port"),
	// empty until Start.
	URL string

	cfg    *config
	spec   *compiledSpec
	tokens [][]byte

	mu      sync.Mutex
	store   *store
	buckets map[string]*bucket
	script  []Fault
	random  *FaultPolicy
	rng     *rand.Rand
	stats   Stats
	log     []RequestRecord
	logNext int

	inFlight int
	bodies   bodyBudget
	work     chan struct{}
	// seededTypes counts the association types added through Go (options,
	// AddAssociationType, CreateLabel), which MaxCreatedLabels leaves out.
	seededTypes int

	httpSrv  *http.Server
	listener net.Listener
	done     chan struct{}
	closeMu  sync.Once
}

// Stats are counters about the requests a Server has answered.
type Stats struct {
	// Requests counts every request, routed or not.
	Requests int
	// ByOperation counts requests per recognised operation, including those
	// then refused (401, 429, 400) or faulted.
	ByOperation map[Operation]int
	// ByStatus counts responses per HTTP status (0 for connections closed
	// without a response).
	ByStatus map[int]int
	// MaxInFlight is the largest number of requests served concurrently.
	MaxInFlight int
	// RateLimited counts 429 responses.
	RateLimited int
	// Faults counts injected faults; FaultsByKind splits them by kind.
	Faults       int
	FaultsByKind map[FaultKind]int
}

// RequestRecord is one entry of the request log. It never holds a token.
type RequestRecord struct {
	Time          time.Time
	Method        string
	Path          string
	Operation     Operation
	Status        int
	CorrelationID string
	// Fault is the injected fault, empty when none.
	Fault FaultKind
	// Body is the request body, cut to 8 KiB.
	Body []byte
}

const maxLoggedBody = 8 << 10

// New returns a Server that is not yet listening. Use it as an http.Handler
// or call Start.
func New(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(cfg); err != nil {
			return nil, fmt.Errorf("hubspottest: %w", err)
		}
	}
	var cs *compiledSpec
	var err error
	if cfg.spec == nil {
		cs, err = defaultCompiledSpec()
	} else {
		cs, err = compileSpec(cfg.spec)
	}
	if err != nil {
		return nil, fmt.Errorf("hubspottest: %w", err)
	}
	if len(cfg.tokens) == 0 {
		cfg.tokens = []string{DefaultToken}
	}
	if err := cfg.resolveLimits(); err != nil {
		return nil, fmt.Errorf("hubspottest: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		spec:    cs,
		store:   newStore(),
		buckets: map[string]*bucket{},
		random:  cfg.random,
		done:    make(chan struct{}),
		stats:   newStats(),
	}
	s.bodies.max = cfg.maxInFlight
	s.work = make(chan struct{}, maxConcurrentWork())
	for _, t := range cfg.tokens {
		s.tokens = append(s.tokens, []byte(t))
	}
	if cfg.random != nil {
		s.rng = newSeededRand(cfg.random.Seed)
	}
	if !cfg.noDefaultTypes {
		for _, t := range hubspotDefined {
			if err := s.store.addType(t); err != nil {
				return nil, fmt.Errorf("hubspottest: seeding: %w", err)
			}
		}
	}
	for _, t := range cfg.types {
		if err := s.store.addType(t); err != nil {
			return nil, fmt.Errorf("hubspottest: WithAssociationType: %w", err)
		}
	}
	s.seededTypes = len(s.store.types)
	for _, l := range cfg.limits {
		if err := s.store.setLimit(l); err != nil {
			return nil, fmt.Errorf("hubspottest: WithLimit: %w", err)
		}
	}
	return s, nil
}

func newStats() Stats {
	return Stats{ByOperation: map[Operation]int{}, ByStatus: map[int]int{}, FaultsByKind: map[FaultKind]int{}}
}

// NewServer starts a Server on a loopback port and closes it when the test
// ends. It fails the test on a bad option.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Start listens on addr ("127.0.0.1:0" for any free port), serves in the
// background and sets URL. It serves at most WithMaxConnections connections
// at once, with the WithTimeouts deadlines and MaxHeaderBytes.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("hubspottest: %w", err)
	}
	s.URL = "http://" + ln.Addr().String() + s.cfg.basePath
	ln = netutil.LimitListener(ln, s.cfg.maxConns)
	s.listener = ln
	t := s.cfg.timeouts
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	go func() { _ = s.httpSrv.Serve(ln) }()
	return nil
}

// Close stops the server at once, dropping open connections and cutting
// short any injected latency.
func (s *Server) Close() error {
	var err error
	s.closeMu.Do(func() {
		close(s.done)
		if s.httpSrv != nil {
			err = s.httpSrv.Close()
		}
	})
	return err
}

// Shutdown stops the server gracefully, waiting for requests in flight
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.closeMu.Do(func() {
		close(s.done)
		if s.httpSrv != nil {
			err = s.httpSrv.Shutdown(ctx)
		}
	})
	return err
}

// Stats returns a copy of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByOperation = copyMap(s.stats.ByOperation)
	st.ByStatus = copyMap(s.stats.ByStatus)
	st.FaultsByKind = copyMap(s.stats.FaultsByKind)
	return st
}

func copyMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Requests returns the most recent requests, oldest first (at most the
// WithRequestLogSize capacity).
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) < s.cfg.logSize {
		return append([]RequestRecord(nil), s.log...)
	}
	out := make([]RequestRecord, 0, len(s.log))
	out = append(out, s.log[s.logNext:]...)
	return append(out, s.log[:s.logNext]...)
}

// ResetStats zeroes the counters and empties the request log.
func (s *Server) ResetStats() {
	s.mu.Lock()
	s.stats = newStats()
	s.stats.MaxInFlight = s.inFlight
	s.log, s.logNext = nil, 0
	s.mu.Unlock()
}

func (s *Server) record(rec RequestRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.ByStatus[rec.Status]++
	if rec.Status == http.StatusTooManyRequests {
		s.stats.RateLimited++
	}
	if rec.Fault != "" {
		s.stats.Faults++
		s.stats.FaultsByKind[rec.Fault]++
	}
	if len(s.log) < s.cfg.logSize {
		s.log = append(s.log, rec)
		return
	}
	s.log[s.logNext] = rec
	s.logNext = (s.logNext + 1) % s.cfg.logSize
}

// action says how a response is delivered.
type action int

const (
	actWrite action = iota
	actReset
	actTruncate
)

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.inFlight++
	s.stats.Requests++
	if s.inFlight > s.stats.MaxInFlight {
		s.stats.MaxInFlight = s.inFlight
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()

	cid := newUUID()
	rec := RequestRecord{Time: s.cfg.now(), Method: clip(r.Method), Path: clipTo(r.URL.Path, MaxURIBytes), CorrelationID: cid}
	resp, act := s.handle(w, r, cid, &rec)
	resp.header.Set("X-HubSpot-Correlation-Id", cid)
	rec.Status = resp.status
	if act == actReset {
		rec.Status = 0
	}
	// Record before answering, so a client that has its answer (or its
	// reset) sees it in Stats and Requests.
	s.record(rec)
	if s.cfg.logf != nil {
		s.cfg.logf("hubspottest: %s %s -> %d op=%s fault=%s correlationId=%s", rec.Method, clip(rec.Path), rec.Status, rec.Operation, rec.Fault, cid)
	}
	switch act {
	case actReset:
		s.reset(w)
	case actTruncate:
		s.truncate(w, resp)
	default:
		for k, v := range resp.header {
			w.Header()[k] = v
		}
		if resp.body != nil {
			w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
		}
		w.WriteHeader(resp.status)
		_, _ = w.Write(resp.body)
	}
}

// reset closes the client connection with a TCP reset, without a response.
func (s *Server) reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// truncate sends the status line, headers and half the body, then closes.
// A response without a body (204) is cut inside its header instead, since
// a 204 cannot announce a body.
func (s *Server) truncate(w http.ResponseWriter, resp *response) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	var head bytes.Buffer
	fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n", resp.status, http.StatusText(resp.status))
	h := resp.header.Clone()
	if len(resp.body) > 0 {
		h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	}
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	_ = h.Write(&head)
	head.WriteString("\r\n")
	out := head.Bytes()
	if len(resp.body) > 0 {
		out = append(out, resp.body[:len(resp.body)/2]...)
	} else {
		out = out[:len(out)/2]
	}
	bw := brw.Writer
	_, _ = bw.Write(out)
	_ = bw.Flush()
}

// handle runs the request through routing, auth, rate limiting, faults,
// validation and the operation.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, cid string, rec *RequestRecord) (*response, action) {
	if resp := uriTooLong(r, cid); resp != nil {
		return resp, actWrite
	}
	reqPath, ok := strings.CutPrefix(r.URL.Path, s.cfg.basePath)
	if !ok || (reqPath != "" && reqPath[0] != '/') {
		return errorResponse(http.StatusNotFound, cid, hubspot.CategoryObjectNotFound,
			fmt.Sprintf("No route found for %s %s", rec.Method, r.URL.Path)), actWrite
	}
	specPath, ok := s.spec.rewritePath(reqPath)
	if !ok {
		return errorResponse(http.StatusNotFound, cid, hubspot.CategoryObjectNotFound,
			fmt.Sprintf("No route found for %s %s", rec.Method, r.URL.Path)), actWrite
	}
	vr := r.Clone(r.Context())
	vr.URL.Path, vr.URL.RawPath = specPath, ""
	vr.Body = http.NoBody
	route, params, err := s.spec.router.FindRoute(vr)
	if err != nil {
		resp := errorResponse(http.StatusNotFound, cid, hubspot.CategoryObjectNotFound,
			fmt.Sprintf("No route found for %s %s", rec.Method, r.URL.Path))
		if allow := s.allowedMethods(vr); len(allow) > 0 {
			resp = errorResponse(http.StatusMethodNotAllowed, cid, hubspot.CategoryObjectNotFound,
				fmt.Sprintf("No route found for %s %s: method not allowed", rec.Method, r.URL.Path))
			resp.header.Set("Allow", strings.Join(allow, ", "))
		}
		return resp, actWrite
	}
	so := s.spec.ops[route.Operation]
	rec.Operation = so.op
	s.mu.Lock()
	if so.op != "" {
		s.stats.ByOperation[so.op]++
	}
	s.mu.Unlock()

	// Authentication.
	token, ok := s.authenticate(r)
	if !ok {
		return errorResponse(http.StatusUnauthorized, cid, hubspot.CategoryInvalidAuth,
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"), actWrite
	}

	// Rate limiting, then fault drawing, under one lock.
	// The time is read under the lock, so the window log stays in arrival
	// order and the rolling window is exact under concurrency.
	rolling := !(s.cfg.honorExemptions && so.exemptRoll)
	s.mu.Lock()
	now := s.cfg.now()
	b := s.buckets[token]
	if b == nil {
		b = &bucket{}
		s.buckets[token] = b
	}
	d := b.take(now, s.cfg.rateMax, s.cfg.rateInterval, s.cfg.dailyLimit, rolling)
	var fault Fault
	var faulted bool
	if !d.limited {
		fault, faulted = s.drawFault(so.op)
	}
	s.mu.Unlock()

	resp := s.handleLimited(w, r, cid, rec, route, params, so, d, fault, faulted)
	act := actWrite
	if faulted {
		rec.Fault = fault.Kind
		switch fault.Kind {
		case FaultResetBeforeApply, FaultResetAfterApply:
			act = actReset
		case FaultTruncateBody:
			act = actTruncate
		}
	}
	s.rateHeaders(resp.header, d)
	return resp, act
}

func (s *Server) rateHeaders(h http.Header, d rateDecision) {
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.cfg.rateMax))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(d.remaining))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.cfg.rateInterval.Milliseconds(), 10))
	if s.cfg.dailyLimit > 0 {
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(s.cfg.dailyLimit))
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(d.dailyLeft))
	}
}

func (s *Server) handleLimited(w http.ResponseWriter, r *http.Request, cid string, rec *RequestRecord, route routeT, params map[string]string, so specOp, d rateDecision, fault Fault, faulted bool) *response {
	if d.limited {
		msg := "You have reached your ten_secondly_rolling limit."
		if d.policy == "DAILY" {
			msg = "You have reached your daily limit."
		}
		resp := jsonResponse(http.StatusTooManyRequests, errorBody{
			Status: "error", Message: msg, ErrorType: hubspot.CategoryRateLimit, CorrelationID: cid, PolicyName: d.policy,
		})
		if s.cfg.retryAfter {
			resp.header.Set("Retry-After", strconv.Itoa(retryAfterSeconds(d.retryAfter)))
		}
		return resp
	}
	if faulted && fault.Delay > 0 {
		t := time.NewTimer(fault.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		case <-s.done:
			t.Stop()
		}
		s.renewDeadlines(w, r)
	}
	if faulted {
		switch fault.Kind {
		case FaultStatus:
			return faultStatusResponse(fault.Status, cid)
		case FaultResetBeforeApply:
			return emptyResponse(0)
		}
	}

	// Body: read with a size cap, within the budget of bodies in flight.
	body, release, err := s.readBody(r)
	defer release()
	if err != nil {
		return s.bodyReadError(err, cid)
	}
	if len(body) > maxLoggedBody {
		rec.Body = append([]byte(nil), body[:maxLoggedBody]...)
	} else {
		rec.Body = append([]byte(nil), body...)
	}

	// An oversized batch is refused first, with one error, as HubSpot
	// does: validating every input of a large body costs far more than
	// the body.
	if so.batch {
		if n, ok := countInputs(body); ok {
			if tooMany := s.checkBatchSize(n, cid); tooMany != nil {
				return tooMany
			}
		}
	}

	// Validation decodes the body into far more memory than its size: it
	// runs for a few requests at a time (they would share the CPUs anyway).
	if busy := s.acquireWork(r, cid); busy != nil {
		return busy
	}
	defer s.releaseWork()

	// Validation against the document.
	vr := r.Clone(r.Context())
	specPath, _ := s.spec.rewritePath(strings.TrimPrefix(r.URL.Path, s.cfg.basePath))
	vr.URL.Path, vr.URL.RawPath = specPath, ""
	vr.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) == 0 {
		vr.Body = http.NoBody
	}
	vr.ContentLength = int64(len(body))
	in := &openapi3filter.RequestValidationInput{
		Request:    vr,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		details := capDetails(validationDetails(err))
		return errorResponse(http.StatusBadRequest, cid, hubspot.CategoryValidation,
			"Invalid input: "+details[0].Message, details...)
	}
	if so.op == "" {
		return errorResponse(http.StatusNotImplemented, cid, hubspot.CategoryInternal,
			fmt.Sprintf("Operation %s is not implemented by hubspottest", so.operationID))
	}
	if resp := s.checkLabelWrite(so.op, body, cid); resp != nil {
		return resp
	}
	return s.apply(so, specPath, body, cid)
}

func faultStatusResponse(status int, cid string) *response {
	if status == 0 {
		status = http.StatusInternalServerError
	}
	switch status {
	case http.StatusBadGateway:
		return errorResponse(status, cid, hubspot.CategoryInternal, "Bad Gateway: the upstream service did not answer properly.")
	case http.StatusServiceUnavailable:
		resp := errorResponse(status, cid, "SERVICE_UNAVAILABLE", "Service Unavailable: please try again later.")
		return resp
	case http.StatusGatewayTimeout:
		return errorResponse(status, cid, hubspot.CategoryInternal, "Gateway Timeout: the upstream service timed out.")
	default:
		return errorResponse(status, cid, hubspot.CategoryInternal, "internal error")
	}
}

// authenticate returns the matching configured token.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	for _, t := range s.tokens {
		if subtle.ConstantTimeCompare(t, []byte(tok)) == 1 {
			return string(t), true
		}
	}
	return "", false
}

// allowedMethods lists the methods the document declares for the path of r.
func (s *Server) allowedMethods(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		c := r.Clone(r.Context())
		c.Method = m
		if _, _, err := s.spec.router.FindRoute(c); err == nil {
			out = append(out, m)
		}
	}
	return out
}

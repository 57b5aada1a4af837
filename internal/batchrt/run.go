package batchrt

// Scheduling and state of a batch run: the engine, its dispatcher, the
// outcome of every input and the counters.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkit/hubspot-associations/hubspot"
)

type outcomeKind uint8

const (
	pending outcomeKind = iota
	succeeded
	failed
	notAttempted
)

type outcome[Out any] struct {
	kind outcomeKind
	out  Out
	err  error
}

// task is one chunk to send: the indexes of its inputs, how often they
// have been sent before, and how many requests (attempts of the Transport)
// those sends made: the count every input draws from.
type task struct {
	idxs []int
	sent int
	used int
}

type engine[In, Out any] struct {
	rt     *Runtime // rt.sink is the run's counters
	cfg    config
	spec   BatchSpec[In, Out]
	inputs []In
	keys   []string
	// baseline holds the keys that existed before the run; nil when unknown.
	baseline map[string]bool

	mu                 sync.Mutex
	state              []outcome[Out]
	nSucc, nFail, nNot int
	fatal              error
	firstFailure       error
	// maybeApplied marks inputs whose last send may have reached HubSpot
	// with no read-back since; their failures wrap hubspot.ErrOutcomeUnknown.
	maybeApplied []atomic.Bool

	// The counters of Result: the exchanges of the run's requests (chunks
	// and read-backs, summed by rt) and the engine's resends.
	counts  counters
	resends atomic.Int64
}

func (e *engine[In, Out]) run(ctx context.Context) (*hubspot.Result[In, Out], error) {
	n := len(e.inputs)
	e.state = make([]outcome[Out], n)
	e.maybeApplied = make([]atomic.Bool, n)
	if n == 0 {
		return &hubspot.Result[In, Out]{}, nil
	}
	e.rt = e.rt.counting(&e.counts)
	if err := e.checkSpec(); err != nil {
		return e.finish(err)
	}
	if verr := e.validate(); verr != nil {
		for i := range e.state {
			e.state[i] = outcome[Out]{kind: notAttempted, err: verr}
		}
		e.nNot = n
		res, _ := e.finish(nil)
		return res, verr
	}
	g := newGate(e.cfg.concurrency, e.rt.link.Pace)
	if !e.spec.Idempotent && e.spec.ReadBack != nil && e.spec.AppendResultKey != nil && !e.cfg.noBaseline && ctx.Err() == nil {
		e.readBaseline(ctx)
	}
	var tasks []task
	for start := 0; start < n; start += e.cfg.chunkSize {
		end := min(start+e.cfg.chunkSize, n)
		idxs := make([]int, 0, end-start)
		for i := start; i < end; i++ {
			idxs = append(idxs, i)
		}
		tasks = append(tasks, task{idxs: idxs})
	}
	e.dispatch(ctx, g, tasks)
	cause := e.settle(ctx)
	e.report()
	return e.finish(cause)
}

// dispatch runs tasks, at most g.limit() at once, each in its own
// goroutine; a task's follow-ups (split halves, resends) go to the front of
// the queue. Progress is reported here, after every task (and serialized
// with the other runs of the Runtime). Once the run stops (fatal error, context ended) nothing
// new starts; what is still queued stays pending.
func (e *engine[In, Out]) dispatch(ctx context.Context, g *gate, queue []task) {
	done := make(chan []task)
	inFlight := 0
	for {
		for len(queue) > 0 && inFlight < g.limit() && !e.stopped(ctx) {
			t := queue[0]
			queue = queue[1:]
			inFlight++
			go func() { done <- e.step(ctx, t) }()
		}
		if inFlight == 0 {
			return
		}
		next := <-done
		inFlight--
		queue = append(next, queue...)
		e.report()
	}
}

// settle gives every input still pending its final state: failed with
// hubspot.ErrOutcomeUnknown when it was sent and its outcome never settled, else
// NotAttempted. It returns the run's error cause.
func (e *engine[In, Out]) settle(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var reason error
	switch {
	case e.fatal != nil:
		reason = fmt.Errorf("%w: the run stopped: %w", hubspot.ErrNotAttempted, e.fatal)
	case ctx.Err() != nil:
		reason = fmt.Errorf("%w: %w", hubspot.ErrNotAttempted, ctx.Err())
	default:
		reason = hubspot.ErrNotAttempted
	}
	for i := range e.state {
		if e.state[i].kind != pending {
			continue
		}
		if e.maybeApplied[i].Load() {
			e.state[i] = outcome[Out]{kind: failed, err: decide(http.MethodPost, true, reason)}
			e.nFail++
			continue
		}
		e.state[i] = outcome[Out]{kind: notAttempted, err: reason}
		e.nNot++
	}
	switch {
	case e.fatal != nil:
		return e.fatal
	case ctx.Err() != nil && e.nSucc != len(e.inputs):
		return ctx.Err()
	}
	return e.firstFailure
}

func (e *engine[In, Out]) checkSpec() error {
	switch {
	case e.spec.Send == nil:
		return fmt.Errorf("hubspot: %s: BatchSpec.Send is nil", e.spec.Operation)
	case e.spec.AppendInputKey == nil:
		return fmt.Errorf("hubspot: %s: BatchSpec.AppendInputKey is nil", e.spec.Operation)
	}
	return nil
}

func (e *engine[In, Out]) validate() *hubspot.ValidationError {
	e.keys = e.inputKeys()
	seen := make(map[string]int, len(e.inputs))
	var probs []hubspot.InputProblem
	for i, in := range e.inputs {
		var p []string
		if e.spec.Validate != nil {
			p = append(p, e.spec.Validate(in)...)
		}
		k := e.keys[i]
		if first, ok := seen[k]; ok {
			p = append(p, fmt.Sprintf("duplicate key %q (same as #%d)", k, first))
		} else {
			seen[k] = i
		}
		if len(p) > 0 {
			probs = append(probs, hubspot.InputProblem{Index: i, Key: k, Problems: p})
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &hubspot.ValidationError{Operation: e.spec.Operation, Problems: probs}
}

// inputKeys renders every input's key; they share one string (one
// allocation, not one per input).
func (e *engine[In, Out]) inputKeys() []string {
	keys := make([]string, len(e.inputs))
	ends := make([]int, len(e.inputs))
	// Size the buffer from the first key (keys of one operation are about
	// the same length).
	first := e.spec.AppendInputKey(nil, e.inputs[0])
	buf := make([]byte, 0, (len(first)+4)*len(e.inputs))
	for i, in := range e.inputs {
		buf = e.spec.AppendInputKey(buf, in)
		ends[i] = len(buf)
	}
	all := string(buf)
	start := 0
	for i, end := range ends {
		keys[i] = all[start:end]
		start = end
	}
	return keys
}

func (e *engine[In, Out]) finish(cause error) (*hubspot.Result[In, Out], error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	res := &hubspot.Result[In, Out]{
		Requests:    int(e.counts.requests.Load()),
		Retries:     int(e.counts.retries.Load()),
		Resends:     int(e.resends.Load()),
		RateLimited: int(e.counts.rateLimited.Load()),
		Waited:      time.Duration(e.counts.waited.Load()),
	}
	res.Succeeded = make([]hubspot.Succeeded[In, Out], 0, e.nSucc)
	for i, st := range e.state {
		switch st.kind {
		case succeeded:
			res.Succeeded = append(res.Succeeded, hubspot.Succeeded[In, Out]{Index: i, Input: e.inputs[i], Result: st.out})
		case failed:
			res.Failed = append(res.Failed, hubspot.Failed[In]{Index: i, Input: e.inputs[i], Err: st.err})
		default:
			r := st.err
			if r == nil {
				r = cause
			}
			res.NotAttempted = append(res.NotAttempted, hubspot.NotAttempted[In]{Index: i, Input: e.inputs[i], Reason: r})
		}
	}
	if len(res.Succeeded) == len(e.inputs) {
		return res, nil
	}
	if cause == nil {
		cause = hubspot.ErrNotAttempted
	}
	return res, &hubspot.BatchError{Operation: e.spec.Operation, Total: len(e.inputs),
		Succeeded: len(res.Succeeded), Failed: len(res.Failed), NotAttempted: len(res.NotAttempted), Err: cause}
}

// stopped reports whether no new chunk may start: the context ended or a
// fatal error stopped the run.
func (e *engine[In, Out]) stopped(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fatal != nil
}

func (e *engine[In, Out]) setFatal(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fatal == nil {
		e.fatal = err
	}
}

func (e *engine[In, Out]) succeed(idx int, out Out) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state[idx].kind != pending {
		return
	}
	e.state[idx] = outcome[Out]{kind: succeeded, out: out}
	e.nSucc++
}

func (e *engine[In, Out]) succeedAll(idxs []int) {
	var zero Out
	for _, i := range idxs {
		e.succeed(i, zero)
	}
}

// fail records the failure of input idx; when its request may have been
// applied, err is wrapped in hubspot.ErrOutcomeUnknown.
func (e *engine[In, Out]) fail(idx int, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state[idx].kind != pending {
		return
	}
	err = decide(http.MethodPost, e.maybeApplied[idx].Load(), err) // batch operations are POSTs
	e.state[idx] = outcome[Out]{kind: failed, err: err}
	e.nFail++
	if e.firstFailure == nil {
		e.firstFailure = err
	}
}

func (e *engine[In, Out]) failAll(idxs []int, err error) {
	for _, i := range idxs {
		e.fail(i, err)
	}
}

// markMaybeApplied records that the inputs idxs may have been applied.
func (e *engine[In, Out]) markMaybeApplied(idxs []int) {
	for _, i := range idxs {
		e.maybeApplied[i].Store(true)
	}
}

// report calls the WithProgress callback, serialized with every other
// batch call of the Runtime (one Schema).
func (e *engine[In, Out]) report() {
	if e.cfg.progress == nil {
		return
	}
	e.mu.Lock()
	p := hubspot.Progress{
		Operation: e.spec.Operation,
		Total:     len(e.inputs), Succeeded: e.nSucc, Failed: e.nFail, NotAttempted: e.nNot,
		Done:        e.nSucc + e.nFail + e.nNot,
		Requests:    int(e.counts.requests.Load()),
		Retries:     int(e.counts.retries.Load()),
		Resends:     int(e.resends.Load()),
		RateLimited: int(e.counts.rateLimited.Load()),
		Waited:      time.Duration(e.counts.waited.Load()),
	}
	e.mu.Unlock()
	e.rt.progress.Lock()
	defer e.rt.progress.Unlock()
	e.cfg.progress(p)
}

func (e *engine[In, Out]) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if e.cfg.logger == nil {
		return
	}
	attrs = append([]slog.Attr{slog.String("operation", e.spec.Operation)}, attrs...)
	e.cfg.logger.LogAttrs(ctx, level, msg, attrs...)
}

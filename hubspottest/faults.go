package hubspottest

import (
	"errors"
	"fmt"
	"time"
)

// FaultKind says what an injected fault does.
type FaultKind string

// Fault kinds.
const (
	// FaultPass injects nothing; in a Script it lets one request through.
	FaultPass FaultKind = "pass"
	// FaultStatus answers with Fault.Status (500, 502, 503 or 504; default
	// 500) and a HubSpot-shaped body, without applying the change.
	FaultStatus FaultKind = "status"
	// FaultResetBeforeApply closes the connection (TCP reset) before the
	// request is processed: the change is not applied.
	FaultResetBeforeApply FaultKind = "reset-before-apply"
	// FaultResetAfterApply processes the request (the change is applied)
	// and then closes the connection without answering.
	FaultResetAfterApply FaultKind = "reset-after-apply"
	// FaultTruncateBody processes the request and sends the status line,
	// the headers (with the full Content-Length) and only half of the body
	// before closing the connection.
	FaultTruncateBody FaultKind = "truncate-body"
	// FaultLatency only adds Fault.Delay; the request is then served
	// normally.
	FaultLatency FaultKind = "latency"
)

// Fault is one injected failure. Delay is added before the request is
// processed whatever the kind.
type Fault struct {
	Kind   FaultKind
	Status int
	Delay  time.Duration
	// Op restricts a scripted fault to requests for one operation; other
	// requests pass it by without consuming it. Empty matches any operation.
	Op Operation
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultPass, FaultResetBeforeApply, FaultResetAfterApply, FaultTruncateBody:
	case FaultLatency:
		if f.Delay <= 0 {
			return errors.New("latency fault needs a positive Delay")
		}
	case FaultStatus:
		switch f.Status {
		case 0, 500, 502, 503, 504:
		default:
			return fmt.Errorf("status fault: Status must be 500, 502, 503 or 504, got %d", f.Status)
		}
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Delay < 0 {
		return errors.New("negative Delay")
	}
	if f.Op != "" && successPreference[f.Op] == nil {
		return fmt.Errorf("unknown operation %q", f.Op)
	}
	return nil
}

// FaultPolicy injects faults at random: each authenticated, routed request
// gets a fault with the given Probability, chosen uniformly from Choices
// (default: 500, 502, 503, 504, reset before and after apply, truncated
// body). Seed seeds the *rand.Rand the draws come from.
type FaultPolicy struct {
	Seed        int64
	Probability float64
	Choices     []Fault
}

// DefaultFaultChoices are the faults a FaultPolicy without Choices draws
// from.
var DefaultFaultChoices = []Fault{
	{Kind: FaultStatus, Status: 500},
	{Kind: FaultStatus, Status: 502},
	{Kind: FaultStatus, Status: 503},
	{Kind: FaultStatus, Status: 504},
	{Kind: FaultResetBeforeApply},
	{Kind: FaultResetAfterApply},
	{Kind: FaultTruncateBody},
}

func (p *FaultPolicy) validate() error {
	if p.Probability < 0 || p.Probability > 1 {
		return fmt.Errorf("probability must be within [0, 1], got %v", p.Probability)
	}
	if len(p.Choices) == 0 {
		p.Choices = DefaultFaultChoices
	}
	for _, f := range p.Choices {
		if err := f.validate(); err != nil {
			return err
		}
	}
	return nil
}

// Script queues faults that the next matching requests consume in order.
// A fault with Op set is consumed only by a request for that operation;
// requests for other operations pass while it is at the head of the queue.
// Scripted faults take precedence over random ones. Script returns an error
// for an invalid fault and queues nothing then.
func (s *Server) Script(faults ...Fault) error {
	for _, f := range faults {
		if err := f.validate(); err != nil {
			return fmt.Errorf("Script: %w", err)
		}
	}
	s.mu.Lock()
	s.script = append(s.script, faults...)
	s.mu.Unlock()
	return nil
}

// PendingFaults returns how many scripted faults have not been consumed.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script)
}

// ClearScript drops the scripted faults not yet consumed.
func (s *Server) ClearScript() {
	s.mu.Lock()
	s.script = nil
	s.mu.Unlock()
}

// drawFault picks the fault for a request for op. Callers hold s.mu.
func (s *Server) drawFault(op Operation) (Fault, bool) {
	if len(s.script) > 0 {
		f := s.script[0]
		if f.Op == "" || f.Op == op {
			s.script = s.script[1:]
			if len(s.script) == 0 {
				s.script = nil
			}
			return f, f.Kind != FaultPass
		}
	}
	if s.random != nil && s.random.Probability > 0 {
		if s.rng.Float64() < s.random.Probability {
			var candidates []Fault
			for _, f := range s.random.Choices {
				if f.Op == "" || f.Op == op {
					candidates = append(candidates, f)
				}
			}
			if len(candidates) > 0 {
				f := candidates[s.rng.Intn(len(candidates))]
				return f, f.Kind != FaultPass
			}
		}
	}
	return Fault{}, false
}

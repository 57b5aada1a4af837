package batchrt

// Decoding batch answers and matching their results and errors to inputs.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/crmkit/hubspot-associations/hubspot"
)

// batchBody is HubSpot's batch answer: BatchResponse... and its
// ...WithErrors form (207).
type batchBody[Out any] struct {
	Status    string            `json:"status"`
	Results   []Out             `json:"results"`
	Errors    []json.RawMessage `json:"errors"`
	NumErrors int               `json:"numErrors"`
}

// decodeBody decodes a 2xx batch answer, at most MaxResponseBodyBytes of it
// (a larger one is a *ResponseTooLargeError).
// An empty body is io.EOF, unwrapped.
func (e *engine[In, Out]) decodeBody(resp *http.Response) (*batchBody[Out], error) {
	var body batchBody[Out]
	e.rt.limit(resp)
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		if err == io.EOF {
			return nil, err
		}
		return nil, fmt.Errorf("hubspot: %s: decoding %d response: %w", e.spec.Operation, resp.StatusCode, err)
	}
	return &body, nil
}

// match settles the inputs idxs that body names: a result (matched by
// ResultKey == InputKey) succeeds its input, an error fails the inputs it
// is about (see matchError; a result wins). It returns the inputs left
// unsettled and the errors that matched no input.
func (e *engine[In, Out]) match(ctx context.Context, idxs []int, body *batchBody[Out], status int) (rest []int, unmatched []error) {
	pendingByKey := make(map[string]int, len(idxs))
	for _, i := range idxs {
		pendingByKey[e.keys[i]] = i
	}
	resolved := make(map[int]bool, len(idxs))
	if e.spec.AppendResultKey != nil {
		var buf []byte
		for _, r := range body.Results {
			buf = e.spec.AppendResultKey(buf[:0], r)
			i, ok := pendingByKey[string(buf)]
			if ok && !resolved[i] {
				e.succeed(i, r)
				resolved[i] = true
			}
		}
	}
	for _, raw := range body.Errors {
		apiErr := decodeStandardError(raw, status)
		targets := e.matchError(apiErr, idxs, resolved)
		if len(targets) == 0 {
			unmatched = append(unmatched, apiErr)
			continue
		}
		for _, i := range targets {
			e.fail(i, apiErr)
			resolved[i] = true
		}
	}
	if len(unmatched) > 0 {
		e.log(ctx, slog.LevelWarn, "hubspot: batch errors matched no input",
			slog.Int("count", len(unmatched)), slog.String("first", unmatched[0].Error()))
	}
	for _, i := range idxs {
		if !resolved[i] {
			rest = append(rest, i)
		}
	}
	return rest, unmatched
}

// decodeStandardError decodes one entry of a batch answer's errors as
// ParseError decodes an error answer; its own status, when a valid HTTP
// status, is the error's.
func decodeStandardError(raw json.RawMessage, httpStatus int) *hubspot.APIError {
	var head struct {
		Status  json.RawMessage `json:"status"`
		Message json.RawMessage `json:"message"`
	}
	code := httpStatus
	if json.Unmarshal(raw, &head) == nil {
		s := strings.Trim(string(head.Status), `"`)
		if n, err := strconv.Atoi(s); err == nil && n >= 100 && n < 600 {
			code = n
		}
	}
	// ParseError reads error answers (400 and up); the entry is one whatever
	// the status of the answer it came in.
	err := hubspot.ParseError(&http.Response{StatusCode: max(code, http.StatusBadRequest), Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(raw))})
	var e *hubspot.APIError
	if !errors.As(err, &e) {
		return &hubspot.APIError{StatusCode: code, Message: "batch input error"}
	}
	e.StatusCode = code
	if m := strings.Trim(string(head.Message), `"`); raw[0] == '{' && (m == "" || m == "null") {
		e.Message = "batch input error"
	}
	return e
}

// matchError returns the unresolved inputs of idxs that apiErr is about:
// those whose every KeyFields entry appears in the error's context (names
// case-insensitive; the detail errors' contexts merged in); failing that,
// those whose key, or all of whose key field values, appear among the
// context's values.
func (e *engine[In, Out]) matchError(apiErr *hubspot.APIError, idxs []int, resolved map[int]bool) []int {
	ctxVals := map[string]map[string]bool{} // lower-cased name -> values
	allVals := map[string]bool{}
	add := func(c hubspot.ErrorContext) {
		for k, vs := range c {
			lk := strings.ToLower(k)
			if ctxVals[lk] == nil {
				ctxVals[lk] = map[string]bool{}
			}
			for _, v := range vs {
				v = strings.TrimSpace(v)
				ctxVals[lk][v] = true
				allVals[v] = true
			}
		}
	}
	add(apiErr.Context)
	for _, d := range apiErr.Errors {
		add(d.Context)
	}
	if len(allVals) == 0 {
		return nil
	}
	var out []int
	if e.spec.KeyFields != nil {
		for _, i := range idxs {
			if resolved[i] {
				continue
			}
			fields := e.spec.KeyFields(e.inputs[i])
			if len(fields) == 0 {
				continue
			}
			ok := true
			for name, val := range fields {
				if !ctxVals[strings.ToLower(name)][val] {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, i)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, i := range idxs {
		if resolved[i] {
			continue
		}
		if allVals[e.keys[i]] {
			out = append(out, i)
			continue
		}
		if e.spec.KeyFields != nil {
			fields := e.spec.KeyFields(e.inputs[i])
			ok := len(fields) > 0
			for _, val := range fields {
				if !allVals[val] {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, i)
			}
		}
	}
	return out
}

var tooLargePhrases = []string{"too many", "exceed", "maximum", "at most", "batch size"}

// tooLarge reports whether a 400 says the batch had too many inputs.
func tooLarge(err error) bool {
	var ae *hubspot.APIError
	if !errors.As(err, &ae) {
		return false
	}
	texts := []string{ae.Message}
	for _, d := range ae.Errors {
		texts = append(texts, d.Message)
	}
	for _, t := range texts {
		t = strings.ToLower(t)
		for _, p := range tooLargePhrases {
			if strings.Contains(t, p) {
				return true
			}
		}
	}
	return false
}

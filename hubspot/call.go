package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Decode turns the answer to one request made with the raw generated
// client into a value or an error, so that a call reads
//
//	label, err := hubspot.Decode[T](client.CreateLabel(ctx, from, to, body))
//
// A 2xx answer is decoded into a T (nil for an empty body, as a 204 has);
// any other is the *APIError or *RateLimitError of ParseError. The body is
// read (at most MaxResponseBodyBytes) and closed. When the request was not
// idempotent (a POST, see WithIdempotent) and may have been applied without
// its outcome being known (a transport error after sending, a 5xx, a 2xx
// answer cut off), the error also satisfies errors.Is(err,
// ErrOutcomeUnknown).
func Decode[T any](resp *http.Response, err error) (*T, error) {
	body, err := read(resp, err)
	if err != nil || len(body) == 0 {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(body, v); err != nil {
		return nil, unknownIfApplied(resp.Request, fmt.Errorf("hubspot: decoding %s: %w", describe(resp.Request), err))
	}
	return v, nil
}

// Check is Decode for operations that answer without a body: nil for a 2xx,
// else the error.
func Check(resp *http.Response, err error) error {
	_, err = read(resp, err)
	return err
}

// read returns the body of a 2xx answer, or the error of any other outcome.
func read(resp *http.Response, err error) ([]byte, error) {
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		// The Transport says whether the request may have been sent.
		var re *RequestError
		if errors.As(err, &re) && re.MaybeSent && !isIdempotentMethod(re.Method) {
			return nil, outcomeUnknown(err)
		}
		return nil, err
	}
	if resp == nil {
		return nil, errors.New("hubspot: no response and no error")
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		perr := ParseError(resp)
		if resp.StatusCode >= 500 {
			return nil, unknownIfApplied(resp.Request, perr)
		}
		return nil, perr
	}
	body, err := readBody(resp)
	if err != nil {
		return nil, unknownIfApplied(resp.Request, err)
	}
	return body, nil
}

// readBody reads the body of a 2xx answer, at most MaxResponseBodyBytes of
// it (a larger one is a *ResponseTooLargeError).
func readBody(resp *http.Response) ([]byte, error) {
	method, path := http.MethodGet, ""
	if resp.Request != nil {
		method, path = resp.Request.Method, resp.Request.URL.Path
	}
	limitBody(resp, method, path, MaxResponseBodyBytes)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("hubspot: reading %s: %w", describe(resp.Request), err)
	}
	return body, nil
}

// unknownIfApplied wraps err in ErrOutcomeUnknown when req was not idempotent: the
// server may have acted on it.
func unknownIfApplied(req *http.Request, err error) error {
	if req == nil || isIdempotent(req) {
		return err
	}
	return outcomeUnknown(err)
}

func describe(req *http.Request) string {
	if req == nil {
		return "the answer"
	}
	return req.Method + " " + req.URL.Path
}

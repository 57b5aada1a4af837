package hubspot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxErrorBodyBytes is the largest error body ParseError reads. Anything
// beyond it is ignored.
const maxErrorBodyBytes = 1 << 20

// PolicyDaily is the policyName of a 429 for HubSpot's daily limit
// (RateLimitError.Daily); the per-second windows are TEN_SECONDLY_ROLLING
// and SECONDLY.
const PolicyDaily = "DAILY"

// The per-second policy names (tests and the header fallback use them).
const (
	policyTenSecondlyRolling = "TEN_SECONDLY_ROLLING"
	policySecondly           = "SECONDLY"
)

// ErrorContext is HubSpot's error "context": names mapped to lists of values,
// for example {"typeId": ["5"], "category": ["USER_DEFINED"]}.
//
// Its UnmarshalJSON never fails. It accepts
//   - a JSON object whose values are arrays of strings, plain strings,
//     numbers, booleans or null (non-strings are rendered as JSON text);
//   - HubSpot's documented Java-style string form
//     "{invalidPropertyName=[propertyValue], missingScopes=[scope1, scope2]}";
//   - null (an empty context).
//
// Anything else (including a string that is not in the Java form) is kept
// verbatim under the empty key "".
type ErrorContext map[string][]string

// UnmarshalJSON implements json.Unmarshaler; see ErrorContext for the forms
// it accepts. It never returns an error.
func (c *ErrorContext) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*c = nil
		return nil
	}
	switch b[0] {
	case '{':
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			*c = ErrorContext{"": {string(b)}}
			return nil
		}
		out := make(ErrorContext, len(raw))
		for k, v := range raw {
			out[k] = contextValues(v)
		}
		*c = out
		return nil
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			*c = ErrorContext{"": {string(b)}}
			return nil
		}
		*c = parseJavaStyleContext(s)
		return nil
	default:
		*c = ErrorContext{"": contextValues(b)}
		return nil
	}
}

// contextValues renders one context value as a list of strings.
func contextValues(v json.RawMessage) []string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		return nil
	}
	switch v[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return []string{string(v)}
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			out = append(out, scalarString(it))
		}
		return out
	default:
		return []string{scalarString(v)}
	}
}

func scalarString(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err == nil {
		return buf.String()
	}
	return string(v)
}

// parseJavaStyleContext parses HubSpot's Java-style context string, for
// example "{invalidPropertyName=[propertyValue], missingScopes=[scope1, scope2]}".
// Values that are not bracketed are taken as a single value. If the string
// cannot be parsed it is returned verbatim under the key "".
func parseJavaStyleContext(s string) ErrorContext {
	t := strings.TrimSpace(s)
	if t == "" || t == "{}" {
		return ErrorContext{}
	}
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return ErrorContext{"": {s}}
	}
	t = t[1 : len(t)-1]
	out := ErrorContext{}
	for {
		t = strings.TrimLeft(t, " ")
		if t == "" {
			return out
		}
		eq := strings.IndexByte(t, '=')
		if eq <= 0 {
			return ErrorContext{"": {s}}
		}
		key := strings.TrimSpace(t[:eq])
		t = t[eq+1:]
		var vals []string
		if strings.HasPrefix(t, "[") {
			end := strings.IndexByte(t, ']')
			if end < 0 {
				return ErrorContext{"": {s}}
			}
			inner := t[1:end]
			if strings.TrimSpace(inner) != "" {
				for _, p := range strings.Split(inner, ",") {
					vals = append(vals, strings.TrimSpace(p))
				}
			} else {
				vals = []string{}
			}
			t = t[end+1:]
			t = strings.TrimLeft(t, " ")
			if t != "" {
				if t[0] != ',' {
					return ErrorContext{"": {s}}
				}
				t = t[1:]
			}
		} else {
			end := strings.Index(t, ", ")
			if end < 0 {
				end = len(t)
			}
			vals = []string{strings.TrimSpace(t[:end])}
			t = t[end:]
			t = strings.TrimPrefix(t, ",")
		}
		if prev, ok := out[key]; ok {
			out[key] = append(prev, vals...)
		} else {
			out[key] = vals
		}
	}
}

// ErrorDetail is one entry of HubSpot's "errors" array.
type ErrorDetail struct {
	Message     string       `json:"message"`
	In          string       `json:"in,omitzero"`
	Code        string       `json:"code,omitzero"`
	SubCategory string       `json:"subCategory,omitzero"`
	Context     ErrorContext `json:"context,omitzero"`
}

// UnmarshalJSON implements json.Unmarshaler, tolerating a subCategory that
// is an object rather than a string.
func (d *ErrorDetail) UnmarshalJSON(b []byte) error {
	var w struct {
		Message     flexString   `json:"message"`
		In          flexString   `json:"in"`
		Code        flexString   `json:"code"`
		SubCategory flexString   `json:"subCategory"`
		Context     ErrorContext `json:"context"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = ErrorDetail{Message: string(w.Message), In: string(w.In), Code: string(w.Code),
		SubCategory: string(w.SubCategory), Context: w.Context}
	return nil
}

// flexString decodes a JSON string as itself and any other JSON value as its
// compact JSON text. It never fails.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	*f = flexString(scalarString(b))
	return nil
}

// APIError is an error response from HubSpot (HubSpot's "Error" /
// "StandardError" schema) together with the HTTP status.
type APIError struct {
	StatusCode    int               // HTTP status code, e.g. 400
	Status        string            // HTTP status line text or HubSpot's "status" field
	Category      ErrorCategory     // e.g. CategoryValidation, CategoryRateLimit
	SubCategory   string            // a string, or the compact JSON of an object subCategory
	Message       string            // human readable message
	CorrelationID string            // HubSpot's correlationId, quote it to HubSpot support
	Context       ErrorContext      // e.g. {"typeId": ["5"]}
	Links         map[string]string // documentation links
	Errors        []ErrorDetail     // detailed errors
}

// Error implements error. The result is a single line with the status code,
// category, message and correlation id.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("hubspot: ")
	if e.StatusCode != 0 {
		b.WriteString(strconv.Itoa(e.StatusCode))
	} else {
		b.WriteString("error")
	}
	if e.Category != "" {
		b.WriteString(" ")
		b.WriteString(oneLine(string(e.Category)))
	}
	e.writeMessage(&b)
	return b.String()
}

// writeMessage appends ": message (correlation id ...)", the parts present.
func (e *APIError) writeMessage(b *strings.Builder) {
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(oneLine(e.Message))
	}
	if e.CorrelationID != "" {
		b.WriteString(" (correlation id ")
		b.WriteString(oneLine(e.CorrelationID))
		b.WriteString(")")
	}
}

// oneLine folds whitespace runs containing line breaks into single spaces and
// truncates very long text.
func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n\t") {
		s = strings.Join(strings.Fields(s), " ")
	}
	const max = 512
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// RateLimitError is a 429 response. Policy is HubSpot's policyName
// (TEN_SECONDLY_ROLLING, SECONDLY or DAILY); Wait is the delay suggested by
// Retry-After, zero when the server gave none.
type RateLimitError struct {
	Policy string
	Wait   time.Duration
	*APIError
}

// Error implements error.
func (e *RateLimitError) Error() string {
	var b strings.Builder
	b.WriteString("hubspot: rate limited")
	if e.Policy != "" {
		b.WriteString(" (policy ")
		b.WriteString(oneLine(e.Policy))
		b.WriteString(")")
	}
	if e.Wait > 0 {
		b.WriteString(", retry after ")
		b.WriteString(e.Wait.String())
	}
	if e.APIError != nil {
		e.APIError.writeMessage(&b)
	}
	return b.String()
}

// Unwrap returns the underlying *APIError, so errors.As finds both types.
func (e *RateLimitError) Unwrap() error {
	if e.APIError == nil {
		return nil
	}
	return e.APIError
}

// Daily reports whether the daily limit was hit; such a 429 is not worth
// retrying until the next day.
func (e *RateLimitError) Daily() bool { return strings.EqualFold(e.Policy, PolicyDaily) }

// ErrorCategory is HubSpot's error category: the "category" of an error
// body (or the "errorType" of a 429's), e.g. VALIDATION_ERROR.
type ErrorCategory string

// Error categories HubSpot answers with (not exhaustive: HubSpot adds new
// ones, and APIError.Category holds whatever it sent).
const (
	CategoryValidation     ErrorCategory = "VALIDATION_ERROR"
	CategoryObjectNotFound ErrorCategory = "OBJECT_NOT_FOUND"
	CategoryInvalidAuth    ErrorCategory = "INVALID_AUTHENTICATION"
	CategoryMissingScopes  ErrorCategory = "MISSING_SCOPES"
	CategoryConflict       ErrorCategory = "CONFLICT"
	CategoryRateLimit      ErrorCategory = "RATE_LIMIT"
	CategoryInternal       ErrorCategory = "INTERNAL_ERROR"
)

// errorBody is the JSON body of HubSpot's error answers: the document's
// Error schema (a single error), StandardError (one input's error inside a
// 207 batch answer) and the body of a 429 (ErrorType, PolicyName). ParseError
// reads it (hubspottest writes the same fields).
//
// Its UnmarshalJSON is lenient: a field that is not a string (HubSpot sends
// objects as subCategory) is kept as its compact JSON text.
type errorBody struct {
	Status        string            `json:"status"`
	Category      ErrorCategory     `json:"category,omitzero"`
	ErrorType     ErrorCategory     `json:"errorType,omitzero"`
	SubCategory   string            `json:"subCategory,omitzero"`
	Message       string            `json:"message"`
	CorrelationID string            `json:"correlationId,omitzero"`
	PolicyName    string            `json:"policyName,omitzero"`
	Context       ErrorContext      `json:"context,omitzero"`
	Links         map[string]string `json:"links,omitzero"`
	Errors        []ErrorDetail     `json:"errors,omitzero"`
}

// UnmarshalJSON implements json.Unmarshaler (see errorBody).
func (b *errorBody) UnmarshalJSON(data []byte) error {
	var w struct {
		Status        flexString        `json:"status"`
		Category      flexString        `json:"category"`
		ErrorType     flexString        `json:"errorType"`
		SubCategory   flexString        `json:"subCategory"`
		Message       flexString        `json:"message"`
		CorrelationID flexString        `json:"correlationId"`
		PolicyName    flexString        `json:"policyName"`
		Context       ErrorContext      `json:"context"`
		Links         map[string]string `json:"links"`
		Errors        []ErrorDetail     `json:"errors"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*b = errorBody{Status: string(w.Status), Category: ErrorCategory(w.Category), ErrorType: ErrorCategory(w.ErrorType),
		SubCategory: string(w.SubCategory), Message: string(w.Message), CorrelationID: string(w.CorrelationID),
		PolicyName: string(w.PolicyName), Context: w.Context, Links: w.Links, Errors: w.Errors}
	return nil
}

func (b *errorBody) apiError(statusCode int, status string) *APIError {
	e := &APIError{
		StatusCode:    statusCode,
		Status:        status,
		Category:      b.Category,
		SubCategory:   b.SubCategory,
		Message:       b.Message,
		CorrelationID: b.CorrelationID,
		Context:       b.Context,
		Links:         b.Links,
		Errors:        b.Errors,
	}
	if e.Category == "" {
		e.Category = b.ErrorType
	}
	if e.Status == "" {
		e.Status = b.Status
	}
	return e
}

// ParseError turns an error response into *APIError, or *RateLimitError for
// a 429. It returns nil for status codes below 400.
//
// It reads at most 1 MiB of the body, closes the original body
// and replaces resp.Body with a reader over the bytes read, so the body can
// be read again. Empty and non-JSON bodies are fine: the message is then the
// (truncated) body text or the HTTP status text.
func ParseError(resp *http.Response) error {
	return parseError(resp, time.Now())
}

// parseError is ParseError with a Retry-After date read relative to now
// (the Transport passes its clock's).
func parseError(resp *http.Response, now time.Time) error {
	if resp == nil {
		return &APIError{Message: "no response"}
	}
	if resp.StatusCode < 400 {
		return nil
	}
	var data []byte
	if resp.Body != nil {
		data, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(data))
	}
	e, policy := parseErrorBytes(resp.StatusCode, resp.Status, data)
	if e.CorrelationID == "" {
		e.CorrelationID = resp.Header.Get("X-HubSpot-Correlation-Id")
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		return e
	}
	if policy == "" {
		policy = resp.Header.Get("X-HubSpot-RateLimit-Policy")
	}
	if policy == "" {
		if strings.Contains(strings.ToLower(e.Message), "daily") ||
			resp.Header.Get("X-HubSpot-RateLimit-Daily-Remaining") == "0" {
			policy = PolicyDaily
		} else if strings.Contains(strings.ToLower(e.Message), "secondly") {
			policy = policyTenSecondlyRolling
		}
	}
	wait, _ := parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return &RateLimitError{Policy: strings.ToUpper(policy), Wait: wait, APIError: e}
}

func parseErrorBytes(statusCode int, status string, data []byte) (*APIError, string) {
	var body errorBody
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &body) == nil {
		e := body.apiError(statusCode, status)
		if e.Message == "" {
			e.Message = http.StatusText(statusCode)
		}
		return e, body.PolicyName
	}
	e := &APIError{StatusCode: statusCode, Status: status}
	if len(trimmed) > 0 {
		e.Message = string(trimmed)
	} else {
		e.Message = http.StatusText(statusCode)
	}
	return e, ""
}

// maxRetryAfterSeconds is the longest delay a time.Duration holds.
const maxRetryAfterSeconds = float64(math.MaxInt64 / int64(time.Second))

// parseRetryAfter parses a Retry-After value, delay seconds or an HTTP date,
// relative to now. ok is false for an absent or invalid value (NaN, a
// negative number, anything else), which callers ignore. Values too large
// for a time.Duration (1e12, 9223372036854775807, Inf) saturate at the
// largest Duration, never wrap to a negative one; a date in the past is 0.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 64 {
		return 0, false
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err == nil || (errors.Is(err, strconv.ErrRange) && secs > 0) {
		switch {
		case math.IsNaN(secs) || secs < 0:
			return 0, false
		case secs >= maxRetryAfterSeconds: // also +Inf
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now) // saturates
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// String renders the context in a stable order, for logs and messages.
func (c ErrorContext) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=[%s]", k, strings.Join(c[k], ", "))
	}
	b.WriteString("}")
	return b.String()
}

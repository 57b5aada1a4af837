package hubspottest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/crmkit/hubspot-associations/hubspot"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// response is a fully buffered response, written out by Server.write.
type response struct {
	status int
	header http.Header
	body   []byte
}

func jsonResponse(status int, v any) *response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json;charset=utf-8")
	return &response{status: status, header: h, body: b}
}

func emptyResponse(status int) *response {
	return &response{status: status, header: http.Header{}}
}

// errorBody is the JSON body of HubSpot's error answers: the document's
// Error schema (a single error), StandardError (one input's error inside a
// 207 batch answer) and the body of a 429 (ErrorType, PolicyName), as
// hubspot.ParseError reads them.
type errorBody struct {
	Status        string                `json:"status"`
	Category      hubspot.ErrorCategory `json:"category,omitzero"`
	ErrorType     hubspot.ErrorCategory `json:"errorType,omitzero"`
	SubCategory   string                `json:"subCategory,omitzero"`
	Message       string                `json:"message"`
	CorrelationID string                `json:"correlationId,omitzero"`
	PolicyName    string                `json:"policyName,omitzero"`
	Context       hubspot.ErrorContext  `json:"context,omitzero"`
	Links         map[string]string     `json:"links,omitzero"`
	Errors        []hubspot.ErrorDetail `json:"errors,omitzero"`
}

// errorResponse is HubSpot's answer with one error (the document's Error
// schema).
func errorResponse(status int, cid string, category hubspot.ErrorCategory, msg string, details ...hubspot.ErrorDetail) *response {
	return jsonResponse(status, errorBody{Status: "error", Message: msg, CorrelationID: cid, Category: category, Errors: details})
}

// perInputError is one input's error inside a 207 batch answer (the
// document's StandardError schema: context, errors and links present).
func perInputError(category hubspot.ErrorCategory, msg, inputCategory string, typeID int32) errorBody {
	return errorBody{
		Status:   "error",
		Category: category,
		Message:  msg,
		Context:  hubspot.ErrorContext{"category": {inputCategory}, "typeId": {fmt.Sprint(typeID)}},
		Errors:   []hubspot.ErrorDetail{},
		Links:    map[string]string{},
	}
}

// validationDetails turns an openapi3filter error into HubSpot error details.
func validationDetails(err error) []hubspot.ErrorDetail {
	var out []hubspot.ErrorDetail
	var walk func(err error, in string)
	walk = func(err error, in string) {
		var me openapi3.MultiError
		if errors.As(err, &me) && len(me) > 0 {
			// errors.As matches the first MultiError in the chain; only
			// descend when err itself is one, to keep the "in" of the wrapper.
			if m, ok := err.(openapi3.MultiError); ok {
				for _, e := range m {
					walk(e, in)
				}
				return
			}
		}
		var re *openapi3filter.RequestError
		if errors.As(err, &re) && re.Err != nil && in == "" {
			in = "body"
			if re.Parameter != nil {
				in = re.Parameter.In
			}
			if m, ok := re.Err.(openapi3.MultiError); ok {
				for _, e := range m {
					walk(e, in)
				}
				return
			}
			if re.Parameter != nil {
				out = append(out, hubspot.ErrorDetail{In: in, Message: fmt.Sprintf("%s: %s", re.Parameter.Name, shortReason(re.Err)), Code: "INVALID_PARAMETER"})
				return
			}
			walk(re.Err, in)
			return
		}
		if in == "" {
			in = "body"
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			ptr := strings.Join(se.JSONPointer(), ".")
			msg := se.Reason
			if ptr != "" {
				msg = ptr + ": " + msg
			}
			out = append(out, hubspot.ErrorDetail{In: in, Message: msg, Code: "INVALID_VALUE"})
			return
		}
		if re != nil && re.Err == nil {
			out = append(out, hubspot.ErrorDetail{In: in, Message: re.Reason})
			return
		}
		out = append(out, hubspot.ErrorDetail{In: in, Message: shortReason(err)})
	}
	walk(err, "")
	if len(out) == 0 {
		out = append(out, hubspot.ErrorDetail{In: "body", Message: err.Error()})
	}
	return out
}

func shortReason(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return se.Reason
	}
	s := err.Error()
	if i := strings.Index(s, "\nSchema:"); i >= 0 {
		s = s[:i]
	}
	return s
}

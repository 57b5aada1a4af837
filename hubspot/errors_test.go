package hubspot

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestErrorContext_UnmarshalJSON_forms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want ErrorContext
	}{
		{"object of arrays", `{"typeId":["5"],"category":["USER_DEFINED"]}`,
			ErrorContext{"typeId": {"5"}, "category": {"USER_DEFINED"}}},
		{"object of plain values", `{"typeId":5,"category":"USER_DEFINED","ok":true,"n":null}`,
			ErrorContext{"typeId": {"5"}, "category": {"USER_DEFINED"}, "ok": {"true"}, "n": nil}},
		{"java string", `"{invalidPropertyName=[propertyValue], missingScopes=[scope1, scope2]}"`,
			ErrorContext{"invalidPropertyName": {"propertyValue"}, "missingScopes": {"scope1", "scope2"}}},
		{"java string unbracketed", `"{typeId=5, category=USER_DEFINED}"`,
			ErrorContext{"typeId": {"5"}, "category": {"USER_DEFINED"}}},
		{"java string empty list", `"{ids=[]}"`, ErrorContext{"ids": {}}},
		{"unparseable string", `"oops {"`, ErrorContext{"": {"oops {"}}},
		{"java string broken", `"{a=[x, b=y}"`, ErrorContext{"": {"{a=[x, b=y}"}}},
		{"number", `42`, ErrorContext{"": {"42"}}},
		{"null", `null`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got struct {
				Context ErrorContext `json:"context"`
			}
			if err := json.Unmarshal([]byte(`{"context":`+tc.in+`}`), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got.Context, tc.want) {
				t.Fatalf("got %#v, want %#v", got.Context, tc.want)
			}
		})
	}
}

func response(status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: header,
		Body: io.NopCloser(strings.NewReader(body))}
}

func TestParseError_bodies(t *testing.T) {
	t.Parallel()
	t.Run("standard error with object subCategory", func(t *testing.T) {
		resp := response(400, nil, `{"status":"error","message":"Invalid input\nsecond line","correlationId":"corr-1",
			"category":"VALIDATION_ERROR","subCategory":{"type":"X","code":1},
			"context":"{typeId=[5]}","links":{"docs":"https://x"},
			"errors":[{"message":"bad","in":"typeId","code":"INVALID","subCategory":{"a":1},"context":{"typeId":["5"]}}]}`)
		err := ParseError(resp)
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("ParseError = %T", err)
		}
		if ae.SubCategory != `{"type":"X","code":1}` || ae.Context["typeId"][0] != "5" || ae.Links["docs"] != "https://x" ||
			len(ae.Errors) != 1 || ae.Errors[0].SubCategory != `{"a":1}` || ae.Errors[0].Context["typeId"][0] != "5" {
			t.Fatalf("decoded %#v", ae)
		}
		want := "hubspot: 400 VALIDATION_ERROR: Invalid input second line (correlation id corr-1)"
		if ae.Error() != want {
			t.Fatalf("Error() = %q, want %q", ae.Error(), want)
		}
		// The body stays readable.
		if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "corr-1") {
			t.Fatalf("body not restored: %q", b)
		}
	})
	t.Run("empty body", func(t *testing.T) {
		var ae *APIError
		if err := ParseError(response(502, nil, "")); !errors.As(err, &ae) || ae.Message != "Bad Gateway" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("html body", func(t *testing.T) {
		var ae *APIError
		if err := ParseError(response(503, nil, "<html>down</html>")); !errors.As(err, &ae) || ae.Message != "<html>down</html>" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		h := http.Header{"Retry-After": {"2"}}
		err := ParseError(response(429, h, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c1","policyName":"TEN_SECONDLY_ROLLING"}`))
		var rle *RateLimitError
		if !errors.As(err, &rle) || rle.Policy != policyTenSecondlyRolling || rle.Wait != 2*time.Second || rle.Daily() {
			t.Fatalf("got %#v", err)
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Category != "RATE_LIMIT" || ae.StatusCode != 429 {
			t.Fatalf("APIError via errors.As: %#v", ae)
		}
		if s := err.Error(); strings.Contains(s, "\n") || !strings.Contains(s, "TEN_SECONDLY_ROLLING") || !strings.Contains(s, "c1") {
			t.Fatalf("Error() = %q", s)
		}
	})
	t.Run("daily from message", func(t *testing.T) {
		var rle *RateLimitError
		if err := ParseError(response(429, nil, `{"message":"You have reached your daily limit."}`)); !errors.As(err, &rle) || !rle.Daily() {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("success", func(t *testing.T) {
		if err := ParseError(response(200, nil, "{}")); err != nil {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("oversized body is capped", func(t *testing.T) {
		big := strings.Repeat("x", maxErrorBodyBytes+10)
		resp := response(500, nil, big)
		ParseError(resp)
		if b, _ := io.ReadAll(resp.Body); len(b) != maxErrorBodyBytes {
			t.Fatalf("read %d bytes", len(b))
		}
	})
}

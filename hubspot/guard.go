package hubspot

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/crmkit/hubspot-associations/internal/wire"
)

// MaxResponseBodyBytes is the default cap on a response body, for every
// status: 8 MiB (set another with WithMaxResponseBytes). The largest answer
// of this API is AllConfigurations at HubSpot's documented ceiling (50
// labels per pair over 25 object types, about 30,000 limits of about 156
// bytes: 4.9 MB), which it cannot page; the cap leaves room above that. A
// larger body is an error (*ResponseTooLargeError), never a partial decode.
const MaxResponseBodyBytes = 8 << 20

// maxRedirects is the most same-origin redirects one request follows.
const maxRedirects = 5

// ResponseTooLargeError is the error a response body returns from Read once
// it is known to exceed MaxResponseBodyBytes: at the first Read when the
// Content-Length says so, otherwise after Limit bytes.
type ResponseTooLargeError struct {
	Method, Path string
	StatusCode   int
	Limit        int64
	// ContentLength is the length the server declared, -1 when unknown.
	ContentLength int64
}

// Error implements error.
func (e *ResponseTooLargeError) Error() string {
	declared := ""
	if e.ContentLength > 0 {
		declared = fmt.Sprintf(" (Content-Length %d)", e.ContentLength)
	}
	return fmt.Sprintf("hubspot: %s %s: %d response body is larger than the %d-byte limit%s",
		e.Method, e.Path, e.StatusCode, e.Limit, declared)
}

// limitBody caps resp.Body at limit bytes: reading more is a
// *ResponseTooLargeError, and a declared Content-Length over the limit
// fails the first Read.
func limitBody(resp *http.Response, method, path string, limit int64) {
	wire.LimitBody(resp, limit, &ResponseTooLargeError{
		Method: method, Path: path, StatusCode: resp.StatusCode, Limit: limit, ContentLength: resp.ContentLength})
}

// redactedText replaces secrets in error strings, logs and error bodies.
const redactedText = "[REDACTED]"

// redact replaces every occurrence of secret in s with redactedText.
func redact(s, secret string) string {
	if secret == "" || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, redactedText)
}

// redactedError hides a secret in an error's text while keeping the chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactError returns err with secret removed from its text.
func redactError(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	if msg := err.Error(); strings.Contains(msg, secret) {
		return &redactedError{msg: redact(msg, secret), err: err}
	}
	return err
}

// redactReader replaces every occurrence of secret in the stream, also
// across Read boundaries, holding back at most len(secret)-1 bytes. Its
// buffers are reused, so it allocates once per response.
type redactReader struct {
	r      io.Reader
	secret []byte
	raw    []byte // read but not yet scanned to the end
	out    []byte // redacted; out[off:] is ready to hand out
	off    int
	err    error
}

func (r *redactReader) Read(p []byte) (int, error) {
	for r.off == len(r.out) {
		if r.err != nil {
			return 0, r.err
		}
		r.out, r.off = r.out[:0], 0
		if r.raw == nil {
			r.raw = make([]byte, 0, 32<<10+len(r.secret))
		}
		held := len(r.raw)
		n, err := r.r.Read(r.raw[held:cap(r.raw)])
		r.raw = r.raw[:held+n]
		if err != nil {
			r.err = err
		}
		r.scan()
	}
	n := copy(p, r.out[r.off:])
	r.off += n
	return n, nil
}

// scan moves what surely holds no (partial) secret from raw to out.
func (r *redactReader) scan() {
	data := r.raw
	i := 0
	for {
		j := bytes.Index(data[i:], r.secret)
		if j < 0 {
			break
		}
		r.out = append(r.out, data[i:i+j]...)
		r.out = append(r.out, redactedText...)
		i += j + len(r.secret)
	}
	rest := data[i:]
	keep := 0
	if r.err == nil {
		keep = min(len(rest), len(r.secret)-1)
	}
	r.out = append(r.out, rest[:len(rest)-keep]...)
	r.raw = r.raw[:copy(r.raw, rest[len(rest)-keep:])]
}

// redactResponse removes the secret from the status line, the headers and
// (as it streams) the body of resp, whatever the status.
func redactResponse(resp *http.Response, secret string) {
	if secret == "" {
		return
	}
	resp.Status = redact(resp.Status, secret)
	for k, vs := range resp.Header {
		for i, v := range vs {
			if strings.Contains(v, secret) {
				resp.Header[k][i] = redact(v, secret)
			}
		}
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		return
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{&redactReader{r: resp.Body, secret: []byte(secret)}, resp.Body}
	// The replacement may change the length, as net/http does for bodies it
	// decompresses.
	if resp.ContentLength > 0 {
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	}
}

// RedirectError is the error for a redirect the client refuses to follow:
// the token is only ever sent to the scheme, host and port the first request
// went to, so a redirect elsewhere (another host or port, or https to http)
// is refused, as is a loop or more than maxRedirects redirects. It never
// holds the token.
type RedirectError struct {
	StatusCode int    // the redirect status, e.g. 307
	From       string // scheme://host[:port] of the first request
	To         string // scheme://host[:port] of the redirect target
	Reason     string // e.g. "another host", "plain http", "a redirect loop"
}

// Error implements error.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("hubspot: refused to follow a %d redirect from %s to %s: %s; the token is only sent to %s",
		e.StatusCode, e.From, e.To, e.Reason, e.From)
}

// checkRedirect is the http.Client CheckRedirect of NewHTTPClient: req is
// the next hop, via the requests made so far, oldest first.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	first := via[0].URL
	e := &RedirectError{StatusCode: status, From: originText(first), To: originText(req.URL)}
	switch {
	case first.Scheme == "https" && req.URL.Scheme != "https":
		e.Reason = "plain " + req.URL.Scheme
	case !strings.EqualFold(first.Hostname(), req.URL.Hostname()):
		e.Reason = "another host"
	case originPort(first) != originPort(req.URL) || !strings.EqualFold(first.Scheme, req.URL.Scheme):
		e.Reason = "another port or scheme"
	case len(via) > maxRedirects:
		e.Reason = fmt.Sprintf("more than %d redirects", maxRedirects)
	default:
		for _, v := range via {
			if sameURL(v.URL, req.URL) {
				e.Reason = "a redirect loop (" + oneLine(req.URL.Path) + " again)"
				return e
			}
		}
		return nil
	}
	return e
}

// redirectChain returns the requests before req when req is a redirect hop
// made by an http.Client (oldest first), nil otherwise.
func redirectChain(req *http.Request) []*http.Request {
	var via []*http.Request
	for r := req; r.Response != nil && r.Response.Request != nil && len(via) <= maxRedirects+1; {
		r = r.Response.Request
		via = append([]*http.Request{r}, via...)
	}
	return via
}

func originText(u *url.URL) string {
	if u == nil {
		return "(none)"
	}
	return oneLine(strings.ToLower(u.Scheme) + "://" + u.Host)
}

func originPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

func sameURL(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		originPort(a) == originPort(b) && a.EscapedPath() == b.EscapedPath() && a.RawQuery == b.RawQuery
}

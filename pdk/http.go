package pdk

import (
	"net/url"
	"strconv"
	"strings"
)

// HTTPRequest is an outbound HTTP request for [HTTPClient.Do]. Method
// defaults to "GET"; Header holds one value per name.
type HTTPRequest struct {
	Method string
	URL    string
	Header map[string]string
	Body   []byte
}

// HTTPResponse is the answer to an outbound request. Header has lower-case
// names, several values of one name joined with ","; lhkd passes every
// response header on. The daemon caps the size of Body.
type HTTPResponse struct {
	Status int
	Header map[string]string
	Body   []byte
}

// HTTPClient is the type of [HTTP]; see there.
type HTTPClient struct{}

// HTTP sends outbound HTTP requests through the daemon (Extism's
// http_request), the only way a plugin reaches the network. It needs the
// capability "http" and reaches only the hosts listed in the grant's
// allowed_hosts (exact names or globs such as "*.virustotal.com").
//
// Before each request the client reads the plugin's grant ([CurrentGrant])
// and fails with [CodeForbidden] when the URL's host is not allowed, and
// with [CodeInvalid] when the URL or method is malformed. A request the
// daemon itself refuses, or that fails on the network (no route, DNS,
// time-out), ends the invocation with an error the plugin cannot catch: a
// limitation of Extism's http_request. An HTTP error status (404, 500…) is
// not an error: check the status. The daemon follows a redirect only to an
// allowed host; a redirect anywhere else comes back as the 3xx response
// itself, its target in the "location" header.
var HTTP HTTPClient

// Get fetches url and returns the response's status and body.
//
//	status, body, err := pdk.HTTP.Get("https://api.example.com/v1/ip/" + ip)
func (c HTTPClient) Get(url string) (status int, body []byte, err error) {
	resp, err := c.Do(HTTPRequest{Method: "GET", URL: url})
	if err != nil {
		return 0, nil, err
	}
	return resp.Status, resp.Body, nil
}

// Post sends body to url with the given Content-Type and returns the
// response's status and body.
func (c HTTPClient) Post(url, contentType string, body []byte) (status int, respBody []byte, err error) {
	req := HTTPRequest{Method: "POST", URL: url, Body: body}
	if contentType != "" {
		req.Header = map[string]string{"Content-Type": contentType}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	return resp.Status, resp.Body, nil
}

// Do sends req, for other methods and for request headers such as an API
// key:
//
//	resp, err := pdk.HTTP.Do(pdk.HTTPRequest{
//		URL:    "https://api.example.com/v1/lookup",
//		Header: map[string]string{"Authorization": "Bearer " + key},
//	})
func (HTTPClient) Do(req HTTPRequest) (*HTTPResponse, error) {
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = "GET"
	}
	if !httpMethods[method] {
		return nil, &Error{Code: CodeInvalid, Message: "http: unsupported method " + strconv.Quote(req.Method)}
	}
	host, err := httpHost(req.URL)
	if err != nil {
		return nil, err
	}
	g, err := CurrentGrant()
	if err != nil {
		return nil, err
	}
	if !g.Allows(CapHTTP) {
		return nil, &Error{Code: CodeForbidden, Message: "http: the plugin's grant lacks capability http"}
	}
	if !hostAllowed(g.AllowedHosts, host) {
		return nil, &Error{Code: CodeForbidden, Message: "http: host " + strconv.Quote(host) + " is not in the plugin's allowed_hosts"}
	}
	req.Method = method
	return sendHTTP(req)
}

// httpMethods are the methods Extism's http_request can send.
var httpMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
	"DELETE": true, "OPTIONS": true,
}

// httpHost returns the host name of an http or https URL.
func httpHost(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", &Error{Code: CodeInvalid, Message: "http: " + err.Error()}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", &Error{Code: CodeInvalid, Message: "http: URL " + strconv.Quote(rawURL) + " must start with http:// or https://"}
	}
	if u.Hostname() == "" {
		return "", &Error{Code: CodeInvalid, Message: "http: URL " + strconv.Quote(rawURL) + " has no host"}
	}
	return u.Hostname(), nil
}

// hostAllowed reports whether host matches one of the allowed hosts as the
// daemon's Extism runtime does: an exact name or a glob where * matches any
// run of characters (dots included) and ? one character. Patterns with other
// glob syntax ([…] classes, {a,b} alternatives, \ escapes) are loosened to
// * and ? so that the check never refuses a host the daemon would allow;
// the daemon has the last word.
func hostAllowed(allowed []string, host string) bool {
	for _, p := range allowed {
		if p == host || globMatch(loosen(p), host) {
			return true
		}
	}
	return false
}

// loosen rewrites a glob into one of literals, * and ? that matches at least
// what it matches: a class becomes ?, alternatives become *, an escape its
// character.
func loosen(p string) string {
	if !strings.ContainsAny(p, `[{\`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteByte(p[i])
			}
		case '[':
			j := strings.IndexByte(p[i+1:], ']')
			if j < 0 {
				b.WriteByte('*')
				return b.String()
			}
			b.WriteByte('?')
			i += j + 1
		case '{':
			depth := 0
			for ; i < len(p); i++ {
				if p[i] == '{' {
					depth++
				} else if p[i] == '}' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			b.WriteByte('*')
		default:
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

// globMatch matches s against a pattern of literal characters, * and ?.
func globMatch(pattern, s string) bool {
	// Iterative matching with backtracking to the last star.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

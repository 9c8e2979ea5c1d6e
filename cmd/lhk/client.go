package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client calls lhkd's HTTP API.
type client struct {
	server string
	token  string
	http   *http.Client
}

func newClient(t target) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	return &client{server: strings.TrimRight(t.Server, "/"), token: t.Token, http: &http.Client{Transport: tr}}
}

// client returns a client for the resolved target.
func (a *app) client() (*client, error) {
	t, err := a.target()
	if err != nil {
		return nil, err
	}
	return newClient(t), nil
}

// apiError is an error answer of lhkd: its status and its JSON error body.
type apiError struct {
	Status     int
	Code       string
	Message    string
	Invocation string
}

func (e *apiError) Error() string {
	msg := e.Message
	if e.Code != "" {
		msg = e.Code + ": " + msg
	}
	if e.Invocation != "" {
		msg += " (invocation " + e.Invocation + "; see 'lhk run " + e.Invocation + "')"
	}
	return msg
}

// unreachableError means the server did not answer at all.
type unreachableError struct {
	server string
	err    error
}

func (e *unreachableError) Error() string {
	msg := e.err.Error()
	var ue *url.Error
	if errors.As(e.err, &ue) {
		msg = ue.Err.Error()
	}
	return fmt.Sprintf("cannot reach %s: %s", e.server, msg)
}

func (e *unreachableError) Unwrap() error { return e.err }

// request is one call: method, path with query, body and headers. length is
// the body's size when body does not tell it (a counting reader).
type request struct {
	method  string
	path    string
	body    io.Reader
	length  int64
	ctype   string
	headers map[string]string
}

// do sends the request and returns the response when its status is 2xx; any
// other answer becomes an *apiError, a failed connection an *unreachableError.
func (c *client) do(ctx context.Context, r request) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, c.server+r.path, r.body)
	if err != nil {
		return nil, usageErrorf("bad server URL %q: %v", c.server, err)
	}
	if r.length > 0 {
		req.ContentLength = r.length
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", "lhk/"+version)
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &unreachableError{server: c.server, err: err}
	}
	if res.StatusCode/100 == 2 {
		return res, nil
	}
	defer res.Body.Close()
	return nil, readAPIError(res)
}

func readAPIError(res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	var body struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			Invocation string `json:"invocation"`
		} `json:"error"`
	}
	e := &apiError{Status: res.StatusCode, Invocation: res.Header.Get("X-Lhk-Invocation")}
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
		if body.Error.Invocation != "" {
			e.Invocation = body.Error.Invocation
		}
	} else {
		e.Message = fmt.Sprintf("%s from %s", res.Status, res.Request.URL.Host)
		if s := strings.TrimSpace(string(b)); s != "" && len(s) < 200 && !strings.ContainsAny(s, "<\n") {
			e.Message += ": " + s
		}
	}
	if e.Status == http.StatusUnauthorized {
		e.Message += " (run 'lhk login' with a valid token)"
	}
	return e
}

// json sends body (when not nil) as JSON and decodes the answer into out (when
// not nil). It returns the raw answer too, for -o json.
func (c *client) json(ctx context.Context, method, path string, body, out any) ([]byte, error) {
	r := request{method: method, path: path}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r.body, r.ctype = bytes.NewReader(b), "application/json"
	}
	res, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, &unreachableError{server: c.server, err: err}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("%s %s: unexpected answer: %v", method, path, err)
		}
	}
	return raw, nil
}

// query builds "?k=v&…" from pairs, leaving out empty values.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func pathEscape(s string) string { return url.PathEscape(s) }

// readBody reads and closes an answer's body.
func readBody(res *http.Response) ([]byte, error) {
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return b, nil
}

// decode parses a JSON answer.
func decode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("unexpected answer: %v", err)
	}
	return nil
}

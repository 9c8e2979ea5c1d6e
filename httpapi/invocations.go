package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/lhk-soc/lhk"
)

// HeaderInvocation carries the invocation id of every invoke response.
const HeaderInvocation = "X-Lhk-Invocation"

func (s *Server) invoke(c echo.Context) error {
	u := currentUser(c)
	if !u.CanWrite() {
		return lhk.Errorf(lhk.EFORBIDDEN, "role %s may not run plugins", u.Role)
	}
	input, err := readBody(c, int64(lhk.MaxLimits.MaxInputBytes), "input")
	if err != nil {
		return err
	}
	trigger := lhk.TriggerHTTP
	if c.Request().Header.Get("X-Lhk-Trigger") == lhk.TriggerCLI {
		trigger = lhk.TriggerCLI
	}
	req := lhk.InvokeRequest{
		Plugin:   c.Param("name"),
		Function: c.Param("function"),
		Input:    input,
		Trigger:  trigger,
		Caller:   u.Name,
	}
	if c.QueryParam("async") == "true" {
		inv, err := s.cfg.Invoker.Start(ctxOf(c), req)
		if err != nil {
			return err
		}
		c.Response().Header().Set(HeaderInvocation, inv.ID)
		return c.JSON(http.StatusAccepted, map[string]string{"invocation": inv.ID})
	}
	return s.respondInvocation(c, req)
}

// respondInvocation runs req and writes the plugin's output, or the error with
// the invocation id.
func (s *Server) respondInvocation(c echo.Context, req lhk.InvokeRequest) error {
	inv, err := s.cfg.Invoker.Invoke(ctxOf(c), req)
	if err != nil {
		if inv != nil {
			return &invocationError{id: inv.ID, err: err}
		}
		return err
	}
	h := c.Response().Header()
	h.Set(HeaderInvocation, inv.ID)
	// Output is the plugin's: never let a browser run it as a page.
	h.Set("Content-Security-Policy", "sandbox")
	return c.Blob(http.StatusOK, outputType(inv.Output), inv.Output)
}

// outputType picks a safe content type for plugin output: JSON when it parses,
// plain text when it is UTF-8, else octet-stream. Never HTML.
func outputType(b []byte) string {
	switch {
	case len(b) > 0 && json.Valid(b):
		return echo.MIMEApplicationJSON
	case utf8.Valid(b):
		return echo.MIMETextPlainCharsetUTF8
	default:
		return echo.MIMEOctetStream
	}
}

// invocationJSON shows output as text when it is UTF-8, else as base64.
type invocationJSON struct {
	ID              string        `json:"id"`
	Plugin          string        `json:"plugin"`
	Version         int           `json:"version"`
	Function        string        `json:"function"`
	Trigger         string        `json:"trigger"`
	Caller          string        `json:"caller"`
	Status          string        `json:"status"`
	StartedAt       time.Time     `json:"started_at"`
	DurationMS      float64       `json:"duration_ms"`
	Output          *string       `json:"output,omitempty"`
	OutputEncoding  string        `json:"output_encoding,omitempty"`
	OutputTruncated bool          `json:"output_truncated,omitempty"`
	Logs            []lhk.LogLine `json:"logs,omitempty"`
	Error           string        `json:"error"`
	Replica         string        `json:"replica,omitempty"`
}

func invocationView(inv *lhk.Invocation, full bool) invocationJSON {
	v := invocationJSON{
		ID: inv.ID, Plugin: inv.Plugin, Version: inv.Version, Function: inv.Function,
		Trigger: inv.Trigger, Caller: inv.Caller, Status: inv.Status, StartedAt: inv.StartedAt,
		DurationMS: inv.DurationMS, OutputTruncated: inv.OutputTruncated, Error: inv.Error,
		Replica: inv.Replica,
	}
	if !full {
		return v
	}
	out := ""
	if utf8.Valid(inv.Output) {
		out = string(inv.Output)
	} else {
		out = base64.StdEncoding.EncodeToString(inv.Output)
		v.OutputEncoding = "base64"
	}
	v.Output = &out
	v.Logs = inv.Logs
	if v.Logs == nil {
		v.Logs = []lhk.LogLine{}
	}
	return v
}

func (s *Server) listInvocations(c echo.Context) error {
	f := lhk.InvocationFilter{
		Plugin:  c.QueryParam("plugin"),
		Trigger: c.QueryParam("trigger"),
		Status:  c.QueryParam("status"),
		Caller:  c.QueryParam("caller"),
		Before:  c.QueryParam("before"),
		Brief:   true,
	}
	var err error
	if f.Limit, err = intParam(c, "limit", 50, 1000); err != nil {
		return err
	}
	invs, err := s.cfg.Invocations.Invocations(ctxOf(c), f)
	if err != nil {
		return err
	}
	out := make([]invocationJSON, 0, len(invs))
	for _, inv := range invs {
		out = append(out, invocationView(inv, false))
	}
	return c.JSON(http.StatusOK, map[string]any{"invocations": out})
}

func (s *Server) getInvocation(c echo.Context) error {
	inv, err := s.cfg.Invocations.Invocation(ctxOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, invocationView(inv, true))
}

package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/systems/notify"
	"github.com/lhk-soc/lhk/systems/systemtest"
)

// secretPath stands for the token Slack puts in webhook paths.
const secretPath = "/services/T000/B000/s3cretTOKEN"

// receiver is an httptest server that records the bodies it gets.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	types  []string
}

// newReceiver starts a receiver answering status.
func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.types = append(r.types, req.Header.Get("Content-Type"))
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// last returns the last body decoded.
func (r *receiver) last(t *testing.T) map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) == 0 {
		t.Fatal("the receiver got nothing")
	}
	var m map[string]any
	if err := json.Unmarshal(r.bodies[len(r.bodies)-1], &m); err != nil {
		t.Fatalf("body %s: %v", r.bodies[len(r.bodies)-1], err)
	}
	if ct := r.types[len(r.types)-1]; ct != "application/json" {
		t.Errorf("content type %q, want application/json", ct)
	}
	return m
}

func newService(t *testing.T, chs map[string]notify.Channel) *notify.Service {
	t.Helper()
	s, err := notify.New(chs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := lhk.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

func TestNotifyJSON(t *testing.T) {
	r := newReceiver(t, http.StatusNoContent)
	s := newService(t, map[string]notify.Channel{"soc": {URL: r.URL + "/hook"}})
	n := lhk.Notification{Channel: "soc", Tenant: "acme", Title: "Brute force", Text: "10 failures on WS01",
		Severity: lhk.SeverityHigh, Fields: map[string]string{"host": "WS01"}}
	if err := s.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	m := r.last(t)
	for k, want := range map[string]any{"channel": "soc", "tenant": "acme", "title": "Brute force",
		"text": "10 failures on WS01", "severity": "high"} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if f, _ := m["fields"].(map[string]any); f["host"] != "WS01" {
		t.Errorf("fields = %v", m["fields"])
	}
	if s, _ := m["sent_at"].(string); s == "" {
		t.Errorf("sent_at missing in %v", m)
	}
}

func TestNotifySlack(t *testing.T) {
	r := newReceiver(t, http.StatusOK)
	s := newService(t, map[string]notify.Channel{"slack": {URL: r.URL + secretPath, Format: notify.FormatSlack}})
	n := lhk.Notification{Channel: "slack", Tenant: "acme", Title: "Isolated WS01", Text: "by <!channel> & co",
		Severity: lhk.SeverityCritical, Fields: map[string]string{"b": "2", "a": "1"}}
	if err := s.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	m := r.last(t)
	if want := "*Isolated WS01*\nby &lt;!channel&gt; &amp; co"; m["text"] != want {
		t.Errorf("text = %q, want %q", m["text"], want)
	}
	atts, _ := m["attachments"].([]any)
	if len(atts) != 1 {
		t.Fatalf("attachments = %v", m["attachments"])
	}
	var titles []string
	for _, f := range atts[0].(map[string]any)["fields"].([]any) {
		titles = append(titles, f.(map[string]any)["title"].(string))
	}
	if want := []string{"tenant", "severity", "a", "b"}; !slices.Equal(titles, want) {
		t.Errorf("field titles %v, want %v", titles, want)
	}
}

func TestNotifyErrors(t *testing.T) {
	fail := newReceiver(t, http.StatusForbidden)
	okr := newReceiver(t, http.StatusOK)
	s := newService(t, map[string]notify.Channel{
		"fail": {URL: fail.URL + secretPath},
		"ok":   {URL: okr.URL},
		"down": {URL: "http://127.0.0.1:1" + secretPath},
	})
	big := strings.Repeat("x", notify.MaxText+1)
	tests := []struct {
		name string
		n    lhk.Notification
		code string
		in   string // the message must contain this
	}{
		{"ErrNotFound", lhk.Notification{Channel: "nope", Title: "x"}, lhk.ENOTFOUND, "down, fail, ok"},
		{"ErrUnavailableStatus", lhk.Notification{Channel: "fail", Title: "x"}, lhk.EUNAVAILABLE, "403"},
		{"ErrUnavailableDown", lhk.Notification{Channel: "down", Title: "x"}, lhk.EUNAVAILABLE, "down"},
		{"ErrInvalidEmpty", lhk.Notification{Channel: "ok"}, lhk.EINVALID, "title or a text"},
		{"ErrInvalidText", lhk.Notification{Channel: "ok", Title: "x", Text: big}, lhk.EINVALID, "text is"},
		{"ErrInvalidTitle", lhk.Notification{Channel: "ok", Title: big[:notify.MaxTitle+1]}, lhk.EINVALID, "title is"},
		{"ErrInvalidSeverity", lhk.Notification{Channel: "ok", Title: "x", Severity: "urgent"}, lhk.EINVALID, "severity"},
		{"ErrInvalidUTF8", lhk.Notification{Channel: "ok", Title: "\xff"}, lhk.EINVALID, "UTF-8"},
		{"ErrInvalidField", lhk.Notification{Channel: "ok", Title: "x", Fields: map[string]string{"k": big}}, lhk.EINVALID, "field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Notify(context.Background(), tt.n)
			wantCode(t, err, tt.code)
			if msg := lhk.ErrorMessage(err); !strings.Contains(msg, tt.in) {
				t.Errorf("message %q does not contain %q", msg, tt.in)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q leaks the channel URL", err)
			}
		})
	}
	okr.mu.Lock()
	defer okr.mu.Unlock()
	if len(okr.bodies) != 0 {
		t.Errorf("invalid notifications were sent: %d", len(okr.bodies))
	}
}

func TestNotifyNoRedirect(t *testing.T) {
	target := newReceiver(t, http.StatusOK)
	redir := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	t.Cleanup(redir.Close)
	s := newService(t, map[string]notify.Channel{"r": {URL: redir.URL}})
	wantCode(t, s.Notify(context.Background(), lhk.Notification{Channel: "r", Title: "x"}), lhk.EUNAVAILABLE)
	if len(target.bodies) != 0 {
		t.Error("the redirect was followed")
	}
}

func TestNotifyNoChannels(t *testing.T) {
	s := newService(t, nil)
	if got := s.Channels(); len(got) != 0 {
		t.Errorf("channels %v, want none", got)
	}
	err := s.Notify(context.Background(), lhk.Notification{Channel: "soc", Title: "x"})
	wantCode(t, err, lhk.ENOTFOUND)
	if !strings.Contains(lhk.ErrorMessage(err), "--notify") {
		t.Errorf("message %q does not say how to configure a channel", lhk.ErrorMessage(err))
	}
}

func TestParseChannel(t *testing.T) {
	tests := []struct {
		in     string
		name   string
		format string
		url    string
		bad    bool
	}{
		{in: "soc=https://example.com/hook", name: "soc", format: "json", url: "https://example.com/hook"},
		{in: "soc=json+https://example.com/hook", name: "soc", format: "json", url: "https://example.com/hook"},
		{in: "team-a=slack+https://hooks.slack.com" + secretPath, name: "team-a", format: "slack", url: "https://hooks.slack.com" + secretPath},
		{in: "x=http://h/a=b?c=d", name: "x", format: "json", url: "http://h/a=b?c=d"},
		{in: "no-equals", bad: true},
		{in: "=https://example.com", bad: true},
		{in: "bad name=https://example.com", bad: true},
		{in: "soc=ftp://example.com" + secretPath, bad: true},
		{in: "soc=slack+", bad: true},
		{in: "soc=teams+https://example.com", bad: true},
		{in: "soc=/relative", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, ch, err := notify.ParseChannel(tt.in)
			if tt.bad {
				wantCode(t, err, lhk.EINVALID)
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q leaks the URL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if name != tt.name || ch.Format != tt.format || ch.URL != tt.url {
				t.Errorf("got %q %+v, want %q {%s %s}", name, ch, tt.name, tt.url, tt.format)
			}
		})
	}
}

func TestNewChecksChannels(t *testing.T) {
	for name, chs := range map[string]map[string]notify.Channel{
		"BadURL":    {"soc": {URL: "not a url"}},
		"BadFormat": {"soc": {URL: "https://example.com", Format: "xml"}},
		"BadName":   {"": {URL: "https://example.com"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := notify.New(chs, nil)
			wantCode(t, err, lhk.EINVALID)
		})
	}
}

func TestConformance(t *testing.T) {
	for _, format := range []string{notify.FormatJSON, notify.FormatSlack} {
		t.Run(format, func(t *testing.T) {
			systemtest.RunNotify(t, func(tb testing.TB, urls map[string]string) lhk.NotifyService {
				chs := map[string]notify.Channel{}
				for name, u := range urls {
					chs[name] = notify.Channel{URL: u, Format: format}
				}
				s, err := notify.New(chs, nil)
				if err != nil {
					tb.Fatal(err)
				}
				return s
			})
		})
	}
}

package systemtest

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
)

// notifySecret is a token in every channel URL the suite hands out; it must
// never appear in an error.
const notifySecret = "s3cret-notify-token"

// NotifyOpener returns a NotifyService whose channels deliver to the given
// URLs, by channel name, in whatever payload format the backend uses.
type NotifyOpener func(tb testing.TB, channels map[string]string) lhk.NotifyService

// notifyReceiver is a test webhook receiver recording what it gets.
type notifyReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
}

// notifyReceive starts a receiver answering status, closed when tb ends.
func notifyReceive(tb testing.TB, status int) *notifyReceiver {
	tb.Helper()
	r := &notifyReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	tb.Cleanup(r.srv.Close)
	return r
}

// url is the receiver's URL with a secret path.
func (r *notifyReceiver) url() string { return r.srv.URL + "/hooks/" + notifySecret }

// got returns the bodies received so far.
func (r *notifyReceiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies)
}

// notifyNoSecret fails tb when err's text or message holds the channel
// URL's secret.
func notifyNoSecret(tb testing.TB, err error) {
	tb.Helper()
	if err != nil && (strings.Contains(err.Error(), notifySecret) || strings.Contains(lhk.ErrorMessage(err), notifySecret)) {
		tb.Errorf("error %q leaks the channel URL", err)
	}
}

// RunNotify runs the conformance suite of lhk.NotifyService against the
// services open builds; the suite starts the receivers itself.
func RunNotify(t *testing.T, open NotifyOpener) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		r := notifyReceive(t, http.StatusOK)
		s := open(t, map[string]string{"soc": r.url(), "other": notifyReceive(t, http.StatusOK).url()})
		if got := s.Channels(); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"other", "soc"}) {
			t.Errorf("channels %v, want other and soc", got)
		}
		n := lhk.Notification{Channel: "soc", Tenant: stateAcme, Title: "Host isolated", Text: "WS01 was isolated",
			Severity: lhk.SeverityHigh, Fields: map[string]string{"host": "WS01"}}
		stateOK(t, s.Notify(ctx, n))
		bodies := r.got()
		if len(bodies) != 1 {
			t.Fatalf("the receiver got %d requests, want 1", len(bodies))
		}
		if !json.Valid([]byte(bodies[0])) {
			t.Errorf("body is not JSON: %s", bodies[0])
		}
		for _, want := range []string{"Host isolated", "WS01 was isolated", "WS01"} {
			if !strings.Contains(bodies[0], want) {
				t.Errorf("body lacks %q: %s", want, bodies[0])
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t, map[string]string{"soc": notifyReceive(t, http.StatusOK).url()})
		err := s.Notify(ctx, lhk.Notification{Channel: "nope", Title: "x"})
		stateWantCode(t, err, lhk.ENOTFOUND)
		if !strings.Contains(lhk.ErrorMessage(err), "soc") {
			t.Errorf("message %q does not list the configured channels", lhk.ErrorMessage(err))
		}
		notifyNoSecret(t, err)
	})

	t.Run("ErrUnavailable", func(t *testing.T) {
		down := notifyReceive(t, http.StatusOK)
		downURL := down.url()
		down.srv.Close()
		s := open(t, map[string]string{
			"500":  notifyReceive(t, http.StatusInternalServerError).url(),
			"404":  notifyReceive(t, http.StatusNotFound).url(),
			"down": downURL,
		})
		for _, ch := range []string{"500", "404", "down"} {
			t.Run(ch, func(t *testing.T) {
				err := s.Notify(ctx, lhk.Notification{Channel: ch, Title: "x"})
				stateWantCode(t, err, lhk.EUNAVAILABLE)
				notifyNoSecret(t, err)
				if ch != "down" && !strings.Contains(lhk.ErrorMessage(err), ch) {
					t.Errorf("message %q does not give the status %s", lhk.ErrorMessage(err), ch)
				}
			})
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		r := notifyReceive(t, http.StatusOK)
		s := open(t, map[string]string{"soc": r.url()})
		huge := strings.Repeat("x", 1<<20)
		for name, n := range map[string]lhk.Notification{
			"HugeTitle": {Channel: "soc", Title: huge},
			"HugeText":  {Channel: "soc", Title: "x", Text: huge},
			"Empty":     {Channel: "soc"},
		} {
			t.Run(name, func(t *testing.T) {
				stateWantCode(t, s.Notify(ctx, n), lhk.EINVALID)
			})
		}
		if n := len(r.got()); n != 0 {
			t.Errorf("invalid notifications were delivered: %d", n)
		}
	})

	t.Run("Hostile", func(t *testing.T) {
		r := notifyReceive(t, http.StatusOK)
		s := open(t, map[string]string{"soc": r.url()})
		for _, h := range stateHostile {
			stateOK(t, s.Notify(ctx, lhk.Notification{Channel: "soc", Title: h, Text: h, Fields: map[string]string{h: h}}))
		}
		for _, b := range r.got() {
			if !json.Valid([]byte(b)) {
				t.Errorf("body is not JSON: %s", b)
			}
		}
		if n := len(r.got()); n != len(stateHostile) {
			t.Errorf("%d deliveries, want %d", n, len(stateHostile))
		}
	})
}

package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/sqlite"
)

const (
	testAdminToken = "lhk_test_admin"
	testAliceToken = "lhk_test_alice"
)

// sessionServer serves the API on a registry with an admin and an analyst,
// alice; sessions live in the registry, or in memory when inMemory is set.
func sessionServer(t *testing.T, inMemory bool) (*httptest.Server, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lhk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := lhk.NewContextWithActor(context.Background(), "test")
	for _, u := range []struct {
		name, token string
		role        lhk.Role
	}{{"admin", testAdminToken, lhk.RoleAdmin}, {"alice", testAliceToken, lhk.RoleAnalyst}} {
		if err := db.CreateUser(ctx, &lhk.User{Name: u.name, Role: u.role}, lhk.TokenHash(u.token)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Users: db, Plugins: db, Invocations: db, Audit: db, Sessions: db}
	if inMemory {
		cfg.Sessions = nil
	}
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	return srv, db
}

// call sends one request; headers are pairs of name and value.
func call(t *testing.T, srv *httptest.Server, method, path string, cookie *http.Cookie, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// signIn opens a session for token and returns its cookie and CSRF token.
func signIn(t *testing.T, srv *httptest.Server, token string) (*http.Cookie, string) {
	t.Helper()
	res, body := call(t, srv, "POST", "/v1/session", nil, "", "Authorization", "Bearer "+token)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("sign in = %d: %s", res.StatusCode, body)
	}
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			ck = c
		}
	}
	if ck == nil {
		t.Fatalf("sign in set no %s cookie (Set-Cookie: %q)", SessionCookie, res.Header.Values("Set-Cookie"))
	}
	var s struct {
		User      lhk.User `json:"user"`
		CSRFToken string   `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &s); err != nil || s.CSRFToken == "" {
		t.Fatalf("sign in answered %s (%v)", body, err)
	}
	return &http.Cookie{Name: ck.Name, Value: ck.Value}, s.CSRFToken
}

func TestSession(t *testing.T) {
	for _, store := range []struct {
		name     string
		inMemory bool
	}{{"Registry", false}, {"Memory", true}} {
		t.Run(store.name, func(t *testing.T) { testSession(t, store.inMemory) })
	}
}

func testSession(t *testing.T, inMemory bool) {
	newUser := func(name string) string { return `{"name":"` + name + `","role":"viewer"}` }

	t.Run("Cookie", func(t *testing.T) {
		srv, _ := sessionServer(t, inMemory)
		res, body := call(t, srv, "POST", "/v1/session", nil, "", "Authorization", "Bearer "+testAliceToken)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("sign in = %d: %s", res.StatusCode, body)
		}
		set := strings.Join(res.Header.Values("Set-Cookie"), "\n")
		for _, want := range []string{SessionCookie + "=", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="} {
			if !strings.Contains(set, want) {
				t.Errorf("Set-Cookie %q lacks %s", set, want)
			}
		}
		if strings.Contains(set, "Secure") {
			t.Errorf("Set-Cookie %q is Secure over plain HTTP: the browser would drop it", set)
		}
		if strings.Contains(set, testAliceToken) || bytes.Contains(body, []byte(testAliceToken)) {
			t.Errorf("the bearer token is in the cookie or the answer")
		}
		res, _ = call(t, srv, "POST", "/v1/session", nil, "", "Authorization", "Bearer "+testAliceToken, "X-Forwarded-Proto", "https")
		if set := strings.Join(res.Header.Values("Set-Cookie"), "\n"); !strings.Contains(set, "Secure") {
			t.Errorf("behind a TLS proxy Set-Cookie %q is not Secure", set)
		}
	})

	t.Run("Reads", func(t *testing.T) {
		srv, _ := sessionServer(t, inMemory)
		ck, csrf := signIn(t, srv, testAliceToken)
		res, body := call(t, srv, "GET", "/v1/users/me", ck, "")
		if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"name":"alice"`)) {
			t.Fatalf("GET /v1/users/me with the cookie = %d %s", res.StatusCode, body)
		}
		res, body = call(t, srv, "GET", "/v1/session", ck, "")
		if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(csrf)) {
			t.Errorf("GET /v1/session = %d %s, want the CSRF token", res.StatusCode, body)
		}
		res, _ = call(t, srv, "GET", "/v1/session", nil, "", "Authorization", "Bearer "+testAliceToken)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET /v1/session with a bearer token = %d, want 404", res.StatusCode)
		}
		res, _ = call(t, srv, "GET", "/v1/users/me", &http.Cookie{Name: SessionCookie, Value: "forged"}, "")
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a forged cookie = %d, want 401", res.StatusCode)
		}
		if set := strings.Join(res.Header.Values("Set-Cookie"), "\n"); !strings.Contains(set, "Max-Age=0") {
			t.Errorf("a dead session's cookie is not cleared: %q", set)
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		srv, _ := sessionServer(t, inMemory)
		ck, csrf := signIn(t, srv, testAdminToken)
		host := strings.TrimPrefix(srv.URL, "http://")
		tests := []struct {
			name    string
			headers []string
			want    int
		}{
			{"NoToken", nil, http.StatusForbidden},
			{"WrongToken", []string{HeaderCSRF, strings.Repeat("0", 64)}, http.StatusForbidden},
			{"OtherSessionsToken", []string{HeaderCSRF, csrfToken("another session")}, http.StatusForbidden},
			{"CrossOrigin", []string{HeaderCSRF, csrf, "Origin", "https://evil.example"}, http.StatusForbidden},
			{"NullOrigin", []string{HeaderCSRF, csrf, "Origin", "null"}, http.StatusForbidden},
			{"CrossSite", []string{HeaderCSRF, csrf, "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
			{"SameSite", []string{HeaderCSRF, csrf, "Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
			{"OK", []string{HeaderCSRF, csrf}, http.StatusCreated},
			{"OKFromThePage", []string{HeaderCSRF, csrf, "Origin", "http://" + host, "Sec-Fetch-Site", "same-origin"}, http.StatusCreated},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				name := strings.ToLower(tt.name)
				res, body := call(t, srv, "POST", "/v1/users", ck, newUser(name), tt.headers...)
				if res.StatusCode != tt.want {
					t.Fatalf("POST /v1/users = %d, want %d: %s", res.StatusCode, tt.want, body)
				}
			})
		}
		// The refused requests created nobody.
		res, body := call(t, srv, "GET", "/v1/users", ck, "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/users = %d", res.StatusCode)
		}
		for _, refused := range []string{"notoken", "wrongtoken", "crossorigin", "crosssite", "samesite", "nullorigin"} {
			if bytes.Contains(body, []byte(`"`+refused+`"`)) {
				t.Errorf("refused request %s created its user anyway", refused)
			}
		}
		// Bearer clients need none of it.
		res, body = call(t, srv, "POST", "/v1/users", nil, newUser("bearer"), "Authorization", "Bearer "+testAdminToken)
		if res.StatusCode != http.StatusCreated {
			t.Errorf("bearer POST /v1/users = %d: %s", res.StatusCode, body)
		}
	})

	t.Run("SignIn", func(t *testing.T) {
		srv, _ := sessionServer(t, inMemory)
		ck, csrf := signIn(t, srv, testAliceToken)
		res, _ := call(t, srv, "POST", "/v1/session", ck, "", HeaderCSRF, csrf)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("a session opening another = %d, want 400", res.StatusCode)
		}
		res, _ = call(t, srv, "POST", "/v1/session", nil, "", "Authorization", "Bearer "+testAliceToken, "Origin", "https://evil.example")
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("sign in from another origin = %d, want 403", res.StatusCode)
		}
		res, _ = call(t, srv, "POST", "/v1/session", nil, "", "Authorization", "Bearer lhk_wrong")
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("sign in with a wrong token = %d, want 401", res.StatusCode)
		}
	})

	t.Run("SignOut", func(t *testing.T) {
		srv, db := sessionServer(t, inMemory)
		ck, csrf := signIn(t, srv, testAliceToken)
		other, _ := signIn(t, srv, testAliceToken)
		res, _ := call(t, srv, "DELETE", "/v1/session", ck, "")
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("sign out without the CSRF token = %d, want 403", res.StatusCode)
		}
		res, _ = call(t, srv, "DELETE", "/v1/session", ck, "", HeaderCSRF, csrf)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("sign out = %d, want 204", res.StatusCode)
		}
		if set := strings.Join(res.Header.Values("Set-Cookie"), "\n"); !strings.Contains(set, "Max-Age=0") {
			t.Errorf("sign out does not clear the cookie: %q", set)
		}
		if res, _ := call(t, srv, "GET", "/v1/users/me", ck, ""); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("after sign out the old cookie = %d, want 401", res.StatusCode)
		}
		if res, _ := call(t, srv, "GET", "/v1/users/me", other, ""); res.StatusCode != http.StatusOK {
			t.Errorf("signing out one session ended another: %d", res.StatusCode)
		}
		es, err := db.AuditEntries(context.Background(), lhk.AuditFilter{Target: "user/alice"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range es {
			if strings.HasPrefix(e.Action, "session.") {
				actions = append(actions, e.Actor+":"+e.Action)
			}
			if strings.Contains(e.Detail, ck.Value) || strings.Contains(e.Detail, testAliceToken) {
				t.Errorf("audit entry %s holds a secret: %s", e.Action, e.Detail)
			}
		}
		if got, want := strings.Join(actions, ","), "alice:session.delete,alice:session.create,alice:session.create"; got != want {
			t.Errorf("audit %s, want %s", got, want)
		}
	})

	t.Run("TokenRenewalEndsSessions", func(t *testing.T) {
		srv, _ := sessionServer(t, inMemory)
		ck, _ := signIn(t, srv, testAliceToken)
		res, body := call(t, srv, "POST", "/v1/users/alice/token", nil, "", "Authorization", "Bearer "+testAdminToken)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("renew token = %d: %s", res.StatusCode, body)
		}
		if res, _ := call(t, srv, "GET", "/v1/users/me", ck, ""); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a session opened with the old token = %d, want 401", res.StatusCode)
		}
	})
}

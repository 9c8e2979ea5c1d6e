package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The web UI's tests drive the real UI served by a real lhkd in headless
// Chromium (Debian's chromium package; .ci/run installs it). Without a
// browser they skip, unless LHK_TEST_BROWSER=1 (CI sets it): then they fail,
// so CI can never pass by skipping them.

// chromiumPath finds the browser: $LHK_CHROMIUM, /usr/bin/chromium, or
// chromium or chromium-browser on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("LHK_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("LHK_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium at /usr/bin/chromium or on PATH")
}

// browser is one headless Chromium with one tab, and what the tab did: every
// URL it requested, and every script error or policy violation it reported.
type browser struct {
	t   testing.TB
	ctx context.Context
	d   *testDaemon

	mu        sync.Mutex
	urls      []string
	responses map[string]*network.Response // by URL, the last
	problems  []string                     // exceptions, CSP violations, console errors
}

// needBrowser returns Chromium's path, or skips the test (fails it when
// LHK_TEST_BROWSER=1) when there is none. Tests call it first, before they
// start a daemon for nothing.
func needBrowser(t testing.TB) string {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		if os.Getenv("LHK_TEST_BROWSER") == "1" {
			t.Fatalf("LHK_TEST_BROWSER=1 but headless Chromium is missing (%v): install Debian's chromium package (.ci/run does) or set LHK_CHROMIUM", err)
		}
		t.Skipf("skipping the browser test: %v (set LHK_TEST_BROWSER=1 to fail instead)", err)
	}
	return path
}

// newBrowser starts Chromium for a test, at a laptop's window size.
func newBrowser(t testing.TB, d *testDaemon) *browser {
	t.Helper()
	path := needBrowser(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI containers run as root
		chromedp.WindowSize(1366, 860),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("accept-lang", "en-US"),
		chromedp.Flag("disable-gpu", true),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, d: d, responses: map[string]*network.Response{}}
	t.Cleanup(func() {
		cancelB()
		cancelA()
	})
	// The first Do binds the browser's life to its context: no time-out here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.urls = append(b.urls, ev.Request.URL)
		case *network.EventResponseReceived:
			b.responses[ev.Response.URL] = ev.Response
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+exceptionText(ev.ExceptionDetails))
		case *log.EventEntryAdded:
			if strings.Contains(ev.Entry.Text, "Content Security Policy") || strings.Contains(ev.Entry.Text, "Content-Security-Policy") {
				b.problems = append(b.problems, "CSP: "+ev.Entry.Text)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				b.problems = append(b.problems, "console.error")
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return ""
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return s
}

// step bounds one interaction; a failing step shows the page's text.
const step = 30 * time.Second

// do runs actions, failing the test with the page's text when one fails.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\npage: %s", what, err, b.pageText())
	}
}

// pageText is the visible text of <main>, for failure messages.
func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('main')||document.body).innerText`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// eval evaluates a JavaScript expression in the page (through DevTools, which
// the page's CSP does not restrict) and decodes its value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v\npage: %s", expr, err, b.pageText())
	}
	return v
}

// waitFor polls a JavaScript expression until it is true. chromedp's Poll
// builds its predicate with new Function, which the UI's CSP forbids, so
// this polls from Go instead.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(step)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s (%s): %v\npage: %s", what, expr, err, b.pageText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text is the text content of the first element matching a CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%s)||{}).textContent||''`, jsString(sel)))
}

// count is the number of elements matching a CSS selector.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// exists says whether an element matches a CSS selector.
func (b *browser) exists(sel string) bool { return b.count(sel) > 0 }

// waitText waits until the element matching sel contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%q in %s", want, sel),
		fmt.Sprintf(`((document.querySelector(%s)||{}).textContent||'').includes(%s)`, jsString(sel), jsString(want)))
}

// fill replaces the value of a text control by typing, so the page sees the
// same input events as from a keyboard.
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	b.do("find "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	eval[bool](b, fmt.Sprintf(`(()=>{const e=document.querySelector(%s);e.value='';e.focus();return true})()`, jsString(sel)))
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// click clicks the first element matching a CSS selector.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// choose picks an option of a <select> the way the keyboard does: focus it
// and type the option's label.
func (b *browser) choose(sel, label string) {
	b.t.Helper()
	b.do("focus "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Focus(chromedp.CSS(sel)))
	b.do("choose "+label, chromedp.SendKeys(chromedp.CSS(sel), label))
	b.waitFor(sel+" = "+label, fmt.Sprintf(`(()=>{const s=document.querySelector(%s);return s.options[s.selectedIndex].text===%s})()`, jsString(sel), jsString(label)))
}

// open goes to a route of the UI (the part after #).
func (b *browser) open(route string) {
	b.t.Helper()
	eval[string](b, fmt.Sprintf(`location.hash = %s`, jsString(route)))
}

// signIn loads the UI and signs in with token from the keyboard.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.do("load the UI", chromedp.Navigate(b.d.URL+"/"))
	b.do("type the token", chromedp.WaitVisible(chromedp.ID("token")), chromedp.SendKeys(chromedp.ID("token"), token+"\n"))
	b.waitFor("signed in", `document.getElementById('signout')`)
}

// signOut signs out from the header.
func (b *browser) signOut() {
	b.t.Helper()
	b.click("#signout")
	b.waitFor("sign-in form", `document.getElementById('token')`)
}

// checkLabels fails when a visible form control on the page has no label.
func (b *browser) checkLabels(page string) {
	b.t.Helper()
	unlabelled := eval[[]string](b, `[...document.querySelectorAll('input,select,textarea')]
		.filter(e => e.type !== 'hidden' && e.offsetParent !== null && e.labels.length === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
		.map(e => e.outerHTML.slice(0, 120))`)
	if len(unlabelled) > 0 {
		b.t.Errorf("%s: controls without a label: %v", page, unlabelled)
	}
}

// checkClean fails on script errors or CSP violations the page reported.
func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("the page reported %s", p)
	}
	b.problems = nil
}

// requested returns every URL the tab requested so far.
func (b *browser) requested() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.urls...)
}

// writeModule writes a built plugin to a .wasm file for the file input.
func writeModule(t testing.TB, wasm []byte, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, wasm, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// call runs a DevTools command on the tab.
func call[P, R any](b *browser, cmd cdp.Command[P, R], params P) R {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	r, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		b.t.Fatalf("%s: %v", cmd.Method, err)
	}
	return r
}

// shot saves a screenshot of the tab to $LHK_UI_SHOTS/name.png when that
// variable names a directory: a debugging aid.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("LHK_UI_SHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }

// response is the last response the tab got for url, or nil.
func (b *browser) response(url string) *network.Response {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.responses[url]
}

// checkNoLeak fails when a token shows in a URL the tab requested, in
// storage script can read, or in lhkd's log, or when the session cookie can
// be read by script or is not HttpOnly and SameSite=Strict.
func (b *browser) checkNoLeak(tokens ...string) {
	b.t.Helper()
	cookies := call(b, network.GetCookies, network.GetCookiesParams{})
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "lhk_session" {
			session = c
		}
	}
	secrets := append([]string(nil), tokens...)
	if session != nil {
		if !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict {
			b.t.Errorf("session cookie HttpOnly=%v SameSite=%q", session.HTTPOnly, session.SameSite)
		}
		secrets = append(secrets, session.Value)
	}
	urls := b.requested()
	if len(urls) < 5 {
		b.t.Errorf("only %d requests seen: the request log is broken", len(urls))
	}
	readable := eval[string](b, `document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + location.href + document.documentElement.outerHTML`)
	for _, s := range secrets {
		for _, u := range urls {
			if strings.Contains(u, s) {
				b.t.Errorf("a secret is in the URL %s", u)
			}
		}
		if strings.Contains(readable, s) {
			b.t.Errorf("a secret is readable by the page's script")
		}
		if b.d.stderr != nil && strings.Contains(b.d.stderr.String(), s) {
			b.t.Errorf("a secret is in lhkd's log")
		}
	}
}

func jsonDecodeReader(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// httptestServer serves one HTML page on another port of 127.0.0.1 (an
// attacker's page, in the tests) and returns its URL.
func httptestServer(t testing.TB, page string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

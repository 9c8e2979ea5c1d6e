package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// TestUIAnalyst is an analyst's day in the UI: sign in, upload a plugin with
// the file input, upload a broken version by dropping it, see it fail, roll
// back, run it, schedule it (after a bad spec), read and filter the history.
func TestUIAnalyst(t *testing.T) {
	needBrowser(t)
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	b := newBrowser(t, d)

	b.signIn(alice)
	b.waitText("main", "No plugins yet")
	b.checkLabels("empty plugin list")

	// Upload: the first version with the file input.
	b.click("#new-plugin")
	b.fill("#new-plugin-name", "echo")
	echo := writeModule(t, wasmtest.Build(t, "plugins/testdata/echo"), "echo.wasm")
	b.do("choose the module", chromedp.SetUploadFiles(chromedp.CSS("#wasm-file"), []string{echo}))
	b.waitFor("the versions tab of echo", `location.hash === '#/plugins/echo/versions' && document.querySelector('table.versions tbody tr')`)
	if got := b.text("#fact-owner"); got != "alice" {
		t.Errorf("owner %q, want alice", got)
	}
	b.waitText("table.versions tbody", "alice")
	b.shot("versions-1")

	// Upload v2 by dropping a file on the drop zone: a version that always fails.
	fail := writeModule(t, wasmtest.Build(t, "plugins/testdata/fail"), "fail.wasm")
	b.drop("#drop-zone", fail)
	b.waitText("#fact-version", "v2")
	if n := b.count("table.versions tbody tr"); n != 2 {
		t.Fatalf("%d versions listed, want 2", n)
	}

	// v2 fails when run.
	b.open("#/plugins/echo/run")
	b.fill("#run-input", "hello")
	b.click("#run-button")
	b.waitFor("the failed run", `document.querySelector('#run-result .status-error')`)
	b.waitText("#run-result", "fail fixture: no tenant given")

	// Roll back to v1.
	b.open("#/plugins/echo/versions")
	b.click(`button[data-version="1"]`)
	b.waitText("#fact-version", "v1")
	b.waitText("table.versions tr.current", "v1")

	// v1 runs: output, logs and duration.
	b.open("#/plugins/echo/run")
	b.fill("#run-input", `{"alert":"beacon","host":"WS01"}`)
	b.click("#run-button")
	b.waitFor("the ok run", `document.querySelector('#run-result .status-ok')`)
	if out := b.text("#run-result pre.output"); !strings.Contains(out, `"alert": "beacon"`) {
		t.Errorf("output %q, want the pretty-printed input", out)
	}
	b.waitText("#run-duration", "took")
	b.shot("run")

	// Schedule: a bad spec says why; a good one previews five runs.
	b.open("#/plugins/echo/schedule")
	b.fill("#sched-tz", "Asia/Tokyo")
	b.fill("#sched-cron", "61 * * * *")
	b.waitFor("the parser's message", `document.getElementById('sched-error')`)
	if msg := b.text("#sched-error"); !strings.Contains(msg, "61") {
		t.Errorf("bad-spec message %q does not name the bad field", msg)
	}
	if eval[string](b, `document.getElementById('sched-cron').getAttribute('aria-invalid')`) != "true" {
		t.Errorf("the bad spec's input is not marked invalid")
	}
	b.fill("#sched-cron", "30 9 * * 1-5")
	b.waitFor("five next runs", `document.querySelectorAll('#sched-next li').length === 5`)
	if first := b.text("#sched-next li"); !strings.Contains(first, "09:30") {
		t.Errorf("first preview %q is not at 09:30 Tokyo time", first)
	}
	b.checkLabels("schedule")
	b.shot("schedule")
	b.click("#sched-save")
	b.waitFor("the saved schedule", `document.getElementById('sched-next-saved')`)
	var sch struct {
		Schedule struct{ Cron, Timezone string }
	}
	r := d.must(t, http.StatusOK, "GET", "/v1/plugins/echo", alice, nil)
	if err := jsonUnmarshal(r.Body, &sch); err != nil || sch.Schedule.Cron != "30 9 * * 1-5" || sch.Schedule.Timezone != "Asia/Tokyo" {
		t.Errorf("stored schedule %+v (%v)", sch.Schedule, err)
	}

	// The list shows owner, version, schedule with next run, last run and a sparkline.
	b.open("#/plugins")
	b.waitFor("the echo row", `document.querySelector('table.plugins tbody tr')`)
	row := b.text("table.plugins tbody tr")
	for _, want := range []string{"echo", "alice", "v1", "30 9 * * 1-5", "Asia/Tokyo", "next", "ok"} {
		if !strings.Contains(row, want) {
			t.Errorf("plugin row %q lacks %q", row, want)
		}
	}
	if n := b.count("table.plugins svg.spark rect"); n != 2 {
		t.Errorf("sparkline has %d bars, want 2 (one failed, one ok run)", n)
	}
	b.shot("list")

	// History: both runs, then filtered by status and trigger.
	b.open("#/plugins/echo/history")
	b.waitFor("two runs", `document.querySelectorAll('#history tbody tr').length === 2`)
	b.choose("#filter-status", "error")
	b.waitFor("only the failed run", `(()=>{const r=[...document.querySelectorAll('#history tbody tr')];return r.length===1&&r[0].dataset.status==='error'})()`)
	b.choose("#filter-trigger", "cron")
	b.waitText("#history", "No invocations match")
	b.choose("#filter-status", "All statuses")
	b.choose("#filter-trigger", "HTTP")
	b.waitFor("both HTTP runs", `document.querySelectorAll('#history tbody tr[data-trigger="http"]').length === 2`)
	b.checkLabels("history")

	// One run's page: output and logs.
	b.click("#history tbody tr:first-child a")
	b.waitFor("the invocation page", `location.hash.startsWith('#/invocations/') && document.querySelector('pre.output')`)
	if out := b.text("pre.output"); !strings.Contains(out, "beacon") {
		t.Errorf("invocation output %q", out)
	}
	b.shot("invocation")
	b.checkClean()
}

// jsonUnmarshal is json.Unmarshal, named for the tests' brevity.
var jsonUnmarshal = func(b []byte, v any) error { return jsonDecode(b, v) }

// drop drops a file on the element matching sel, as a drag from the desktop.
func (b *browser) drop(sel, file string) {
	b.t.Helper()
	b.do("scroll to "+sel, chromedp.ScrollIntoView(chromedp.CSS(sel)))
	rect := eval[[]float64](b, fmt.Sprintf(`(()=>{const r=document.querySelector(%s).getBoundingClientRect();return [r.x+r.width/2,r.y+r.height/2]})()`, jsString(sel)))
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: []string{file}, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		call(b, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: rect[0], Y: rect[1], Data: data})
	}
}

// xss is input whose every part would run script if the page parsed it as
// HTML; each sets window.__pwned to say which part ran.
const xss = `<script>window.__pwned='script'</script><img src=x onerror="window.__pwned='img'"><svg onload="window.__pwned='svg'"></svg>`

// TestUISafe checks that plugin output, stored strings, report HTML and ticket
// text are shown without running script, with nothing reported by the CSP.
func TestUISafe(t *testing.T) {
	needBrowser(t)
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	if r := d.upload(t, alice, "echo", "plugins/testdata/echo"); r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", alice, []byte(`{"description":`+jsString(xss)+`,"config":{"k":`+jsString(xss)+`}}`))
	d.must(t, http.StatusOK, "PATCH", "/v1/users/alice", d.Admin, []byte(`{"ceiling":{"capabilities":["tickets.read"],"tenants":["acme"]}}`))
	report := d.must(t, http.StatusOK, "POST", "/v1/reports/publish", d.Admin, []byte(`{"tenant":"acme","title":`+jsString("Weekly "+xss)+
		`,"markdown":`+jsString("# Week 45\n\n"+xss+"\n\n[click](javascript:parent.__pwned='link')\n\n| host | events |\n| --- | --- |\n| WS01 | 42 |\n")+`}`)).JSON(t)
	d.must(t, http.StatusOK, "POST", "/v1/tickets/create", d.Admin, []byte(`{"tenant":"acme","title":`+jsString("Beacon "+xss)+
		`,"description":`+jsString(xss)+`,"severity":"high","observables":[{"type":"domain","value":"evil.example"}]}`))

	b := newBrowser(t, d)
	b.signIn(alice)
	pwned := func(where string) {
		t.Helper()
		if v := eval[string](b, `String(window.__pwned ?? '')`); v != "" {
			t.Fatalf("%s: script ran (%s)", where, v)
		}
	}

	// The list and the settings show the description and config as text.
	b.waitFor("the echo row", `document.querySelector('table.plugins tbody tr')`)
	if got := b.text("table.plugins .desc"); got != xss {
		t.Errorf("description shown as %q, want the text itself", got)
	}
	pwned("plugin list")
	b.open("#/plugins/echo/settings")
	b.waitFor("the config", `document.querySelector('table.config input')`)
	if v := eval[string](b, `document.querySelectorAll('table.config input')[1].value`); v != xss {
		t.Errorf("config value shown as %q", v)
	}
	pwned("settings")

	// Output that is a script tag, on the run tab, in history and on its page.
	b.open("#/plugins/echo/run")
	b.fill("#run-input", xss)
	b.click("#run-button")
	b.waitFor("the output", `document.querySelector('#run-result pre.output')`)
	if got := b.text("#run-result pre.output"); got != xss {
		t.Errorf("output shown as %q, want the text itself", got)
	}
	if b.exists("#run-result script, #run-result img, #run-result svg:not(.spark)") {
		t.Errorf("the output became elements")
	}
	pwned("run")
	b.open("#/plugins/echo/history")
	b.click("#history tbody tr:first-child a")
	b.waitFor("the invocation's output", `document.querySelector('pre.output')`)
	if got := b.text("pre.output"); got != xss {
		t.Errorf("stored output shown as %q", got)
	}
	pwned("invocation")

	// The report is HTML: it is framed, sandboxed without scripts, and
	// served with a CSP that forbids them too.
	id := fmt.Sprint(report["id"])
	b.open("#/reports/acme/" + id)
	b.waitFor("the report frame", `document.getElementById('report-frame')`)
	sandbox := eval[string](b, `document.getElementById('report-frame').getAttribute('sandbox')`)
	if strings.Contains(sandbox, "allow-scripts") || strings.Contains(sandbox, "allow-same-origin") {
		t.Errorf("report frame sandbox %q lets scripts or the origin in", sandbox)
	}
	view := d.URL + "/v1/reports/" + id + "/view?tenant=acme"
	b.waitFor("the report page loaded", `performance.getEntriesByName(`+jsString(view)+`).length > 0`)
	res := b.response(view)
	if res == nil || res.Status != http.StatusOK {
		t.Fatalf("report view response %+v", res)
	}
	if csp := fmt.Sprint(res.Headers["Content-Security-Policy"]); !strings.HasPrefix(csp, "sandbox") || strings.Contains(csp, "script-src") {
		t.Errorf("report view CSP %q", csp)
	}
	b.shot("report")
	pwned("report")

	// Tickets are text too.
	b.open("#/tickets?tenant=acme")
	b.waitFor("the ticket row", `document.querySelector('table.tickets tbody tr a')`)
	b.click("table.tickets tbody tr a")
	b.waitFor("the ticket", `document.querySelector('pre.prose')`)
	if got := b.text("pre.prose"); got != xss {
		t.Errorf("ticket description shown as %q", got)
	}
	pwned("ticket")
	b.checkNoLeak(alice)
	b.checkClean()
}

// TestUIViewer checks that a viewer sees plugins but no control that would
// change them, and that requests forged from the viewer's own page are
// refused by the API.
func TestUIViewer(t *testing.T) {
	needBrowser(t)
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	victor := d.user(t, "victor", "viewer")
	if r := d.upload(t, alice, "echo", "plugins/testdata/echo"); r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	d.upload(t, alice, "echo", "plugins/testdata/echo")
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/echo/schedule", alice, []byte(`{"cron":"@daily","timezone":"UTC"}`))
	d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("hi"))

	b := newBrowser(t, d)
	b.signIn(victor)
	b.waitFor("the echo row", `document.querySelector('table.plugins tbody tr')`)
	if b.exists("#new-plugin") {
		t.Errorf("a viewer sees the new-plugin button")
	}
	if nav := b.text("#nav"); strings.Contains(nav, "Audit") || strings.Contains(nav, "Users") {
		t.Errorf("a viewer's navigation offers %q", nav)
	}
	mutating := map[string]string{
		"run":      "#run-button, #run-input",
		"versions": "button[data-version], #drop-zone, #wasm-file",
		"schedule": "#sched-save, #sched-cron, .sched-form",
		"settings": "#settings-save, table.config button",
		"grant":    "#grant-save, .grant-form",
		"owner":    "#transfer-to, .transfer-form, button.danger",
	}
	for tab, sel := range mutating {
		b.open("#/plugins/echo/" + tab)
		b.waitFor("the "+tab+" tab", `document.querySelector('#tab-`+tab+`[aria-current="page"]') && document.querySelector('.tab-body h2')`)
		if b.exists(sel) {
			t.Errorf("a viewer sees %s on the %s tab", sel, tab)
		}
		if n := b.count(".tab-body button"); n > 0 {
			t.Errorf("a viewer sees %d buttons on the %s tab: %s", n, tab, b.text(".tab-body"))
		}
	}
	if !b.exists(`#history tbody tr`) {
		b.open("#/plugins/echo/history")
		b.waitFor("history", `document.querySelector('#history tbody tr')`)
	}
	b.open("#/audit")
	b.waitText("main", "Only an admin")

	// The keyboard: Tab first reaches the skip link, which moves focus to
	// the content; "/" on the list jumps to the search box.
	b.open("#/plugins")
	b.do("reload", chromedp.Reload())
	b.waitFor("the list", `document.querySelector('table.plugins tbody tr')`)
	b.do("tab", chromedp.KeyEvent(kb.Tab))
	if id := eval[string](b, `document.activeElement.id`); id != "skip" {
		t.Errorf("the first Tab stop is %q, want the skip link", id)
	}
	b.do("enter", chromedp.KeyEvent(kb.Enter))
	b.waitFor("focus on the content", `document.activeElement.id === 'main' && location.hash.startsWith('#/plugins')`)
	b.do("slash", chromedp.KeyEvent("/"))
	b.waitFor("the search box focused", `document.activeElement.id === 'plugin-search'`)
	// (DevTools sends the key's character as its own event, which the page's
	// preventDefault on keydown cannot stop as a real key press's is; so type
	// the filter afresh.)
	b.fill("#plugin-search", "ech")
	b.waitFor("the filtered list", `location.hash.includes('q=ech') && document.querySelectorAll('table.plugins tbody tr').length === 1`)

	// Forged requests from the viewer's page, with the session's CSRF token:
	// the role still forbids them.
	forged := []struct{ method, path, body string }{
		{"POST", "/v1/plugins/echo/invoke", "x"},
		{"PATCH", "/v1/plugins/echo", `{"current_version":1}`},
		{"PUT", "/v1/plugins/echo/schedule", `{"cron":"* * * * *"}`},
		{"DELETE", "/v1/plugins/echo/schedule", ""},
		{"PUT", "/v1/plugins/echo/grant", `{"capabilities":["kv"],"tenants":[],"allowed_hosts":[]}`},
		{"POST", "/v1/plugins/echo/versions", "\x00asm"},
		{"DELETE", "/v1/plugins/echo", ""},
		{"POST", "/v1/users", `{"name":"mallory","role":"admin"}`},
	}
	for _, f := range forged {
		status := eval[int](b, fmt.Sprintf(`(async()=>{
			const s = await (await fetch('/v1/session')).json();
			const r = await fetch(%s, {method: %s, body: %s || undefined, headers: {'X-Lhk-CSRF': s.csrf_token, 'Content-Type': 'application/json'}});
			return r.status })()`, jsString(f.path), jsString(f.method), jsString(f.body)))
		if status != http.StatusForbidden {
			t.Errorf("viewer %s %s = %d, want 403", f.method, f.path, status)
		}
	}
	var p struct {
		CurrentVersion int `json:"current_version"`
		Schedule       *struct{ Cron string }
	}
	if err := jsonUnmarshal(d.must(t, http.StatusOK, "GET", "/v1/plugins/echo", alice, nil).Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.CurrentVersion != 2 || p.Schedule == nil || p.Schedule.Cron != "@daily" {
		t.Errorf("the forged requests changed echo: %+v", p)
	}

	// Japanese: the switch is remembered and sets lang.
	b.choose("#lang", "日本語")
	b.waitText("#nav", "プラグイン")
	b.do("reload", chromedp.Reload())
	b.waitFor("Japanese after reload", `document.documentElement.lang === 'ja' && document.getElementById('nav').textContent.includes('実行履歴')`)
	b.open("#/plugins/echo/versions")
	b.waitText("main", "アップロードした人")
	b.checkLabels("versions (ja)")
	b.checkNoLeak(victor)
	b.checkClean()
}

// TestUICSRF checks that state-changing requests need the page's CSRF token:
// a request with the cookie and without the header is refused, whether sent
// by a client, by the page itself, or by a page of another origin on the
// same site (SameSite does not stop those) or on another site.
func TestUICSRF(t *testing.T) {
	needBrowser(t)
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	if r := d.upload(t, alice, "echo", "plugins/testdata/echo"); r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	runs := func() int {
		t.Helper()
		var l struct{ Invocations []any }
		if err := jsonUnmarshal(d.must(t, http.StatusOK, "GET", "/v1/invocations?plugin=echo", alice, nil).Body, &l); err != nil {
			t.Fatal(err)
		}
		return len(l.Invocations)
	}

	// A client with the cookie: refused without the header, served with it.
	req, _ := http.NewRequest("POST", d.URL+"/v1/session", nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("sign in: %v %v", err, res)
	}
	var s struct {
		CSRF string `json:"csrf_token"`
	}
	if err := jsonDecodeReader(res.Body, &s); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookie := res.Cookies()[0]
	invoke := func(csrf string) int {
		req, _ := http.NewRequest("POST", d.URL+"/v1/plugins/echo/invoke", strings.NewReader("x"))
		req.AddCookie(cookie)
		if csrf != "" {
			req.Header.Set("X-Lhk-CSRF", csrf)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := invoke(""); got != http.StatusForbidden {
		t.Errorf("POST with the cookie, without the CSRF header = %d, want 403", got)
	}
	if got := invoke("0123"); got != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF header = %d, want 403", got)
	}
	if got := invoke(s.CSRF); got != http.StatusOK {
		t.Errorf("POST with the CSRF header = %d, want 200", got)
	}
	before := runs()

	// The signed-in page itself, without the header.
	b := newBrowser(t, d)
	b.signIn(alice)
	if status := eval[int](b, `fetch('/v1/plugins/echo/invoke', {method: 'POST', body: 'x'}).then(r => r.status)`); status != http.StatusForbidden {
		t.Errorf("the page's own POST without the header = %d, want 403", status)
	}

	// Pages of other origins: one on the same site (another port of
	// 127.0.0.1: the cookie is sent), one on another site (localhost: it is not).
	_, port, _ := strings.Cut(strings.TrimPrefix(d.URL, "http://"), ":")
	target := d.URL + "/v1/plugins/echo/invoke"
	evil := httptestServer(t, `<!doctype html><title>evil</title>
<form id=f method=post enctype=text/plain action="`+target+`"><input name=x value=y></form>
<script>
fetch("`+target+`", {method: "POST", credentials: "include", mode: "no-cors", body: "evil"})
  .finally(() => document.getElementById("f").submit());
</script>`)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		url := strings.Replace(evil, "127.0.0.1", host, 1)
		b.do("open the attacker's page on "+host, chromedp.Navigate(url))
		b.waitFor("the forged form's answer", `location.port === `+jsString(port))
		if body := b.text("body"); !strings.Contains(body, "forbidden") && !strings.Contains(body, "unauthorized") {
			t.Errorf("the form from %s got %q, want a refusal", host, body)
		}
	}
	if after := runs(); after != before {
		t.Errorf("forged requests ran echo %d times", after-before)
	}
	// The refused cross-site requests were not the page's: it still works.
	b.do("back to the UI", chromedp.Navigate(d.URL+"/ui/#/plugins/echo/run"))
	b.waitFor("the run form", `document.getElementById('run-button')`)
	b.fill("#run-input", "legit")
	b.click("#run-button")
	b.waitFor("the ok run", `document.querySelector('#run-result .status-ok')`)
	if after := runs(); after != before+1 {
		t.Errorf("%d new runs, want the page's one", after-before)
	}
	b.checkNoLeak(alice)
}

// TestUIAdmin is an admin's round: add a user and see the token once, change
// a role, widen a plugin's grant until nothing is missing, transfer it, read
// the audit log, sign out.
func TestUIAdmin(t *testing.T) {
	needBrowser(t)
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	if r := d.upload(t, alice, "counter", "plugins/testdata/kvcounter"); r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	b := newBrowser(t, d)
	b.signIn(d.Admin)

	b.open("#/users")
	b.fill("#user-name", "carol")
	b.click("form.user-form button[type=submit]")
	b.waitFor("carol's token", `document.querySelector('#new-token code.token')`)
	token := b.text("#new-token code.token")
	me := d.must(t, http.StatusOK, "GET", "/v1/users/me", token, nil).JSON(t)
	if me["name"] != "carol" || me["role"] != "analyst" {
		t.Fatalf("the shown token is %v", me)
	}
	b.checkLabels("users")
	b.shot("users")
	b.choose(`select[aria-label="Role of carol"]`, "viewer")
	b.click(`tr:has(select[aria-label="Role of carol"]) button.small`)
	b.waitText("#notices", "Saved carol")
	if role := d.must(t, http.StatusOK, "GET", "/v1/users/me", token, nil).JSON(t)["role"]; role != "viewer" {
		t.Errorf("carol's role %v, want viewer", role)
	}

	// The grant: the module needs kv, which is missing, until the admin grants it.
	b.open("#/plugins/counter/grant")
	b.waitFor("required capabilities", `document.querySelector('#caps-required .cap-missing')`)
	if w := b.text("p.warn"); !strings.Contains(w, "kv") {
		t.Errorf("missing-capability warning %q", w)
	}
	b.checkLabels("grant")
	b.click("#cap-kv")
	b.fill("#grant-tenants-input", "acme")
	b.click("#grant-save")
	b.waitFor("kv granted", `document.querySelector('#caps-required .cap-ok') && !document.querySelector('p.warn')`)
	b.waitText("#grant-caps", "kv")
	b.shot("grant")
	b.open("#/plugins/counter/run")
	b.click("#run-button")
	b.waitFor("the counter ran", `document.querySelector('#run-result .status-ok')`)
	b.waitText("#run-result pre.output", `"count": 1`)
	b.waitText("#run-result table.logs", "counter is now 1")

	// Transfer: refused to a viewer with the API's reason, done to an analyst.
	d.user(t, "dave", "analyst")
	b.open("#/plugins/counter/owner")
	b.fill("#transfer-to", "carol")
	b.click(".transfer-form button.primary")
	b.click(".transfer-form button.primary") // the confirmation
	b.waitText(".transfer-form .error", "viewer")
	b.fill("#transfer-to", "dave")
	b.click(".transfer-form button.primary")
	b.click(".transfer-form button.primary")
	b.waitText("#owner-name", "dave")

	// The audit log has all of it, with the actor.
	b.open("#/audit")
	b.waitFor("audit entries", `document.querySelector('table.audit tbody tr')`)
	log := b.text("table.audit")
	for _, want := range []string{"session.create", "user.create", "user.update", "grant.set", "plugin.transfer"} {
		if !strings.Contains(log, want) {
			t.Errorf("the audit log lacks %s", want)
		}
	}
	b.fill("#audit-target", "plugin/counter")
	b.waitFor("filtered audit", `[...document.querySelectorAll('table.audit tbody tr')].every(r => r.textContent.includes('plugin/counter'))`)
	b.shot("audit")
	b.signOut()
	es := d.must(t, http.StatusOK, "GET", "/v1/audit?actor=admin&target=user/admin", d.Admin, nil).Body
	if !strings.Contains(string(es), "session.delete") {
		t.Errorf("signing out was not audited: %s", es)
	}
	b.checkNoLeak(d.Admin, token, alice)
	b.checkClean()
}

// ceiling sets a user's ceiling as an admin.
func (d *testDaemon) ceiling(t *testing.T, name string, caps, tenants []string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"ceiling": map[string]any{"capabilities": caps, "tenants": tenants}})
	d.must(t, http.StatusOK, "PATCH", "/v1/users/"+name, d.Admin, b)
}

// TestUIAccount: an analyst reads their account (name, role, ceiling) and
// renews their own token: the new one is shown once, the old one and the
// session stop working at once, and signing in with the new one works. The
// navigation follows the ceiling. An admin renewing their own token on the
// users page gets the same.
func TestUIAccount(t *testing.T) {
	needBrowser(t)
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	d.ceiling(t, "alice", []string{"logs.read", "filters.read"}, []string{"acme", "globex"})
	b := newBrowser(t, d)

	b.signIn(alice)
	if nav := b.text("#nav"); !strings.Contains(nav, "Filters") || strings.Contains(nav, "Assets") {
		t.Errorf("with filters.read and no assets.read the navigation is %q", nav)
	}
	b.click("#account-link")
	b.waitFor("the account page", `location.hash === '#/account' && document.getElementById('account-facts')`)
	for sel, want := range map[string][]string{"#account-name": {"alice"}, "#account-role": {"analyst"}, "#account-caps": {"logs.read", "filters.read"}, "#account-tenants": {"acme", "globex"}} {
		got := b.text(sel)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s = %q, want %q in it", sel, got, w)
			}
		}
	}
	if got := b.text("#account-caps"); strings.Contains(got, "filters.write") {
		t.Errorf("the ceiling shown is %q", got)
	}
	if b.text("#account-session") == "" {
		t.Errorf("the account page does not say when the session ends")
	}
	b.checkLabels("account")
	b.shot("account")

	// Renew, after the confirmation.
	b.click("#renew button.danger")
	if b.exists("#new-token") {
		t.Fatal("the token was renewed before the confirmation")
	}
	b.click("#renew button.danger")
	b.waitFor("the new token", `document.querySelector('#new-token code.token')`)
	token := b.text("#new-token code.token")
	if !strings.HasPrefix(token, "lhk_") || token == alice {
		t.Fatalf("shown token %q", token)
	}
	b.shot("account-renewed")
	if msg := b.text("#new-token"); !strings.Contains(msg, "replaces your old token") || !strings.Contains(msg, "This session has ended") {
		t.Errorf("the new token's card says %q", msg)
	}
	if r := d.do(t, "GET", "/v1/users/me", alice, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the old token after renewal: %d, want 401", r.Status)
	}
	if me := d.must(t, http.StatusOK, "GET", "/v1/users/me", token, nil).JSON(t); me["name"] != "alice" {
		t.Errorf("the new token is %v's", me["name"])
	}
	if b.exists("#signout") || b.exists("#nav a") {
		t.Errorf("the page still shows the ended session's controls")
	}
	if status := eval[int](b, `fetch('/v1/session').then(r => r.status)`); status != http.StatusUnauthorized {
		t.Errorf("the session after renewal: %d, want 401", status)
	}

	// Sign in: the old token is refused, the new one works, and the token
	// is no longer on the page.
	b.click("#signin-new")
	b.waitFor("the sign-in form", `document.getElementById('token')`)
	if html := eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, token) {
		t.Errorf("the new token is still on the page after it was shown")
	}
	b.do("type the old token", chromedp.SendKeys(chromedp.ID("token"), alice+"\n"))
	b.waitText(".signin-status", "not valid")
	b.fill("#token", token+"\n")
	b.waitFor("signed in with the new token", `document.getElementById('signout')`)
	b.waitText(".whoami", "alice")
	b.checkNoLeak(alice, token)

	// An admin renewing their own token on the users page: the same.
	b.signOut()
	b.signIn(d.Admin)
	b.open("#/users")
	row := `tr:has(select[aria-label="Role of admin"])`
	b.click(row + " .confirm button")
	b.click(row + " .confirm button")
	b.waitFor("the admin's new token", `document.querySelector('#new-token code.token') && document.getElementById('signin-new')`)
	admin := b.text("#new-token code.token")
	if r := d.do(t, "GET", "/v1/users/me", d.Admin, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the admin's old token after renewal: %d, want 401", r.Status)
	}
	d.must(t, http.StatusOK, "GET", "/v1/users/me", admin, nil)
	b.click("#signin-new")
	b.waitFor("the sign-in form", `document.getElementById('token')`)
	b.fill("#token", admin+"\n")
	b.waitFor("signed in", `document.getElementById('signout')`)

	// An admin picks any tenant: the box suggests those of users' ceilings.
	b.open("#/filters")
	b.waitFor("the tenants of alice's ceiling suggested", `document.querySelector('#tenant-list option[value="acme"]') && document.querySelector('#tenant-list option[value="globex"]')`)
	b.fill("#tenant", "globex")
	b.waitText("#filters", "No filters for this tenant")
	if !b.exists("#filter-form") {
		t.Errorf("an admin has no filter form")
	}
	b.checkNoLeak(alice, token, d.Admin, admin)
	b.checkClean()
}

// TestUIFilters: a viewer sees a tenant's filters with expiry and hits
// highlighted and no control that changes them, and a delete forged without
// the CSRF token is refused; an analyst with filters.write creates a filter
// with two conditions, counts its hits, edits it and deletes it.
func TestUIFilters(t *testing.T) {
	needBrowser(t)
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	victor := d.user(t, "victor", "viewer")
	d.ceiling(t, "alice", []string{"logs.read", "filters.read", "filters.write"}, []string{"acme"})
	d.ceiling(t, "victor", []string{"filters.read"}, []string{"acme"})

	now := time.Now().UTC()
	at := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC3339) }
	events := strings.Join([]string{
		`{"@timestamp":"` + at(2*time.Hour) + `","event.code":4625,"user.name":"svc-backup","host.name":"FS01"}`,
		`{"@timestamp":"` + at(3*time.Hour) + `","event.code":4625,"user.name":"svc-backup","host.name":"FS01"}`,
		`{"@timestamp":"` + at(26*time.Hour) + `","event.code":4625,"user.name":"svc-backup","host.name":"FS02"}`,
		`{"@timestamp":"` + at(time.Hour) + `","event.code":4625,"user.name":"j.doe","host.name":"WS01"}`,
		`{"@timestamp":"` + at(40*24*time.Hour) + `","event.code":5156,"source.ip":"10.9.3.4","host.name":"SCAN01"}`,
	}, "\n")
	d.must(t, http.StatusOK, "POST", "/v1/logs?tenant=acme", d.Admin, []byte(events))
	for _, f := range []string{
		`{"tenant":"acme","name":"legacy-scanner","conditions":[{"field":"source.ip","op":"cidr","value":"10.9.0.0/16"}],"reason":"the old vulnerability scanner"}`,
		`{"tenant":"acme","name":"pentest-week","conditions":[{"field":"host.name","op":"prefix","value":"PT-"}],"reason":"agreed pentest","expires_at":"` + now.Add(3*24*time.Hour).Format(time.RFC3339) + `"}`,
		`{"tenant":"acme","name":"old-migration","conditions":[{"field":"process.command_line","op":"contains","value":"robocopy /mir"}],"reason":"file server move","expires_at":"` + at(24*time.Hour) + `"}`,
	} {
		d.must(t, http.StatusOK, "POST", "/v1/filters/upsert", d.Admin, []byte(f))
	}
	b := newBrowser(t, d)

	// The viewer: the list, read-only.
	b.signIn(victor)
	if nav := b.text("#nav"); !strings.Contains(nav, "Filters") || strings.Contains(nav, "Assets") {
		t.Errorf("the viewer's navigation is %q", nav)
	}
	b.click(`#nav a[href="#/filters"]`)
	b.waitFor("three filters", `document.querySelectorAll('table.filters tbody tr').length === 3`)
	rowText := func(name string) string { return b.text(`table.filters tr[data-name="` + name + `"]`) }
	if got := b.text(`tr[data-name="old-migration"] code.conditions`); got != `process.command_line contains "robocopy /mir"` {
		t.Errorf("conditions shown as %q", got)
	}
	if !b.exists(`tr.expired[data-name="old-migration"] .badge.expired`) {
		t.Errorf("the expired filter is not marked: %q", rowText("old-migration"))
	}
	if !b.exists(`tr.expiring[data-name="pentest-week"] .badge.expiring`) || !strings.Contains(rowText("pentest-week"), "expires in 3 days") {
		t.Errorf("the filter expiring in 3 days is not marked: %q", rowText("pentest-week"))
	}
	if b.exists(`tr[data-name="legacy-scanner"] .badge`) {
		t.Errorf("the new filter without an expiry is marked: %q", rowText("legacy-scanner"))
	}
	if b.exists("#filter-form, table.filters button, table.filters .confirm") {
		t.Errorf("a viewer sees controls that change filters")
	}
	b.checkLabels("filters (viewer)")
	b.shot("filters-viewer")
	forged := `(async () => {
		const body = JSON.stringify({tenant: 'acme', name: 'legacy-scanner'});
		const headers = {'Content-Type': 'application/json'};
		const bare = await fetch('/v1/filters/delete', {method: 'POST', headers, body});
		const s = await (await fetch('/v1/session')).json();
		const csrf = await fetch('/v1/filters/delete', {method: 'POST', headers: {...headers, 'X-Lhk-CSRF': s.csrf_token}, body});
		return [bare.status, (await bare.json()).error.message, csrf.status, (await csrf.json()).error.message];
	})()`
	res := eval[[]any](b, forged)
	if res[0] != float64(http.StatusForbidden) || !strings.Contains(fmt.Sprint(res[1]), "X-Lhk-CSRF") {
		t.Errorf("a delete without the CSRF header: %v %v, want 403 naming X-Lhk-CSRF", res[0], res[1])
	}
	if res[2] != float64(http.StatusForbidden) || !strings.Contains(fmt.Sprint(res[3]), "filters.write") {
		t.Errorf("a viewer's delete with the CSRF header: %v %v, want 403 naming filters.write", res[2], res[3])
	}
	if names := fmt.Sprint(d.must(t, http.StatusOK, "GET", "/v1/filters?tenant=acme&include_expired=true", alice, nil).JSON(t)["filters"]); !strings.Contains(names, "legacy-scanner") {
		t.Errorf("the forged delete removed the filter: %s", names)
	}

	// The analyst: create a filter with two conditions.
	b.signOut()
	b.signIn(alice)
	b.open("#/filters")
	b.waitFor("the filter form", `document.querySelector('table.filters tbody tr') && document.getElementById('filter-form')`)
	b.fill("#filter-name", "svc-backup-logon")
	b.fill(".cond-row:nth-child(1) .cond-field", "event.code")
	b.fill(".cond-row:nth-child(1) .cond-value", "4625")
	b.click("#add-condition")
	b.fill(".cond-row:nth-child(2) .cond-field", "user.name")
	b.fill(".cond-row:nth-child(2) .cond-value", "svc-backup")
	b.fill("#filter-reason", "nightly backup retries with an old password")
	if got := b.text("#cond-preview"); got != "event.code = 4625 AND user.name = svc-backup" {
		t.Errorf("preview %q", got)
	}
	b.checkLabels("filter form")
	b.shot("filter-form")
	b.click("#filter-save")
	b.waitText("#notices", "Saved filter svc-backup-logon")
	b.waitFor("the new filter listed", `document.querySelector('tr[data-name="svc-backup-logon"]')`)
	if got := b.text(`tr[data-name="svc-backup-logon"] code.conditions`); got != "event.code = 4625 AND user.name = svc-backup" {
		t.Errorf("the new filter's conditions shown as %q", got)
	}
	if got := b.text(`tr[data-name="svc-backup-logon"] td.hits`); got != "0" {
		t.Errorf("the new filter's hits before counting: %q", got)
	}
	var stored struct {
		Filters []struct {
			Name, Owner string
			Conditions  []map[string]any
		}
	}
	if err := jsonUnmarshal(d.must(t, http.StatusOK, "GET", "/v1/filters?tenant=acme", alice, nil).Body, &stored); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range stored.Filters {
		if f.Name == "svc-backup-logon" {
			found = f.Owner == "alice" && len(f.Conditions) == 2 && f.Conditions[1]["field"] == "user.name" && f.Conditions[1]["value"] == "svc-backup"
		}
	}
	if !found {
		t.Errorf("stored filters %+v", stored.Filters)
	}

	// Count hits over 90 days: three events match the new filter; the
	// scanner's one hit is 40 days old.
	b.choose("#stats-window", "the last 90 days")
	b.click("#count-hits")
	b.waitText("#stats-note", "Counted 4 filters over the last 90 days")
	b.waitFor("the counted hits", `document.querySelector('tr[data-name="svc-backup-logon"] td.hits').textContent === '3'`)
	if got := b.text(`tr[data-name="legacy-scanner"] td.hits`); got != "1" {
		t.Errorf("the scanner filter's hits %q, want 1", got)
	}
	if !b.exists(`tr.stale[data-name="legacy-scanner"] .badge.stale`) {
		t.Errorf("the filter whose last hit is 40 days old is not marked: %q", rowText("legacy-scanner"))
	}
	b.shot("filters-counted")
	if b.exists(`tr[data-name="svc-backup-logon"] .badge.stale`) {
		t.Errorf("the filter hit 2 hours ago is marked stale")
	}

	// Edit: the form holds the filter; a new reason keeps the rest.
	b.click(`tr[data-name="svc-backup-logon"] button.edit`)
	b.waitFor("the filter in the form", `document.getElementById('filter-name').readOnly && document.querySelectorAll('.cond-row').length === 2`)
	b.fill("#filter-reason", "backup job retries; ticket CHG-1234")
	b.click("#filter-save")
	b.waitText(`tr[data-name="svc-backup-logon"] td.reason`, "CHG-1234")
	if got := b.text(`tr[data-name="svc-backup-logon"] td.hits`); got != "3" {
		t.Errorf("editing reset the hits to %q", got)
	}

	// Delete, after the confirmation.
	b.click(`tr[data-name="svc-backup-logon"] button.danger`)
	b.click(`tr[data-name="svc-backup-logon"] button.danger`)
	b.waitText("#notices", "Deleted filter svc-backup-logon")
	b.waitFor("the filter gone", `!document.querySelector('tr[data-name="svc-backup-logon"]') && document.querySelectorAll('table.filters tbody tr').length === 3`)
	if r := d.do(t, "POST", "/v1/filters/delete", alice, []byte(`{"tenant":"acme","name":"svc-backup-logon"}`)); r.Status != http.StatusNotFound {
		t.Errorf("deleting the deleted filter again: %d, want 404", r.Status)
	}
	b.checkNoLeak(alice, victor)
	b.checkClean()
}

// TestUIAssets: an analyst finds a host by IP, adds one that is missing and
// updates one; a viewer looks up but has no form.
func TestUIAssets(t *testing.T) {
	needBrowser(t)
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	victor := d.user(t, "victor", "viewer")
	d.ceiling(t, "alice", []string{"assets.read"}, []string{"acme"})
	d.ceiling(t, "victor", []string{"assets.read"}, []string{"acme"})
	d.must(t, http.StatusOK, "PUT", "/v1/assets", d.Admin, []byte(`{"tenant":"acme","name":"WS01","ips":["10.0.0.5","fe80::1"],"owner":"j.doe","os":"Windows 11","criticality":"high","tags":["laptop","finance"]}`))
	b := newBrowser(t, d)

	b.signIn(alice)
	if nav := b.text("#nav"); !strings.Contains(nav, "Assets") || strings.Contains(nav, "Filters") {
		t.Errorf("with assets.read and no filters.read the navigation is %q", nav)
	}
	b.click(`#nav a[href="#/assets"]`)
	b.waitFor("the lookup form", `document.getElementById('asset-q')`)
	b.checkLabels("assets")
	b.fill("#asset-q", "10.0.0.5\n")
	b.waitText("#asset-result h2", "WS01")
	card := b.text("#asset-result")
	for _, want := range []string{"10.0.0.5", "fe80::1", "j.doe", "Windows 11", "high", "finance", "laptop"} {
		if !strings.Contains(card, want) {
			t.Errorf("the asset card %q lacks %q", card, want)
		}
	}
	b.shot("assets")
	if !strings.Contains(eval[string](b, `location.hash`), "q=10.0.0.5") {
		t.Errorf("the lookup is not in the address: %s", eval[string](b, `location.hash`))
	}

	// A host that is missing: the form starts with its IP.
	b.fill("#asset-q", "10.0.0.99\n")
	b.waitFor("not found", `document.getElementById('asset-none')`)
	if v := eval[string](b, `document.getElementById('asset-ips').value`); v != "10.0.0.99" {
		t.Errorf("the form's IPs %q, want the looked-up IP", v)
	}
	b.fill("#asset-name", "SRV-DB01")
	b.fill("#asset-owner", "dba-team")
	b.fill("#asset-os", "Ubuntu 24.04")
	b.choose("#asset-criticality", "critical")
	b.fill("#asset-tags", "db, pci")
	b.click("#asset-save")
	b.waitText("#notices", "Saved asset SRV-DB01")
	b.waitText("#asset-result h2", "SRV-DB01")
	a := d.must(t, http.StatusOK, "POST", "/v1/assets/lookup", alice, []byte(`{"tenant":"acme","host":"10.0.0.99"}`)).JSON(t)
	if a["name"] != "SRV-DB01" || a["criticality"] != "critical" || fmt.Sprint(a["tags"]) != "[db pci]" || a["owner"] != "dba-team" {
		t.Errorf("the saved asset %v", a)
	}

	// Update WS01: the form holds it, a new owner keeps the rest.
	b.fill("#asset-q", "ws01\n")
	b.waitText("#asset-result h2", "WS01")
	b.click("#asset-edit")
	b.waitFor("WS01 in the form", `document.getElementById('asset-name').value === 'WS01'`)
	b.fill("#asset-owner", "a.suzuki")
	b.click("#asset-save")
	b.waitText("#asset-result", "a.suzuki")
	a = d.must(t, http.StatusOK, "POST", "/v1/assets/lookup", alice, []byte(`{"tenant":"acme","host":"WS01"}`)).JSON(t)
	if a["owner"] != "a.suzuki" || fmt.Sprint(a["ips"]) != "[10.0.0.5 fe80::1]" || a["criticality"] != "high" || fmt.Sprint(a["tags"]) != "[finance laptop]" {
		t.Errorf("the updated asset %v", a)
	}
	b.checkNoLeak(alice)

	// The viewer looks up, and has no form.
	b.signOut()
	b.signIn(victor)
	b.open("#/assets?tenant=acme&q=10.0.0.99")
	b.waitText("#asset-result h2", "SRV-DB01")
	if b.exists("#asset-form, #asset-edit") {
		t.Errorf("a viewer sees controls that change assets")
	}
	b.checkNoLeak(alice, victor)
	b.checkClean()
}

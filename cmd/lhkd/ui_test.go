package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// TestUIAnalyst is an analyst's day in the UI: sign in, upload a plugin with
// the file input, upload a broken version by dropping it, see it fail, roll
// back, run it, schedule it (after a bad spec), read and filter the history.
func TestUIAnalyst(t *testing.T) {
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

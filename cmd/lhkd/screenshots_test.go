package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	demodata "github.com/lhk-soc/lhk/demo"
	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// TestUIScreenshots writes the screenshots of docs/ui.md (docs/img/ui-*.png)
// from `lhkd demo` with a few runs of its plugins, at a laptop's viewport.
// It runs only with LHK_UPDATE_SCREENSHOTS=1, so ordinary runs never rewrite
// the committed images:
//
//	LHK_UPDATE_SCREENSHOTS=1 go test -run TestUIScreenshots ./cmd/lhkd/
//
// Japanese text needs a CJK font on the machine (Debian: fonts-noto-cjk).
func TestUIScreenshots(t *testing.T) {
	if os.Getenv("LHK_UPDATE_SCREENSHOTS") != "1" {
		t.Skip("set LHK_UPDATE_SCREENSHOTS=1 to regenerate docs/img/ui-*.png")
	}
	needBrowser(t)
	root, err := wasmtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "docs", "img")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root) // the demo builds the plugins in ./plugins
	// The week of the committed images: the demo's today is the Monday after it.
	from, to := demodata.DefaultStart, demodata.DefaultStart.AddDate(0, 0, demodata.DefaultDays)
	d, _ := startDemo(t, t.TempDir(), to)
	waitDemoReady(t, d)

	// Some history: runs of every plugin, one of them failing.
	span := fmt.Sprintf(`"from":%q,"to":%q`, from.Format(time.RFC3339), to.Format(time.RFC3339))
	story := demodata.StoryTime(from).Add(30 * time.Minute).Format(time.RFC3339)
	runs := []struct{ plugin, input string }{
		{"ioc-extract", "Callback to 198.51.100.23 and hxxp://bad.example.org/x"},
		{"ioc-extract", "Beacon from WS01 to 203.0.113.7 (evil-c2.example.net)"},
		{"filter-upkeep", `{"tenant":"acme","stale_days":30}`},
		{"endpoint-triage", `{"tenant":"acme"}`},
		{"endpoint-triage", fmt.Sprintf(`{"tenant":"acme","host":%q,"time":%q,"window_minutes":120}`, demodata.Story.PatientZeroHost, story)},
		{"ioc-extract", "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 from evil-c2.example.net"},
		{"report", `{"tenant":"acme",` + span + `}`},
		{"ioc-extract", "nothing to see here"},
	}
	var triage string
	for _, r := range runs {
		res := d.do(t, "POST", "/v1/plugins/"+r.plugin+"/invoke", demoAliceToken, []byte(r.input))
		if res.Status != http.StatusOK && res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("run %s: %d %s", r.plugin, res.Status, res.Body)
		}
		if r.plugin == "endpoint-triage" && res.Status == http.StatusOK {
			triage = res.Header.Get("X-Lhk-Invocation")
		}
	}
	var reports struct {
		Reports []struct{ ID string }
	}
	if err := jsonUnmarshal(d.must(t, http.StatusOK, "GET", "/v1/reports?tenant=acme", demoAliceToken, nil).Body, &reports); err != nil || len(reports.Reports) == 0 {
		t.Fatalf("no report: %v", err)
	}

	b := newBrowser(t, d)
	b.do("laptop viewport", chromedp.EmulateViewport(1280, 800))
	b.signIn(demoAliceToken)
	save := func(name string) {
		t.Helper()
		time.Sleep(300 * time.Millisecond) // let the notice and fonts settle
		ctx, cancel := context.WithTimeout(b.ctx, step)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/img/%s (%d KiB)", name, len(png)>>10)
	}

	b.waitFor("the plugin list", `document.querySelectorAll('table.plugins tbody tr').length >= 5`)
	save("ui-plugins.png")

	b.open("#/plugins/report/schedule")
	b.waitFor("the schedule preview", `document.querySelectorAll('#sched-next li').length === 5`)
	save("ui-plugin-schedule.png")

	b.open("#/plugins/ioc-extract/run")
	b.fill("#run-input", "Beacon from WS07 to 203.0.113.9 (update-check.example.com), dropper md5 44d88612fea8a8f36de82e1278abb02f")
	b.click("#run-button")
	b.waitFor("the run's output", `document.querySelector('#run-result .status-ok')`)
	save("ui-plugin-run.png")

	b.open("#/invocations/" + triage)
	b.waitFor("the invocation", `document.querySelector('pre.output')`)
	save("ui-invocation.png")

	b.open("#/reports/acme/" + reports.Reports[0].ID)
	b.waitFor("the report frame", `document.getElementById('report-frame')`)
	time.Sleep(time.Second)
	save("ui-report.png")

	b.choose("#lang", "日本語")
	b.open("#/plugins")
	b.waitFor("the list in Japanese", `document.documentElement.lang === 'ja' && document.querySelector('table.plugins tbody tr')`)
	save("ui-plugins-ja.png")
	b.checkClean()
}

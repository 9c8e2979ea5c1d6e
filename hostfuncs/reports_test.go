package hostfuncs

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// memReports keeps reports in memory, newest last, scoped by tenant as the
// conformance suite requires of every backend.
type memReports struct{ rs []*lhk.Report }

var _ lhk.ReportService = (*memReports)(nil)

func (m *memReports) PublishReport(_ context.Context, r *lhk.Report) (*lhk.Report, error) {
	c := *r
	c.ID = "R" + string(rune('a'+len(m.rs)))
	c.CreatedAt = time.Date(2026, 11, 2, 9, len(m.rs), 0, 0, time.UTC)
	m.rs = append(m.rs, &c)
	return &c, nil
}

func (m *memReports) Report(_ context.Context, tenant, id string) (*lhk.Report, error) {
	for _, r := range m.rs {
		if r.Tenant == tenant && r.ID == id {
			return r, nil
		}
	}
	return nil, lhk.Errorf(lhk.ENOTFOUND, "report %q not found in tenant %q", id, tenant)
}

// Reports pages with the id of the last report as the cursor.
func (m *memReports) Reports(_ context.Context, tenant string, limit int, cursor string) ([]*lhk.Report, string, error) {
	if limit == 0 {
		limit = 50
	}
	var out []*lhk.Report
	for i := len(m.rs) - 1; i >= 0; i-- {
		r := m.rs[i]
		if r.Tenant != tenant {
			continue
		}
		if cursor != "" {
			if r.ID == cursor {
				cursor = ""
			}
			continue
		}
		if len(out) == limit {
			return out, out[len(out)-1].ID, nil
		}
		c := *r
		c.Markdown, c.HTML = "", ""
		out = append(out, &c)
	}
	return out, "", nil
}

func TestReportOps(t *testing.T) {
	store := &memReports{}
	ops := map[string]Op{}
	for _, o := range Catalog(Systems{Reports: store}) {
		ops[o.Import()] = o
	}
	call := &lhk.HostCall{Plugin: "report", Caller: "alice", Grant: lhk.Grant{Capabilities: lhk.Capabilities, Tenants: []string{"acme"}}}
	admin := &lhk.HostCall{Plugin: "report", Caller: "admin", Grant: lhk.Grant{Capabilities: lhk.Capabilities, Tenants: []string{"*"}}}
	do := func(t *testing.T, c *lhk.HostCall, name, req string) (string, error) {
		t.Helper()
		data, err := ops[name].handle(context.Background(), c, []byte(req))
		if err != nil {
			return "", err
		}
		b, _ := json.Marshal(data)
		return string(b), nil
	}
	for _, tenant := range []string{"acme", "acme", "globex", "acme"} {
		if _, err := do(t, admin, "reports_publish", `{"tenant":"`+tenant+`","title":"Weekly `+tenant+` secret","markdown":"# `+tenant+`"}`); err != nil {
			t.Fatal(err)
		}
	}
	globexID := store.rs[2].ID

	t.Run("ListTruncated", func(t *testing.T) {
		got, err := do(t, call, "reports_list", `{"tenant":"acme","limit":2}`)
		if err != nil {
			t.Fatal(err)
		}
		var page ReportsListResponse
		json.Unmarshal([]byte(got), &page)
		if len(page.Reports) != 2 || !page.Truncated || page.NextCursor == "" || page.Reports[0].ID != "Rd" {
			t.Fatalf("first page = %s", got)
		}
		got, err = do(t, call, "reports_list", `{"tenant":"acme","limit":2,"cursor":"`+page.NextCursor+`"}`)
		if err != nil {
			t.Fatal(err)
		}
		page = ReportsListResponse{}
		json.Unmarshal([]byte(got), &page)
		if len(page.Reports) != 1 || page.Truncated || page.NextCursor != "" || page.Reports[0].ID != "Ra" {
			t.Fatalf("last page = %s", got)
		}
		if strings.Contains(got, "globex") {
			t.Fatalf("acme's list holds globex: %s", got)
		}
	})
	t.Run("ListEmpty", func(t *testing.T) {
		got, err := do(t, call, "reports_list", `{"tenant":"acme","cursor":"Ra"}`)
		if err != nil || got != `{"reports":[],"next_cursor":"","truncated":false}` {
			t.Fatalf("empty page = %s, %v", got, err)
		}
	})
	t.Run("Get", func(t *testing.T) {
		got, err := do(t, call, "reports_get", `{"tenant":"acme","id":"Rb"}`)
		if err != nil || !strings.Contains(got, `"markdown":"# acme"`) || !strings.Contains(got, `"plugin":"report"`) {
			t.Fatalf("get = %s, %v", got, err)
		}
	})
	t.Run("ErrNotFoundOtherTenantsID", func(t *testing.T) {
		_, err := do(t, call, "reports_get", `{"tenant":"acme","id":"`+globexID+`"}`)
		if lhk.ErrorCode(err) != lhk.ENOTFOUND || strings.Contains(lhk.ErrorMessage(err), "secret") {
			t.Fatalf("globex's id asked as acme: %v", err)
		}
	})
	t.Run("ErrForbiddenOtherTenant", func(t *testing.T) {
		for _, req := range []string{`{"tenant":"globex","id":"` + globexID + `"}`} {
			_, err := do(t, call, "reports_get", req)
			if lhk.ErrorCode(err) != lhk.EFORBIDDEN || !strings.Contains(lhk.ErrorMessage(err), "globex") || strings.Contains(lhk.ErrorMessage(err), "secret") {
				t.Fatalf("reports_get on globex: %v", err)
			}
		}
		if _, err := do(t, call, "reports_list", `{"tenant":"globex"}`); lhk.ErrorCode(err) != lhk.EFORBIDDEN {
			t.Fatalf("reports_list on globex: %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		if _, err := do(t, call, "reports_get", `{"tenant":"acme"}`); lhk.ErrorCode(err) != lhk.EINVALID {
			t.Fatalf("get without id: %v", err)
		}
	})
	t.Run("Capabilities", func(t *testing.T) {
		if c := ops["reports_list"].Capability; c != lhk.CapReportsRead {
			t.Errorf("reports_list capability = %s", c)
		}
		if c := ops["reports_get"].Capability; c != lhk.CapReportsRead {
			t.Errorf("reports_get capability = %s", c)
		}
	})
}

// TestTimeoutDocumented: every operation that runs a log query lists timeout.
func TestTimeoutDocumented(t *testing.T) {
	for _, o := range Catalog(Systems{}) {
		queries := o.System == "logs" || o.Import() == "filters_stats" || o.Import() == "endpoints_collect"
		has := false
		for _, e := range o.Errors {
			has = has || e == lhk.ETIMEOUT
		}
		if queries != has {
			t.Errorf("%s: runs log queries %v, lists timeout %v", o.Import(), queries, has)
		}
	}
}

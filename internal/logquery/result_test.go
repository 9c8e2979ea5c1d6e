package logquery_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/logquery"
)

// newKeys returns the keys of a new store.
func newKeys(t *testing.T) *logquery.Keys {
	t.Helper()
	key, err := logquery.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := logquery.NewKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	from = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to   = from.Add(time.Hour)
)

// TestCheckSearch checks that the first fault of a search is the one
// reported, whichever store asks.
func TestCheckSearch(t *testing.T) {
	k := newKeys(t)
	bad := []lhk.Condition{{Field: "host.name", Op: "like", Value: "x"}}
	for _, tc := range []struct {
		name string
		req  lhk.SearchRequest
		want string // in the error; "" for none
	}{
		{"OK", lhk.SearchRequest{Tenant: "acme", Query: "cmd.exe", From: from, To: to}, ""},
		{"ErrTenantFirst", lhk.SearchRequest{Query: "!!", From: from, To: to, Limit: -1}, "tenant is required"},
		{"ErrRange", lhk.SearchRequest{Tenant: "acme", Query: "!!", From: to, To: from}, `"from"`},
		{"ErrQueryBeforeLimit", lhk.SearchRequest{Tenant: "acme", Query: "!!", From: from, To: to, Limit: -1}, "no words"},
		{"ErrLimitBeforeExclude", lhk.SearchRequest{Tenant: "acme", From: from, To: to, Limit: -1, Exclude: [][]lhk.Condition{bad}}, "limit"},
		{"ErrExcludeBeforeCursor", lhk.SearchRequest{Tenant: "acme", From: from, To: to, Exclude: [][]lhk.Condition{bad}, Cursor: "x"}, "filter 1"},
		{"ErrCursor", lhk.SearchRequest{Tenant: "acme", From: from, To: to, Cursor: "x"}, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := k.CheckSearch(tc.req)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckSearch: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("CheckSearch = %v, want an error with %q", err, tc.want)
			case err != nil && lhk.ErrorCode(err) != lhk.EINVALID:
				t.Fatalf("CheckSearch = %v, want EINVALID", err)
			}
		})
	}
}

// TestPage reads pages as a store does, LIMIT Limit+1, and follows the
// cursor of a truncated one.
func TestPage(t *testing.T) {
	k := newKeys(t)
	req := lhk.FieldSearchRequest{Tenant: "acme", From: from, To: to, Limit: 2}
	rows := []struct {
		seq, ts int64
		raw     string
	}{{3, 30, `{"n":3}`}, {2, 20, `{"n":2}`}, {1, 10, `{"n":1}`}}

	// read runs the request from row i on and returns its result.
	read := func(t *testing.T, r *logquery.Request, i int) *lhk.SearchResult {
		t.Helper()
		p := k.NewPage(r)
		for _, row := range rows[i:min(len(rows), i+r.Limit+1)] {
			if p.Full() {
				break
			}
			if err := p.Add(row.seq, row.ts, []byte(row.raw)); err != nil {
				t.Fatal(err)
			}
		}
		return p.Result()
	}

	r, err := k.CheckFieldSearch(req)
	if err != nil {
		t.Fatal(err)
	}
	first := read(t, r, 0)
	if len(first.Events) != 2 || !first.Truncated || first.NextCursor == "" {
		t.Fatalf("first page: %d events, truncated %v, cursor %q; want 2, true and a cursor", len(first.Events), first.Truncated, first.NextCursor)
	}
	if e := first.Events[0]; e["tenant"] != "acme" || e["_id"] != k.EventID(3) {
		t.Fatalf("first event %v: want tenant acme and the _id of row 3", e)
	}

	req.Cursor = first.NextCursor
	r, err = k.CheckFieldSearch(req)
	if err != nil {
		t.Fatal(err)
	}
	if r.After == nil || *r.After != (logquery.Position{TS: 20, Seq: 2}) {
		t.Fatalf("cursor opens at %v, want after row 2", r.After)
	}
	last := read(t, r, 2)
	if len(last.Events) != 1 || last.Truncated || last.NextCursor != "" {
		t.Fatalf("last page: %d events, truncated %v, cursor %q; want 1, false and none", len(last.Events), last.Truncated, last.NextCursor)
	}

	other := lhk.FieldSearchRequest{Tenant: "other", From: from, To: to, Cursor: first.NextCursor}
	if _, err := k.CheckFieldSearch(other); lhk.ErrorCode(err) != lhk.EINVALID {
		t.Fatalf("another tenant's cursor: %v, want EINVALID", err)
	}
}

func TestTopResult(t *testing.T) {
	r, err := logquery.CheckTop(lhk.TopRequest{Tenant: "acme", Field: "host.name", From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if r.Limit != logquery.DefaultTop {
		t.Errorf("limit %d, want DefaultTop", r.Limit)
	}
	res := logquery.TopResult(r, []lhk.Bucket{{Value: "a", Count: 5}, {Value: "b", Count: 3}}, 10)
	if res.Field != "host.name" || res.Total != 10 || res.Other != 2 {
		t.Errorf("TopResult = %+v, want field host.name, total 10, other 2", res)
	}
	if res := logquery.TopResult(r, nil, 0); res.Buckets == nil || res.Other != 0 {
		t.Errorf("TopResult without buckets = %+v, want [] and other 0", res)
	}
}

func TestInCIDR(t *testing.T) {
	for _, tc := range []struct {
		value, block string
		want         bool
	}{
		{"10.0.0.5", "10.0.0.0/8", true},
		{" 10.0.0.5 ", "10.0.0.0/8", true},
		{"::ffff:10.0.0.5", "10.0.0.0/8", true},
		{"fe80::1%eth0", "fe80::/10", true},
		{"11.0.0.5", "10.0.0.0/8", false},
		{"host", "10.0.0.0/8", false},
	} {
		p, err := netip.ParsePrefix(tc.block)
		if err != nil {
			t.Fatal(err)
		}
		if got := logquery.InCIDR(tc.value, p); got != tc.want {
			t.Errorf("InCIDR(%q, %s) = %v, want %v", tc.value, tc.block, got, tc.want)
		}
	}
}

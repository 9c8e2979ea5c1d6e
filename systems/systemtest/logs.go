// Package systemtest holds the conformance suites of the system interfaces:
// each backend's tests call them, so every backend shows the same behaviour.
package systemtest

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// logsT0 is the start of the suite's events: every event lies in
// [logsT0, logsT0+24h).
var logsT0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// logsDay is the suite's usual time range.
var logsFrom, logsTo = logsT0, logsT0.Add(24 * time.Hour)

// logsLine encodes one NDJSON line.
func logsLine(tb testing.TB, fields map[string]any) string {
	tb.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b) + "\n"
}

// logsIngest ingests lines and fails on a store error or any rejected line.
func logsIngest(tb testing.TB, s lhk.LogService, tenant string, lines ...string) *lhk.IngestResult {
	tb.Helper()
	res, err := s.Ingest(context.Background(), tenant, strings.NewReader(strings.Join(lines, "")))
	if err != nil {
		tb.Fatalf("ingest: %v", err)
	}
	if res.Rejected != 0 {
		tb.Fatalf("ingest rejected %d lines: %+v", res.Rejected, res.Errors)
	}
	return res
}

// logsTenantEvents returns the suite's events for a tenant. acme and globex
// get the same hosts, users, processes and words, so only the tenant tells
// them apart; "marker" names the tenant for checks.
func logsTenantEvents(tb testing.TB, tenant string) []string {
	tb.Helper()
	var lines []string
	hosts := []string{"WS01", "WS02", "SRV01"}
	users := []string{"alice", "bob", "carol"}
	procs := []string{"powershell.exe", "cmd.exe", "chrome.exe"}
	for i := range 30 {
		lines = append(lines, logsLine(tb, map[string]any{
			"@timestamp":           logsT0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339Nano),
			"marker":               tenant,
			"seq":                  i,
			"host":                 map[string]any{"name": hosts[i%3]},
			"user":                 map[string]any{"name": users[i%3]},
			"process.name":         procs[i%3],
			"process.command_line": fmt.Sprintf(`C:\Windows\System32\%s -enc QQBCAEMA job%d`, procs[i%3], i),
			"source.ip":            fmt.Sprintf("10.0.%d.%d", i%2, i+1),
			"destination.ip":       []string{"192.168.1.10", "2001:db8::5", "8.8.8.8"}[i%3],
			"destination.port":     []int{443, 80, 53}[i%3],
			"event.dataset":        "test.synthetic",
			"message":              "shared words everywhere " + tenant + "-word",
			"note":                 "Café Überwachung",
		}))
	}
	return lines
}

// logsMarkers returns the markers of events, failing on an event of another
// tenant.
func logsMarkers(tb testing.TB, tenant string, evs []lhk.Event) []string {
	tb.Helper()
	var ms []string
	for _, e := range evs {
		if e["tenant"] != tenant {
			tb.Fatalf("event of tenant %v in a search of %q: %v", e["tenant"], tenant, e)
		}
		if m, ok := e["marker"]; ok && m != tenant {
			tb.Fatalf("event marked %v in a search of %q", m, tenant)
		}
		ms = append(ms, fmt.Sprint(e["marker"]))
	}
	return ms
}

// logsCode asserts err's application error code.
func logsCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := lhk.ErrorCode(err); got != code {
		tb.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}

// RunLogs runs the conformance suite of lhk.LogService. open returns an
// empty store, closed by the caller's cleanup.
func RunLogs(t *testing.T, open func(tb testing.TB) lhk.LogService) {
	ctx := context.Background()

	t.Run("Ingest", func(t *testing.T) {
		s := open(t)
		ok := logsLine(t, map[string]any{"@timestamp": "2026-11-01T10:00:00Z", "message": "hello"})
		long := `{"@timestamp":"2026-11-01T10:00:00Z","m":"` + strings.Repeat("x", lhk.MaxIngestLine) + `"}` + "\n"
		in := strings.Join([]string{
			ok,                             // 1
			"{not json}\n",                 // 2
			`{"message":"no time"}` + "\n", // 3
			`{"@timestamp":"2026-11-01 10:00:00","m":1}` + "\n", // 4
			"\n",                    // 5: blank, skipped
			`["an","array"]` + "\n", // 6
			`{"@timestamp":"2026-11-01T10:00:00Z","tenant":"globex"}` + "\n", // 7
			`{"@timestamp":"2026-11-01T10:00:00","m":1}` + "\n",              // 8
			`{"@timestamp":1700000000}` + "\n",                               // 9
			long,                                                             // 10
			`{"@timestamp":"2026-11-01T10:00:01+09:00","tenant":"acme","nested":{"a":{"b":"deep"}}}` + "\n", // 11
			`{"@timestamp":"2026-11-01T10:00:00Z"} {"x":1}` + "\n",                                          // 12
			ok, // 13, no trailing newline below
		}, "")
		in = strings.TrimSuffix(in, "\n")
		res, err := s.Ingest(ctx, "acme", strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 3 || res.Rejected != 9 {
			t.Fatalf("accepted %d rejected %d, want 3 and 9: %+v", res.Accepted, res.Rejected, res.Errors)
		}
		var lines []int
		for _, e := range res.Errors {
			lines = append(lines, e.Line)
			if e.Message == "" {
				t.Errorf("line %d: empty message", e.Line)
			}
		}
		if want := []int{2, 3, 4, 6, 7, 8, 9, 10, 12}; !slices.Equal(lines, want) {
			t.Fatalf("rejected lines %v, want %v: %+v", lines, want, res.Errors)
		}
		for _, e := range res.Errors {
			if e.Line == 4 && !strings.Contains(e.Message, `"T"`) {
				t.Errorf("line 4: message %q should say to use T", e.Message)
			}
			if e.Line == 8 && !strings.Contains(e.Message, "zone") {
				t.Errorf("line 8: message %q should ask for a zone", e.Message)
			}
		}
		got, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo,
			Fields: []lhk.Condition{{Field: "nested.a.b", Op: lhk.OpEq, Value: "deep"}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Events) != 1 {
			t.Fatalf("flattened field: %d events, want 1", len(got.Events))
		}
		e := got.Events[0]
		if id, _ := e["_id"].(string); id == "" || e["tenant"] != "acme" || e["@timestamp"] != "2026-11-01T10:00:01+09:00" {
			t.Fatalf("stored event %v: want _id, tenant acme and the original @timestamp", e)
		}
		// Another tenant sees none of it.
		other, err := s.Search(ctx, lhk.SearchRequest{Tenant: "globex", From: logsFrom, To: logsTo})
		if err != nil || len(other.Events) != 0 {
			t.Fatalf("globex sees %v, %v", other, err)
		}
	})

	t.Run("IngestErrorsCapped", func(t *testing.T) {
		s := open(t)
		res, err := s.Ingest(ctx, "acme", strings.NewReader(strings.Repeat("nope\n", lhk.MaxIngestErrors+50)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Rejected != lhk.MaxIngestErrors+50 || len(res.Errors) != lhk.MaxIngestErrors || res.Accepted != 0 {
			t.Fatalf("rejected %d with %d errors", res.Rejected, len(res.Errors))
		}
	})

	t.Run("IngestNeedsTenant", func(t *testing.T) {
		s := open(t)
		res, err := s.Ingest(ctx, "", strings.NewReader(
			`{"@timestamp":"2026-11-01T10:00:00Z"}`+"\n"+`{"@timestamp":"2026-11-01T10:00:00Z","tenant":"globex"}`+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 1 || res.Rejected != 1 || res.Errors[0].Line != 1 {
			t.Fatalf("%+v", res)
		}
	})

	t.Run("Windows", func(t *testing.T) { logsWindows(t, open(t)) })

	// One store with both tenants for the rest.
	s := open(t)
	logsIngest(t, s, "acme", logsTenantEvents(t, "acme")...)
	logsIngest(t, s, "globex", logsTenantEvents(t, "globex")...)

	t.Run("FreeText", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			query string
			want  int
		}{
			{"Word", "powershell", 10},
			{"CaseInsensitive", "POWERSHELL", 10},
			{"EveryWord", "powershell ws01", 10},
			{"EveryWordNarrows", "powershell ws02", 0},
			{"Switch", "powershell -enc", 10},
			{"Path", `C:\Windows\System32\cmd.exe`, 10},
			{"FileName", "cmd.exe", 10},
			{"IP", "10.0.1.2", 1},
			{"IPv6", "2001:db8::5", 10},
			{"Phrase", `"shared words"`, 30},
			{"PhraseOrder", `"words shared"`, 0},
			{"Tenant word", "acme-word", 30},
			{"Other tenant's word", "globex-word", 0},
			{"Empty", "", 30},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: tc.query, From: logsFrom, To: logsTo, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				logsMarkers(t, "acme", res.Events)
				if len(res.Events) != tc.want || res.Truncated {
					t.Fatalf("%q: %d events (truncated %v), want %d", tc.query, len(res.Events), res.Truncated, tc.want)
				}
			})
		}
	})

	t.Run("Operators", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			conds []lhk.Condition
			want  int
		}{
			{"EqString", []lhk.Condition{{Field: "host.name", Op: "eq", Value: "WS01"}}, 10},
			{"EqCase", []lhk.Condition{{Field: "host.name", Op: "eq", Value: "ws01"}}, 0},
			{"EqNumber", []lhk.Condition{{Field: "destination.port", Op: "eq", Value: 443}}, 10},
			{"EqNumberAsString", []lhk.Condition{{Field: "destination.port", Op: "eq", Value: "443"}}, 10},
			{"EqNested", []lhk.Condition{{Field: "user.name", Op: "eq", Value: "bob"}}, 10},
			{"EqMissingField", []lhk.Condition{{Field: "no.such", Op: "eq", Value: "x"}}, 0},
			{"Contains", []lhk.Condition{{Field: "process.command_line", Op: "contains", Value: "SYSTEM32\\POWERSHELL"}}, 10},
			{"ContainsWildcardsLiteral", []lhk.Condition{{Field: "process.command_line", Op: "contains", Value: "%"}}, 0},
			{"ContainsUnicodeCase", []lhk.Condition{{Field: "note", Op: "contains", Value: "CAFÉ üBERWACHUNG"}}, 30},
			{"ContainsUnicodeMiss", []lhk.Condition{{Field: "message", Op: "contains", Value: "ÉVERYWHERE"}}, 0},
			{"Prefix", []lhk.Condition{{Field: "host.name", Op: "prefix", Value: "WS"}}, 20},
			{"PrefixCaseSensitive", []lhk.Condition{{Field: "host.name", Op: "prefix", Value: "ws"}}, 0},
			{"CIDR4", []lhk.Condition{{Field: "source.ip", Op: "cidr", Value: "10.0.1.0/24"}}, 15},
			{"CIDR4Wide", []lhk.Condition{{Field: "source.ip", Op: "cidr", Value: "10.0.0.0/8"}}, 30},
			{"CIDR6", []lhk.Condition{{Field: "destination.ip", Op: "cidr", Value: "2001:db8::/32"}}, 10},
			{"CIDRSingle", []lhk.Condition{{Field: "destination.ip", Op: "cidr", Value: "8.8.8.8"}}, 10},
			{"CIDRNotIP", []lhk.Condition{{Field: "host.name", Op: "cidr", Value: "10.0.0.0/8"}}, 0},
			{"GTNumber", []lhk.Condition{{Field: "seq", Op: "gt", Value: 19}}, 10},
			{"LTNumber", []lhk.Condition{{Field: "seq", Op: "lt", Value: 5}}, 5},
			{"GTString", []lhk.Condition{{Field: "host.name", Op: "gt", Value: "WS01"}}, 10},
			{"LTString", []lhk.Condition{{Field: "user.name", Op: "lt", Value: "b"}}, 10},
			{"GTTime", []lhk.Condition{{Field: "@timestamp", Op: "gt", Value: logsT0.Add(24 * time.Minute).Format(time.RFC3339)}}, 5},
			{"Exists", []lhk.Condition{{Field: "destination.port", Op: "exists"}}, 30},
			{"ExistsMissing", []lhk.Condition{{Field: "no.such", Op: "exists"}}, 0},
			{"And", []lhk.Condition{{Field: "host.name", Op: "eq", Value: "WS01"}, {Field: "seq", Op: "lt", Value: 10}}, 4},
			{"AndEmpty", []lhk.Condition{{Field: "host.name", Op: "eq", Value: "WS01"}, {Field: "user.name", Op: "eq", Value: "bob"}}, 0},
			{"TenantField", []lhk.Condition{{Field: "tenant", Op: "eq", Value: "globex"}}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", Fields: tc.conds, From: logsFrom, To: logsTo, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				logsMarkers(t, "acme", res.Events)
				if len(res.Events) != tc.want {
					t.Fatalf("%d events, want %d", len(res.Events), tc.want)
				}
				c, err := s.Count(ctx, lhk.CountRequest{Tenant: "acme", Fields: tc.conds, From: logsFrom, To: logsTo})
				if err != nil {
					t.Fatal(err)
				}
				if c.Count != int64(tc.want) {
					t.Fatalf("count %d, want %d", c.Count, tc.want)
				}
			})
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  lhk.FieldSearchRequest
		}{
			{"NoRange", lhk.FieldSearchRequest{Tenant: "acme"}},
			{"NoTo", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom}},
			{"Reversed", lhk.FieldSearchRequest{Tenant: "acme", From: logsTo, To: logsFrom}},
			{"Empty", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsFrom}},
			{"100Years", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom.AddDate(-100, 0, 0), To: logsTo}},
			{"NoTenant", lhk.FieldSearchRequest{From: logsFrom, To: logsTo}},
			{"WildcardTenant", lhk.FieldSearchRequest{Tenant: "*", From: logsFrom, To: logsTo}},
			{"UnknownOp", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Fields: []lhk.Condition{{Field: "a", Op: "regex", Value: ".*"}}}},
			{"NoField", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Fields: []lhk.Condition{{Op: "eq", Value: "x"}}}},
			{"NoValue", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Fields: []lhk.Condition{{Field: "a", Op: "eq"}}}},
			{"BadCIDR", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Fields: []lhk.Condition{{Field: "source.ip", Op: "cidr", Value: "10.0.0.0/99"}}}},
			{"BoolValue", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Fields: []lhk.Condition{{Field: "a", Op: "eq", Value: true}}}},
			{"HugeValue", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Fields: []lhk.Condition{{Field: "a", Op: "eq", Value: strings.Repeat("x", 10<<20)}}}},
			{"TooManyConditions", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Fields: slices.Repeat([]lhk.Condition{{Field: "a", Op: "exists"}}, lhk.MaxConditions+1)}},
			{"NegativeLimit", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Limit: -1}},
			{"ForgedCursor", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Cursor: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
			{"GarbageCursor", lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Cursor: "'; DROP TABLE events; --"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.SearchFields(ctx, tc.req)
				logsCode(t, err, lhk.EINVALID)
				if tc.req.Cursor != "" {
					return
				}
				_, err = s.Count(ctx, lhk.CountRequest{Tenant: tc.req.Tenant, Fields: tc.req.Fields, From: tc.req.From, To: tc.req.To})
				if tc.name != "NegativeLimit" {
					logsCode(t, err, lhk.EINVALID)
				}
			})
		}
		t.Run("UnknownOpNamed", func(t *testing.T) {
			_, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Fields: []lhk.Condition{{Field: "a", Op: "regex", Value: "x"}}})
			if !strings.Contains(lhk.ErrorMessage(err), "regex") {
				t.Fatalf("message %q should name the op", lhk.ErrorMessage(err))
			}
		})
		t.Run("HugeQuery", func(t *testing.T) {
			_, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: strings.Repeat("a ", 5<<20), From: logsFrom, To: logsTo})
			logsCode(t, err, lhk.EINVALID)
		})
		t.Run("LongestRangeOK", func(t *testing.T) {
			_, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", From: logsTo.Add(-lhk.MaxLogRange), To: logsTo})
			if err != nil {
				t.Fatal(err)
			}
		})
	})

	t.Run("LimitAndPaging", func(t *testing.T) {
		ps := open(t)
		const n = lhk.MaxLogLimit + 57
		var lines []string
		for i := range n {
			// Several events share a timestamp, so paging must break ties.
			lines = append(lines, logsLine(t, map[string]any{
				"@timestamp": logsT0.Add(time.Duration(i/3) * time.Second).Format(time.RFC3339Nano),
				"i":          i, "word": "page", "marker": "acme",
			}))
		}
		logsIngest(t, ps, "acme", lines...)
		logsIngest(t, ps, "globex", logsTenantEvents(t, "globex")...)

		res, err := ps.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: "page", From: logsFrom, To: logsTo, Limit: 1_000_000})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Events) != lhk.MaxLogLimit || !res.Truncated || res.NextCursor == "" {
			t.Fatalf("huge limit: %d events, truncated %v; want the cap %d and truncated", len(res.Events), res.Truncated, lhk.MaxLogLimit)
		}
		def, err := ps.Search(ctx, lhk.SearchRequest{Tenant: "acme", From: logsFrom, To: logsTo})
		if err != nil || len(def.Events) != lhk.DefaultLogLimit || !def.Truncated {
			t.Fatalf("default limit: %d events, %v", len(def.Events), err)
		}

		type pager func(cursor string) (*lhk.SearchResult, error)
		for name, page := range map[string]pager{
			"Search": func(c string) (*lhk.SearchResult, error) {
				return ps.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: "page", From: logsFrom, To: logsTo, Limit: 97, Cursor: c})
			},
			"SearchFields": func(c string) (*lhk.SearchResult, error) {
				return ps.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", Fields: []lhk.Condition{{Field: "word", Op: "eq", Value: "page"}},
					From: logsFrom, To: logsTo, Limit: 97, Cursor: c})
			},
		} {
			t.Run(name, func(t *testing.T) {
				seen := map[string]bool{}
				var prev string
				cursor := ""
				for pages := 0; ; pages++ {
					if pages > n {
						t.Fatal("paging does not end")
					}
					res, err := page(cursor)
					if err != nil {
						t.Fatal(err)
					}
					logsMarkers(t, "acme", res.Events)
					for _, e := range res.Events {
						id := e["_id"].(string)
						if seen[id] {
							t.Fatalf("event %s returned twice", id)
						}
						seen[id] = true
						ts := e["@timestamp"].(string)
						if prev != "" && ts > prev {
							t.Fatalf("not newest first: %s after %s", ts, prev)
						}
						prev = ts
					}
					if res.Truncated != (res.NextCursor != "") {
						t.Fatalf("truncated %v with cursor %q", res.Truncated, res.NextCursor)
					}
					if !res.Truncated {
						break
					}
					cursor = res.NextCursor
				}
				if len(seen) != n {
					t.Fatalf("paged through %d events, want %d", len(seen), n)
				}
			})
		}
		t.Run("ExactFit", func(t *testing.T) {
			res, err := ps.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", Fields: []lhk.Condition{{Field: "i", Op: "lt", Value: 10}},
				From: logsFrom, To: logsTo, Limit: 10})
			if err != nil || len(res.Events) != 10 || res.Truncated || res.NextCursor != "" {
				t.Fatalf("exactly limit matches: %d events, truncated %v, %v", len(res.Events), res.Truncated, err)
			}
		})
		t.Run("CursorOtherQuery", func(t *testing.T) {
			_, err := ps.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: "other", From: logsFrom, To: logsTo, Cursor: res.NextCursor})
			logsCode(t, err, lhk.EINVALID)
		})
	})

	t.Run("Top", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			req     lhk.TopRequest
			buckets []lhk.Bucket
			total   int64
			other   int64
		}{
			{"ByHost", lhk.TopRequest{Field: "host.name"}, []lhk.Bucket{{Value: "SRV01", Count: 10}, {Value: "WS01", Count: 10}, {Value: "WS02", Count: 10}}, 30, 0},
			{"Limit", lhk.TopRequest{Field: "host.name", Limit: 1}, []lhk.Bucket{{Value: "SRV01", Count: 10}}, 30, 20},
			{"Number", lhk.TopRequest{Field: "destination.port", Limit: 1}, []lhk.Bucket{{Value: "53", Count: 10}}, 30, 20},
			{"Conditions", lhk.TopRequest{Field: "user.name", Fields: []lhk.Condition{{Field: "host.name", Op: "eq", Value: "WS02"}}}, []lhk.Bucket{{Value: "bob", Count: 10}}, 10, 0},
			{"Query", lhk.TopRequest{Field: "process.name", Query: "ws01"}, []lhk.Bucket{{Value: "powershell.exe", Count: 10}}, 10, 0},
			{"MissingField", lhk.TopRequest{Field: "no.such"}, []lhk.Bucket{}, 0, 0},
			{"Tenant", lhk.TopRequest{Field: "tenant"}, []lhk.Bucket{{Value: "acme", Count: 30}}, 30, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req := tc.req
				req.Tenant, req.From, req.To = "acme", logsFrom, logsTo
				res, err := s.Top(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res.Buckets, tc.buckets) || res.Total != tc.total || res.Other != tc.other || res.Field != tc.req.Field {
					t.Fatalf("got %+v, want buckets %v total %d other %d", res, tc.buckets, tc.total, tc.other)
				}
			})
		}
		t.Run("Cap", func(t *testing.T) {
			res, err := s.Top(ctx, lhk.TopRequest{Tenant: "acme", Field: "seq", From: logsFrom, To: logsTo, Limit: 1_000_000})
			if err != nil || len(res.Buckets) != 30 {
				t.Fatalf("%v %v", res, err)
			}
		})
		t.Run("Invalid", func(t *testing.T) {
			for _, req := range []lhk.TopRequest{
				{Tenant: "acme", From: logsFrom, To: logsTo},
				{Tenant: "acme", Field: "host.name"},
				{Tenant: "acme", Field: "host.name", From: logsFrom, To: logsTo, Fields: []lhk.Condition{{Field: "x", Op: "near", Value: 1}}},
				{Tenant: "acme", Field: "host.name", From: logsFrom, To: logsTo, Query: strings.Repeat("x", 10<<20)},
				{Field: "host.name", From: logsFrom, To: logsTo},
			} {
				_, err := s.Top(ctx, req)
				logsCode(t, err, lhk.EINVALID)
			}
		})
	})

	t.Run("Count", func(t *testing.T) {
		c, err := s.Count(ctx, lhk.CountRequest{Tenant: "acme", From: logsFrom, To: logsTo})
		if err != nil {
			t.Fatal(err)
		}
		if want := logsT0.Add(29 * time.Minute); c.Count != 30 || c.Last == nil || !c.Last.Equal(want) {
			t.Fatalf("count %d last %v, want 30 and %v", c.Count, c.Last, want)
		}
		c, err = s.Count(ctx, lhk.CountRequest{Tenant: "acme", From: logsFrom, To: logsT0.Add(10 * time.Minute)})
		if err != nil || c.Count != 10 {
			t.Fatalf("to is exclusive: count %d, %v", c.Count, err)
		}
		c, err = s.Count(ctx, lhk.CountRequest{Tenant: "acme", From: logsTo, To: logsTo.Add(time.Hour)})
		if err != nil || c.Count != 0 || c.Last != nil {
			t.Fatalf("empty range: %+v, %v", c, err)
		}
	})

	t.Run("Exclude", func(t *testing.T) {
		ex := [][]lhk.Condition{
			{{Field: "host.name", Op: "eq", Value: "WS01"}},                                      // drops 10
			{{Field: "host.name", Op: "eq", Value: "WS02"}, {Field: "seq", Op: "lt", Value: 10}}, // drops 3 (1, 4, 7)
			{{Field: "no.such", Op: "eq", Value: "x"}},                                           // drops nothing
			{}, // ignored
			{{Field: "tenant", Op: "eq", Value: "globex"}}, // drops nothing
		}
		res, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Limit: 100, Exclude: ex})
		if err != nil {
			t.Fatal(err)
		}
		logsMarkers(t, "acme", res.Events)
		if len(res.Events) != 17 {
			t.Fatalf("search with exclude: %d events, want 17", len(res.Events))
		}
		fres, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Limit: 100, Exclude: ex,
			Fields: []lhk.Condition{{Field: "destination.port", Op: "exists"}}})
		if err != nil || len(fres.Events) != 17 {
			t.Fatalf("fields with exclude: %d events, %v", len(fres.Events), err)
		}
		top, err := s.Top(ctx, lhk.TopRequest{Tenant: "acme", Field: "host.name", From: logsFrom, To: logsTo, Exclude: ex})
		if err != nil || top.Total != 17 || len(top.Buckets) != 2 {
			t.Fatalf("top with exclude: %+v, %v", top, err)
		}
		_, err = s.Search(ctx, lhk.SearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Exclude: [][]lhk.Condition{{{Field: "a", Op: "bad"}}}})
		logsCode(t, err, lhk.EINVALID)
	})

	t.Run("TenantIsolation", func(t *testing.T) { logsIsolation(t, s) })
	t.Run("Hostile", func(t *testing.T) { logsHostile(t, s) })
}

// logsWindows checks the ECS mapping of Windows events as NXLog ships them.
func logsWindows(t *testing.T, s lhk.LogService) {
	ctx := context.Background()
	lines := []string{
		`{"@timestamp":"2026-11-01T10:00:00.100Z","EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","SourceName":"Microsoft-Windows-Sysmon","Hostname":"WS01.corp.local","Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","CommandLine":"powershell.exe -noP -enc SQBFAFgA","ProcessId":"2316","ParentImage":"C:\\Windows\\System32\\wscript.exe","ParentProcessId":"2440","ParentCommandLine":"wscript.exe launcher.vbs","User":"CORP\\alice","Hashes":"SHA1=AA11,MD5=BB22,SHA256=CC33,IMPHASH=DD44"}` + "\n",
		`{"@timestamp":"2026-11-01T10:00:01Z","EventID":4688,"Channel":"Security","SourceName":"Microsoft-Windows-Security-Auditing","Hostname":"WS01.corp.local","NewProcessName":"C:\\Windows\\System32\\whoami.exe","NewProcessId":"0x23c0","ProcessId":"0x90c","SubjectUserName":"alice","SubjectDomainName":"CORP","CommandLine":"whoami"}` + "\n",
		`{"@timestamp":"2026-11-01T10:00:02Z","EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS01.corp.local","Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","ProcessId":"2316","SourceIp":"172.18.39.5","SourcePort":"50692","DestinationIp":"10.10.10.5","DestinationPort":"80","DestinationHostname":"c2.example","User":"CORP\\alice"}` + "\n",
		`{"@timestamp":"2026-11-01T10:00:03Z","EventID":4624,"Channel":"Security","Hostname":"DC01.corp.local","TargetUserName":"bob","TargetDomainName":"CORP","LogonType":"3","IpAddress":"::1","IpPort":"0","SubjectUserName":"-"}` + "\n",
		`{"@timestamp":"2026-11-01T10:00:04Z","EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS01.corp.local","Image":"C:\\Windows\\regedit.exe","TargetObject":"HKLM\\Software\\Run\\evil","Details":"c:\\evil.exe"}` + "\n",
		`{"@timestamp":"2026-11-01T10:00:05Z","EventID":11,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS01.corp.local","Image":"C:\\Windows\\explorer.exe","TargetFilename":"C:\\Users\\alice\\Desktop\\launcher.vbs"}` + "\n",
		`{"@timestamp":"2026-11-01T10:00:06Z","EventID":4104,"Channel":"Microsoft-Windows-PowerShell/Operational","Hostname":"WS01.corp.local","ScriptBlockText":"IEX (New-Object Net.WebClient)"}` + "\n",
		`{"@timestamp":"2026-11-01T10:00:07Z","winlog":{"event_id":"22","channel":"Microsoft-Windows-Sysmon/Operational","computer_name":"WS02","event_data":{"QueryName":"evil.example","Image":"C:\\x\\y.exe","ProcessId":"7"}}}` + "\n",
	}
	logsIngest(t, s, "acme", lines...)
	for _, tc := range []struct {
		name  string
		conds []lhk.Condition
		check map[string]any
	}{
		{"Sysmon1", []lhk.Condition{{Field: "event.code", Op: "eq", Value: "1"}}, map[string]any{
			"event.code": "1", "event.dataset": "windows.sysmon", "event.category": "process", "event.provider": "Microsoft-Windows-Sysmon",
			"winlog.channel": "Microsoft-Windows-Sysmon/Operational", "host.name": "WS01.corp.local",
			"process.name": "powershell.exe", "process.executable": `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
			"process.command_line": "powershell.exe -noP -enc SQBFAFgA", "process.pid": "2316",
			"process.parent.name": "wscript.exe", "process.parent.executable": `C:\Windows\System32\wscript.exe`,
			"process.parent.pid": "2440", "process.parent.command_line": "wscript.exe launcher.vbs",
			"user.name": "alice", "user.domain": "CORP", "process.hash.sha256": "cc33", "process.hash.md5": "bb22",
			"Image": `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "EventID": "1",
		}},
		{"Security4688", []lhk.Condition{{Field: "event.code", Op: "eq", Value: 4688}}, map[string]any{
			"event.dataset": "windows.security", "event.category": "process", "process.name": "whoami.exe",
			"process.pid": "9152", "process.parent.pid": "2316", "user.name": "alice",
		}},
		{"Sysmon3", []lhk.Condition{{Field: "destination.ip", Op: "eq", Value: "10.10.10.5"}}, map[string]any{
			"event.category": "network", "source.ip": "172.18.39.5", "source.port": "50692", "destination.port": "80",
			"destination.domain": "c2.example", "process.name": "powershell.exe",
		}},
		{"Logon", []lhk.Condition{{Field: "event.code", Op: "eq", Value: "4624"}}, map[string]any{
			"event.category": "authentication", "event.outcome": "success", "user.target.name": "bob", "source.ip": "::1",
		}},
		{"Registry", []lhk.Condition{{Field: "event.code", Op: "eq", Value: "13"}}, map[string]any{
			"event.category": "registry", "registry.path": `HKLM\Software\Run\evil`,
		}},
		{"File", []lhk.Condition{{Field: "event.code", Op: "eq", Value: "11"}}, map[string]any{
			"event.category": "file", "file.path": `C:\Users\alice\Desktop\launcher.vbs`,
		}},
		{"PowerShell", []lhk.Condition{{Field: "event.code", Op: "eq", Value: "4104"}}, map[string]any{
			"event.dataset": "windows.powershell",
		}},
		{"Winlogbeat", []lhk.Condition{{Field: "dns.question.name", Op: "eq", Value: "evil.example"}}, map[string]any{
			"event.code": "22", "host.name": "WS02", "process.name": "y.exe", "event.dataset": "windows.sysmon",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.SearchFields(context.Background(), lhk.FieldSearchRequest{Tenant: "acme", Fields: tc.conds, From: logsFrom, To: logsTo})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 1 {
				t.Fatalf("%d events, want 1", len(res.Events))
			}
			e := res.Events[0]
			for k, want := range tc.check {
				if got := fmt.Sprint(e[k]); got != fmt.Sprint(want) {
					t.Errorf("%s = %v, want %v", k, e[k], want)
				}
			}
		})
	}
	// The mapped fields are searchable as such.
	for _, q := range []string{"c2.example", "launcher.vbs", `HKLM\Software\Run`, "powershell -enc"} {
		res, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: q, From: logsFrom, To: logsTo})
		if err != nil || len(res.Events) == 0 {
			t.Errorf("free text %q: %d events, %v", q, len(res.Events), err)
		}
	}
	res, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo,
		Fields: []lhk.Condition{{Field: "process.pid", Op: "gt", Value: 9000}}})
	if err != nil || len(res.Events) != 1 {
		t.Errorf("process.pid is numeric: %d events, %v", len(res.Events), err)
	}
}

// logsIsolation checks that no operation of acme reads, counts or returns
// anything of globex, though both have the same hosts, users and words.
func logsIsolation(t *testing.T, s lhk.LogService) {
	ctx := context.Background()
	for _, tenant := range []string{"acme", "globex"} {
		res, err := s.Search(ctx, lhk.SearchRequest{Tenant: tenant, Query: "shared", From: logsFrom, To: logsTo, Limit: 1000})
		if err != nil || len(res.Events) != 30 {
			t.Fatalf("%s search: %d events, %v", tenant, len(res.Events), err)
		}
		logsMarkers(t, tenant, res.Events)
		fres, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: tenant, From: logsFrom, To: logsTo, Limit: 1000,
			Fields: []lhk.Condition{{Field: "host.name", Op: "eq", Value: "WS01"}}})
		if err != nil || len(fres.Events) != 10 {
			t.Fatalf("%s fields: %d events, %v", tenant, len(fres.Events), err)
		}
		logsMarkers(t, tenant, fres.Events)
		top, err := s.Top(ctx, lhk.TopRequest{Tenant: tenant, Field: "marker", From: logsFrom, To: logsTo})
		if err != nil || len(top.Buckets) != 1 || top.Buckets[0].Value != tenant || top.Total != 30 {
			t.Fatalf("%s top: %+v, %v", tenant, top, err)
		}
		c, err := s.Count(ctx, lhk.CountRequest{Tenant: tenant, From: logsFrom, To: logsTo})
		if err != nil || c.Count != 30 {
			t.Fatalf("%s count: %+v, %v", tenant, c, err)
		}
	}
	other := map[string]string{"acme": "globex", "globex": "acme"}
	for tenant, o := range other {
		res, err := s.Search(ctx, lhk.SearchRequest{Tenant: tenant, Query: o + "-word", From: logsFrom, To: logsTo})
		if err != nil || len(res.Events) != 0 {
			t.Fatalf("%s finds %s's word: %d events, %v", tenant, o, len(res.Events), err)
		}
		c, err := s.Count(ctx, lhk.CountRequest{Tenant: tenant, From: logsFrom, To: logsTo, Fields: []lhk.Condition{{Field: "marker", Op: "eq", Value: o}}})
		if err != nil || c.Count != 0 {
			t.Fatalf("%s counts %s's events: %+v, %v", tenant, o, c, err)
		}
		top, err := s.Top(ctx, lhk.TopRequest{Tenant: tenant, Field: "marker", Query: o + "-word", From: logsFrom, To: logsTo})
		if err != nil || top.Total != 0 {
			t.Fatalf("%s tops %s's events: %+v, %v", tenant, o, top, err)
		}
	}
	// A cursor of globex is no key to acme's search, nor the reverse.
	g, err := s.Search(ctx, lhk.SearchRequest{Tenant: "globex", Query: "shared", From: logsFrom, To: logsTo, Limit: 5})
	if err != nil || g.NextCursor == "" {
		t.Fatalf("globex first page: %v", err)
	}
	res, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: "shared", From: logsFrom, To: logsTo, Limit: 5, Cursor: g.NextCursor})
	if err == nil {
		logsMarkers(t, "acme", res.Events)
	} else {
		logsCode(t, err, lhk.EINVALID)
	}
	fres, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Cursor: g.NextCursor})
	if err == nil {
		logsMarkers(t, "acme", fres.Events)
	} else {
		logsCode(t, err, lhk.EINVALID)
	}
	// An _id of globex finds nothing in acme.
	gid := g.Events[0]["_id"].(string)
	fres, err = s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo,
		Fields: []lhk.Condition{{Field: "_id", Op: "eq", Value: gid}}})
	if err != nil || len(fres.Events) != 0 {
		t.Fatalf("acme finds globex's _id: %d events, %v", len(fres.Events), err)
	}
	fres, err = s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "globex", From: logsFrom, To: logsTo,
		Fields: []lhk.Condition{{Field: "_id", Op: "eq", Value: gid}}})
	if err != nil || len(fres.Events) != 1 || fres.Events[0]["_id"] != gid {
		t.Fatalf("globex finds its own _id: %d events, %v", len(fres.Events), err)
	}
}

// logsHostile sends requests an attacker or a careless script might: none
// may panic, fail with anything but EINVALID, or return globex's events.
func logsHostile(t *testing.T, s lhk.LogService) {
	ctx := context.Background()
	queries := []string{
		`"`, `""`, `"""`, `*`, `a*`, `NEAR(`, `NEAR(shared words)`, `shared OR globex`, `OR`, `AND`, `NOT`,
		`-`, `-shared`, `^`, `^shared`, `tenant:globex`, `text:globex`, `{text}: globex`, `globex-word`,
		`shared + globex`, `'; DROP TABLE events; --`, `%`, `_`, `\`, "\x00", "shared\x00globex", `(`, `)`,
		`)) OR ((`, `"shared" OR "globex-word"`, `col:*`, `\u0000`, "\xff\xfe", strings.Repeat("(", 4000),
		strings.Repeat(`"a" `, 1000), strings.Repeat("x", 10<<20),
	}
	for _, q := range queries {
		res, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: q, From: logsFrom, To: logsTo, Limit: 1000})
		if err != nil {
			logsCode(t, err, lhk.EINVALID)
			continue
		}
		logsMarkers(t, "acme", res.Events)
		top, err := s.Top(ctx, lhk.TopRequest{Tenant: "acme", Field: "marker", Query: q, From: logsFrom, To: logsTo})
		if err != nil {
			logsCode(t, err, lhk.EINVALID)
			continue
		}
		for _, b := range top.Buckets {
			if b.Value != "acme" {
				t.Fatalf("top with query %q counts %q", short(q), b.Value)
			}
		}
	}
	fields := []string{`tenant`, `marker`, `"`, `a"b`, `$`, `$.marker`, `marker') OR 1=1 --`, `*`, `..`, "\x00", `"marker"`, `marker[0]`, strings.Repeat("a", 300)}
	for _, f := range fields {
		for _, op := range append(slices.Clone(lhk.Ops), "like", "", "EQ", "eq ") {
			for _, v := range []any{"globex", "%", `' OR '1'='1`, 1, -1e308, "10.0.0.0/8", nil, []any{"x"}, map[string]any{"a": 1}} {
				res, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: logsFrom, To: logsTo, Limit: 1000,
					Fields: []lhk.Condition{{Field: f, Op: op, Value: v}}})
				if err != nil {
					logsCode(t, err, lhk.EINVALID)
					continue
				}
				logsMarkers(t, "acme", res.Events)
			}
		}
	}
}

// short cuts a string for a test message.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// LogsEmpireDataset returns the path of the Empire launcher telemetry
// (../shared/datasets/empire_launcher_vbs.zip from the project root),
// unzipped to a temporary directory, and skips the test when it is absent.
func LogsEmpireDataset(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no go.mod above the test: cannot find ../shared/datasets")
		}
		dir = parent
	}
	zpath := filepath.Join(dir, "..", "shared", "datasets", "empire_launcher_vbs.zip")
	zr, err := zip.OpenReader(zpath)
	if err != nil {
		tb.Skipf("dataset %s not available: %v", zpath, err)
	}
	defer zr.Close()
	out := tb.TempDir()
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		dst := filepath.Join(out, "empire.json")
		w, err := os.Create(dst)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.Copy(w, rc); err != nil {
			tb.Fatal(err)
		}
		rc.Close()
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
		return dst
	}
	tb.Fatalf("no .json file in %s", zpath)
	return ""
}

// logsEmpireWindow is the time range of the Empire dataset.
var logsEmpireFrom, logsEmpireTo = time.Date(2020, 9, 4, 20, 0, 0, 0, time.UTC), time.Date(2020, 9, 4, 21, 0, 0, 0, time.UTC)

// RunLogsDataset ingests the Empire launcher telemetry for tenant acme and
// finds the wscript.exe → powershell.exe chain on WORKSTATION5 by free text
// and by fields. It returns the store for further checks.
func RunLogsDataset(t *testing.T, s lhk.LogService) {
	ctx := context.Background()
	path := LogsEmpireDataset(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := s.Ingest(ctx, "acme", f)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2067 || res.Rejected != 0 {
		t.Fatalf("accepted %d rejected %d: %+v", res.Accepted, res.Rejected, res.Errors)
	}
	txt, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: `wscript.exe powershell -enc workstation5`, From: logsEmpireFrom, To: logsEmpireTo})
	if err != nil {
		t.Fatal(err)
	}
	if len(txt.Events) == 0 {
		t.Fatal("free text finds no wscript → powershell event")
	}
	fres, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: logsEmpireFrom, To: logsEmpireTo, Fields: []lhk.Condition{
		{Field: "host.name", Op: "prefix", Value: "WORKSTATION5"},
		{Field: "process.parent.name", Op: "eq", Value: "wscript.exe"},
		{Field: "process.name", Op: "eq", Value: "powershell.exe"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(fres.Events) != 2 { // Sysmon 1 and Security 4688
		t.Fatalf("fields find %d wscript → powershell events, want 2", len(fres.Events))
	}
	for _, e := range fres.Events {
		if !strings.Contains(fmt.Sprint(e["process.command_line"]), "-enc") {
			t.Errorf("event %v lacks the encoded command line", e["_id"])
		}
	}
	// The C2 connection of that PowerShell.
	net, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: logsEmpireFrom, To: logsEmpireTo, Fields: []lhk.Condition{
		{Field: "process.name", Op: "eq", Value: "powershell.exe"},
		{Field: "destination.ip", Op: "cidr", Value: "10.0.0.0/8"},
		{Field: "event.code", Op: "eq", Value: "3"},
	}})
	if err != nil || len(net.Events) != 1 || net.Events[0]["destination.ip"] != "10.10.10.5" {
		t.Fatalf("C2 connection: %v, %v", net, err)
	}
	top, err := s.Top(ctx, lhk.TopRequest{Tenant: "acme", Field: "event.dataset", From: logsEmpireFrom, To: logsEmpireTo})
	if err != nil || top.Total != 2067 || len(top.Buckets) < 3 {
		t.Fatalf("top by dataset: %+v, %v", top, err)
	}
	none, err := s.Count(ctx, lhk.CountRequest{Tenant: "globex", From: logsEmpireFrom, To: logsEmpireTo})
	if err != nil || none.Count != 0 {
		t.Fatalf("globex counts acme's dataset: %+v, %v", none, err)
	}
}

package logsqlite_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/systems/logsqlite"
)

func FuzzIngest(f *testing.F) {
	for _, seed := range []string{
		`{"@timestamp":"2026-11-01T10:00:00Z","message":"hi"}`,
		`{"@timestamp":"2026-11-01T10:00:00Z","EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\a\\b.exe","ProcessId":"0x10","User":"D\\u","Hashes":"SHA1=AB,MD5=","SourceIp":"::ffff:1.2.3.4"}`,
		`{"@timestamp":"2026-11-01 10:00:00","tenant":"globex"}`,
		`{"@timestamp":"2026-11-01T10:00:00Z","a":{"b":{"c":[1,{"d":2}]}},"tenant":"acme","_id":"x"}`,
		"{\"@timestamp\":\"2026-11-01T10:00:00Z\"}\r\n\n[]\nnull\n\"s\"\n{",
		`{"@timestamp":"2026-11-01T10:00:00Z","winlog":{"event_id":4688,"channel":"Security","event_data":{"NewProcessId":"0xffffffffffffffffff"}}}`,
		`{"@timestamp":"2026-11-01T10:00:00Z","host.name":5,"event.code":true,"source.ip":[1]}`,
	} {
		f.Add(seed)
	}
	s := open(f)
	ctx := context.Background()
	from, to := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		before, err := s.Count(ctx, lhk.CountRequest{Tenant: "acme", From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Ingest(ctx, "acme", strings.NewReader(in))
		if err != nil {
			t.Fatalf("ingest: %v", err)
		}
		lines := strings.Count(in, "\n") + 1
		if res.Accepted+res.Rejected > lines || len(res.Errors) != min(res.Rejected, lhk.MaxIngestErrors) {
			t.Fatalf("%d lines: %+v", lines, res)
		}
		after, err := s.Count(ctx, lhk.CountRequest{Tenant: "acme", From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if after.Count-before.Count > int64(res.Accepted) {
			t.Fatalf("count grew by %d, accepted %d", after.Count-before.Count, res.Accepted)
		}
		g, err := s.Count(ctx, lhk.CountRequest{Tenant: "globex", From: from, To: to})
		if err != nil || g.Count != 0 {
			t.Fatalf("an acme ingest wrote to globex: %+v, %v", g, err)
		}
	})
}

func FuzzSearch(f *testing.F) {
	f.Add("powershell -enc", "host.name", "eq", "WS01", 1.5, 10)
	f.Add(`"NEAR(a b)" OR *`, "source.ip", "cidr", "10.0.0.0/8", 0.0, 0)
	f.Add("tenant:globex", "tenant", "prefix", "glo", -1.0, 5000)
	f.Add("^-\"", `a"b`, "gt", "", 1e308, -3)
	f.Add("x", "@timestamp", "lt", "2026-11-01T10:00:00Z", 0.0, 1)
	s := open(f)
	ctx := context.Background()
	for _, tenant := range []string{"acme", "globex"} {
		var sb strings.Builder
		for i := range 20 {
			sb.WriteString(`{"@timestamp":"2026-11-01T10:00:0` + string(rune('0'+i%10)) + `Z","marker":"` + tenant +
				`","host":{"name":"WS01"},"source":{"ip":"10.0.0.1"},"n":` + string(rune('0'+i%10)) + `,"message":"powershell -enc globex acme"}` + "\n")
		}
		if _, err := s.Ingest(ctx, tenant, strings.NewReader(sb.String())); err != nil {
			f.Fatal(err)
		}
	}
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	check := func(t *testing.T, evs []lhk.Event, err error) {
		t.Helper()
		if err != nil {
			var e *lhk.Error
			if !errors.As(err, &e) || e.Code != lhk.EINVALID {
				t.Fatalf("error %v, want EINVALID", err)
			}
			return
		}
		for _, e := range evs {
			if e["tenant"] != "acme" || e["marker"] != "acme" {
				t.Fatalf("acme search returned %v", e)
			}
		}
	}
	f.Fuzz(func(t *testing.T, query, field, op, sval string, nval float64, limit int) {
		res, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: query, From: from, To: to, Limit: limit})
		if err == nil {
			check(t, res.Events, nil)
		} else {
			check(t, nil, err)
		}
		for _, v := range []any{sval, nval} {
			conds := []lhk.Condition{{Field: field, Op: op, Value: v}}
			res, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", Fields: conds, From: from, To: to, Limit: limit,
				Exclude: [][]lhk.Condition{conds[:1]}})
			if err == nil {
				check(t, res.Events, nil)
			} else {
				check(t, nil, err)
			}
			top, err := s.Top(ctx, lhk.TopRequest{Tenant: "acme", Field: field, Query: query, Fields: conds, From: from, To: to, Limit: limit})
			check(t, nil, err)
			if err == nil {
				for _, b := range top.Buckets {
					if field == "marker" && b.Value != "acme" {
						t.Fatalf("top counts %q", b.Value)
					}
				}
			}
		}
	})
}

func TestQueryBudget(t *testing.T) {
	s, err := logsqlite.Open(context.Background(), t.TempDir()+"/logs.db", logsqlite.WithQueryBudget(time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	_, err = s.Search(context.Background(), lhk.SearchRequest{Tenant: "acme", Query: "x", From: from, To: from.Add(time.Hour)})
	if lhk.ErrorCode(err) != lhk.ETIMEOUT {
		t.Fatalf("error %v, want ETIMEOUT", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Count(ctx, lhk.CountRequest{Tenant: "acme", From: from, To: from.Add(time.Hour)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want the caller's cancellation", err)
	}
}

func TestReopenKeepsIDsAndCursors(t *testing.T) {
	path := t.TempDir() + "/logs.db"
	ctx := context.Background()
	s, err := logsqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Repeat(`{"@timestamp":"2026-11-01T10:00:00Z","m":"x"}`+"\n", 3)
	if _, err := s.Ingest(ctx, "acme", strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	req := lhk.SearchRequest{Tenant: "acme", Query: "x", From: from, To: from.Add(24 * time.Hour), Limit: 1}
	first, err := s.Search(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = logsqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req.Cursor = first.NextCursor
	next, err := s.Search(ctx, req)
	if err != nil || len(next.Events) != 1 || next.Events[0]["_id"] == first.Events[0]["_id"] {
		t.Fatalf("after reopening: %+v, %v", next, err)
	}
	byID, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: req.From, To: req.To,
		Fields: []lhk.Condition{{Field: "_id", Op: "eq", Value: first.Events[0]["_id"]}}})
	if err != nil || len(byID.Events) != 1 {
		t.Fatalf("_id after reopening: %+v, %v", byID, err)
	}
}

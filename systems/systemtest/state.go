// The state suites (filters, tickets, assets, reports, kv). A backend's
// tests call the suite of each interface it implements with a
// function that opens an empty store:
//
//	func TestTickets(t *testing.T) {
//		systemtest.RunTickets(t, func(tb testing.TB) lhk.TicketService { return openTest(tb) })
//	}
//
// The suites use only the lhk interfaces, so the embedded SQLite backend and
// the PostgreSQL one are held to the same behaviour: tenant isolation on
// every operation, validation with EINVALID, ENOTFOUND and ECONFLICT where
// the interfaces promise them, capped limits and hostile input.

package systemtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// Contract values the state suites hold every backend to.
const (
	stateMaxTicketLimit = 500  // SearchTickets caps limit here
	stateDefTicketLimit = 50   // SearchTickets' default limit
	stateMaxKVLimit     = 1000 // List caps limit here
	stateDefKVLimit     = 100  // List's default limit
)

const (
	stateAcme   = "acme"
	stateGlobex = "globex"
)

// stateHostile are strings that must be stored and found as plain data.
var stateHostile = []string{
	`'; DROP TABLE tickets; --`,
	`" OR 1=1 --`,
	`%`,
	`_`,
	`\`,
	`%' OR name LIKE '%`,
	"\u202egnp.exe",           // right-to-left override
	"e\u0301te\u0301",         // combining accents
	"日本語のホスト",                 // CJK
	"🔥💻",                      // astral plane
	"ZALGO\u0336\u0337\u0338", // stacked marks
}

// stateCtx is the context of the suites: actor "tester".
func stateCtx() context.Context {
	return lhk.NewContextWithActor(context.Background(), "tester")
}

// stateWantCode fails tb unless err carries the application error code want.
func stateWantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want code %q", want)
	}
	if got := lhk.ErrorCode(err); got != want {
		tb.Fatalf("got error %v with code %q, want code %q", err, got, want)
	}
}

// stateOK fails tb when err is not nil.
func stateOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// stateTime returns a fixed UTC time, day days after 2026-11-01.
func stateTime(day int) time.Time {
	return time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, day)
}

// stateErrCase is one call that must fail with code.
type stateErrCase struct {
	name string
	code string
	call func(ctx context.Context) error
}

// stateRunErrs runs each case as a subtest.
func stateRunErrs(t *testing.T, cases []stateErrCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stateWantCode(t, c.call(stateCtx()), c.code)
		})
	}
}

// ---------------------------------------------------------------- filters

// RunFilters runs the conformance suite of lhk.FilterService. open must
// return an empty store on every call and close it when tb ends.
func RunFilters(t *testing.T, open func(tb testing.TB) lhk.FilterService) {
	ctx := stateCtx()
	cond := []lhk.Condition{{Field: "process.name", Op: lhk.OpEq, Value: "svchost.exe"}}
	past, future := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("OK", func(t *testing.T) {
		s := open(t)
		f, err := s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateAcme, Name: "noisy-svchost", Conditions: cond, Reason: "known"})
		stateOK(t, err)
		if f.Owner != "tester" {
			t.Errorf("owner %q, want the actor %q", f.Owner, "tester")
		}
		if f.CreatedAt.IsZero() || f.HitCount != 0 || f.LastHit != nil || f.ExpiresAt != nil {
			t.Errorf("new filter %+v", f)
		}
		fs, err := s.Filters(ctx, stateAcme, false)
		stateOK(t, err)
		if len(fs) != 1 || fs[0].Name != "noisy-svchost" || fs[0].Reason != "known" || len(fs[0].Conditions) != 1 ||
			fs[0].Conditions[0].Value != "svchost.exe" || !fs[0].CreatedAt.Equal(f.CreatedAt) {
			t.Fatalf("filters %+v", fs)
		}
		stateOK(t, s.DeleteFilter(ctx, stateAcme, "noisy-svchost"))
		fs, err = s.Filters(ctx, stateAcme, true)
		stateOK(t, err)
		if len(fs) != 0 {
			t.Errorf("after delete: %+v", fs)
		}
	})

	t.Run("Conditions", func(t *testing.T) {
		s := open(t)
		var all []lhk.Condition
		for _, op := range lhk.Ops {
			c := lhk.Condition{Field: "f." + op, Op: op, Value: "x"}
			switch op {
			case lhk.OpCIDR:
				c.Value = "10.0.0.0/8"
			case lhk.OpGT, lhk.OpLT:
				c.Value = 5
			case lhk.OpExists:
				c.Value = nil
			}
			all = append(all, c)
		}
		_, err := s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateAcme, Name: "every-op", Conditions: all})
		stateOK(t, err)
		fs, err := s.Filters(ctx, stateAcme, false)
		stateOK(t, err)
		if len(fs) != 1 || len(fs[0].Conditions) != len(all) {
			t.Fatalf("filters %+v", fs)
		}
		for i, c := range fs[0].Conditions {
			if c.Field != all[i].Field || c.Op != all[i].Op || fmt.Sprint(c.Value) != fmt.Sprint(all[i].Value) && c.Op != lhk.OpExists {
				t.Errorf("condition %d = %+v, want %+v", i, c, all[i])
			}
		}
	})

	t.Run("UpsertKeeps", func(t *testing.T) {
		s := open(t)
		first, err := s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateAcme, Name: "f", Conditions: cond, Owner: "alice"})
		stateOK(t, err)
		last := stateTime(3)
		stateOK(t, s.SetHits(ctx, stateAcme, "f", 42, &last))
		newCond := []lhk.Condition{{Field: "host.name", Op: lhk.OpPrefix, Value: "WS"}}
		got, err := s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateAcme, Name: "f", Conditions: newCond, Reason: "r2",
			CreatedAt: stateTime(-100), HitCount: 7})
		stateOK(t, err)
		fs, err := s.Filters(ctx, stateAcme, false)
		stateOK(t, err)
		for _, f := range []*lhk.Filter{got, fs[0]} {
			if !f.CreatedAt.Equal(first.CreatedAt) || f.HitCount != 42 || f.LastHit == nil || !f.LastHit.Equal(last) ||
				f.Owner != "alice" || f.Reason != "r2" || f.Conditions[0].Field != "host.name" {
				t.Errorf("after re-upsert: %+v (first %+v)", f, first)
			}
		}
		_, err = s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateAcme, Name: "f", Conditions: newCond, Owner: "bob"})
		stateOK(t, err)
		fs, _ = s.Filters(ctx, stateAcme, false)
		if fs[0].Owner != "bob" {
			t.Errorf("owner %q, want the given owner bob", fs[0].Owner)
		}
		stateOK(t, s.SetHits(ctx, stateAcme, "f", 0, nil))
		fs, _ = s.Filters(ctx, stateAcme, false)
		if fs[0].HitCount != 0 || fs[0].LastHit != nil {
			t.Errorf("after clearing hits: %+v", fs[0])
		}
	})

	t.Run("Expired", func(t *testing.T) {
		s := open(t)
		for name, exp := range map[string]*time.Time{"b-old": &past, "a-later": &future, "c-never": nil} {
			_, err := s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateAcme, Name: name, Conditions: cond, ExpiresAt: exp})
			stateOK(t, err)
		}
		active, err := s.Filters(ctx, stateAcme, false)
		stateOK(t, err)
		if got := stateFilterNames(active); !slices.Equal(got, []string{"a-later", "c-never"}) {
			t.Errorf("active filters %v, want [a-later c-never]", got)
		}
		all, err := s.Filters(ctx, stateAcme, true)
		stateOK(t, err)
		if got := stateFilterNames(all); !slices.Equal(got, []string{"a-later", "b-old", "c-never"}) {
			t.Errorf("all filters %v, want by name [a-later b-old c-never]", got)
		}
		for _, f := range all {
			if f.Name == "a-later" && (f.ExpiresAt == nil || !f.ExpiresAt.Equal(future)) {
				t.Errorf("expires_at %v, want %v", f.ExpiresAt, future)
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		stateRunErrs(t, []stateErrCase{
			{"Delete", lhk.ENOTFOUND, func(ctx context.Context) error { return s.DeleteFilter(ctx, stateAcme, "absent") }},
			{"SetHits", lhk.ENOTFOUND, func(ctx context.Context) error { return s.SetHits(ctx, stateAcme, "absent", 1, nil) }},
		})
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		_, err := s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateAcme, Name: "ok", Conditions: cond})
		stateOK(t, err)
		upsert := func(f lhk.Filter) func(context.Context) error {
			return func(ctx context.Context) error { _, err := s.UpsertFilter(ctx, &f); return err }
		}
		many := make([]lhk.Condition, lhk.MaxConditions+1)
		for i := range many {
			many[i] = cond[0]
		}
		c := func(field, op string, v any) []lhk.Condition {
			return []lhk.Condition{{Field: field, Op: op, Value: v}}
		}
		stateRunErrs(t, []stateErrCase{
			{"NoTenant", lhk.EINVALID, upsert(lhk.Filter{Name: "x", Conditions: cond})},
			{"NoName", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Conditions: cond})},
			{"LongName", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: strings.Repeat("n", 129), Conditions: cond})},
			{"ControlInName", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: "a\nb", Conditions: cond})},
			{"BadUTF8Name", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: "a\xffb", Conditions: cond})},
			{"NoConditions", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: "x"})},
			{"TooManyConditions", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: "x", Conditions: many})},
			{"UnknownOp", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: "x", Conditions: c("f", "like", "x")})},
			{"EmptyField", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: "x", Conditions: c("", lhk.OpEq, "x")})},
			{"HugeValue", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: "x",
				Conditions: c("f", lhk.OpContains, strings.Repeat("v", lhk.MaxQueryBytes+1))})},
			{"ObjectValue", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: "x",
				Conditions: c("f", lhk.OpEq, map[string]any{"a": 1})})},
			{"BadCIDR", lhk.EINVALID, upsert(lhk.Filter{Tenant: stateAcme, Name: "x", Conditions: c("source.ip", lhk.OpCIDR, "10.0.0.0/99")})},
			{"NegativeHits", lhk.EINVALID, func(ctx context.Context) error { return s.SetHits(ctx, stateAcme, "ok", -1, nil) }},
			{"FiltersNoTenant", lhk.EINVALID, func(ctx context.Context) error { _, err := s.Filters(ctx, "", true); return err }},
		})
		fs, err := s.Filters(ctx, stateAcme, true)
		stateOK(t, err)
		if got := stateFilterNames(fs); !slices.Equal(got, []string{"ok"}) {
			t.Errorf("invalid upserts stored something: %v", got)
		}
		if fs[0].HitCount != 0 {
			t.Errorf("hit count %d after a rejected SetHits", fs[0].HitCount)
		}
	})

	t.Run("Tenants", func(t *testing.T) {
		s := open(t)
		last := stateTime(1)
		_, err := s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateGlobex, Name: "shared", Conditions: cond, Owner: "gina"})
		stateOK(t, err)
		stateOK(t, s.SetHits(ctx, stateGlobex, "shared", 9, &last))
		_, err = s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateGlobex, Name: "globex-only", Conditions: cond})
		stateOK(t, err)

		fs, err := s.Filters(ctx, stateAcme, true)
		stateOK(t, err)
		if len(fs) != 0 {
			t.Errorf("acme lists globex's filters: %v", stateFilterNames(fs))
		}
		stateWantCode(t, s.DeleteFilter(ctx, stateAcme, "globex-only"), lhk.ENOTFOUND)
		stateWantCode(t, s.SetHits(ctx, stateAcme, "shared", 1, nil), lhk.ENOTFOUND)
		mine, err := s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateAcme, Name: "shared",
			Conditions: []lhk.Condition{{Field: "user.name", Op: lhk.OpEq, Value: "svc"}}})
		stateOK(t, err)
		if mine.HitCount != 0 || mine.LastHit != nil || mine.Owner != "tester" {
			t.Errorf("acme's new filter took globex's statistics or owner: %+v", mine)
		}

		gs, err := s.Filters(ctx, stateGlobex, true)
		stateOK(t, err)
		if got := stateFilterNames(gs); !slices.Equal(got, []string{"globex-only", "shared"}) {
			t.Fatalf("globex's filters %v changed", got)
		}
		for _, f := range gs {
			if f.Tenant != stateGlobex {
				t.Errorf("globex lists a filter of %q", f.Tenant)
			}
			if f.Name == "shared" && (f.HitCount != 9 || f.Owner != "gina" || f.Conditions[0].Field != "process.name") {
				t.Errorf("acme's calls changed globex's filter: %+v", f)
			}
		}
		as, _ := s.Filters(ctx, stateAcme, true)
		if got := stateFilterNames(as); !slices.Equal(got, []string{"shared"}) || as[0].Tenant != stateAcme {
			t.Errorf("acme's filters %v", got)
		}
	})

	t.Run("Hostile", func(t *testing.T) {
		s := open(t)
		for i, h := range stateHostile {
			cs := []lhk.Condition{{Field: "process.command_line", Op: lhk.OpContains, Value: h}}
			f, err := s.UpsertFilter(ctx, &lhk.Filter{Tenant: stateAcme, Name: fmt.Sprintf("h%02d %s", i, h), Conditions: cs, Reason: h})
			stateOK(t, err)
			if f.Reason != h {
				t.Errorf("reason %q, want %q", f.Reason, h)
			}
		}
		fs, err := s.Filters(ctx, stateAcme, false)
		stateOK(t, err)
		if len(fs) != len(stateHostile) {
			t.Fatalf("%d filters, want %d", len(fs), len(stateHostile))
		}
		for _, f := range fs {
			i := slices.Index(stateHostile, f.Reason)
			if i < 0 || f.Conditions[0].Value != stateHostile[i] || f.Name != fmt.Sprintf("h%02d %s", i, stateHostile[i]) {
				t.Errorf("filter %q came back as %+v", f.Name, f)
			}
		}
		stateOK(t, s.DeleteFilter(ctx, stateAcme, fmt.Sprintf("h%02d %s", 0, stateHostile[0])))
		stateWantCode(t, s.DeleteFilter(ctx, stateAcme, "%"), lhk.ENOTFOUND)
		stateWantCode(t, s.DeleteFilter(ctx, stateAcme, strings.Repeat("x", 1<<20)), lhk.ENOTFOUND)
		fs, _ = s.Filters(ctx, stateAcme, false)
		if len(fs) != len(stateHostile)-1 {
			t.Errorf("%d filters after one delete, want %d", len(fs), len(stateHostile)-1)
		}
	})
}

// stateFilterNames lists the names of fs in order.
func stateFilterNames(fs []*lhk.Filter) []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return names
}

// ---------------------------------------------------------------- tickets

// RunTickets runs the conformance suite of lhk.TicketService. open must
// return an empty store on every call and close it when tb ends. Tickets
// created with a non-zero CreatedAt must keep it.
func RunTickets(t *testing.T, open func(tb testing.TB) lhk.TicketService) {
	ctx := stateCtx()
	create := func(tb testing.TB, s lhk.TicketService, tk lhk.Ticket) *lhk.Ticket {
		tb.Helper()
		got, err := s.CreateTicket(ctx, &tk)
		if err != nil {
			tb.Fatalf("create ticket %q: %v", tk.Title, err)
		}
		return got
	}

	t.Run("OK", func(t *testing.T) {
		s := open(t)
		tk := create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "Brute force on WS01", Description: "many failures",
			Events:      []string{"ev1", "ev2", "ev1"},
			Observables: []lhk.Observable{{Type: "ip", Value: "10.0.0.5"}, {Type: "ip", Value: "10.0.0.5"}, {Type: "user", Value: "bob"}},
		})
		if tk.ID == "" || tk.Status != lhk.TicketOpen || tk.Severity != lhk.SeverityMedium || tk.Reporter != "tester" {
			t.Errorf("defaults: %+v", tk)
		}
		if !slices.Equal(tk.Events, []string{"ev1", "ev2"}) || len(tk.Observables) != 2 {
			t.Errorf("events %v observables %v: want de-duplicated", tk.Events, tk.Observables)
		}
		if tk.CreatedAt.IsZero() || tk.UpdatedAt.Before(tk.CreatedAt) {
			t.Errorf("times created %v updated %v", tk.CreatedAt, tk.UpdatedAt)
		}
		got, err := s.Ticket(ctx, stateAcme, tk.ID)
		stateOK(t, err)
		if got.ID != tk.ID || got.Title != tk.Title || got.Description != tk.Description || got.Tenant != stateAcme ||
			!slices.Equal(got.Events, tk.Events) || !slices.Equal(got.Observables, tk.Observables) || !got.CreatedAt.Equal(tk.CreatedAt) {
			t.Errorf("read back %+v, want %+v", got, tk)
		}

		title, status, sev, who := "Brute force on WS01 (confirmed)", lhk.TicketInProgress, lhk.SeverityHigh, "alice"
		up, err := s.UpdateTicket(ctx, stateAcme, tk.ID, lhk.TicketUpdate{Title: &title, Status: &status, Severity: &sev,
			Assignee: &who, AddEvents: []string{"ev2", "ev3"},
			AddObservables: []lhk.Observable{{Type: "user", Value: "bob"}, {Type: "hash", Value: strings.Repeat("a", 64)}}})
		stateOK(t, err)
		if up.Title != title || up.Status != status || up.Severity != sev || up.Assignee != who || up.Description != "many failures" {
			t.Errorf("after update: %+v", up)
		}
		if !slices.Equal(up.Events, []string{"ev1", "ev2", "ev3"}) || len(up.Observables) != 3 {
			t.Errorf("after update events %v observables %v", up.Events, up.Observables)
		}
		if up.UpdatedAt.Before(tk.UpdatedAt) || !up.CreatedAt.Equal(tk.CreatedAt) {
			t.Errorf("after update created %v updated %v (before %v)", up.CreatedAt, up.UpdatedAt, tk.UpdatedAt)
		}

		cm, err := s.CommentTicket(ctx, stateAcme, tk.ID, lhk.Comment{Body: "isolated the host"})
		stateOK(t, err)
		cm, err = s.CommentTicket(ctx, stateAcme, tk.ID, lhk.Comment{Author: "alice", Body: "closed the account"})
		stateOK(t, err)
		if len(cm.Comments) != 2 || cm.Comments[0].Author != "tester" || cm.Comments[1].Author != "alice" ||
			cm.Comments[1].Body != "closed the account" || cm.Comments[0].At.IsZero() || cm.Comments[1].At.Before(cm.Comments[0].At) {
			t.Errorf("comments %+v", cm.Comments)
		}
		got, _ = s.Ticket(ctx, stateAcme, tk.ID)
		if len(got.Comments) != 2 || got.Status != status || len(got.Observables) != 3 {
			t.Errorf("read back after comments: %+v", got)
		}
	})

	t.Run("Observables", func(t *testing.T) {
		s := open(t)
		valid := []lhk.Observable{
			{Type: "ip", Value: "192.0.2.1"}, {Type: "ip", Value: "2001:db8::1"},
			{Type: "hash", Value: strings.Repeat("0", 32)}, {Type: "hash", Value: strings.Repeat("A", 40)},
			{Type: "hash", Value: strings.Repeat("f", 64)}, {Type: "domain", Value: "evil.example"},
			{Type: "url", Value: "https://evil.example/x?a=b"}, {Type: "user", Value: "CORP\\bob"},
			{Type: "host", Value: "WS01"}, {Type: "email", Value: "bob@example.com"},
		}
		tk := create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "iocs", Observables: valid})
		if len(tk.Observables) != len(valid) {
			t.Errorf("%d observables stored, want %d: %v", len(tk.Observables), len(valid), tk.Observables)
		}
		for _, q := range []string{"192.0.2.1", "2001:DB8:0::1", "EVIL.example", "bob@example.com", strings.Repeat("a", 40)} {
			l, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, Observable: q})
			stateOK(t, err)
			if len(l.Tickets) != 1 {
				t.Errorf("observable %q found %d tickets, want 1", q, len(l.Tickets))
			}
		}
		l, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, Observable: "192.0.2"})
		stateOK(t, err)
		if len(l.Tickets) != 0 {
			t.Errorf("observable search is not exact: 192.0.2 found %d", len(l.Tickets))
		}
		bad := map[string]lhk.Observable{
			"IP":         {Type: "ip", Value: "10.0.0.300"},
			"HashLength": {Type: "hash", Value: strings.Repeat("a", 33)},
			"HashHex":    {Type: "hash", Value: strings.Repeat("g", 32)},
			"Empty":      {Type: "domain", Value: ""},
			"Huge":       {Type: "url", Value: "https://x/" + strings.Repeat("a", 2<<10)},
			"Type":       {Type: "mutex", Value: "x"},
		}
		for name, o := range bad {
			t.Run("ErrInvalid"+name, func(t *testing.T) {
				_, err := s.CreateTicket(ctx, &lhk.Ticket{Tenant: stateAcme, Title: "x", Observables: []lhk.Observable{o}})
				stateWantCode(t, err, lhk.EINVALID)
				_, err = s.UpdateTicket(ctx, stateAcme, tk.ID, lhk.TicketUpdate{AddObservables: []lhk.Observable{o}})
				stateWantCode(t, err, lhk.EINVALID)
			})
		}
		got, _ := s.Ticket(ctx, stateAcme, tk.ID)
		if len(got.Observables) != len(valid) {
			t.Errorf("rejected updates changed the observables: %v", got.Observables)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		first := create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "alert 1", ExternalKey: "siem-123"})
		_, err := s.CreateTicket(ctx, &lhk.Ticket{Tenant: stateAcme, Title: "alert 1 again", ExternalKey: "siem-123"})
		stateWantCode(t, err, lhk.ECONFLICT)
		create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "no key 1"})
		create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "no key 2"})
		create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "other key", ExternalKey: "siem-1234"})
		l, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, ExternalKey: "siem-123"})
		stateOK(t, err)
		if len(l.Tickets) != 1 || l.Tickets[0].ID != first.ID || l.Tickets[0].ExternalKey != "siem-123" {
			t.Errorf("external key search %+v, want exactly %s", l.Tickets, first.ID)
		}
		l, _ = s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, ExternalKey: "SIEM-123"})
		if len(l.Tickets) != 0 {
			t.Errorf("external key search is not exact: SIEM-123 found %d", len(l.Tickets))
		}
		l, _ = s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, ExternalKey: "siem-%"})
		if len(l.Tickets) != 0 {
			t.Errorf("external key search takes wildcards: siem-%% found %d", len(l.Tickets))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "x"})
		stateRunErrs(t, []stateErrCase{
			{"Ticket", lhk.ENOTFOUND, func(ctx context.Context) error { _, err := s.Ticket(ctx, stateAcme, "T-000000"); return err }},
			{"TicketEmptyID", lhk.ENOTFOUND, func(ctx context.Context) error { _, err := s.Ticket(ctx, stateAcme, ""); return err }},
			{"TicketSQL", lhk.ENOTFOUND, func(ctx context.Context) error { _, err := s.Ticket(ctx, stateAcme, "' OR '1'='1"); return err }},
			{"Update", lhk.ENOTFOUND, func(ctx context.Context) error {
				_, err := s.UpdateTicket(ctx, stateAcme, "absent", lhk.TicketUpdate{})
				return err
			}},
			{"Comment", lhk.ENOTFOUND, func(ctx context.Context) error {
				_, err := s.CommentTicket(ctx, stateAcme, "absent", lhk.Comment{Body: "x"})
				return err
			}},
		})
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		tk := create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "ok"})
		str := func(v string) *string { return &v }
		createErr := func(tk lhk.Ticket) func(context.Context) error {
			return func(ctx context.Context) error { _, err := s.CreateTicket(ctx, &tk); return err }
		}
		updateErr := func(u lhk.TicketUpdate) func(context.Context) error {
			return func(ctx context.Context) error { _, err := s.UpdateTicket(ctx, stateAcme, tk.ID, u); return err }
		}
		searchErr := func(q lhk.TicketQuery) func(context.Context) error {
			return func(ctx context.Context) error { q.Tenant = stateAcme; _, err := s.SearchTickets(ctx, q); return err }
		}
		from, to := stateTime(2), stateTime(1)
		stateRunErrs(t, []stateErrCase{
			{"CreateNoTenant", lhk.EINVALID, createErr(lhk.Ticket{Title: "x"})},
			{"CreateNoTitle", lhk.EINVALID, createErr(lhk.Ticket{Tenant: stateAcme})},
			{"CreateBlankTitle", lhk.EINVALID, createErr(lhk.Ticket{Tenant: stateAcme, Title: "  \t"})},
			{"CreateHugeTitle", lhk.EINVALID, createErr(lhk.Ticket{Tenant: stateAcme, Title: strings.Repeat("t", 513)})},
			{"CreateHugeDescription", lhk.EINVALID, createErr(lhk.Ticket{Tenant: stateAcme, Title: "x", Description: strings.Repeat("d", 64<<10+1)})},
			{"CreateStatus", lhk.EINVALID, createErr(lhk.Ticket{Tenant: stateAcme, Title: "x", Status: "done"})},
			{"CreateSeverity", lhk.EINVALID, createErr(lhk.Ticket{Tenant: stateAcme, Title: "x", Severity: "urgent"})},
			{"CreateEmptyEvent", lhk.EINVALID, createErr(lhk.Ticket{Tenant: stateAcme, Title: "x", Events: []string{""}})},
			{"UpdateStatus", lhk.EINVALID, updateErr(lhk.TicketUpdate{Status: str("OPEN")})},
			{"UpdateSeverity", lhk.EINVALID, updateErr(lhk.TicketUpdate{Severity: str("")})},
			{"UpdateTitle", lhk.EINVALID, updateErr(lhk.TicketUpdate{Title: str("")})},
			{"UpdateHugeDescription", lhk.EINVALID, updateErr(lhk.TicketUpdate{Description: str(strings.Repeat("d", 64<<10+1))})},
			{"CommentEmpty", lhk.EINVALID, func(ctx context.Context) error {
				_, err := s.CommentTicket(ctx, stateAcme, tk.ID, lhk.Comment{})
				return err
			}},
			{"CommentHuge", lhk.EINVALID, func(ctx context.Context) error {
				_, err := s.CommentTicket(ctx, stateAcme, tk.ID, lhk.Comment{Body: strings.Repeat("c", 1<<20)})
				return err
			}},
			{"SearchNegativeLimit", lhk.EINVALID, searchErr(lhk.TicketQuery{Limit: -1})},
			{"SearchStatus", lhk.EINVALID, searchErr(lhk.TicketQuery{Status: "done"})},
			{"SearchSeverity", lhk.EINVALID, searchErr(lhk.TicketQuery{Severity: "urgent"})},
			{"SearchHugeText", lhk.EINVALID, searchErr(lhk.TicketQuery{Text: strings.Repeat("q", 1<<20)})},
			{"SearchCursor", lhk.EINVALID, searchErr(lhk.TicketQuery{Cursor: "not-a-cursor"})},
			{"SearchRange", lhk.EINVALID, searchErr(lhk.TicketQuery{From: &from, To: &to})},
			{"SearchNoTenant", lhk.EINVALID, func(ctx context.Context) error {
				_, err := s.SearchTickets(ctx, lhk.TicketQuery{})
				return err
			}},
		})
		got, err := s.Ticket(ctx, stateAcme, tk.ID)
		stateOK(t, err)
		if got.Title != "ok" || got.Status != lhk.TicketOpen || got.Severity != lhk.SeverityMedium || len(got.Comments) != 0 {
			t.Errorf("rejected calls changed the ticket: %+v", got)
		}
		l, _ := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme})
		if len(l.Tickets) != 1 {
			t.Errorf("rejected creates stored tickets: %d tickets", len(l.Tickets))
		}
	})

	t.Run("Search", func(t *testing.T) {
		s := open(t)
		// Day i's ticket is created at stateTime(i); newest first means 5..0.
		specs := []lhk.Ticket{
			{Title: "PowerShell encoded command", Severity: lhk.SeverityHigh, Assignee: "alice"},
			{Title: "Phishing mail", Description: "User clicked a link to ÄRGER.example", Status: lhk.TicketResolved},
			{Title: "Port scan", Severity: lhk.SeverityLow, Assignee: "bob"},
			{Title: "Discount 100% off", Description: "spam with a_b"},
			{Title: "Malware", Severity: lhk.SeverityCritical, Assignee: "alice", Status: lhk.TicketInProgress},
			{Title: "Login anomaly"},
		}
		ids := make([]string, len(specs))
		for i, sp := range specs {
			sp.Tenant, sp.CreatedAt = stateAcme, stateTime(i)
			tk := create(t, s, sp)
			if !tk.CreatedAt.Equal(stateTime(i)) {
				t.Fatalf("created_at %v, want the given %v", tk.CreatedAt, stateTime(i))
			}
			ids[i] = tk.ID
		}
		_, err := s.CommentTicket(ctx, stateAcme, ids[5], lhk.Comment{Body: "Seen from TOR exit node"})
		stateOK(t, err)
		from, to := stateTime(1), stateTime(4)
		tests := []struct {
			name string
			q    lhk.TicketQuery
			want []int // indexes into specs, newest first
		}{
			{"All", lhk.TicketQuery{}, []int{5, 4, 3, 2, 1, 0}},
			{"Status", lhk.TicketQuery{Status: lhk.TicketOpen}, []int{5, 3, 2, 0}},
			{"Severity", lhk.TicketQuery{Severity: lhk.SeverityHigh}, []int{0}},
			{"Assignee", lhk.TicketQuery{Assignee: "alice"}, []int{4, 0}},
			{"TextTitleCase", lhk.TicketQuery{Text: "POWERSHELL"}, []int{0}},
			{"TextDescription", lhk.TicketQuery{Text: "clicked a"}, []int{1}},
			{"TextUnicodeCase", lhk.TicketQuery{Text: "ärger"}, []int{1}},
			{"TextComment", lhk.TicketQuery{Text: "tor exit"}, []int{5}},
			{"TextPercent", lhk.TicketQuery{Text: "%"}, []int{3}},
			{"TextUnderscore", lhk.TicketQuery{Text: "_"}, []int{3}},
			{"TextNone", lhk.TicketQuery{Text: "ransomware"}, nil},
			{"TextSQL", lhk.TicketQuery{Text: "' OR 1=1 --"}, nil},
			{"Range", lhk.TicketQuery{From: &from, To: &to}, []int{3, 2, 1}},
			{"FromOnly", lhk.TicketQuery{From: &to}, []int{5, 4}},
			{"Combined", lhk.TicketQuery{Assignee: "alice", Severity: lhk.SeverityCritical, Status: lhk.TicketInProgress}, []int{4}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := tt.q
				q.Tenant = stateAcme
				l, err := s.SearchTickets(ctx, q)
				stateOK(t, err)
				var want []string
				for _, i := range tt.want {
					want = append(want, ids[i])
				}
				if got := stateTicketIDs(l.Tickets); !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
				if l.Truncated || l.NextCursor != "" {
					t.Errorf("truncated %v cursor %q on a complete result", l.Truncated, l.NextCursor)
				}
			})
		}
	})

	t.Run("Paging", func(t *testing.T) {
		s := open(t)
		const n = stateMaxTicketLimit + 3
		var want []string
		for i := range n {
			tk := create(t, s, lhk.Ticket{Tenant: stateAcme, Title: fmt.Sprintf("t%d", i), CreatedAt: stateTime(0).Add(time.Duration(i) * time.Minute)})
			want = append(want, tk.ID)
		}
		slices.Reverse(want)
		l, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme})
		stateOK(t, err)
		if len(l.Tickets) != stateDefTicketLimit || !l.Truncated || l.NextCursor == "" {
			t.Errorf("default page: %d tickets, truncated %v: want %d, truncated", len(l.Tickets), l.Truncated, stateDefTicketLimit)
		}
		l, err = s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, Limit: 1 << 30})
		stateOK(t, err)
		if len(l.Tickets) != stateMaxTicketLimit || !l.Truncated {
			t.Errorf("huge limit: %d tickets, truncated %v: want the cap %d, truncated", len(l.Tickets), l.Truncated, stateMaxTicketLimit)
		}
		var got []string
		cur := ""
		for page := 0; ; page++ {
			if page > n {
				t.Fatal("paging does not end")
			}
			l, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, Limit: 97, Cursor: cur})
			stateOK(t, err)
			got = append(got, stateTicketIDs(l.Tickets)...)
			if l.Truncated != (l.NextCursor != "") {
				t.Fatalf("truncated %v with cursor %q", l.Truncated, l.NextCursor)
			}
			if !l.Truncated {
				break
			}
			cur = l.NextCursor
		}
		if !slices.Equal(got, want) {
			t.Errorf("paging returned %d tickets, want all %d newest first without repeats", len(got), len(want))
		}
	})

	t.Run("Tenants", func(t *testing.T) {
		s := open(t)
		g := create(t, s, lhk.Ticket{Tenant: stateGlobex, Title: "Globex secret incident", Description: "merger leak",
			ExternalKey: "k-1", Assignee: "gina", Observables: []lhk.Observable{{Type: "ip", Value: "203.0.113.7"}}})
		for i := range 3 {
			create(t, s, lhk.Ticket{Tenant: stateGlobex, Title: fmt.Sprintf("globex %d", i), CreatedAt: stateTime(i)})
		}
		a := create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "Acme ticket"})

		stateRunErrs(t, []stateErrCase{
			{"Ticket", lhk.ENOTFOUND, func(ctx context.Context) error { _, err := s.Ticket(ctx, stateAcme, g.ID); return err }},
			{"Update", lhk.ENOTFOUND, func(ctx context.Context) error {
				title := "pwned"
				_, err := s.UpdateTicket(ctx, stateAcme, g.ID, lhk.TicketUpdate{Title: &title, AddEvents: []string{"x"}})
				return err
			}},
			{"Comment", lhk.ENOTFOUND, func(ctx context.Context) error {
				_, err := s.CommentTicket(ctx, stateAcme, g.ID, lhk.Comment{Body: "pwned"})
				return err
			}},
		})
		for name, q := range map[string]lhk.TicketQuery{
			"Text": {Text: "secret"}, "Description": {Text: "merger"}, "Observable": {Observable: "203.0.113.7"},
			"ExternalKey": {ExternalKey: "k-1"}, "Assignee": {Assignee: "gina"},
		} {
			t.Run("Search"+name, func(t *testing.T) {
				q.Tenant = stateAcme
				l, err := s.SearchTickets(ctx, q)
				stateOK(t, err)
				if len(l.Tickets) != 0 || l.Truncated || l.NextCursor != "" {
					t.Errorf("acme's search finds globex: %d tickets, truncated %v", len(l.Tickets), l.Truncated)
				}
			})
		}
		l, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme})
		stateOK(t, err)
		if got := stateTicketIDs(l.Tickets); !slices.Equal(got, []string{a.ID}) {
			t.Errorf("acme sees %v, want only %s", got, a.ID)
		}
		// Acme may use the same external key: it is unique per tenant.
		create(t, s, lhk.Ticket{Tenant: stateAcme, Title: "acme k-1", ExternalKey: "k-1"})

		t.Run("Cursor", func(t *testing.T) {
			gl, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateGlobex, Limit: 1})
			stateOK(t, err)
			if gl.NextCursor == "" {
				t.Fatal("globex's first page has no cursor")
			}
			al, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, Cursor: gl.NextCursor})
			if err != nil {
				stateWantCode(t, err, lhk.EINVALID)
				return
			}
			for _, tk := range al.Tickets {
				if tk.Tenant != stateAcme {
					t.Errorf("globex's cursor in acme returned %s of %s", tk.ID, tk.Tenant)
				}
			}
		})

		got, err := s.Ticket(ctx, stateGlobex, g.ID)
		stateOK(t, err)
		if got.Title != g.Title || len(got.Comments) != 0 || len(got.Events) != 0 || !got.UpdatedAt.Equal(g.UpdatedAt) {
			t.Errorf("acme's calls changed globex's ticket: %+v", got)
		}
	})

	// Alert intake may deliver one alert twice at once: exactly one ticket
	// per external key, the other callers get ECONFLICT.
	t.Run("HammerExternalKey", func(t *testing.T) {
		s := open(t)
		const workers, keys = 8, 5
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created = map[string][]string{}
			errs    []error
			start   = make(chan struct{})
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for k := range keys {
					key := fmt.Sprintf("alert-%d", k)
					tk, err := s.CreateTicket(ctx, &lhk.Ticket{Tenant: stateAcme, Title: fmt.Sprintf("w%d", w), ExternalKey: key})
					mu.Lock()
					switch {
					case err == nil:
						created[key] = append(created[key], tk.ID)
					case lhk.ErrorCode(err) != lhk.ECONFLICT:
						errs = append(errs, err)
					}
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("want ECONFLICT or success, got %v", err)
		}
		for k := range keys {
			key := fmt.Sprintf("alert-%d", k)
			if len(created[key]) != 1 {
				t.Errorf("external key %s: %d tickets created, want exactly 1", key, len(created[key]))
			}
			l, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, ExternalKey: key})
			stateOK(t, err)
			if len(l.Tickets) != 1 {
				t.Errorf("external key %s: %d tickets stored, want 1", key, len(l.Tickets))
			}
		}
	})

	t.Run("Hostile", func(t *testing.T) {
		s := open(t)
		ids := map[string]string{}
		for _, h := range stateHostile {
			tk := create(t, s, lhk.Ticket{Tenant: stateAcme, Title: h, Description: h, Assignee: h, ExternalKey: h,
				Observables: []lhk.Observable{{Type: "user", Value: h}}})
			ids[h] = tk.ID
		}
		for _, h := range stateHostile {
			got, err := s.Ticket(ctx, stateAcme, ids[h])
			stateOK(t, err)
			if got.Title != h || got.Description != h || got.Assignee != h || got.ExternalKey != h {
				t.Errorf("ticket came back as %+v, want %q", got, h)
			}
			l, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, ExternalKey: h})
			stateOK(t, err)
			if got := stateTicketIDs(l.Tickets); !slices.Equal(got, []string{ids[h]}) {
				t.Errorf("external key %q found %v, want %s", h, got, ids[h])
			}
			l, err = s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, Assignee: h})
			stateOK(t, err)
			if got := stateTicketIDs(l.Tickets); !slices.Equal(got, []string{ids[h]}) {
				t.Errorf("assignee %q found %v, want %s", h, got, ids[h])
			}
		}
		l, err := s.SearchTickets(ctx, lhk.TicketQuery{Tenant: stateAcme, Limit: stateMaxTicketLimit})
		stateOK(t, err)
		if len(l.Tickets) != len(stateHostile) {
			t.Errorf("%d tickets, want %d (did an input run as SQL?)", len(l.Tickets), len(stateHostile))
		}
	})
}

// stateTicketIDs lists the ids of ts in order.
func stateTicketIDs(ts []*lhk.Ticket) []string {
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

// ---------------------------------------------------------------- assets

// RunAssets runs the conformance suite of lhk.AssetService. open must return
// an empty store on every call and close it when tb ends.
func RunAssets(t *testing.T, open func(tb testing.TB) lhk.AssetService) {
	ctx := stateCtx()
	upsert := func(tb testing.TB, s lhk.AssetService, a lhk.Asset) *lhk.Asset {
		tb.Helper()
		got, err := s.UpsertAsset(ctx, &a)
		if err != nil {
			tb.Fatalf("upsert asset %q: %v", a.Name, err)
		}
		return got
	}

	t.Run("OK", func(t *testing.T) {
		s := open(t)
		a := upsert(t, s, lhk.Asset{Tenant: stateAcme, Name: "WS01", IPs: []string{"10.0.0.5", "2001:db8::5", "10.0.0.5"},
			Owner: "alice", OS: "Windows 11", Tags: []string{"finance", "laptop", "finance"}})
		if a.Criticality != lhk.SeverityMedium || !slices.Equal(a.Tags, []string{"finance", "laptop"}) || len(a.IPs) != 2 || a.UpdatedAt.IsZero() {
			t.Errorf("upserted %+v", a)
		}
		for _, q := range []string{"WS01", "ws01", "Ws01", "10.0.0.5", "2001:DB8:0:0::5", "::ffff:10.0.0.5"} {
			got, err := s.LookupAsset(ctx, stateAcme, q)
			if err != nil {
				t.Errorf("lookup %q: %v", q, err)
				continue
			}
			if got.Name != "WS01" || got.Owner != "alice" || got.OS != "Windows 11" || got.Tenant != stateAcme {
				t.Errorf("lookup %q = %+v", q, got)
			}
		}
		// Replacing by a differently-cased name updates the same asset.
		upsert(t, s, lhk.Asset{Tenant: stateAcme, Name: "ws01", IPs: []string{"10.0.0.6"}, Criticality: lhk.SeverityHigh})
		as, err := s.Assets(ctx, stateAcme)
		stateOK(t, err)
		if len(as) != 1 || as[0].Criticality != lhk.SeverityHigh || !slices.Equal(as[0].IPs, []string{"10.0.0.6"}) {
			t.Fatalf("assets after replace: %+v", as)
		}
		_, err = s.LookupAsset(ctx, stateAcme, "10.0.0.5")
		stateWantCode(t, err, lhk.ENOTFOUND)
		upsert(t, s, lhk.Asset{Tenant: stateAcme, Name: "srv-db", Criticality: lhk.SeverityCritical})
		upsert(t, s, lhk.Asset{Tenant: stateAcme, Name: "Mail"})
		as, _ = s.Assets(ctx, stateAcme)
		var names []string
		for _, a := range as {
			names = append(names, strings.ToLower(a.Name))
		}
		if !slices.Equal(names, []string{"mail", "srv-db", "ws01"}) {
			t.Errorf("assets %v, want by name", names)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		upsert(t, s, lhk.Asset{Tenant: stateAcme, Name: "WS01", IPs: []string{"10.0.0.5"}})
		for _, q := range []string{"WS02", "10.0.0.6", "10.0.0.0/24", "", "WS0%", "WS0_", "' OR '1'='1", strings.Repeat("x", 1<<20)} {
			_, err := s.LookupAsset(ctx, stateAcme, q)
			stateWantCode(t, err, lhk.ENOTFOUND)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		up := func(a lhk.Asset) func(context.Context) error {
			return func(ctx context.Context) error { _, err := s.UpsertAsset(ctx, &a); return err }
		}
		stateRunErrs(t, []stateErrCase{
			{"NoTenant", lhk.EINVALID, up(lhk.Asset{Name: "x"})},
			{"NoName", lhk.EINVALID, up(lhk.Asset{Tenant: stateAcme})},
			{"HugeName", lhk.EINVALID, up(lhk.Asset{Tenant: stateAcme, Name: strings.Repeat("h", 1<<16)})},
			{"BadIP", lhk.EINVALID, up(lhk.Asset{Tenant: stateAcme, Name: "x", IPs: []string{"10.0.0.256"}})},
			{"CIDR", lhk.EINVALID, up(lhk.Asset{Tenant: stateAcme, Name: "x", IPs: []string{"10.0.0.0/8"}})},
			{"HostAsIP", lhk.EINVALID, up(lhk.Asset{Tenant: stateAcme, Name: "x", IPs: []string{"ws01"}})},
			{"Criticality", lhk.EINVALID, up(lhk.Asset{Tenant: stateAcme, Name: "x", Criticality: "extreme"})},
			{"EmptyTag", lhk.EINVALID, up(lhk.Asset{Tenant: stateAcme, Name: "x", Tags: []string{""}})},
			{"LookupNoTenant", lhk.EINVALID, func(ctx context.Context) error { _, err := s.LookupAsset(ctx, "", "x"); return err }},
			{"AssetsNoTenant", lhk.EINVALID, func(ctx context.Context) error { _, err := s.Assets(ctx, ""); return err }},
		})
		as, err := s.Assets(ctx, stateAcme)
		stateOK(t, err)
		if len(as) != 0 {
			t.Errorf("invalid upserts stored %d assets", len(as))
		}
	})

	t.Run("Tenants", func(t *testing.T) {
		s := open(t)
		upsert(t, s, lhk.Asset{Tenant: stateGlobex, Name: "GX-DC01", IPs: []string{"172.16.0.10"}, Owner: "gina"})
		upsert(t, s, lhk.Asset{Tenant: stateGlobex, Name: "shared-name", IPs: []string{"192.168.1.1"}, Owner: "gina"})
		upsert(t, s, lhk.Asset{Tenant: stateAcme, Name: "acme-ws", IPs: []string{"192.168.1.2"}})
		for _, q := range []string{"GX-DC01", "gx-dc01", "172.16.0.10", "192.168.1.1", "shared-name"} {
			_, err := s.LookupAsset(ctx, stateAcme, q)
			stateWantCode(t, err, lhk.ENOTFOUND)
		}
		as, err := s.Assets(ctx, stateAcme)
		stateOK(t, err)
		if len(as) != 1 || as[0].Name != "acme-ws" {
			t.Errorf("acme's assets %+v", as)
		}
		// Acme's asset of the same name and IP is its own.
		upsert(t, s, lhk.Asset{Tenant: stateAcme, Name: "SHARED-NAME", IPs: []string{"192.168.1.1"}, Owner: "ann"})
		g, err := s.LookupAsset(ctx, stateGlobex, "192.168.1.1")
		stateOK(t, err)
		if g.Owner != "gina" || g.Tenant != stateGlobex || g.Name != "shared-name" {
			t.Errorf("acme's upsert changed globex's asset: %+v", g)
		}
		a, err := s.LookupAsset(ctx, stateAcme, "192.168.1.1")
		stateOK(t, err)
		if a.Owner != "ann" || a.Tenant != stateAcme {
			t.Errorf("acme's lookup returned %+v", a)
		}
		gs, _ := s.Assets(ctx, stateGlobex)
		if len(gs) != 2 {
			t.Errorf("globex has %d assets, want 2", len(gs))
		}
	})

	t.Run("Hostile", func(t *testing.T) {
		s := open(t)
		for _, h := range stateHostile {
			upsert(t, s, lhk.Asset{Tenant: stateAcme, Name: "host " + h, OS: h, Owner: h, Tags: []string{h}})
		}
		for _, h := range stateHostile {
			a, err := s.LookupAsset(ctx, stateAcme, "host "+h)
			stateOK(t, err)
			if a.OS != h || a.Owner != h || !slices.Equal(a.Tags, []string{h}) {
				t.Errorf("asset came back as %+v, want %q", a, h)
			}
		}
		as, err := s.Assets(ctx, stateAcme)
		stateOK(t, err)
		if len(as) != len(stateHostile) {
			t.Errorf("%d assets, want %d", len(as), len(stateHostile))
		}
	})
}

// ---------------------------------------------------------------- reports

// RunReports runs the conformance suite of lhk.ReportService. open must
// return an empty store on every call and close it when tb ends.
func RunReports(t *testing.T, open func(tb testing.TB) lhk.ReportService) {
	ctx := stateCtx()
	publish := func(tb testing.TB, s lhk.ReportService, r lhk.Report) *lhk.Report {
		tb.Helper()
		got, err := s.PublishReport(ctx, &r)
		if err != nil {
			tb.Fatalf("publish report %q: %v", r.Title, err)
		}
		return got
	}

	t.Run("OK", func(t *testing.T) {
		s := open(t)
		md := "# Weekly\n\n| host | alerts |\n| --- | --- |\n| WS01 | 3 |\n\n**bold** and ~~old~~\n"
		r := publish(t, s, lhk.Report{Tenant: stateAcme, Title: "Weekly report", Markdown: md, Plugin: "report"})
		if r.ID == "" || r.Author != "tester" || r.Plugin != "report" || r.CreatedAt.IsZero() || r.Markdown != md {
			t.Errorf("published %+v", r)
		}
		for _, want := range []string{"<h1", "<table>", "<td>WS01</td>", "<strong>bold</strong>", "<del>old</del>"} {
			if !strings.Contains(r.HTML, want) {
				t.Errorf("HTML lacks %s:\n%s", want, r.HTML)
			}
		}
		got, err := s.Report(ctx, stateAcme, r.ID)
		stateOK(t, err)
		if got.ID != r.ID || got.Markdown != md || got.HTML != r.HTML || got.Title != r.Title || got.Plugin != "report" ||
			got.Author != "tester" || !got.CreatedAt.Equal(r.CreatedAt) || got.Tenant != stateAcme {
			t.Errorf("read back %+v, want %+v", got, r)
		}
		rs, next, err := s.Reports(ctx, stateAcme, 0, "")
		stateOK(t, err)
		if len(rs) != 1 || rs[0].ID != r.ID || rs[0].Title != r.Title || next != "" {
			t.Fatalf("reports %+v next %q", rs, next)
		}
		if rs[0].Markdown != "" || rs[0].HTML != "" {
			t.Error("the listing carries Markdown or HTML")
		}
	})

	t.Run("Safe", func(t *testing.T) {
		s := open(t)
		for _, md := range []string{
			"<script>alert(1)</script>",
			"[x](javascript:alert(1))",
			"<img src=x onerror=alert(1)>",
			"[x](JaVaScRiPt:alert(1))",
			"[x](&#106;avascript:alert(1))",
			"[x](java\tscript:alert(1))",
			"<javascript:alert(1)>",
			"![i](javascript:alert(1))",
			"[x][r]\n\n[r]: vbscript:msgbox(1)",
			"<a href=\"javascript:alert(1)\">x</a>",
			"text <svg/onload=alert(1)> more",
			"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
			"<iframe src=\"https://evil.example\"></iframe>",
		} {
			r := publish(t, s, lhk.Report{Tenant: stateAcme, Title: "xss", Markdown: md})
			if reason := stateUnsafeHTML(r.HTML); reason != "" {
				t.Errorf("markdown %q renders unsafe HTML (%s): %s", md, reason, r.HTML)
			}
		}
		r := publish(t, s, lhk.Report{Tenant: stateAcme, Title: "links", Markdown: "[ok](https://example.com/a?b=c) [rel](/v1/x)"})
		if !strings.Contains(r.HTML, `href="https://example.com/a?b=c"`) || !strings.Contains(r.HTML, `href="/v1/x"`) {
			t.Errorf("safe links were dropped: %s", r.HTML)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		publish(t, s, lhk.Report{Tenant: stateAcme, Title: "x"})
		for _, id := range []string{"", "R-0", "' OR '1'='1", strings.Repeat("R", 1<<16)} {
			_, err := s.Report(ctx, stateAcme, id)
			stateWantCode(t, err, lhk.ENOTFOUND)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		pub := func(r lhk.Report) func(context.Context) error {
			return func(ctx context.Context) error { _, err := s.PublishReport(ctx, &r); return err }
		}
		stateRunErrs(t, []stateErrCase{
			{"NoTenant", lhk.EINVALID, pub(lhk.Report{Title: "x"})},
			{"NoTitle", lhk.EINVALID, pub(lhk.Report{Tenant: stateAcme, Markdown: "x"})},
			{"HugeTitle", lhk.EINVALID, pub(lhk.Report{Tenant: stateAcme, Title: strings.Repeat("t", 513)})},
			{"HugeMarkdown", lhk.EINVALID, pub(lhk.Report{Tenant: stateAcme, Title: "x", Markdown: strings.Repeat("m", 4<<20+1)})},
			{"BadUTF8", lhk.EINVALID, pub(lhk.Report{Tenant: stateAcme, Title: "x\xff"})},
			{"NegativeLimit", lhk.EINVALID, func(ctx context.Context) error { _, _, err := s.Reports(ctx, stateAcme, -5, ""); return err }},
			{"Cursor", lhk.EINVALID, func(ctx context.Context) error { _, _, err := s.Reports(ctx, stateAcme, 0, "garbage"); return err }},
			{"ReportsNoTenant", lhk.EINVALID, func(ctx context.Context) error { _, _, err := s.Reports(ctx, "", 0, ""); return err }},
		})
		rs, _, err := s.Reports(ctx, stateAcme, 0, "")
		stateOK(t, err)
		if len(rs) != 0 {
			t.Errorf("rejected reports were stored: %d", len(rs))
		}
	})

	t.Run("Paging", func(t *testing.T) {
		s := open(t)
		const n = 23
		var published []string
		for i := range n {
			published = append(published, publish(t, s, lhk.Report{Tenant: stateAcme, Title: fmt.Sprintf("r%d", i), Markdown: "x"}).ID)
		}
		rs, _, err := s.Reports(ctx, stateAcme, 1<<30, "")
		stateOK(t, err)
		if len(rs) != n {
			t.Fatalf("huge limit listed %d reports, want all %d", len(rs), n)
		}
		for i := 1; i < len(rs); i++ {
			if rs[i].CreatedAt.After(rs[i-1].CreatedAt) {
				t.Errorf("not newest first: %v after %v", rs[i].CreatedAt, rs[i-1].CreatedAt)
			}
		}
		var got []string
		cur := ""
		for page := 0; ; page++ {
			if page > n {
				t.Fatal("paging does not end")
			}
			rs, next, err := s.Reports(ctx, stateAcme, 4, cur)
			stateOK(t, err)
			if len(rs) > 4 {
				t.Fatalf("page of %d, limit 4", len(rs))
			}
			for _, r := range rs {
				got = append(got, r.ID)
			}
			if next == "" {
				break
			}
			cur = next
		}
		want := slices.Clone(published)
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("paging returned %d reports (%d distinct wanted) with repeats or gaps", len(got), len(want))
		}
	})

	t.Run("Tenants", func(t *testing.T) {
		s := open(t)
		g := publish(t, s, lhk.Report{Tenant: stateGlobex, Title: "Globex board report", Markdown: "secret"})
		for i := range 3 {
			publish(t, s, lhk.Report{Tenant: stateGlobex, Title: fmt.Sprintf("g%d", i)})
		}
		a := publish(t, s, lhk.Report{Tenant: stateAcme, Title: "Acme weekly"})
		_, err := s.Report(ctx, stateAcme, g.ID)
		stateWantCode(t, err, lhk.ENOTFOUND)
		rs, next, err := s.Reports(ctx, stateAcme, 0, "")
		stateOK(t, err)
		if len(rs) != 1 || rs[0].ID != a.ID || next != "" {
			t.Errorf("acme lists %+v", rs)
		}
		_, gnext, err := s.Reports(ctx, stateGlobex, 1, "")
		stateOK(t, err)
		if gnext == "" {
			t.Fatal("globex's first page has no cursor")
		}
		rs, _, err = s.Reports(ctx, stateAcme, 0, gnext)
		if err != nil {
			stateWantCode(t, err, lhk.EINVALID)
		}
		for _, r := range rs {
			if r.Tenant != stateAcme {
				t.Errorf("globex's cursor in acme lists %s of %s", r.ID, r.Tenant)
			}
		}
	})

	t.Run("Hostile", func(t *testing.T) {
		s := open(t)
		for _, h := range stateHostile {
			r := publish(t, s, lhk.Report{Tenant: stateAcme, Title: h, Markdown: h, Plugin: "p", Author: h})
			got, err := s.Report(ctx, stateAcme, r.ID)
			stateOK(t, err)
			if got.Title != h || got.Markdown != h || got.Author != h {
				t.Errorf("report came back as %+v, want %q", got, h)
			}
		}
	})
}

// stateUnsafeHTML names what in html could run script, or returns "".
func stateUnsafeHTML(html string) string {
	l := strings.ToLower(html)
	for _, bad := range []string{"<script", "<img src=x onerror", "<svg", "<iframe", "<a href=\"javascript", "<a href=\"java"} {
		if strings.Contains(l, bad) {
			return bad
		}
	}
	// Attribute values: href and src must not hold a dangerous scheme.
	for _, attr := range []string{`href="`, `src="`} {
		for rest := l; ; {
			i := strings.Index(rest, attr)
			if i < 0 {
				break
			}
			rest = rest[i+len(attr):]
			v, _, _ := strings.Cut(rest, `"`)
			v = strings.Map(func(r rune) rune {
				if r <= ' ' {
					return -1
				}
				return r
			}, v)
			for _, scheme := range []string{"javascript:", "vbscript:", "data:text", "&#"} {
				if strings.HasPrefix(v, scheme) {
					return attr + scheme
				}
			}
		}
	}
	// Event handlers on any tag the renderer emitted.
	for rest := l; ; {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		tag, after, _ := strings.Cut(rest[i:], ">")
		rest = after
		for _, f := range strings.Fields(tag) {
			if strings.HasPrefix(f, "on") && strings.Contains(f, "=") {
				return "event handler in " + tag
			}
		}
	}
	return ""
}

// ---------------------------------------------------------------- kv

// RunKV runs the conformance suite of lhk.KVService. open must return an
// empty store on every call and close it when tb ends.
func RunKV(t *testing.T, open func(tb testing.TB) lhk.KVService) {
	ctx := stateCtx()

	t.Run("OK", func(t *testing.T) {
		s := open(t)
		stateOK(t, s.Set(ctx, "report", "last-run", "2026-11-01"))
		v, err := s.Get(ctx, "report", "last-run")
		stateOK(t, err)
		if v != "2026-11-01" {
			t.Errorf("get %q", v)
		}
		stateOK(t, s.Set(ctx, "report", "last-run", ""))
		v, err = s.Get(ctx, "report", "last-run")
		stateOK(t, err)
		if v != "" {
			t.Errorf("after overwrite with empty: %q", v)
		}
		big := strings.Repeat("v", lhk.MaxKVValue)
		stateOK(t, s.Set(ctx, "report", "big", big))
		v, _ = s.Get(ctx, "report", "big")
		if v != big {
			t.Errorf("a value of MaxKVValue bytes came back with %d bytes", len(v))
		}
		key := strings.Repeat("k", lhk.MaxKVKey)
		stateOK(t, s.Set(ctx, "report", key, "x"))
		stateOK(t, s.Delete(ctx, "report", "last-run"))
		stateOK(t, s.Delete(ctx, "report", "last-run")) // absent: no error
		_, err = s.Get(ctx, "report", "last-run")
		stateWantCode(t, err, lhk.ENOTFOUND)
	})

	t.Run("List", func(t *testing.T) {
		s := open(t)
		keys := []string{"a", "host/WS01", "host/WS02", "host/WS03", "host0", "host~", "hosu", "z", "é", "host/é"}
		for _, k := range keys {
			stateOK(t, s.Set(ctx, "p", k, "v-"+k))
		}
		tests := []struct {
			name, prefix, after string
			limit               int
			want                []string
		}{
			{"All", "", "", 0, []string{"a", "host/WS01", "host/WS02", "host/WS03", "host/é", "host0", "host~", "hosu", "z", "é"}},
			{"Prefix", "host/", "", 0, []string{"host/WS01", "host/WS02", "host/WS03", "host/é"}},
			{"PrefixAfter", "host/", "host/WS01", 2, []string{"host/WS02", "host/WS03"}},
			{"PrefixAfterLast", "host/", "host/é", 0, nil},
			{"AfterOnly", "", "host~", 0, []string{"hosu", "z", "é"}},
			{"UnicodePrefix", "é", "", 0, []string{"é"}},
			{"NoMatch", "nope", "", 0, nil},
			{"Percent", "%", "", 0, nil},
			{"Underscore", "hos_", "", 0, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				es, err := s.List(ctx, "p", tt.prefix, tt.after, tt.limit)
				stateOK(t, err)
				var got []string
				for _, e := range es {
					got = append(got, e.Key)
					if e.Value != "v-"+e.Key {
						t.Errorf("value of %q is %q", e.Key, e.Value)
					}
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %q, want %q", got, tt.want)
				}
			})
		}
	})

	t.Run("Limits", func(t *testing.T) {
		s := open(t)
		for i := range stateMaxKVLimit + 5 {
			stateOK(t, s.Set(ctx, "p", fmt.Sprintf("k%05d", i), "v"))
		}
		for _, c := range []struct {
			limit, want int
		}{{0, stateDefKVLimit}, {7, 7}, {1 << 30, stateMaxKVLimit}} {
			es, err := s.List(ctx, "p", "", "", c.limit)
			stateOK(t, err)
			if len(es) != c.want {
				t.Errorf("limit %d listed %d, want %d", c.limit, len(es), c.want)
			}
		}
		var n int
		after := ""
		for page := 0; ; page++ {
			if page > stateMaxKVLimit {
				t.Fatal("paging does not end")
			}
			es, err := s.List(ctx, "p", "k", after, 300)
			stateOK(t, err)
			if len(es) == 0 {
				break
			}
			n += len(es)
			after = es[len(es)-1].Key
		}
		if n != stateMaxKVLimit+5 {
			t.Errorf("paging listed %d keys, want %d", n, stateMaxKVLimit+5)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.Get(ctx, "p", "absent")
		stateWantCode(t, err, lhk.ENOTFOUND)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		stateRunErrs(t, []stateErrCase{
			{"EmptyKey", lhk.EINVALID, func(ctx context.Context) error { return s.Set(ctx, "p", "", "v") }},
			{"HugeKey", lhk.EINVALID, func(ctx context.Context) error { return s.Set(ctx, "p", strings.Repeat("k", lhk.MaxKVKey+1), "v") }},
			{"HugeValue", lhk.EINVALID, func(ctx context.Context) error { return s.Set(ctx, "p", "k", strings.Repeat("v", lhk.MaxKVValue+1)) }},
			{"EmptyNamespace", lhk.EINVALID, func(ctx context.Context) error { return s.Set(ctx, "", "k", "v") }},
			{"GetEmptyKey", lhk.EINVALID, func(ctx context.Context) error { _, err := s.Get(ctx, "p", ""); return err }},
			{"NegativeLimit", lhk.EINVALID, func(ctx context.Context) error { _, err := s.List(ctx, "p", "", "", -1); return err }},
		})
		es, err := s.List(ctx, "p", "", "", 0)
		stateOK(t, err)
		if len(es) != 0 {
			t.Errorf("rejected sets stored %d keys", len(es))
		}
	})

	t.Run("Namespaces", func(t *testing.T) {
		s := open(t)
		stateOK(t, s.Set(ctx, "plugin-a", "secret", "a-value"))
		stateOK(t, s.Set(ctx, "plugin-a", "shared", "a"))
		stateOK(t, s.Set(ctx, "plugin-b", "shared", "b"))
		stateOK(t, s.Set(ctx, "plugin-a2", "x", "a2"))
		_, err := s.Get(ctx, "plugin-b", "secret")
		stateWantCode(t, err, lhk.ENOTFOUND)
		for ns, want := range map[string][]string{"plugin-a": {"secret", "shared"}, "plugin-b": {"shared"}, "plugin": nil, "plugin-c": nil} {
			es, err := s.List(ctx, ns, "", "", 0)
			stateOK(t, err)
			var got []string
			for _, e := range es {
				got = append(got, e.Key)
			}
			if !slices.Equal(got, want) {
				t.Errorf("namespace %q lists %v, want %v", ns, got, want)
			}
		}
		stateOK(t, s.Delete(ctx, "plugin-b", "secret"))
		stateOK(t, s.Delete(ctx, "plugin-b", "shared"))
		for k, want := range map[string]string{"secret": "a-value", "shared": "a"} {
			v, err := s.Get(ctx, "plugin-a", k)
			stateOK(t, err)
			if v != want {
				t.Errorf("plugin-a %s = %q after deletes in plugin-b, want %q", k, v, want)
			}
		}
	})

	t.Run("Hostile", func(t *testing.T) {
		s := open(t)
		for _, h := range stateHostile {
			stateOK(t, s.Set(ctx, "p", h, h))
		}
		stateOK(t, s.Set(ctx, "p", "bin", "\x00\xff\xfe raw"))
		for _, h := range stateHostile {
			v, err := s.Get(ctx, "p", h)
			stateOK(t, err)
			if v != h {
				t.Errorf("get %q = %q", h, v)
			}
		}
		if v, _ := s.Get(ctx, "p", "bin"); v != "\x00\xff\xfe raw" {
			t.Errorf("binary value came back as %q", v)
		}
		es, err := s.List(ctx, "p", "", "", 0)
		stateOK(t, err)
		if len(es) != len(stateHostile)+1 {
			t.Errorf("listed %d keys, want %d", len(es), len(stateHostile)+1)
		}
		es, _ = s.List(ctx, "p", "%", "", 0)
		if len(es) != 2 { // "%" and "%' OR name LIKE '%"
			t.Errorf("prefix %% listed %d keys, want 2", len(es))
		}
	})
}

package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
)

// open opens a registry in the test schema for key ("" for one of the
// test's own), closed when tb ends.
func open(tb testing.TB, key string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), pgdb.TestURL(tb, key))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// as returns a context whose actor is name.
func as(name string) context.Context { return lhk.NewContextWithActor(context.Background(), name) }

// must fails tb when err is not nil.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// waitFor polls cond until it holds, failing t after a generous bound. It
// checks that something happens, not how fast.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dump returns every row of every table as text, to compare whole states.
func dump(tb testing.TB, db *DB) string {
	tb.Helper()
	var b strings.Builder
	for _, table := range []string{"users", "plugins", "versions", "version_wasm", "schedules", "webhooks", "invocations", "audit", "sessions"} {
		rows, err := db.pool.Query(context.Background(), "SELECT * FROM "+table+" ORDER BY 1, 2")
		must(tb, err)
		for rows.Next() {
			vals, err := rows.Values()
			must(tb, err)
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		must(tb, rows.Err())
	}
	var seq int64
	must(tb, db.pool.QueryRow(context.Background(), "SELECT COALESCE(max(id), 0) FROM audit").Scan(&seq))
	fmt.Fprintf(&b, "audit max id %d\n", seq)
	return b.String()
}

func TestVersionsImmutable(t *testing.T) {
	db := open(t, "")
	must(t, db.CreateUser(as("root"), &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "h"))
	_, err := db.CreateVersion(as("alice"), &lhk.Version{Plugin: "p"}, []byte("wasm"), "alice")
	must(t, err)
	for _, q := range []string{
		"UPDATE versions SET sha256 = 'x' WHERE plugin = 'p'",
		"UPDATE version_wasm SET wasm = '\\x00' WHERE plugin = 'p'",
	} {
		_, err = db.pool.Exec(context.Background(), q)
		if err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: got %v, want the immutability trigger", q, err)
		}
	}
}

// TestAtomic makes every audited mutation fail at the last moment, just
// before COMMIT, and checks that nothing of it is left: no row, no audit
// entry, no notification.
func TestAtomic(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	admin := lhk.RoleAdmin
	tests := []struct {
		name   string
		do     func(ctx context.Context, db *DB) error
		notify string // what a committed run notifies: "report", lhk.UsersChanged or nothing
	}{
		{"CreateUser", func(ctx context.Context, db *DB) error {
			return db.CreateUser(ctx, &lhk.User{Name: "carol", Role: lhk.RoleViewer}, "hc")
		}, ""},
		{"UpdateUser", func(ctx context.Context, db *DB) error {
			_, err := db.UpdateUser(ctx, "bob", lhk.UserUpdate{Role: &admin})
			return err
		}, lhk.UsersChanged},
		{"SetUserToken", func(ctx context.Context, db *DB) error { return db.SetUserToken(ctx, "bob", "hb2") }, lhk.UsersChanged},
		{"CreateVersion", func(ctx context.Context, db *DB) error {
			_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "report"}, []byte("wasm v3"), "alice")
			return err
		}, "report"},
		{"UpdatePlugin", func(ctx context.Context, db *DB) error {
			_, err := db.UpdatePlugin(ctx, "report", lhk.PluginUpdate{Description: str("x"), CurrentVersion: num(1), Owner: str("bob")})
			return err
		}, "report"},
		{"DeletePlugin", func(ctx context.Context, db *DB) error { return db.DeletePlugin(ctx, "report") }, "report"},
		{"SetGrant", func(ctx context.Context, db *DB) error {
			return db.SetGrant(ctx, "report", lhk.Grant{Capabilities: []string{lhk.CapKV}})
		}, "report"},
		{"SetSchedule", func(ctx context.Context, db *DB) error {
			return db.SetSchedule(ctx, "report", lhk.Schedule{Cron: "@hourly"})
		}, "report"},
		{"DeleteSchedule", func(ctx context.Context, db *DB) error { return db.DeleteSchedule(ctx, "report") }, "report"},
		{"SetWebhookSecret", func(ctx context.Context, db *DB) error {
			return db.SetWebhookSecret(ctx, "report", "whsec_x")
		}, "report"},
		{"Audit", func(ctx context.Context, db *DB) error {
			return db.Audit(ctx, lhk.AuditEntry{Action: "webhook.set"})
		}, ""},
		{"CreateSession", func(ctx context.Context, db *DB) error {
			return db.CreateSession(ctx, &lhk.Session{IDHash: "sid-new", TokenHash: "ha", User: "alice", ExpiresAt: time.Now().Add(time.Hour)})
		}, ""},
		{"DeleteSession", func(ctx context.Context, db *DB) error { return db.DeleteSession(ctx, "sid-old") }, lhk.UsersChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t, "")
			ctx := as("alice")
			must(t, db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "ha"))
			must(t, db.CreateUser(ctx, &lhk.User{Name: "bob", Role: lhk.RoleAnalyst}, "hb"))
			for i := range 2 {
				_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "report"}, []byte(fmt.Sprint("wasm", i)), "alice")
				must(t, err)
			}
			must(t, db.SetSchedule(ctx, "report", lhk.Schedule{Cron: "@daily"}))
			must(t, db.PutInvocations(ctx, []*lhk.Invocation{{ID: "old", Plugin: "report", Status: lhk.StatusRunning}}))
			must(t, db.CreateSession(ctx, &lhk.Session{IDHash: "sid-old", TokenHash: "ha", User: "alice", ExpiresAt: time.Now().Add(time.Hour)}))
			before := dump(t, db)
			w := startWatch(t, db)
			w.waitFor(t, "")

			boom := errors.New("power cut")
			db.beforeCommit = func(pgx.Tx) error { return boom }
			if err := tt.do(ctx, db); !errors.Is(err, boom) {
				t.Fatalf("got %v, want the injected failure", err)
			}
			db.beforeCommit = nil
			if after := dump(t, db); after != before {
				t.Errorf("a failed transaction left changes:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			// The same mutation succeeds afterwards and does change the
			// state, so the comparison above could have failed; a marker
			// change shows which notifications came before it.
			must(t, tt.do(ctx, db))
			if after := dump(t, db); after == before {
				t.Error("the mutation changed nothing even when committed")
			}
			_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "marker"}, []byte("m"), "alice")
			must(t, err)
			w.waitFor(t, "marker")
			want := []string{"", "marker"}
			if tt.notify != "" {
				want = []string{"", tt.notify, "marker"}
			}
			if got := w.names(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("notifications %q, want %q: a rolled-back change must not notify", got, want)
			}
		})
	}
}

// watch collects what WatchPlugins reports.
type watch struct {
	mu     sync.Mutex
	got    []string
	cancel context.CancelFunc
	done   chan error
}

// startWatch runs db.WatchPlugins until the test ends.
func startWatch(t testing.TB, db *DB) *watch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watch{cancel: cancel, done: make(chan error, 1)}
	go func() {
		w.done <- db.WatchPlugins(ctx, func(p string) {
			w.mu.Lock()
			w.got = append(w.got, p)
			w.mu.Unlock()
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-w.done
	})
	return w
}

// names returns what was reported so far.
func (w *watch) names() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.got...)
}

// count returns how often name was reported.
func (w *watch) count(name string) int {
	n := 0
	for _, g := range w.names() {
		if g == name {
			n++
		}
	}
	return n
}

// waitFor waits until name has been reported.
func (w *watch) waitFor(t testing.TB, name string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("notification %q", name), func() bool { return w.count(name) > 0 })
}

// TestWatchReconnect kills the change feed's connection from the server
// side: the feed must come back by itself, say so with "", and deliver later
// changes.
func TestWatchReconnect(t *testing.T) {
	key := "reconnect " + t.Name()
	a := open(t, key)
	b := open(t, key)
	pids := make(chan uint32, 10)
	b.listening = func(pid uint32) { pids <- pid }
	ctx := as("alice")
	must(t, a.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "ha"))
	w := startWatch(t, b)
	first := <-pids
	w.waitFor(t, "")

	_, err := a.CreateVersion(ctx, &lhk.Version{Plugin: "before"}, []byte("w"), "alice")
	must(t, err)
	w.waitFor(t, "before")

	var killed bool
	must(t, a.pool.QueryRow(context.Background(), "SELECT pg_terminate_backend($1)", int32(first)).Scan(&killed))
	if !killed {
		t.Fatalf("could not terminate the listener's backend %d", first)
	}
	select {
	case second := <-pids:
		if second == first {
			t.Fatalf("listening again on the terminated backend %d", first)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the change feed did not reconnect")
	}
	waitFor(t, `a second ""`, func() bool { return w.count("") == 2 })

	_, err = a.CreateVersion(ctx, &lhk.Version{Plugin: "after"}, []byte("w"), "alice")
	must(t, err)
	w.waitFor(t, "after")
}

// TestWatchQuiet lets the change feed check its connection many times over
// a quiet period: the connection must stay usable, without reconnecting.
func TestWatchQuiet(t *testing.T) {
	old := watchCheck
	t.Cleanup(func() { watchCheck = old }) // after the watch has stopped
	watchCheck = 20 * time.Millisecond
	db := open(t, "")
	pids := make(chan uint32, 10)
	db.listening = func(pid uint32) { pids <- pid }
	ctx := as("alice")
	must(t, db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "ha"))
	w := startWatch(t, db)
	w.waitFor(t, "")
	for i := range 5 {
		time.Sleep(5 * watchCheck)
		name := fmt.Sprintf("p%d", i)
		_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: name}, []byte("w"), "alice")
		must(t, err)
		w.waitFor(t, name)
	}
	if n := len(pids); n != 1 || w.count("") != 1 {
		t.Errorf("%d connections, %d reports of \"\": the feed reconnected", n, w.count(""))
	}
}

// TestReapInvocations runs a stale replica, a live one, one that never sent
// a heartbeat and a single node side by side.
func TestReapInvocations(t *testing.T) {
	db := open(t, "")
	bg := context.Background()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := t0
	db.now = func() time.Time { return clock }

	must(t, db.Heartbeat(bg, "lhkd-dead"))
	clock = t0.Add(10 * time.Minute)
	must(t, db.Heartbeat(bg, "lhkd-alive"))
	wantCode(t, db.Heartbeat(bg, ""), lhk.EINVALID)

	run := func(id, replica, status string) *lhk.Invocation {
		return &lhk.Invocation{ID: id, Plugin: "report", Status: status, Replica: replica, StartedAt: t0.Add(-time.Minute), Output: []byte("partial")}
	}
	invs := []*lhk.Invocation{
		run("dead-running", "lhkd-dead", lhk.StatusRunning),
		run("dead-ok", "lhkd-dead", lhk.StatusOK),
		run("dead-timeout", "lhkd-dead", lhk.StatusTimeout),
		run("alive-running", "lhkd-alive", lhk.StatusRunning),
		run("ghost-running", "lhkd-ghost", lhk.StatusRunning),
		run("single-node", "", lhk.StatusRunning),
	}
	must(t, db.PutInvocations(bg, invs))

	n, err := db.ReapInvocations(bg, t0.Add(5*time.Minute))
	must(t, err)
	if n != 2 {
		t.Errorf("reaped %d, want 2 (dead-running, ghost-running)", n)
	}
	for _, want := range invs {
		got, err := db.Invocation(bg, want.ID)
		must(t, err)
		reaped := want.ID == "dead-running" || want.ID == "ghost-running"
		if !reaped {
			if got.Status != want.Status || got.Error != "" || got.DurationMS != 0 {
				t.Errorf("%s: %s %q %v, want it untouched", want.ID, got.Status, got.Error, got.DurationMS)
			}
			continue
		}
		msg := "lhkd replica " + want.Replica + " stopped during the run"
		if got.Status != lhk.StatusError || got.Error != msg || got.DurationMS != 11*60*1000 || string(got.Output) != "partial" {
			t.Errorf("%s: %s %q %vms, want error %q after 660000ms", want.ID, got.Status, got.Error, got.DurationMS, msg)
		}
	}
	if n, err := db.ReapInvocations(bg, t0.Add(5*time.Minute)); err != nil || n != 0 {
		t.Errorf("second reap: %d, %v; want 0", n, err)
	}
	// Once the live replica goes quiet too, its run is reaped.
	if n, err := db.ReapInvocations(bg, t0.Add(11*time.Minute)); err != nil || n != 1 {
		t.Errorf("reap after the live replica's heartbeat: %d, %v; want 1", n, err)
	}
}

// TestPutInvocationsAtomic fails the last record of a batch inside
// PostgreSQL: the records before it must not be stored either.
func TestPutInvocationsAtomic(t *testing.T) {
	db := open(t, "")
	bg := context.Background()
	good := &lhk.Invocation{ID: "good", Plugin: "p", Status: lhk.StatusOK}
	// A caller too large for a B-tree index entry, even compressed, fails
	// in the server.
	var noise strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&noise, "%x", sha256.Sum256([]byte(fmt.Sprint(i))))
	}
	bad := &lhk.Invocation{ID: "bad", Plugin: "p", Status: lhk.StatusOK, Caller: noise.String()}
	wantCode(t, db.PutInvocations(bg, []*lhk.Invocation{good, bad}), lhk.EINVALID)
	if _, err := db.Invocation(bg, "good"); lhk.ErrorCode(err) != lhk.ENOTFOUND {
		t.Errorf("the first record of a failed batch was stored: %v", err)
	}
	must(t, db.PutInvocations(bg, []*lhk.Invocation{good}))
}

// TestClaimPrune checks that ClaimTick drops claims older than
// claimRetention, at most once an hour.
func TestClaimPrune(t *testing.T) {
	db := open(t, "")
	bg := context.Background()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := t0
	db.now = func() time.Time { return clock }
	claims := func() int {
		var n int
		must(t, db.pool.QueryRow(bg, "SELECT count(*) FROM cron_claims").Scan(&n))
		return n
	}
	for i := range 3 {
		_, err := db.ClaimTick(bg, "report", t0.Add(time.Duration(i)*time.Minute), "a")
		must(t, err)
	}
	clock = t0.Add(claimRetention + 30*time.Minute)
	_, err := db.ClaimTick(bg, "report", clock, "a") // prunes: a week and a half hour since t0
	must(t, err)
	if n := claims(); n != 1 {
		t.Errorf("%d claims after pruning, want 1", n)
	}
	// An old claim appears (say, from a replica with a slow clock): it stays
	// until an hour after the last prune.
	pruned := clock
	_, err = db.pool.Exec(bg, "INSERT INTO cron_claims VALUES ('old', $1, 'b', $1)", t0)
	must(t, err)
	clock = pruned.Add(10 * time.Minute)
	_, err = db.ClaimTick(bg, "report", clock, "a")
	must(t, err)
	if n := claims(); n != 3 {
		t.Errorf("%d claims, want 3: pruned again within the hour", n)
	}
	clock = pruned.Add(61 * time.Minute)
	_, err = db.ClaimTick(bg, "report", clock, "a")
	must(t, err)
	if n := claims(); n != 3 {
		t.Errorf("%d claims, want 3 (the old one pruned, a new one added)", n)
	}
}

// wantCode fails t unless err carries the application error code want.
func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := lhk.ErrorCode(err); got != want {
		t.Fatalf("got error %v with code %q, want code %q", err, got, want)
	}
}

// TestSessionSweep checks that CreateSession removes expired sessions, and
// only those, and that an expired one stops resolving before it is swept.
func TestSessionSweep(t *testing.T) {
	db := open(t, "")
	bg := context.Background()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := t0
	db.now = func() time.Time { return clock }
	must(t, db.CreateUser(as("root"), &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "ha"))
	create := func(id string, ttl time.Duration) {
		t.Helper()
		must(t, db.CreateSession(as("alice"), &lhk.Session{IDHash: id, TokenHash: "ha", User: "alice", ExpiresAt: clock.Add(ttl)}))
	}
	stored := func() string {
		t.Helper()
		rows, err := db.pool.Query(bg, "SELECT id_hash FROM sessions ORDER BY id_hash")
		must(t, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		must(t, err)
		return strings.Join(ids, ",")
	}

	create("short", time.Minute)
	create("exact", time.Hour)
	create("long", 2*time.Hour)
	clock = t0.Add(time.Hour)
	for _, id := range []string{"short", "exact"} {
		if _, err := db.Session(bg, id); lhk.ErrorCode(err) != lhk.ENOTFOUND {
			t.Errorf("expired session %s: got %v, want ENOTFOUND", id, err)
		}
	}
	if _, err := db.Session(bg, "long"); err != nil {
		t.Errorf("live session: %v", err)
	}
	if got := stored(); got != "exact,long,short" {
		t.Fatalf("before a sweep: stored %q", got)
	}
	create("next", time.Hour)
	if got := stored(); got != "long,next" {
		t.Errorf("after a sweep: stored %q, want long,next", got)
	}
}

func TestChannel(t *testing.T) {
	long := "a_schema_name_that_is_long_enough_to_pass_the_identifier_limit"
	tests := []struct {
		schema string
		want   string
	}{
		{"public", "lhk_plugins_public"},
		{"team_a", "lhk_plugins_team_a"},
	}
	for _, tt := range tests {
		if got := channelOf(tt.schema); got != tt.want {
			t.Errorf("channelOf(%q) = %q, want %q", tt.schema, got, tt.want)
		}
	}
	got, got2 := channelOf(long), channelOf(long+"2")
	if len(got) > 63 || got == got2 || got == channelOf(long[:50]) {
		t.Errorf("Channel of long schemas: %q, %q", got, got2)
	}
}

package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/registry/postgres"
)

var (
	_ lhk.TickClaimer  = (*postgres.DB)(nil)
	_ lhk.ChangeFeed   = (*postgres.DB)(nil)
	_ lhk.ReplicaStore = (*postgres.DB)(nil)
)

// replicas opens n registries on one schema, as n lhkd replicas would,
// closed when t ends.
func replicas(t *testing.T, n int) []*postgres.DB {
	t.Helper()
	key := "replicas " + t.Name()
	dbs := make([]*postgres.DB, n)
	for i := range dbs {
		dbs[i] = openTest(t, key)
		t.Cleanup(func() { dbs[i].Close() })
	}
	return dbs
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

func TestClaimTick(t *testing.T) {
	const handles, workers = 3, 4
	dbs := replicas(t, handles)
	ctx := context.Background()
	tick0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ticks := []time.Time{tick0, tick0.Add(time.Minute), tick0.Add(2 * time.Minute)}
	plugins := []string{"report", "triage"}

	// Every worker of every handle claims every (plugin, tick) at once.
	type key struct {
		plugin string
		tick   time.Time
	}
	var (
		mu    sync.Mutex
		wins  = map[key][]string{}
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for h, db := range dbs {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				replica := fmt.Sprintf("lhkd-%d-%d", h, w)
				<-start
				for _, tick := range ticks {
					for _, p := range plugins {
						won, err := db.ClaimTick(ctx, p, tick, replica)
						if err != nil {
							t.Error(err)
							return
						}
						if won {
							mu.Lock()
							wins[key{p, tick}] = append(wins[key{p, tick}], replica)
							mu.Unlock()
						}
					}
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	for _, tick := range ticks {
		for _, p := range plugins {
			if w := wins[key{p, tick}]; len(w) != 1 {
				t.Errorf("%s at %s: won by %v, want exactly one replica", p, tick.Format(time.TimeOnly), w)
			}
		}
	}

	t.Run("Independent", func(t *testing.T) {
		db := dbs[0]
		tick := tick0.Add(time.Hour)
		for _, c := range []struct {
			plugin string
			tick   time.Time
			want   bool
		}{
			{"report", tick, true},
			{"report", tick, false},                                   // claimed
			{"triage", tick, true},                                    // another plugin
			{"report", tick.Add(time.Second), true},                   // another tick
			{"report", tick.In(time.FixedZone("JST", 9*3600)), false}, // the same instant
		} {
			won, err := db.ClaimTick(ctx, c.plugin, c.tick, "lhkd-x")
			if err != nil || won != c.want {
				t.Errorf("claim %s at %s: %v, %v; want %v", c.plugin, c.tick, won, err, c.want)
			}
		}
	})
}

// watch collects what WatchPlugins reports.
type watch struct {
	mu   sync.Mutex
	got  []string
	stop context.CancelFunc
	done chan error
}

// startWatch runs db.WatchPlugins until stop is called or the test ends.
func startWatch(t testing.TB, db *postgres.DB) *watch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watch{stop: cancel, done: make(chan error, 1)}
	go func() {
		w.done <- db.WatchPlugins(ctx, func(p string) {
			w.mu.Lock()
			w.got = append(w.got, p)
			w.mu.Unlock()
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.done:
		case <-time.After(20 * time.Second):
			t.Error("WatchPlugins did not return after its context ended")
		}
	})
	return w
}

// names returns what was reported so far.
func (w *watch) names() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.got)
}

// waitFor waits until name has been reported.
func (w *watch) waitFor(t testing.TB, name string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("notification %q", name), func() bool { return slices.Contains(w.names(), name) })
}

func TestWatchPlugins(t *testing.T) {
	dbs := replicas(t, 2)
	a, b := dbs[0], dbs[1]
	ctx := lhk.NewContextWithActor(context.Background(), "alice")
	if err := a.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "h"); err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, b)
	w.waitFor(t, "") // listening

	// Another installation in its own schema of the same database.
	other := fresh(t)
	if err := other.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "h"); err != nil {
		t.Fatal(err)
	}

	str := func(s string) *string { return &s }
	steps := []struct {
		name string
		do   func() error
	}{
		{"CreateVersion", func() error {
			_, err := a.CreateVersion(ctx, &lhk.Version{Plugin: "p-create"}, []byte("w"), "alice")
			return err
		}},
		{"UpdatePlugin", func() error {
			_, err := a.UpdatePlugin(ctx, "p-create", lhk.PluginUpdate{Description: str("d")})
			return err
		}},
		{"SetGrant", func() error { return a.SetGrant(ctx, "p-create", lhk.Grant{Capabilities: []string{lhk.CapKV}}) }},
		{"SetSchedule", func() error { return a.SetSchedule(ctx, "p-create", lhk.Schedule{Cron: "@daily"}) }},
		{"DeleteSchedule", func() error { return a.DeleteSchedule(ctx, "p-create") }},
		{"SetWebhookSecret", func() error { return a.SetWebhookSecret(ctx, "p-create", "whsec") }},
		{"OtherSchema", func() error {
			_, err := other.CreateVersion(ctx, &lhk.Version{Plugin: "p-other"}, []byte("w"), "alice")
			return err
		}},
		{"NoChange", func() error {
			_, err := a.UpdatePlugin(ctx, "p-create", lhk.PluginUpdate{Description: str("d")})
			return err
		}},
		{"Failed", func() error {
			_, err := a.UpdatePlugin(ctx, "p-create", lhk.PluginUpdate{Description: str("e"), CurrentVersion: new(int)})
			if lhk.ErrorCode(err) != lhk.ENOTFOUND {
				return fmt.Errorf("got %v, want ENOTFOUND", err)
			}
			return nil
		}},
		{"DeletePlugin", func() error { return a.DeletePlugin(ctx, "p-create") }},
		// Sign-ins other replicas cache must be checked again.
		{"UpdateUser", func() error {
			role := lhk.RoleViewer
			_, err := a.UpdateUser(ctx, "alice", lhk.UserUpdate{Role: &role})
			return err
		}},
		{"UpdateUserNoChange", func() error {
			role := lhk.RoleViewer
			_, err := a.UpdateUser(ctx, "alice", lhk.UserUpdate{Role: &role})
			return err
		}},
		{"SetUserToken", func() error { return a.SetUserToken(ctx, "alice", "h2") }},
		{"CreateSession", func() error {
			return a.CreateSession(ctx, &lhk.Session{IDHash: "sid", TokenHash: "h2", User: "alice", ExpiresAt: time.Now().Add(time.Hour)})
		}},
		{"DeleteSession", func() error { return a.DeleteSession(ctx, "sid") }},
		{"Marker", func() error {
			_, err := a.CreateVersion(ctx, &lhk.Version{Plugin: "p-marker"}, []byte("w"), "alice")
			return err
		}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	w.waitFor(t, "p-marker")
	// One notification per change, in commit order; nothing from the other
	// schema, the updates that changed nothing, the one that failed or a new
	// session.
	users := lhk.UsersChanged
	want := []string{"", "p-create", "p-create", "p-create", "p-create", "p-create", "p-create", "p-create", users, users, users, "p-marker"}
	if got := w.names(); !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}

	t.Run("Cancel", func(t *testing.T) {
		w.stop()
		select {
		case err := <-w.done:
			if err != nil {
				t.Errorf("WatchPlugins returned %v after its context ended, want nil", err)
			}
			w.done <- nil // for the cleanup
		case <-time.After(20 * time.Second):
			t.Fatal("WatchPlugins did not return after its context ended")
		}
	})
	t.Run("Close", func(t *testing.T) {
		c := openTest(t, "replicas "+t.Name())
		w := startWatch(t, c)
		w.waitFor(t, "")
		c.Close()
		select {
		case err := <-w.done:
			if lhk.ErrorCode(err) != lhk.EUNAVAILABLE {
				t.Errorf("WatchPlugins returned %v after Close, want EUNAVAILABLE", err)
			}
			w.done <- nil
		case <-time.After(20 * time.Second):
			t.Fatal("WatchPlugins did not return after Close")
		}
	})
}

// TestOpenConcurrently starts several replicas on one new schema at once:
// each must open it, and the migrations must run once.
func TestOpenConcurrently(t *testing.T) {
	key := "concurrent " + t.Name()
	url := pgdb.TestURL(t, key)
	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), url)
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = db.Ping(context.Background())
			db.Close()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// Versions are the primary key, so each migration ran once if every
	// version up to the newest is recorded once.
	var migrations, newest int
	if err := conn.QueryRow(context.Background(), "SELECT count(*), COALESCE(max(version), 0) FROM schema_migrations WHERE component = 'registry'").
		Scan(&migrations, &newest); err != nil {
		t.Fatal(err)
	}
	if migrations != 4 || newest != 4 {
		t.Errorf("%d registry migrations recorded up to version %d, want 4 up to 4", migrations, newest)
	}
	db := openTest(t, key)
	defer db.Close()
	if err := db.CreateUser(context.Background(), &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "h"); err != nil {
		t.Fatal(err)
	}
}

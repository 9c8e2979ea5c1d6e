package pgdb

import (
	"context"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/lhk-soc/lhk"
)

func TestMigrateConcurrently(t *testing.T) {
	url := TestURL(t, "")
	ctx := context.Background()
	migrations := fstest.MapFS{
		"0001_init.sql":  {Data: []byte("CREATE TABLE things (id BIGINT PRIMARY KEY)")},
		"0002_more.sql":  {Data: []byte("ALTER TABLE things ADD COLUMN name TEXT NOT NULL DEFAULT ''")},
		"README.txt":     {Data: []byte("not a migration")},
		"0003_index.sql": {Data: []byte("CREATE INDEX things_name ON things (name)")},
	}
	// Five "replicas" start at once: each must succeed, and each migration
	// must run exactly once (a second run of 0001 would fail).
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := Open(ctx, url, Options{})
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			errs[i] = Migrate(ctx, pool, "test", migrations)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	pool, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations WHERE component = 'test'").Scan(&n); err != nil || n != 3 {
		t.Fatalf("recorded migrations = %d, %v; want 3", n, err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO things (id, name) VALUES (1, 'x')"); err != nil {
		t.Fatalf("schema incomplete: %v", err)
	}

	t.Run("ErrNewerSchema", func(t *testing.T) {
		err := Migrate(ctx, pool, "test", fstest.MapFS{"0001_init.sql": migrations["0001_init.sql"]})
		if lhk.ErrorCode(err) != lhk.EUNAVAILABLE {
			t.Fatalf("an older binary migrated a newer schema: %v", err)
		}
	})
	t.Run("ErrBadMigration", func(t *testing.T) {
		bad := fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE a (id INT); CREATE TABLE broken (")}}
		if err := Migrate(ctx, pool, "bad", bad); err == nil {
			t.Fatal("a broken migration was accepted")
		}
		var exists bool
		pool.QueryRow(ctx, "SELECT to_regclass('a') IS NOT NULL").Scan(&exists)
		if exists {
			t.Fatal("a failed migration left a table behind")
		}
	})
}

func TestRedact(t *testing.T) {
	got := Redact("postgres://lhk:s3cret@db:5432/lhk?sslmode=disable")
	if got != "postgres://lhk:xxxxx@db:5432/lhk?sslmode=disable" {
		t.Fatalf("Redact = %q", got)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		p, end string
		ok     bool
	}{
		{"", "", false},
		{"host/", "host0", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF", "", false},
		{"x\uD7FF", "x\uE000", true},
		{"é", "ê", true},
	} {
		end, ok := PrefixEnd(tc.p)
		if end != tc.end || ok != tc.ok {
			t.Errorf("PrefixEnd(%q) = %q, %v; want %q, %v", tc.p, end, ok, tc.end, tc.ok)
		}
	}
}

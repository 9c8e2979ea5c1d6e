package pgdb

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestEnv is the environment variable that names the PostgreSQL database
// tests may use, as a postgres:// URL. .ci/run sets it; without it the tests
// that need PostgreSQL skip.
const TestEnv = "LHK_TEST_POSTGRES"

var (
	testMu      sync.Mutex
	testSchemas = map[string]bool{}
)

// TestURL returns a URL on the test database whose search_path is a schema
// of its own for key: the same key gives the same schema (so a store can be
// closed and opened again), a new key an empty one; an empty key stands for
// the test's name. The schema is dropped
// when the test that first asked for it ends. Without LHK_TEST_POSTGRES the
// test is skipped.
func TestURL(tb testing.TB, key string) string {
	tb.Helper()
	base := os.Getenv(TestEnv)
	if base == "" {
		tb.Skipf("%s is not set: PostgreSQL tests skipped", TestEnv)
	}
	if key == "" {
		key = "test " + tb.Name()
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	schema := fmt.Sprintf("lhk_test_%x", h.Sum64())
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", TestEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	testMu.Lock()
	first := !testSchemas[schema]
	testSchemas[schema] = true
	testMu.Unlock()
	if first {
		dropSchema(tb, base, schema) // left over from an interrupted run
		tb.Cleanup(func() {
			dropSchema(tb, base, schema)
			testMu.Lock()
			delete(testSchemas, schema)
			testMu.Unlock()
		})
	}
	return u.String()
}

func dropSchema(tb testing.TB, base, schema string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", TestEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		tb.Errorf("drop test schema %s: %v", schema, err)
	}
}

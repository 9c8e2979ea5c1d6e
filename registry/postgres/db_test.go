package postgres_test

import (
	"context"
	"testing"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/registry/postgres"
	"github.com/lhk-soc/lhk/registry/registrytest"
)

// openTest opens the registry in the test schema for key (see pgdb.TestURL);
// the test is skipped without LHK_TEST_POSTGRES.
func openTest(tb testing.TB, key string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), pgdb.TestURL(tb, key))
	if err != nil {
		tb.Fatalf("open registry: %v", err)
	}
	return db
}

// fresh opens a registry in a schema of its own, closed when tb ends.
func fresh(tb testing.TB) *postgres.DB {
	tb.Helper()
	db := openTest(tb, "")
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestRegistry(t *testing.T) {
	registrytest.Run(t, func(tb testing.TB, key string) lhk.Registry {
		return openTest(tb, key)
	})
}

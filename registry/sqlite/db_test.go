package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/registrytest"
	"github.com/lhk-soc/lhk/registry/sqlite"
)

// openTest opens the registry in dir/lhk.db.
func openTest(tb testing.TB, dir string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "lhk.db"))
	if err != nil {
		tb.Fatalf("open registry: %v", err)
	}
	return db
}

func TestRegistry(t *testing.T) {
	registrytest.Run(t, func(tb testing.TB, key string) lhk.Registry {
		return openTest(tb, key)
	})
}

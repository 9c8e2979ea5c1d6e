package logsqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/systems/logsqlite"
	"github.com/lhk-soc/lhk/systems/systemtest"
)

// open returns an empty store in a temporary directory.
func open(tb testing.TB) *logsqlite.Store {
	tb.Helper()
	s, err := logsqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "logs.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	systemtest.RunLogs(t, func(tb testing.TB) lhk.LogService { return open(tb) })
}

func TestDataset(t *testing.T) {
	systemtest.RunLogsDataset(t, open(t))
}

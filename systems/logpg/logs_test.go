package logpg_test

import (
	"context"
	"testing"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/systems/endpoints"
	"github.com/lhk-soc/lhk/systems/logpg"
	"github.com/lhk-soc/lhk/systems/systemtest"
)

// open returns an empty store in a schema of its own (pgdb.TestURL),
// skipping the test without LHK_TEST_POSTGRES.
func open(tb testing.TB, opts ...logpg.Option) *logpg.Store {
	tb.Helper()
	s, err := logpg.Open(context.Background(), pgdb.TestURL(tb, ""), opts...)
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

// auditLog is an lhk.AuditStore that forgets.
type auditLog struct{}

func (auditLog) Audit(context.Context, lhk.AuditEntry) error { return nil }
func (auditLog) AuditEntries(context.Context, lhk.AuditFilter) ([]*lhk.AuditEntry, error) {
	return nil, nil
}

// TestEndpoints runs the endpoints suite over this store: systems/endpoints
// builds on any lhk.LogService.
func TestEndpoints(t *testing.T) {
	systemtest.RunEndpoints(t, func(tb testing.TB) (lhk.LogService, lhk.EndpointService) {
		logs := open(tb)
		return logs, endpoints.New(logs, auditLog{}, "", nil)
	})
}

func TestEndpointsDataset(t *testing.T) {
	logs := open(t)
	systemtest.RunEndpointsDataset(t, logs, endpoints.New(logs, auditLog{}, "", nil))
}

package main

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/registry/postgres"
	"github.com/lhk-soc/lhk/registry/sqlite"
	pgsystems "github.com/lhk-soc/lhk/systems/postgres"
	systems "github.com/lhk-soc/lhk/systems/sqlite"
)

// registryStore is what lhkd needs of a registry.
type registryStore interface {
	lhk.Registry
	lhk.WebhookStore
	lhk.SessionStore
	lhk.DeliveryGuard
}

// logStore is a logs backend lhkd can close.
type logStore interface {
	lhk.LogService
	Close() error
}

// stateStore is the backend of the systems that keep state: filters,
// tickets, assets, reports and kv.
type stateStore interface {
	lhk.FilterService
	lhk.TicketService
	lhk.AssetService
	lhk.ReportService
	lhk.KVService
	Close() error
}

// openStores opens the registry and the systems' stores: in PostgreSQL when
// --db is a postgres:// URL, else in SQLite files in the data directory.
func (d *daemon) openStores(ctx context.Context, cfg config) error {
	switch {
	case cfg.DB == "" || strings.HasPrefix(cfg.DB, "sqlite:"):
		return d.openSQLite(ctx, cfg.Data)
	case pgdb.IsURL(cfg.DB):
		return d.openPostgres(ctx, cfg)
	default:
		return fmt.Errorf("--db %s: want a postgres:// URL, or nothing for SQLite in the data directory", pgdb.Redact(cfg.DB))
	}
}

// openSQLite opens the embedded default: lhk.db (registry), logs.db and
// systems.db in dir.
func (d *daemon) openSQLite(ctx context.Context, dir string) error {
	db, err := sqlite.Open(ctx, filepath.Join(dir, "lhk.db"))
	if err != nil {
		return err
	}
	d.db = db
	return d.openSQLiteSystems(ctx, dir)
}

// openSQLiteSystems opens logs.db and systems.db in dir.
func (d *daemon) openSQLiteSystems(ctx context.Context, dir string) error {
	logs, err := openLogStore(ctx, dir, "")
	if err != nil {
		return err
	}
	d.logs = logs
	state, err := systems.Open(ctx, filepath.Join(dir, "systems.db"))
	if err != nil {
		return fmt.Errorf("open systems: %w", err)
	}
	d.state = state
	return nil
}

// openPostgres opens the registry and the systems' stores in PostgreSQL,
// shared with the other replicas on the same database and schema.
func (d *daemon) openPostgres(ctx context.Context, cfg config) error {
	db, err := postgres.Open(ctx, cfg.DB, postgres.WithLogger(d.log))
	if err != nil {
		return fmt.Errorf("open registry: %w", err)
	}
	d.db, d.cluster = db, db
	d.replica = replicaName(cfg.Replica)
	d.replicaTimeout = cmp.Or(cfg.ReplicaTimeout, defaultReplicaTimeout)
	logs, err := openLogStore(ctx, cfg.Data, cfg.DB)
	if err != nil {
		return err
	}
	d.logs = logs
	state, err := pgsystems.Open(ctx, cfg.DB)
	if err != nil {
		return fmt.Errorf("open systems: %w", err)
	}
	d.state = state
	return nil
}

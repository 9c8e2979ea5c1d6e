package sqlite

import (
	"io/fs"

	"github.com/lhk-soc/lhk/internal/sqlitedb"
)

// migration is one numbered .sql file, as the tests see it.
type migration struct {
	version int
	name    string
}

// listMigrations returns the embedded migrations in order, through
// sqlitedb.ListMigrations.
func listMigrations() ([]migration, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	ms, err := sqlitedb.ListMigrations(sub)
	if err != nil {
		return nil, err
	}
	out := make([]migration, len(ms))
	for i, m := range ms {
		out[i] = migration{version: m.Version, name: m.Name}
	}
	return out, nil
}

package sqlite

import "context"

// Ping checks that the database answers a read, for lhkd's readiness check.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return storeErr(err)
	}
	return nil
}

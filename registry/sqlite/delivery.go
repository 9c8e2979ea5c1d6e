package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lhk-soc/lhk"
)

var _ lhk.DeliveryGuard = (*DB)(nil)

// FirstDelivery records a webhook delivery and reports whether it had not
// been recorded before. In the same transaction it forgets deliveries older
// than keep, so the table holds only the last few minutes.
func (db *DB) FirstDelivery(ctx context.Context, plugin, signature string, now time.Time, keep time.Duration) (bool, error) {
	var first bool
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE seen_at < ?", now.Add(-keep).UnixNano()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (plugin, signature, seen_at) VALUES (?, ?, ?)
			ON CONFLICT (plugin, signature) DO NOTHING`, plugin, signature, now.UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record webhook delivery of %q: %w", plugin, err)
	}
	return first, nil
}

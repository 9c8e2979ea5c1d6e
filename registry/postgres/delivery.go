package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/lhk-soc/lhk"
)

// deliveryPruneEvery is how often, at most, one DB deletes forgotten
// webhook deliveries.
const deliveryPruneEvery = time.Minute

var _ lhk.DeliveryGuard = (*DB)(nil)

// FirstDelivery records a webhook delivery and reports whether no replica had
// recorded it before: one insert that lands for exactly one caller. Records
// older than keep are deleted now and then.
func (db *DB) FirstDelivery(ctx context.Context, plugin, signature string, now time.Time, keep time.Duration) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO webhook_deliveries (plugin, signature, seen_at) VALUES ($1, $2, $3)
		ON CONFLICT (plugin, signature) DO NOTHING`, plugin, signature, now)
	if err != nil {
		return false, fmt.Errorf("record webhook delivery of %q: %w", plugin, storeErr(err))
	}
	last := db.lastDeliveryPrune.Load()
	if now.UnixNano()-last >= int64(deliveryPruneEvery) && db.lastDeliveryPrune.CompareAndSwap(last, now.UnixNano()) {
		if _, err := db.pool.Exec(ctx, "DELETE FROM webhook_deliveries WHERE seen_at < $1", now.Add(-keep)); err != nil {
			db.log.Warn("prune webhook deliveries", "err", err)
		}
	}
	return tag.RowsAffected() == 1, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

// SetWebhookSecret sets or rotates a plugin's webhook secret; ENOTFOUND if the
// plugin does not exist, EINVALID for an empty secret. The audit entry
// webhook.set says whether an older secret was replaced, never the secret.
// Deleting the plugin deletes its secret.
func (db *DB) SetWebhookSecret(ctx context.Context, plugin, secret string) error {
	if err := rule.CheckWebhookSecret(secret); err != nil {
		return err
	}
	err := db.write(ctx, func(tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM plugins WHERE name = $1", plugin); err != nil {
			return err
		} else if !ok {
			return rule.PluginNotFound(plugin)
		}
		rotated, err := exists(ctx, tx, "SELECT 1 FROM webhooks WHERE plugin = $1", plugin)
		if err != nil {
			return err
		}
		now := db.now()
		if _, err := tx.Exec(ctx, `INSERT INTO webhooks (plugin, secret, updated_by, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (plugin) DO UPDATE SET secret = excluded.secret, updated_by = excluded.updated_by,
				updated_at = excluded.updated_at`,
			plugin, secret, lhk.ActorFromContext(ctx), now); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, now, "webhook.set", rule.PluginTarget(plugin), rule.WebhookSetDetail(rotated)); err != nil {
			return err
		}
		return db.notify(ctx, tx, plugin)
	})
	if err != nil {
		return fmt.Errorf("set webhook secret of %q: %w", plugin, err)
	}
	return nil
}

// WebhookSecret returns a plugin's secret; ENOTFOUND when the plugin does not
// exist or has none.
func (db *DB) WebhookSecret(ctx context.Context, plugin string) (string, error) {
	var secret string
	err := db.pool.QueryRow(ctx, "SELECT secret FROM webhooks WHERE plugin = $1", plugin).Scan(&secret)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", rule.WebhookNotFound(plugin)
	}
	if err != nil {
		return "", fmt.Errorf("get webhook secret of %q: %w", plugin, storeErr(err))
	}
	return secret, nil
}

package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

// Audit appends an entry for a mutation made outside this store (a webhook
// secret, say). Actor defaults to the context's actor, Time to now, an empty
// Detail to {}; Action is required and Detail must be JSON, which is stored
// and returned byte for byte. The caller keeps secrets out of Detail.
func (db *DB) Audit(ctx context.Context, e lhk.AuditEntry) error {
	e, err := rule.NewAuditEntry(ctx, e, db.now)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO audit (time, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
			e.Time, e.Actor, e.Action, e.Target, e.Detail)
		return err
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditEntries lists entries newest first (by id). Actor and Target filter by
// equality; Before pages to entries with a smaller id. Limit defaults to
// DefaultLimit and is capped at MaxLimit.
func (db *DB) AuditEntries(ctx context.Context, f lhk.AuditFilter) ([]*lhk.AuditEntry, error) {
	limit, err := rule.ClampLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var (
		where []string
		args  []any
	)
	// The indexes hold the first 128 characters of actor and target (see
	// the migration); comparing those too lets the planner use them.
	if f.Actor != "" {
		args = append(args, f.Actor)
		where = append(where, fmt.Sprintf("left(actor, 128) = left($%d, 128) AND actor = $%[1]d", len(args)))
	}
	if f.Target != "" {
		args = append(args, f.Target)
		where = append(where, fmt.Sprintf("left(target, 128) = left($%d, 128) AND target = $%[1]d", len(args)))
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		where = append(where, fmt.Sprintf("id < $%d", len(args)))
	}
	q := "SELECT id, time, actor, action, target, detail FROM audit"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", storeErr(err))
	}
	defer rows.Close()
	es := []*lhk.AuditEntry{}
	for rows.Next() {
		var e lhk.AuditEntry
		if err := rows.Scan(&e.ID, &e.Time, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("list audit entries: %w", storeErr(err))
		}
		e.Time = e.Time.UTC()
		es = append(es, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit entries: %w", storeErr(err))
	}
	return es, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

// Audit appends an entry for a mutation made outside this store (a webhook
// secret, say). Actor defaults to the context's actor, Time to now, an empty
// Detail to {}; Action is required and Detail must be JSON. The caller keeps
// secrets out of Detail.
func (db *DB) Audit(ctx context.Context, e lhk.AuditEntry) error {
	e, err := rule.NewAuditEntry(ctx, e, db.now)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO audit (time, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
			e.Time.UnixNano(), e.Actor, e.Action, e.Target, e.Detail)
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
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.Target != "" {
		where = append(where, "target = ?")
		args = append(args, f.Target)
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := "SELECT id, time, actor, action, target, detail FROM audit"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	rows, err := db.rdb.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", storeErr(err))
	}
	defer rows.Close()
	es := []*lhk.AuditEntry{}
	for rows.Next() {
		var (
			e  lhk.AuditEntry
			ns int64
		)
		if err := rows.Scan(&e.ID, &ns, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("list audit entries: %w", err)
		}
		e.Time = fromNano(ns)
		es = append(es, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit entries: %w", storeErr(err))
	}
	return es, nil
}

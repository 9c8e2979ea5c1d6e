package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

// PutInvocations inserts or replaces records by id, all in one transaction:
// the runtime writes a running record first and the final one later. It is
// history, not a person's change, so it writes no audit entry. Each record
// needs an id, a plugin and a known status; a zero StartedAt is stored as now
// (the records themselves are not modified). Output is stored as given:
// capping it is the caller's job.
func (db *DB) PutInvocations(ctx context.Context, invs []*lhk.Invocation) error {
	if len(invs) == 0 {
		return nil
	}
	if err := rule.CheckInvocations(invs, nil); err != nil {
		return err
	}
	now := db.now()
	err := db.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO invocations
			(id, plugin, version, function, trigger, caller, status, started_at, duration_ms,
			 output, output_truncated, logs, error, replica)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET plugin = excluded.plugin, version = excluded.version,
				function = excluded.function, trigger = excluded.trigger, caller = excluded.caller,
				status = excluded.status, started_at = excluded.started_at, duration_ms = excluded.duration_ms,
				output = excluded.output, output_truncated = excluded.output_truncated,
				logs = excluded.logs, error = excluded.error, replica = excluded.replica`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, inv := range invs {
			started := inv.StartedAt
			if started.IsZero() {
				started = now
			}
			logs, err := rule.EncodeJSON(rule.NonNil(inv.Logs))
			if err != nil {
				return fmt.Errorf("encode logs of %q: %w", inv.ID, err)
			}
			if _, err := st.ExecContext(ctx, inv.ID, inv.Plugin, inv.Version, inv.Function, inv.Trigger, inv.Caller,
				inv.Status, started.UnixNano(), inv.DurationMS, inv.Output, inv.OutputTruncated, logs, inv.Error, inv.Replica); err != nil {
				return fmt.Errorf("put invocation %q: %w", inv.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put invocations: %w", err)
	}
	return nil
}

const invocationColumns = `id, plugin, version, function, trigger, caller, status, started_at, duration_ms,
	output, output_truncated, logs, error, replica`

// briefColumns are invocationColumns without output and logs, whose NULL and
// empty text scanInvocation leaves as nil.
const briefColumns = `id, plugin, version, function, trigger, caller, status, started_at, duration_ms,
	NULL, output_truncated, '', error, replica`

// scanInvocation reads one row of invocationColumns.
func scanInvocation(row interface{ Scan(...any) error }) (*lhk.Invocation, error) {
	var (
		inv     lhk.Invocation
		started int64
		logs    string
	)
	if err := row.Scan(&inv.ID, &inv.Plugin, &inv.Version, &inv.Function, &inv.Trigger, &inv.Caller, &inv.Status,
		&started, &inv.DurationMS, &inv.Output, &inv.OutputTruncated, &logs, &inv.Error, &inv.Replica); err != nil {
		return nil, err
	}
	inv.StartedAt = fromNano(started)
	if logs == "" { // briefColumns
		return &inv, nil
	}
	if err := json.Unmarshal([]byte(logs), &inv.Logs); err != nil {
		return nil, fmt.Errorf("decode logs of invocation %q: %w", inv.ID, err)
	}
	inv.Logs = rule.NonNil(inv.Logs)
	return &inv, nil
}

// Invocation returns one record; ENOTFOUND if absent.
func (db *DB) Invocation(ctx context.Context, id string) (*lhk.Invocation, error) {
	inv, err := scanInvocation(db.rdb.QueryRowContext(ctx, "SELECT "+invocationColumns+" FROM invocations WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rule.InvocationNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get invocation %q: %w", id, storeErr(err))
	}
	return inv, nil
}

// Invocations lists records newest first (by start time, then id, both
// descending) with their outputs and logs, or without both when Brief is set
// (never read from the table then). Plugin, Trigger, Status and Caller
// filter by equality. Before pages: only records strictly older, in that
// order, than the invocation with that id; an unknown Before is EINVALID.
// Limit defaults to DefaultLimit and is capped at MaxLimit.
func (db *DB) Invocations(ctx context.Context, f lhk.InvocationFilter) ([]*lhk.Invocation, error) {
	limit, err := rule.ClampLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{
		{"plugin", f.Plugin}, {"trigger", f.Trigger}, {"status", f.Status}, {"caller", f.Caller},
	} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	invs := []*lhk.Invocation{}
	err = db.read(ctx, func(tx *sql.Tx) error {
		if f.Before != "" {
			var started int64
			err := tx.QueryRowContext(ctx, "SELECT started_at FROM invocations WHERE id = ?", f.Before).Scan(&started)
			if errors.Is(err, sql.ErrNoRows) {
				return rule.BeforeNotFound(f.Before)
			}
			if err != nil {
				return err
			}
			where = append(where, "(started_at, id) < (?, ?)")
			args = append(args, started, f.Before)
		}
		cols := invocationColumns
		if f.Brief {
			cols = briefColumns
		}
		q := "SELECT " + cols + " FROM invocations"
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		q += " ORDER BY started_at DESC, id DESC LIMIT ?"
		rows, err := tx.QueryContext(ctx, q, append(args, limit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			inv, err := scanInvocation(rows)
			if err != nil {
				return err
			}
			invs = append(invs, inv)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list invocations: %w", err)
	}
	return invs, nil
}

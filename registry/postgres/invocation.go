package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

// storable reports whether PostgreSQL can store s as text as it is.
func storable(s string) bool { return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) }

// clean returns s with NULs and invalid UTF-8 replaced by U+FFFD.
func clean(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// cleanLogs returns logs with storable levels and messages, copying only
// when a line needs it.
func cleanLogs(logs []lhk.LogLine) []lhk.LogLine {
	out, copied := logs, false
	for i, l := range logs {
		if storable(l.Level) && storable(l.Message) {
			continue
		}
		if !copied {
			out, copied = append([]lhk.LogLine(nil), logs...), true
		}
		out[i].Level, out[i].Message = clean(l.Level), clean(l.Message)
	}
	return rule.NonNil(out)
}

// storableKeys returns EINVALID unless PostgreSQL can store an invocation's
// id and plugin as they are: they are keys, never cleaned.
func storableKeys(id, plugin string) error {
	if !storable(id) || !storable(plugin) {
		return lhk.Errorf(lhk.EINVALID, "invocation %q: id and plugin must be UTF-8 without NUL", clean(id))
	}
	return nil
}

const putInvocation = `INSERT INTO invocations
	(id, plugin, version, function, trigger, caller, status, started_at, duration_ms,
	 output, output_truncated, logs, error, replica)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	ON CONFLICT (id) DO UPDATE SET plugin = excluded.plugin, version = excluded.version,
		function = excluded.function, trigger = excluded.trigger, caller = excluded.caller,
		status = excluded.status, started_at = excluded.started_at, duration_ms = excluded.duration_ms,
		output = excluded.output, output_truncated = excluded.output_truncated,
		logs = excluded.logs, error = excluded.error, replica = excluded.replica`

// PutInvocations inserts or replaces records by id, all in one transaction
// and one round trip (a pipelined batch runs in an implicit transaction): the
// runtime writes a running record first and the final one later. It is
// history, not a person's change, so it writes no audit entry and takes no
// write lock. Each record needs an id, a plugin and a known status, the id
// and plugin as UTF-8 without NUL; a zero StartedAt is stored as now. NULs
// and invalid UTF-8 in the other text (function, caller, error, logs…) are
// stored as U+FFFD. The records themselves are not modified. Output is
// stored as given: capping it is the caller's job.
func (db *DB) PutInvocations(ctx context.Context, invs []*lhk.Invocation) error {
	if len(invs) == 0 {
		return nil
	}
	if err := rule.CheckInvocations(invs, storableKeys); err != nil {
		return err
	}
	now := db.now()
	rows := make([][]any, len(invs))
	for i, inv := range invs {
		started := inv.StartedAt
		if started.IsZero() {
			started = now
		}
		logs, err := rule.EncodeJSON(cleanLogs(inv.Logs))
		if err != nil {
			return fmt.Errorf("put invocations: encode logs of %q: %w", inv.ID, err)
		}
		rows[i] = []any{inv.ID, inv.Plugin, inv.Version, clean(inv.Function), clean(inv.Trigger), clean(inv.Caller),
			inv.Status, started, inv.DurationMS, inv.Output, inv.OutputTruncated, logs, clean(inv.Error), clean(inv.Replica)}
	}
	err := retry(func() error {
		b := &pgx.Batch{}
		for _, args := range rows {
			b.Queue(putInvocation, args...)
		}
		br := db.pool.SendBatch(ctx, b)
		for _, inv := range invs {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("put invocation %q: %w", inv.ID, storeErr(err))
			}
		}
		return storeErr(br.Close())
	})
	if err != nil {
		return fmt.Errorf("put invocations: %w", err)
	}
	return nil
}

const invocationColumns = `id, plugin, version, function, trigger, caller, status, started_at, duration_ms,
	output, output_truncated, logs, error, replica`

// briefColumns are invocationColumns without output and logs.
const briefColumns = `id, plugin, version, function, trigger, caller, status, started_at, duration_ms,
	output_truncated, error, replica`

// scanInvocation reads one row of invocationColumns.
func scanInvocation(row pgx.Row) (*lhk.Invocation, error) {
	var inv lhk.Invocation
	if err := row.Scan(&inv.ID, &inv.Plugin, &inv.Version, &inv.Function, &inv.Trigger, &inv.Caller, &inv.Status,
		&inv.StartedAt, &inv.DurationMS, &inv.Output, &inv.OutputTruncated, &inv.Logs, &inv.Error, &inv.Replica); err != nil {
		return nil, err
	}
	inv.StartedAt = inv.StartedAt.UTC()
	inv.Logs = rule.NonNil(inv.Logs)
	return &inv, nil
}

// scanBrief reads one row of briefColumns, leaving Output and Logs nil.
func scanBrief(row pgx.Row) (*lhk.Invocation, error) {
	var inv lhk.Invocation
	if err := row.Scan(&inv.ID, &inv.Plugin, &inv.Version, &inv.Function, &inv.Trigger, &inv.Caller, &inv.Status,
		&inv.StartedAt, &inv.DurationMS, &inv.OutputTruncated, &inv.Error, &inv.Replica); err != nil {
		return nil, err
	}
	inv.StartedAt = inv.StartedAt.UTC()
	return &inv, nil
}

// Invocation returns one record; ENOTFOUND if absent.
func (db *DB) Invocation(ctx context.Context, id string) (*lhk.Invocation, error) {
	inv, err := scanInvocation(db.pool.QueryRow(ctx, "SELECT "+invocationColumns+" FROM invocations WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
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
			args = append(args, c.v)
			where = append(where, fmt.Sprintf("%s = $%d", c.col, len(args)))
		}
	}
	if f.Before != "" {
		var started time.Time
		err := db.pool.QueryRow(ctx, "SELECT started_at FROM invocations WHERE id = $1", f.Before).Scan(&started)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, rule.BeforeNotFound(f.Before)
		}
		if err != nil {
			return nil, fmt.Errorf("list invocations: %w", storeErr(err))
		}
		args = append(args, started, f.Before)
		where = append(where, fmt.Sprintf("(started_at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	cols, scan := invocationColumns, scanInvocation
	if f.Brief {
		cols, scan = briefColumns, scanBrief
	}
	q := "SELECT " + cols + " FROM invocations"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY started_at DESC, id DESC LIMIT $%d", len(args))
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list invocations: %w", storeErr(err))
	}
	defer rows.Close()
	invs := []*lhk.Invocation{}
	for rows.Next() {
		inv, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list invocations: %w", storeErr(err))
		}
		invs = append(invs, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list invocations: %w", storeErr(err))
	}
	return invs, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

// querier is what pgx.Tx and *pgxpool.Pool share.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// exists reports whether query returns a row.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// CreateVersion stores wasm as the next version of v.Plugin and makes it
// current. When the plugin does not exist it is created with owner (who must
// be an existing user) as its owner, the default entrypoint and DefaultLimits.
// Number, SHA256, Size, UploadedAt and Plugin are filled in v; UploadedBy
// defaults to the actor. A non-empty v.SHA256 that does not match wasm is
// EINVALID. A version of an existing plugin must come from its owner or an
// admin (the uploader: v.UploadedBy, else the actor); EFORBIDDEN otherwise.
// Concurrent uploads, from any replica, get distinct consecutive numbers.
func (db *DB) CreateVersion(ctx context.Context, v *lhk.Version, wasm []byte, owner string) (*lhk.Plugin, error) {
	up, err := rule.NewUpload(ctx, v, wasm)
	if err != nil {
		return nil, err
	}
	name := up.Plugin
	now := db.now()
	var (
		p      *lhk.Plugin
		number int
	)
	err = db.write(ctx, func(tx pgx.Tx) error {
		var (
			cur  string
			role pgtype.Text
		)
		err := tx.QueryRow(ctx, "SELECT p.owner, u.role FROM plugins p LEFT JOIN users u ON u.name = $1 WHERE p.name = $2",
			up.Uploader, name).Scan(&cur, &role)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if err := db.createPlugin(ctx, tx, now, name, owner); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := rule.CheckUploader(name, cur, up.Uploader, lhk.Role(role.String)); err != nil {
				return err
			}
		}
		// Audited writes hold the schema's write lock, so MAX+1 cannot race.
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM versions WHERE plugin = $1", name).Scan(&number); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO versions
			(plugin, number, sha256, size, uploaded_by, uploaded_at, imports, exports)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			name, number, up.SHA256, up.Size, up.Uploader, now, up.Imports, up.Exports); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO version_wasm (plugin, number, wasm) VALUES ($1, $2, $3)",
			name, number, wasm); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE plugins SET current_version = $1, updated_at = $2 WHERE name = $3",
			number, now, name); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, now, "version.create", rule.PluginTarget(name), up.Detail(number)); err != nil {
			return err
		}
		if err := db.notify(ctx, tx, name); err != nil {
			return err
		}
		p, err = getPlugin(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create version of %q: %w", name, err)
	}
	up.Fill(v, number, now)
	return p, nil
}

// createPlugin inserts a new plugin without versions and audits plugin.create.
func (db *DB) createPlugin(ctx context.Context, tx pgx.Tx, now time.Time, name, owner string) error {
	if err := rule.CheckNewPlugin(name, owner); err != nil {
		return err
	}
	if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE name = $1", owner); err != nil {
		return err
	} else if !ok {
		return rule.OwnerNotFound(owner)
	}
	l := lhk.DefaultLimits
	if _, err := tx.Exec(ctx, `INSERT INTO plugins
		(name, owner, description, entrypoint, config, timeout_ms, memory_mb, max_input_bytes,
		 max_output_bytes, max_log_lines, concurrency, current_version, grant_json, created_at, updated_at)
		VALUES ($1, $2, '', $3, '{}', $4, $5, $6, $7, $8, $9, 0, $10, $11, $11)`,
		name, owner, lhk.DefaultEntrypoint, l.TimeoutMS, l.MemoryMB, l.MaxInputBytes, l.MaxOutputBytes,
		l.MaxLogLines, l.Concurrency, rule.EmptyGrant, now); err != nil {
		return err
	}
	return db.audit(ctx, tx, now, "plugin.create", rule.PluginTarget(name), rule.PluginCreateDetail(owner))
}

const pluginColumns = `p.name, p.owner, p.description, p.entrypoint, p.config, p.timeout_ms, p.memory_mb,
	p.max_input_bytes, p.max_output_bytes, p.max_log_lines, p.concurrency, p.current_version,
	p.grant_json, p.created_at, p.updated_at,
	s.cron, s.timezone, s.input, s.enabled, s.updated_by, s.updated_at`

const pluginFrom = " FROM plugins p LEFT JOIN schedules s ON s.plugin = p.name"

// scanPlugin reads one row of pluginColumns.
func scanPlugin(row pgx.Row) (*lhk.Plugin, error) {
	var (
		p                      lhk.Plugin
		cron, tz, input, updBy *string
		enabled                *bool
		schedUpdated           *time.Time
	)
	if err := row.Scan(&p.Name, &p.Owner, &p.Description, &p.Entrypoint, &p.Config,
		&p.TimeoutMS, &p.MemoryMB, &p.MaxInputBytes, &p.MaxOutputBytes, &p.MaxLogLines, &p.Concurrency,
		&p.CurrentVersion, &p.Grant, &p.CreatedAt, &p.UpdatedAt,
		&cron, &tz, &input, &enabled, &updBy, &schedUpdated); err != nil {
		return nil, err
	}
	rule.NormPlugin(&p)
	p.CreatedAt = p.CreatedAt.UTC()
	p.UpdatedAt = p.UpdatedAt.UTC()
	if cron != nil {
		p.Schedule = &lhk.Schedule{
			Cron:      *cron,
			Timezone:  *tz,
			Input:     *input,
			Enabled:   *enabled,
			UpdatedBy: *updBy,
			UpdatedAt: schedUpdated.UTC(),
		}
	}
	return &p, nil
}

const versionColumns = "plugin, number, sha256, size, uploaded_by, uploaded_at, imports, exports"

// scanVersion reads one row of versionColumns.
func scanVersion(row pgx.Row) (lhk.Version, error) {
	var v lhk.Version
	if err := row.Scan(&v.Plugin, &v.Number, &v.SHA256, &v.Size, &v.UploadedBy, &v.UploadedAt, &v.Imports, &v.Exports); err != nil {
		return v, err
	}
	v.UploadedAt = v.UploadedAt.UTC()
	v.Imports = rule.NonNil(v.Imports)
	v.Exports = rule.NonNil(v.Exports)
	return v, nil
}

// getPlugin reads one plugin with its versions (without wasm); ENOTFOUND if absent.
func getPlugin(ctx context.Context, q querier, name string) (*lhk.Plugin, error) {
	p, err := scanPlugin(q.QueryRow(ctx, "SELECT "+pluginColumns+pluginFrom+" WHERE p.name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, rule.PluginNotFound(name)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT "+versionColumns+" FROM versions WHERE plugin = $1 ORDER BY number", name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		p.Versions = append(p.Versions, v)
	}
	return p, rows.Err()
}

// Plugin returns a plugin with its versions (without wasm), grant and
// schedule (nil when none); ENOTFOUND if absent.
func (db *DB) Plugin(ctx context.Context, name string) (*lhk.Plugin, error) {
	var p *lhk.Plugin
	err := db.read(ctx, func(tx pgx.Tx) (err error) {
		p, err = getPlugin(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get plugin %q: %w", name, err)
	}
	return p, nil
}

// Plugins lists plugins by name, each with its versions (without wasm), grant
// and schedule. Owner filters by owner, Query by a substring of the name
// (ignoring case, and taken literally: it is not a LIKE pattern); Offset and
// Limit page (Limit zero means no limit). It runs two queries on one snapshot
// however many plugins match.
func (db *DB) Plugins(ctx context.Context, f lhk.PluginFilter) ([]*lhk.Plugin, error) {
	if err := rule.CheckPluginFilter(f); err != nil {
		return nil, err
	}
	if !storable(f.Query) { // no plugin name holds a NUL or invalid UTF-8
		return []*lhk.Plugin{}, nil
	}
	var (
		q     strings.Builder
		args  []any
		where []string
	)
	q.WriteString("SELECT " + pluginColumns + pluginFrom)
	if f.Owner != "" {
		args = append(args, f.Owner)
		where = append(where, fmt.Sprintf("p.owner = $%d", len(args)))
	}
	if f.Query != "" {
		// Names are lowercase. strpos, like SQLite's instr, matches the
		// query as it is, so % and _ need no escaping.
		args = append(args, strings.ToLower(f.Query))
		where = append(where, fmt.Sprintf("strpos(p.name, $%d) > 0", len(args)))
	}
	if len(where) > 0 {
		q.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	var limit any // NULL: no limit
	if f.Limit > 0 {
		limit = f.Limit
	}
	args = append(args, limit, f.Offset)
	fmt.Fprintf(&q, " ORDER BY p.name LIMIT $%d OFFSET $%d", len(args)-1, len(args))

	ps := []*lhk.Plugin{}
	err := db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q.String(), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		byName := map[string]*lhk.Plugin{}
		names := []string{}
		for rows.Next() {
			p, err := scanPlugin(rows)
			if err != nil {
				return err
			}
			ps = append(ps, p)
			byName[p.Name] = p
			names = append(names, p.Name)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if len(ps) == 0 {
			return nil
		}
		vrows, err := tx.Query(ctx, "SELECT "+versionColumns+" FROM versions WHERE plugin = ANY($1) ORDER BY plugin, number", names)
		if err != nil {
			return err
		}
		defer vrows.Close()
		for vrows.Next() {
			v, err := scanVersion(vrows)
			if err != nil {
				return err
			}
			if p := byName[v.Plugin]; p != nil {
				p.Versions = append(p.Versions, v)
			}
		}
		return vrows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list plugins: %w", err)
	}
	return ps, nil
}

// UpdatePlugin applies upd and returns the updated plugin. In the one
// transaction it writes up to three audit entries: plugin.update naming each
// changed field with old and new values (config only by keys set and removed,
// since config may carry credentials), plugin.rollback for a change of
// current version, and plugin.transfer for a change of owner. An unknown
// current_version or owner is ENOTFOUND; limits outside lhk.MaxLimits are
// EINVALID; a zero limit restores its default. An update that changes
// nothing writes nothing and notifies no one.
func (db *DB) UpdatePlugin(ctx context.Context, name string, upd lhk.PluginUpdate) (*lhk.Plugin, error) {
	var p *lhk.Plugin
	err := db.write(ctx, func(tx pgx.Tx) error {
		old, err := getPlugin(ctx, tx, name)
		if err != nil {
			return err
		}
		now := db.now()
		changed := false
		n := *old
		detail, err := rule.UpdatePlugin(&n, upd)
		if err != nil {
			return err
		}
		if len(detail) > 0 {
			cj, err := rule.EncodeJSON(n.Config)
			if err != nil {
				return err
			}
			l := n.Limits
			if _, err := tx.Exec(ctx, `UPDATE plugins SET description = $1, entrypoint = $2, config = $3,
				timeout_ms = $4, memory_mb = $5, max_input_bytes = $6, max_output_bytes = $7, max_log_lines = $8,
				concurrency = $9, updated_at = $10 WHERE name = $11`,
				n.Description, n.Entrypoint, cj, l.TimeoutMS, l.MemoryMB, l.MaxInputBytes, l.MaxOutputBytes,
				l.MaxLogLines, l.Concurrency, now, name); err != nil {
				return err
			}
			if err := db.audit(ctx, tx, now, "plugin.update", rule.PluginTarget(name), detail); err != nil {
				return err
			}
			changed = true
		}
		if upd.CurrentVersion != nil && *upd.CurrentVersion != old.CurrentVersion {
			to := *upd.CurrentVersion
			if !rule.HasVersion(old, to) {
				return rule.VersionNotFound(to, name)
			}
			if _, err := tx.Exec(ctx, "UPDATE plugins SET current_version = $1, updated_at = $2 WHERE name = $3",
				to, now, name); err != nil {
				return err
			}
			if err := db.audit(ctx, tx, now, "plugin.rollback", rule.PluginTarget(name), rule.Change{From: old.CurrentVersion, To: to}); err != nil {
				return err
			}
			changed = true
		}
		if upd.Owner != nil && *upd.Owner != old.Owner {
			to := *upd.Owner
			if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE name = $1", to); err != nil {
				return err
			} else if !ok {
				return rule.OwnerNotFound(to)
			}
			if _, err := tx.Exec(ctx, "UPDATE plugins SET owner = $1, updated_at = $2 WHERE name = $3",
				to, now, name); err != nil {
				return err
			}
			if err := db.audit(ctx, tx, now, "plugin.transfer", rule.PluginTarget(name), rule.Change{From: old.Owner, To: to}); err != nil {
				return err
			}
			changed = true
		}
		if !changed {
			p = old
			return nil
		}
		if err := db.notify(ctx, tx, name); err != nil {
			return err
		}
		p, err = getPlugin(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update plugin %q: %w", name, err)
	}
	return p, nil
}

// DeletePlugin removes a plugin with its versions, grant, schedule and
// webhook secret; its invocations stay as history. ENOTFOUND if absent.
func (db *DB) DeletePlugin(ctx context.Context, name string) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		var (
			owner    string
			versions int
		)
		err := tx.QueryRow(ctx, "SELECT owner, (SELECT COUNT(*) FROM versions WHERE plugin = $1) FROM plugins WHERE name = $1",
			name).Scan(&owner, &versions)
		if errors.Is(err, pgx.ErrNoRows) {
			return rule.PluginNotFound(name)
		}
		if err != nil {
			return err
		}
		// Versions, their modules, the schedule and the webhook go with it
		// by ON DELETE CASCADE.
		if _, err := tx.Exec(ctx, "DELETE FROM plugins WHERE name = $1", name); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, db.now(), "plugin.delete", rule.PluginTarget(name), rule.PluginDeleteDetail(owner, versions)); err != nil {
			return err
		}
		return db.notify(ctx, tx, name)
	})
	if err != nil {
		return fmt.Errorf("delete plugin %q: %w", name, err)
	}
	return nil
}

// VersionWasm returns the stored module of one version; ENOTFOUND if the
// plugin or the version does not exist.
func (db *DB) VersionWasm(ctx context.Context, name string, version int) ([]byte, error) {
	if version <= 0 || version > math.MaxInt32 {
		return nil, rule.VersionNotFound(version, name)
	}
	var wasm []byte
	err := db.pool.QueryRow(ctx, "SELECT wasm FROM version_wasm WHERE plugin = $1 AND number = $2", name, version).Scan(&wasm)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, rule.VersionNotFound(version, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read version %d of %q: %w", version, name, storeErr(err))
	}
	return wasm, nil
}

// SetGrant replaces a plugin's grant after lhk.Grant.Validate. Whether the
// actor may grant it is for the caller to decide. The audit entry grant.set
// holds the old and new grant.
func (db *DB) SetGrant(ctx context.Context, name string, g lhk.Grant) error {
	if err := g.Validate(); err != nil {
		return err
	}
	g = rule.NormGrant(g)
	gj, err := rule.EncodeJSON(g)
	if err != nil {
		return fmt.Errorf("set grant of %q: %w", name, err)
	}
	err = db.write(ctx, func(tx pgx.Tx) error {
		var old lhk.Grant
		err := tx.QueryRow(ctx, "SELECT grant_json FROM plugins WHERE name = $1", name).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return rule.PluginNotFound(name)
		}
		if err != nil {
			return err
		}
		now := db.now()
		if _, err := tx.Exec(ctx, "UPDATE plugins SET grant_json = $1, updated_at = $2 WHERE name = $3", gj, now, name); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, now, "grant.set", rule.PluginTarget(name), rule.Change{From: rule.NormGrant(old), To: g}); err != nil {
			return err
		}
		return db.notify(ctx, tx, name)
	})
	if err != nil {
		return fmt.Errorf("set grant of %q: %w", name, err)
	}
	return nil
}

// SetSchedule creates or replaces a plugin's schedule. The spec itself is
// checked by the scheduler (lhk.Scheduler.Validate) before this is called; here
// an empty spec is EINVALID. UpdatedBy defaults to the actor; UpdatedAt is now.
func (db *DB) SetSchedule(ctx context.Context, name string, s lhk.Schedule) error {
	s, err := rule.NewSchedule(ctx, name, s)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM plugins WHERE name = $1", name); err != nil {
			return err
		} else if !ok {
			return rule.PluginNotFound(name)
		}
		now := db.now()
		if _, err := tx.Exec(ctx, `INSERT INTO schedules (plugin, cron, timezone, input, enabled, updated_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (plugin) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, input = excluded.input,
				enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			name, s.Cron, s.Timezone, s.Input, s.Enabled, s.UpdatedBy, now); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, now, "schedule.set", rule.PluginTarget(name), rule.ScheduleSetDetail(s)); err != nil {
			return err
		}
		return db.notify(ctx, tx, name)
	})
	if err != nil {
		return fmt.Errorf("set schedule of %q: %w", name, err)
	}
	return nil
}

// DeleteSchedule removes a plugin's schedule; ENOTFOUND if the plugin does not
// exist or has no schedule.
func (db *DB) DeleteSchedule(ctx context.Context, name string) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		var cron *string
		err := tx.QueryRow(ctx, "SELECT s.cron FROM plugins p LEFT JOIN schedules s ON s.plugin = p.name WHERE p.name = $1", name).Scan(&cron)
		if errors.Is(err, pgx.ErrNoRows) {
			return rule.PluginNotFound(name)
		}
		if err != nil {
			return err
		}
		if cron == nil {
			return rule.ScheduleNotFound(name)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM schedules WHERE plugin = $1", name); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, db.now(), "schedule.delete", rule.PluginTarget(name), rule.ScheduleDeleteDetail(*cron)); err != nil {
			return err
		}
		return db.notify(ctx, tx, name)
	})
	if err != nil {
		return fmt.Errorf("delete schedule of %q: %w", name, err)
	}
	return nil
}

// Schedules returns every plugin that has a schedule, enabled or not, keyed by
// plugin name.
func (db *DB) Schedules(ctx context.Context) (map[string]lhk.Schedule, error) {
	rows, err := db.pool.Query(ctx, "SELECT plugin, cron, timezone, input, enabled, updated_by, updated_at FROM schedules")
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", storeErr(err))
	}
	defer rows.Close()
	m := map[string]lhk.Schedule{}
	for rows.Next() {
		var (
			name string
			s    lhk.Schedule
		)
		if err := rows.Scan(&name, &s.Cron, &s.Timezone, &s.Input, &s.Enabled, &s.UpdatedBy, &s.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list schedules: %w", storeErr(err))
		}
		s.UpdatedAt = s.UpdatedAt.UTC()
		m[name] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list schedules: %w", storeErr(err))
	}
	return m, nil
}

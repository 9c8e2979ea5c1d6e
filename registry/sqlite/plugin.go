package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

// CreateVersion stores wasm as the next version of v.Plugin and makes it
// current. When the plugin does not exist it is created with owner (who must
// be an existing user) as its owner, the default entrypoint and DefaultLimits.
// Number, SHA256, Size, UploadedAt and Plugin are filled in v; UploadedBy
// defaults to the actor. A non-empty v.SHA256 that does not match wasm is
// EINVALID. A version of an existing plugin must come from its owner or an
// admin (the uploader: v.UploadedBy, else the actor); EFORBIDDEN otherwise.
// Concurrent uploads get distinct consecutive numbers.
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
	err = db.write(ctx, func(tx *sql.Tx) error {
		var cur string
		var role sql.NullString
		err := tx.QueryRowContext(ctx, "SELECT p.owner, u.role FROM plugins p LEFT JOIN users u ON u.name = ? WHERE p.name = ?",
			up.Uploader, name).Scan(&cur, &role)
		switch {
		case errors.Is(err, sql.ErrNoRows):
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
		// The write connection is the only writer and holds the database's
		// write lock from BEGIN IMMEDIATE, so MAX+1 cannot race.
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM versions WHERE plugin = ?", name).Scan(&number); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO versions
			(plugin, number, sha256, size, uploaded_by, uploaded_at, imports, exports)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			name, number, up.SHA256, up.Size, up.Uploader, now.UnixNano(), up.Imports, up.Exports); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO version_wasm (plugin, number, wasm) VALUES (?, ?, ?)",
			name, number, wasm); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE plugins SET current_version = ?, updated_at = ? WHERE name = ?",
			number, now.UnixNano(), name); err != nil {
			return err
		}
		if err := db.audit(ctx, tx, now, "version.create", rule.PluginTarget(name), up.Detail(number)); err != nil {
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
func (db *DB) createPlugin(ctx context.Context, tx *sql.Tx, now time.Time, name, owner string) error {
	if err := rule.CheckNewPlugin(name, owner); err != nil {
		return err
	}
	if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE name = ?", owner); err != nil {
		return err
	} else if !ok {
		return rule.OwnerNotFound(owner)
	}
	l := lhk.DefaultLimits
	if _, err := tx.ExecContext(ctx, `INSERT INTO plugins
		(name, owner, description, entrypoint, config, timeout_ms, memory_mb, max_input_bytes,
		 max_output_bytes, max_log_lines, concurrency, current_version, grant_json, created_at, updated_at)
		VALUES (?, ?, '', ?, '{}', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
		name, owner, lhk.DefaultEntrypoint, l.TimeoutMS, l.MemoryMB, l.MaxInputBytes, l.MaxOutputBytes,
		l.MaxLogLines, l.Concurrency, rule.EmptyGrant,
		now.UnixNano(), now.UnixNano()); err != nil {
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
func scanPlugin(row interface{ Scan(...any) error }) (*lhk.Plugin, error) {
	var (
		p                      lhk.Plugin
		config, grant          string
		created, updated       int64
		cron, tz, input, updBy sql.NullString
		enabled, schedUpdated  sql.NullInt64
	)
	if err := row.Scan(&p.Name, &p.Owner, &p.Description, &p.Entrypoint, &config,
		&p.TimeoutMS, &p.MemoryMB, &p.MaxInputBytes, &p.MaxOutputBytes, &p.MaxLogLines, &p.Concurrency,
		&p.CurrentVersion, &grant, &created, &updated,
		&cron, &tz, &input, &enabled, &updBy, &schedUpdated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(config), &p.Config); err != nil {
		return nil, fmt.Errorf("decode config of plugin %q: %w", p.Name, err)
	}
	if err := json.Unmarshal([]byte(grant), &p.Grant); err != nil {
		return nil, fmt.Errorf("decode grant of plugin %q: %w", p.Name, err)
	}
	rule.NormPlugin(&p)
	p.CreatedAt = fromNano(created)
	p.UpdatedAt = fromNano(updated)
	if cron.Valid {
		p.Schedule = &lhk.Schedule{
			Cron:      cron.String,
			Timezone:  tz.String,
			Input:     input.String,
			Enabled:   enabled.Int64 != 0,
			UpdatedBy: updBy.String,
			UpdatedAt: fromNano(schedUpdated.Int64),
		}
	}
	return &p, nil
}

const versionColumns = "plugin, number, sha256, size, uploaded_by, uploaded_at, imports, exports"

// scanVersion reads one row of versionColumns.
func scanVersion(row interface{ Scan(...any) error }) (lhk.Version, error) {
	var (
		v                lhk.Version
		uploaded         int64
		imports, exports string
	)
	if err := row.Scan(&v.Plugin, &v.Number, &v.SHA256, &v.Size, &v.UploadedBy, &uploaded, &imports, &exports); err != nil {
		return v, err
	}
	v.UploadedAt = fromNano(uploaded)
	if err := json.Unmarshal([]byte(imports), &v.Imports); err != nil {
		return v, fmt.Errorf("decode imports of %s version %d: %w", v.Plugin, v.Number, err)
	}
	if err := json.Unmarshal([]byte(exports), &v.Exports); err != nil {
		return v, fmt.Errorf("decode exports of %s version %d: %w", v.Plugin, v.Number, err)
	}
	v.Imports = rule.NonNil(v.Imports)
	v.Exports = rule.NonNil(v.Exports)
	return v, nil
}

// getPlugin reads one plugin with its versions (without wasm); ENOTFOUND if absent.
func getPlugin(ctx context.Context, q querier, name string) (*lhk.Plugin, error) {
	p, err := scanPlugin(q.QueryRowContext(ctx, "SELECT "+pluginColumns+pluginFrom+" WHERE p.name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rule.PluginNotFound(name)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, "SELECT "+versionColumns+" FROM versions WHERE plugin = ? ORDER BY number", name)
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
	err := db.read(ctx, func(tx *sql.Tx) (err error) {
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
// (ignoring case); Offset and Limit page (Limit zero means no limit). It runs
// two queries however many plugins match.
func (db *DB) Plugins(ctx context.Context, f lhk.PluginFilter) ([]*lhk.Plugin, error) {
	if err := rule.CheckPluginFilter(f); err != nil {
		return nil, err
	}
	// sel selects the names of the listed plugins, in order.
	var (
		sel  strings.Builder
		args []any
	)
	sel.WriteString(" WHERE 1 = 1")
	if f.Owner != "" {
		sel.WriteString(" AND p.owner = ?")
		args = append(args, f.Owner)
	}
	if f.Query != "" {
		sel.WriteString(" AND instr(p.name, ?) > 0")
		args = append(args, strings.ToLower(f.Query))
	}
	limit := -1 // SQLite: no limit
	if f.Limit > 0 {
		limit = f.Limit
	}
	sel.WriteString(" ORDER BY p.name LIMIT ? OFFSET ?")
	args = append(args, limit, f.Offset)

	ps := []*lhk.Plugin{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+pluginColumns+pluginFrom+sel.String(), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		byName := map[string]*lhk.Plugin{}
		for rows.Next() {
			p, err := scanPlugin(rows)
			if err != nil {
				return err
			}
			ps = append(ps, p)
			byName[p.Name] = p
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if len(ps) == 0 {
			return nil
		}
		vrows, err := tx.QueryContext(ctx, "SELECT "+versionColumns+" FROM versions WHERE plugin IN (SELECT p.name FROM plugins p"+
			sel.String()+") ORDER BY plugin, number", args...)
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
// nothing writes nothing.
func (db *DB) UpdatePlugin(ctx context.Context, name string, upd lhk.PluginUpdate) (*lhk.Plugin, error) {
	var p *lhk.Plugin
	err := db.write(ctx, func(tx *sql.Tx) error {
		old, err := getPlugin(ctx, tx, name)
		if err != nil {
			return err
		}
		now := db.now()
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
			if _, err := tx.ExecContext(ctx, `UPDATE plugins SET description = ?, entrypoint = ?, config = ?,
				timeout_ms = ?, memory_mb = ?, max_input_bytes = ?, max_output_bytes = ?, max_log_lines = ?,
				concurrency = ?, updated_at = ? WHERE name = ?`,
				n.Description, n.Entrypoint, cj, l.TimeoutMS, l.MemoryMB, l.MaxInputBytes, l.MaxOutputBytes,
				l.MaxLogLines, l.Concurrency, now.UnixNano(), name); err != nil {
				return err
			}
			if err := db.audit(ctx, tx, now, "plugin.update", rule.PluginTarget(name), detail); err != nil {
				return err
			}
		}
		if upd.CurrentVersion != nil && *upd.CurrentVersion != old.CurrentVersion {
			to := *upd.CurrentVersion
			if !rule.HasVersion(old, to) {
				return rule.VersionNotFound(to, name)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE plugins SET current_version = ?, updated_at = ? WHERE name = ?",
				to, now.UnixNano(), name); err != nil {
				return err
			}
			if err := db.audit(ctx, tx, now, "plugin.rollback", rule.PluginTarget(name), rule.Change{From: old.CurrentVersion, To: to}); err != nil {
				return err
			}
		}
		if upd.Owner != nil && *upd.Owner != old.Owner {
			to := *upd.Owner
			if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE name = ?", to); err != nil {
				return err
			} else if !ok {
				return rule.OwnerNotFound(to)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE plugins SET owner = ?, updated_at = ? WHERE name = ?",
				to, now.UnixNano(), name); err != nil {
				return err
			}
			if err := db.audit(ctx, tx, now, "plugin.transfer", rule.PluginTarget(name), rule.Change{From: old.Owner, To: to}); err != nil {
				return err
			}
		}
		p, err = getPlugin(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update plugin %q: %w", name, err)
	}
	return p, nil
}

// DeletePlugin removes a plugin with its versions, grant and schedule; its
// invocations stay as history. ENOTFOUND if absent.
func (db *DB) DeletePlugin(ctx context.Context, name string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var (
			owner    string
			versions int
		)
		err := tx.QueryRowContext(ctx, "SELECT owner, (SELECT COUNT(*) FROM versions WHERE plugin = ?) FROM plugins WHERE name = ?",
			name, name).Scan(&owner, &versions)
		if errors.Is(err, sql.ErrNoRows) {
			return rule.PluginNotFound(name)
		}
		if err != nil {
			return err
		}
		// Versions, their modules, the schedule and the webhook go with it
		// by ON DELETE CASCADE.
		if _, err := tx.ExecContext(ctx, "DELETE FROM plugins WHERE name = ?", name); err != nil {
			return err
		}
		return db.audit(ctx, tx, db.now(), "plugin.delete", rule.PluginTarget(name), rule.PluginDeleteDetail(owner, versions))
	})
	if err != nil {
		return fmt.Errorf("delete plugin %q: %w", name, err)
	}
	return nil
}

// VersionWasm returns the stored module of one version; ENOTFOUND if the
// plugin or the version does not exist.
func (db *DB) VersionWasm(ctx context.Context, name string, version int) ([]byte, error) {
	var wasm []byte
	err := db.rdb.QueryRowContext(ctx, "SELECT wasm FROM version_wasm WHERE plugin = ? AND number = ?", name, version).Scan(&wasm)
	if errors.Is(err, sql.ErrNoRows) {
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
	err = db.write(ctx, func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, "SELECT grant_json FROM plugins WHERE name = ?", name).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return rule.PluginNotFound(name)
		}
		if err != nil {
			return err
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, "UPDATE plugins SET grant_json = ?, updated_at = ? WHERE name = ?", gj, now.UnixNano(), name); err != nil {
			return err
		}
		return db.audit(ctx, tx, now, "grant.set", rule.PluginTarget(name), rule.Change{From: json.RawMessage(old), To: g})
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
	err = db.write(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM plugins WHERE name = ?", name); err != nil {
			return err
		} else if !ok {
			return rule.PluginNotFound(name)
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO schedules (plugin, cron, timezone, input, enabled, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (plugin) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, input = excluded.input,
				enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			name, s.Cron, s.Timezone, s.Input, s.Enabled, s.UpdatedBy, now.UnixNano()); err != nil {
			return err
		}
		return db.audit(ctx, tx, now, "schedule.set", rule.PluginTarget(name), rule.ScheduleSetDetail(s))
	})
	if err != nil {
		return fmt.Errorf("set schedule of %q: %w", name, err)
	}
	return nil
}

// DeleteSchedule removes a plugin's schedule; ENOTFOUND if the plugin does not
// exist or has no schedule.
func (db *DB) DeleteSchedule(ctx context.Context, name string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var cron sql.NullString
		err := tx.QueryRowContext(ctx, "SELECT s.cron FROM plugins p LEFT JOIN schedules s ON s.plugin = p.name WHERE p.name = ?", name).Scan(&cron)
		if errors.Is(err, sql.ErrNoRows) {
			return rule.PluginNotFound(name)
		}
		if err != nil {
			return err
		}
		if !cron.Valid {
			return rule.ScheduleNotFound(name)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM schedules WHERE plugin = ?", name); err != nil {
			return err
		}
		return db.audit(ctx, tx, db.now(), "schedule.delete", rule.PluginTarget(name), rule.ScheduleDeleteDetail(cron.String))
	})
	if err != nil {
		return fmt.Errorf("delete schedule of %q: %w", name, err)
	}
	return nil
}

// Schedules returns every plugin that has a schedule, enabled or not, keyed by
// plugin name.
func (db *DB) Schedules(ctx context.Context) (map[string]lhk.Schedule, error) {
	rows, err := db.rdb.QueryContext(ctx, "SELECT plugin, cron, timezone, input, enabled, updated_by, updated_at FROM schedules")
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", storeErr(err))
	}
	defer rows.Close()
	m := map[string]lhk.Schedule{}
	for rows.Next() {
		var (
			name    string
			s       lhk.Schedule
			updated int64
		)
		if err := rows.Scan(&name, &s.Cron, &s.Timezone, &s.Input, &s.Enabled, &s.UpdatedBy, &updated); err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		s.UpdatedAt = fromNano(updated)
		m[name] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list schedules: %w", storeErr(err))
	}
	return m, nil
}

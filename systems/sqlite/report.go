package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

// PublishReport renders r.Markdown to HTML (package markdown, as every
// report store does) and stores the report with a new id (ReportIDPrefix and
// a ULID) and the current time. Title is required (at most state.MaxTitle
// bytes), Markdown at most state.MaxMarkdown bytes; Author defaults to the
// context's actor. The returned report holds both Markdown and HTML.
func (db *DB) PublishReport(ctx context.Context, in *lhk.Report) (*lhk.Report, error) {
	r, err := state.NewReport(ctx, in, fromNano(db.now().UnixNano()))
	if err != nil {
		return nil, err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO reports (id, tenant, title, plugin, author, created_at, markdown, html)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Tenant, r.Title, r.Plugin, r.Author, r.CreatedAt.UnixNano(), r.Markdown, r.HTML)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("publish report: %w", err)
	}
	return r, nil
}

// Report returns one report of a tenant with its Markdown and HTML; ENOTFOUND
// for an unknown id or one of another tenant.
func (db *DB) Report(ctx context.Context, tenant, id string) (*lhk.Report, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, err
	}
	var (
		r       lhk.Report
		created int64
	)
	err := db.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT id, tenant, title, plugin, author, created_at, markdown, html
			FROM reports WHERE tenant = ? AND id = ?`, tenant, id).
			Scan(&r.ID, &r.Tenant, &r.Title, &r.Plugin, &r.Author, &created, &r.Markdown, &r.HTML)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, state.ReportNotFound(tenant, id)
	}
	if err != nil {
		return nil, fmt.Errorf("get report %q: %w", state.Short(id), err)
	}
	r.CreatedAt = fromNano(created)
	return &r, nil
}

// Reports lists a tenant's reports newest first, without Markdown and HTML,
// and returns the cursor of the next page ("" when this is the last). Limit
// defaults to state.DefaultReportLimit and is capped at state.MaxReportLimit;
// a negative limit or a cursor not returned by this listing for this tenant
// is EINVALID.
func (db *DB) Reports(ctx context.Context, tenant string, limit int, cursor string) ([]*lhk.Report, string, error) {
	limit, cur, err := state.CheckReports(tenant, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	q := "SELECT id, tenant, title, plugin, author, created_at FROM reports WHERE tenant = ?"
	args := []any{tenant}
	if cur != nil {
		q += " AND (created_at, id) < (?, ?)"
		args = append(args, cur.At, cur.ID)
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	rs := []*lhk.Report{}
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, append(args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r       lhk.Report
				created int64
			)
			if err := rows.Scan(&r.ID, &r.Tenant, &r.Title, &r.Plugin, &r.Author, &created); err != nil {
				return err
			}
			r.CreatedAt = fromNano(created)
			rs = append(rs, &r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fmt.Errorf("list reports of %q: %w", state.Short(tenant), err)
	}
	rs, next := state.ReportPage(tenant, rs, limit)
	return rs, next, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

// PublishReport renders r.Markdown to HTML (package markdown, as every
// report store does) and stores the report with a new id (ReportIDPrefix and
// a ULID) and the current time. Title is required (at most state.MaxTitle
// bytes), Markdown at most state.MaxMarkdown bytes; Author defaults to the
// context's actor. The returned report holds both Markdown and HTML.
func (db *DB) PublishReport(ctx context.Context, in *lhk.Report) (*lhk.Report, error) {
	r, err := state.NewReport(ctx, in, db.now())
	if err != nil {
		return nil, err
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO reports (id, tenant, title, plugin, author, created_at, markdown, html)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.ID, r.Tenant, r.Title, r.Plugin, r.Author, r.CreatedAt, r.Markdown, r.HTML)
	if err != nil {
		return nil, fmt.Errorf("publish report: %w", storeErr(err))
	}
	return r, nil
}

// Report returns one report of a tenant with its Markdown and HTML; ENOTFOUND
// for an unknown id or one of another tenant.
func (db *DB) Report(ctx context.Context, tenant, id string) (*lhk.Report, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, err
	}
	if !storable(id) {
		return nil, state.ReportNotFound(tenant, id)
	}
	var r lhk.Report
	err := db.pool.QueryRow(ctx, `SELECT id, tenant, title, plugin, author, created_at, markdown, html
		FROM reports WHERE tenant = $1 AND id = $2`, tenant, id).
		Scan(&r.ID, &r.Tenant, &r.Title, &r.Plugin, &r.Author, &r.CreatedAt, &r.Markdown, &r.HTML)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, state.ReportNotFound(tenant, id)
	}
	if err != nil {
		return nil, fmt.Errorf("get report %q: %w", state.Short(id), storeErr(err))
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

// Reports lists a tenant's reports newest first, without Markdown and HTML,
// and returns the cursor of the next page ("" when this is the last). Limit
// defaults to state.DefaultReportLimit and is capped at
// state.MaxReportLimit; a negative limit or a cursor not returned by this
// listing for this tenant is EINVALID.
func (db *DB) Reports(ctx context.Context, tenant string, limit int, cursor string) ([]*lhk.Report, string, error) {
	limit, cur, err := state.CheckReports(tenant, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	q := "SELECT id, tenant, title, plugin, author, created_at FROM reports WHERE tenant = $1"
	args := []any{tenant}
	if cur != nil {
		q += " AND (created_at, id) < ($2, $3)"
		args = append(args, time.Unix(0, cur.At), cur.ID)
	}
	q += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT %d", limit+1)
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list reports of %q: %w", state.Short(tenant), storeErr(err))
	}
	defer rows.Close()
	var rs []*lhk.Report
	for rows.Next() {
		var r lhk.Report
		if err := rows.Scan(&r.ID, &r.Tenant, &r.Title, &r.Plugin, &r.Author, &r.CreatedAt); err != nil {
			return nil, "", fmt.Errorf("list reports of %q: %w", state.Short(tenant), err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		rs = append(rs, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list reports of %q: %w", state.Short(tenant), storeErr(err))
	}
	rs, next := state.ReportPage(tenant, rs, limit)
	return rs, next, nil
}

package state

import (
	"context"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/check"
	"github.com/lhk-soc/lhk/internal/markdown"
)

// ReportIDPrefix starts every report id; the rest is a ULID.
const ReportIDPrefix = "R-"

// NewReport checks a report given to PublishReport and returns the report to
// store: its Markdown rendered to HTML (package markdown), a new id
// (ReportIDPrefix and a ULID) and CreatedAt now. Title is required (at most
// MaxTitle bytes), Markdown at most MaxMarkdown bytes; Author defaults to the
// context's actor.
func NewReport(ctx context.Context, in *lhk.Report, now time.Time) (*lhk.Report, error) {
	if in == nil {
		return nil, lhk.Errorf(lhk.EINVALID, "report is required")
	}
	r := &lhk.Report{Tenant: in.Tenant, Title: in.Title, Markdown: in.Markdown, Plugin: in.Plugin, Author: in.Author}
	if r.Author == "" {
		r.Author = lhk.ActorFromContext(ctx)
	}
	if err := CheckTenant(r.Tenant); err != nil {
		return nil, err
	}
	if err := CheckText("title", r.Title, MaxTitle, true); err != nil {
		return nil, err
	}
	if err := CheckText("markdown", r.Markdown, MaxMarkdown, false); err != nil {
		return nil, err
	}
	if err := CheckLabel("plugin", r.Plugin, MaxName); err != nil {
		return nil, err
	}
	if err := CheckLabel("author", r.Author, MaxName); err != nil {
		return nil, err
	}
	html, err := markdown.Render(r.Markdown)
	if err != nil {
		return nil, err
	}
	r.HTML = html
	r.CreatedAt = now
	r.ID = NewID(ReportIDPrefix, now)
	return r, nil
}

// CheckReports validates the arguments of a report listing and returns its
// limit (DefaultReportLimit when zero, capped at MaxReportLimit) and cursor
// (nil for the first page).
func CheckReports(tenant string, limit int, cursor string) (int, *Cursor, error) {
	if err := CheckTenant(tenant); err != nil {
		return 0, nil, err
	}
	limit, err := check.Limit(limit, DefaultReportLimit, MaxReportLimit)
	if err != nil {
		return 0, nil, err
	}
	cur, err := DecodeCursor("reports", tenant, cursor)
	if err != nil {
		return 0, nil, err
	}
	return limit, cur, nil
}

// ReportPage cuts a listing read with limit+1 rows to limit and returns the
// cursor of the next page ("" when this is the last).
func ReportPage(tenant string, rs []*lhk.Report, limit int) ([]*lhk.Report, string) {
	rs = NonNil(rs)
	if len(rs) <= limit {
		return rs, ""
	}
	rs = rs[:limit]
	last := rs[limit-1]
	return rs, EncodeCursor("reports", tenant, last.CreatedAt.UnixNano(), last.ID)
}

// ReportNotFound is the error for a report a tenant does not have.
func ReportNotFound(tenant, id string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "report %q not found in tenant %q", Short(id), Short(tenant))
}

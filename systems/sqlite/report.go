package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/lhk-soc/lhk"
)

// ReportIDPrefix starts every report id; the rest is a ULID.
const ReportIDPrefix = "R-"

// markdown renders GitHub-flavoured Markdown (tables, strikethrough, task
// lists, autolinks). Raw HTML is never passed through (goldmark's default
// replaces it with a comment) and link and image destinations are reduced to
// an allow-list of schemes by safeLinks, so the HTML is safe to show.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(safeLinks{}, 0))),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(chartImages{}, 10))),
)

// chartImages renders images whose destination safeLinks kept. goldmark's own
// image renderer refuses every data: URL but a few raster types, which would
// drop the inline SVG charts plugins embed in reports; safeLinks has already
// emptied every destination that is neither a safe URL nor a safe data image.
type chartImages struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (chartImages) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindImage, func(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		n := node.(*ast.Image)
		_, _ = w.WriteString(`<img src="`)
		_, _ = w.Write(util.EscapeHTML(util.URLEscape(n.Destination, true)))
		_, _ = w.WriteString(`" alt="`)
		_, _ = w.Write(util.EscapeHTML(imageAlt(n, source)))
		_, _ = w.WriteString(`">`)
		return ast.WalkSkipChildren, nil
	})
}

// imageAlt is the plain text of an image's description.
func imageAlt(n ast.Node, source []byte) []byte {
	var b bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			if t, ok := c.(*ast.Text); ok {
				b.Write(t.Segment.Value(source))
			}
		}
		return ast.WalkContinue, nil
	})
	return b.Bytes()
}

// RenderMarkdown renders Markdown to HTML the way PublishReport does: raw
// HTML escaped or dropped, and links other than http, https, mailto and
// relative ones neutralised.
func RenderMarkdown(md string) (string, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(md), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return buf.String(), nil
}

// safeLinks is an AST transformer that empties link and image destinations
// whose scheme is not allowed and turns such autolinks into plain text.
type safeLinks struct{}

// Transform implements parser.ASTTransformer.
func (safeLinks) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	source := reader.Source()
	var autolinks []*ast.AutoLink
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			if !safeURL(n.Destination) {
				n.Destination = nil
			}
		case *ast.Image:
			if !safeURL(n.Destination) && !safeDataImage(n.Destination) {
				n.Destination = nil
			}
		case *ast.AutoLink:
			if n.AutoLinkType == ast.AutoLinkURL && !safeURL(n.URL(source)) {
				autolinks = append(autolinks, n)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, n := range autolinks {
		s := ast.NewString(n.Label(source))
		n.Parent().ReplaceChild(n.Parent(), n, s)
	}
}

// safeURL reports whether a destination is relative or uses http, https or
// mailto. Browsers ignore ASCII whitespace and control characters inside a
// scheme, so they are removed before looking.
func safeURL(u []byte) bool {
	var b strings.Builder
	for _, c := range u {
		if c > ' ' && c != 0x7f {
			b.WriteByte(c)
		}
	}
	s := strings.ToLower(b.String())
	i := strings.IndexAny(s, ":/?#")
	if i < 0 || s[i] != ':' {
		return true // no scheme: relative, or a fragment
	}
	switch s[:i] {
	case "http", "https", "mailto":
		return true
	}
	return false
}

// safeDataImage reports whether an image destination is an inline SVG or PNG
// in base64, as plugins embed charts. Browsers show an SVG loaded as an image
// without running its scripts or loading anything it references, so such
// images are safe where links with the same URL would not be.
func safeDataImage(u []byte) bool {
	s := string(u)
	var data string
	for _, prefix := range []string{"data:image/svg+xml;base64,", "data:image/png;base64,"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			data = rest
		}
	}
	if data == "" {
		return false
	}
	for _, c := range data {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// PublishReport renders r.Markdown to HTML and stores the report with a new
// id (ReportIDPrefix and a ULID) and the current time. Title is required (at
// most MaxTitle bytes), Markdown at most MaxMarkdown bytes; Author defaults
// to the context's actor. The returned report holds both Markdown and HTML.
func (db *DB) PublishReport(ctx context.Context, in *lhk.Report) (*lhk.Report, error) {
	if in == nil {
		return nil, lhk.Errorf(lhk.EINVALID, "report is required")
	}
	r := &lhk.Report{Tenant: in.Tenant, Title: in.Title, Markdown: in.Markdown, Plugin: in.Plugin, Author: in.Author}
	if r.Author == "" {
		r.Author = lhk.ActorFromContext(ctx)
	}
	if err := checkTenant(r.Tenant); err != nil {
		return nil, err
	}
	if err := checkText("title", r.Title, MaxTitle, true); err != nil {
		return nil, err
	}
	if err := checkText("markdown", r.Markdown, MaxMarkdown, false); err != nil {
		return nil, err
	}
	if err := checkLabel("plugin", r.Plugin, MaxName); err != nil {
		return nil, err
	}
	if err := checkLabel("author", r.Author, MaxName); err != nil {
		return nil, err
	}
	html, err := RenderMarkdown(r.Markdown)
	if err != nil {
		return nil, err
	}
	r.HTML = html
	now := fromNano(db.now().UnixNano())
	r.CreatedAt = now
	r.ID = newID(ReportIDPrefix, now)
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO reports (id, tenant, title, plugin, author, created_at, markdown, html)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Tenant, r.Title, r.Plugin, r.Author, now.UnixNano(), r.Markdown, r.HTML)
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
	if err := checkTenant(tenant); err != nil {
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
		return nil, lhk.Errorf(lhk.ENOTFOUND, "report %q not found in tenant %q", short(id), short(tenant))
	}
	if err != nil {
		return nil, fmt.Errorf("get report %q: %w", short(id), err)
	}
	r.CreatedAt = fromNano(created)
	return &r, nil
}

// Reports lists a tenant's reports newest first, without Markdown and HTML,
// and returns the cursor of the next page ("" when this is the last). Limit
// defaults to DefaultReportLimit and is capped at MaxReportLimit; a negative
// limit or a cursor not returned by this listing for this tenant is EINVALID.
func (db *DB) Reports(ctx context.Context, tenant string, limit int, cursor string) ([]*lhk.Report, string, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, "", err
	}
	limit, err := clampLimit(limit, DefaultReportLimit, MaxReportLimit)
	if err != nil {
		return nil, "", err
	}
	cur, err := decodeCursor("reports", tenant, cursor)
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
		return nil, "", fmt.Errorf("list reports of %q: %w", short(tenant), err)
	}
	var next string
	if len(rs) > limit {
		rs = rs[:limit]
		last := rs[limit-1]
		next = encodeCursor("reports", tenant, last.CreatedAt.UnixNano(), last.ID)
	}
	return rs, next, nil
}

// Package markdown renders the Markdown of reports to HTML that is safe to
// show (goldmark with GitHub's extensions, raw HTML dropped, unsafe link
// targets emptied, inline SVG and PNG charts kept). Every report store
// renders through it, so a report looks the same whichever backend keeps it.
package markdown

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

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

// Render renders Markdown to HTML as reports are published: raw HTML
// escaped or dropped, and links other than http, https, mailto and relative
// ones neutralised.
func Render(md string) (string, error) {
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

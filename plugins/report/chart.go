package main

import (
	"encoding/base64"
	"fmt"
	"html"
	"strings"
)

// svgBarChart draws values as a vertical bar chart with a label under each
// bar and the value above it, and returns it as a Markdown image with an
// inline SVG (the report renderer keeps data:image/svg+xml images; browsers
// show an SVG image without running anything in it).
func svgBarChart(title string, labels []string, values []int64) string {
	const (
		w, h           = 640, 240
		left, right    = 40, 10
		top, bottom    = 30, 40
		plotW, plotH   = w - left - right, h - top - bottom
		barFill, color = "#3b6ea5", "#333"
	)
	var peak int64 = 1
	for _, v := range values {
		peak = max(peak, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="13" fill="%s">%s</text>`, left, color, html.EscapeString(title))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, left, top+plotH, left+plotW, top+plotH, color)
	if n := len(values); n > 0 {
		slot := float64(plotW) / float64(n)
		for i, v := range values {
			bh := float64(plotH) * float64(v) / float64(peak)
			x := float64(left) + slot*float64(i) + slot*0.15
			y := float64(top+plotH) - bh
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y, slot*0.7, bh, barFill)
			cx := float64(left) + slot*(float64(i)+0.5)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, cx, y-4, color, thousands(v))
			label := ""
			if i < len(labels) {
				label = labels[i]
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>`, cx, top+plotH+16, color, html.EscapeString(label))
		}
	}
	b.WriteString(`</svg>`)
	return fmt.Sprintf("![%s](data:image/svg+xml;base64,%s)", title, base64.StdEncoding.EncodeToString([]byte(b.String())))
}

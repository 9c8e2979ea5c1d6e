package main

import (
	"encoding/base64"
	"fmt"
	"html"
	"strings"
)

// The charts are SVG drawn here and put into the report as Markdown images
// with a data:image/svg+xml URL (the report renderer keeps those; browsers
// show an SVG image without running anything in it). Every text from the
// data is escaped for XML (xml).

// Series is one named row of values of a chart, drawn in Color.
type Series struct {
	Name   string
	Color  string
	Values []int64
}

// Chart colours.
const (
	chartInk   = "#333"
	chartBlue  = "#3b6ea5"
	chartRed   = "#c0392b"
	chartGreen = "#2e8b57"
)

// severityColors colour the severities in charts.
var severityColors = map[string]string{"critical": "#7b1fa2", "high": chartRed, "medium": "#e67e22", "low": chartGreen}

// xml escapes text for an SVG element or attribute.
func xml(s string) string { return html.EscapeString(s) }

// svgImage wraps an SVG document as a Markdown image.
func svgImage(title, svg string) string {
	return fmt.Sprintf("![%s](data:image/svg+xml;base64,%s)", text(title), base64.StdEncoding.EncodeToString([]byte(svg)))
}

// svgBarChart draws values as a vertical bar chart with a label under each
// bar and the value above it, and returns it as a Markdown image.
func svgBarChart(title string, labels []string, values []int64) string {
	return svgGroupedChart(title, labels, []Series{{Color: chartBlue, Values: values}})
}

// svgGroupedChart draws one group of bars per label, one bar per series,
// with the value above each bar and a legend when there is more than one
// series, and returns it as a Markdown image.
func svgGroupedChart(title string, labels []string, series []Series) string {
	const (
		w, h         = 640, 240
		left, right  = 40, 10
		top, bottom  = 30, 40
		plotW, plotH = w - left - right, h - top - bottom
	)
	var peak int64 = 1
	n := len(labels)
	for _, s := range series {
		for _, v := range s.Values {
			peak = max(peak, v)
		}
		n = max(n, len(s.Values))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="13" fill="%s">%s</text>`, left, chartInk, xml(title))
	if len(series) > 1 {
		x := w - right
		for i := len(series) - 1; i >= 0; i-- {
			s := series[i]
			x -= 14 + 7*len([]rune(s.Name))
			fmt.Fprintf(&b, `<rect x="%d" y="8" width="10" height="10" fill="%s"/><text x="%d" y="17" fill="%s">%s</text>`, x, xml(s.Color), x+13, chartInk, xml(s.Name))
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, left, top+plotH, left+plotW, top+plotH, chartInk)
	if n > 0 && len(series) > 0 {
		slot := float64(plotW) / float64(n)
		bw := slot * 0.7 / float64(len(series))
		for i := range n {
			for j, s := range series {
				var v int64
				if i < len(s.Values) {
					v = s.Values[i]
				}
				bh := float64(plotH) * float64(v) / float64(peak)
				x := float64(left) + slot*float64(i) + slot*0.15 + bw*float64(j)
				y := float64(top+plotH) - bh
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y, bw, bh, xml(s.Color))
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, x+bw/2, y-4, chartInk, thousands(v))
			}
			label := ""
			if i < len(labels) {
				label = labels[i]
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>`, float64(left)+slot*(float64(i)+0.5), top+plotH+16, chartInk, xml(label))
		}
	}
	b.WriteString(`</svg>`)
	return svgImage(title, b.String())
}

// svgHBarChart draws one horizontal bar per label, longest first as given,
// with the label left of the bar and the value after it, and returns it as
// a Markdown image. colors, when set, colours each bar (else blue).
func svgHBarChart(title string, labels []string, values []int64, colors []string) string {
	const (
		w            = 640
		labelW       = 200
		right        = 60
		top, row     = 30, 22
		barH         = 14
		plotW        = w - labelW - right
		maxLabelRune = 30
	)
	h := top + row*len(values) + 10
	var peak int64 = 1
	for _, v := range values {
		peak = max(peak, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(&b, `<text x="10" y="18" font-size="13" fill="%s">%s</text>`, chartInk, xml(title))
	for i, v := range values {
		label := ""
		if i < len(labels) {
			label = labels[i]
		}
		if r := []rune(label); len(r) > maxLabelRune {
			label = string(r[:maxLabelRune-1]) + "…"
		}
		color := chartBlue
		if i < len(colors) && colors[i] != "" {
			color = colors[i]
		}
		y := top + row*i
		bw := float64(plotW) * float64(v) / float64(peak)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`, labelW-6, y+barH-3, chartInk, xml(label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, labelW, y, bw, barH, xml(color))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s">%s</text>`, float64(labelW)+bw+4, y+barH-3, chartInk, thousands(v))
	}
	b.WriteString(`</svg>`)
	return svgImage(title, b.String())
}

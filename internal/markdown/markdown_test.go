package markdown_test

import (
	"strings"
	"testing"

	"github.com/lhk-soc/lhk/internal/markdown"
)

func TestRender(t *testing.T) {
	tests := []struct {
		md, want, not string
	}{
		{"<script>alert(1)</script>", "", "<script"},
		{"[x](javascript:alert(1))", `<a href="">x</a>`, "javascript"},
		{"<img src=x onerror=alert(1)>", "", "onerror"},
		{"<javascript:alert(1)>", "javascript:alert(1)", "<a"},
		{"<https://example.com>", `<a href="https://example.com">`, ""},
		{"visit www.example.com", `<a href="http://www.example.com">`, ""},
		{"| a |\n| - |\n| 1 |", "<td>1</td>", ""},
		// Charts: inline SVG or PNG images stay; other data: URLs do not.
		{"![chart](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)", `<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="`, ""},
		{"[x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)", `<a href="">`, "data:"},
		{"![x](data:text/html;base64,PHNjcmlwdD4=)", `<img src=""`, "data:"},
		{"![x](data:image/svg+xml,<svg onload=alert(1)>)", "", "onload"},
	}
	for _, tt := range tests {
		t.Run(tt.md, func(t *testing.T) {
			html, err := markdown.Render(tt.md)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(html, tt.want) || (tt.not != "" && strings.Contains(html, tt.not)) {
				t.Errorf("got %q, want it to contain %q and not %q", html, tt.want, tt.not)
			}
		})
	}
}

// Package ui holds lhk's web UI: plain HTML, CSS and JavaScript modules
// embedded in the binary and served by lhkd under /ui/. There is no build
// step: the files in static/ are what the browser runs.
//
// The page talks only to lhkd's HTTP API (httpapi) and signs in with a
// session cookie (POST /v1/session). Everything it shows is put into the
// page with DOM text APIs, never parsed as HTML, and the Content-Security-
// Policy set here allows scripts from lhkd only, so plugin output, logs and
// any other stored string cannot run script. Reports, which are HTML, are
// shown in a sandboxed frame. docs/ui.md describes the security model.
//
// This package does not import echo: it is a plain http.Handler that
// httpapi mounts.
package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// Prefix is the path under which Handler serves the UI.
const Prefix = "/ui/"

// CSP is the Content-Security-Policy of every UI response: scripts, styles,
// images and requests from lhkd only, no inline script or style, no plugins,
// frames only from lhkd (the sandboxed report view), and no framing of the UI
// by other sites.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

//go:embed static
var static embed.FS

// file is one embedded asset with its precomputed headers.
type file struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the UI's files under Prefix: Prefix itself is index.html.
// Responses carry CSP and the other security headers; assets are
// revalidated with an ETag on every load, so an upgraded lhkd is picked up
// at once.
func Handler() http.Handler {
	files := map[string]file{}
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic("ui: " + err.Error())
	}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[p] = file{body: b, contentType: contentType(p), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("ui: read embedded files: " + err.Error())
	}
	return &handler{files: files}
}

type handler struct {
	files map[string]file
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	f, ok := h.files[path.Clean(name)]
	if !ok || strings.Contains(name, "..") {
		hd.Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", f.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && match == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.body)
}

// contentType picks the type of an asset by its extension; JavaScript
// modules must be served as JavaScript for the browser to run them.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

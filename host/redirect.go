package host

import (
	"errors"
	"net/http"

	extism "github.com/extism/go-sdk"
	"github.com/gobwas/glob"
)

// Extism's http_request checks a plugin's allowed hosts against the first URL
// only and then sends the request with http.DefaultClient, which follows
// redirects anywhere: a server on an allowed host could bounce a plugin to
// any address the daemon reaches. The host package therefore sets
// http.DefaultClient.CheckRedirect, once, when it is loaded (before anything
// can use the client concurrently): a redirect made for a plugin is followed
// only when its target host is in the plugin's allowed hosts, matched as the
// SDK matches them; otherwise the plugin receives the 3xx response itself,
// with its Location header, and may request that URL, which is checked again.
// Requests that are not a plugin's keep net/http's rule (at most 10 redirects).
func init() {
	http.DefaultClient.CheckRedirect = checkRedirect
}

// maxRedirects is net/http's own limit, kept for every request.
const maxRedirects = 10

// checkRedirect is http.DefaultClient's redirect policy; see init.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("stopped after 10 redirects")
	}
	p, ok := req.Context().Value(extism.PluginCtxKey("plugin")).(*extism.Plugin)
	if !ok {
		return nil
	}
	if !hostAllowed(p.AllowedHosts, req.URL.Hostname()) {
		return http.ErrUseLastResponse
	}
	return nil
}

// hostAllowed matches host against allowed as the SDK's http_request does:
// an exact name or a glob ("*.example.com"). A pattern that does not
// compile matches nothing.
func hostAllowed(allowed []string, host string) bool {
	for _, a := range allowed {
		if a == host {
			return true
		}
		if g, err := glob.Compile(a); err == nil && g.Match(host) {
			return true
		}
	}
	return false
}

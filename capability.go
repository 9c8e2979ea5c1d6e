package lhk

import (
	"context"
	"regexp"
	"slices"
)

// Capabilities: the rights to call groups of host functions, always scoped by the
// tenants of a grant.
const (
	CapLogsRead         = "logs.read"
	CapFiltersRead      = "filters.read"
	CapFiltersWrite     = "filters.write"
	CapTicketsRead      = "tickets.read"
	CapTicketsWrite     = "tickets.write"
	CapAssetsRead       = "assets.read"
	CapEndpointsRead    = "endpoints.read"
	CapEndpointsRespond = "endpoints.respond"
	CapReportsRead      = "reports.read"
	CapReportsWrite     = "reports.write"
	CapKV               = "kv"
	CapNotifySend       = "notify.send"
	CapHTTP             = "http"
	CapPluginsInvoke    = "plugins.invoke"
)

// Capabilities lists every capability in a stable order.
var Capabilities = []string{
	CapLogsRead, CapFiltersRead, CapFiltersWrite, CapTicketsRead, CapTicketsWrite,
	CapAssetsRead, CapEndpointsRead, CapEndpointsRespond, CapReportsRead, CapReportsWrite, CapKV,
	CapNotifySend, CapHTTP, CapPluginsInvoke,
}

// ValidCapability reports whether c is a known capability.
func ValidCapability(c string) bool { return slices.Contains(Capabilities, c) }

// Allows reports whether the grant includes capability c.
func (g Grant) Allows(c string) bool { return slices.Contains(g.Capabilities, c) }

// AllowsTenant reports whether the grant covers tenant t.
func (g Grant) AllowsTenant(t string) bool {
	return t != "" && (slices.Contains(g.Tenants, "*") || slices.Contains(g.Tenants, t))
}

// Validate returns EINVALID for an unknown capability or an empty tenant name.
func (g Grant) Validate() error {
	for _, c := range g.Capabilities {
		if !ValidCapability(c) {
			return Errorf(EINVALID, "unknown capability %q (known: %v)", c, Capabilities)
		}
	}
	for _, t := range g.Tenants {
		if t == "" {
			return Errorf(EINVALID, "empty tenant name in grant")
		}
	}
	for _, h := range g.AllowedHosts {
		if !allowedHostRE.MatchString(h) {
			return Errorf(EINVALID, "allowed host %q: use a host name such as api.example.com, or *.example.com for its subdomains", h)
		}
	}
	return nil
}

var allowedHostRE = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// HostModule is the import module under which lhk's host functions live.
const HostModule = "lhk"

// HostFunction is one system operation a plugin can import from module "lhk".
// Its request and response are JSON; the runtime wraps the response in the
// envelope {"data": …} or {"error": {"code", "message"}}.
type HostFunction struct {
	// Name is the import name, e.g. "logs_search".
	Name string
	// Capability is the grant entry needed to call it. The runtime refuses calls
	// without it before Handle runs.
	Capability string
	// Doc is one paragraph for docs/hostfuncs.md.
	Doc string
	// Handle serves one call. req is the guest's raw JSON request. Errors that are
	// *Error reach the guest with their code; others become EINTERNAL.
	Handle func(ctx context.Context, call *HostCall, req []byte) (any, error)
}

// HostCall tells a host function who is calling.
type HostCall struct {
	Plugin       string
	Version      int
	InvocationID string
	Caller       string
	Grant        Grant
}

// Package hostfuncs is the lhk library as operations: every system operation a
// plugin can import from module "lhk" (logs_search, tickets_create…), with its
// capability, its JSON request and response, and the tenant checks that keep one
// customer's data from another. The same operations serve the HTTP API's
// /v1/<system>/<op> routes, so a plugin, a script and the CLI see one library.
//
// A call outside the grant never reaches a backend: the runtime checks the
// capability before Handle runs, and every handler checks the tenant it is asked
// for against the grant before it calls the system.
package hostfuncs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lhk-soc/lhk"
)

// Systems are the backends the operations call. A nil system's operations stay
// in the catalog (modules importing them are valid) and answer unavailable.
type Systems struct {
	Logs      lhk.LogService
	Filters   lhk.FilterService
	Tickets   lhk.TicketService
	Assets    lhk.AssetService
	Endpoints lhk.EndpointService
	Reports   lhk.ReportService
	KV        lhk.KVService
	Notify    lhk.NotifyService
	// Plugins starts other plugins (plugins_start). It may be set after the
	// catalog is built, since the invoke service needs the runtime first.
	Plugins *PluginStarter
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Op is one library operation.
type Op struct {
	// System and Name make the HTTP route /v1/<System>/<Name>; the import name
	// is System_Name (see Import).
	System string
	Name   string
	// Capability is what the grant must include; "" means any plugin may call it.
	Capability string
	// Tenanted says the request names a tenant that the grant must cover.
	Tenanted bool
	// Doc says what the operation does, for docs/hostfuncs.md.
	Doc string
	// Request and Response are zero values of the JSON shapes, for the docs.
	Request, Response any
	// Errors lists the error codes the operation returns besides forbidden,
	// invalid and internal.
	Errors []string

	handle func(ctx context.Context, call *lhk.HostCall, req []byte) (any, error)
}

// Import is the name a module imports the operation under in module "lhk".
func (o Op) Import() string { return o.System + "_" + o.Name }

// Function returns the operation as a host function for the runtime.
func (o Op) Function() lhk.HostFunction {
	return lhk.HostFunction{Name: o.Import(), Capability: o.Capability, Doc: o.Doc, Handle: o.handle}
}

// Functions returns every operation as a host function.
func Functions(ops []Op) []lhk.HostFunction {
	fs := make([]lhk.HostFunction, len(ops))
	for i, o := range ops {
		fs[i] = o.Function()
	}
	return fs
}

// decode reads a JSON request strictly: unknown fields are an error so a typo
// never silently widens a query.
func decode(req []byte, v any) error {
	if len(bytes.TrimSpace(req)) == 0 {
		req = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(req))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return lhk.Errorf(lhk.EINVALID, "invalid request: %s", jsonProblem(err))
	}
	if dec.More() {
		return lhk.Errorf(lhk.EINVALID, "invalid request: more than one JSON value")
	}
	return nil
}

// jsonProblem shortens a decoding error to what the caller can fix.
func jsonProblem(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// checkTenant refuses an empty tenant or one outside the grant.
func checkTenant(call *lhk.HostCall, tenant string) error {
	if tenant == "" {
		return lhk.Errorf(lhk.EINVALID, "tenant is required")
	}
	if tenant == "*" {
		return lhk.Errorf(lhk.EINVALID, "tenant \"*\" is not a tenant: name one (grant_get lists the granted tenants)")
	}
	if !call.Grant.AllowsTenant(tenant) {
		return lhk.Errorf(lhk.EFORBIDDEN, "tenant %q is not in the grant (granted tenants: %s)", tenant, grantedTenants(call.Grant))
	}
	return nil
}

func grantedTenants(g lhk.Grant) string {
	if len(g.Tenants) == 0 {
		return "none"
	}
	return strings.Join(g.Tenants, ", ")
}

func unavailable(system string) error {
	return lhk.Errorf(lhk.EUNAVAILABLE, "the %s system is not configured on this lhkd", system)
}

// op builds an Op whose handler decodes Req, checks the tenant the request
// names (when tenanted) and runs fn.
func op[Req any](o Op, tenantOf func(*Req) string, fn func(ctx context.Context, call *lhk.HostCall, req *Req) (any, error)) Op {
	var zero Req
	o.Request = zero
	o.Tenanted = tenantOf != nil
	o.handle = func(ctx context.Context, call *lhk.HostCall, raw []byte) (any, error) {
		req := new(Req)
		if err := decode(raw, req); err != nil {
			return nil, err
		}
		if tenantOf != nil {
			if err := checkTenant(call, tenantOf(req)); err != nil {
				return nil, err
			}
		}
		return fn(ctx, call, req)
	}
	return o
}

// empty is the response of operations that answer nothing but success.
type empty struct{}

// Catalog returns every operation, in a stable order, served by s.
func Catalog(s Systems) []Op {
	if s.Now == nil {
		s.Now = time.Now
	}
	var ops []Op
	ops = append(ops, logOps(s)...)
	ops = append(ops, filterOps(s)...)
	ops = append(ops, ticketOps(s)...)
	ops = append(ops, assetOps(s)...)
	ops = append(ops, endpointOps(s)...)
	ops = append(ops, reportOps(s)...)
	ops = append(ops, kvOps(s)...)
	ops = append(ops, notifyOps(s)...)
	ops = append(ops, pluginOps(s)...)
	ops = append(ops, grantOps()...)
	seen := map[string]bool{}
	for _, o := range ops {
		if seen[o.Import()] {
			panic(fmt.Sprintf("hostfuncs: duplicate operation %s", o.Import()))
		}
		seen[o.Import()] = true
		if o.Capability != "" && !slices.Contains(lhk.Capabilities, o.Capability) {
			panic(fmt.Sprintf("hostfuncs: %s needs unknown capability %s", o.Import(), o.Capability))
		}
	}
	return ops
}

// GrantResponse is the answer of grant_get.
type GrantResponse struct {
	Capabilities []string `json:"capabilities"`
	Tenants      []string `json:"tenants"`
	AllowedHosts []string `json:"allowed_hosts"`
}

func grantOps() []Op {
	return []Op{
		op(Op{System: "grant", Name: "get", Response: GrantResponse{},
			Doc: "Returns the calling plugin's grant: its capabilities, tenants and outbound hosts. Plugins that work on \"all tenants\" iterate over these. Over HTTP it answers the caller's ceiling."},
			nil, func(_ context.Context, call *lhk.HostCall, _ *empty) (any, error) {
				nz := func(s []string) []string {
					if s == nil {
						return []string{}
					}
					return s
				}
				return GrantResponse{Capabilities: nz(call.Grant.Capabilities), Tenants: nz(call.Grant.Tenants), AllowedHosts: nz(call.Grant.AllowedHosts)}, nil
			}),
	}
}

// PluginStarter lets plugins start other plugins. Set Invoker once the invoke
// service exists; until then plugins_start answers unavailable.
type PluginStarter struct {
	Invoker lhk.InvokeService
}

// StartRequest starts another plugin in the background.
type StartRequest struct {
	Plugin   string `json:"plugin"`
	Function string `json:"function"`
	Input    string `json:"input"`
}

// StartResponse names the started invocation.
type StartResponse struct {
	Invocation string `json:"invocation"`
}

func pluginOps(s Systems) []Op {
	return []Op{
		op(Op{System: "plugins", Name: "start", Capability: lhk.CapPluginsInvoke, Response: StartResponse{}, Errors: []string{lhk.ENOTFOUND, lhk.EUNAVAILABLE},
			Doc: "Starts another plugin in the background with `input`, on behalf of the same caller (trigger `plugin`), and answers its invocation id at once: alert-intake starts endpoint-triage this way. The started plugin runs with its own grant. A plugin cannot start itself."},
			nil, func(ctx context.Context, call *lhk.HostCall, r *StartRequest) (any, error) {
				if s.Plugins == nil || s.Plugins.Invoker == nil {
					return nil, unavailable("plugins")
				}
				if r.Plugin == "" {
					return nil, lhk.Errorf(lhk.EINVALID, "plugin is required")
				}
				if r.Plugin == call.Plugin {
					return nil, lhk.Errorf(lhk.EINVALID, "a plugin cannot start itself")
				}
				inv, err := s.Plugins.Invoker.Start(ctx, lhk.InvokeRequest{
					Plugin: r.Plugin, Function: r.Function, Input: []byte(r.Input),
					Trigger: lhk.TriggerPlugin, Caller: call.Caller,
				})
				if err != nil {
					return nil, err
				}
				return StartResponse{Invocation: inv.ID}, nil
			}),
	}
}

// Package pdk is the lhk plugin development kit for Go: everything a plugin
// needs to read its input, write its output, log, read its configuration,
// report errors, call the SOC's systems (logs, filters, tickets, assets,
// endpoints, reports, kv, notify) and reach allowed hosts over HTTP. This
// documentation is the plugin author's reference: `go doc pdk.Logs`,
// `go doc pdk.TicketSystem.Create`…
//
// # Building
//
// A plugin is a Go main package built with the standard toolchain (Go 1.24
// or later, no TinyGo):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// Upload it with POST /v1/plugins/{name}/versions. The daemon reads the
// module's imports and reports the capabilities it needs: a plugin imports
// only the host functions it calls, so one that uses [KV] alone needs only
// "kv".
//
// # Exported functions
//
// Each function the daemon may call is exported with //go:wasmexport, takes
// no arguments and returns an int32 status (0 for success). The default
// function is "run"; others are called by name
// (POST /v1/plugins/{name}/invoke/{function}). [Run] turns a Go error into
// that status and the error message the caller sees:
//
//	package main
//
//	import "github.com/lhk-soc/lhk/pdk"
//
//	//go:wasmexport run
//	func run() int32 {
//		return pdk.Run(func() error {
//			var in struct{ Name string `json:"name"` }
//			if err := pdk.InputJSON(&in); err != nil {
//				return err
//			}
//			pdk.Logf(pdk.LevelInfo, "greeting %s", in.Name)
//			return pdk.OutputJSON(map[string]string{"greeting": "hello " + in.Name})
//		})
//	}
//
//	func main() {}
//
// main stays empty: the daemon calls the exported functions, never main.
//
// # Input, output, logs, configuration
//
//   - Input and output are bytes ([Input], [Output]) or JSON ([InputJSON],
//     [OutputJSON]). The input is the HTTP body of the invocation, the
//     webhook's body or the schedule's input. The daemon caps both
//     (max_input_bytes, max_output_bytes). By convention a plugin's output is
//     JSON with a Markdown "summary".
//   - [Log] and [Logf] write to the invocation's log, shown in the invocation
//     history next to anything written to os.Stdout ("stdout") and os.Stderr
//     ("stderr"). The number of lines per invocation is capped
//     (max_log_lines).
//   - [Config] reads the plugin's configuration, set by its owner with
//     PATCH /v1/plugins/{name} {"config": {...}}: thresholds, channel names,
//     API keys for outside services.
//   - [Var], [SetVar] and [DeleteVar] keep small values in the running
//     instance of the plugin. The daemon reuses instances, so a var may
//     survive from one invocation to the next, but it is lost whenever the
//     instance is replaced (an error, an idle period, a restart, another
//     replica). Never rely on it for state; use [KV] for that.
//
// # Errors
//
// Return an error from the function given to [Run] to fail the invocation
// (HTTP 422 to the caller, status "error" in the history) with its message.
// A panic ends the invocation too, with the panic's first line, and the
// next call starts a fresh instance.
//
// Calls to the systems fail with an [*Error] holding a code and a message
// safe to log: [CodeForbidden] (the grant lacks the capability or the
// tenant), [CodeInvalid] (a rule or limit broken: no time range, limit over
// [MaxLogLimit], unknown operator…), [CodeNotFound], [CodeConflict],
// [CodeTooLarge], [CodeUnavailable] (the system behind is down; a later run
// may succeed), [CodeTimeout] (a log query ran past the daemon's query
// budget: narrow the time range or add conditions) and [CodeInternal]. Test
// them with [IsForbidden], [IsInvalid], [IsNotFound], [IsConflict],
// [IsTooLarge], [IsUnavailable], [IsTimeout], [IsInternal] or [ErrorCode];
// they survive wrapping with fmt.Errorf and %w.
// A refused call is an ordinary error: the plugin may handle it and go on.
//
// # Calling the systems
//
// Each system is a package-level value whose methods call one host function
// of the import module "lhk" each, with typed requests and results; the
// plugin never touches memory offsets or reply envelopes:
//
//	system       methods                                  capabilities
//	Logs         Search, SearchFields, Top, Count,        logs.read
//	             SearchAll, SearchFieldsAll
//	Filters      List, Stats / Upsert, Delete             filters.read / filters.write
//	Tickets      Get, Search / Create, Update, Comment    tickets.read / tickets.write
//	Assets       Lookup                                   assets.read
//	Endpoints    Collect / Isolate                        endpoints.read / endpoints.respond
//	Reports      List, Get / Publish                      reports.read / reports.write
//	KV           Get, Set, Delete, List                   kv
//	Notify       Send                                     notify.send
//	HTTP         Get, Post, Do                            http (allowed hosts only)
//	Plugins      Start                                    plugins.invoke
//	CurrentGrant                                          none
//
// See [Logs], [Filters], [Tickets], [Assets], [Endpoints], [Reports], [KV],
// [Notify], [HTTP], [Plugins] and [CurrentGrant] for each method's request,
// limits and errors, and their runnable examples. Requests are plain
// structs and values: a ticket update is built with [TicketUpdate]'s Set
// methods, and no call needs a pointer or a JSON envelope.
//
// A plugin's grant (set by its owner or an admin with
// PUT /v1/plugins/{name}/grant) lists its capabilities, its tenants ("*" for
// all) and its allowed hosts. Every call except those of [KV] (the plugin's
// own namespace) names a tenant, and the daemon checks both the capability
// and the tenant before any backend is reached: another tenant's data is
// [CodeForbidden], and another tenant's ticket id is [CodeNotFound]. Read
// the grant with [CurrentGrant] to work on every granted tenant.
//
// Log searches need a time range (From and To; at most [MaxLogRange]),
// return at most Limit events (default [DefaultLogLimit], at most
// [MaxLogLimit]) and never truncate silently: a result with Truncated set
// has a NextCursor for the next page, and [LogSystem.SearchAll] reads every
// page. Field conditions are built with [Eq], [Contains], [Prefix], [CIDR],
// [GT], [LT] and [Exists]:
//
//	res, err := pdk.Logs.SearchFields(pdk.FieldSearchRequest{
//		Tenant: "acme",
//		Fields: []pdk.Condition{pdk.Eq("host.name", "WS01"), pdk.CIDR("source.ip", "10.0.0.0/8")},
//		From:   time.Now().Add(-24 * time.Hour),
//		To:     time.Now(),
//	})
//
// [Call] remains for a host function newer than this package.
//
// # Outbound HTTP
//
// [HTTP] sends requests through the daemon (Extism's http_request); a
// plugin has no other network access. Only the grant's allowed hosts are
// reachable: the client checks the host against the grant first and returns
// [CodeForbidden] for another. An HTTP error status is not an error;
// network failures end the invocation, a limitation of Extism:
//
//	status, body, err := pdk.HTTP.Get("https://api.example.com/v1/ip/" + ip)
//
// # Testing on the developer's machine
//
// Outside WebAssembly (go test, go vet) the package compiles with
// fallbacks: input is empty, output and logs are discarded, and every call
// to a system fails with [ErrNotWasm]. Keep a plugin's logic in plain
// functions, taking and returning the types of this package, so it can be
// unit-tested on the host, and put the //go:wasmexport functions in a file
// with the build constraint //go:build wasip1.
package pdk

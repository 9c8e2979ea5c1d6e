package hostfuncs

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Markdown renders the reference of every operation: docs/hostfuncs.md is
// this output, and a test fails when the file drifts from the catalog.
func Markdown(ops []Op) string {
	var b strings.Builder
	b.WriteString(`# Host functions

<!-- Generated from the catalog in hostfuncs/ by TestDocs; edit the catalog, then
run: LHK_UPDATE_DOCS=1 go test ./hostfuncs/ -run TestDocs -->

Every operation of the lhk library, as a plugin imports it from module ` + "`lhk`" + ` and as
the HTTP API serves it at ` + "`POST /v1/<system>/<operation>`" + ` with the same JSON.

**ABI.** Each import takes one i64, the Extism memory offset of a JSON request, and
returns one i64, the offset of a JSON envelope: ` + "`{\"data\": …}`" + ` on success or
` + "`{\"error\": {\"code\": \"…\", \"message\": \"…\"}}`" + `. Go plugins use the typed API of
` + "`pdk/`" + ` and never see offsets or envelopes.

**Checks.** The runtime refuses a call whose capability is not in the plugin's grant
before anything runs (` + "`forbidden`" + `, naming the capability). A tenant-scoped
operation refuses a tenant outside the grant (` + "`forbidden`" + `, naming the tenant)
before it reaches a backend. Requests are decoded strictly: an unknown field is
` + "`invalid`" + `. Every operation may also answer ` + "`internal`" + ` (a bug; details in lhkd's log).
Operations that query the logs (logs_*, filters_stats, endpoints_collect) answer
` + "`timeout`" + ` when a query runs past the query budget (5 s by default): narrow
the time range or add conditions; over HTTP it is a 504.
Over HTTP the caller's ceiling plays the part of the grant (a viewer's is limited to
the read capabilities).

| import | HTTP | capability | tenant-scoped |
| --- | --- | --- | --- |
`)
	for _, o := range ops {
		fmt.Fprintf(&b, "| [`lhk.%s`](#lhk%s) | `POST /v1/%s/%s` | %s | %s |\n", o.Import(), strings.ReplaceAll(o.Import(), "_", ""), o.System, o.Name, capOrNone(o.Capability), yesNo(o.Tenanted))
	}
	system := ""
	for _, o := range ops {
		if o.System != system {
			system = o.System
			fmt.Fprintf(&b, "\n## %s\n", system)
		}
		fmt.Fprintf(&b, "\n### lhk.%s\n\n%s\n\n", o.Import(), o.Doc)
		fmt.Fprintf(&b, "- capability: %s\n", capOrNone(o.Capability))
		if o.Tenanted {
			b.WriteString("- tenant: required, and must be in the grant\n")
		}
		errs := append([]string{"forbidden", "invalid"}, o.Errors...)
		fmt.Fprintf(&b, "- errors: %s\n", "`"+strings.Join(errs, "`, `")+"`")
		fmt.Fprintf(&b, "\nRequest:\n\n%s\nResponse `data`:\n\n%s", fields(reflect.TypeOf(o.Request)), fields(reflect.TypeOf(o.Response)))
	}
	return b.String()
}

func capOrNone(c string) string {
	if c == "" {
		return "none"
	}
	return "`" + c + "`"
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// fields renders a struct's JSON fields as a table.
func fields(t reflect.Type) string {
	if t == nil {
		return "(nothing)\n\n"
	}
	var rows []string
	collect(t, &rows, 0)
	if len(rows) == 0 {
		return "`{}`\n\n"
	}
	return "| field | type |\n| --- | --- |\n" + strings.Join(rows, "") + "\n"
}

func collect(t reflect.Type, rows *[]string, depth int) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			collect(f.Type, rows, depth)
			continue
		}
		if name == "" {
			name = f.Name
		}
		*rows = append(*rows, fmt.Sprintf("| `%s` | %s |\n", name, typeName(f.Type, depth)))
	}
}

var timeType = reflect.TypeOf(time.Time{})

// typeName describes a Go type in JSON terms; nested objects list their
// fields one level deep.
func typeName(t reflect.Type, depth int) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "time (RFC 3339)"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "list of " + typeName(t.Elem(), depth)
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return "object (an event: field → value)"
		}
		return "object of " + typeName(t.Elem(), depth)
	case reflect.Interface:
		return "string or number"
	case reflect.Struct:
		if depth > 0 {
			return "object (" + t.Name() + ")"
		}
		var rows []string
		collect(t, &rows, depth+1)
		names := make([]string, 0, len(rows))
		for _, r := range rows {
			n := strings.SplitN(r, "`", 3)
			if len(n) > 1 {
				names = append(names, n[1])
			}
		}
		return "object {" + strings.Join(names, ", ") + "}"
	}
	return t.String()
}

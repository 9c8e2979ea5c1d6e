package pdkparity

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/hostfuncs"
	"github.com/lhk-soc/lhk/pdk"
)

// jsonShape lists a struct's JSON fields with a coarse kind each, following
// embedded structs and pointers.
func jsonShape(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			out = append(out, jsonShape(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name+":"+kind(f.Type))
	}
	slices.Sort(out)
	return out
}

// kind names a type the way JSON sees it.
func kind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "list of " + kind(t.Elem())
	case reflect.Map:
		return "object"
	case reflect.Struct:
		if t.String() == "time.Time" {
			return "time"
		}
		return "object"
	}
	return t.Kind().String()
}

// TestPDKMirrorsDaemon compares every mirrored type's JSON fields.
func TestPDKMirrorsDaemon(t *testing.T) {
	pairs := []struct {
		name     string
		pdk, lhk any
	}{
		{"SearchRequest", pdk.SearchRequest{}, lhk.SearchRequest{}},
		{"FieldSearchRequest", pdk.FieldSearchRequest{}, lhk.FieldSearchRequest{}},
		{"SearchResult", pdk.SearchResult{}, lhk.SearchResult{}},
		{"Condition", pdk.Condition{}, lhk.Condition{}},
		{"TopRequest", pdk.TopRequest{}, lhk.TopRequest{}},
		{"TopResult", pdk.TopResult{}, lhk.TopResult{}},
		{"Bucket", pdk.Bucket{}, lhk.Bucket{}},
		{"CountRequest", pdk.CountRequest{}, lhk.CountRequest{}},
		{"CountResult", pdk.CountResult{}, lhk.CountResult{}},
		{"Filter", pdk.Filter{}, lhk.Filter{}},
		{"FilterStat", pdk.FilterStat{}, hostfuncs.FilterStat{}},
		{"Ticket", pdk.Ticket{}, lhk.Ticket{}},
		{"Observable", pdk.Observable{}, lhk.Observable{}},
		{"Comment", pdk.Comment{}, lhk.Comment{}},
		{"TicketUpdate", pdk.TicketUpdate{}, lhk.TicketUpdate{}},
		{"TicketQuery", pdk.TicketQuery{}, lhk.TicketQuery{}},
		{"TicketList", pdk.TicketList{}, lhk.TicketList{}},
		{"Asset", pdk.Asset{}, lhk.Asset{}},
		{"CollectRequest", pdk.CollectRequest{}, lhk.CollectRequest{}},
		{"Collection", pdk.Collection{}, lhk.Collection{}},
		{"ProcessNode", pdk.ProcessNode{}, lhk.ProcessNode{}},
		{"ResponseAction", pdk.ResponseAction{}, lhk.ResponseAction{}},
		{"Report", pdk.Report{}, lhk.Report{}},
		{"ReportList", pdk.ReportList{}, hostfuncs.ReportsListResponse{}},
		{"KVEntry", pdk.KVEntry{}, lhk.KVEntry{}},
		{"Notification", pdk.Notification{}, lhk.Notification{}},
		{"Grant", pdk.Grant{}, hostfuncs.GrantResponse{}},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			got, want := jsonShape(reflect.TypeOf(p.pdk)), jsonShape(reflect.TypeOf(p.lhk))
			if !slices.Equal(got, want) {
				t.Errorf("pdk.%s JSON fields\n  %v\ndiffer from the daemon's\n  %v", p.name, got, want)
			}
		})
	}
	// The capabilities the PDK names are the daemon's.
	for _, c := range []string{pdk.CapLogsRead, pdk.CapFiltersRead, pdk.CapFiltersWrite, pdk.CapTicketsRead, pdk.CapTicketsWrite,
		pdk.CapAssetsRead, pdk.CapEndpointsRead, pdk.CapEndpointsRespond, pdk.CapReportsRead, pdk.CapReportsWrite, pdk.CapKV, pdk.CapNotifySend,
		pdk.CapHTTP, pdk.CapPluginsInvoke} {
		if !lhk.ValidCapability(c) {
			t.Errorf("pdk names capability %q, unknown to the daemon", c)
		}
	}
}

// TestPDKCoversCatalog: the PDK imports every operation of the catalog and
// names every error code an operation may answer.
func TestPDKCoversCatalog(t *testing.T) {
	src, err := os.ReadFile("../../pdk/imports_wasm.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{pdk.CodeInvalid, pdk.CodeNotFound, pdk.CodeConflict, pdk.CodeForbidden,
		pdk.CodeTooLarge, pdk.CodeUnavailable, pdk.CodeTimeout, pdk.CodeInternal}
	for _, o := range hostfuncs.Catalog(hostfuncs.Systems{}) {
		if !strings.Contains(string(src), "//go:wasmimport lhk "+o.Import()+"\n") {
			t.Errorf("pdk does not import lhk.%s", o.Import())
		}
		for _, e := range o.Errors {
			if !slices.Contains(codes, e) {
				t.Errorf("lhk.%s may answer %s, which the pdk has no Code constant for", o.Import(), e)
			}
		}
	}
}

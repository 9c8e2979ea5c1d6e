//go:build !wasip1

package pdk

// Stand-ins for the host functions of import module "lhk", so that the typed
// systems compile outside WebAssembly. invoke never calls them there; a test
// standing in for the daemon calls one to learn which import it is.

// stubCalled is the import name of the stand-in called last.
var stubCalled string

// stub returns the stand-in for the import name.
func stub(name string) HostFunc {
	return func(uint64) uint64 { stubCalled = name; return 0 }
}

var (
	hostLogsSearch       = stub("logs_search")
	hostLogsSearchFields = stub("logs_search_fields")
	hostLogsTop          = stub("logs_top")
	hostLogsCount        = stub("logs_count")
	hostFiltersList      = stub("filters_list")
	hostFiltersStats     = stub("filters_stats")
	hostFiltersUpsert    = stub("filters_upsert")
	hostFiltersDelete    = stub("filters_delete")
	hostTicketsCreate    = stub("tickets_create")
	hostTicketsGet       = stub("tickets_get")
	hostTicketsUpdate    = stub("tickets_update")
	hostTicketsComment   = stub("tickets_comment")
	hostTicketsSearch    = stub("tickets_search")
	hostAssetsLookup     = stub("assets_lookup")
	hostEndpointsCollect = stub("endpoints_collect")
	hostEndpointsIsolate = stub("endpoints_isolate")
	hostReportsPublish   = stub("reports_publish")
	hostReportsList      = stub("reports_list")
	hostReportsGet       = stub("reports_get")
	hostKVGet            = stub("kv_get")
	hostKVSet            = stub("kv_set")
	hostKVDelete         = stub("kv_delete")
	hostKVList           = stub("kv_list")
	hostNotifySend       = stub("notify_send")
	hostGrantGet         = stub("grant_get")
	hostPluginsStart     = stub("plugins_start")
)

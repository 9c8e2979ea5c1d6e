//go:build wasip1

package pdk

// The host functions of import module "lhk". Each is referenced by one typed
// method only, so the linker keeps (and the daemon sees) just the imports a
// plugin uses: its required capabilities.

//go:wasmimport lhk logs_search
func hostLogsSearch(uint64) uint64

//go:wasmimport lhk logs_search_fields
func hostLogsSearchFields(uint64) uint64

//go:wasmimport lhk logs_top
func hostLogsTop(uint64) uint64

//go:wasmimport lhk logs_count
func hostLogsCount(uint64) uint64

//go:wasmimport lhk filters_list
func hostFiltersList(uint64) uint64

//go:wasmimport lhk filters_stats
func hostFiltersStats(uint64) uint64

//go:wasmimport lhk filters_upsert
func hostFiltersUpsert(uint64) uint64

//go:wasmimport lhk filters_delete
func hostFiltersDelete(uint64) uint64

//go:wasmimport lhk tickets_create
func hostTicketsCreate(uint64) uint64

//go:wasmimport lhk tickets_get
func hostTicketsGet(uint64) uint64

//go:wasmimport lhk tickets_update
func hostTicketsUpdate(uint64) uint64

//go:wasmimport lhk tickets_comment
func hostTicketsComment(uint64) uint64

//go:wasmimport lhk tickets_search
func hostTicketsSearch(uint64) uint64

//go:wasmimport lhk assets_lookup
func hostAssetsLookup(uint64) uint64

//go:wasmimport lhk endpoints_collect
func hostEndpointsCollect(uint64) uint64

//go:wasmimport lhk endpoints_isolate
func hostEndpointsIsolate(uint64) uint64

//go:wasmimport lhk reports_publish
func hostReportsPublish(uint64) uint64

//go:wasmimport lhk reports_list
func hostReportsList(uint64) uint64

//go:wasmimport lhk reports_get
func hostReportsGet(uint64) uint64

//go:wasmimport lhk kv_get
func hostKVGet(uint64) uint64

//go:wasmimport lhk kv_set
func hostKVSet(uint64) uint64

//go:wasmimport lhk kv_delete
func hostKVDelete(uint64) uint64

//go:wasmimport lhk kv_list
func hostKVList(uint64) uint64

//go:wasmimport lhk notify_send
func hostNotifySend(uint64) uint64

//go:wasmimport lhk grant_get
func hostGrantGet(uint64) uint64

//go:wasmimport lhk plugins_start
func hostPluginsStart(uint64) uint64

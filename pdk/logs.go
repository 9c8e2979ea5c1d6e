package pdk

import "time"

// Event is one log event: a flat JSON object whose keys are dotted Elastic
// Common Schema names where one exists ("@timestamp", "host.name",
// "process.command_line"…) beside the fields it was ingested with. Every
// stored event also has "tenant" and "_id", the store's opaque id used to link
// the event to a ticket ([TicketUpdate.AddEvents]).
type Event map[string]any

// String returns the event's field as a string: the value itself when it is
// a string, "" when the field is missing or not a string.
func (e Event) String(field string) string {
	s, _ := e[field].(string)
	return s
}

// ID returns the event's "_id", the value to link it to a ticket.
func (e Event) ID() string { return e.String("_id") }

// Time returns the event's "@timestamp", or the zero time when it is missing
// or not RFC 3339.
func (e Event) Time() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.String("@timestamp"))
	return t
}

// Limits of the log operations, enforced by the daemon: a request beyond them
// fails with [CodeInvalid]; it is never silently cut down.
const (
	DefaultLogLimit = 100                  // events returned when a request names no limit
	MaxLogLimit     = 1000                 // the hard cap of a request's limit
	MaxQueryBytes   = 4096                 // bytes of a free-text query, and of each condition value
	MaxConditions   = 32                   // conditions in one request
	MaxLogRange     = 400 * 24 * time.Hour // the longest time range one request may cover
	MaxTopBuckets   = 100                  // the hard cap of a top request's limit
)

// Field-search operators, the Op of a [Condition]. The helpers [Eq],
// [Contains], [Prefix], [CIDR], [GT], [LT] and [Exists] build conditions with
// them.
const (
	OpEq       = "eq"       // equal: strings exactly, numbers numerically
	OpContains = "contains" // substring, case-insensitive
	OpPrefix   = "prefix"   // string prefix, case-sensitive
	OpCIDR     = "cidr"     // an IP inside a CIDR block such as 10.0.0.0/8
	OpGT       = "gt"       // greater than: numbers numerically, times and strings lexically
	OpLT       = "lt"       // less than: numbers numerically, times and strings lexically
	OpExists   = "exists"   // the field is present (no value)
)

// Condition is one term of a field search, a count or a filter; the
// conditions of one request are AND-ed. Value is a string or a number and is
// left out for [OpExists].
type Condition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value any    `json:"value,omitempty"`
}

// Eq matches events whose field equals value: strings exactly, numbers
// numerically. Pass a string or a number.
//
//	pdk.Eq("host.name", "WS01")
//	pdk.Eq("event.code", 4625)
func Eq(field string, value any) Condition { return Condition{Field: field, Op: OpEq, Value: value} }

// Contains matches events whose field contains substr, ignoring case.
func Contains(field, substr string) Condition {
	return Condition{Field: field, Op: OpContains, Value: substr}
}

// Prefix matches events whose field starts with prefix, case-sensitively.
func Prefix(field, prefix string) Condition {
	return Condition{Field: field, Op: OpPrefix, Value: prefix}
}

// CIDR matches events whose field is an IP address inside block, an IPv4 or
// IPv6 CIDR block such as "10.0.0.0/8". A malformed block fails the request
// with [CodeInvalid].
func CIDR(field, block string) Condition { return Condition{Field: field, Op: OpCIDR, Value: block} }

// GT matches events whose field is greater than value: numbers numerically,
// times (RFC 3339 strings) and other strings lexically. Pass a string or a
// number; a [time.Time] is sent as RFC 3339 in UTC.
func GT(field string, value any) Condition {
	return Condition{Field: field, Op: OpGT, Value: conditionValue(value)}
}

// LT matches events whose field is less than value, compared like [GT].
func LT(field string, value any) Condition {
	return Condition{Field: field, Op: OpLT, Value: conditionValue(value)}
}

// Exists matches events that have the field, whatever its value.
func Exists(field string) Condition { return Condition{Field: field, Op: OpExists} }

// conditionValue turns a time into the RFC 3339 string events store.
func conditionValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// SearchRequest is a free-text search over whole events: an event matches
// when its text contains every word of Query, ignoring case.
//
// Tenant and the time range [From, To) are required; the range may cover at
// most [MaxLogRange]. Limit defaults to [DefaultLogLimit] and may be at most
// [MaxLogLimit]. Cursor is a previous result's NextCursor, "" for the first
// page. ApplyFilters drops the events matched by the tenant's active analysis
// filters (the filters system), as an analyst's console does.
type SearchRequest struct {
	Tenant       string    `json:"tenant"`
	Query        string    `json:"query"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Limit        int       `json:"limit"`
	Cursor       string    `json:"cursor"`
	ApplyFilters bool      `json:"apply_filters"`
}

// FieldSearchRequest is a search on field conditions, AND-ed; build them with
// [Eq], [Contains], [Prefix], [CIDR], [GT], [LT] and [Exists]. At most
// [MaxConditions] conditions. Tenant, the time range, Limit, Cursor and
// ApplyFilters work as in [SearchRequest].
type FieldSearchRequest struct {
	Tenant       string      `json:"tenant"`
	Fields       []Condition `json:"fields"`
	From         time.Time   `json:"from"`
	To           time.Time   `json:"to"`
	Limit        int         `json:"limit"`
	Cursor       string      `json:"cursor"`
	ApplyFilters bool        `json:"apply_filters"`
}

// SearchResult holds at most the request's limit of events, newest first,
// each with all its original fields. Truncated says that more events match;
// pass NextCursor as the next request's Cursor to fetch them. A search never
// drops events silently.
type SearchResult struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor"`
	Truncated  bool    `json:"truncated"`
}

// TopRequest counts events by the values of one field, most frequent first,
// e.g. the users with the most failed logons for a weekly report. Fields and
// Query, when set, narrow the events counted. Limit is the number of buckets
// (at most [MaxTopBuckets]). Tenant and the time range are required.
type TopRequest struct {
	Tenant       string      `json:"tenant"`
	Field        string      `json:"field"`
	Fields       []Condition `json:"fields"`
	Query        string      `json:"query"`
	From         time.Time   `json:"from"`
	To           time.Time   `json:"to"`
	Limit        int         `json:"limit"`
	ApplyFilters bool        `json:"apply_filters"`
}

// TopResult lists the most frequent values of Field, most frequent first.
// Total counts every matching event that has the field; Other counts those
// whose value is outside Buckets.
type TopResult struct {
	Field   string   `json:"field"`
	Buckets []Bucket `json:"buckets"`
	Total   int64    `json:"total"`
	Other   int64    `json:"other"`
}

// Bucket is one value of a field and how many events have it.
type Bucket struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// CountRequest counts the events matching every condition in a time range.
// Tenant and the time range are required.
type CountRequest struct {
	Tenant string      `json:"tenant"`
	Fields []Condition `json:"fields"`
	From   time.Time   `json:"from"`
	To     time.Time   `json:"to"`
}

// CountResult answers a count. Last is the newest matching event's time, nil
// when nothing matched.
type CountResult struct {
	Count int64      `json:"count"`
	Last  *time.Time `json:"last,omitempty"`
}

// LogSystem is the type of [Logs]; see there.
type LogSystem struct{}

// Logs searches and counts a tenant's log events. Every method needs the
// capability "logs.read" and a tenant of the plugin's grant; otherwise it
// fails with [CodeForbidden] and reaches no backend. Requests without a time
// range, with an unknown operator or beyond the limits ([MaxLogLimit],
// [MaxConditions], [MaxQueryBytes], [MaxLogRange]) fail with [CodeInvalid]; a
// log store that is down fails with [CodeUnavailable]; a query that runs past
// the daemon's query budget (5 s by default) fails with [CodeTimeout], so
// narrow the time range or add conditions ([IsTimeout]).
var Logs LogSystem

// Search runs a free-text search (host function logs_search, capability
// logs.read):
//
//	res, err := pdk.Logs.Search(pdk.SearchRequest{
//		Tenant: "acme", Query: "powershell -enc",
//		From: from, To: to, Limit: 100,
//	})
//
// When res.Truncated is true, more events match: page on with
// res.NextCursor. Use [LogSystem.SearchAll] to read every page.
func (LogSystem) Search(req SearchRequest) (*SearchResult, error) {
	var res SearchResult
	if err := Call(hostLogsSearch, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// SearchFields runs a field search (host function logs_search_fields,
// capability logs.read):
//
//	res, err := pdk.Logs.SearchFields(pdk.FieldSearchRequest{
//		Tenant: "acme",
//		Fields: []pdk.Condition{pdk.Eq("host.name", "WS01"), pdk.CIDR("source.ip", "10.0.0.0/8")},
//		From:   from, To: to,
//	})
//
// Truncated results page on with NextCursor as in [LogSystem.Search].
func (LogSystem) SearchFields(req FieldSearchRequest) (*SearchResult, error) {
	var res SearchResult
	if err := Call(hostLogsSearchFields, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// SearchAll runs a free-text search page after page, calling fn with each
// event, newest first, until the events run out, fn returns an error (which
// SearchAll returns) or max events were passed to fn (max <= 0 means no
// bound). req.Limit sets the page size. It needs what [LogSystem.Search]
// needs; mind the invocation's time-out on large results.
func (l LogSystem) SearchAll(req SearchRequest, max int, fn func(Event) error) error {
	return pageEvents(max, func(cursor string) (*SearchResult, error) {
		req.Cursor = cursor
		return l.Search(req)
	}, fn)
}

// SearchFieldsAll is [LogSystem.SearchAll] for a field search.
func (l LogSystem) SearchFieldsAll(req FieldSearchRequest, max int, fn func(Event) error) error {
	return pageEvents(max, func(cursor string) (*SearchResult, error) {
		req.Cursor = cursor
		return l.SearchFields(req)
	}, fn)
}

// pageEvents calls page from the first cursor on and fn with each event.
func pageEvents(max int, page func(cursor string) (*SearchResult, error), fn func(Event) error) error {
	cursor, n := "", 0
	for {
		res, err := page(cursor)
		if err != nil {
			return err
		}
		for _, e := range res.Events {
			if max > 0 && n >= max {
				return nil
			}
			n++
			if err := fn(e); err != nil {
				return err
			}
		}
		if !res.Truncated || res.NextCursor == "" || res.NextCursor == cursor {
			return nil
		}
		cursor = res.NextCursor
	}
}

// Top counts events by the values of one field (host function logs_top,
// capability logs.read):
//
//	top, err := pdk.Logs.Top(pdk.TopRequest{
//		Tenant: "acme", Field: "user.name",
//		Fields: []pdk.Condition{pdk.Eq("event.code", "4625")},
//		From:   from, To: to, Limit: 10,
//	})
func (LogSystem) Top(req TopRequest) (*TopResult, error) {
	var res TopResult
	if err := Call(hostLogsTop, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Count counts the events matching every condition (host function
// logs_count, capability logs.read), e.g. to see whether a filter still hits.
func (LogSystem) Count(req CountRequest) (*CountResult, error) {
	var res CountResult
	if err := Call(hostLogsCount, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
